//! `?acl` bodies, limited to the canned ACLs mogr stores (private, public-read,
//! public-read-write).

use serde::Deserialize;

use super::from_body;
use super::writer::XmlWriter;
use crate::error::{CosError, ErrorCode};

/// The COS group that means "everyone".
pub const ALL_USERS_URI: &str = "http://cam.qcloud.com/groups/global/AllUsers";

const XSI: &str = "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"";

/// `GET ?acl` response for an owner and a canned ACL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessControlPolicy {
    /// Owner ID (also used as DisplayName); gets FULL_CONTROL.
    pub owner_id: String,
    /// Canned ACL: `public-read` and `public-read-write` add AllUsers grants; anything else
    /// (`private`, `default`) lists the owner only.
    pub acl: String,
}

impl AccessControlPolicy {
    /// A policy for `owner_id` with canned ACL `acl`.
    pub fn new(owner_id: impl Into<String>, acl: impl Into<String>) -> Self {
        AccessControlPolicy {
            owner_id: owner_id.into(),
            acl: acl.into(),
        }
    }

    /// The response body.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("AccessControlPolicy");
        w.owner("Owner", &self.owner_id);
        w.open("AccessControlList");
        w.open("Grant");
        w.open_with("Grantee", &format!("{XSI} xsi:type=\"CanonicalUser\""));
        w.text("ID", &self.owner_id);
        w.text("DisplayName", &self.owner_id);
        w.close("Grantee");
        w.text("Permission", "FULL_CONTROL");
        w.close("Grant");
        let public: &[&str] = match self.acl.as_str() {
            "public-read" => &["READ"],
            "public-read-write" => &["READ", "WRITE"],
            _ => &[],
        };
        for permission in public {
            w.open("Grant");
            w.open_with("Grantee", &format!("{XSI} xsi:type=\"Group\""));
            w.text("URI", ALL_USERS_URI);
            w.close("Grantee");
            w.text("Permission", permission);
            w.close("Grant");
        }
        w.close("AccessControlList");
        w.close("AccessControlPolicy");
        w.finish()
    }
}

#[derive(Deserialize)]
struct PolicyXml {
    #[serde(rename = "AccessControlList")]
    list: ListXml,
}

#[derive(Deserialize)]
struct ListXml {
    #[serde(rename = "Grant", default)]
    grants: Vec<GrantXml>,
}

#[derive(Deserialize)]
struct GrantXml {
    #[serde(rename = "Grantee")]
    grantee: GranteeXml,
    #[serde(rename = "Permission")]
    permission: String,
}

#[derive(Deserialize)]
struct GranteeXml {
    #[serde(rename = "URI", default)]
    uri: Option<String>,
}

