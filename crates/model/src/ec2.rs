//! EC2 and VPC resources, shaped like the EC2 API's Describe* responses.

use serde::{Deserialize, Serialize};

use crate::{Tags, Timestamp};

/// Everything EC2/VPC in one region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ec2 {
    pub instances: Vec<Instance>,
    pub images: Vec<Image>,
    pub volumes: Vec<Volume>,
    pub snapshots: Vec<Snapshot>,
    pub security_groups: Vec<SecurityGroup>,
    pub network_acls: Vec<NetworkAcl>,
    pub route_tables: Vec<RouteTable>,
    pub subnets: Vec<Subnet>,
    pub vpcs: Vec<Vpc>,
    pub internet_gateways: Vec<InternetGateway>,
    pub egress_only_internet_gateways: Vec<EgressOnlyInternetGateway>,
    pub nat_gateways: Vec<NatGateway>,
    pub vpc_peering_connections: Vec<VpcPeeringConnection>,
    pub vpn_gateways: Vec<VpnGateway>,
    pub network_interfaces: Vec<NetworkInterface>,
    pub addresses: Vec<Address>,
    pub flow_logs: Vec<FlowLog>,
    pub managed_prefix_lists: Vec<ManagedPrefixList>,
    pub launch_templates: Vec<LaunchTemplate>,
    /// GetEbsEncryptionByDefault.
    pub ebs_encryption_by_default: Option<bool>,
    /// GetEbsDefaultKmsKeyId.
    pub ebs_default_kms_key_id: Option<String>,
    /// GetInstanceMetadataDefaults (account-level IMDS defaults for new instances).
    pub instance_metadata_defaults: Option<InstanceMetadataDefaults>,
    /// Every AMI the region's instances, launch template versions and launch configurations
    /// use, looked up by id whoever owns it (DescribeImages, one call per image).
    pub images_in_use: Vec<ImageInUse>,
}

/// An AMI something in the account launches from, as DescribeImages answered for its id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageInUse {
    pub image_id: String,
    /// None: DescribeImages does not know the id (deregistered, or no longer shared with the
    /// account).
    pub image: Option<Image>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Instance {
    pub instance_id: String,
    pub image_id: Option<String>,
    pub instance_type: Option<String>,
    pub key_name: Option<String>,
    pub launch_time: Option<Timestamp>,
    pub state: InstanceState,
    pub platform: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub private_ip_address: Option<String>,
    pub public_ip_address: Option<String>,
    pub public_dns_name: Option<String>,
    pub ipv6_address: Option<String>,
    pub security_groups: Vec<GroupIdentifier>,
    pub network_interfaces: Vec<InstanceNetworkInterface>,
    pub iam_instance_profile: Option<IamInstanceProfile>,
    pub metadata_options: Option<InstanceMetadataOptions>,
    /// `Monitoring.State`: `enabled` means detailed monitoring.
    pub monitoring_state: Option<String>,
    pub ebs_optimized: Option<bool>,
    pub block_device_mappings: Vec<InstanceBlockDeviceMapping>,
    pub tags: Tags,
    /// What the secrets detector found in the instance's user data (DescribeInstanceAttribute
    /// `userData`, decoded); the user data itself is not kept.
    pub user_data_secrets: Vec<crate::sensitive::SecretFound>,
}

