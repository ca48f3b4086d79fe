//! What a check sees: the inventory, an index over its ledger, the time of the assessment,
//! and the one rule that turns ledger gaps into ERROR findings: [`Context::run_check`] for the
//! calls a check declares ([`crate::Metadata::reads`]), [`Context::decide`] for the calls
//! about one resource. Both treat a call that failed and a call never made alike: the data is
//! missing, so the verdict is ERROR naming the call.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, OnceLock};

use serde_json::json;
use vigil_model::ledger::{Coverage, LedgerIndex};
use vigil_model::{Inventory, ResourceRef, Timestamp};

use crate::Metadata;
use crate::finding::{Evidence, Finding, SharedStr, SharedTags, Status};
use crate::policy::{Policy, Scope, Value as PolicyValue};
use vigil_model::Region;

/// The resource a finding is about, in the shared strings findings hold: a finding takes its
/// subject's fields by reference count, without copying or looking them up. Make one with
/// [`Context::subject`] (a resource of the inventory) or [`Context::new_subject`] (anything
/// else), so that every finding about one resource shares one copy of its ARN, id and tags.
#[derive(Debug, Clone)]
pub struct Subject {
    pub arn: SharedStr,
    pub resource_type: SharedStr,
    pub id: SharedStr,
    pub region: SharedStr,
    pub tags: SharedTags,
}

/// An API call a check depends on: (service, region, operation, target).
#[derive(Debug, Clone, Copy)]
pub struct Needs<'a> {
    pub service: &'a str,
    pub region: &'a str,
    pub operation: &'a str,
    pub target: Option<&'a str>,
}

