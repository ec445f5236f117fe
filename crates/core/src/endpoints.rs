//! The one table of base URLs. Nothing outside this module builds a host name.
//!
//! A base URL is chosen, in order, from: our own override variable for that service, the
//! documented host overrides (`IAM_ENDPOINT`, `IBMCLOUD_IAM_API_ENDPOINT`,
//! `IBMCLOUD_CS_API_ENDPOINT`), the URL the CLI config stores (IAM only), and the built-in
//! default for the cloud (`bluemix` or `staging`) and the network (public, private = CSE,
//! VPC = VPE). Overrides are how tests and the sandbox point everything at the emulator.

use url::Url;

use crate::env::{self, Env};
use crate::error::{Error, Result};
use crate::types::Region;

/// Which network the user reaches IBM Cloud through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// The public internet.
    Public,
    /// Cloud service endpoints (`IsPrivate`).
    Private,
    /// Virtual private endpoints from a VPC (`IsPrivate` and `IsAccessFromVPC`).
    Vpc,
}

impl Network {
    /// From the CLI config flags. `IsAccessFromVPC` without `IsPrivate` means public, as in
    /// the SDK's `IAMEndpoint()`.
    #[must_use]
    pub(crate) fn from_flags(is_private: bool, is_access_from_vpc: bool) -> Self {
        match (is_private, is_access_from_vpc) {
            (true, true) => Self::Vpc,
            (true, false) => Self::Private,
            _ => Self::Public,
        }
    }
}

/// The IAM URLs the CLI config stores (used before the defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigIamUrls {
    /// `IAMEndpoint`.
    pub public: Option<String>,
    /// `IAMPrivateEndpoint`.
    pub private: Option<String>,
    /// `IAMPrivateVPCEndpoint`.
    pub vpc: Option<String>,
}

/// The base URL of every service the tool calls.
#[derive(Debug, Clone)]
pub struct Endpoints {
    network: Network,
    staging: bool,
    iam: Url,
    iam_identity: Url,
    iam_access: Url,
    resource_manager: Url,
    user_management: Url,
    account_management: Url,
    accounts: Url,
    enterprise: Url,
    /// A fixed containers base (from an override), else one is derived per region.
    containers_override: Option<Url>,
}

fn parse(name: &str, value: &str) -> Result<Url> {
    let trimmed = value.trim().trim_end_matches('/');
    let url = Url::parse(trimmed).map_err(|_| Error::BadEndpoint { name: name.to_owned(), value: value.to_owned() })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::BadEndpoint { name: name.to_owned(), value: value.to_owned() });
    }
    Ok(url)
}

fn first_override<'a>(env: &'a Env, names: &[&'static str]) -> Option<(&'static str, &'a str)> {
    names.iter().find_map(|n| env.get(n).map(|v| (*n, v)))
}