impl Instance {
    /// Terminated or shutting down: it runs nothing any longer, so checks do not judge it and
    /// collection reads nothing more about it.
    pub fn is_gone(&self) -> bool {
        matches!(self.state.name.as_str(), "terminated" | "shutting-down")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceState {
    /// pending | running | shutting-down | terminated | stopping | stopped
    pub name: String,
    pub code: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GroupIdentifier {
    pub group_id: String,
    pub group_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceNetworkInterface {
    pub network_interface_id: String,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub private_ip_address: Option<String>,
    pub public_ip: Option<String>,
    pub ipv6_addresses: Vec<String>,
    pub groups: Vec<GroupIdentifier>,
    pub device_index: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IamInstanceProfile {
    pub arn: String,
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceMetadataOptions {
    /// `required` means IMDSv2 only.
    pub http_tokens: Option<String>,
    pub http_endpoint: Option<String>,
    pub http_put_response_hop_limit: Option<i32>,
    pub instance_metadata_tags: Option<String>,
    /// The IPv6 endpoint of the instance metadata service (`enabled` / `disabled`); absent
    /// in snapshots taken before it was collected.
    pub http_protocol_ipv6: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceBlockDeviceMapping {
    pub device_name: Option<String>,
    pub volume_id: Option<String>,
    pub delete_on_termination: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceMetadataDefaults {
    pub http_tokens: Option<String>,
    pub http_put_response_hop_limit: Option<i32>,
    pub http_endpoint: Option<String>,
    pub instance_metadata_tags: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Image {
    pub image_id: String,
    pub name: Option<String>,
    pub owner_id: Option<String>,
    pub public: bool,
    pub state: Option<String>,
    pub creation_date: Option<String>,
    pub deprecation_time: Option<String>,
    pub block_device_mappings: Vec<ImageBlockDeviceMapping>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageBlockDeviceMapping {
    pub device_name: Option<String>,
    pub snapshot_id: Option<String>,
    pub encrypted: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Volume {
    pub volume_id: String,
    pub size: Option<i32>,
    pub volume_type: Option<String>,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub state: Option<String>,
    pub availability_zone: Option<String>,
    pub snapshot_id: Option<String>,
    pub create_time: Option<Timestamp>,
    pub attachments: Vec<VolumeAttachment>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeAttachment {
    pub instance_id: Option<String>,
    pub device: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Snapshot {
    pub snapshot_id: String,
    pub volume_id: Option<String>,
    pub volume_size: Option<i32>,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub owner_id: Option<String>,
    pub state: Option<String>,
    pub start_time: Option<Timestamp>,
    pub description: Option<String>,
    /// DescribeSnapshotAttribute(createVolumePermission); `Group: all` means public.
    pub create_volume_permissions: Vec<CreateVolumePermission>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateVolumePermission {
    pub group: Option<String>,
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SecurityGroup {
    pub group_id: String,
    pub group_name: String,
    pub description: Option<String>,
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    pub ip_permissions: Vec<IpPermission>,
    pub ip_permissions_egress: Vec<IpPermission>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpPermission {
    /// `tcp`, `udp`, `icmp`, `icmpv6`, a protocol number, or `-1` for all.
    pub ip_protocol: String,
    /// For ICMP, the type; -1 for all.
    pub from_port: Option<i32>,
    /// For ICMP, the code; -1 for all.
    pub to_port: Option<i32>,
    pub ip_ranges: Vec<IpRange>,
    pub ipv6_ranges: Vec<Ipv6Range>,
    pub prefix_list_ids: Vec<PrefixListId>,
    pub user_id_group_pairs: Vec<UserIdGroupPair>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpRange {
    pub cidr_ip: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ipv6Range {
    pub cidr_ipv6: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PrefixListId {
    pub prefix_list_id: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UserIdGroupPair {
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub user_id: Option<String>,
    pub vpc_id: Option<String>,
    pub vpc_peering_connection_id: Option<String>,
    pub peering_status: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkAcl {
    pub network_acl_id: String,
    pub vpc_id: Option<String>,
    pub is_default: bool,
    pub entries: Vec<NetworkAclEntry>,
    pub associations: Vec<NetworkAclAssociation>,
    pub owner_id: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkAclEntry {
    pub rule_number: i32,
    /// Protocol number as a string: `6` tcp, `17` udp, `1` icmp, `58` icmpv6, `-1` all.
    pub protocol: String,
    /// `allow` or `deny`.
    pub rule_action: String,
    pub egress: bool,
    pub cidr_block: Option<String>,
    pub ipv6_cidr_block: Option<String>,
    pub icmp_type_code: Option<IcmpTypeCode>,
    pub port_range: Option<PortRange>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IcmpTypeCode {
    pub code: Option<i32>,
    pub r#type: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortRange {
    pub from: Option<i32>,
    pub to: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkAclAssociation {
    pub network_acl_association_id: Option<String>,
    pub network_acl_id: Option<String>,
    pub subnet_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RouteTable {
    pub route_table_id: String,
    pub vpc_id: Option<String>,
    pub routes: Vec<Route>,
    pub associations: Vec<RouteTableAssociation>,
    pub owner_id: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Route {
    pub destination_cidr_block: Option<String>,
    pub destination_ipv6_cidr_block: Option<String>,
    pub destination_prefix_list_id: Option<String>,
    /// `local`, an internet gateway (`igw-`), or a virtual private gateway (`vgw-`).
    pub gateway_id: Option<String>,
    pub egress_only_internet_gateway_id: Option<String>,
    pub nat_gateway_id: Option<String>,
    pub instance_id: Option<String>,
    pub network_interface_id: Option<String>,
    pub transit_gateway_id: Option<String>,
    pub vpc_peering_connection_id: Option<String>,
    pub local_gateway_id: Option<String>,
    pub carrier_gateway_id: Option<String>,
    /// `active` or `blackhole`.
    pub state: Option<String>,
    pub origin: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RouteTableAssociation {
    pub route_table_association_id: Option<String>,
    pub route_table_id: Option<String>,
    pub subnet_id: Option<String>,
    pub gateway_id: Option<String>,
    pub main: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Subnet {
    pub subnet_id: String,
    pub subnet_arn: Option<String>,
    pub vpc_id: String,
    pub cidr_block: Option<String>,
    pub ipv6_cidr_blocks: Vec<String>,
    pub availability_zone: Option<String>,
    pub map_public_ip_on_launch: bool,
    pub assign_ipv6_address_on_creation: bool,
    pub default_for_az: bool,
    pub state: Option<String>,
    pub owner_id: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Vpc {
    pub vpc_id: String,
    pub cidr_block: Option<String>,
    /// All IPv4 CIDR blocks associated with the VPC (including the primary).
    pub cidr_blocks: Vec<String>,
    pub ipv6_cidr_blocks: Vec<String>,
    pub is_default: bool,
    pub state: Option<String>,
    pub owner_id: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InternetGateway {
    pub internet_gateway_id: String,
    pub attachments: Vec<GatewayAttachment>,
    pub owner_id: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GatewayAttachment {
    pub vpc_id: String,
    pub state: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EgressOnlyInternetGateway {
    pub egress_only_internet_gateway_id: String,
    pub attachments: Vec<GatewayAttachment>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NatGateway {
    pub nat_gateway_id: String,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub state: Option<String>,
    /// `public` or `private`.
    pub connectivity_type: Option<String>,
    pub nat_gateway_addresses: Vec<NatGatewayAddress>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NatGatewayAddress {
    pub allocation_id: Option<String>,
    pub network_interface_id: Option<String>,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VpcPeeringConnection {
    pub vpc_peering_connection_id: String,
    pub accepter_vpc_info: Option<VpcPeeringConnectionVpcInfo>,
    pub requester_vpc_info: Option<VpcPeeringConnectionVpcInfo>,
    /// `Status.Code`: active, pending-acceptance, deleted, ...
    pub status_code: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VpcPeeringConnectionVpcInfo {
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    pub region: Option<String>,
    pub cidr_block: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VpnGateway {
    pub vpn_gateway_id: String,
    pub state: Option<String>,
    pub r#type: Option<String>,
    pub vpc_attachments: Vec<GatewayAttachment>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkInterface {
    pub network_interface_id: String,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub availability_zone: Option<String>,
    pub description: Option<String>,
    /// `interface`, `nat_gateway`, `network_load_balancer`, ...
    pub interface_type: Option<String>,
    pub status: Option<String>,
    pub owner_id: Option<String>,
    pub requester_id: Option<String>,
    pub requester_managed: Option<bool>,
    pub private_ip_address: Option<String>,
    pub private_ip_addresses: Vec<NetworkInterfacePrivateIpAddress>,
    pub ipv6_addresses: Vec<String>,
    pub association: Option<NetworkInterfaceAssociation>,
    pub attachment: Option<NetworkInterfaceAttachment>,
    pub groups: Vec<GroupIdentifier>,
    pub source_dest_check: Option<bool>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkInterfacePrivateIpAddress {
    pub private_ip_address: Option<String>,
    pub primary: bool,
    pub association: Option<NetworkInterfaceAssociation>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkInterfaceAssociation {
    pub public_ip: Option<String>,
    pub public_dns_name: Option<String>,
    pub ip_owner_id: Option<String>,
    pub allocation_id: Option<String>,
    pub association_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkInterfaceAttachment {
    pub attachment_id: Option<String>,
    pub instance_id: Option<String>,
    pub instance_owner_id: Option<String>,
    pub device_index: Option<i32>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Address {
    pub allocation_id: Option<String>,
    pub public_ip: Option<String>,
    pub association_id: Option<String>,
    pub instance_id: Option<String>,
    pub network_interface_id: Option<String>,
    pub private_ip_address: Option<String>,
    pub domain: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct FlowLog {
    pub flow_log_id: String,
    pub resource_id: Option<String>,
    /// ACCEPT | REJECT | ALL
    pub traffic_type: Option<String>,
    pub log_destination_type: Option<String>,
    pub log_destination: Option<String>,
    pub log_group_name: Option<String>,
    pub flow_log_status: Option<String>,
    pub deliver_logs_status: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ManagedPrefixList {
    pub prefix_list_id: String,
    pub prefix_list_name: Option<String>,
    pub address_family: Option<String>,
    pub owner_id: Option<String>,
    pub prefix_list_arn: Option<String>,
    /// GetManagedPrefixListEntries.
    pub entries: Vec<PrefixListEntry>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PrefixListEntry {
    pub cidr: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LaunchTemplate {
    pub launch_template_id: String,
    pub launch_template_name: Option<String>,
    pub default_version_number: Option<i64>,
    pub latest_version_number: Option<i64>,
    pub create_time: Option<Timestamp>,
    /// The default version's data (DescribeLaunchTemplateVersions `$Default`).
    pub default_version_data: Option<LaunchTemplateData>,
    pub tags: Tags,
    /// The AMI of every version (DescribeLaunchTemplateVersions, all versions).
    pub version_images: Vec<LaunchTemplateVersionImage>,
    /// What the secrets detector found in the user data of every version; the user data
    /// itself is not kept.
    pub user_data_secrets: Vec<crate::sensitive::SecretFound>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LaunchTemplateVersionImage {
    pub version_number: i64,
    pub image_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LaunchTemplateData {
    pub image_id: Option<String>,
    pub instance_type: Option<String>,
    pub metadata_options: Option<InstanceMetadataOptions>,
    pub iam_instance_profile_arn: Option<String>,
    pub security_group_ids: Vec<String>,
    /// True when any network interface asks for a public IPv4 address.
    pub associate_public_ip_address: Option<bool>,
    /// Encryption flag of each EBS block device mapping, in order.
    pub ebs_encrypted: Vec<Option<bool>>,
    /// True when user data is present (its content is not stored: it often holds secrets).
    pub has_user_data: bool,
}
