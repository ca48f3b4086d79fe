//! The exposure engine: for every endpoint (an interface's public address, a load balancer,
//! a target behind one, a public database) the exact set of packets the internet can deliver,
//! and for one packet the hop-by-hop path that delivers or drops it.

use std::collections::HashMap;
use std::rc::Rc;

use serde::Serialize;
use vigil_model::Inventory;
use vigil_model::ec2::{IpPermission, NetworkAclEntry};

use crate::access::{Access, Region, Slot, ValueSet};
use crate::addr::{AddressSet, Cidr, Family, format_address, parse_address, to_cidrs_ignoring};
use crate::host_firewall::HostRuleset;
use crate::rules::{
    Packet, ephemeral_ports, internet_return_destinations, longest_match, nacl_allows, nacl_first_match, nacl_region, permission_access, permission_admits,
    permissions_region, reply_destinations, route_reaches_internet_gateway, route_target,
};
use crate::topology::{BalancerKind, BalancerView, InterfaceView, RegionNetwork};

/// One way in: which resource, on which address, by which route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// A network interface (of an instance or standalone), for one address family.
    Interface {
        interface: usize,
        family: Family,
    },
    Database {
        database: usize,
    },
    /// The load balancer's own listeners.
    Balancer {
        balancer: usize,
        family: Family,
    },
    /// A target reached through a listener of a load balancer.
    Behind {
        balancer: usize,
        listener: usize,
        forward: usize,
        family: Family,
    },
}

/// A hop on a path: `kind` is `address`, `internet-gateway`, `route-table`, `nacl-inbound`,
/// `nacl-outbound`, `security-group`, `load-balancer`, `listener`, `target-group`, `database`,
/// `interface` or `instance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    pub kind: &'static str,
    pub id: String,
    pub detail: String,
    /// False on the hop that drops the traffic (always the last one).
    pub allowed: bool,
}

/// A security group rule that admits internet traffic to an exposure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmittingRule {
    pub group_id: String,
    /// The group's owner account, as DescribeSecurityGroups returns it.
    pub owner_id: Option<String>,
    /// The position of the permission in the group's (canonically ordered) inbound list.
    pub permission_index: usize,
    /// Like a hop's detail: `tcp 22-22 from 0.0.0.0/0`.
    pub description: String,
    /// The permission with only this rule's one source range.
    pub permission: IpPermission,
}

/// A permission split into one permission per source (CIDR, IPv6 CIDR, prefix list), as AWS
/// numbers security group rules; group references are left out (they never admit the internet).
fn split_permission(permission: &IpPermission) -> Vec<IpPermission> {
    let empty =
        IpPermission { ip_ranges: Vec::new(), ipv6_ranges: Vec::new(), prefix_list_ids: Vec::new(), user_id_group_pairs: Vec::new(), ..permission.clone() };
    let mut singles = Vec::new();
    for range in &permission.ip_ranges {
        singles.push(IpPermission { ip_ranges: vec![range.clone()], ..empty.clone() });
    }
    for range in &permission.ipv6_ranges {
        singles.push(IpPermission { ipv6_ranges: vec![range.clone()], ..empty.clone() });
    }
    for list in &permission.prefix_list_ids {
        singles.push(IpPermission { prefix_list_ids: vec![list.clone()], ..empty.clone() });
    }
    singles
}

/// Everything the internet can deliver to one endpoint address.
#[derive(Debug, Clone)]
pub struct Exposure {
    pub region: String,
    pub resource_id: String,
    /// `instance`, `network-interface`, `application-load-balancer`, `network-load-balancer`,
    /// `classic-load-balancer` or `db-instance`.
    pub resource_type: &'static str,
    pub interface_id: Option<String>,
    /// The public IP, or the DNS name of a balancer or database.
    pub address: String,
    pub family: Family,
    /// `None` for direct exposure; the load balancer's ARN (or Classic name) otherwise.
    pub via: Option<String>,
    /// The exact set of (protocol, port, source) delivered.
    pub reach: Region,
    /// The VPC's own addresses: never an internet source, so rows may cover them.
    vpc_addresses: AddressSet,
    spec: (usize, Spec),
}

/// One row of an exposure: a protocol, its ports and the sources allowed to use them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// `tcp`, `udp`, `icmp`, `icmpv6`, `all`, or `other` (then `ports` are protocol numbers).
    pub protocol: &'static str,
    /// Inclusive ranges; for ICMP, ranges of ICMP types.
    pub ports: Vec<[u16; 2]>,
    pub sources: Vec<String>,
    #[serde(skip)]
    representative: (Slot, u16, u128),
}

impl Entry {
    /// A packet of this entry: (slot, value, source address).
    pub fn representative(&self) -> (Slot, u16, u128) {
        self.representative
    }
}

/// Memo key of a set of security groups: (region index, sorted group ids, family, trusted groups).
type GroupsKey = (usize, Vec<String>, Family, Vec<String>);

impl Exposure {
    /// The exposure as rows, read like security group rules: one row per protocol and set of
    /// ports that share the same sources (`all` for sources that may use every protocol).
    pub fn entries(&self) -> Vec<Entry> {
        region_entries(&self.reach, self.family, &self.vpc_addresses)
    }
}

/// The rows of a set of packets, as [`Exposure::entries`] prints them; sources in
/// `dont_care` may be covered or not, whichever gives fewer blocks.
pub fn region_entries(reach: &Region, family: Family, dont_care: &AddressSet) -> Vec<Entry> {
    let rows = RegionRows { family, dont_care };
    rows.entries(reach)
}

struct RegionRows<'a> {
    family: Family,
    dont_care: &'a AddressSet,
}

