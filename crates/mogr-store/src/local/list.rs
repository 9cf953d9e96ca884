//! ListObjects v1 over an ordered key index.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::types::{ListPage, ListQuery, ListedObject};

/// Most entries one page may hold, whatever the request asks.
pub(crate) const MAX_LIST_KEYS: usize = 1000;

/// One page of `index` for `query`: keys under the prefix, strictly after the marker, with
/// keys sharing a prefix up to the delimiter rolled into common prefixes; contents and
/// prefixes together count towards `max_keys`.
///
/// The work is bounded by the page, not the bucket: the scan stops at the first key past
/// the prefix, and once a group is rolled up (or found to lie at or before the marker) one
/// seek skips all of its keys, so a folder of a million keys under one common prefix costs
/// one step, not a million.
pub(crate) fn page<V>(
    index: &BTreeMap<String, V>,
    query: &ListQuery,
    meta: impl Fn(&str, &V) -> ListedObject,
) -> ListPage {
    let max = query.max_keys.min(MAX_LIST_KEYS);
    let prefix = query.prefix.as_str();
    let marker = query.marker.as_str();
    let delimiter = query.delimiter.as_str();
    let mut page = ListPage::default();
    if max == 0 {
        return page;
    }
    let start = if marker >= prefix {
        Bound::Excluded(marker.to_string())
    } else {
        Bound::Included(prefix.to_string())
    };
    let mut from = Some(start);
    let mut count = 0;
    let mut last: Option<&str> = None;
    'scan: while let Some(bound) = from.take() {
        for (key, value) in index.range::<String, _>((bound, Bound::Unbounded)) {
            // Keys are ordered, so the first key past the prefix ends the scan.
            let Some(rest) = key.strip_prefix(prefix) else {
                break 'scan;
            };
            let rolled = match delimiter {
                "" => None,
                _ => rest
                    .find(delimiter)
                    .and_then(|at| key.get(..prefix.len() + at + delimiter.len())),
            };
            if let Some(common) = rolled {
                // Each group is reported once; a marker at or inside the group means a
                // previous page already returned it.
                if last == Some(common) || common <= marker {
                    from = past_group(common);
                    continue 'scan;
                }
            }
            if count == max {
                page.is_truncated = true;
                break 'scan;
            }
            count += 1;
            match rolled {
                Some(common) => {
                    page.common_prefixes.push(common.to_string());
                    last = Some(common);
                    from = past_group(common);
                    continue 'scan;
                }
                None => {
                    page.objects.push(meta(key, value));
                    last = Some(key);
                }
            }
        }
    }
    if page.is_truncated {
        page.next_marker = last.map(str::to_string);
    }
    page
}

/// Where the keys that start with `group` end: the least string greater than all of them
/// (the group with its last character incremented, dropping characters that cannot be),
/// or `None` if no string is.
fn past_group(group: &str) -> Option<Bound<String>> {
    let mut chars: Vec<char> = group.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(Bound::Included(chars.into_iter().collect()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn index(keys: &[&str]) -> BTreeMap<String, ()> {
        keys.iter().map(|k| (k.to_string(), ())).collect()
    }

    fn list(
        index: &BTreeMap<String, ()>,
        prefix: &str,
        delim: &str,
        marker: &str,
        max: usize,
    ) -> (Vec<String>, Vec<String>, Option<String>) {
        let query = ListQuery {
            prefix: prefix.into(),
            delimiter: delim.into(),
            marker: marker.into(),
            max_keys: max,
        };
        let page = page(index, &query, |k, _| ListedObject {
            key: k.to_string(),
            size: 0,
            etag: String::new(),
            last_modified: UNIX_EPOCH,
        });
        assert_eq!(page.is_truncated, page.next_marker.is_some());
        let keys = page.objects.into_iter().map(|o| o.key).collect();
        (keys, page.common_prefixes, page.next_marker)
    }

    #[test]
    fn a_group_is_skipped_when_the_marker_is_inside_it() {
        let idx = index(&["a/1", "a/2", "b"]);
        let (keys, prefixes, _) = list(&idx, "", "/", "a/1", 10);
        assert_eq!(keys, ["b"]);
        assert!(prefixes.is_empty());
    }

    #[test]
    fn multi_byte_delimiters_and_prefixes_roll_up_on_char_boundaries() {
        let idx = index(&["中文/一", "中文/二", "中文", "中x"]);
        let (keys, prefixes, next) = list(&idx, "中", "文/", "", 10);
        assert_eq!(keys, ["中x", "中文"]);
        assert_eq!(prefixes, ["中文/"]);
        assert_eq!(next, None);
    }

    #[test]
    fn groups_are_skipped_whole_and_listed_once() {
        let mut keys = vec!["a".to_string(), "z".to_string()];
        for group in ["d/", "d\u{10FFFF}/", "e/"] {
            for i in 0..50 {
                keys.push(format!("{group}{i:02}"));
            }
        }
        keys.push("d/\u{10FFFF}x".to_string());
        let idx: BTreeMap<String, ()> = keys.into_iter().map(|k| (k, ())).collect();
        let (keys, prefixes, next) = list(&idx, "", "/", "", 10);
        assert_eq!(keys, ["a", "z"]);
        assert_eq!(prefixes, ["d/", "d\u{10FFFF}/", "e/"]);
        assert_eq!(next, None);
        // Paging through the groups one entry at a time visits each once.
        let (_, prefixes, next) = list(&idx, "", "/", "d/", 1);
        assert_eq!(prefixes, ["d\u{10FFFF}/"]);
        assert_eq!(next.as_deref(), Some("d\u{10FFFF}/"));
        assert_eq!(past_group("a\u{10FFFF}"), Some(Bound::Included("b".into())));
        assert_eq!(past_group("\u{10FFFF}"), None);
        assert_eq!(
            past_group("\u{D7FF}"),
            Some(Bound::Included("\u{E000}".into()))
        );
    }

    #[test]
    fn max_keys_zero_returns_nothing_and_is_capped_at_a_thousand() {
        let idx: BTreeMap<String, ()> = (0..1500).map(|i| (format!("{i:04}"), ())).collect();
        assert_eq!(list(&idx, "", "", "", 0).0.len(), 0);
        let (keys, _, next) = list(&idx, "", "", "", 5000);
        assert_eq!(keys.len(), MAX_LIST_KEYS);
        assert_eq!(next.as_deref(), Some("0999"));
    }
}
