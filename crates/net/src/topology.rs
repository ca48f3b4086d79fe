//! Indexes over one region's inventory: which route table and network ACL each subnet uses,
//! which internet gateways each VPC has, every network interface normalised (whether listed by
//! DescribeNetworkInterfaces or only known from DescribeInstances), and the load balancers and
//! databases with a network presence.

use std::collections::HashMap;

use vigil_model::RegionalInventory;
use vigil_model::ec2::{Instance, NetworkAcl, RouteTable, SecurityGroup, Subnet};
use vigil_model::elb::{ClassicLoadBalancer, LoadBalancer};
use vigil_model::rds::DbInstance;

use crate::access::{Access, Slot, ValueSet};
use crate::addr::{AddressSet, Cidr, Family, parse_address};
use crate::rules::PrefixLists;

/// A network interface as the engine sees it.
#[derive(Debug, Clone, Default)]
pub struct InterfaceView {
    /// `None` for an instance whose interfaces were not listed.
    pub interface_id: Option<String>,
    pub instance_id: Option<String>,
    pub subnet_id: String,
    pub vpc_id: String,
    pub group_ids: Vec<String>,
    pub public_ipv4: Vec<String>,
    pub ipv6: Vec<String>,
    pub private_ipv4: Vec<String>,
    pub description: String,
    /// False when the instance is stopped or the interface is detached.
    pub active: bool,
    /// False for interfaces that belong to a load balancer, NAT gateway, database or endpoint,
    /// which are judged as that resource instead.
    pub standalone: bool,
    /// The primary interface (device 0) of its instance.
    pub primary: bool,
}

impl InterfaceView {
    /// The id shown for the resource: the instance when attached to one, else the interface.
    pub fn resource_id(&self) -> String {
        self.instance_id.clone().or_else(|| self.interface_id.clone()).unwrap_or_default()
    }

    pub fn resource_type(&self) -> &'static str {
        if self.instance_id.is_some() { "instance" } else { "network-interface" }
    }

    /// The addresses the internet can send to, by family.
    pub fn addresses(&self, family: Family) -> &[String] {
        match family {
            Family::V4 => &self.public_ipv4,
            Family::V6 => &self.ipv6,
        }
    }
}

/// What kind of load balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalancerKind {
    Application,
    Network,
    Classic,
}

/// One listener: what the internet connects to, and where it forwards.
#[derive(Debug, Clone)]
pub struct ListenerView {
    pub id: String,
    pub label: String,
    pub access: Access,
    pub forwards: Vec<ForwardView>,
}

/// One registered target behind a listener.
#[derive(Debug, Clone)]
pub struct ForwardView {
    /// The target group ARN (Classic Load Balancers have none).
    pub target_group: Option<String>,
    pub target_id: String,
    pub interface: usize,
    pub port: u16,
    /// The target sees the client's address (Network Load Balancer, instance targets).
    pub preserves_client_address: bool,
}

#[derive(Debug, Clone)]
pub struct BalancerView {
    pub id: String,
    pub name: String,
    /// `internet-facing` (internal balancers are listed to answer questions about them).
    pub internet_facing: bool,
    pub kind: BalancerKind,
    pub dns_name: String,
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    pub group_ids: Vec<String>,
    pub families: Vec<Family>,
    pub listeners: Vec<ListenerView>,
    /// Private addresses of the balancer's nodes per subnet (the subnet's block when the
    /// balancer's interfaces were not listed).
    pub node_addresses: HashMap<String, AddressSet>,
}

#[derive(Debug, Clone)]
pub struct DatabaseView {
    pub id: String,
    /// `PubliclyAccessible` and not stopped.
    pub public: bool,
    pub address: String,
    pub port: u16,
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    pub group_ids: Vec<String>,
}