impl RegionRows<'_> {
    fn entries(&self, reach: &Region) -> Vec<Entry> {
        let pieces: Vec<((u128, u128), &Access)> = reach.pieces().collect();
        let mut entries = Vec::new();
        let everything: Vec<(u128, u128)> = pieces.iter().filter(|(_, access)| access.is_all()).map(|(range, _)| *range).collect();
        if let Some(first) = everything.first() {
            entries.push(self.entry("all", vec![[0, 65535]], &everything, (Slot::Tcp, 0, first.0)));
        }
        for slot in Slot::ALL {
            let partial: Vec<((u128, u128), &ValueSet)> = pieces
                .iter()
                .filter(|(_, access)| !access.is_all())
                .map(|(range, access)| (*range, access.get(slot)))
                .filter(|(_, values)| !values.is_empty())
                .collect();
            for (sources, values) in group_by_sources(&partial) {
                let (Some(first_value), Some(first_source)) = (values.first(), sources.first()) else { continue };
                let ports = if slot == Slot::Icmp {
                    let types = ValueSet::from_ranges(values.ranges().iter().map(|&(from, to)| (from >> 8, to >> 8)));
                    types.ranges().iter().map(|&(from, to)| [from, to]).collect()
                } else {
                    values.ranges().iter().map(|&(from, to)| [from, to]).collect()
                };
                entries.push(self.entry(slot.name(self.family), ports, &sources, (slot, first_value, first_source.0)));
            }
        }
        entries.sort_by(|a, b| (a.protocol, &a.ports).cmp(&(b.protocol, &b.ports)));
        entries
    }

    fn entry(&self, protocol: &'static str, ports: Vec<[u16; 2]>, sources: &[(u128, u128)], representative: (Slot, u16, u128)) -> Entry {
        let sources = to_cidrs_ignoring(self.family, &AddressSet::from_ranges(sources.iter().copied()), self.dont_care);
        Entry { protocol, ports, sources, representative }
    }
}

/// Splits the values of one protocol into groups that share the same source ranges:
/// (source ranges, values) pairs, in order of first value.
fn group_by_sources(partial: &[((u128, u128), &ValueSet)]) -> Vec<(Vec<(u128, u128)>, ValueSet)> {
    // Elementary intervals of values on which the set of admitting source ranges is constant.
    let mut cuts: Vec<u32> =
        partial.iter().flat_map(|(_, values)| values.ranges().iter().flat_map(|&(from, to)| [u32::from(from), u32::from(to) + 1])).collect();
    cuts.sort_unstable();
    cuts.dedup();
    // (source ranges, value ranges admitted from exactly those sources)
    type Group = (Vec<(u128, u128)>, Vec<(u16, u16)>);
    let mut groups: Vec<Group> = Vec::new();
    for window in cuts.windows(2) {
        let &[from, next] = window else { continue };
        let (Ok(from), Ok(to)) = (u16::try_from(from), u16::try_from(next - 1)) else { continue };
        let sources: Vec<(u128, u128)> = partial.iter().filter(|(_, values)| values.contains(from)).map(|(range, _)| *range).collect();
        if sources.is_empty() {
            continue;
        }
        match groups.iter_mut().find(|group| group.0 == sources) {
            Some(group) => group.1.push((from, to)),
            None => groups.push((sources, vec![(from, to)])),
        }
    }
    groups.into_iter().map(|(sources, values)| (sources, ValueSet::from_ranges(values))).collect()
}

/// A question for `explain`.
#[derive(Debug, Clone)]
pub struct Question {
    /// An instance id, network interface id, load balancer ARN or name, or DB identifier.
    pub resource: String,
    pub slot: Slot,
    /// The port (TCP/UDP), ICMP type, or protocol number (other protocols).
    pub port: u16,
    /// The sources asked about (default: every address).
    pub source: Option<Cidr>,
}

/// The answer for one endpoint of the resource.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointAnswer {
    pub region: String,
    pub resource_id: String,
    pub resource_type: &'static str,
    pub interface_id: Option<String>,
    pub address: Option<String>,
    pub via: String,
    pub reachable: bool,
    /// The sources (within the question's) that can reach it this way.
    pub sources: Vec<String>,
    /// The packet the path follows.
    pub packet: String,
    pub path: Vec<Hop>,
    /// The hop that drops the packet, when unreachable.
    pub blocked_by: Option<Hop>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub resource: String,
    pub protocol: &'static str,
    pub port: u16,
    pub reachable: bool,
    pub endpoints: Vec<EndpointAnswer>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExplainError {
    #[error("no instance, network interface, load balancer or database `{0}` in the inventory")]
    UnknownResource(String),
}

/// Memoised intermediate sets, keyed by region index and AWS id.
#[derive(Default)]
struct Cache {
    nacls: HashMap<(usize, String, bool, Family), Rc<Region>>,
    subnets: HashMap<(usize, String, Family), Rc<Region>>,
    groups: HashMap<GroupsKey, Rc<Region>>,
}

/// The whole account's network, indexed, ready to answer.
pub struct Network<'a> {
    pub regions: Vec<RegionNetwork<'a>>,
    specs: Vec<(usize, Spec)>,
    /// Spec indexes by every name a question may use.
    by_name: HashMap<String, Vec<usize>>,
    /// Host firewalls by instance id, with the packets each accepts per family.
    host_firewalls: HashMap<String, HostFirewall>,
}

/// A host firewall joined to the exposure of its instance.
struct HostFirewall {
    ruleset: HostRuleset,
    accepted_v4: Region,
    accepted_v6: Region,
}

impl HostFirewall {
    fn accepted(&self, family: Family) -> &Region {
        match family {
            Family::V4 => &self.accepted_v4,
            Family::V6 => &self.accepted_v6,
        }
    }
}

impl<'a> Network<'a> {
    pub fn new(inventory: &'a Inventory) -> Network<'a> {
        let regions: Vec<RegionNetwork<'a>> = inventory.regional.iter().map(|(region, regional)| RegionNetwork::new(region.as_str(), regional)).collect();
        let mut specs = Vec::new();
        for (index, network) in regions.iter().enumerate() {
            for (interface, view) in network.interfaces.iter().enumerate() {
                if view.standalone {
                    specs.push((index, Spec::Interface { interface, family: Family::V4 }));
                    if !view.ipv6.is_empty() {
                        specs.push((index, Spec::Interface { interface, family: Family::V6 }));
                    }
                }
            }
            for (balancer, view) in network.balancers.iter().enumerate() {
                for &family in &view.families {
                    specs.push((index, Spec::Balancer { balancer, family }));
                    for (listener, listener_view) in view.listeners.iter().enumerate() {
                        for forward in 0..listener_view.forwards.len() {
                            specs.push((index, Spec::Behind { balancer, listener, forward, family }));
                        }
                    }
                }
            }
            for database in 0..network.databases.len() {
                specs.push((index, Spec::Database { database }));
            }
        }
        let mut network = Network { regions, specs, by_name: HashMap::new(), host_firewalls: HashMap::new() };
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (position, spec) in network.specs.iter().enumerate() {
            for name in network.names(*spec) {
                by_name.entry(name.to_string()).or_default().push(position);
            }
        }
        network.by_name = by_name;
        network
    }

    /// Joins host firewalls (by instance id) to the exposure: a packet reaches an instance only
    /// when the cloud network delivers it and the instance's own firewall accepts it.
    pub fn with_host_firewalls(mut self, rulesets: impl IntoIterator<Item = (String, HostRuleset)>) -> Network<'a> {
        for (instance_id, ruleset) in rulesets {
            let accepted_v4 = ruleset.accepted(Family::V4);
            let accepted_v6 = ruleset.accepted(Family::V6);
            self.host_firewalls.insert(instance_id, HostFirewall { ruleset, accepted_v4, accepted_v6 });
        }
        self
    }

