//! Resource Manager: resource groups (`/v2/resource_groups`).

use serde::Deserialize;
use url::Url;

use crate::auth::Client;
use crate::error::{Error, Result, Service};
use crate::http::Request;
use crate::types::{AccountId, ResourceGroup, ResourceGroupId};

#[derive(Debug, Deserialize)]
struct RawGroup {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    default: bool,
}

#[derive(Debug, Deserialize)]
struct RawList {
    #[serde(default)]
    resources: Vec<RawGroup>,
}

impl From<RawGroup> for ResourceGroup {
    fn from(g: RawGroup) -> Self {
        Self { id: ResourceGroupId::new(g.id), name: g.name, default: g.default }
    }
}

/// The Resource Manager client.
#[derive(Debug, Clone)]
pub struct ResourceManager<'a> {
    client: &'a Client,
    base: Url,
}

impl<'a> ResourceManager<'a> {
    /// A client at `base`.
    #[must_use]
    pub(crate) fn new(client: &'a Client, base: Url) -> Self {
        Self { client, base }
    }

    /// `GET /v2/resource_groups?account_id=...`.
    ///
    /// # Errors
    /// API and transport errors.
    pub async fn list(&self, account: &AccountId) -> Result<Vec<ResourceGroup>> {
        let mut url = super::url(&self.base, "/v2/resource_groups");
        url.query_pairs_mut().append_pair("account_id", account.as_str());
        let list: RawList =
            self.client.send(Service::ResourceManager, Request::get(url)).await?.json(Service::ResourceManager)?;
        Ok(list.resources.into_iter().map(Into::into).collect())
    }

    /// `GET /v2/resource_groups/{id}`.
    ///
    /// # Errors
    /// API and transport errors.
    pub async fn get(&self, id: &str) -> Result<ResourceGroup> {
        let url = super::url(&self.base, &format!("/v2/resource_groups/{}", super::segment(id)));
        let g: RawGroup =
            self.client.send(Service::ResourceManager, Request::get(url)).await?.json(Service::ResourceManager)?;
        Ok(g.into())
    }

    /// Resolves `-g`: an exact ID, else an exact name, else a case-insensitive name.
    ///
    /// # Errors
    /// [`Error::UnknownGroups`] naming the account's groups (an incorrect usage, as a bad `-g`
    /// is everywhere), [`Error::ResourceGroupAmbiguous`], API errors.
    pub async fn resolve(&self, account: &AccountId, name_or_id: &str) -> Result<ResourceGroup> {
        let groups = self.list(account).await?;
        if let Some(g) = groups.iter().find(|g| g.id.as_str() == name_or_id) {
            return Ok(g.clone());
        }
        let exact: Vec<&ResourceGroup> = groups.iter().filter(|g| g.name == name_or_id).collect();
        let matches = if exact.is_empty() {
            groups.iter().filter(|g| g.name.eq_ignore_ascii_case(name_or_id)).collect()
        } else {
            exact
        };
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Error::UnknownGroups {
                given: vec![name_or_id.to_owned()],
                valid: groups.iter().map(|g| g.name.clone()).collect(),
            }),
            _ => Err(Error::ResourceGroupAmbiguous(name_or_id.to_owned())),
        }
    }

    /// The account's default group.
    ///
    /// # Errors
    /// [`Error::NoDefaultResourceGroup`], API errors.
    pub async fn default_group(&self, account: &AccountId) -> Result<ResourceGroup> {
        self.list(account).await?.into_iter().find(|g| g.default).ok_or(Error::NoDefaultResourceGroup)
    }
}
