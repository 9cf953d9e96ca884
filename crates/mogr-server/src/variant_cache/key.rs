//! What identifies a variant: the source version, the canonical rule and everything else
//! that changes the output bytes.

use sha2::{Digest, Sha256};

/// The 32-byte digest naming one variant on disk and in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VariantId(pub [u8; 32]);

impl VariantId {
    /// Lower-case hex, the entry's file name.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses a file name written by [`Self::hex`].
    pub fn from_hex(s: &str) -> Option<VariantId> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(VariantId(out))
    }
}

/// One variant: the source object's bucket, key and ETag, the canonical rule that runs on it,
/// and a fingerprint of the engine settings and mogr version that produce the bytes.
///
/// The source ETag makes an overwrite with new content miss at once; the rule is the
/// canonical `Display` of the parsed pipeline, so two spellings of one rule share an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantKey {
    /// Source bucket.
    pub bucket: String,
    /// Source key.
    pub key: String,
    /// Source ETag (unquoted).
    pub source_etag: String,
    /// The other objects the rule reads (watermark images) and their ETags, one
    /// `url etag` line each; empty when there are none. Overwriting a watermark image
    /// changes the key as overwriting the source does.
    pub inputs: String,
    /// Canonical rule.
    pub rule: String,
    /// Engine settings and version, see [`engine_fingerprint`].
    pub fingerprint: String,
}

impl VariantKey {
    /// The digest naming this variant. Every field is length-prefixed, so no two different
    /// keys can be spelled into the same byte string.
    pub fn id(&self) -> VariantId {
        let mut h = Sha256::new();
        h.update(b"mogr-variant-1");
        for part in [
            &self.bucket,
            &self.key,
            &self.source_etag,
            &self.inputs,
            &self.rule,
            &self.fingerprint,
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        VariantId(h.finalize().into())
    }

    /// The strong ETag of the processed response (unquoted): the same for the same source
    /// content, rule and engine, different as soon as any of them changes. 40 hex digits, so
    /// no client mistakes it for the MD5 of the bytes (that is what 32 digits mean on COS).
    pub fn etag(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"mogr-etag-1");
        for part in [
            &self.source_etag,
            &self.inputs,
            &self.rule,
            &self.fingerprint,
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(&h.finalize()[..20])
    }
}

/// What besides the source and the rule decides the output bytes: the engine settings
/// (encoder speeds and presets, limits) and the mogr version (its codecs and resamplers).
pub fn engine_fingerprint(config: &mogr_image::EngineConfig) -> String {
    let mut h = Sha256::new();
    h.update(format!("{config:?}").as_bytes());
    format!(
        "{}-{}",
        env!("CARGO_PKG_VERSION"),
        hex::encode(&h.finalize()[..8])
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use mogr_cos::query::Query;

    fn canonical(raw_query: &str) -> String {
        let rule = Query::parse(Some(raw_query)).rule().unwrap();
        mogr_rule::parse(&rule).unwrap().to_string()
    }

    fn key(rule: &str, etag: &str) -> VariantKey {
        VariantKey {
            bucket: "photos-1250000000".into(),
            key: "a.jpg".into(),
            source_etag: etag.into(),
            inputs: String::new(),
            rule: rule.into(),
            fingerprint: engine_fingerprint(&mogr_image::EngineConfig::default()),
        }
    }

    #[test]
    fn spellings_of_one_rule_share_a_canonical_form() {
        let forms = [
            "imageMogr2/thumbnail/300x/quality/85/format/webp",
            "imageMogr2%2Fthumbnail%2F300x%2Fquality%2F85%2Fformat%2Fwebp",
            "imageMogr2/thumbnail/300x/quality/85/format/webp=",
            "imageMogr2%2Fthumbnail%2F300x%2Fquality%2F85%2Fformat%2Fwebp=",
            "imageMogr2/quality/85/thumbnail/300x/format/webp",
            "imageMogr2/format/webp/quality/85/thumbnail/300x",
        ];
        let first = canonical(forms[0]);
        for f in forms {
            assert_eq!(canonical(f), first, "{f}");
        }
        assert_ne!(canonical("imageMogr2/thumbnail/301x/format/webp"), first);
    }

    #[test]
    fn every_part_changes_the_id_and_the_etag_ignores_the_location() {
        let a = key("imageMogr2/format/png", "e1");
        assert_eq!(a.id(), key("imageMogr2/format/png", "e1").id());
        assert_ne!(a.id(), key("imageMogr2/format/png", "e2").id());
        assert_ne!(a.id(), key("imageMogr2/format/jpg", "e1").id());
        let mut moved = a.clone();
        moved.key = "b.jpg".into();
        assert_ne!(a.id(), moved.id());
        // Same content and rule elsewhere: the same bytes, so the same ETag.
        assert_eq!(a.etag(), moved.etag());
        assert_ne!(a.etag(), key("imageMogr2/format/png", "e2").etag());
        assert_eq!(a.etag().len(), 40);
        // Length prefixes: shifting text between fields changes the id.
        let mut shifted = a.clone();
        shifted.bucket = "photos-1250000000a".into();
        shifted.key = ".jpg".into();
        assert_ne!(a.id(), shifted.id());
        assert_eq!(VariantId::from_hex(&a.id().hex()), Some(a.id()));
    }

    #[test]
    fn engine_settings_change_the_fingerprint() {
        let base = mogr_image::EngineConfig::default();
        let mut slower = base.clone();
        slower.avif_speed = 2;
        assert_ne!(engine_fingerprint(&base), engine_fingerprint(&slower));
        assert!(engine_fingerprint(&base).starts_with(env!("CARGO_PKG_VERSION")));
    }
}