    fn host_firewall(&self, view: &InterfaceView) -> Option<&HostFirewall> {
        view.instance_id.as_ref().and_then(|instance_id| self.host_firewalls.get(instance_id))
    }

    /// The host-firewall hop of a packet delivered to an instance (none without a firewall model).
    fn trace_host_firewall(&self, view: &InterfaceView, family: Family, packet: Packet, hops: &mut Vec<Hop>) -> bool {
        let Some(firewall) = self.host_firewall(view) else { return true };
        let (accepted, rule) = firewall.ruleset.decide(family, packet.slot, packet.value, packet.address);
        let what = format!("{} {} from {}", packet.slot.name(family), describe_value(packet.slot, packet.value), format_address(family, packet.address));
        let instance = view.instance_id.clone().unwrap_or_default();
        if accepted {
            hops.push(pass("host-firewall", &instance, format!("{} accepts {what} ({rule})", firewall.ruleset.backend)));
        } else {
            hops.push(block("host-firewall", &instance, format!("{} drops {what} ({rule})", firewall.ruleset.backend)));
        }
        accepted
    }

    /// Every internet-exposed endpoint with its exact reach, sorted by resource.
    pub fn exposures(&self) -> Vec<Exposure> {
        // Two halves on two threads, each with its own memo (shared sets are cheap to redo).
        let threads = std::thread::available_parallelism().map(usize::from).unwrap_or(1).clamp(1, 8);
        let chunk = self.specs.len().div_ceil(threads).max(1);
        let mut exposures: Vec<Exposure> = std::thread::scope(|scope| {
            let workers: Vec<_> = self.specs.chunks(chunk).map(|specs| scope.spawn(move || self.exposures_of(specs))).collect();
            workers.into_iter().flat_map(|worker| worker.join().unwrap_or_default()).collect()
        });
        exposures.sort_by(|a, b| (&a.region, &a.resource_id, &a.via, &a.address).cmp(&(&b.region, &b.resource_id, &b.via, &b.address)));
        exposures
    }

    fn exposures_of(&self, specs: &[(usize, Spec)]) -> Vec<Exposure> {
        let mut cache = Cache::default();
        let mut exposures = Vec::new();
        for &spec in specs {
            let reach = self.reach(&mut cache, spec);
            if !reach.is_empty() {
                exposures.extend(self.describe(spec, reach));
            }
        }
        exposures
    }

    /// The security group rules on the internet-facing side of an exposure (the interface's
    /// groups, the load balancer's or the database's) that let some of its traffic in: one per (group,
    /// permission, source range), each with a permission holding only that range. Each rule
    /// alone delivers part of the exposure (the exposure is the network's delivery intersected
    /// with the union of these rules), so the exposure ends exactly when all are removed. A
    /// balancer without security groups (a Network Load Balancer) has none.
    pub fn admitting_rules(&self, exposure: &Exposure) -> Vec<AdmittingRule> {
        let (index, spec) = exposure.spec;
        let Some(network) = self.regions.get(index) else { return Vec::new() };
        let group_ids: &[String] = match spec {
            Spec::Interface { interface, .. } => network.interfaces.get(interface).map(|view| view.group_ids.as_slice()).unwrap_or(&[]),
            Spec::Balancer { balancer, .. } | Spec::Behind { balancer, .. } => {
                network.balancers.get(balancer).map(|view| view.group_ids.as_slice()).unwrap_or(&[])
            }
            Spec::Database { database } => network.databases.get(database).map(|view| view.group_ids.as_slice()).unwrap_or(&[]),
        };
        let mut rules = Vec::new();
        for group_id in group_ids {
            let Some(group) = network.groups.get(group_id.as_str()) else { continue };
            for (position, permission) in group.ip_permissions.iter().enumerate() {
                for single in split_permission(permission) {
                    let region = permissions_region(std::slice::from_ref(&single), exposure.family, &network.prefix_lists, &[]);
                    if region.intersection(&exposure.reach).is_empty() {
                        continue;
                    }
                    rules.push(AdmittingRule {
                        group_id: group_id.clone(),
                        owner_id: group.owner_id.clone(),
                        permission_index: position,
                        description: describe_permission(&single, exposure.family, &[]),
                        permission: single,
                    });
                }
            }
        }
        rules
    }

    /// The path of one entry of an exposure (its representative packet).
    pub fn path(&self, exposure: &Exposure, entry: &Entry) -> Vec<Hop> {
        let (slot, value, source) = entry.representative();
        let mut cache = Cache::default();
        self.trace(&mut cache, exposure.spec, exposure.family, Packet { slot, value, address: source })
    }

    /// The path of one packet of an exposure.
    pub fn path_for(&self, exposure: &Exposure, slot: Slot, value: u16, source: u128) -> Vec<Hop> {
        let mut cache = Cache::default();
        self.trace(&mut cache, exposure.spec, exposure.family, Packet { slot, value, address: source })
    }

    /// Whether, and how, the internet reaches one resource on one port.
    pub fn explain(&self, question: &Question) -> Result<Answer, ExplainError> {
        let specs: Vec<(usize, Spec)> = self
            .by_name
            .get(&question.resource)
            .map(|positions| positions.iter().filter_map(|position| self.specs.get(*position).copied()).collect())
            .unwrap_or_default();
        if specs.is_empty() {
            return Err(ExplainError::UnknownResource(question.resource.clone()));
        }
        let values = match question.slot {
            Slot::Icmp => ValueSet::range(question.port << 8, (question.port << 8) | 0xFF),
            _ => ValueSet::single(question.port),
        };
        let mut cache = Cache::default();
        let mut endpoints = Vec::new();
        for spec in specs {
            let family = spec_family(spec.1);
            if question.source.is_some_and(|source| source.family != family) {
                continue;
            }
            let asked = question.source.map(|source| source.set()).unwrap_or_else(|| family.everything());
            let reach = self.reach(&mut cache, spec);
            let sources = reach.sources_for(question.slot, &values).intersection(&asked);
            let (source, value) = match sources.first() {
                Some(source) => (source, reach.access_at(source).get(question.slot).intersection(&values).first().unwrap_or(question.port)),
                None => (asked.first().unwrap_or(0), values.first().unwrap_or(question.port)),
            };
            let path = self.trace(&mut cache, spec, family, Packet { slot: question.slot, value, address: source });
            let reachable = !sources.is_empty();
            let (resource_id, resource_type, interface_id, addresses, via) = self.identity(spec);
            endpoints.push(EndpointAnswer {
                region: self.regions.get(spec.0).map(|network| network.region.clone()).unwrap_or_default(),
                resource_id,
                resource_type,
                interface_id,
                address: addresses.into_iter().next(),
                via: via.unwrap_or_else(|| "direct".to_string()),
                reachable,
                sources: to_cidrs_ignoring(family, &sources, &self.spec_vpc_addresses(spec, family).intersection(&asked)),
                packet: format!("{} {} from {}", question.slot.name(family), describe_value(question.slot, value), format_address(family, source)),
                blocked_by: path.last().filter(|hop| !hop.allowed).cloned(),
                path,
            });
        }
        let family = question.source.map(|source| source.family).unwrap_or(Family::V4);
        Ok(Answer {
            resource: question.resource.clone(),
            protocol: question.slot.name(family),
            port: question.port,
            reachable: endpoints.iter().any(|endpoint| endpoint.reachable),
            endpoints,
        })
    }

