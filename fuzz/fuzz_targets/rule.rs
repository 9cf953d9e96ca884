//! The imageMogr2 rule parser: total on any string, and a parsed pipeline prints as a rule
//! that parses back to the same pipeline.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(rule) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(pipeline) = mogr_rule::parse(rule) else {
        return;
    };
    let canonical = pipeline.to_string();
    match mogr_rule::parse(&canonical) {
        Ok(again) => assert_eq!(again, pipeline, "`{rule}` printed as `{canonical}`"),
        Err(e) => panic!("`{rule}` printed as `{canonical}`, which does not parse: {e}"),
    }
});
