//! Generated worlds of any size, for benchmarks and large-account tests: the default world's
//! people, access and login keys, over `regions` x `groups` targets with uneven cluster counts,
//! key histories and orphans, deterministic from a seed (a seed keeps its world: every draw from
//! the random generator happens in the same order).

use super::{
    ACCOUNT_ID, AccessGroup, ApiKey, Cluster, ClusterKey, DEPARTED, FUNCTIONAL, Identity, IdentityKind, OWNER,
    ResourceGroup, World,
};
use crate::k8s::{AUTOSCALER, VPC_BLOCK_CSI};

/// Regions of the generated worlds: the Kubernetes Service's multizone regions.
const SCALED_REGIONS: [&str; 13] = [
    "us-south", "us-east", "ca-tor", "ca-mon", "br-sao", "eu-gb", "eu-de", "eu-es", "jp-tok", "jp-osa", "au-syd",
    "in-che", "in-mum",
];

/// Who owns the generated keys (the functional ID twice as often as the others).
const OWNERS: [&str; 4] = [FUNCTIONAL, FUNCTIONAL, DEPARTED, OWNER];
/// The providers of the generated clusters (VPC twice as often).
const PROVIDERS: [&str; 4] = ["vpc-gen2", "classic", "vpc-gen2", "satellite"];

impl World {
    /// A generated world of `regions` x `groups` targets for benchmarks, deterministic from
    /// `seed`: the default world's people, access and login keys, then resource groups, uneven
    /// cluster counts (some targets have none), a current key per target with clusters (owned
    /// by the functional ID, the departed user or the owner), superseded keys and orphans.
    #[must_use]
    pub fn scaled(regions: usize, groups: usize, seed: u64) -> Self {
        let mut w = Self::default_world();
        // A batch over a large account mints a key per target: an account of this size has a
        // raised per-identity quota (IBM raises it on request).
        w.apikeys_per_identity = 10_000;
        w.resource_groups.retain(|g| g.default);
        w.resource_groups.extend((1..groups).map(resource_group));
        w.clusters.clear();
        w.cluster_keys.clear();
        w.classic_credentials.clear();
        w.api_keys.retain(|k| k.name != "containers-kubernetes-key");
        let mut generator = Generator { rng: fastrand::Rng::with_seed(seed), n: 0 };
        for region in SCALED_REGIONS.iter().cycle().take(regions) {
            for g in w.resource_groups.clone() {
                generator.target(&mut w, region, &g);
            }
        }
        w
    }
}

/// How many people own the keys of an uneven world, besides the default world's.
const UNEVEN_OWNERS: usize = 60;

impl World {
    /// A generated world shaped like a large real account rather than a grid: `regions` x
    /// `groups` targets where most groups have one or two clusters and a few have dozens,
    /// keys owned by many people (each owning keys in many targets: a few people reset most
    /// of them, as happens), a few superseded keys, and classic clusters rarer than VPC.
    /// Deterministic from `seed`, as [`World::scaled`].
    #[must_use]
    pub fn uneven(regions: usize, groups: usize, seed: u64) -> Self {
        let mut w = Self::scaled(regions, groups, seed);
        w.clusters.clear();
        w.cluster_keys.clear();
        w.api_keys.retain(|k| k.name != "containers-kubernetes-key");
        // The people: members of the account, in an access group (so each costs its policies
        // and its groups' policies, as a real person does).
        let people: Vec<String> = (0..UNEVEN_OWNERS).map(|i| format!("IBMid-27000U{i:04}")).collect();
        for (i, p) in people.iter().enumerate() {
            w.identities.push(Identity {
                iam_id: p.clone(),
                kind: IdentityKind::User,
                name: format!("Person {i}"),
                email: format!("person.{i}@example.com"),
                account_id: ACCOUNT_ID.into(),
                active: i % 17 != 5,
                state: None,
                member: true,
            });
        }
        w.access_groups.push(AccessGroup {
            id: "AccessGroupId-uneven-owners".into(),
            name: "cluster-key-owners".into(),
            account_id: ACCOUNT_ID.into(),
            members: people.clone(),
        });
        if let Some(admins) = w.access_groups.iter_mut().find(|g| g.id == "AccessGroupId-admins") {
            admins.members.extend(people.iter().step_by(3).cloned());
        }
        let mut generator = Generator { rng: fastrand::Rng::with_seed(seed ^ 0x5eed), n: 0 };
        for region in SCALED_REGIONS.iter().cycle().take(regions) {
            for g in w.resource_groups.clone() {
                generator.uneven_target(&mut w, region, &g, &people);
            }
        }
        w
    }
}

/// The generated resource group number `g` (the default group is number 0).
fn resource_group(g: usize) -> ResourceGroup {
    ResourceGroup {
        id: format!("{:032x}", 0xaa00_0000_u64 + g as u64),
        name: format!("group-{g:02}"),
        account_id: ACCOUNT_ID.into(),
        default: false,
    }
}