    /// The names a question may use for a spec's resource.
    fn names(&self, (index, spec): (usize, Spec)) -> Vec<&str> {
        let Some(network) = self.regions.get(index) else { return Vec::new() };
        match spec {
            Spec::Interface { interface, .. } => network
                .interfaces
                .get(interface)
                .map(|view| view.instance_id.iter().chain(view.interface_id.iter()).map(String::as_str).collect())
                .unwrap_or_default(),
            Spec::Database { database } => network.databases.get(database).map(|view| vec![view.id.as_str()]).unwrap_or_default(),
            Spec::Balancer { balancer, .. } => {
                network.balancers.get(balancer).map(|view| vec![view.id.as_str(), view.name.as_str(), view.dns_name.as_str()]).unwrap_or_default()
            }
            Spec::Behind { balancer, listener, forward, .. } => network
                .balancers
                .get(balancer)
                .and_then(|view| view.listeners.get(listener))
                .and_then(|listener| listener.forwards.get(forward))
                .and_then(|forward| network.interfaces.get(forward.interface))
                .map(|view| view.instance_id.iter().chain(view.interface_id.iter()).map(String::as_str).collect())
                .unwrap_or_default(),
        }
    }

    /// (resource id, resource type, interface id, addresses, via) of a spec.
    fn identity(&self, (index, spec): (usize, Spec)) -> (String, &'static str, Option<String>, Vec<String>, Option<String>) {
        let Some(network) = self.regions.get(index) else { return (String::new(), "unknown", None, Vec::new(), None) };
        match spec {
            Spec::Interface { interface, family } => match network.interfaces.get(interface) {
                Some(view) => (view.resource_id(), view.resource_type(), view.interface_id.clone(), view.addresses(family).to_vec(), None),
                None => (String::new(), "unknown", None, Vec::new(), None),
            },
            Spec::Database { database } => match network.databases.get(database) {
                Some(view) => (view.id.clone(), "db-instance", None, vec![view.address.clone()], None),
                None => (String::new(), "unknown", None, Vec::new(), None),
            },
            Spec::Balancer { balancer, .. } => match network.balancers.get(balancer) {
                Some(view) => (view.id.clone(), balancer_type(view), None, vec![view.dns_name.clone()], None),
                None => (String::new(), "unknown", None, Vec::new(), None),
            },
            Spec::Behind { balancer, listener, forward, .. } => {
                let Some(view) = network.balancers.get(balancer) else { return (String::new(), "unknown", None, Vec::new(), None) };
                let target = view
                    .listeners
                    .get(listener)
                    .and_then(|listener| listener.forwards.get(forward))
                    .and_then(|forward| network.interfaces.get(forward.interface));
                match target {
                    Some(target) => {
                        (target.resource_id(), target.resource_type(), target.interface_id.clone(), vec![view.dns_name.clone()], Some(view.id.clone()))
                    }
                    None => (String::new(), "unknown", None, Vec::new(), None),
                }
            }
        }
    }

    fn describe(&self, spec: (usize, Spec), reach: Region) -> Vec<Exposure> {
        let (resource_id, resource_type, interface_id, addresses, via) = self.identity(spec);
        let region = self.regions.get(spec.0).map(|network| network.region.clone()).unwrap_or_default();
        let family = spec_family(spec.1);
        let vpc_addresses = self.spec_vpc_addresses(spec, family);
        addresses
            .into_iter()
            .map(|address| Exposure {
                region: region.clone(),
                resource_id: resource_id.clone(),
                resource_type,
                interface_id: interface_id.clone(),
                address,
                family,
                via: via.clone(),
                reach: reach.clone(),
                vpc_addresses: vpc_addresses.clone(),
                spec,
            })
            .collect()
    }

    /// The addresses of the VPC a spec's resource lives in.
    fn spec_vpc_addresses(&self, (index, spec): (usize, Spec), family: Family) -> AddressSet {
        let Some(network) = self.regions.get(index) else { return AddressSet::empty() };
        let vpc_id = match spec {
            Spec::Interface { interface, .. } => network.interfaces.get(interface).map(|view| view.vpc_id.as_str()),
            Spec::Database { database } => network.databases.get(database).map(|view| view.vpc_id.as_str()),
            Spec::Balancer { balancer, .. } | Spec::Behind { balancer, .. } => network.balancers.get(balancer).map(|view| view.vpc_id.as_str()),
        };
        vpc_id.map(|vpc_id| network.vpc_addresses(vpc_id, family)).unwrap_or_default()
    }

    // ---- Sets ----

    fn nacl_region(&self, cache: &mut Cache, index: usize, subnet_id: &str, egress: bool, family: Family) -> Option<Rc<Region>> {
        let network = self.regions.get(index)?;
        let nacl = network.nacl(subnet_id, network.vpc_of(subnet_id)?)?;
        let key = (index, nacl.network_acl_id.clone(), egress, family);
        if let Some(region) = cache.nacls.get(&key) {
            return Some(region.clone());
        }
        let region = Rc::new(nacl_region(nacl, egress, family));
        cache.nacls.insert(key, region.clone());
        Some(region)
    }

    /// The packets from the internet that a subnet lets in and answers: an internet gateway
    /// route back to the source, the network ACL inbound, and the reply outbound.
    fn subnet_network(&self, cache: &mut Cache, index: usize, subnet_id: &str, family: Family) -> Rc<Region> {
        let key = (index, subnet_id.to_string(), family);
        if let Some(region) = cache.subnets.get(&key) {
            return region.clone();
        }
        let region = Rc::new(self.compute_subnet_network(cache, index, subnet_id, family).unwrap_or_default());
        cache.subnets.insert(key, region.clone());
        region
    }

