//! The format sniffer and the header-only probe, on any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mogr_fuzz::run_engine(|| {
        let format = mogr_image::sniff(data);
        if let Ok(p) = mogr_image::probe(data) {
            assert_eq!(Some(p.format), format, "probe disagrees with sniff");
        }
    });
});