/// The random draws and the running number that clusters and keys are named by.
struct Generator {
    rng: fastrand::Rng,
    n: u32,
}

impl Generator {
    /// One target's clusters and keys.
    fn target(&mut self, w: &mut World, region: &str, g: &ResourceGroup) {
        // 0 to 3 clusters; about one target in four has none.
        let clusters = self.rng.usize(0..4);
        for c in 0..clusters {
            let cluster = self.cluster(region, g, c);
            w.clusters.push(cluster);
        }
        let superseded = if clusters > 0 { self.rng.usize(0..3) } else { usize::from(self.rng.usize(0..5) == 0) };
        for i in 0..superseded {
            let owner = OWNERS[(self.n as usize + i) % OWNERS.len()];
            let key = self.key(region, g, owner, 2023);
            w.api_keys.push(key);
        }
        if clusters > 0 {
            let owner = OWNERS[self.rng.usize(0..OWNERS.len())];
            self.current_key(w, region, g, owner);
        }
    }

    /// One target of an uneven world: no cluster in a quarter of them, one or two in most, a
    /// few dozen in one in forty; the current key's owner drawn with a skew (a few people own
    /// most keys), a superseded key in one target in four.
    fn uneven_target(&mut self, w: &mut World, region: &str, g: &ResourceGroup, people: &[String]) {
        let clusters = match self.rng.usize(0..40) {
            0..=9 => 0,
            10..=29 => 1,
            30..=35 => 2,
            36..=38 => self.rng.usize(3..8),
            _ => self.rng.usize(20..40),
        };
        for c in 0..clusters {
            let mut cluster = self.cluster(region, g, c);
            // Classic rarer than in the grid: one in six.
            if cluster.provider == "classic" && self.rng.usize(0..3) != 0 {
                cluster.provider = "vpc-gen2".into();
            }
            w.clusters.push(cluster);
        }
        // Skewed: the square of a uniform draw favours the first people.
        let pick = |rng: &mut fastrand::Rng| {
            let u = rng.f64();
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss,
                reason = "a few dozen people; the result is in 0..people.len()"
            )]
            let i = ((u * u) * people.len() as f64) as usize;
            people[i.min(people.len() - 1)].clone()
        };
        if self.rng.usize(0..4) == 0 {
            let owner = pick(&mut self.rng);
            let key = self.key(region, g, &owner, 2023);
            w.api_keys.push(key);
        }
        if clusters > 0 {
            let owner = pick(&mut self.rng);
            self.current_key(w, region, g, &owner);
        }
    }

    /// The target's current key (the one its clusters use), owned by `owner`.
    fn current_key(&mut self, w: &mut World, region: &str, g: &ResourceGroup, owner: &str) {
        let key = self.key(region, g, owner, 2025);
        w.cluster_keys.push(ClusterKey {
            account_id: ACCOUNT_ID.into(),
            region: region.into(),
            resource_group_id: g.id.clone(),
            api_key_id: key.id.clone(),
        });
        w.api_keys.push(key);
    }

    /// The target's cluster number `c`, with its add-ons.
    fn cluster(&mut self, region: &str, g: &ResourceGroup, c: usize) -> Cluster {
        self.n += 1;
        let n = self.n;
        let provider = PROVIDERS[self.rng.usize(0..PROVIDERS.len())];
        let kind = if self.rng.bool() { "kubernetes" } else { "openshift" };
        // Add-ons without drawing from `rng`, so that a seed keeps its world: the CSI driver on
        // VPC (IBM enables it by default), the autoscaler on every third cluster.
        let mut addons = Vec::new();
        if provider == "vpc-gen2" {
            addons.push(VPC_BLOCK_CSI.into());
        }
        if n.is_multiple_of(3) {
            addons.push(AUTOSCALER.into());
        }
        Cluster {
            id: format!("c{n:019x}"),
            name: format!("{region}-{}-{c}", g.name.to_ascii_lowercase()),
            account_id: ACCOUNT_ID.into(),
            region: region.into(),
            resource_group_id: g.id.clone(),
            provider: provider.into(),
            kind: kind.into(),
            state: "normal".into(),
            location: format!("{region}-1"),
            created: "2025-03-01T10:00:00Z".into(),
            addons,
            trusted_profile_id: None,
            master_status: None,
            health_issues: Vec::new(),
            workers: Vec::new(),
        }
    }

    /// A cluster API key of the target, owned by `owner`, created in `year`.
    fn key(&mut self, region: &str, g: &ResourceGroup, owner: &str, year: u32) -> ApiKey {
        self.n += 1;
        let n = self.n;
        ApiKey::new(
            format!("ApiKey-scaled-{n:08}"),
            "containers-kubernetes-key".into(),
            Some(super::cluster_key_description(region, &g.id)),
            owner.into(),
            ACCOUNT_ID.into(),
            format!("emulator-scaled-value-{n:08}-xxxxxxxxxxxx"),
            format!("{year}-0{}-01T09:00:00Z", 1 + n % 9),
        )
    }
}