    fn compute_subnet_network(&self, cache: &mut Cache, index: usize, subnet_id: &str, family: Family) -> Option<Region> {
        let network = self.regions.get(index)?;
        let vpc_id = network.vpc_of(subnet_id)?;
        let gateways = network.internet_gateways(vpc_id);
        if gateways.is_empty() {
            return None;
        }
        let (table, _) = network.route_table(subnet_id, vpc_id)?;
        let returns = internet_return_destinations(table, family, &network.prefix_lists, gateways);
        let inbound = self.nacl_region(cache, index, subnet_id, false, family)?;
        let outbound = self.nacl_region(cache, index, subnet_id, true, family)?;
        let replies = Region::per_slot(&reply_destinations(&outbound, family));
        Some(inbound.restrict_sources(&returns).intersection(&replies))
    }

    /// The packets a set of security groups admits (the union of their inbound rules).
    fn groups_region(&self, cache: &mut Cache, index: usize, group_ids: &[String], family: Family, trusted: &[String]) -> Rc<Region> {
        let mut sorted = group_ids.to_vec();
        sorted.sort();
        sorted.dedup();
        let key = (index, sorted, family, trusted.to_vec());
        if let Some(region) = cache.groups.get(&key) {
            return region.clone();
        }
        let region = if key.1.len() == 1 {
            let trusted: Vec<&str> = trusted.iter().map(String::as_str).collect();
            let permissions: &[IpPermission] =
                self.regions.get(index).and_then(|network| network.groups.get(key.1[0].as_str())).map(|group| group.ip_permissions.as_slice()).unwrap_or(&[]);
            permissions_region(permissions, family, self.regions.get(index).map(|network| &network.prefix_lists).unwrap_or(&HashMap::new()), &trusted)
        } else {
            let mut union = Region::empty();
            for group in &key.1 {
                union = union.union(&self.groups_region(cache, index, std::slice::from_ref(group), family, trusted));
            }
            union
        };
        let region = Rc::new(region);
        cache.groups.insert(key, region.clone());
        region
    }

    /// What reaches a balancer's node in one subnet (before listeners).
    fn balancer_front(&self, cache: &mut Cache, index: usize, balancer: &BalancerView, subnet_id: &str, family: Family) -> Region {
        let network = self.subnet_network(cache, index, subnet_id, family);
        if balancer.group_ids.is_empty() {
            // A Network Load Balancer without security groups filters nothing itself.
            return (*network).clone();
        }
        network.intersection(&self.groups_region(cache, index, &balancer.group_ids, family, &[]))
    }

    /// The sources, per slot, a target admits on its port: its groups (trusting the
    /// balancer's) and, when it sits in another subnet than the node, its subnet's ACL both ways.
    #[allow(clippy::too_many_arguments)]
    fn target_admits(
        &self,
        cache: &mut Cache,
        index: usize,
        balancer: &BalancerView,
        node_subnet: &str,
        target: &InterfaceView,
        access: &Access,
        family: Family,
    ) -> [AddressSet; 4] {
        let none = [AddressSet::empty(), AddressSet::empty(), AddressSet::empty(), AddressSet::empty()];
        if !target.active {
            return none;
        }
        let mut admitted = self.groups_region(cache, index, &target.group_ids, family, &balancer.group_ids).restrict_access(access);
        if target.subnet_id != node_subnet {
            let (Some(inbound), Some(outbound)) =
                (self.nacl_region(cache, index, &target.subnet_id, false, family), self.nacl_region(cache, index, &target.subnet_id, true, family))
            else {
                return none;
            };
            admitted = admitted.intersection(&inbound).intersection(&Region::per_slot(&reply_destinations(&outbound, family)));
        }
        Slot::ALL.map(|slot| admitted.sources_for(slot, &slot.universe()))
    }

    /// The exact set of packets the internet delivers through one spec.
    fn reach(&self, cache: &mut Cache, (index, spec): (usize, Spec)) -> Region {
        let Some(network) = self.regions.get(index) else { return Region::empty() };
        match spec {
            Spec::Interface { interface, family } => {
                let Some(view) = network.interfaces.get(interface) else { return Region::empty() };
                if !view.active || view.addresses(family).is_empty() {
                    return Region::empty();
                }
                let subnet = self.subnet_network(cache, index, &view.subnet_id, family);
                if subnet.is_empty() {
                    return Region::empty();
                }
                let delivered = subnet.intersection(&self.groups_region(cache, index, &view.group_ids, family, &[]));
                match self.host_firewall(view) {
                    Some(firewall) => delivered.intersection(firewall.accepted(family)),
                    None => delivered,
                }
            }
            Spec::Database { database } => {
                let Some(view) = network.databases.get(database) else { return Region::empty() };
                if !view.public {
                    return Region::empty();
                }
                let listening = Access::only(Slot::Tcp, ValueSet::single(view.port));
                let groups = self.groups_region(cache, index, &view.group_ids, Family::V4, &[]).restrict_access(&listening);
                let mut reach = Region::empty();
                for subnet_id in &view.subnet_ids {
                    reach = reach.union(&self.subnet_network(cache, index, subnet_id, Family::V4).intersection(&groups));
                }
                reach
            }
            Spec::Balancer { balancer, family } => {
                let Some(view) = network.balancers.get(balancer) else { return Region::empty() };
                if !view.internet_facing {
                    return Region::empty();
                }
                let listening = view.listeners.iter().fold(Access::none(), |access, listener| access.union(&listener.access));
                let mut reach = Region::empty();
                for subnet_id in &view.subnet_ids {
                    reach = reach.union(&self.balancer_front(cache, index, view, subnet_id, family).restrict_access(&listening));
                }
                reach
            }
            Spec::Behind { balancer, listener, forward, family } => {
                let Some(view) = network.balancers.get(balancer) else { return Region::empty() };
                let Some(listener) = view.listeners.get(listener) else { return Region::empty() };
                let Some(forward) = listener.forwards.get(forward) else { return Region::empty() };
                let Some(target) = network.interfaces.get(forward.interface) else { return Region::empty() };
                if !view.internet_facing {
                    return Region::empty();
                }
                let target_access = retarget(&listener.access, forward.port);
                let preserves = forward.preserves_client_address && family == Family::V4;
                let mut reach = Region::empty();
                for subnet_id in &view.subnet_ids {
                    let front = self.balancer_front(cache, index, view, subnet_id, family).restrict_access(&listener.access);
                    if front.is_empty() {
                        continue;
                    }
                    let target_family = if preserves { family } else { Family::V4 };
                    let mut admitted = self.target_admits(cache, index, view, subnet_id, target, &target_access, target_family);
                    if let Some(firewall) = self.host_firewall(target) {
                        // The host sees the target port, from the client (NLB) or a node.
                        let accepted = firewall.accepted(target_family);
                        for slot in Slot::ALL {
                            let sources = accepted.sources_for(slot, target_access.get(slot));
                            admitted[slot_index(slot)] = admitted[slot_index(slot)].intersection(&sources);
                        }
                    }
                    let filter = if preserves {
                        admitted
                    } else {
                        let nodes = view.node_addresses.get(subnet_id).cloned().unwrap_or_default();
                        admitted.map(|sources| if sources.intersects(&nodes) { family.everything() } else { AddressSet::empty() })
                    };
                    reach = reach.union(&front.intersection(&Region::per_slot(&filter)));
                }
                reach
            }
        }
    }

