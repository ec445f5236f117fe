//! The default account's people: who is in it (the owner, the functional ID meant to own the
//! cluster API keys, a user who left, one who was removed, a viewer, a group member, an invited
//! user, a service ID and a trusted profile), the API keys they log in with, and the owner's
//! scripts' keys that bring her near IAM's per-identity key limit.

use super::key;
use crate::world::{
    ACCOUNT_ID, ApiKey, DEPARTED, FUNCTIONAL, GROUP_MEMBER, Identity, IdentityKind, OWNER, PENDING, PROFILE, REMOVED,
    SERVICE_ID, VIEWER, keys,
};

/// An identity of the default account, in it and in its ordinary state.
fn ident(iam_id: &str, kind: IdentityKind, name: &str, email: &str, active: bool) -> Identity {
    Identity {
        iam_id: iam_id.into(),
        kind,
        name: name.into(),
        email: email.into(),
        account_id: ACCOUNT_ID.into(),
        active,
        state: None,
        member: true,
    }
}

/// Everyone in (or once in) the account.
pub(super) fn identities() -> Vec<Identity> {
    vec![
        ident(OWNER, IdentityKind::User, "Olivia Owner", "olivia.owner@example.com", true),
        ident(FUNCTIONAL, IdentityKind::User, "Kubernetes Functional ID", "k8s-functional@example.com", true),
        ident(DEPARTED, IdentityKind::User, "Dave Departed", "dave.departed@example.com", false),
        ident(VIEWER, IdentityKind::User, "Vera Viewer", "vera.viewer@example.com", true),
        ident(SERVICE_ID, IdentityKind::ServiceId, "ci-automation", "", true),
        // Removed from the account: IBM deleted her keys with her, so the target whose key she
        // owned (jp-tok / Default) has clusters and no key.
        Identity {
            member: false,
            ..ident(REMOVED, IdentityKind::User, "Rita Removed", "rita.removed@example.com", false)
        },
        // Gets her access only through the access group `k8s-us-admins` (us-south).
        ident(GROUP_MEMBER, IdentityKind::User, "Gina Group", "gina.group@example.com", true),
        // A trusted profile: it can act, but it cannot own the cluster API key.
        ident(PROFILE, IdentityKind::Profile, "ci-runner-profile", "", true),
        // Invited, not yet accepted.
        Identity {
            state: Some("PENDING".into()),
            ..ident(PENDING, IdentityKind::User, "Paul Pending", "paul.pending@example.com", true)
        },
    ]
}

/// The keys the README documents for logging in as each person ([`keys`]); the departed
/// user's still exists, but its logins fail.
pub(super) fn login_keys() -> Vec<ApiKey> {
    vec![
        key("ApiKey-0000-owner-login", "olivia-cli", None, OWNER, keys::OWNER, "2024-01-10T08:00:00Z"),
        key("ApiKey-0000-func-login", "functional-cli", None, FUNCTIONAL, keys::FUNCTIONAL, "2024-01-11T08:00:00Z"),
        key("ApiKey-0000-dep-login", "dave-laptop", None, DEPARTED, keys::DEPARTED, "2024-02-01T08:00:00Z"),
        key("ApiKey-0000-viewer-login", "vera-cli", None, VIEWER, keys::VIEWER, "2024-03-01T08:00:00Z"),
        key("ApiKey-0000-group-login", "gina-cli", None, GROUP_MEMBER, keys::GROUP_MEMBER, "2024-03-02T08:00:00Z"),
        key("ApiKey-0000-svc-login", "ci-automation-key", None, SERVICE_ID, keys::SERVICE_ID, "2024-03-05T08:00:00Z"),
    ]
}

/// Olivia Owner's scripts' twelve keys: with her login key and her three cluster API keys she
/// holds 16 of the 20 API keys IAM allows her (`owner-near-key-limit`).
pub(super) fn owner_script_keys() -> Vec<ApiKey> {
    (1..=12)
        .map(|n| {
            key(
                &format!("ApiKey-0000-olivia-script-{n:02}"),
                &format!("olivia-script-{n:02}"),
                None,
                OWNER,
                &format!("emulator-olivia-script-key-{n:02}-xxxxxxxxxxxxxxxx"),
                "2024-03-01T08:00:00Z",
            )
        })
        .collect()
}
