//! An idle server gives back the memory of the big image job it just ran.
//!
//! The allocator keeps freed pages for the thread that freed them until that thread allocates
//! again; an image worker that goes idle right after a huge job would hold its peak for ever.
//! The server asks the allocator to return them when a worker runs out of work.

use std::io::Cursor;
use std::path::Path;
use std::time::{Duration, Instant};

use image::{DynamicImage, ImageBuffer, ImageFormat, Rgb};

use crate::live_server::{Request, Server};

/// Resident and peak resident size of `pid`, in KiB (`VmRSS`, `VmHWM`).
fn rss_and_peak_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from /proc/{pid}/status"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A 24 MP PNG of a few hundred KB: decoding it and encoding a JPEG of it need a few hundred
/// MB (pixels, the encoder's coefficients), far above an idle server.
fn big_png() -> Vec<u8> {
    let px = ImageBuffer::from_fn(6000, 4000, |x, y| {
        Rgb([(x / 24) as u8, (y / 16) as u8, ((x + y) / 40) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(px)
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

#[test]
fn memory_of_a_big_job_is_given_back_when_the_server_goes_idle() {
    if !Path::new("/proc/self/status").exists() {
        eprintln!("skipped: no /proc");
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let client = server.client();
    assert_eq!(client.send(&Request::new("PUT", ""), b"").status, 200);
    assert_eq!(
        client
            .send(&Request::new("PUT", "big.png"), &big_png())
            .status,
        200
    );
    let (before, _) = rss_and_peak_kib(server.pid());

    let res = client.send(
        &Request::new("GET", "big.png").query("imageMogr2/format/jpg", ""),
        b"",
    );
    assert_eq!(res.status, 200, "{}", res.text());
    let jpeg = image::load_from_memory(&res.body).unwrap();
    assert_eq!((jpeg.width(), jpeg.height()), (6000, 4000));
    let (_, peak) = rss_and_peak_kib(server.pid());
    let grown = peak.saturating_sub(before);
    assert!(
        grown > 100 * 1024,
        "the job should have needed over 100 MiB, it grew the server by {} MiB",
        grown / 1024
    );

    // The worker returns the memory right after the job; allow for a loaded machine.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut rss = peak;
    while Instant::now() < deadline {
        rss = rss_and_peak_kib(server.pid()).0;
        if rss < before + grown / 4 {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "idle server kept {} MiB of a {} MiB job (resident {} MiB before it, {} MiB now)",
        rss.saturating_sub(before) / 1024,
        grown / 1024,
        before / 1024,
        rss / 1024
    );
}