    // ---- One packet ----

    fn trace(&self, cache: &mut Cache, (index, spec): (usize, Spec), family: Family, packet: Packet) -> Vec<Hop> {
        let mut hops = Vec::new();
        let Some(network) = self.regions.get(index) else { return hops };
        match spec {
            Spec::Interface { interface, .. } => {
                let Some(view) = network.interfaces.get(interface) else { return hops };
                let address = view.addresses(family).first().cloned();
                let owner = view.instance_id.as_ref().map(|instance| format!(" of instance {instance}")).unwrap_or_default();
                let label = view.interface_id.clone().unwrap_or_else(|| view.resource_id());
                let Some(address) = address else {
                    hops.push(block("address", &label, format!("{label}{owner} has no public {} address", family_name(family))));
                    return hops;
                };
                if !view.active {
                    hops.push(block("address", &address, format!("{label}{owner} is stopped or detached")));
                    return hops;
                }
                hops.push(pass("address", &address, format!("public {} address of {label}{owner}", family_name(family))));
                if !self.trace_subnet(cache, network, index, &view.subnet_id, family, packet, &mut hops) {
                    return hops;
                }
                if !self.trace_groups(network, &view.group_ids, family, packet, &[], &mut hops) {
                    return hops;
                }
                if !self.trace_host_firewall(view, family, packet, &mut hops) {
                    return hops;
                }
                hops.push(pass(
                    view.resource_type_hop(),
                    &label,
                    format!("delivered to {}", view.private_ipv4.first().cloned().unwrap_or_else(|| label.clone())),
                ));
            }
            Spec::Database { database } => {
                let Some(view) = network.databases.get(database) else { return hops };
                if !view.public {
                    hops.push(block("database", &view.id, format!("DB instance {} is not publicly accessible (or is stopped)", view.id)));
                    return hops;
                }
                hops.push(pass("address", &view.address, format!("public endpoint of DB instance {}", view.id)));
                let mut attempts = Vec::new();
                for subnet_id in &view.subnet_ids {
                    let mut attempt = Vec::new();
                    let ok = self.trace_subnet(cache, network, index, subnet_id, family, packet, &mut attempt)
                        && self.trace_groups(network, &view.group_ids, family, packet, &[], &mut attempt)
                        && {
                            let listens = packet.slot == Slot::Tcp && packet.value == view.port;
                            attempt.push(Hop {
                                kind: "database",
                                id: view.id.clone(),
                                detail: if listens { format!("listens on tcp {}", view.port) } else { format!("listens only on tcp {}", view.port) },
                                allowed: listens,
                            });
                            listens
                        };
                    if ok {
                        hops.extend(attempt);
                        return hops;
                    }
                    attempts.push(attempt);
                }
                push_first_attempt(&mut hops, attempts, "database", &view.id, "the DB subnet group has no subnet");
            }
            Spec::Balancer { balancer, .. } | Spec::Behind { balancer, .. } => {
                let Some(view) = network.balancers.get(balancer) else { return hops };
                if !view.internet_facing {
                    hops.push(block("load-balancer", &view.id, format!("{} is internal", view.name)));
                    return hops;
                }
                hops.push(pass("load-balancer", &view.id, format!("internet-facing {} {}", balancer_type(view), view.dns_name)));
                let mut attempts = Vec::new();
                for subnet_id in &view.subnet_ids {
                    let mut attempt = Vec::new();
                    if self.trace_balancer_subnet(cache, network, index, view, spec, subnet_id, family, packet, &mut attempt) {
                        hops.extend(attempt);
                        return hops;
                    }
                    attempts.push(attempt);
                }
                push_first_attempt(&mut hops, attempts, "load-balancer", &view.id, "the load balancer has no subnet");
            }
        }
        hops
    }

