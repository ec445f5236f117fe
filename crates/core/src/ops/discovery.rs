//! Discovery: every target of the account, once, for every account-wide command (`status`
//! today; fleet `reset`, `prune` and `check` build on the same).
//!
//! The reads: the resource groups (a `-g` filter is checked against them before anything else
//! is read), the clusters of every provider ([`clusters`]) and the account's
//! `containers-kubernetes-key` keys, every page ([`keys`]); `status` runs them side by side. A target is a (region, resource group)
//! that has clusters or a key. Which key belongs to which target, and which of a target's keys
//! is the current one, is decided in [`attribute`] and [`split_keys`] and nowhere else.

use std::collections::BTreeMap;

use super::{Caller, KEY_NAME, Session, Target, is_key_for};
use crate::api::containers::Cluster;
use crate::api::iam_identity::{ApiKey, ListQuery};
use crate::error::{Error, Result};
use crate::types::{KNOWN_REGIONS, Region, ResourceGroup, ResourceGroupId};

/// Which keys could be listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyScope {
    /// Every key of the account.
    Account,
    /// Only the caller's own keys; why (listing other users' keys needs the Administrator role
    /// on IAM Identity).
    CallerOnly(String),
}

/// What discovery read.
#[derive(Debug, Clone)]
pub struct Account {
    /// The account's resource groups.
    pub groups: Vec<ResourceGroup>,
    /// Every cluster visible to the caller.
    pub clusters: Vec<Cluster>,
    /// Every visible `containers-kubernetes-key` key.
    pub keys: Vec<ApiKey>,
    /// Whose keys those are.
    pub key_scope: KeyScope,
}

/// One target with what belongs to it.
#[derive(Debug, Clone)]
pub struct Found {
    /// Region and group.
    pub target: Target,
    /// Its clusters, by name.
    pub clusters: Vec<Cluster>,
    /// Its current key (the newest), when one is visible.
    pub current: Option<ApiKey>,
    /// Its older keys, oldest first.
    pub superseded: Vec<ApiKey>,
}

/// The targets to look at: `regions` and `groups` narrow the account (empty: everything).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Regions asked for.
    pub regions: Vec<Region>,
    /// Groups asked for (resolved).
    pub groups: Vec<ResourceGroup>,
}

/// Checks `--region` values against the known regions, before any request.
///
/// # Errors
/// [`Error::UnknownRegions`] naming the valid ones.
pub fn regions(raw: &[String]) -> Result<Vec<Region>> {
    let mut out: Vec<Region> = Vec::new();
    let mut bad = Vec::new();
    for given in raw.iter().flat_map(|r| r.split(',')).map(str::trim).filter(|r| !r.is_empty()) {
        // Region names are lowercase; `US-South` is a typing slip. Errors keep the spelling.
        let r = given.to_ascii_lowercase();
        if KNOWN_REGIONS.contains(&r.as_str()) {
            if !out.iter().any(|x| x.as_str() == r) {
                out.push(Region::new(r));
            }
        } else {
            bad.push(given.to_owned());
        }
    }
    if bad.is_empty() {
        Ok(out)
    } else {
        Err(Error::UnknownRegions { given: bad, valid: KNOWN_REGIONS.iter().map(|r| (*r).to_owned()).collect() })
    }
}

/// Resolves `-g` values (names or IDs, comma lists too) against the account's groups.
///
/// # Errors
/// [`Error::UnknownGroups`] naming the valid ones.
pub fn groups(raw: &[String], all: &[ResourceGroup]) -> Result<Vec<ResourceGroup>> {
    let mut out: Vec<ResourceGroup> = Vec::new();
    let mut bad = Vec::new();
    for g in raw.iter().flat_map(|g| g.split(',')).map(str::trim).filter(|g| !g.is_empty()) {
        match all.iter().find(|x| x.id.as_str() == g || x.name == g) {
            Some(x) if !out.contains(x) => out.push(x.clone()),
            Some(_) => {}
            None => bad.push(g.to_owned()),
        }
    }
    if bad.is_empty() {
        Ok(out)
    } else {
        Err(Error::UnknownGroups { given: bad, valid: all.iter().map(|g| g.name.clone()).collect() })
    }
}

