//! Discovery: every target of the account, once, for every account-wide command (`status`
//! today; fleet `reset`, `prune` and `check` build on the same).
//!
//! The reads: the resource groups (a `-g` filter is checked against them before anything else
//! is read), the clusters of every provider ([`clusters`]) and the account's
//! `containers-kubernetes-key` keys, every page ([`keys`]); `status` runs them side by side. A target is a (region, resource group)
//! that has clusters or a key. Which key belongs to which target, and which of a target's keys
//! is the current one, is decided in [`attribute`] and [`split_keys`] and nowhere else.

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::{Caller, KEY_NAME, Session, Target, is_key_for};
use crate::api::containers::Cluster;
use crate::api::iam_identity::{ApiKey, ListQuery};
use crate::error::{Error, Result};
use crate::types::{ApiKeyId, GroupSelector, IamId, KNOWN_REGIONS, Region, ResourceGroup, ResourceGroupId};

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

/// Everything read about one target, before any judgement: the facts that `status` judges and
/// that a reset plans from, whether one target was read (`reset`) or the whole account
/// (`status`, a batch reset), so that both see a target the same way.
#[derive(Debug, Clone)]
pub struct TargetFacts {
    /// Region and resource group (the group as Resource Manager gives it, `default` included).
    pub target: Target,
    /// Its clusters, by name; unknown when they could not be listed.
    pub clusters: crate::types::Known<Vec<Cluster>>,
    /// Its visible `containers-kubernetes-key` keys, oldest first.
    pub keys: Vec<ApiKey>,
    /// Whose keys could be listed.
    pub key_scope: KeyScope,
    /// The key owner the clusters report (`clusterkeyowner`), or why it is not known.
    pub owner: crate::types::Known<crate::api::containers::KeyOwner>,
    /// Whether the owner lookup answered that a previous reset is still replicating (`A0055`).
    pub replicating: bool,
    /// The reported owner's membership in the account, when the owner is a user and it was read.
    pub membership: crate::types::Known<crate::api::user_management::Membership>,
    /// The owner lookup answered IBM's "no credentials" (`E0051`): the target has no key.
    pub key_gone: bool,
}

impl TargetFacts {
    /// The key the clusters use (as [`key_in_use`] decides), or why none is known.
    #[must_use]
    pub(crate) fn current_key(&self) -> crate::types::Known<ApiKey> {
        let owner = self.owner.known().and_then(|o| o.iam_id.as_ref());
        match (key_in_use(self.keys.clone(), owner, true, SystemTime::now()).current, &self.key_scope) {
            (Some(k), _) => crate::types::Known::Known(k),
            (None, KeyScope::CallerOnly(why)) => crate::types::Known::Unknown(why.clone()),
            (None, KeyScope::Account) => crate::types::Known::Unknown(String::from("no key for this target is listed")),
        }
    }
}

/// The targets to look at: `regions` and `groups` narrow the account (empty: everything).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Regions asked for.
    pub regions: Vec<Region>,
    /// Groups asked for (resolved).
    pub groups: Vec<ResourceGroup>,
}

/// Checks `--region` values (repeated, or comma lists) against the known regions, before any
/// request: the one place a region given on the command line is split and validated.
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