impl Endpoints {
    /// Builds the table from the network, the cloud name (`staging` or anything else), the
    /// config's IAM URLs and the environment.
    ///
    /// # Errors
    /// [`Error::BadEndpoint`] when an override or a stored URL is not an http(s) URL.
    pub(crate) fn new(network: Network, cloud_name: &str, config_iam: &ConfigIamUrls, env: &Env) -> Result<Self> {
        let staging = cloud_name == "staging";
        let domain = if staging { "test.cloud.ibm.com" } else { "cloud.ibm.com" };

        let iam = if let Some((name, v)) =
            first_override(env, &[env::CAK_IAM_ENDPOINT, env::IAM_ENDPOINT, env::IBMCLOUD_IAM_API_ENDPOINT])
        {
            parse(name, v)?
        } else {
            let (stored, key) = match network {
                Network::Public => (&config_iam.public, "IAMEndpoint"),
                Network::Private => (&config_iam.private, "IAMPrivateEndpoint"),
                Network::Vpc => (&config_iam.vpc, "IAMPrivateVPCEndpoint"),
            };
            match stored.as_deref().filter(|s| !s.is_empty()) {
                Some(v) => parse(key, v)?,
                None => parse(
                    "default",
                    &match network {
                        Network::Public => format!("https://iam.{domain}"),
                        Network::Private | Network::Vpc => format!("https://private.iam.{domain}"),
                    },
                )?,
            }
        };
        // IAM Identity and the access APIs live on the IAM host.
        let iam_identity = match first_override(env, &[env::CAK_IAM_IDENTITY_ENDPOINT]) {
            Some((n, v)) => parse(n, v)?,
            None => iam.clone(),
        };
        let iam_access = match first_override(env, &[env::CAK_IAM_ACCESS_ENDPOINT]) {
            Some((n, v)) => parse(n, v)?,
            None => iam.clone(),
        };
        let resource_manager = match first_override(env, &[env::CAK_RESOURCE_MANAGER_ENDPOINT]) {
            Some((n, v)) => parse(n, v)?,
            None => parse(
                "default",
                &match network {
                    Network::Public => format!("https://resource-controller.{domain}"),
                    Network::Private | Network::Vpc => format!("https://private.resource-controller.{domain}"),
                },
            )?,
        };
        // User Management: `user-management.cloud.ibm.com`; the private host follows IBM's
        // `private.` naming for platform services (INFERRED: not in the SDK's constants).
        let user_management = match first_override(env, &[env::CAK_USER_MANAGEMENT_ENDPOINT]) {
            Some((n, v)) => parse(n, v)?,
            None => parse(
                "default",
                &match network {
                    Network::Public => format!("https://user-management.{domain}"),
                    Network::Private | Network::Vpc => format!("https://private.user-management.{domain}"),
                },
            )?,
        };
        // Account Management: `accounts.cloud.ibm.com` (IBM's platform-services SDK,
        // `accountmanagementv4`); the private host follows IBM's `private.` naming (INFERRED).
        let account_management = match first_override(env, &[env::CAK_ACCOUNT_MANAGEMENT_ENDPOINT]) {
            Some((n, v)) => parse(n, v)?,
            None => parse(
                "default",
                &match network {
                    Network::Public => format!("https://accounts.{domain}"),
                    Network::Private | Network::Vpc => format!("https://private.accounts.{domain}"),
                },
            )?,
        };
        // The accounts service (`accounts.cloud.ibm.com`, as IBM's CLI SDK names it) and
        // Enterprise Management (`enterprise.cloud.ibm.com`, the platform-services SDK's default).
        // OPEN: their private hosts are inferred from IBM's `private.` naming.
        let host = |name: &str| match network {
            Network::Public => format!("https://{name}.{domain}"),
            Network::Private | Network::Vpc => format!("https://private.{name}.{domain}"),
        };
        let accounts = match first_override(env, &[env::CAK_ACCOUNTS_ENDPOINT]) {
            Some((n, v)) => parse(n, v)?,
            None => parse("default", &host("accounts"))?,
        };
        let enterprise = match first_override(env, &[env::CAK_ENTERPRISE_ENDPOINT]) {
            Some((n, v)) => parse(n, v)?,
            None => parse("default", &host("enterprise"))?,
        };
        let containers_override =
            match first_override(env, &[env::CAK_CONTAINERS_ENDPOINT, env::IBMCLOUD_CS_API_ENDPOINT]) {
                Some((n, v)) => Some(parse(n, v)?),
                None => None,
            };
        Ok(Self {
            network,
            staging,
            iam,
            iam_identity,
            iam_access,
            resource_manager,
            user_management,
            account_management,
            accounts,
            enterprise,
            containers_override,
        })
    }

    /// IAM token endpoint base (`POST {base}/identity/token`).
    #[must_use]
    pub(crate) fn iam(&self) -> &Url {
        &self.iam
    }

    /// IAM Identity base (`/v1/apikeys`).
    #[must_use]
    pub(crate) fn iam_identity(&self) -> &Url {
        &self.iam_identity
    }

    /// IAM Policy Management / Access Groups base (`/v1/policies`, `/v2/groups`).
    #[must_use]
    pub(crate) fn iam_access(&self) -> &Url {
        &self.iam_access
    }

    /// Resource Manager base (`/v2/resource_groups`).
    #[must_use]
    pub(crate) fn resource_manager(&self) -> &Url {
        &self.resource_manager
    }

    /// User Management base (`/v2/accounts/{account}/users`).
    #[must_use]
    pub(crate) fn user_management(&self) -> &Url {
        &self.user_management
    }

    /// Account Management base (`/v4/accounts/{account}`).
    #[must_use]
    pub(crate) fn account_management(&self) -> &Url {
        &self.account_management
    }

    /// The accounts service's base (`/coe/v2/accounts`).
    #[must_use]
    pub(crate) fn accounts(&self) -> &Url {
        &self.accounts
    }

    /// Enterprise Management's base (`/v1/accounts`).
    #[must_use]
    pub(crate) fn enterprise(&self) -> &Url {
        &self.enterprise
    }

