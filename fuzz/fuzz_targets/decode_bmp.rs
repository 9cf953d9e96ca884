//! The BMP decoder through the engine's decode entry, with the fuzzing limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mogr_image::ImageFormat;

fuzz_target!(|data: &[u8]| mogr_fuzz::decode_as(ImageFormat::Bmp, data));