/// Resolves the groups named (names or IDs) against the account's groups.
///
/// # Errors
/// [`Error::UnknownGroups`] naming the valid ones.
pub(crate) fn groups(named: &GroupSelector, all: &[ResourceGroup]) -> Result<Vec<ResourceGroup>> {
    let mut out: Vec<ResourceGroup> = Vec::new();
    let mut bad = Vec::new();
    for g in named.names().iter().map(String::as_str) {
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
pub(crate) async fn keys(session: &Session, caller: &Caller) -> Result<(Vec<ApiKey>, KeyScope)> {
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
pub(crate) async fn clusters(session: &Session) -> Result<Vec<Cluster>> {
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
pub(crate) fn cluster_targets<'a>(clusters: &'a [Cluster], scope: &Scope) -> BTreeMap<(String, String), &'a Cluster> {
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
pub(crate) fn attribute(key: &ApiKey, regions: &[&str], groups: &[ResourceGroup]) -> Option<(Region, ResourceGroupId)> {
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

/// A target's keys, newest last → (newest, the others). The order only; which key the
/// clusters use is [`key_in_use`]'s call.
#[must_use]
pub(crate) fn split_keys(mut keys: Vec<ApiKey>) -> (Option<ApiKey>, Vec<ApiKey>) {
    keys.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.as_str().cmp(b.id.as_str())));
    let current = keys.pop();
    (current, keys)
}

/// A key's creation time, when it has a readable one.
#[must_use]
pub(crate) fn created(key: &ApiKey) -> Option<SystemTime> {
    parse_time(key.created_at.as_deref()?)
}

/// An RFC 3339 time as IBM writes it (fractions of a second and the `Z` tolerated).
#[must_use]
pub(crate) fn parse_time(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(text.trim_end_matches('Z').split('.').next()?).ok()
}

/// Which of a target's keys the clusters use, as far as it can be told.
#[derive(Debug, Clone, Default)]
pub struct InUse {
    /// The key the clusters use; when [`InUse::unsure`] is set, only the best guess (shown,
    /// never acted on).
    pub current: Option<ApiKey>,
    /// Every other key of the target, oldest first.
    pub others: Vec<ApiKey>,
    /// When it cannot be told for certain: the keys that could be the one in use, and why.
    pub unsure: Option<Unsure>,
}

/// Keys that cannot be told apart from the one the clusters use.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unsure {
    /// The keys (the best guess among them).
    pub keys: Vec<ApiKeyId>,
    /// Why they cannot be told apart.
    pub reason: String,
}

/// Decides which of a target's keys the clusters use. This is the one place that decides it;
/// `status`, `reset`'s plan and `prune` all ask here.
///
/// The authority is the owner the clusters report (`clusterkeyowner`): the key in use is that
/// owner's newest key. INFERRED (IBM does not say which key is current): every reset mints a
/// newer key, so "newest" is right when the creation times can be trusted. They cannot be
/// when two candidate keys share a creation time, when a key has none, or when a key is dated
/// after `now` (clock skew, or a key made by hand): then every key that could be the one in
/// use is [`Unsure`], and a destructive command must leave them alone. So must it leave a key
/// newer than the one in use by another owner (a reset whose new owner has not replicated to
/// the clusters yet), and every key of a target with clusters whose owner could not be read
/// (`owner_read` false).
#[must_use]
pub(crate) fn key_in_use(keys: Vec<ApiKey>, owner: Option<&IamId>, owner_read: bool, now: SystemTime) -> InUse {
    let (newest, mut all) = split_keys(keys);
    all.extend(newest);
    if all.is_empty() {
        return InUse::default();
    }
    // The keys the clusters could be using: the reported owner's, when any is visible.
    let of_owner = |k: &ApiKey| owner.is_some_and(|o| &k.iam_id == o);
    let pool: Vec<usize> = if all.iter().any(of_owner) {
        (0..all.len()).filter(|&i| of_owner(&all[i])).collect()
    } else {
        (0..all.len()).collect()
    };
    let future = |k: &ApiKey| created(k).is_some_and(|t| t > now);
    // The newest key not dated in the future; the newest of all when every one is.
    let pick = pool.iter().rev().copied().find(|&i| !future(&all[i])).unwrap_or(pool[pool.len() - 1]);
    let mut unsure: Vec<usize> = Vec::new();
    let mut why: Vec<&str> = Vec::new();
    if pool.iter().any(|&i| future(&all[i])) {
        unsure.extend(pool.iter().copied().filter(|&i| future(&all[i])));
        why.push("a key is dated in the future");
    }
    if pool.iter().any(|&i| created(&all[i]).is_none()) {
        unsure.extend(pool.iter().copied().filter(|&i| created(&all[i]).is_none()));
        why.push("a key has no readable creation time");
    }
    let tied: Vec<usize> = pool
        .iter()
        .copied()
        .filter(|&i| i != pick && created(&all[i]).is_some_and(|t| Some(t) == created(&all[pick])))
        .collect();
    if !tied.is_empty() {
        unsure.extend(tied);
        why.push("keys were created at the same time");
    }
    if owner.is_some() {
        let newer: Vec<usize> = (pick + 1..all.len()).filter(|&i| !pool.contains(&i) && !future(&all[i])).collect();
        if !newer.is_empty() {
            unsure.extend(newer);
            why.push("a key is newer than the one of the owner the clusters report (a reset may still be replicating)");
        }
    } else if !owner_read && all.len() > 1 {
        unsure.extend(0..all.len());
        why.push("the clusters' key owner could not be read");
    }
    let unsure = (!unsure.is_empty()).then(|| {
        unsure.push(pick);
        unsure.sort_unstable();
        unsure.dedup();
        Unsure {
            keys: unsure.iter().map(|&i| all[i].id.clone()).collect(),
            reason: format!("cannot tell which key the clusters use: {}", why.join("; ")),
        }
    });
    let current = all.remove(pick);
    InUse { current: Some(current), others: all, unsure }
}

impl Account {
    /// Every target of the account within `scope`, sorted by region then group name.
    #[must_use]
    pub(crate) fn targets(&self, scope: &Scope) -> Vec<Found> {
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
    pub(crate) fn unattributed(&self) -> Vec<&ApiKey> {
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
    use crate::types::AccountId;

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
            expires_at: None,
            action_when_leaked: None,
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

    fn owned(id: &str, owner: &str, created: &str) -> ApiKey {
        ApiKey { iam_id: IamId::new(owner), ..key(id, "", created) }
    }

    fn ids(u: Option<&Unsure>) -> Vec<&str> {
        let mut v: Vec<&str> = u.map(|u| u.keys.iter().map(ApiKeyId::as_str).collect()).unwrap_or_default();
        v.sort_unstable();
        v
    }

    #[test]
    fn the_key_in_use_is_the_reported_owners_newest_and_doubt_is_said() {
        let now = humantime::parse_rfc3339("2026-12-01T00:00:00Z").unwrap();
        let o = IamId::new("IBMid-O");
        // Plain: the owner's newest; a newer key of someone else is a reset still replicating.
        let u = key_in_use(
            vec![owned("a", "IBMid-O", "2024-01-01T00:00:00Z"), owned("b", "IBMid-O", "2025-01-01T00:00:00Z")],
            Some(&o),
            true,
            now,
        );
        assert_eq!((u.current.unwrap().id.as_str(), u.unsure), ("b", None));
        let u = key_in_use(
            vec![owned("a", "IBMid-O", "2024-01-01T00:00:00Z"), owned("b", "IBMid-N", "2025-01-01T00:00:00Z")],
            Some(&o),
            true,
            now,
        );
        assert_eq!(u.current.as_ref().unwrap().id.as_str(), "a");
        assert_eq!(ids(u.unsure.as_ref()), ["a", "b"]);
        // A tie between the owner's two newest.
        let u = key_in_use(
            vec![owned("a", "IBMid-O", "2025-01-01T00:00:00Z"), owned("b", "IBMid-O", "2025-01-01T00:00:00.000Z")],
            Some(&o),
            true,
            now,
        );
        assert_eq!(ids(u.unsure.as_ref()), ["a", "b"]);
        // A key dated after now is never taken for the current one, and doubts the newest.
        let u = key_in_use(
            vec![owned("a", "IBMid-O", "2025-01-01T00:00:00Z"), owned("z", "IBMid-O", "2031-01-01T00:00:00Z")],
            Some(&o),
            true,
            now,
        );
        assert_eq!(u.current.as_ref().unwrap().id.as_str(), "a");
        assert!(u.unsure.as_ref().unwrap().reason.contains("future"), "{:?}", u.unsure);
        // No owner could be read for clusters that exist: every key is in doubt.
        let u = key_in_use(
            vec![owned("a", "IBMid-O", "2024-01-01T00:00:00Z"), owned("b", "IBMid-O", "2025-01-01T00:00:00Z")],
            None,
            false,
            now,
        );
        assert_eq!(ids(u.unsure.as_ref()), ["a", "b"]);
        // No clusters to ask (an orphan target): the newest, without doubt.
        let u = key_in_use(vec![owned("a", "IBMid-O", "2024-01-01T00:00:00Z")], None, true, now);
        assert!(u.unsure.is_none() && u.others.is_empty());
    }

    #[test]
    fn region_and_group_filters_are_checked_before_any_request() {
        assert_eq!(regions(&["us-south,EU-DE".into(), "us-south".into()]).unwrap().len(), 2);
        let e = regions(&["us-sooth".into()]).unwrap_err();
        assert!(e.to_string().contains("us-sooth") && e.to_string().contains("us-south"), "{e}");
        let all = [group("g1", "Default"), group("g2", "prod")];
        assert_eq!(groups(&GroupSelector::new(&["prod,g1".into()]), &all).unwrap().len(), 2);
        let e = groups(&GroupSelector::new(&["nope".into()]), &all).unwrap_err();
        assert!(e.to_string().contains("nope") && e.to_string().contains("Default, prod"), "{e}");
    }
}