impl<'a> Needs<'a> {
    pub fn call(service: &'a str, region: &'a str, operation: &'a str) -> Needs<'a> {
        Needs { service, region, operation, target: None }
    }

    pub fn on(mut self, target: &'a str) -> Needs<'a> {
        self.target = Some(target);
        self
    }
}

/// Why a check could not decide.
#[derive(Debug, Clone)]
pub struct Unread {
    pub message: String,
    pub evidence: serde_json::Value,
}

impl Unread {
    /// Several gaps as one: the messages joined, the evidence of each in a list.
    fn all(mut gaps: Vec<Unread>) -> Unread {
        if gaps.len() == 1
            && let Some(gap) = gaps.pop()
        {
            return gap;
        }
        let message = gaps.iter().map(|gap| gap.message.as_str()).collect::<Vec<_>>().join("; ");
        Unread { message, evidence: json!({ "unread": gaps.into_iter().map(|gap| gap.evidence).collect::<Vec<_>>() }) }
    }
}

pub struct Context<'a> {
    pub inventory: &'a Inventory,
    pub ledger: LedgerIndex<'a>,
    pub now: Timestamp,
    policy: Option<&'a Policy>,
    /// Instance ids with an enrolled, not retired vigil agent (from the store); `None` when
    /// the scan has no store to ask.
    agent_roster: Option<&'a std::collections::BTreeSet<String>>,
    /// What agents report about their hosts (vulnerabilities), for attack paths; empty when
    /// the scan has no store or no agent reported.
    host_facts: Option<&'a vigil_paths::HostFacts>,
    /// Every resource, built on first use: `Inventory::resources` builds a new `Vec` (with an
    /// ARN string per resource) on each call, which a catalog of many checks cannot afford.
    resources: OnceLock<Vec<ResourceRef<'a>>>,
    /// Indexes into `resources` by CloudFormation type, built on first use.
    by_type: OnceLock<HashMap<&'static str, Vec<usize>>>,
    /// The subject of each of `resources` (same positions), built on first use: a resource's
    /// ARN, id and tags are shared once, however many checks find something about it.
    subjects: OnceLock<Vec<Subject>>,
    /// Where `resources` show the inventory's own lists: for each run of consecutive items of
    /// one list, by the address of its first item, the run's first position in `resources`, its
    /// length and its items' size. Built on first use, for [`Context::item_subject`].
    item_runs: OnceLock<BTreeMap<usize, ItemRun>>,
    /// Whether [`Context::item_subject`] looks items up among `resources` (tests turn it off to
    /// compare the catalog's findings both ways).
    find_items: bool,
    /// One shared copy of each string findings repeat (check ids, regions, ARNs...).
    strings: Interner<SharedStr>,
    evidence: Interner<Evidence>,
    account_id: SharedStr,
    /// The tags of the last finding built: consecutive findings about one resource share one copy.
    last_tags: Mutex<SharedTags>,
    /// The organization's SCPs and RCPs for this account, parsed on first use.
    organization: OnceLock<vigil_iam::organization::OrganizationLevels>,
    /// The account's principals and policies for the IAM engine, parsed on first use.
    account: OnceLock<vigil_iam::account::Account>,
}

/// Consecutive items of one inventory list among the context's resources.
#[derive(Debug, Clone, Copy)]
struct ItemRun {
    position: usize,
    length: usize,
    size: usize,
}

/// The runs of consecutive items of one list among `resources`, by their first item's address.
fn item_runs(resources: &[ResourceRef<'_>]) -> BTreeMap<usize, ItemRun> {
    let mut runs = BTreeMap::new();
    let mut current: Option<(usize, ItemRun)> = None;
    for (position, resource) in resources.iter().enumerate() {
        let (data, size) = resource.data.place();
        let address = data.addr();
        if let Some((first, run)) = &mut current
            && run.size == size
            && run.length.checked_mul(size).and_then(|length| first.checked_add(length)) == Some(address)
        {
            run.length += 1;
            continue;
        }
        if let Some((first, run)) = current.take() {
            runs.entry(first).or_insert(run);
        }
        current = Some((address, ItemRun { position, length: 1, size }));
    }
    if let Some((first, run)) = current {
        runs.entry(first).or_insert(run);
    }
    runs
}

/// Shares one copy of each text among the findings of a run (check ids, regions, ARNs,
/// messages, evidence: a million-resource scan repeats most of them). Sharded so that checks
/// running on several threads rarely wait for each other; keyed by a fast hash of the text
/// computed once (two texts with the same hash simply do not share: rare and harmless).
struct Interner<T> {
    shards: [Mutex<HashMap<u64, T, BuildHasherDefault<HashIsKey>>>; 16],
    /// This interner's number in the process: a thread's last values (`LAST_*`) are reused only
    /// by the interner that made them, so that two runs on one thread pool (two contexts, or
    /// tests running side by side) never share a value across runs.
    run: u64,
}

impl<T> Default for Interner<T> {
    fn default() -> Interner<T> {
        static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Interner { shards: std::array::from_fn(|_| Mutex::new(HashMap::default())), run: RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) }
    }
}

/// A thread's last shared text, with the number of the interner that made it.
type Last<T> = std::cell::RefCell<(u64, T)>;

impl<T: Clone> Interner<T> {
    /// The shared value for `text`, made by `make` the first time.
    fn intern(&self, text: &str, view: impl Fn(&T) -> &str, make: impl FnOnce(&str) -> T) -> T {
        let hash = fast_hash(text);
        let Some(shard) = self.shards.get((hash >> 60) as usize) else { return make(text) };
        // A poisoned shard only means another check panicked while holding it; the map is
        // still a valid cache.
        let mut shared = shard.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match shared.get(&hash) {
            Some(value) if view(value) == text => value.clone(),
            Some(_) => make(text),
            None => {
                let value = make(text);
                shared.insert(hash, value.clone());
                value
            }
        }
    }
}

impl Interner<SharedStr> {
    fn string(&self, text: &str) -> SharedStr {
        self.intern(text, SharedStr::as_str, |text| SharedStr::from(text))
    }