/// The account's `containers-kubernetes-key` keys, every page. A caller who may not list
/// other users' keys gets their own, and the scope says so.
///
/// # Errors
/// When not even the caller's own keys can be listed.
pub async fn keys(session: &Session, caller: &Caller) -> Result<(Vec<ApiKey>, KeyScope)> {
    let all = ListQuery { account_id: Some(caller.account.clone()), iam_id: None, scope_account: true, key_type: None };
    let (keys, scope) = match session.iam_identity().list(&all).await {
        Ok(k) => (k, KeyScope::Account),
        Err(Error::Api(e)) if e.status == 403 => {
            let own = ListQuery {
                account_id: Some(caller.account.clone()),
                iam_id: caller.iam_id.clone(),
                scope_account: false,
                key_type: None,
            };
            let k = session.iam_identity().list(&own).await?;
            (
                k,
                KeyScope::CallerOnly(String::from(
                    "listing other users' keys needs the Administrator role on IAM Identity",
                )),
            )
        }
        Err(e) => return Err(e),
    };
    Ok((keys.into_iter().filter(|k| k.name == KEY_NAME).collect(), scope))
}

/// Every cluster the caller can see, in every region.
///
/// # Errors
/// When the cluster lists cannot be read.
pub async fn clusters(session: &Session) -> Result<Vec<Cluster>> {
    match session.containers(None) {
        Ok(c) => c.clusters(None).await,
        // Private and VPC endpoints are regional: ask every region.
        Err(Error::NoRegion) => {
            let mut all = Vec::new();
            for r in KNOWN_REGIONS {
                let region = Region::new(r);
                all.extend(session.containers(Some(&region))?.clusters(None).await?);
            }
            Ok(all)
        }
        Err(e) => Err(e),
    }
}

/// The (region, resource group ID) of every cluster in `scope`, with the first cluster (by
/// name) to ask the key owner of: one owner lookup per target with clusters.
#[must_use]
pub fn cluster_targets<'a>(clusters: &'a [Cluster], scope: &Scope) -> BTreeMap<(String, String), &'a Cluster> {
    let mut out: BTreeMap<(String, String), &Cluster> = BTreeMap::new();
    for c in clusters {
        let in_scope = (scope.regions.is_empty() || scope.regions.iter().any(|r| r.as_str() == c.region))
            && (scope.groups.is_empty() || scope.groups.iter().any(|g| g.id.as_str() == c.resource_group));
        if !in_scope {
            continue;
        }
        let e = out.entry((c.region.clone(), c.resource_group.clone())).or_insert(c);
        if c.name < e.name {
            *e = c;
        }
    }
    out
}

/// The target a key belongs to: the one region (of the known ones, or of a cluster) and the one
/// resource group ID its description names.
///
/// INFERRED (no public copy of IBM's wording): the description contains the region and the
/// resource group ID, as IBM's own cleanup script matches it. A key whose description names no
/// region or group, or more than one, is not attributed.
#[must_use]
pub fn attribute(key: &ApiKey, regions: &[&str], groups: &[ResourceGroup]) -> Option<(Region, ResourceGroupId)> {
    // The rule itself is `is_key_for`; here it must fit exactly one (region, group).
    let mut fits = regions.iter().flat_map(|r| {
        groups.iter().filter_map(move |g| {
            let target = Target { region: Region::new(*r), resource_group: g.clone() };
            is_key_for(key, &target).then(|| (target.region, g.id.clone()))
        })
    });
    let first = fits.next()?;
    fits.all(|other| other == first).then_some(first)
}

/// A target's keys, newest last → (current, superseded). INFERRED: IBM does not say which key
/// is current; the newest `created_at` is, as every reset mints a newer one.
#[must_use]
pub fn split_keys(mut keys: Vec<ApiKey>) -> (Option<ApiKey>, Vec<ApiKey>) {
    keys.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.as_str().cmp(b.id.as_str())));
    let current = keys.pop();
    (current, keys)
}