/// One region's network, indexed.
pub struct RegionNetwork<'a> {
    pub region: String,
    pub subnets: HashMap<&'a str, &'a Subnet>,
    pub groups: HashMap<&'a str, &'a SecurityGroup>,
    pub prefix_lists: PrefixLists<'a>,
    subnet_nacls: HashMap<&'a str, &'a NetworkAcl>,
    default_nacls: HashMap<&'a str, &'a NetworkAcl>,
    subnet_tables: HashMap<&'a str, &'a RouteTable>,
    main_tables: HashMap<&'a str, &'a RouteTable>,
    internet_gateways: HashMap<&'a str, Vec<&'a str>>,
    /// Each VPC's own address blocks (IPv4 and IPv6): no internet host has these addresses.
    vpc_blocks: HashMap<&'a str, Vec<Cidr>>,
    pub interfaces: Vec<InterfaceView>,
    pub balancers: Vec<BalancerView>,
    pub databases: Vec<DatabaseView>,
    /// Interface indexes by instance id (the primary first) and by (VPC, private address).
    by_instance: HashMap<String, Vec<usize>>,
    by_private_address: HashMap<(String, String), usize>,
}

fn is_attached(state: Option<&str>) -> bool {
    state.is_none_or(|state| matches!(state, "available" | "attached"))
}

fn instance_is_active(instance: &Instance) -> bool {
    !matches!(instance.state.name.as_str(), "stopped" | "stopping" | "terminated" | "shutting-down")
}

fn push_unique(list: &mut Vec<String>, value: Option<&str>) {
    if let Some(value) = value.map(str::trim).filter(|value| !value.is_empty())
        && !list.iter().any(|existing| existing == value)
    {
        list.push(value.to_string());
    }
}

