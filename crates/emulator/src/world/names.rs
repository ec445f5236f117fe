//! The fixed names of the default world: its account, resource groups and people, and the
//! values of the API keys that log in as them. Tests, the sandbox and the README refer to these,
//! so they never change.

/// The trusted profile the sandbox's `eu-analytics` cluster uses for storage and the
/// autoscaler instead of the API key.
pub const TRUSTED_PROFILE: &str = "Profile-5e7a1c00-0000-4000-8000-0000000000tp";

/// The default account ID.
pub const ACCOUNT_ID: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
/// The default world's resource groups.
pub const RG_DEFAULT: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
/// `production`.
pub const RG_PRODUCTION: &str = "11112222333344445555666677778888";
/// `staging`.
pub const RG_STAGING: &str = "9999aaaabbbbccccddddeeeeffff0000";
/// The account owner.
pub const OWNER: &str = "IBMid-2700000OWN";
/// The functional ID meant to own cluster keys.
pub const FUNCTIONAL: &str = "IBMid-2700000FUN";
/// A user who has left the company and still owns a key.
pub const DEPARTED: &str = "IBMid-2700000DEP";
/// A user with only Viewer access.
pub const VIEWER: &str = "IBMid-2700000VIE";
/// Rita Removed: removed from the account; her API keys were deleted with her.
pub const REMOVED: &str = "IBMid-2700000REM";
/// Gina Group: access only through the access group `k8s-us-admins`.
pub const GROUP_MEMBER: &str = "IBMid-2700000GRP";
/// A trusted profile.
pub const PROFILE: &str = "iam-Profile-5e7a1c00-0000-4000-8000-0000000000pf";
/// Paul Pending: invited, not yet accepted.
pub const PENDING: &str = "IBMid-2700000PEN";
/// A service ID (Administrator on the Kubernetes Service, but not Operator on IAM Identity).
pub const SERVICE_ID: &str = "iam-ServiceId-5e7a1c00-0000-4000-8000-00000000c1a0";

/// API-key values of the default world (documented in the README; they only work here).
pub mod keys {
    /// Logs in as the account owner.
    pub const OWNER: &str = "emulator-owner-apikey-0000000000000000000001";
    /// Logs in as the functional ID.
    pub const FUNCTIONAL: &str = "emulator-functional-apikey-000000000000000002";
    /// The departed user's key: login fails (the user is no longer in the account).
    pub const DEPARTED: &str = "emulator-departed-apikey-00000000000000000003";
    /// Logs in as the viewer.
    pub const VIEWER: &str = "emulator-viewer-apikey-0000000000000000000004";
    /// Logs in as the service ID.
    pub const SERVICE_ID: &str = "emulator-serviceid-apikey-0000000000000000005";
    /// Logs in as Gina Group.
    pub const GROUP_MEMBER: &str = "emulator-group-apikey-00000000000000000000006";
}