    /// Like [`Interner::string`] for a field that often repeats from one finding to the next
    /// on a thread (check id, title, service, region, resource type, a check's message about
    /// resources it does not name): the thread's last value is reused when the text is the
    /// same, without hashing or locking.
    fn recent(&self, slot: &'static std::thread::LocalKey<Last<SharedStr>>, text: &str) -> SharedStr {
        slot.with(|last| {
            let mut last = last.borrow_mut();
            if last.0 != self.run || last.1.as_str() != text {
                *last = (self.run, self.string(text));
            }
            last.1.clone()
        })
    }
}

thread_local! {
    static LAST_CHECK_ID: Last<SharedStr> = Last::default();
    static LAST_CHECK_TITLE: Last<SharedStr> = Last::default();
    static LAST_SERVICE: Last<SharedStr> = Last::default();
    static LAST_REGION: Last<SharedStr> = Last::default();
    static LAST_RESOURCE_TYPE: Last<SharedStr> = Last::default();
    static LAST_MESSAGE: Last<SharedStr> = Last::default();
    static LAST_EVIDENCE: Last<Option<(serde_json::Value, Evidence)>> = const { std::cell::RefCell::new((0, None)) };
}

/// The messages that name their resource, by their hash.
type MessageTable = HashMap<u64, SharedStr, BuildHasherDefault<HashIsKey>>;

thread_local! {
    /// The messages that name their resource said by the check running on this thread, while
    /// [`with_check_messages`] runs it.
    static CHECK_MESSAGES: std::cell::RefCell<Option<MessageTable>> = const { std::cell::RefCell::new(None) };
}

/// Runs one check with its own table of the messages that name their resource (most of a large
/// scan's distinct messages). The check's table is a fraction of the run's size and needs no
/// lock: at 1M resources the catalog takes about a quarter less CPU. The price: a sentence two
/// checks say about the same resource is kept twice, 10-55 MB more peak memory at that size
/// (BENCHMARKS.md, "Fifth attempt").
pub(crate) fn with_check_messages<R>(run: impl FnOnce() -> R) -> R {
    /// Puts the table that was there before back, even when the check panics.
    struct Restore(Option<MessageTable>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            let _ = CHECK_MESSAGES.try_with(|table| *table.borrow_mut() = outer);
        }
    }
    let _restore = Restore(CHECK_MESSAGES.with(|table| table.borrow_mut().replace(MessageTable::default())));
    run()
}

/// The check's shared copy of a message that names its resource, or the message back (the
/// thread runs no check in [`with_check_messages`], or the message does not name its resource).
fn check_message(subject: &Subject, message: String) -> Result<SharedStr, String> {
    if subject.id.is_empty() || !message.contains(subject.id.as_str()) {
        return Err(message);
    }
    CHECK_MESSAGES.with(|table| {
        let mut table = table.borrow_mut();
        let Some(table) = table.as_mut() else { return Err(message) };
        let hash = fast_hash(&message);
        match table.get(&hash) {
            Some(shared) if shared.as_str() == message => Ok(shared.clone()),
            // Two texts with the same hash: rare, and harmless unshared.
            Some(_) => Ok(SharedStr::from(message.as_str())),
            None => {
                // A copy of exactly the text's length: the allocator may keep a shrunk
                // `String` in its larger block.
                let shared = SharedStr::from(message.as_str());
                table.insert(hash, shared.clone());
                Ok(shared)
            }
        }
    })
}

/// Whether two values print the same JSON text: equal, with object keys in the same order
/// (with `serde_json`'s `preserve_order`, which the workspace's dependencies turn on, a map keeps
/// its insertion order and `==` ignores it).
fn same_json(left: &serde_json::Value, right: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (left, right) {
        (Value::Object(left), Value::Object(right)) => {
            left.len() == right.len() && left.iter().zip(right).all(|((left_key, left), (right_key, right))| left_key == right_key && same_json(left, right))
        }
        (Value::Array(left), Value::Array(right)) => left.len() == right.len() && left.iter().zip(right).all(|(left, right)| same_json(left, right)),
        (left, right) => left == right,
    }
}

impl Interner<Evidence> {
    fn evidence(&self, value: &serde_json::Value) -> Evidence {
        // Serializing a `Value` cannot fail (its map keys are strings).
        let Ok(text) = serde_json::to_string(value) else { return Evidence::from(value) };
        self.intern(&text, Evidence::as_json, Evidence::from_json_text)
    }

    /// Like [`Interner::recent`] for evidence: the same value as the thread's last one is
    /// shared without being printed, hashed or looked up.
    fn recent(&self, value: serde_json::Value) -> Evidence {
        LAST_EVIDENCE.with(|last| {
            let mut last = last.borrow_mut();
            match &*last {
                (run, Some((last_value, evidence))) if *run == self.run && same_json(last_value, &value) => evidence.clone(),
                _ => {
                    let evidence = self.evidence(&value);
                    *last = (self.run, Some((value, evidence.clone())));
                    evidence
                }
            }
        })
    }
}

/// A multiply-rotate hash over 8-byte words (the FxHash scheme), several times faster than
/// SipHash on ARNs; the interner needs no protection against chosen collisions.
fn fast_hash(text: &str) -> u64 {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut hash = text.len() as u64;
    let mut chunks = text.as_bytes().chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = (hash.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(SEED);
    }
    for byte in chunks.remainder() {
        hash = (hash.rotate_left(5) ^ u64::from(*byte)).wrapping_mul(SEED);
    }
    // Spread the high bits, which pick the shard.
    hash ^ (hash >> 29)
}

