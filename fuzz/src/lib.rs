//! Shared pieces of the fuzz targets: the limits the decoders run under, and the panic
//! handling that tells a panic the engine catches from one that would reach the server.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

use mogr_image::{decode, exif_json, header_info, probe, sniff, ImageFormat, Limits};

/// Tighter than the defaults so that one input stays fast and far below libFuzzer's memory
/// limit, while every check the defaults make still runs.
pub fn limits() -> Limits {
    Limits {
        max_input_bytes: 4 << 20,
        max_side: 8192,
        max_pixels: 8_000_000,
        max_frames: 64,
        max_total_pixels: 24_000_000,
        ..Limits::default()
    }
}

thread_local! {
    /// Message and place of the last panic on this thread, kept for the report.
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Replaces libfuzzer-sys' panic hook, which aborts on every panic. Some decoders panic by
/// design (mozjpeg reports libjpeg errors that way) and the engine catches those; only a
/// panic that escapes the engine is a finding, and [`run_engine`] reports it.
fn keep_caught_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let text = info.to_string();
            LAST_PANIC.with(|last| *last.borrow_mut() = text);
        }));
    });
}

/// Runs `f`; a panic that reaches this point is printed and aborts the process, which
/// libFuzzer records as a crash with the input that caused it.
pub fn run_engine(f: impl FnOnce()) {
    keep_caught_panics();
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        LAST_PANIC.with(|last| eprintln!("panic escaped the engine: {}", last.borrow()));
        std::process::abort();
    }
}

/// Header reading, EXIF and full decoding of `data` when it sniffs as `format`, checking
/// that a decoded image keeps the limits it was decoded under.
pub fn decode_as(format: ImageFormat, data: &[u8]) {
    if sniff(data) != Some(format) {
        return;
    }
    run_engine(|| {
        let limits = limits();
        let _ = probe(data);
        let _ = header_info(data, &limits);
        let _ = exif_json(data, &limits);
        let Ok(img) = decode(data, &limits) else {
            return;
        };
        assert!(img.width > 0 && img.height > 0, "empty canvas");
        assert!(!img.frames.is_empty(), "no frames");
        assert!(
            img.width <= limits.max_side && img.height <= limits.max_side,
            "{}x{} is over max_side",
            img.width,
            img.height
        );
        let pixels = u64::from(img.width) * u64::from(img.height);
        assert!(pixels <= limits.max_pixels, "{pixels} pixels per frame");
        let frames = img.frames.len() as u64;
        assert!(frames <= u64::from(limits.max_frames), "{frames} frames");
        assert!(
            pixels * frames <= limits.max_total_pixels,
            "{} pixels in all frames",
            pixels * frames
        );
        for frame in &img.frames {
            assert_eq!(
                (frame.image.width(), frame.image.height()),
                (img.width, img.height),
                "a frame differs in size from the canvas"
            );
        }
    });
}
