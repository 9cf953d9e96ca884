//! List Multipart Uploads paging over a bucket's upload index.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::time::SystemTime;

use super::bucket::UploadKey;
use crate::types::{ListUploadsPage, ListUploadsQuery, UploadSummary};

/// Most entries one page may hold, whatever the request asks.
pub(crate) const MAX_LIST_UPLOADS: usize = 1000;

/// One page of `uploads` for `query`: ordered by key bytes, then by upload id (ids sort by
/// creation); only keys under the prefix and after the markers; keys sharing a prefix up
/// to the delimiter rolled into common prefixes; uploads and prefixes together count
/// towards `max_uploads`.
pub(crate) fn page(
    uploads: &BTreeMap<UploadKey, SystemTime>,
    query: &ListUploadsQuery,
) -> ListUploadsPage {
    let max = query.max_uploads.min(MAX_LIST_UPLOADS);
    let prefix = query.prefix.as_str();
    let delimiter = query.delimiter.as_str();
    let key_marker = query.key_marker.as_str();
    let id_marker = query.upload_id_marker.as_str();
    let mut page = ListUploadsPage::default();
    if max == 0 {
        return page;
    }
    // The index is ordered by key, then id; nothing before the prefix or the key-marker can
    // be listed, and the first key past the prefix ends the scan.
    let from = (prefix.max(key_marker).to_string(), String::new());
    let in_order = uploads
        .range((Bound::Included(from), Bound::Unbounded))
        .take_while(|((key, _), _)| key.starts_with(prefix))
        .map(|((key, upload_id), initiated)| UploadSummary {
            key: key.clone(),
            upload_id: upload_id.clone(),
            initiated: *initiated,
        });
    // As S3: the upload-id-marker only means something together with a key-marker.
    let after_markers = |u: &UploadSummary| {
        key_marker.is_empty()
            || u.key.as_str() > key_marker
            || (!id_marker.is_empty() && u.key == key_marker && u.upload_id.as_str() > id_marker)
    };
    let mut count = 0;
    let mut last_prefix: Option<String> = None;
    let mut last_upload: Option<(String, String)> = None;
    for upload in in_order.filter(|u| after_markers(u)) {
        let rest = upload.key.get(prefix.len()..).unwrap_or_default();
        let rolled = match delimiter {
            "" => None,
            _ => rest
                .find(delimiter)
                .and_then(|at| upload.key.get(..prefix.len() + at + delimiter.len()))
                .map(str::to_string),
        };
        if let Some(common) = &rolled {
            // Each group is reported once; a key-marker at or inside the group means a
            // previous page already returned it.
            if last_prefix.as_ref() == Some(common) || common.as_str() <= key_marker {
                continue;
            }
        }
        if count == max {
            page.is_truncated = true;
            break;
        }
        count += 1;
        match rolled {
            Some(common) => {
                page.common_prefixes.push(common.clone());
                last_upload = None;
                last_prefix = Some(common);
            }
            None => {
                last_upload = Some((upload.key.clone(), upload.upload_id.clone()));
                last_prefix = None;
                page.uploads.push(upload);
            }
        }
    }
    if page.is_truncated {
        match (last_upload, last_prefix) {
            (Some((key, id)), _) => {
                page.next_key_marker = Some(key);
                page.next_upload_id_marker = Some(id);
            }
            (None, prefix) => page.next_key_marker = prefix,
        }
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn uploads(entries: &[(&str, &str)]) -> BTreeMap<UploadKey, SystemTime> {
        entries
            .iter()
            .map(|(key, id)| ((key.to_string(), id.to_string()), UNIX_EPOCH))
            .collect()
    }

    fn query(prefix: &str, delim: &str, key: &str, id: &str, max: usize) -> ListUploadsQuery {
        ListUploadsQuery {
            prefix: prefix.into(),
            delimiter: delim.into(),
            key_marker: key.into(),
            upload_id_marker: id.into(),
            max_uploads: max,
        }
    }

    fn listed(page: &ListUploadsPage) -> Vec<(String, String)> {
        page.uploads
            .iter()
            .map(|u| (u.key.clone(), u.upload_id.clone()))
            .collect()
    }

    fn pairs(entries: &[(&str, &str)]) -> Vec<(String, String)> {
        entries
            .iter()
            .map(|(k, i)| (k.to_string(), i.to_string()))
            .collect()
    }

    #[test]
    fn orders_by_key_then_id_and_pages_with_both_markers() {
        let all = uploads(&[("b", "2"), ("a", "9"), ("b", "1"), ("c", "5"), ("b", "3")]);
        let first = page(&all, &query("", "", "", "", 2));
        assert_eq!(listed(&first), pairs(&[("a", "9"), ("b", "1")]));
        assert!(first.is_truncated);
        assert_eq!(first.next_key_marker.as_deref(), Some("b"));
        assert_eq!(first.next_upload_id_marker.as_deref(), Some("1"));
        let second = page(&all, &query("", "", "b", "1", 2));
        assert_eq!(listed(&second), pairs(&[("b", "2"), ("b", "3")]));
        assert!(second.is_truncated);
        let third = page(&all, &query("", "", "b", "3", 2));
        assert_eq!(listed(&third), pairs(&[("c", "5")]));
        assert!(!third.is_truncated);
        assert_eq!(
            (third.next_key_marker, third.next_upload_id_marker),
            (None, None)
        );
        // A key-marker alone skips every upload of that key; an id-marker alone is ignored.
        let after_b = page(&all, &query("", "", "b", "", 10));
        assert_eq!(listed(&after_b), pairs(&[("c", "5")]));
        let ignored = page(&all, &query("", "", "", "2", 10));
        assert_eq!(ignored.uploads.len(), 5);
    }

    #[test]
    fn prefix_and_delimiter_roll_keys_into_common_prefixes() {
        let all = uploads(&[
            ("photos/2020/a", "1"),
            ("photos/2020/b", "2"),
            ("photos/x", "3"),
            ("photos/2021/c", "4"),
            ("video/v", "5"),
        ]);
        let p = page(&all, &query("photos/", "/", "", "", 10));
        assert_eq!(listed(&p), pairs(&[("photos/x", "3")]));
        assert_eq!(p.common_prefixes, ["photos/2020/", "photos/2021/"]);
        assert!(!p.is_truncated);

        // Prefixes count towards max-uploads, and a prefix can be the next key-marker.
        let p = page(&all, &query("photos/", "/", "", "", 1));
        assert_eq!(p.common_prefixes, ["photos/2020/"]);
        assert_eq!(p.next_key_marker.as_deref(), Some("photos/2020/"));
        assert_eq!(p.next_upload_id_marker, None);
        let p = page(&all, &query("photos/", "/", "photos/2020/", "", 1));
        assert_eq!(p.common_prefixes, ["photos/2021/"]);
        assert!(p.uploads.is_empty() && p.is_truncated);

        let p = page(&all, &query("vid", "", "", "", 10));
        assert_eq!(listed(&p), pairs(&[("video/v", "5")]));
    }

    #[test]
    fn max_uploads_is_capped_and_zero_lists_nothing() {
        let all: BTreeMap<UploadKey, SystemTime> = (0..1500)
            .map(|i| ((format!("{i:04}"), "1".to_string()), UNIX_EPOCH))
            .collect();
        assert!(page(&all, &query("", "", "", "", 0)).uploads.is_empty());
        let p = page(&all, &query("", "", "", "", 5000));
        assert_eq!(p.uploads.len(), MAX_LIST_UPLOADS);
        assert_eq!(p.next_key_marker.as_deref(), Some("0999"));
    }
}