    /// Containers API base for a region. Public: the global endpoint (region in `X-Region`);
    /// private: `private.<region>.containers...`; VPC: `api.<region>.containers...` (both
    /// without `/global`, as IBM's own reset script calls them).
    ///
    /// # Errors
    /// [`Error::BadRegion`] when the region cannot be part of a host name, [`Error::NoRegion`]
    /// when a regional (private or VPC) endpoint is needed and no region is known.
    pub(crate) fn containers(&self, region: Option<&Region>) -> Result<Url> {
        if let Some(u) = &self.containers_override {
            return Ok(u.clone());
        }
        let domain = if self.staging { "test.cloud.ibm.com" } else { "cloud.ibm.com" };
        if self.network == Network::Public {
            return parse("default", &format!("https://containers.{domain}/global"));
        }
        let region = region.ok_or(Error::NoRegion)?;
        if !Region::is_plausible(region.as_str()) {
            return Err(Error::BadRegion(region.to_string()));
        }
        let s = match self.network {
            Network::Public => format!("https://containers.{domain}/global"),
            Network::Private => format!("https://private.{region}.containers.{domain}"),
            Network::Vpc => format!("https://api.{region}.containers.{domain}"),
        };
        parse("default", &s)
    }
}

/// Joins a base URL and a path (`/v1/keys`), keeping the base's own path (`/global`).
#[must_use]
pub(crate) fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let base_path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{base_path}{path}"));
    url
}

/// Refuses a URL that must not carry credentials (see [`may_carry_credentials`]).
///
/// # Errors
/// [`Error::InsecureEndpoint`] naming the scheme, host and port (never the path or query).
pub(crate) fn require_secure(url: &Url) -> Result<()> {
    if may_carry_credentials(url) {
        Ok(())
    } else {
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        Err(Error::InsecureEndpoint(format!("{}://{}{port}", url.scheme(), url.host_str().unwrap_or_default())))
    }
}

