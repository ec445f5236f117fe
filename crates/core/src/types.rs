//! Small domain types that keep different kinds of identifiers apart.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a raw value.
            #[must_use]
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The raw value.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A region name such as `us-south`.
    Region
);
id_type!(
    /// A resource group ID (what `X-Auth-Resource-Group` carries), never its name.
    ResourceGroupId
);
id_type!(
    /// A BSS account ID (`account.bss` in a token, `Account.GUID` in the CLI config).
    AccountId
);
id_type!(
    /// An IAM ID (`IBMid-...`, `iam-ServiceId-...`, `iam-Profile-...`).
    IamId
);
id_type!(
    /// An IAM API key's ID (`ApiKey-...`), never its value.
    ApiKeyId
);

/// The Kubernetes Service's regions: the multizone regions of 2026, then the legacy names that
/// classic single-zone locations still report (`ap-north`, `eu-central`, `uk-south`,
/// `ap-south`). Used to validate `--region` in account-wide commands, and to tell which region a
/// key's description names; a new region only needs adding here.
pub const KNOWN_REGIONS: [&str; 17] = [
    "au-syd",
    "br-sao",
    "ca-mon",
    "ca-tor",
    "eu-de",
    "eu-es",
    "eu-gb",
    "in-che",
    "in-mum",
    "jp-osa",
    "jp-tok",
    "us-east",
    "us-south",
    "ap-north",
    "ap-south",
    "eu-central",
    "uk-south",
];

impl Region {
    /// Checks that a region name is plausible: lowercase letters, digits and hyphens. The list
    /// of regions changes over time, so unknown-but-plausible names are passed to the API, which
    /// has the last word.
    #[must_use]
    pub(crate) fn is_plausible(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= 32
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.starts_with('-')
            && !name.ends_with('-')
    }
}

/// A resource group as the tool uses it: the ID for the API, the name for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceGroup {
    /// Its ID.
    pub id: ResourceGroupId,
    /// Its name.
    pub name: String,
    /// Whether it is the account's default group.
    pub default: bool,
}

/// What kind of identity a token or an API key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IdentityKind {
    /// A person (`IBMid-...`).
    User,
    /// A service ID (`iam-ServiceId-...`).
    ServiceId,
    /// A trusted profile (`iam-Profile-...`).
    TrustedProfile,
}

impl IdentityKind {
    /// `iam_id` with its prefix in IBM's spelling (`ibmid-` → `IBMid-`, `iam-serviceid-` →
    /// `iam-ServiceId-`, `serviceid-` → `ServiceId-`, `iam-profile-` → `iam-Profile-`): people
    /// type IDs in any case, IBM's APIs compare them exactly. The rest is left as typed (its
    /// case is looked up where it matters).
    #[must_use]
    pub(crate) fn canonical_prefix(iam_id: &str) -> String {
        const PREFIXES: [&str; 5] = ["iam-ServiceId-", "ServiceId-", "iam-Profile-", "Profile-", "IBMid-"];
        let iam_id = iam_id.trim();
        for p in PREFIXES {
            if let Some(head) = iam_id.get(..p.len())
                && head.eq_ignore_ascii_case(p)
            {
                return format!("{p}{}", &iam_id[p.len()..]);
            }
        }
        iam_id.to_owned()
    }

    /// Guesses the kind from an IAM ID's prefix.
    #[must_use]
    pub fn from_iam_id(iam_id: &str) -> Option<Self> {
        if iam_id.starts_with("iam-ServiceId-") {
            Some(Self::ServiceId)
        } else if iam_id.starts_with("iam-Profile-") {
            Some(Self::TrustedProfile)
        } else if iam_id.starts_with("IBMid-") || iam_id.starts_with("iam-") {
            Some(Self::User)
        } else {
            None
        }
    }
}

impl fmt::Display for IdentityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::User => "user",
            Self::ServiceId => "service ID",
            Self::TrustedProfile => "trusted profile",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_plausibility() {
        assert!(Region::is_plausible("us-south"));
        assert!(Region::is_plausible("eu-de"));
        assert!(!Region::is_plausible(""));
        assert!(!Region::is_plausible("US-South"));
        assert!(!Region::is_plausible("us south"));
        assert!(!Region::is_plausible("../etc"));
        assert!(!Region::is_plausible("-us"));
    }

    #[test]
    fn kind_from_iam_id() {
        assert_eq!(IdentityKind::from_iam_id("IBMid-123"), Some(IdentityKind::User));
        assert_eq!(IdentityKind::from_iam_id("iam-ServiceId-1"), Some(IdentityKind::ServiceId));
        assert_eq!(IdentityKind::from_iam_id("iam-Profile-1"), Some(IdentityKind::TrustedProfile));
        assert_eq!(IdentityKind::from_iam_id("ApiKey-1"), None);
    }

    #[test]
    fn a_typed_prefix_is_spelled_as_ibm_spells_it() {
        assert_eq!(IdentityKind::canonical_prefix(" ibmid-2700000dep "), "IBMid-2700000dep");
        assert_eq!(IdentityKind::canonical_prefix("IAM-SERVICEID-5e7a"), "iam-ServiceId-5e7a");
        assert_eq!(IdentityKind::canonical_prefix("serviceid-5e7a"), "ServiceId-5e7a");
        assert_eq!(IdentityKind::canonical_prefix("iam-profile-1"), "iam-Profile-1");
        assert_eq!(IdentityKind::canonical_prefix("ci-automation"), "ci-automation");
        // Not a prefix: a name that happens to be short, or has multi-byte characters.
        assert_eq!(IdentityKind::canonical_prefix("ibm"), "ibm");
        assert_eq!(IdentityKind::canonical_prefix("ibmïd-1"), "ibmïd-1");
    }
}

/// Resource groups named on the command line, by name or ID (comma lists split once, here),
/// resolved against the account's groups by [`crate::ops::discovery::groups`]. Empty: none
/// was named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupSelector(Vec<String>);

impl GroupSelector {
    /// From the `-g` values as given (repeated, or comma lists).
    #[must_use]
    pub fn new(raw: &[String]) -> Self {
        let mut out: Vec<String> = Vec::new();
        for g in raw.iter().flat_map(|g| g.split(',')).map(str::trim).filter(|g| !g.is_empty()) {
            if !out.iter().any(|x| x == g) {
                out.push(g.to_owned());
            }
        }
        Self(out)
    }

    /// The names or IDs, in the order given.
    #[must_use]
    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// Whether none was named.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A value that was looked up: either known, or unknown for a reason worth showing. One type
/// instead of a value and a reason side by side, so "both set" cannot exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known<T> {
    /// The value.
    Known(T),
    /// Why it is not known.
    Unknown(String),
}

impl<T> Known<T> {
    /// The value, when known.
    #[must_use]
    pub fn known(&self) -> Option<&T> {
        match self {
            Self::Known(v) => Some(v),
            Self::Unknown(_) => None,
        }
    }

    /// Why it is unknown, when it is.
    #[must_use]
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Known(_) => None,
            Self::Unknown(r) => Some(r),
        }
    }
}