impl<'a> RegionNetwork<'a> {
    pub fn new(region: &str, regional: &'a RegionalInventory) -> RegionNetwork<'a> {
        let ec2 = &regional.ec2;
        let mut subnet_nacls = HashMap::new();
        let mut default_nacls = HashMap::new();
        for nacl in &ec2.network_acls {
            for association in &nacl.associations {
                if let Some(subnet) = association.subnet_id.as_deref() {
                    subnet_nacls.insert(subnet, nacl);
                }
            }
            if nacl.is_default
                && let Some(vpc) = nacl.vpc_id.as_deref()
            {
                default_nacls.insert(vpc, nacl);
            }
        }
        let mut subnet_tables = HashMap::new();
        let mut main_tables = HashMap::new();
        for table in &ec2.route_tables {
            for association in &table.associations {
                if association.main {
                    if let Some(vpc) = table.vpc_id.as_deref() {
                        main_tables.insert(vpc, table);
                    }
                } else if let Some(subnet) = association.subnet_id.as_deref() {
                    subnet_tables.insert(subnet, table);
                }
            }
        }
        let mut internet_gateways: HashMap<&str, Vec<&str>> = HashMap::new();
        for gateway in &ec2.internet_gateways {
            for attachment in gateway.attachments.iter().filter(|attachment| is_attached(attachment.state.as_deref())) {
                internet_gateways.entry(attachment.vpc_id.as_str()).or_default().push(gateway.internet_gateway_id.as_str());
            }
        }
        let mut network = RegionNetwork {
            region: region.to_string(),
            subnets: ec2.subnets.iter().map(|subnet| (subnet.subnet_id.as_str(), subnet)).collect(),
            groups: ec2.security_groups.iter().map(|group| (group.group_id.as_str(), group)).collect(),
            prefix_lists: ec2.managed_prefix_lists.iter().map(|list| (list.prefix_list_id.as_str(), list)).collect(),
            subnet_nacls,
            default_nacls,
            subnet_tables,
            main_tables,
            internet_gateways,
            vpc_blocks: ec2
                .vpcs
                .iter()
                .map(|vpc| {
                    let blocks = vpc.cidr_block.iter().chain(&vpc.cidr_blocks).chain(&vpc.ipv6_cidr_blocks).filter_map(|block| Cidr::parse(block)).collect();
                    (vpc.vpc_id.as_str(), blocks)
                })
                .collect(),
            interfaces: Vec::new(),
            balancers: Vec::new(),
            databases: Vec::new(),
            by_instance: HashMap::new(),
            by_private_address: HashMap::new(),
        };
        network.interfaces = interfaces(regional);
        for (index, interface) in network.interfaces.iter().enumerate() {
            if let Some(instance) = &interface.instance_id {
                let list = network.by_instance.entry(instance.clone()).or_default();
                if interface.primary { list.insert(0, index) } else { list.push(index) }
            }
            for address in &interface.private_ipv4 {
                network.by_private_address.entry((interface.vpc_id.clone(), address.clone())).or_insert(index);
            }
        }
        network.balancers = balancers(regional, &network);
        network.databases = databases(regional);
        network
    }

    /// A VPC's own addresses of one family: sources no internet host can have.
    pub fn vpc_addresses(&self, vpc_id: &str, family: Family) -> AddressSet {
        let mut set = AddressSet::empty();
        for block in self.vpc_blocks.get(vpc_id).into_iter().flatten().filter(|block| block.family == family) {
            set = set.union(&block.set());
        }
        set
    }

    /// The internet gateways attached to a VPC.
    pub fn internet_gateways(&self, vpc_id: &str) -> &[&'a str] {
        self.internet_gateways.get(vpc_id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The route table a subnet uses (its explicit association, else the VPC's main table),
    /// and whether it is the main table.
    pub fn route_table(&self, subnet_id: &str, vpc_id: &str) -> Option<(&'a RouteTable, bool)> {
        if let Some(table) = self.subnet_tables.get(subnet_id) {
            return Some((table, false));
        }
        self.main_tables.get(vpc_id).map(|table| (*table, true))
    }

    /// The network ACL a subnet uses (its association, else the VPC's default ACL).
    pub fn nacl(&self, subnet_id: &str, vpc_id: &str) -> Option<&'a NetworkAcl> {
        self.subnet_nacls.get(subnet_id).or_else(|| self.default_nacls.get(vpc_id)).copied()
    }

    /// The VPC of a subnet.
    pub fn vpc_of(&self, subnet_id: &str) -> Option<&'a str> {
        self.subnets.get(subnet_id).map(|subnet| subnet.vpc_id.as_str())
    }

    /// The interface an instance receives load-balanced traffic on (its primary interface).
    fn instance_interface(&self, instance_id: &str) -> Option<usize> {
        self.by_instance.get(instance_id).and_then(|list| list.first().copied())
    }

    /// The interface with a private address, in a VPC.
    fn interface_with_address(&self, address: &str, vpc_id: &str) -> Option<usize> {
        self.by_private_address.get(&(vpc_id.to_string(), address.to_string())).copied()
    }
}

/// Interface types and descriptions of interfaces another resource owns.
fn is_managed(interface_type: Option<&str>, description: &str) -> bool {
    matches!(
        interface_type,
        Some("nat_gateway" | "network_load_balancer" | "gateway_load_balancer" | "gateway_load_balancer_endpoint" | "vpc_endpoint" | "transit_gateway")
    ) || description.starts_with("ELB ")
        || description.starts_with("RDSNetworkInterface")
}

fn interfaces(regional: &RegionalInventory) -> Vec<InterfaceView> {
    let ec2 = &regional.ec2;
    let instances: HashMap<&str, &Instance> = ec2.instances.iter().map(|instance| (instance.instance_id.as_str(), instance)).collect();
    let mut views = Vec::new();
    let mut listed: HashMap<String, usize> = HashMap::new();
    for interface in &ec2.network_interfaces {
        let description = interface.description.clone().unwrap_or_default();
        let instance_id = interface.attachment.as_ref().and_then(|attachment| attachment.instance_id.clone());
        let instance = instance_id.as_deref().and_then(|id| instances.get(id));
        let mut view = InterfaceView {
            interface_id: Some(interface.network_interface_id.clone()),
            instance_id: instance_id.clone(),
            subnet_id: interface.subnet_id.clone().unwrap_or_default(),
            vpc_id: interface.vpc_id.clone().unwrap_or_default(),
            group_ids: interface.groups.iter().map(|group| group.group_id.clone()).collect(),
            description: description.clone(),
            active: instance.is_none_or(|instance| instance_is_active(instance))
                && !(interface.attachment.is_none() && interface.status.as_deref() == Some("available")),
            standalone: !is_managed(interface.interface_type.as_deref(), &description),
            primary: interface.attachment.as_ref().and_then(|attachment| attachment.device_index) == Some(0),
            ..InterfaceView::default()
        };
        push_unique(&mut view.public_ipv4, interface.association.as_ref().and_then(|association| association.public_ip.as_deref()));
        push_unique(&mut view.private_ipv4, interface.private_ip_address.as_deref());
        for private in &interface.private_ip_addresses {
            push_unique(&mut view.private_ipv4, private.private_ip_address.as_deref());
            push_unique(&mut view.public_ipv4, private.association.as_ref().and_then(|association| association.public_ip.as_deref()));
        }
        for address in &interface.ipv6_addresses {
            push_unique(&mut view.ipv6, Some(address));
        }
        listed.insert(interface.network_interface_id.clone(), views.len());
        views.push(view);
    }
    // Instance id → the indexes of its views, ascending (kept current as views are added and
    // attached), so that finding an instance's views is a lookup rather than a scan of every
    // view (quadratic over 100,000 instances).
    let mut by_instance: HashMap<String, Vec<usize>> = HashMap::new();
    for (index, view) in views.iter().enumerate() {
        if let Some(instance) = &view.instance_id {
            by_instance.entry(instance.clone()).or_default().push(index);
        }
    }
    let first_primary = |by_instance: &HashMap<String, Vec<usize>>, views: &[InterfaceView], instance: &str| {
        by_instance.get(instance).into_iter().flatten().copied().find(|index| views.get(*index).is_some_and(|view| view.primary))
    };
    for instance in &ec2.instances {
        let active = instance_is_active(instance);
        if instance.network_interfaces.is_empty() {
            if by_instance.get(&instance.instance_id).is_some_and(|list| !list.is_empty()) {
                // DescribeNetworkInterfaces listed its interfaces; add what only the instance says.
                if let Some(view) = first_primary(&by_instance, &views, &instance.instance_id).and_then(|index| views.get_mut(index)) {
                    view.active = view.active && active;
                    push_unique(&mut view.public_ipv4, instance.public_ip_address.as_deref());
                    push_unique(&mut view.ipv6, instance.ipv6_address.as_deref());
                }
                continue;
            }
            let Some(subnet_id) = instance.subnet_id.clone() else { continue };
            let mut view = InterfaceView {
                instance_id: Some(instance.instance_id.clone()),
                subnet_id,
                vpc_id: instance.vpc_id.clone().unwrap_or_default(),
                group_ids: instance.security_groups.iter().map(|group| group.group_id.clone()).collect(),
                active,
                standalone: true,
                primary: true,
                ..InterfaceView::default()
            };
            push_unique(&mut view.public_ipv4, instance.public_ip_address.as_deref());
            push_unique(&mut view.private_ipv4, instance.private_ip_address.as_deref());
            push_unique(&mut view.ipv6, instance.ipv6_address.as_deref());
            by_instance.entry(instance.instance_id.clone()).or_default().push(views.len());
            views.push(view);
            continue;
        }
        let only_one = instance.network_interfaces.len() == 1;
        for nic in &instance.network_interfaces {
            let primary = nic.device_index == Some(0) || only_one;
            let index = match listed.get(&nic.network_interface_id) {
                Some(index) => *index,
                None => {
                    views.push(InterfaceView {
                        interface_id: Some(nic.network_interface_id.clone()),
                        instance_id: Some(instance.instance_id.clone()),
                        subnet_id: nic.subnet_id.clone().or_else(|| instance.subnet_id.clone()).unwrap_or_default(),
                        vpc_id: nic.vpc_id.clone().or_else(|| instance.vpc_id.clone()).unwrap_or_default(),
                        group_ids: nic.groups.iter().map(|group| group.group_id.clone()).collect(),
                        active,
                        standalone: true,
                        primary,
                        ..InterfaceView::default()
                    });
                    by_instance.entry(instance.instance_id.clone()).or_default().push(views.len() - 1);
                    views.len() - 1
                }
            };
            let Some(view) = views.get_mut(index) else { continue };
            if view.instance_id.as_deref() != Some(instance.instance_id.as_str()) {
                if let Some(list) = view.instance_id.as_ref().and_then(|previous| by_instance.get_mut(previous)) {
                    list.retain(|other| *other != index);
                }
                let list = by_instance.entry(instance.instance_id.clone()).or_default();
                if let Err(at) = list.binary_search(&index) {
                    list.insert(at, index);
                }
            }
            view.instance_id = Some(instance.instance_id.clone());
            view.active = view.active && active;
            view.primary = view.primary || primary;
            push_unique(&mut view.public_ipv4, nic.public_ip.as_deref());
            push_unique(&mut view.private_ipv4, nic.private_ip_address.as_deref());
            for address in &nic.ipv6_addresses {
                push_unique(&mut view.ipv6, Some(address));
            }
            if primary {
                push_unique(&mut view.public_ipv4, instance.public_ip_address.as_deref());
                push_unique(&mut view.ipv6, instance.ipv6_address.as_deref());
            }
        }
    }
    // Elastic IPs: DescribeAddresses names the interface (or only the instance).
    for address in &ec2.addresses {
        let index = match (&address.network_interface_id, &address.instance_id) {
            (Some(interface), _) => listed.get(interface).copied(),
            (None, Some(instance)) => first_primary(&by_instance, &views, instance),
            _ => None,
        };
        if let Some(view) = index.and_then(|index| views.get_mut(index)) {
            push_unique(&mut view.public_ipv4, address.public_ip.as_deref());
        }
    }
    for view in &mut views {
        view.public_ipv4.sort();
        view.ipv6.sort();
    }
    views
}

/// The slots a listener protocol carries.
fn listener_access(protocol: &str, port: u16) -> Access {
    let ports = ValueSet::single(port);
    match protocol.to_ascii_uppercase().as_str() {
        "UDP" => Access::only(Slot::Udp, ports),
        "TCP_UDP" => Access::only(Slot::Tcp, ports.clone()).union(&Access::only(Slot::Udp, ports)),
        _ => Access::only(Slot::Tcp, ports),
    }
}

fn port_of(value: Option<i32>) -> Option<u16> {
    value.and_then(|port| u16::try_from(port).ok())
}

fn balancers(regional: &RegionalInventory, network: &RegionNetwork<'_>) -> Vec<BalancerView> {
    let mut views = Vec::new();
    let target_groups: HashMap<&str, &vigil_model::elb::TargetGroup> =
        regional.target_groups.iter().map(|group| (group.target_group_arn.as_str(), group)).collect();
    let mut balancer_interfaces: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, interface) in network.interfaces.iter().enumerate() {
        if interface.description.starts_with("ELB ") {
            balancer_interfaces.entry(interface.description.as_str()).or_default().push(index);
        }
    }
    for balancer in &regional.load_balancers {
        if let Some(view) = balancer_view(balancer, &target_groups, &balancer_interfaces, network) {
            views.push(view);
        }
    }
    for balancer in &regional.classic_load_balancers {
        if let Some(view) = classic_view(balancer, &balancer_interfaces, network) {
            views.push(view);
        }
    }
    views
}

/// Node addresses per subnet: the private addresses of the balancer's interfaces (found by
/// their `ELB ...` description), else the whole subnet block.
fn node_addresses(
    network: &RegionNetwork<'_>,
    balancer_interfaces: &HashMap<&str, Vec<usize>>,
    description: &str,
    subnet_ids: &[String],
) -> HashMap<String, AddressSet> {
    let mut nodes = HashMap::new();
    let mine: Vec<&InterfaceView> = balancer_interfaces.get(description).into_iter().flatten().filter_map(|index| network.interfaces.get(*index)).collect();
    for subnet_id in subnet_ids {
        let mut addresses = AddressSet::empty();
        for interface in mine.iter().filter(|interface| interface.subnet_id == *subnet_id) {
            for ip in &interface.private_ipv4 {
                if let Some((Family::V4, value)) = parse_address(ip) {
                    addresses = addresses.union(&AddressSet::single(value));
                }
            }
        }
        if addresses.is_empty()
            && let Some(block) = network.subnets.get(subnet_id.as_str()).and_then(|subnet| subnet.cidr_block.as_deref()).and_then(Cidr::parse)
        {
            addresses = block.set();
        }
        nodes.insert(subnet_id.clone(), addresses);
    }
    nodes
}

fn balancer_view(
    balancer: &LoadBalancer,
    target_groups: &HashMap<&str, &vigil_model::elb::TargetGroup>,
    balancer_interfaces: &HashMap<&str, Vec<usize>>,
    network: &RegionNetwork<'_>,
) -> Option<BalancerView> {
    let internet_facing = balancer.scheme.as_deref() == Some("internet-facing") && !matches!(balancer.state.as_deref(), Some("failed"));
    let kind = match balancer.r#type.as_deref() {
        Some("network") => BalancerKind::Network,
        Some("application") | None => BalancerKind::Application,
        Some(_) => return None,
    };
    let vpc_id = balancer.vpc_id.clone().or_else(|| balancer.subnet_ids.first().and_then(|subnet| network.vpc_of(subnet)).map(str::to_string))?;
    let mut listeners = Vec::new();
    for listener in &balancer.listeners {
        let Some(port) = port_of(listener.port) else { continue };
        let protocol = listener.protocol.clone().unwrap_or_else(|| "TCP".to_string());
        let mut forwards = Vec::new();
        for action in listener.default_actions.iter().filter(|action| action.r#type == "forward") {
            for group_arn in &action.target_group_arns {
                let Some(group) = target_groups.get(group_arn.as_str()) else { continue };
                let target_type = group.target_type.as_deref().unwrap_or("instance");
                for target in group.targets.iter().filter(|target| target.health_state.as_deref() != Some("unused")) {
                    let Some(target_port) = port_of(target.port.or(group.port)) else { continue };
                    let interface = match target_type {
                        "instance" => network.instance_interface(&target.id),
                        "ip" => network.interface_with_address(&target.id, &vpc_id),
                        _ => None,
                    };
                    let Some(interface) = interface else { continue };
                    forwards.push(ForwardView {
                        target_group: Some(group_arn.clone()),
                        target_id: target.id.clone(),
                        interface,
                        port: target_port,
                        preserves_client_address: kind == BalancerKind::Network && target_type == "instance",
                    });
                }
            }
        }
        listeners.push(ListenerView {
            id: listener.listener_arn.clone(),
            label: format!("{protocol} {port}"),
            access: listener_access(&protocol, port),
            forwards,
        });
    }
    // The balancer's interfaces are described `ELB app/NAME/ID` or `ELB net/NAME/ID`.
    let suffix = balancer.load_balancer_arn.split_once(":loadbalancer/").map(|(_, suffix)| suffix).unwrap_or_default();
    let families =
        if balancer.ip_address_type.as_deref().is_some_and(|kind| kind.starts_with("dualstack")) { vec![Family::V4, Family::V6] } else { vec![Family::V4] };
    Some(BalancerView {
        id: balancer.load_balancer_arn.clone(),
        name: balancer.load_balancer_name.clone(),
        internet_facing,
        kind,
        dns_name: balancer.dns_name.clone().unwrap_or_else(|| balancer.load_balancer_name.clone()),
        vpc_id,
        subnet_ids: balancer.subnet_ids.clone(),
        group_ids: balancer.security_groups.clone(),
        families,
        listeners,
        node_addresses: node_addresses(network, balancer_interfaces, &format!("ELB {suffix}"), &balancer.subnet_ids),
    })
}

