//! The `Pic-Operations` header: JSON parsing, `fileid` resolution and each rule's grammar.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mogr_cos::pic_ops::{parse_pic_operations, resolve_fileid, MAX_RULES};

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(ops) = parse_pic_operations(header) else {
        return;
    };
    assert!(ops.rules.len() <= MAX_RULES, "{} rules", ops.rules.len());
    for rule in &ops.rules {
        let _ = mogr_rule::parse(&rule.rule);
        for original in ["a.jpg", "dir/sub/a.jpg"] {
            let Ok(key) = resolve_fileid(original, &rule.fileid) else {
                continue;
            };
            // The resolved key is a plain object key: no way out of the bucket.
            assert!(!key.is_empty(), "`{}` resolved to nothing", rule.fileid);
            assert!(
                !key.starts_with('/'),
                "`{}` resolved to `{key}`",
                rule.fileid
            );
            assert!(!key.ends_with('/'), "`{}` resolved to `{key}`", rule.fileid);
            assert!(
                key.split('/')
                    .all(|s| !s.is_empty() && s != "." && s != ".."),
                "`{}` resolved to `{key}`",
                rule.fileid
            );
        }
    }
});