    #[allow(clippy::too_many_arguments)]
    fn trace_balancer_subnet(
        &self,
        cache: &mut Cache,
        network: &RegionNetwork<'_>,
        index: usize,
        view: &BalancerView,
        spec: Spec,
        subnet_id: &str,
        family: Family,
        packet: Packet,
        hops: &mut Vec<Hop>,
    ) -> bool {
        if !self.trace_subnet(cache, network, index, subnet_id, family, packet, hops) {
            return false;
        }
        if view.group_ids.is_empty() {
            hops.push(pass("security-group", "none", "the network load balancer has no security groups".to_string()));
        } else if !self.trace_groups(network, &view.group_ids, family, packet, &[], hops) {
            return false;
        }
        let listeners: Vec<usize> = match spec {
            Spec::Behind { listener, .. } => vec![listener],
            _ => (0..view.listeners.len()).collect(),
        };
        let Some(listener) =
            listeners.iter().filter_map(|listener| view.listeners.get(*listener)).find(|listener| listener.access.contains(packet.slot, packet.value))
        else {
            let labels: Vec<&str> = listeners.iter().filter_map(|listener| view.listeners.get(*listener)).map(|listener| listener.label.as_str()).collect();
            hops.push(block("listener", &view.id, format!("no listener for {} {} (listeners: {})", packet.slot.name(family), packet.value, labels.join(", "))));
            return false;
        };
        hops.push(pass("listener", &listener.id, listener.label.clone()));
        let Spec::Behind { forward, .. } = spec else { return true };
        let Some(forward) = listener.forwards.get(forward) else { return false };
        let Some(target) = network.interfaces.get(forward.interface) else { return false };
        hops.push(pass(
            "target-group",
            forward.target_group.as_deref().unwrap_or(&view.id),
            format!("forwards to {} port {}", forward.target_id, forward.port),
        ));
        if !target.active {
            hops.push(block(target.resource_type_hop(), &target.resource_id(), "the target is stopped or detached".to_string()));
            return false;
        }
        let preserves = forward.preserves_client_address && family == Family::V4;
        let target_packet_source = if preserves {
            Some(packet.address)
        } else {
            // Any node of this subnet the target admits; else the first node, to show the block.
            let nodes = view.node_addresses.get(subnet_id).cloned().unwrap_or_default();
            let admitted =
                self.target_admits(cache, index, view, subnet_id, target, &retarget(&Access::only(packet.slot, ValueSet::full()), forward.port), Family::V4);
            nodes.intersection(&admitted[slot_index(packet.slot)]).first().or_else(|| nodes.first())
        };
        let Some(source) = target_packet_source else {
            hops.push(block("target-group", &view.id, format!("no node address known in {subnet_id}")));
            return false;
        };
        let target_family = if preserves { family } else { Family::V4 };
        let target_packet = Packet { slot: packet.slot, value: forward.port, address: source };
        let from = if preserves { "client" } else { "load balancer node" };
        if target.subnet_id != subnet_id {
            let Some(nacl) = network.vpc_of(&target.subnet_id).and_then(|vpc| network.nacl(&target.subnet_id, vpc)) else {
                hops.push(block("nacl-inbound", &target.subnet_id, format!("no network ACL found for subnet {}", target.subnet_id)));
                return false;
            };
            if !trace_nacl_pair(nacl, &self.nacl_region(cache, index, &target.subnet_id, true, target_family), target_family, target_packet, from, hops) {
                return false;
            }
        }
        if !self.trace_groups(network, &target.group_ids, target_family, target_packet, &view.group_ids, hops) {
            return false;
        }
        if !self.trace_host_firewall(target, target_family, target_packet, hops) {
            return false;
        }
        hops.push(pass(
            target.resource_type_hop(),
            &target.interface_id.clone().unwrap_or_else(|| target.resource_id()),
            format!("delivered to {} port {} from {from} {}", target.resource_id(), forward.port, format_address(target_family, source)),
        ));
        true
    }

    /// The subnet hops: internet gateway, route table (the reply's route), network ACL both ways.
    #[allow(clippy::too_many_arguments)]
    fn trace_subnet(
        &self,
        cache: &mut Cache,
        network: &RegionNetwork<'_>,
        index: usize,
        subnet_id: &str,
        family: Family,
        packet: Packet,
        hops: &mut Vec<Hop>,
    ) -> bool {
        let Some(vpc_id) = network.vpc_of(subnet_id) else {
            hops.push(block("subnet", subnet_id, format!("subnet {subnet_id} is not in the inventory")));
            return false;
        };
        let gateways = network.internet_gateways(vpc_id);
        let Some(gateway) = gateways.first() else {
            hops.push(block("internet-gateway", vpc_id, format!("VPC {vpc_id} has no attached internet gateway")));
            return false;
        };
        hops.push(pass("internet-gateway", gateway, format!("attached to {vpc_id}")));
        let Some((table, main)) = network.route_table(subnet_id, vpc_id) else {
            hops.push(block("route-table", subnet_id, format!("no route table for subnet {subnet_id}")));
            return false;
        };
        let association = if main { "main route table" } else { "explicitly associated" };
        let source = format_address(family, packet.address);
        match longest_match(table, family, packet.address, &network.prefix_lists) {
            Some((cidr, route)) if route_reaches_internet_gateway(route, gateways) => hops.push(pass(
                "route-table",
                &table.route_table_id,
                format!("{subnet_id} ({association}): the reply to {source} matches {} -> {}", cidr_text(family, &cidr), route_target(route)),
            )),
            Some((cidr, route)) => {
                hops.push(block(
                    "route-table",
                    &table.route_table_id,
                    format!(
                        "{subnet_id} ({association}): the reply to {source} matches {} -> {}, not an internet gateway",
                        cidr_text(family, &cidr),
                        route_target(route)
                    ),
                ));
                return false;
            }
            None => {
                hops.push(block("route-table", &table.route_table_id, format!("{subnet_id} ({association}): no route back to {source}")));
                return false;
            }
        }
        let Some(nacl) = network.nacl(subnet_id, vpc_id) else {
            hops.push(block("nacl-inbound", subnet_id, format!("no network ACL found for subnet {subnet_id}")));
            return false;
        };
        trace_nacl_pair(nacl, &self.nacl_region(cache, index, subnet_id, true, family), family, packet, "client", hops)
    }

    /// The security group hop: the first group and rule that admits the packet.
    fn trace_groups(&self, network: &RegionNetwork<'_>, group_ids: &[String], family: Family, packet: Packet, trusted: &[String], hops: &mut Vec<Hop>) -> bool {
        let trusted_ids: Vec<&str> = trusted.iter().map(String::as_str).collect();
        for group_id in group_ids {
            let Some(group) = network.groups.get(group_id.as_str()) else { continue };
            if let Some(permission) =
                group.ip_permissions.iter().find(|permission| permission_admits(permission, family, packet, &network.prefix_lists, &trusted_ids))
            {
                hops.push(pass("security-group", group_id, format!("inbound rule {}", describe_permission(permission, family, &trusted_ids))));
                return true;
            }
        }
        let groups = if group_ids.is_empty() { "no security group".to_string() } else { group_ids.join(", ") };
        hops.push(block(
            "security-group",
            group_ids.first().map(String::as_str).unwrap_or("none"),
            format!(
                "{groups}: no inbound rule admits {} {} from {}",
                packet.slot.name(family),
                describe_value(packet.slot, packet.value),
                format_address(family, packet.address)
            ),
        ));
        false
    }
}