fn classic_view(balancer: &ClassicLoadBalancer, balancer_interfaces: &HashMap<&str, Vec<usize>>, network: &RegionNetwork<'_>) -> Option<BalancerView> {
    let internet_facing = balancer.scheme.as_deref() == Some("internet-facing");
    let vpc_id = balancer.vpc_id.clone().or_else(|| balancer.subnets.first().and_then(|subnet| network.vpc_of(subnet)).map(str::to_string))?;
    let listeners = balancer
        .listener_descriptions
        .iter()
        .filter_map(|listener| {
            let port = u16::try_from(listener.load_balancer_port).ok()?;
            let instance_port = port_of(listener.instance_port).unwrap_or(port);
            let forwards = balancer
                .instances
                .iter()
                .filter_map(|instance| {
                    Some(ForwardView {
                        target_group: None,
                        target_id: instance.clone(),
                        interface: network.instance_interface(instance)?,
                        port: instance_port,
                        preserves_client_address: false,
                    })
                })
                .collect();
            // Classic listeners speak HTTP, HTTPS, TCP or SSL: all over TCP.
            Some(ListenerView {
                id: format!("{}:{port}", balancer.load_balancer_name),
                label: format!("{} {port}", listener.protocol),
                access: listener_access("TCP", port),
                forwards,
            })
        })
        .collect();
    Some(BalancerView {
        id: balancer.load_balancer_name.clone(),
        name: balancer.load_balancer_name.clone(),
        internet_facing,
        kind: BalancerKind::Classic,
        dns_name: balancer.dns_name.clone().unwrap_or_else(|| balancer.load_balancer_name.clone()),
        vpc_id,
        subnet_ids: balancer.subnets.clone(),
        group_ids: balancer.security_groups.clone(),
        families: vec![Family::V4],
        listeners,
        node_addresses: node_addresses(network, balancer_interfaces, &format!("ELB {}", balancer.load_balancer_name), &balancer.subnets),
    })
}

