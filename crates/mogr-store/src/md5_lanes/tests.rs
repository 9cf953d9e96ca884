use md5::{Digest, Md5};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

use super::*;

fn reference(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

fn random(rng: &mut StdRng, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng.fill_bytes(&mut v);
    v
}

#[test]
fn rfc_1321_vectors() {
    let cases: [(&str, &str); 7] = [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        (
            "abcdefghijklmnopqrstuvwxyz",
            "c3fcd3d76192e4007dfb496cca67e13b",
        ),
        (
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "d174ab98d277d9f5a5611c2c9f419d9f",
        ),
        (
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a",
        ),
    ];
    for (input, want) in cases {
        let mut s = Md5Stream::new();
        s.update(input.as_bytes());
        assert_eq!(hex::encode(s.finalize()), want, "{input:?}");
        let mut s = Md5Stream::new();
        let _ = s.update_owned(input.as_bytes().to_vec());
        assert_eq!(hex::encode(s.finalize()), want, "{input:?}");
    }
}

#[test]
fn the_portable_block_function_matches_the_assembly() {
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..200 {
        let block: [u8; 64] = random(&mut rng, 64).try_into().unwrap();
        let start = [rng.gen(), rng.gen(), rng.gen(), rng.gen()];
        let (mut a, mut b) = (start, start);
        compress_portable(&mut a, &block);
        compress_one(&mut b, &block);
        assert_eq!(a, b);
    }
}

#[test]
fn any_split_of_any_input_gives_the_reference_digest() {
    let mut rng = StdRng::seed_from_u64(2);
    for round in 0..300 {
        let len = match round % 3 {
            0 => rng.gen_range(0..300),
            1 => rng.gen_range(0..20_000),
            _ => rng.gen_range(0..300_000),
        };
        let data = random(&mut rng, len);
        let mut s = Md5Stream::new();
        let mut at = 0;
        while at < len {
            let n = rng.gen_range(1..=(len - at).min(70_000));
            if rng.gen_bool(0.5) {
                s.update(&data[at..at + n]);
            } else {
                let back = s.update_owned(data[at..at + n].to_vec());
                assert_eq!(back, &data[at..at + n]);
            }
            // A snapshot does not disturb the stream.
            assert_eq!(s.finalize(), reference(&data[..at + n]));
            at += n;
        }
        assert_eq!(s.finalize(), reference(&data), "len {len}");
    }
}

#[test]
fn concurrent_streams_hashed_together_stay_apart() {
    // Sixteen threads feed bulk chunks of different lengths at once, so the combiner
    // batches unrelated streams (and lanes finish at different times).
    let threads: Vec<_> = (0..16u64)
        .map(|t| {
            std::thread::spawn(move || {
                let mut rng = StdRng::seed_from_u64(100 + t);
                for _ in 0..20 {
                    let len = rng.gen_range(0..600_000);
                    let data = random(&mut rng, len);
                    let mut s = Md5Stream::new();
                    for chunk in data.chunks(rng.gen_range(4_096..300_000)) {
                        let _ = s.update_owned(chunk.to_vec());
                    }
                    assert_eq!(s.finalize(), reference(&data), "thread {t}, len {len}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}