impl Account {
    /// Every target of the account within `scope`, sorted by region then group name.
    #[must_use]
    pub fn targets(&self, scope: &Scope) -> Vec<Found> {
        let mut region_names: Vec<String> = KNOWN_REGIONS.iter().map(|r| (*r).to_owned()).collect();
        for c in &self.clusters {
            if !c.region.is_empty() && !region_names.contains(&c.region) {
                region_names.push(c.region.clone());
            }
        }
        // Longest first, so that a region whose name contains another's wins.
        region_names.sort_by_key(|r| std::cmp::Reverse(r.len()));
        let refs: Vec<&str> = region_names.iter().map(String::as_str).collect();
        let mut by_target: BTreeMap<(String, String), (Vec<Cluster>, Vec<ApiKey>)> = BTreeMap::new();
        for c in &self.clusters {
            by_target.entry((c.region.clone(), c.resource_group.clone())).or_default().0.push(c.clone());
        }
        for k in &self.keys {
            if let Some((r, g)) = attribute(k, &refs, &self.groups) {
                by_target.entry((r.to_string(), g.to_string())).or_default().1.push(k.clone());
            }
        }
        let mut out: Vec<Found> = by_target
            .into_iter()
            .filter_map(|((region, gid), (mut clusters, keys))| {
                let group = self.groups.iter().find(|g| g.id.as_str() == gid).cloned().unwrap_or(ResourceGroup {
                    id: ResourceGroupId::new(gid.clone()),
                    name: gid.clone(),
                    default: false,
                });
                let in_scope = (scope.regions.is_empty() || scope.regions.iter().any(|r| r.as_str() == region))
                    && (scope.groups.is_empty() || scope.groups.iter().any(|g| g.id == group.id));
                if !in_scope {
                    return None;
                }
                clusters.sort_by(|a, b| a.name.cmp(&b.name));
                let (current, superseded) = split_keys(keys);
                Some(Found {
                    target: Target { region: Region::new(region), resource_group: group },
                    clusters,
                    current,
                    superseded,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            a.target
                .region
                .as_str()
                .cmp(b.target.region.as_str())
                .then_with(|| a.target.resource_group.name.cmp(&b.target.resource_group.name))
        });
        out
    }

    /// Keys that no target could be found for.
    #[must_use]
    pub fn unattributed(&self) -> Vec<&ApiKey> {
        let mut regions: Vec<&str> = KNOWN_REGIONS.to_vec();
        regions.extend(self.clusters.iter().map(|c| c.region.as_str()).filter(|r| !r.is_empty()));
        regions.sort_by_key(|r| std::cmp::Reverse(r.len()));
        regions.dedup();
        self.keys.iter().filter(|k| attribute(k, &regions, &self.groups).is_none()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{AccountId, ApiKeyId, IamId};

    fn key(id: &str, desc: &str, created: &str) -> ApiKey {
        ApiKey {
            id: ApiKeyId::new(id),
            name: KEY_NAME.into(),
            description: Some(desc.into()),
            iam_id: IamId::new("IBMid-1"),
            account_id: Some(AccountId::new("a")),
            created_at: Some(created.into()),
            created_by: None,
            locked: false,
            disabled: false,
            entity_tag: None,
            activity: None,
        }
    }

    fn group(id: &str, name: &str) -> ResourceGroup {
        ResourceGroup { id: ResourceGroupId::new(id), name: name.into(), default: false }
    }

    #[test]
    fn keys_are_attributed_by_region_and_group_id_in_the_description() {
        let groups = [group("g1", "Default"), group("g22", "prod")];
        let regions = ["us-south", "eu-de"];
        let k = key("k", "API key for region us-south and resource group g22.", "2025");
        assert_eq!(attribute(&k, &regions, &groups), Some((Region::new("us-south"), ResourceGroupId::new("g22"))));
        // Two groups named: not attributable with certainty.
        let k = key("k", "us-south g1 g22", "2025");
        assert_eq!(attribute(&k, &regions, &groups), None);
        let k = key("k", "nothing useful", "2025");
        assert_eq!(attribute(&k, &regions, &groups), None);
    }

    #[test]
    fn the_newest_key_is_current() {
        let (cur, old) = split_keys(vec![key("b", "", "2025-02"), key("a", "", "2024-01"), key("c", "", "2023-05")]);
        assert_eq!(cur.unwrap().id.as_str(), "b");
        assert_eq!(old.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(), ["c", "a"]);
    }

    #[test]
    fn region_and_group_filters_are_checked_before_any_request() {
        assert_eq!(regions(&["us-south,EU-DE".into(), "us-south".into()]).unwrap().len(), 2);
        let e = regions(&["us-sooth".into()]).unwrap_err();
        assert!(e.to_string().contains("us-sooth") && e.to_string().contains("us-south"), "{e}");
        let all = [group("g1", "Default"), group("g2", "prod")];
        assert_eq!(groups(&["prod,g1".into()], &all).unwrap().len(), 2);
        let e = groups(&["nope".into()], &all).unwrap_err();
        assert!(e.to_string().contains("nope") && e.to_string().contains("Default, prod"), "{e}");
    }
}
