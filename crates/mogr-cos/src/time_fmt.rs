//! The two timestamp spellings COS uses: RFC 1123 headers and ISO 8601 in XML.

use std::time::{SystemTime, UNIX_EPOCH};

use time::macros::format_description;
use time::OffsetDateTime;

/// Whole seconds in UTC; times outside what `time` represents fall back to the epoch
/// (a file's mtime must never make a response panic).
fn utc_seconds(t: SystemTime) -> OffsetDateTime {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    };
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `Thu, 16 May 2019 06:45:51 GMT` (RFC 1123, for `Date` / `Last-Modified`).
pub fn http_date(t: SystemTime) -> String {
    let fmt = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    utc_seconds(t).format(&fmt).unwrap_or_default()
}

/// `2020-12-10T03:37:30.000Z` (ISO 8601 as in ListBucketResult; whole seconds, like
/// `Last-Modified`, so the two never disagree).
pub fn iso8601(t: SystemTime) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].000Z");
    utc_seconds(t).format(&fmt).unwrap_or_default()
}

/// `2019-05-24T11:49:50Z` (ISO 8601 without fraction, as COS spells bucket `CreationDate`).
pub fn iso8601_seconds(t: SystemTime) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    utc_seconds(t).format(&fmt).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_the_doc_examples() {
        let t = UNIX_EPOCH + Duration::from_secs(1_557_989_151);
        assert_eq!(http_date(t), "Thu, 16 May 2019 06:45:51 GMT");
        let t = UNIX_EPOCH + Duration::from_millis(1_607_571_450_789);
        assert_eq!(iso8601(t), "2020-12-10T03:37:30.000Z");
        assert_eq!(iso8601_seconds(t), "2020-12-10T03:37:30Z");
    }

    #[test]
    fn single_digit_day_is_zero_padded_as_rfc1123_requires() {
        let t = UNIX_EPOCH + Duration::from_secs(1_704_164_645);
        assert_eq!(http_date(t), "Tue, 02 Jan 2024 03:04:05 GMT");
    }

    #[test]
    fn times_before_the_epoch_still_format() {
        let t = UNIX_EPOCH - Duration::from_secs(86_400);
        assert_eq!(iso8601(t), "1969-12-31T00:00:00.000Z");
    }
}