fn databases(regional: &RegionalInventory) -> Vec<DatabaseView> {
    regional
        .db_instances
        .iter()
        .filter_map(|database: &DbInstance| {
            Some(DatabaseView {
                id: database.db_instance_identifier.clone(),
                public: database.publicly_accessible && !matches!(database.db_instance_status.as_deref(), Some("stopped" | "stopping" | "deleting" | "failed")),
                address: database.endpoint_address.clone().unwrap_or_else(|| database.db_instance_identifier.clone()),
                port: port_of(database.endpoint_port)?,
                vpc_id: database.vpc_id.clone()?,
                subnet_ids: database.subnet_ids.clone(),
                group_ids: database.vpc_security_group_ids.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use vigil_model::ec2::{Address, Instance, InstanceNetworkInterface, InstanceState, NetworkInterface, NetworkInterfaceAttachment};

    use super::*;

    fn instance(id: &str, public: &str, nics: Vec<InstanceNetworkInterface>) -> Instance {
        Instance {
            instance_id: id.into(),
            state: InstanceState { name: "running".into(), code: Some(16) },
            vpc_id: Some("vpc-1".into()),
            subnet_id: Some("subnet-1".into()),
            public_ip_address: Some(public.into()),
            network_interfaces: nics,
            ..Default::default()
        }
    }

    fn listed(id: &str, instance: &str, device: i32) -> NetworkInterface {
        NetworkInterface {
            network_interface_id: id.into(),
            subnet_id: Some("subnet-1".into()),
            vpc_id: Some("vpc-1".into()),
            attachment: Some(NetworkInterfaceAttachment { instance_id: Some(instance.into()), device_index: Some(device), ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn instances_join_their_listed_interfaces_and_elastic_addresses_by_instance_id() {
        let mut regional = RegionalInventory::default();
        let ec2 = &mut regional.ec2;
        // i-1's interfaces were listed (a secondary first); the instance names none.
        ec2.network_interfaces.push(listed("eni-1b", "i-1", 1));
        ec2.network_interfaces.push(listed("eni-1", "i-1", 0));
        // eni-2 was listed attached to i-9, the instance says i-3 holds it.
        ec2.network_interfaces.push(listed("eni-2", "i-9", 0));
        ec2.instances.push(instance("i-1", "1.1.1.1", Vec::new()));
        ec2.instances.push(instance("i-2", "2.2.2.2", Vec::new()));
        ec2.instances.push(instance("i-3", "3.3.3.3", vec![InstanceNetworkInterface { network_interface_id: "eni-2".into(), ..Default::default() }]));
        // i-2 again (a duplicate listing): its first view is the one found.
        ec2.instances.push(instance("i-2", "2.2.2.3", Vec::new()));
        ec2.addresses.push(Address { public_ip: Some("9.9.9.3".into()), instance_id: Some("i-3".into()), ..Default::default() });
        ec2.addresses.push(Address { public_ip: Some("9.9.9.2".into()), instance_id: Some("i-2".into()), ..Default::default() });
        ec2.addresses.push(Address { public_ip: Some("9.9.9.9".into()), instance_id: Some("i-9".into()), ..Default::default() });
        let views = interfaces(&regional);
        type Summary<'v> = (Option<&'v str>, Option<&'v str>, bool, Vec<&'v str>);
        let summary: Vec<Summary<'_>> = views
            .iter()
            .map(|view| (view.interface_id.as_deref(), view.instance_id.as_deref(), view.primary, view.public_ipv4.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (Some("eni-1b"), Some("i-1"), false, vec![]),
                (Some("eni-1"), Some("i-1"), true, vec!["1.1.1.1"]),
                (Some("eni-2"), Some("i-3"), true, vec!["3.3.3.3", "9.9.9.3"]),
                (None, Some("i-2"), true, vec!["2.2.2.2", "2.2.2.3", "9.9.9.2"]),
            ]
        );
    }
}