/// The IDs of the generated accounts of an enterprise world: the home account first.
fn enterprise_account(i: usize) -> String {
    if i == 0 { ACCOUNT_ID.into() } else { format!("{:032x}", 0xe000_0000_u64 + i as u64) }
}

impl World {
    /// An enterprise of `accounts` accounts for the many-account benchmarks, each a
    /// [`World::scaled`] world of `regions` x `groups` targets (seed `seed + i`): the home
    /// account (the default world's, which the login targets) and `accounts - 1` more, where the
    /// default world's people are members with the same access, under IDs of their own (cluster,
    /// key, resource group and access group IDs carry the account's number). The functional ID
    /// may read the enterprise's account list.
    #[must_use]
    pub fn enterprise_scaled(accounts: usize, regions: usize, groups: usize, seed: u64) -> Self {
        let mut w = Self::scaled(regions, groups, seed);
        let enterprise = super::ENTERPRISE_ID;
        for a in &mut w.accounts {
            if a.id == ACCOUNT_ID {
                a.enterprise_id = Some(enterprise.into());
            }
        }
        w.policies.push(super::Policy {
            id: "policy-func-enterprise".into(),
            account_id: ACCOUNT_ID.into(),
            iam_id: Some(FUNCTIONAL.into()),
            service: Some("enterprise".into()),
            roles: vec!["Viewer".into()],
            ..super::Policy::default()
        });
        for i in 1..accounts.max(1) {
            let other = Self::scaled(regions, groups, seed + i as u64);
            let id = enterprise_account(i);
            // An ID of this account: the account's number in place of the first characters.
            let tag = |s: &str| format!("a{i:04}{}", s.get(5..).unwrap_or_default());
            w.accounts.push(super::Account {
                id: id.clone(),
                name: format!("Scaled Account {i:03}"),
                owner_iam_id: OWNER.into(),
                ims: format!("{}", 3_000_000 + i),
                enterprise_id: Some(enterprise.into()),
            });
            w.identities.extend(other.identities.into_iter().map(|p| Identity { account_id: id.clone(), ..p }));
            let groups_of = other.resource_groups.clone();
            w.resource_groups.extend(other.resource_groups.into_iter().map(|g| ResourceGroup {
                id: tag(&g.id),
                account_id: id.clone(),
                ..g
            }));
            w.access_groups.extend(other.access_groups.into_iter().map(|g| AccessGroup {
                id: format!("{}-a{i:04}", g.id),
                account_id: id.clone(),
                ..g
            }));
            w.policies.extend(other.policies.into_iter().filter(|p| p.id != "policy-func-enterprise").map(|p| {
                super::Policy {
                    id: format!("{}-a{i:04}", p.id),
                    account_id: id.clone(),
                    access_group_id: p.access_group_id.as_ref().map(|g| format!("{g}-a{i:04}")),
                    resource: p
                        .resource
                        .as_ref()
                        .map(|r| if groups_of.iter().any(|g| &g.id == r) { tag(r) } else { r.clone() }),
                    resource_group_id: p.resource_group_id.as_ref().map(|r| tag(r)),
                    service_instance: p.service_instance.as_ref().map(|c| tag(c)),
                    ..p
                }
            }));
            w.clusters.extend(other.clusters.into_iter().map(|c| Cluster {
                id: tag(&c.id),
                account_id: id.clone(),
                resource_group_id: tag(&c.resource_group_id),
                ..c
            }));
            // The cluster keys only: the login keys are the home account's.
            w.api_keys.extend(other.api_keys.into_iter().filter(|k| k.name == "containers-kubernetes-key").map(|k| {
                let description = k
                    .description
                    .as_ref()
                    .map(|d| groups_of.iter().fold(d.clone(), |d, g| d.replace(&g.id, &tag(&g.id))));
                ApiKey {
                    id: format!("{}-a{i:04}", k.id),
                    apikey: format!("{}-a{i:04}", k.apikey),
                    account_id: id.clone(),
                    description,
                    ..k
                }
            }));
            w.cluster_keys.extend(other.cluster_keys.into_iter().map(|k| ClusterKey {
                account_id: id.clone(),
                resource_group_id: tag(&k.resource_group_id),
                api_key_id: format!("{}-a{i:04}", k.api_key_id),
                ..k
            }));
            w.classic_credentials.extend(other.classic_credentials.into_iter().map(|c| super::ClassicCredential {
                account_id: id.clone(),
                resource_group_id: tag(&c.resource_group_id),
                ..c
            }));
        }
        w
    }
}
