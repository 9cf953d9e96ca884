//! Where mogr's things live in the one engine bucket. mogr bucket names never contain a
//! dot, so nothing a client names can reach the reserved `.mogr/` prefix.

/// Reserved prefix of everything that is not an object body.
const RESERVED: &str = ".mogr/";

/// Prefix of the objects of mogr bucket `bucket`.
pub(crate) fn objects(bucket: &str) -> String {
    format!("{bucket}/")
}

/// The engine key of object `key` of `bucket`.
pub(crate) fn object(bucket: &str, key: &str) -> String {
    format!("{bucket}/{key}")
}

/// Prefix of the bucket records.
pub(crate) fn bucket_records() -> String {
    format!("{RESERVED}buckets/")
}

/// The record (creation time, ACL) of `bucket`.
pub(crate) fn bucket_record(bucket: &str) -> String {
    format!("{RESERVED}buckets/{bucket}")
}

/// mogr's settings (styles) of `bucket`.
pub(crate) fn bucket_settings(bucket: &str) -> String {
    format!("{RESERVED}settings/{bucket}")
}

/// A fresh key for a staged body, published later by a server-side copy.
pub(crate) fn staged() -> String {
    let id: [u8; 16] = rand::random();
    format!("{RESERVED}staged/{}", hex::encode(id))
}

/// Prefix of every staged body.
pub(crate) fn staged_bodies() -> String {
    format!("{RESERVED}staged/")
}

/// Prefix of the records of commits under way.
pub(crate) fn commits() -> String {
    format!("{RESERVED}commits/")
}

/// A fresh key for the record of a commit of several objects.
pub(crate) fn commit() -> String {
    let id: [u8; 16] = rand::random();
    format!("{RESERVED}commits/{}", hex::encode(id))
}

/// Prefix of the state records of `bucket`'s unfinished uploads.
pub(crate) fn uploads(bucket: &str) -> String {
    format!("{RESERVED}uploads/{bucket}/")
}

/// The state record of upload `upload_id` of `key`: the key is part of the name, so one
/// listing of the prefix tells every upload's key without reading the records.
pub(crate) fn upload(bucket: &str, upload_id: &str, key: &str) -> String {
    format!("{RESERVED}uploads/{bucket}/{upload_id}/{key}")
}

/// Prefix of the parts of upload `upload_id`.
pub(crate) fn parts(bucket: &str, upload_id: &str) -> String {
    format!("{RESERVED}parts/{bucket}/{upload_id}/")
}

/// Part `number` of upload `upload_id`, named so parts list in number order.
pub(crate) fn part(bucket: &str, upload_id: &str, number: u32) -> String {
    format!("{RESERVED}parts/{bucket}/{upload_id}/{number:05}")
}

/// A new upload id: the initiation time first, so ids of one key sort by initiation, then
/// randomness, so ids of different nodes never collide. Hex only: safe in every URL.
pub(crate) fn new_upload_id(now_nanos: u128) -> String {
    let salt: [u8; 8] = rand::random();
    format!("{:024x}{}", now_nanos, hex::encode(salt))
}

/// Whether `id` has the form [`new_upload_id`] makes (anything else cannot exist, and must
/// not reach a key name).
pub(crate) fn is_upload_id(id: &str) -> bool {
    id.len() == 40
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The initiation time in nanoseconds since the epoch that `id` carries.
pub(crate) fn upload_initiated_nanos(id: &str) -> u128 {
    id.get(..24)
        .and_then(|t| u128::from_str_radix(t, 16).ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_ids_sort_by_initiation_and_carry_it() {
        let a = new_upload_id(5);
        let b = new_upload_id(1_000_000_000_000);
        assert!(a < b);
        assert!(is_upload_id(&a) && is_upload_id(&b));
        assert_eq!(upload_initiated_nanos(&b), 1_000_000_000_000);
        assert!(!is_upload_id("../../x"));
        assert!(!is_upload_id(&"A".repeat(40)));
    }

    #[test]
    fn reserved_keys_cannot_be_object_keys() {
        // A mogr bucket name has no dot, so no object key lies under the reserved prefix.
        assert!(!object("a-1250000000", "x").starts_with(RESERVED));
        assert!(upload("b-1", &new_upload_id(1), "k").starts_with(RESERVED));
    }
}