/// A hasher for keys that already are hashes.
#[derive(Default)]
struct HashIsKey(u64);

impl Hasher for HashIsKey {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 << 8) | u64::from(*byte);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

impl<'a> Context<'a> {
    /// A context without a policy: every parameter takes the check's default.
    pub fn new(inventory: &'a Inventory, now: Timestamp) -> Context<'a> {
        Context {
            inventory,
            ledger: inventory.ledger.index(),
            now,
            policy: None,
            agent_roster: None,
            host_facts: None,
            resources: OnceLock::new(),
            by_type: OnceLock::new(),
            subjects: OnceLock::new(),
            item_runs: OnceLock::new(),
            find_items: true,
            strings: Interner::default(),
            evidence: Interner::default(),
            account_id: SharedStr::from(inventory.account_id().as_str()),
            last_tags: Mutex::new(SharedTags::default()),
            organization: OnceLock::new(),
            account: OnceLock::new(),
        }
    }

    /// The account as the IAM engine reads it (`Account::from_inventory`), built once for every
    /// check that asks (four checks each parsed every policy again before).
    pub fn account(&self) -> &vigil_iam::account::Account {
        self.account.get_or_init(|| vigil_iam::account::Account::from_inventory(self.inventory))
    }

    /// The organization's policies (SCPs, RCPs) that govern this account, parsed once
    /// (`vigil_iam::organization::levels`: empty, with the reason in `status`, when unread).
    pub fn organization_levels(&self) -> &vigil_iam::organization::OrganizationLevels {
        self.organization.get_or_init(|| vigil_iam::organization::levels(self.inventory))
    }

    /// A context whose parameters come from a cloud-aware policy (see [`crate::policy`]).
    pub fn with_policy(inventory: &'a Inventory, now: Timestamp, policy: &'a Policy) -> Context<'a> {
        Context { policy: Some(policy), ..Context::new(inventory, now) }
    }

    /// Every resource of the inventory (built once per context; prefer this, or
    /// [`Context::resources_of_type`], to `inventory.resources()`).
    pub fn resources(&self) -> &[ResourceRef<'a>] {
        self.resources.get_or_init(|| self.inventory.resources())
    }

    /// The resources of one CloudFormation type (`AWS::S3::Bucket`), from a per-type index.
    pub fn resources_of_type(&self, resource_type: &str) -> impl Iterator<Item = &ResourceRef<'a>> + '_ {
        let resources = self.resources();
        let index = self.by_type.get_or_init(|| {
            let mut index: HashMap<&'static str, Vec<usize>> = HashMap::new();
            for (position, resource) in resources.iter().enumerate() {
                index.entry(resource.resource_type).or_default().push(position);
            }
            index
        });
        index.get(resource_type).into_iter().flatten().filter_map(move |position| resources.get(*position))
    }

    /// The same context, knowing which instances have a vigil agent.
    pub fn with_agent_roster(mut self, roster: &'a std::collections::BTreeSet<String>) -> Context<'a> {
        self.agent_roster = Some(roster);
        self
    }

    /// Instance ids with a live vigil agent, when the scan knows them.
    pub fn agent_roster(&self) -> Option<&'a std::collections::BTreeSet<String>> {
        self.agent_roster
    }

    /// The same context, with what agents report about their hosts.
    pub fn with_host_facts(mut self, facts: &'a vigil_paths::HostFacts) -> Context<'a> {
        self.host_facts = Some(facts);
        self
    }

    /// What agents report about their hosts, when the scan knows it.
    pub fn host_facts(&self) -> Option<&'a vigil_paths::HostFacts> {
        self.host_facts
    }