/// Whether a bearer token may be sent to `url`: https anywhere, http only to loopback.
#[must_use]
pub(crate) fn may_carry_credentials(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eps(network: Network, cloud: &str, cfg: &ConfigIamUrls, env: &[(&str, &str)]) -> Endpoints {
        Endpoints::new(network, cloud, cfg, &Env::from_pairs(env.iter().copied())).unwrap()
    }

    #[test]
    fn network_from_flags() {
        assert_eq!(Network::from_flags(false, false), Network::Public);
        assert_eq!(Network::from_flags(false, true), Network::Public);
        assert_eq!(Network::from_flags(true, false), Network::Private);
        assert_eq!(Network::from_flags(true, true), Network::Vpc);
    }

    #[test]
    fn defaults_per_network() {
        let us = Region::new("us-south");
        let cfg = ConfigIamUrls::default();
        let p = eps(Network::Public, "bluemix", &cfg, &[]);
        assert_eq!(p.iam().as_str(), "https://iam.cloud.ibm.com/");
        assert_eq!(p.resource_manager().as_str(), "https://resource-controller.cloud.ibm.com/");
        assert_eq!(p.containers(Some(&us)).unwrap().as_str(), "https://containers.cloud.ibm.com/global");
        let c = eps(Network::Private, "bluemix", &cfg, &[]);
        assert_eq!(c.iam().as_str(), "https://private.iam.cloud.ibm.com/");
        assert_eq!(c.resource_manager().as_str(), "https://private.resource-controller.cloud.ibm.com/");
        assert_eq!(c.containers(Some(&us)).unwrap().as_str(), "https://private.us-south.containers.cloud.ibm.com/");
        let v = eps(Network::Vpc, "bluemix", &cfg, &[]);
        assert_eq!(v.containers(Some(&us)).unwrap().as_str(), "https://api.us-south.containers.cloud.ibm.com/");
        assert_eq!(v.iam_identity().as_str(), "https://private.iam.cloud.ibm.com/");
        let s = eps(Network::Public, "staging", &cfg, &[]);
        assert_eq!(s.iam().as_str(), "https://iam.test.cloud.ibm.com/");
    }

    #[test]
    fn config_iam_urls_follow_the_flags() {
        let cfg = ConfigIamUrls {
            public: Some("https://iam.example".into()),
            private: Some("https://priv.iam.example".into()),
            vpc: Some("https://vpc.iam.example".into()),
        };
        assert_eq!(eps(Network::Public, "bluemix", &cfg, &[]).iam().host_str(), Some("iam.example"));
        assert_eq!(eps(Network::Private, "bluemix", &cfg, &[]).iam().host_str(), Some("priv.iam.example"));
        assert_eq!(eps(Network::Vpc, "bluemix", &cfg, &[]).iam().host_str(), Some("vpc.iam.example"));
    }

    #[test]
    fn overrides_win_in_order() {
        let cfg = ConfigIamUrls { public: Some("https://iam.example".into()), ..Default::default() };
        let e = eps(Network::Private, "bluemix", &cfg, &[("IBMCLOUD_IAM_API_ENDPOINT", "http://127.0.0.1:1/")]);
        assert_eq!(e.iam().as_str(), "http://127.0.0.1:1/");
        assert_eq!(e.iam_identity().as_str(), "http://127.0.0.1:1/");
        let e = eps(
            Network::Public,
            "bluemix",
            &cfg,
            &[("IBMCLOUD_IAM_API_ENDPOINT", "http://127.0.0.1:1"), ("IAM_ENDPOINT", "http://127.0.0.1:2")],
        );
        assert_eq!(e.iam().port(), Some(2));
        let e = eps(
            Network::Public,
            "bluemix",
            &cfg,
            &[("IAM_ENDPOINT", "http://127.0.0.1:2"), ("CLUSTER_API_KEY_IAM_ENDPOINT", "http://127.0.0.1:3")],
        );
        assert_eq!(e.iam().port(), Some(3));
        let e = eps(
            Network::Vpc,
            "bluemix",
            &cfg,
            &[
                ("IBMCLOUD_CS_API_ENDPOINT", "http://127.0.0.1:4/global/"),
                ("CLUSTER_API_KEY_IAM_IDENTITY_ENDPOINT", "http://127.0.0.1:5"),
                ("CLUSTER_API_KEY_IAM_ACCESS_ENDPOINT", "http://127.0.0.1:6"),
                ("CLUSTER_API_KEY_RESOURCE_MANAGER_ENDPOINT", "http://127.0.0.1:7"),
            ],
        );
        assert_eq!(e.containers(Some(&Region::new("eu-de"))).unwrap().as_str(), "http://127.0.0.1:4/global");
        assert_eq!(e.iam_identity().port(), Some(5));
        assert_eq!(e.iam_access().port(), Some(6));
        assert_eq!(e.resource_manager().port(), Some(7));
        let e = eps(
            Network::Public,
            "bluemix",
            &cfg,
            &[
                ("IBMCLOUD_CS_API_ENDPOINT", "http://127.0.0.1:4"),
                ("CLUSTER_API_KEY_CONTAINERS_ENDPOINT", "http://127.0.0.1:8"),
            ],
        );
        assert_eq!(e.containers(Some(&Region::new("eu-de"))).unwrap().port(), Some(8));
    }

    #[test]
    fn bad_overrides_and_regions_are_errors() {
        let cfg = ConfigIamUrls::default();
        let env = Env::from_pairs([("IAM_ENDPOINT", "not a url")]);
        assert!(matches!(Endpoints::new(Network::Public, "bluemix", &cfg, &env), Err(Error::BadEndpoint { .. })));
        let env = Env::from_pairs([("IBMCLOUD_CS_API_ENDPOINT", "ftp://x")]);
        assert!(matches!(Endpoints::new(Network::Public, "bluemix", &cfg, &env), Err(Error::BadEndpoint { .. })));
        let e = eps(Network::Private, "bluemix", &cfg, &[]);
        assert!(matches!(e.containers(Some(&Region::new("evil.com/"))), Err(Error::BadRegion(_))));
        assert!(matches!(e.containers(None), Err(Error::NoRegion)));
    }

    #[test]
    fn join_keeps_the_base_path() {
        let base = Url::parse("https://containers.cloud.ibm.com/global").unwrap();
        assert_eq!(join(&base, "/v1/keys").as_str(), "https://containers.cloud.ibm.com/global/v1/keys");
        let base = Url::parse("http://127.0.0.1:9/").unwrap();
        assert_eq!(join(&base, "/v1/keys").as_str(), "http://127.0.0.1:9/v1/keys");
    }

    #[test]
    fn credentials_only_over_https_or_loopback() {
        let ok = |s: &str| may_carry_credentials(&Url::parse(s).unwrap());
        assert!(ok("https://iam.cloud.ibm.com"));
        assert!(ok("http://127.0.0.1:8080"));
        assert!(ok("http://127.1.2.3"));
        assert!(ok("http://[::1]:80"));
        assert!(ok("http://localhost:1"));
        assert!(!ok("http://iam.cloud.ibm.com"));
        assert!(!ok("http://10.0.0.1"));
        assert!(!ok("http://localhost.evil.com"));
    }
}
