//! The commands, as plan/execute pairs over a [`Session`].
//!
//! A plan only reads (IAM, Resource Manager, the containers API); executing it writes. The
//! binary shows the plan, asks for confirmation, then executes: the core never prints.

pub mod accounts;
pub mod addons;
pub mod check;
pub mod clusters;
pub mod discovery;
pub mod fleet;
pub mod info;
pub mod lock;
pub mod masters;
pub mod offboard;
pub mod prune;
pub mod reset;
pub mod status;

use std::sync::Arc;

use serde::Serialize;

use crate::api::containers::Containers;
use crate::api::iam_access::IamAccess;
use crate::api::iam_identity::IamIdentity;
use crate::api::resource_manager::ResourceManager;
use crate::api::user_management::UserManagement;
use crate::auth::Auth;
use crate::auth::Client;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::http::Http;
use crate::types::{AccountId, IamId, IdentityKind, Region, ResourceGroup};

/// The context plus an authenticated client.
#[derive(Debug, Clone)]
pub struct Session {
    /// What was loaded.
    pub ctx: Context,
    /// The client.
    pub client: Client,
    /// Warnings to show (for example a trace file that could not be opened).
    pub warnings: Vec<String>,
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Caller {
    /// IAM ID.
    pub iam_id: Option<IamId>,
    /// Email or subject.
    pub display: String,
    /// User, service ID or trusted profile.
    pub kind: IdentityKind,
    /// Account.
    pub account: AccountId,
}

/// A (region, resource group) pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// Region.
    pub region: Region,
    /// Resource group.
    pub resource_group: ResourceGroup,
}

impl Session {
    /// Opens a session: the transport, the token source and the client.
    ///
    /// # Errors
    /// TLS initialisation errors.
    pub fn new(ctx: Context) -> Result<Self> {
        let (http, warnings) = Http::new(&ctx.http)?;
        let http = Arc::new(http);
        let auth =
            Arc::new(Auth::new(&ctx.session, ctx.config.as_ref(), Arc::clone(&http), ctx.endpoints.iam().clone()));
        Ok(Self { client: Client::new(http, auth), ctx, warnings })
    }

    /// Sets where the transport announces long waits (a `Retry-After` of many seconds, the rate
    /// budget) and warnings (the budget's file locked by another process).
    pub fn on_notice(&self, f: impl Fn(crate::http::NoticeKind, &str) + Send + Sync + 'static) {
        self.client.http().on_notice(f);
    }

    /// The caller, from the token (refreshing it if needed).
    ///
    /// # Errors
    /// Auth errors; [`Error::NoAccount`] when neither the target nor the token names one.
    pub async fn caller(&self) -> Result<Caller> {
        let id = self.client.auth().identity().await?;
        // The token's account wins: with IBMCLOUD_API_KEY the key may belong to another account
        // than the one the CLI config targets; with the CLI session the two are the same.
        let account = id.account.clone().or(self.ctx.account.clone()).ok_or(Error::NoAccount)?;
        Ok(Caller {
            kind: id.kind,
            display: id
                .display
                .clone()
                .unwrap_or_else(|| id.iam_id.as_ref().map(ToString::to_string).unwrap_or_default()),
            iam_id: id.iam_id,
            account,
        })
    }

    /// The containers API for a region.
    ///
    /// # Errors
    /// Endpoint errors.
    pub fn containers(&self, region: Option<&Region>) -> Result<Containers<'_>> {
        Ok(Containers::new(&self.client, self.ctx.endpoints.containers(region)?, region.cloned()))
    }

    /// IAM Identity.
    #[must_use]
    pub fn iam_identity(&self) -> IamIdentity<'_> {
        IamIdentity::new(&self.client, self.ctx.endpoints.iam_identity().clone())
    }

    /// IAM Policy Management and Access Groups.
    #[must_use]
    pub(crate) fn iam_access(&self) -> IamAccess<'_> {
        IamAccess::new(&self.client, self.ctx.endpoints.iam_access().clone())
    }

    /// Account Management (the account's owner).
    #[must_use]
    pub(crate) fn account_management(&self) -> crate::api::account_management::AccountManagement<'_> {
        crate::api::account_management::AccountManagement::new(
            &self.client,
            self.ctx.endpoints.account_management().clone(),
        )
    }

    /// User Management.
    #[must_use]
    pub fn user_management(&self) -> UserManagement<'_> {
        UserManagement::new(&self.client, self.ctx.endpoints.user_management().clone())
    }

    /// Resource Manager.
    #[must_use]
    pub fn resource_manager(&self) -> ResourceManager<'_> {
        ResourceManager::new(&self.client, self.ctx.endpoints.resource_manager().clone())
    }

    /// The region from the flag or the target.
    ///
    /// # Errors
    /// [`Error::NoRegion`], [`Error::BadRegion`].
    pub(crate) fn region(&self, flag: Option<&str>) -> Result<Region> {
        // Region names are lowercase; `US-South` is a typing slip, not another region.
        let (raw, r) = if let Some(f) = flag {
            (f.trim().to_owned(), Region::new(f.trim().to_ascii_lowercase()))
        } else {
            let r = self.ctx.region.clone().ok_or(Error::NoRegion)?;
            (r.to_string(), r)
        };
        if !Region::is_plausible(r.as_str()) {
            return Err(Error::BadRegion(raw));
        }
        Ok(r)
    }

    /// The resource group from `-g` (name or ID), else the targeted one, else the account's
    /// default group, as the official CLI does.
    ///
    /// # Errors
    /// Resolution errors.
    pub(crate) async fn resource_group(&self, account: &AccountId, flag: Option<&str>) -> Result<ResourceGroup> {
        match flag {
            Some(g) => self.resource_manager().resolve(account, g.trim()).await,
            None => match &self.ctx.resource_group {
                Some(g) => Ok(g.clone()),
                None => self.resource_manager().default_group(account).await,
            },
        }
    }

    /// The target for flags.
    ///
    /// # Errors
    /// As [`Session::region`] and [`Session::resource_group`].
    pub(crate) async fn target(&self, caller: &Caller, region: Option<&str>, group: Option<&str>) -> Result<Target> {
        let region = self.region(region)?;
        let resource_group = self.resource_group(&caller.account, group).await?;
        Ok(Target { region, resource_group })
    }
}

/// The name IBM gives every cluster API key.
pub const KEY_NAME: &str = "containers-kubernetes-key";

/// How many times, and how far apart, the tool looks at what a write did after an error answer
/// that is not the service's own (a gateway's 504 can come back while the service is still
/// doing the work): prune's key changes and check's policy grants.
pub(crate) const LOOKS: u32 = 4;
pub(crate) const LOOK_GAP: std::time::Duration = std::time::Duration::from_millis(500);

/// Whether an IAM API key is the cluster API key of `target`: its name, and a description that
/// contains both the region and the resource group ID.
///
/// INFERRED (no public copy of the wording exists): the exact description wording is not public; IBM's
/// own Terraform module matches on region and group ID being present, and so do we.
#[must_use]
pub(crate) fn is_key_for(key: &crate::api::iam_identity::ApiKey, target: &Target) -> bool {
    key.name == KEY_NAME
        && key
            .description
            .as_deref()
            .is_some_and(|d| d.contains(target.region.as_str()) && d.contains(target.resource_group.id.as_str()))
}