/// The ACL hops: inbound first match, then a reply to some ephemeral port outbound.
fn trace_nacl_pair(
    nacl: &vigil_model::ec2::NetworkAcl,
    outbound: &Option<Rc<Region>>,
    family: Family,
    packet: Packet,
    from: &str,
    hops: &mut Vec<Hop>,
) -> bool {
    let source = format_address(family, packet.address);
    let inbound = nacl_first_match(nacl, false, family, packet);
    let what = format!("{} {} from {from} {source}", packet.slot.name(family), describe_value(packet.slot, packet.value));
    if nacl_allows(inbound) {
        hops.push(pass("nacl-inbound", &nacl.network_acl_id, format!("{} allows {what}", describe_entry(inbound, family))));
    } else {
        hops.push(block("nacl-inbound", &nacl.network_acl_id, format!("{} denies {what}", describe_entry(inbound, family))));
        return false;
    }
    if !packet.slot.needs_reply() {
        return true;
    }
    let ports = outbound.as_ref().map(|region| region.access_at(packet.address).get(packet.slot).intersection(&ephemeral_ports())).unwrap_or_default();
    match ports.first() {
        Some(port) => {
            let entry = nacl_first_match(nacl, true, family, Packet { slot: packet.slot, value: port, address: packet.address });
            hops.push(pass(
                "nacl-outbound",
                &nacl.network_acl_id,
                format!("{} allows the reply to {source} port {port} (ephemeral ports 1024-65535)", describe_entry(entry, family)),
            ));
            true
        }
        None => {
            let entry = nacl_first_match(nacl, true, family, Packet { slot: packet.slot, value: 1024, address: packet.address });
            hops.push(block(
                "nacl-outbound",
                &nacl.network_acl_id,
                format!(
                    "no outbound rule lets the {} reply reach {source} on an ephemeral port 1024-65535 ({} denies port 1024)",
                    packet.slot.name(family),
                    describe_entry(entry, family)
                ),
            ));
            false
        }
    }
}

/// Keeps the most instructive failed attempt (the one that got furthest), or says why there was none.
fn push_first_attempt(hops: &mut Vec<Hop>, attempts: Vec<Vec<Hop>>, kind: &'static str, id: &str, empty: &str) {
    match attempts.into_iter().max_by_key(Vec::len) {
        Some(attempt) => hops.extend(attempt),
        None => hops.push(block(kind, id, empty.to_string())),
    }
}

fn pass(kind: &'static str, id: &str, detail: String) -> Hop {
    Hop { kind, id: id.to_string(), detail, allowed: true }
}

fn block(kind: &'static str, id: &str, detail: String) -> Hop {
    Hop { kind, id: id.to_string(), detail, allowed: false }
}

fn spec_family(spec: Spec) -> Family {
    match spec {
        Spec::Interface { family, .. } | Spec::Balancer { family, .. } | Spec::Behind { family, .. } => family,
        Spec::Database { .. } => Family::V4,
    }
}

fn slot_index(slot: Slot) -> usize {
    Slot::ALL.iter().position(|candidate| *candidate == slot).unwrap_or(0)
}

fn family_name(family: Family) -> &'static str {
    match family {
        Family::V4 => "IPv4",
        Family::V6 => "IPv6",
    }
}

fn balancer_type(view: &BalancerView) -> &'static str {
    match view.kind {
        BalancerKind::Application => "application-load-balancer",
        BalancerKind::Network => "network-load-balancer",
        BalancerKind::Classic => "classic-load-balancer",
    }
}

/// The listener's protocols, on the target's port.
fn retarget(access: &Access, port: u16) -> Access {
    Slot::ALL
        .iter()
        .filter(|slot| !access.get(**slot).is_empty())
        .fold(Access::none(), |result, slot| result.union(&Access::only(*slot, ValueSet::single(port))))
}

fn cidr_text(family: Family, cidr: &Cidr) -> String {
    format!("{}/{}", format_address(family, cidr.first), cidr.prefix_length)
}

fn describe_value(slot: Slot, value: u16) -> String {
    match slot {
        Slot::Tcp | Slot::Udp => format!("port {value}"),
        Slot::Icmp => format!("type {} code {}", value >> 8, value & 0xFF),
        Slot::Other => format!("protocol {value}"),
    }
}

fn describe_entry(entry: Option<&NetworkAclEntry>, family: Family) -> String {
    let Some(entry) = entry else { return "no rule matches: the default rule (*)".to_string() };
    let protocol = match entry.protocol.as_str() {
        "-1" => "all traffic".to_string(),
        "6" => "tcp".to_string(),
        "17" => "udp".to_string(),
        "1" => "icmp".to_string(),
        "58" => "icmpv6".to_string(),
        other => format!("protocol {other}"),
    };
    let ports = entry.port_range.as_ref().map(|range| format!(" {}-{}", range.from.unwrap_or(0), range.to.unwrap_or(65535))).unwrap_or_default();
    let block = match family {
        Family::V4 => entry.cidr_block.clone(),
        Family::V6 => entry.ipv6_cidr_block.clone(),
    }
    .unwrap_or_default();
    format!("rule {} ({} {protocol}{ports} {block})", entry.rule_number, entry.rule_action)
}

fn describe_permission(permission: &IpPermission, family: Family, trusted: &[&str]) -> String {
    let protocol = match permission.ip_protocol.as_str() {
        "-1" => "all traffic".to_string(),
        other => other.to_string(),
    };
    let ports = match (permission.from_port, permission.to_port) {
        (Some(from), Some(to)) if permission.ip_protocol != "-1" => format!(" {from}-{to}"),
        _ => String::new(),
    };
    let mut sources: Vec<String> = match family {
        Family::V4 => permission.ip_ranges.iter().map(|range| range.cidr_ip.clone()).collect(),
        Family::V6 => permission.ipv6_ranges.iter().map(|range| range.cidr_ipv6.clone()).collect(),
    };
    sources.extend(permission.prefix_list_ids.iter().map(|list| list.prefix_list_id.clone()));
    sources.extend(
        permission
            .user_id_group_pairs
            .iter()
            .filter_map(|pair| pair.group_id.clone())
            .filter(|group| trusted.contains(&group.as_str()))
            .map(|group| format!("{group} (the load balancer's group)")),
    );
    let _ = permission_access;
    format!("{protocol}{ports} from {}", sources.join(", "))
}

impl InterfaceView {
    fn resource_type_hop(&self) -> &'static str {
        if self.instance_id.is_some() { "instance" } else { "interface" }
    }
}

/// Parses a protocol name for questions: `tcp`, `udp`, `icmp`, `icmpv6`, or a number.
pub fn parse_protocol(text: &str) -> Option<(Slot, Option<u16>)> {
    match text.trim().to_ascii_lowercase().as_str() {
        "tcp" | "6" => Some((Slot::Tcp, None)),
        "udp" | "17" => Some((Slot::Udp, None)),
        "icmp" | "1" | "icmpv6" | "58" => Some((Slot::Icmp, None)),
        other => other.parse::<u8>().ok().map(|number| (Slot::Other, Some(u16::from(number)))),
    }
}

/// Parses an address or CIDR for questions.
pub fn parse_source(text: &str) -> Option<Cidr> {
    Cidr::parse(text).or_else(|| parse_address(text).and_then(|(family, value)| Cidr::parse(&format_address(family, value))))
}
