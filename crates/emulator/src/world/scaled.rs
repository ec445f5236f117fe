//! Generated worlds of any size, for benchmarks and large-account tests: the default world's
//! people, access and login keys, over `regions` x `groups` targets with uneven cluster counts,
//! key histories and orphans, deterministic from a seed (a seed keeps its world: every draw from
//! the random generator happens in the same order).

use super::{ACCOUNT_ID, ApiKey, Cluster, ClusterKey, DEPARTED, FUNCTIONAL, OWNER, ResourceGroup, World};
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
            let key = self.key(region, g, owner, 2025);
            w.cluster_keys.push(ClusterKey {
                account_id: ACCOUNT_ID.into(),
                region: region.into(),
                resource_group_id: g.id.clone(),
                api_key_id: key.id.clone(),
            });
            w.api_keys.push(key);
        }
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