/// Reads a `PUT ?acl` body back into a canned ACL name.
///
/// AllUsers READ gives `public-read`; READ plus WRITE (or FULL_CONTROL) gives
/// `public-read-write`; no AllUsers grant gives `private`. Grants to specific users are
/// accepted but not stored. `MalformedXML` for a bad shape or unknown permission,
/// `InvalidArgument` for an AllUsers grant with no canned equivalent (write without read).
pub fn parse_acl_body(body: &[u8]) -> Result<String, CosError> {
    let policy: PolicyXml = from_body(body)?;
    let (mut read, mut write) = (false, false);
    for grant in &policy.list.grants {
        let permission = grant.permission.trim();
        let (r, wr) = match permission {
            "READ" | "READ_ACP" => (permission == "READ", false),
            "WRITE" | "WRITE_ACP" => (false, permission == "WRITE"),
            "FULL_CONTROL" => (true, true),
            other => {
                return Err(CosError::with_message(
                    ErrorCode::MalformedXML,
                    format!("unknown Permission `{other}`"),
                ))
            }
        };
        if grant.grantee.uri.as_deref().map(str::trim) == Some(ALL_USERS_URI) {
            read |= r;
            write |= wr;
        }
    }
    match (read, write) {
        (false, false) => Ok("private".to_owned()),
        (true, false) => Ok("public-read".to_owned()),
        (true, true) => Ok("public-read-write".to_owned()),
        (false, true) => Err(CosError::with_message(
            ErrorCode::InvalidArgument,
            "AllUsers WRITE without READ has no canned ACL",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Parsed {
        #[serde(rename = "Owner")]
        owner: Owner,
        #[serde(rename = "AccessControlList")]
        list: List,
    }
    #[derive(Deserialize)]
    struct Owner {
        #[serde(rename = "ID")]
        id: String,
    }
    #[derive(Deserialize)]
    struct List {
        #[serde(rename = "Grant")]
        grants: Vec<Grant>,
    }
    #[derive(Deserialize)]
    struct Grant {
        #[serde(rename = "Grantee")]
        grantee: Grantee,
        #[serde(rename = "Permission")]
        permission: String,
    }
    #[derive(Deserialize)]
    struct Grantee {
        #[serde(rename = "@type")]
        kind: String,
        #[serde(rename = "ID")]
        id: Option<String>,
        #[serde(rename = "URI")]
        uri: Option<String>,
    }

    #[test]
    fn canned_acls_render_as_cos_grants() {
        for (acl, public) in [
            ("private", vec![]),
            ("default", vec![]),
            ("public-read", vec!["READ"]),
            ("public-read-write", vec!["READ", "WRITE"]),
        ] {
            let xml = AccessControlPolicy::new("1250000000", acl).to_xml();
            let p: Parsed = quick_xml::de::from_str(&xml).unwrap();
            assert_eq!(p.owner.id, "1250000000");
            assert_eq!(p.list.grants[0].permission, "FULL_CONTROL");
            assert_eq!(p.list.grants[0].grantee.kind, "CanonicalUser");
            assert_eq!(p.list.grants[0].grantee.id.as_deref(), Some("1250000000"));
            let groups: Vec<_> = p.list.grants[1..]
                .iter()
                .map(|g| g.permission.as_str())
                .collect();
            assert_eq!(groups, public, "{acl}");
            for g in &p.list.grants[1..] {
                assert_eq!(g.grantee.kind, "Group");
                assert_eq!(g.grantee.uri.as_deref(), Some(ALL_USERS_URI));
            }
        }
    }

    #[test]
    fn rendered_policies_parse_back_to_the_same_canned_acl() {
        for acl in ["private", "public-read", "public-read-write"] {
            let xml = AccessControlPolicy::new("1", acl).to_xml();
            assert_eq!(parse_acl_body(xml.as_bytes()).unwrap(), acl);
        }
    }

    #[test]
    fn full_control_for_all_users_is_public_read_write() {
        let body = format!(
            "<AccessControlPolicy><Owner><ID>1</ID></Owner><AccessControlList><Grant>\
             <Grantee><URI>{ALL_USERS_URI}</URI></Grantee><Permission>FULL_CONTROL</Permission>\
             </Grant></AccessControlList></AccessControlPolicy>"
        );
        assert_eq!(
            parse_acl_body(body.as_bytes()).unwrap(),
            "public-read-write"
        );
    }

    #[test]
    fn bad_acl_bodies_are_rejected() {
        let unknown = "<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>1</ID></Grantee>\
                       <Permission>EVERYTHING</Permission></Grant></AccessControlList></AccessControlPolicy>";
        assert_eq!(
            parse_acl_body(unknown.as_bytes()).unwrap_err().code,
            ErrorCode::MalformedXML
        );
        assert_eq!(
            parse_acl_body(b"<Nope/>").unwrap_err().code,
            ErrorCode::MalformedXML
        );
        let write_only = format!(
            "<AccessControlPolicy><AccessControlList><Grant><Grantee><URI>{ALL_USERS_URI}</URI>\
             </Grantee><Permission>WRITE</Permission></Grant></AccessControlList></AccessControlPolicy>"
        );
        assert_eq!(
            parse_acl_body(write_only.as_bytes()).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
    }
}
