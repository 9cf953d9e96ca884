//! Volume: a 100 MB object streamed both ways, and paging through 10,000+ keys.

use crate::common::*;
use md5::{Digest, Md5};

const B: &str = "bulk-1250000000";
const SIZE: u64 = 100 * 1024 * 1024;

/// Deterministic, non-repeating-per-MiB content so offsets matter.
fn pattern(offset: u64, buf: &mut [u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        let x = offset + i as u64;
        *b = (x ^ (x >> 8) ^ (x >> 20)).wrapping_mul(31) as u8;
    }
}

/// How much the process's peak RSS may grow across the 100 MB PUT and GETs. Streaming
/// keeps the real growth near 15-25 MB (64 KiB read chunks, a 256 KiB write buffer, hyper's
/// buffers, the test client's 1 MiB buffer and its two 3 MiB range copies); buffering the
/// body anywhere would add at least 100 MB. The margin absorbs allocator and runtime
/// variation without letting a whole-body copy through.
const MAX_PEAK_GROWTH: u64 = 64 * 1024 * 1024;

/// The peak RSS is process-wide, so the tests of this binary take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `VmHWM` (peak resident set) of this process in bytes; `None` where /proc is missing.
fn vm_hwm() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[test]
fn hundred_megabyte_put_then_streamed_and_ranged_get() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let s = TestServer::start();
    s.create_bucket(B);
    // The server runs in this process, so this covers the server (and the test client).
    let peak_before = vm_hwm();

    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0;
    while off < SIZE {
        let n = ((SIZE - off) as usize).min(buf.len());
        pattern(off, &mut buf[..n]);
        hasher.update(&buf[..n]);
        off += n as u64;
    }
    let expected_md5 = hex::encode(hasher.finalize());

    let mut put = s.req("PUT", B, "big.bin");
    put.body = ReqBody::Generated {
        len: SIZE,
        fill: pattern,
    };
    let res = put.send();
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.exact("ETag"),
        Some(format!("\"{expected_md5}\"").as_str())
    );

    let mut got = Md5::new();
    let mut len = 0u64;
    let res = s.req("GET", B, "big.bin").send_to(&mut |chunk| {
        got.update(chunk);
        len += chunk.len() as u64;
    });
    assert_eq!(res.status, 200);
    assert_eq!(len, SIZE);
    assert_eq!(hex::encode(got.finalize()), expected_md5);

    let (start, end) = (SIZE / 2 - 12_345, SIZE / 2 + 3 * 1024 * 1024);
    let mut ranged = Vec::new();
    let res = s
        .req("GET", B, "big.bin")
        .header("Range", &format!("bytes={start}-{end}"))
        .send_to(&mut |chunk| ranged.extend_from_slice(chunk));
    assert_eq!(res.status, 206);
    assert_eq!(
        res.exact("Content-Range"),
        Some(format!("bytes {start}-{end}/{SIZE}").as_str())
    );
    let mut expected = vec![0u8; (end - start + 1) as usize];
    pattern(start, &mut expected);
    assert!(ranged == expected, "ranged bytes differ");

    match (peak_before, vm_hwm()) {
        (Some(before), Some(after)) => {
            let growth = after.saturating_sub(before);
            println!(
                "peak RSS {} MiB -> {} MiB across the 100 MB PUT + GETs",
                before >> 20,
                after >> 20
            );
            assert!(
                growth < MAX_PEAK_GROWTH,
                "peak RSS grew by {} MiB moving 100 MB: a body is being buffered",
                growth >> 20
            );
        }
        _ => println!("skipped the memory bound: /proc/self/status has no VmHWM"),
    }
}

#[test]
fn listing_pages_through_ten_thousand_keys_in_order() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let s = TestServer::start();
    s.create_bucket(B);
    let total = 10_050;
    let mut keys: Vec<String> = (0..total)
        .map(|i| match i % 3 {
            0 => format!("k/{i:05}"),
            1 => format!("k/{i:05} space"),
            _ => format!("k/{i:05}%中"),
        })
        .collect();
    // Writers in parallel: each PUT is durable on its own, so latency, not CPU, dominates.
    std::thread::scope(|scope| {
        for chunk in keys.chunks(keys.len().div_ceil(8)) {
            let s = &s;
            scope.spawn(move || {
                for k in chunk {
                    let r = s.req("PUT", B, k).body(b"x".to_vec()).send();
                    assert_eq!(r.status, 200, "{k}");
                }
            });
        }
    });
    keys.sort();

    let mut seen = Vec::new();
    let mut marker = String::new();
    let mut pages = 0;
    loop {
        let r = s
            .req("GET", B, "")
            .param("prefix", "k/")
            .param("delimiter", "")
            .param("marker", &marker)
            .param("max-keys", "1000")
            .param("encoding-type", "url")
            .send();
        assert_eq!(r.status, 200, "{}", r.text());
        pages += 1;
        let page: Vec<String> = r
            .xml_all("Key")
            .iter()
            .map(|k| {
                percent_encoding::percent_decode_str(k)
                    .decode_utf8()
                    .unwrap()
                    .into_owned()
            })
            .collect();
        assert!(page.len() <= 1000);
        seen.extend(page);
        if r.xml("IsTruncated").as_deref() != Some("true") {
            break;
        }
        let next = r.xml("NextMarker").expect("NextMarker on a truncated page");
        marker = percent_encoding::percent_decode_str(&next)
            .decode_utf8()
            .unwrap()
            .into_owned();
        assert!(pages < 100, "paging does not terminate");
    }
    assert_eq!(pages, 11);
    assert_eq!(seen.len(), total);
    assert!(seen == keys, "listing is not the sorted key set");
}
