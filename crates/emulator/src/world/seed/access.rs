//! Who may do what in the default account: the functional ID holds everything a cluster API key
//! owner needs; the viewer only views (and administers one cluster, which does not cover a
//! reset); Gina gets us-south through the access group `k8s-us-admins`; the service ID lacks
//! Operator on IAM Identity; the owner is in `account-admins`, which holds every service.

use crate::world::{ACCOUNT_ID, AccessGroup, FUNCTIONAL, GROUP_MEMBER, OWNER, Policy, RG_DEFAULT, SERVICE_ID, VIEWER};

/// `roles` on `service`, account-wide, for no subject yet.
fn on_service(id: &str, service: &str, roles: &[&str]) -> Policy {
    Policy {
        id: id.into(),
        account_id: ACCOUNT_ID.into(),
        service: Some(service.into()),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        ..Policy::default()
    }
}

/// `roles` on `service`, account-wide, for the identity `iam_id`.
fn user_policy(id: &str, iam_id: &str, service: &str, roles: &[&str]) -> Policy {
    Policy { iam_id: Some(iam_id.into()), ..on_service(id, service, roles) }
}

/// Viewer on one resource group (`rg`) or on all: what a key owner needs besides the service
/// roles.
fn rg_viewer(id: &str, subject: Option<&str>, group: Option<&str>, rg: Option<&str>) -> Policy {
    Policy {
        id: id.into(),
        account_id: ACCOUNT_ID.into(),
        iam_id: subject.map(Into::into),
        access_group_id: group.map(Into::into),
        roles: vec!["Viewer".into()],
        resource_type: Some("resource-group".into()),
        resource: rg.map(Into::into),
        ..Policy::default()
    }
}

/// The account's access policies.
pub(super) fn policies() -> Vec<Policy> {
    vec![
        user_policy("policy-func-ks-admin", FUNCTIONAL, "containers-kubernetes", &["Administrator", "Manager"]),
        user_policy(
            "policy-func-iam-identity",
            FUNCTIONAL,
            "iam-identity",
            &["Administrator", "Operator", "UserApiKeyCreator"],
        ),
        user_policy("policy-func-users", FUNCTIONAL, "user-management", &["Viewer"]),
        user_policy("policy-func-vpc", FUNCTIONAL, "is", &["Administrator"]),
        rg_viewer("policy-func-rg", Some(FUNCTIONAL), None, None),
        user_policy("policy-viewer-ks", VIEWER, "containers-kubernetes", &["Viewer"]),
        // Administrator on one cluster only: it does not cover a reset of the target.
        Policy {
            service_instance: Some("c0us1vpc00000000000a".into()),
            ..user_policy("policy-viewer-one-cluster", VIEWER, "containers-kubernetes", &["Administrator"])
        },
        // Through the access group `k8s-us-admins`: us-south only.
        Policy {
            access_group_id: Some("AccessGroupId-k8s-us".into()),
            region: Some("us-south".into()),
            ..on_service("policy-group-us", "containers-kubernetes", &["Administrator", "Writer"])
        },
        rg_viewer("policy-group-rg", None, Some("AccessGroupId-k8s-us"), Some(RG_DEFAULT)),
        user_policy("policy-svc-ks-admin", SERVICE_ID, "containers-kubernetes", &["Administrator"]),
        // Every IAM-enabled service (no `service`).
        Policy {
            id: "policy-admins-all".into(),
            account_id: ACCOUNT_ID.into(),
            access_group_id: Some("AccessGroupId-admins".into()),
            roles: vec!["Administrator".into(), "Manager".into()],
            ..Policy::default()
        },
    ]
}

/// The account's access groups: `account-admins` (the owner) and `k8s-us-admins` (Gina).
pub(super) fn access_groups() -> Vec<AccessGroup> {
    let group = |id: &str, name: &str, member: &str| AccessGroup {
        id: id.into(),
        name: name.into(),
        account_id: ACCOUNT_ID.into(),
        members: vec![member.into()],
    };
    vec![
        group("AccessGroupId-admins", "account-admins", OWNER),
        group("AccessGroupId-k8s-us", "k8s-us-admins", GROUP_MEMBER),
    ]
}