    /// The network of this inventory with the host firewalls agents report joined to it
    /// ([`vigil_paths::HostFacts::network`]; without host facts, the cloud network alone).
    pub fn network(&self) -> vigil_net::Network<'a> {
        match self.host_facts {
            Some(facts) => facts.network(self.inventory),
            None => vigil_net::Network::new(self.inventory),
        }
    }

    /// The policy this context was built with, if any.
    pub fn policy(&self) -> Option<&'a Policy> {
        self.policy
    }

    pub fn account_id(&self) -> &str {
        self.inventory.account_id().as_str()
    }

    /// The subject of a resource: the context's own copy when the resource is one of
    /// [`Context::resources`] (as from [`Context::resources_of_type`]), borrowed, so that
    /// assessing a resource copies none of its shared strings until a finding takes them; a new
    /// one otherwise.
    pub fn subject(&self, resource: &ResourceRef<'a>) -> Cow<'_, Subject> {
        let resources = self.resources();
        let subjects = self.subjects();
        // A reference into `resources` names its position; any other reference (a resource
        // listed again elsewhere) is simply not found there.
        let size = std::mem::size_of::<ResourceRef<'a>>().max(1);
        let offset = (resource as *const ResourceRef<'a> as usize).wrapping_sub(resources.as_ptr() as usize);
        let position = offset / size;
        match (resources.get(position), subjects.get(position)) {
            (Some(listed), Some(subject)) if offset.is_multiple_of(size) && std::ptr::eq(listed, resource) => Cow::Borrowed(subject),
            _ => Cow::Owned(self.subject_of_resource(resource)),
        }
    }

    /// The subject of each of [`Context::resources`], same positions.
    fn subjects(&self) -> &[Subject] {
        self.subjects.get_or_init(|| self.resources().iter().map(|resource| self.subject_of_resource(resource)).collect())
    }

    /// The subject of an item of the inventory (a queue, a load balancer...) that a check
    /// walks in the inventory's own lists: the context's copy, borrowed, when the item is one of
    /// [`Context::resources`] (found by its address, without building its ARN or looking up
    /// any string); `make`'s subject otherwise, which must name the item as
    /// `Inventory::resources` does (the catalog's findings are tested to be the same both
    /// ways).
    pub fn item_subject<T>(&self, item: &T, make: impl FnOnce() -> Subject) -> Cow<'_, Subject> {
        match self.listed_item(item) {
            Some(subject) => Cow::Borrowed(subject),
            None => Cow::Owned(make()),
        }
    }

    fn listed_item<T>(&self, item: &T) -> Option<&Subject> {
        let size = std::mem::size_of::<T>();
        if !self.find_items || size == 0 {
            return None;
        }
        let runs = self.item_runs.get_or_init(|| item_runs(self.resources()));
        let address = std::ptr::from_ref(item).addr();
        let (first_address, run) = runs.range(..=address).next_back()?;
        let offset = address.checked_sub(*first_address)?;
        if run.size != size || !offset.is_multiple_of(size) || offset / size >= run.length {
            return None;
        }
        let position = run.position.checked_add(offset / size)?;
        let listed = self.resources().get(position)?;
        if listed.data.place() != (std::ptr::from_ref(item).cast::<()>(), size) {
            return None;
        }
        self.subjects().get(position)
    }

    /// The same context with [`Context::item_subject`] building every subject with its
    /// `make`, for tests that compare both ways.
    #[cfg(test)]
    pub(crate) fn without_item_lookup(mut self) -> Self {
        self.find_items = false;
        self
    }

    fn subject_of_resource(&self, resource: &ResourceRef<'_>) -> Subject {
        self.new_subject(&resource.arn, resource.resource_type, resource.id, resource.region, resource.tags)
    }

    /// A subject from its parts, sharing the strings other findings of this context hold.
    pub fn new_subject(&self, arn: &str, resource_type: &str, id: &str, region: &str, tags: Option<&vigil_model::Tags>) -> Subject {
        Subject {
            arn: self.strings.string(arn),
            resource_type: self.strings.recent(&LAST_RESOURCE_TYPE, resource_type),
            id: self.strings.string(id),
            region: self.strings.recent(&LAST_REGION, region),
            tags: tags.map(|tags| self.shared_tags(tags)).unwrap_or_default(),
        }
    }

    /// The account itself, for account-level checks.
    pub fn account_subject(&self) -> Subject {
        self.region_subject(vigil_model::Region::GLOBAL)
    }

    /// The account in one region, for per-region account settings.
    pub fn region_subject(&self, region: &str) -> Subject {
        let arn = format!("arn:{}:iam::{}:root", self.inventory.partition(), self.account_id());
        self.new_subject(&arn, "AWS::::Account", self.account_id(), region, None)
    }

    /// Checks that every call was read; otherwise says which was not, and why.
    pub fn require(&self, needs: &[Needs<'_>]) -> Result<(), Unread> {
        for need in needs {
            match self.ledger.coverage(need.service, need.region, need.operation, need.target) {
                Coverage::Read => {}
                Coverage::Failed(call) => {
                    // One readable line (the call, the kind of failure, the service's words);
                    // the raw SDK error stays in the evidence, inside the ledger entry.
                    let reason = call.failure_line().unwrap_or_else(|| format!("{}:{} in {}", call.service, call.operation, call.region));
                    return Err(Unread { message: format!("could not read {reason}"), evidence: json!({ "call": call }) });
                }
                Coverage::NotCollected => {
                    return Err(Unread {
                        message: format!(
                            "{}:{} was not collected in {}{}",
                            need.service,
                            need.operation,
                            need.region,
                            need.target.map(|target| format!(" for `{target}`")).unwrap_or_default()
                        ),
                        evidence: json!({ "missing_call": { "service": need.service, "region": need.region, "operation": need.operation, "target": need.target } }),
                    });
                }
            }
        }
        Ok(())
    }

    fn parameter(&self, subject: &Subject, name: &str) -> Option<&'a PolicyValue> {
        let policy = self.policy?;
        policy.parameter(self.inventory, &Scope::of(self.account_id(), subject), name)
    }

    /// A numeric parameter of the cloud-aware policy for this resource (for example
    /// `max_access_key_age_days`), or `default` when the policy does not set one. The most
    /// specific policy rule matching the resource wins (see [`crate::policy`]).
    pub fn number(&self, subject: &Subject, name: &str, default: i64) -> i64 {
        match self.parameter(subject, name) {
            Some(PolicyValue::Number(number)) => *number,
            _ => default,
        }
    }

    /// A list parameter of the cloud-aware policy for this resource (for example
    /// `admin_allowed_cidrs`), or `default` when the policy does not set one.
    pub fn strings(&self, subject: &Subject, name: &str, default: &[&str]) -> Vec<String> {
        match self.parameter(subject, name) {
            Some(PolicyValue::Strings(strings)) => strings.clone(),
            Some(PolicyValue::String(string)) => vec![string.clone()],
            _ => default.iter().map(|value| value.to_string()).collect(),
        }
    }

    /// Runs one check under the rule for its declared inputs ([`Metadata::reads`]): every
    /// declared call that was not read (it failed, or was never made because the scan did not
    /// collect its service) yields one ERROR naming it, for the account (a global call) or for
    /// the region (a regional call). The check's own PASS and FAIL verdicts are kept only where
    /// its inputs were read: none at all when a global input is missing, none in a region whose
    /// input is missing, and no account-wide verdict (region `global`) while any region's input
    /// is missing. ERRORs the check reports itself are kept.
    pub fn run_check(&self, metadata: &Metadata, findings: &mut Vec<Finding>, check: impl FnOnce(&mut Vec<Finding>)) {
        self.run_with_reads(metadata, metadata.reads, findings, check);
    }

    /// [`Context::run_check`] with the inputs given here rather than declared: for a check whose
    /// inputs depend on the policy it runs under (the region-sovereignty check reads every
    /// listing, but only when the policy restricts regions).
    pub fn run_with_reads(&self, metadata: &Metadata, reads: &[crate::Read], findings: &mut Vec<Finding>, check: impl FnOnce(&mut Vec<Finding>)) {
        let gap = |region: &str, read: &crate::Read| self.require(&[Needs::call(read.service, region, read.operation)]).err();
        let account_gaps: Vec<Unread> = reads.iter().filter(|read| !read.per_region).filter_map(|read| gap(Region::GLOBAL, read)).collect();
        let mut region_gaps: Vec<(&str, Vec<Unread>)> = Vec::new();
        for region in &self.inventory.regions {
            let gaps: Vec<Unread> = reads.iter().filter(|read| read.per_region).filter_map(|read| gap(region.as_str(), read)).collect();
            if !gaps.is_empty() {
                region_gaps.push((region.as_str(), gaps));
            }
        }
        if account_gaps.is_empty() && region_gaps.is_empty() {
            check(findings);
            return;
        }
        let account_unread = !account_gaps.is_empty();
        if account_unread {
            findings.push(self.unread(metadata, &self.account_subject(), Unread::all(account_gaps)));
        }
        let unread_regions: Vec<&str> = region_gaps.iter().map(|(region, _)| *region).collect();
        for (region, gaps) in region_gaps {
            findings.push(self.unread(metadata, &self.region_subject(region), Unread::all(gaps)));
        }
        if account_unread {
            return;
        }
        let mut own = Vec::new();
        check(&mut own);
        let decided_without_inputs = |finding: &Finding| finding.region == Region::GLOBAL || unread_regions.contains(&finding.region.as_str());
        findings.extend(own.into_iter().filter(|finding| finding.status == Status::Error || !decided_without_inputs(finding)));
    }

    /// Builds a finding.
    pub fn finding(&self, metadata: &Metadata, subject: &Subject, status: Status, message: String, evidence: serde_json::Value) -> Finding {
        Finding {
            check_id: self.strings.recent(&LAST_CHECK_ID, metadata.id),
            check_title: self.strings.recent(&LAST_CHECK_TITLE, metadata.title),
            service: self.strings.recent(&LAST_SERVICE, metadata.service),
            severity: metadata.severity,
            status,
            account_id: self.account_id.clone(),
            region: subject.region.clone(),
            resource_arn: subject.arn.clone(),
            resource_type: subject.resource_type.clone(),
            resource_id: subject.id.clone(),
            resource_tags: subject.tags.clone(),
            message: self.message(subject, status, message),
            evidence: self.evidence.recent(evidence),
            mute_reason: None,
        }
    }

    /// A finding's message, shared: the thread's last message when it is the same text (a
    /// check's message about resources it does not name repeats from one finding to the next);
    /// a verdict's message that names its resource, within the check that says it (see
    /// [`with_check_messages`]); any other, per run. An ERROR's message goes to the run's
    /// table: it names a call that was not read, which every check reading it repeats.
    fn message(&self, subject: &Subject, status: Status, message: String) -> SharedStr {
        LAST_MESSAGE.with(|last| {
            let mut last = last.borrow_mut();
            if last.0 != self.strings.run || last.1.as_str() != message {
                let check_message = if status == Status::Error { Err(message) } else { check_message(subject, message) };
                let shared = match check_message {
                    Ok(shared) => shared,
                    Err(message) => self.strings.string(&message),
                };
                *last = (self.strings.run, shared);
            }
            last.1.clone()
        })
    }

    /// The tags as shared by findings: consecutive findings about resources with the same tags
    /// (typically the same resource) share one copy.
    fn shared_tags(&self, tags: &BTreeMap<String, String>) -> SharedTags {
        if tags.is_empty() {
            return SharedTags::default();
        }
        let mut last = self.last_tags.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if **last != *tags {
            *last = SharedTags::from(tags.clone());
        }
        last.clone()
    }

    /// PASS or FAIL depending on `passed`.
    pub fn verdict(&self, metadata: &Metadata, subject: &Subject, passed: bool, message: String, evidence: serde_json::Value) -> Finding {
        let status = if passed { Status::Pass } else { Status::Fail };
        self.finding(metadata, subject, status, message, evidence)
    }

    /// The ERROR finding for data that was not read.
    pub fn unread(&self, metadata: &Metadata, subject: &Subject, unread: Unread) -> Finding {
        self.finding(metadata, subject, Status::Error, unread.message, unread.evidence)
    }

    /// Like [`Context::decide`], for verdicts that can still fail on data that was read (a
    /// policy the engine cannot parse, a value outside a documented table): ERROR with the
    /// reason `judge` gives.
    pub fn decide_or_error(
        &self,
        metadata: &Metadata,
        subject: &Subject,
        needs: &[Needs<'_>],
        judge: impl FnOnce() -> Result<(bool, String, serde_json::Value), Unread>,
    ) -> Finding {
        match self.require(needs).and_then(|()| judge()) {
            Ok((passed, message, evidence)) => self.verdict(metadata, subject, passed, message, evidence),
            Err(unread) => self.unread(metadata, subject, unread),
        }
    }

    /// Either the verdict, or ERROR when a needed call was not read.
    pub fn decide(&self, metadata: &Metadata, subject: &Subject, needs: &[Needs<'_>], decide: impl FnOnce() -> (bool, String, serde_json::Value)) -> Finding {
        match self.require(needs) {
            Ok(()) => {
                let (passed, message, evidence) = decide();
                self.verdict(metadata, subject, passed, message, evidence)
            }
            Err(unread) => self.unread(metadata, subject, unread),
        }
    }
}
