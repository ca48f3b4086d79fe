//! EC2 and VPC: instances, images, volumes, snapshots, the network (VPCs, subnets, route tables,
//! NACLs, security groups, gateways, interfaces, addresses, prefix lists), flow logs, launch
//! templates and the account's EBS and IMDS defaults. Every Describe call runs concurrently.

use std::sync::Arc;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types as sdk;
use futures::StreamExt;
use vigil_model::ec2::*;
use vigil_model::{Region, Tags};

use super::time_opt;
use crate::RegionalPatch;
use crate::session::{Call, Session};

/// The regions enabled in the account (DescribeRegions); falls back to the home region.
pub async fn enabled_regions(session: &Session, home_region: &str) -> Vec<String> {
    let client = crate::sdk_client!(aws_sdk_ec2, session, home_region);
    let call = Call::new("ec2", Region::GLOBAL, "DescribeRegions");
    let regions: Vec<String> = crate::call!(session, call, client.describe_regions().all_regions(false).send())
        .map(|output| output.regions.unwrap_or_default().into_iter().filter_map(|region| region.region_name).collect())
        .unwrap_or_default();
    if regions.is_empty() { vec![home_region.to_string()] } else { regions }
}

fn tags(list: Option<Vec<sdk::Tag>>) -> Tags {
    list.unwrap_or_default().into_iter().filter_map(|tag| Some((tag.key?, tag.value.unwrap_or_default()))).collect()
}

fn group_identifiers(list: Option<Vec<sdk::GroupIdentifier>>) -> Vec<GroupIdentifier> {
    list.unwrap_or_default().into_iter().map(|group| GroupIdentifier { group_id: group.group_id.unwrap_or_default(), group_name: group.group_name }).collect()
}

/// Paginates a Describe call and maps every item of every page.
macro_rules! describe_all {
    ($session:expr, $region:expr, $operation:literal, $request:expr, $field:ident, $convert:expr) => {
        async {
            let mut items = Vec::new();
            let call = Call::new("ec2", $region, $operation);
            crate::for_each_page!($session, call, $request.into_paginator().send(), |page| {
                items.extend(page.$field.unwrap_or_default().into_iter().map($convert));
            });
            items
        }
    };
}

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_ec2, session, &region);
    let session = session.as_ref();
    let region = region.as_str();
    // The three groups of Describe calls are independent: run them all at once.
    let core = async {
        tokio::join!(
            instances(session, &client, region),
            images(session, &client, region),
            describe_all!(session, region, "DescribeVolumes", client.describe_volumes(), volumes, volume),
            snapshots(session, &client, region),
            describe_all!(session, region, "DescribeSecurityGroups", client.describe_security_groups(), security_groups, security_group),
            describe_all!(session, region, "DescribeNetworkAcls", client.describe_network_acls(), network_acls, network_acl),
            describe_all!(session, region, "DescribeRouteTables", client.describe_route_tables(), route_tables, route_table),
            describe_all!(session, region, "DescribeSubnets", client.describe_subnets(), subnets, subnet),
            describe_all!(session, region, "DescribeVpcs", client.describe_vpcs(), vpcs, vpc),
        )
    };
    let gateways = async {
        tokio::join!(
            describe_all!(session, region, "DescribeInternetGateways", client.describe_internet_gateways(), internet_gateways, internet_gateway),
            describe_all!(
                session,
                region,
                "DescribeEgressOnlyInternetGateways",
                client.describe_egress_only_internet_gateways(),
                egress_only_internet_gateways,
                egress_only_internet_gateway
            ),
            describe_all!(session, region, "DescribeNatGateways", client.describe_nat_gateways(), nat_gateways, nat_gateway),
            describe_all!(
                session,
                region,
                "DescribeVpcPeeringConnections",
                client.describe_vpc_peering_connections(),
                vpc_peering_connections,
                vpc_peering_connection
            ),
            describe_all!(session, region, "DescribeNetworkInterfaces", client.describe_network_interfaces(), network_interfaces, network_interface),
            describe_all!(session, region, "DescribeFlowLogs", client.describe_flow_logs(), flow_logs, flow_log),
        )
    };
    let settings = async {
        tokio::join!(
            vpn_gateways(session, &client, region),
            addresses(session, &client, region),
            managed_prefix_lists(session, &client, region),
            launch_templates(session, &client, region),
            async {
                let call = Call::new("ec2", region, "GetEbsEncryptionByDefault");
                crate::call!(session, call, client.get_ebs_encryption_by_default().send()).and_then(|output| output.ebs_encryption_by_default)
            },
            async {
                let call = Call::new("ec2", region, "GetEbsDefaultKmsKeyId");
                crate::call!(session, call, client.get_ebs_default_kms_key_id().send()).and_then(|output| output.kms_key_id)
            },
            async {
                let call = Call::new("ec2", region, "GetInstanceMetadataDefaults");
                crate::call!(session, call, client.get_instance_metadata_defaults().send()).and_then(|output| output.account_level).map(|defaults| {
                    InstanceMetadataDefaults {
                        http_tokens: defaults.http_tokens.map(|value| value.as_str().to_string()),
                        http_put_response_hop_limit: defaults.http_put_response_hop_limit,
                        http_endpoint: defaults.http_endpoint.map(|value| value.as_str().to_string()),
                        instance_metadata_tags: defaults.instance_metadata_tags.map(|value| value.as_str().to_string()),
                    }
                })
            },
        )
    };
    let (
        (instances, images, volumes, snapshots, security_groups, network_acls, route_tables, subnets, vpcs),
        (internet_gateways, egress_only_internet_gateways, nat_gateways, vpc_peering_connections, network_interfaces, flow_logs),
        (vpn_gateways, addresses, managed_prefix_lists, launch_templates, ebs_encryption_by_default, ebs_default_kms_key_id, instance_metadata_defaults),
    ) = tokio::join!(core, gateways, settings);
    let ec2 = Ec2 {
        instances,
        images,
        volumes,
        snapshots,
        security_groups,
        network_acls,
        route_tables,
        subnets,
        vpcs,
        internet_gateways,
        egress_only_internet_gateways,
        nat_gateways,
        vpc_peering_connections,
        vpn_gateways,
        network_interfaces,
        addresses,
        flow_logs,
        managed_prefix_lists,
        launch_templates,
        ebs_encryption_by_default,
        ebs_default_kms_key_id,
        instance_metadata_defaults,
        images_in_use: Vec::new(),
    };
    Box::new(move |regional| regional.ec2 = ec2)
}

async fn instances(session: &Session, client: &Client, region: &str) -> Vec<Instance> {
    let mut instances = Vec::new();
    let call = Call::new("ec2", region, "DescribeInstances");
    crate::for_each_page!(session, call, client.describe_instances().into_paginator().send(), |page| {
        for reservation in page.reservations.unwrap_or_default() {
            instances.extend(reservation.instances.unwrap_or_default().into_iter().map(instance));
        }
    });
    // User data is read per instance (DescribeInstances does not return it) and judged here by
    // the secrets detector; only what it found is kept.
    futures::stream::iter(instances)
        .map(|mut instance| async move {
            if instance.is_gone() {
                return instance;
            }
            let call = Call::new("ec2", region, "DescribeInstanceAttribute").on(&instance.instance_id);
            let request = client.describe_instance_attribute().instance_id(&instance.instance_id).attribute(sdk::InstanceAttributeName::UserData);
            if let Some(output) = crate::call!(session, call, request.send()) {
                let encoded = output.user_data.and_then(|value| value.value).unwrap_or_default();
                instance.user_data_secrets = super::secrets::in_user_data(&encoded, "");
            }
            instance
        })
        .buffer_unordered(session.fan_out())
        .collect()
        .await
}

pub(crate) fn instance(instance: sdk::Instance) -> Instance {
    Instance {
        instance_id: instance.instance_id.unwrap_or_default(),
        image_id: instance.image_id,
        instance_type: instance.instance_type.map(|value| value.as_str().to_string()),
        key_name: instance.key_name,
        launch_time: time_opt(instance.launch_time.as_ref()),
        state: instance
            .state
            .map(|state| InstanceState { name: state.name.map(|name| name.as_str().to_string()).unwrap_or_default(), code: state.code })
            .unwrap_or_default(),
        platform: instance.platform_details,
        vpc_id: instance.vpc_id,
        subnet_id: instance.subnet_id,
        private_ip_address: instance.private_ip_address,
        public_ip_address: instance.public_ip_address,
        public_dns_name: instance.public_dns_name.filter(|name| !name.is_empty()),
        ipv6_address: instance.ipv6_address,
        security_groups: group_identifiers(instance.security_groups),
        network_interfaces: instance
            .network_interfaces
            .unwrap_or_default()
            .into_iter()
            .map(|interface| InstanceNetworkInterface {
                network_interface_id: interface.network_interface_id.unwrap_or_default(),
                subnet_id: interface.subnet_id,
                vpc_id: interface.vpc_id,
                private_ip_address: interface.private_ip_address,
                public_ip: interface.association.and_then(|association| association.public_ip),
                ipv6_addresses: interface.ipv6_addresses.unwrap_or_default().into_iter().filter_map(|address| address.ipv6_address).collect(),
                groups: group_identifiers(interface.groups),
                device_index: interface.attachment.and_then(|attachment| attachment.device_index),
            })
            .collect(),
        iam_instance_profile: instance.iam_instance_profile.map(|profile| IamInstanceProfile { arn: profile.arn.unwrap_or_default(), id: profile.id }),
        metadata_options: instance.metadata_options.map(|options| InstanceMetadataOptions {
            http_tokens: options.http_tokens.map(|value| value.as_str().to_string()),
            http_endpoint: options.http_endpoint.map(|value| value.as_str().to_string()),
            http_put_response_hop_limit: options.http_put_response_hop_limit,
            instance_metadata_tags: options.instance_metadata_tags.map(|value| value.as_str().to_string()),
            http_protocol_ipv6: options.http_protocol_ipv6.map(|value| value.as_str().to_string()),
        }),
        monitoring_state: instance.monitoring.and_then(|monitoring| monitoring.state).map(|state| state.as_str().to_string()),
        ebs_optimized: instance.ebs_optimized,
        block_device_mappings: instance
            .block_device_mappings
            .unwrap_or_default()
            .into_iter()
            .map(|mapping| InstanceBlockDeviceMapping {
                device_name: mapping.device_name,
                volume_id: mapping.ebs.as_ref().and_then(|ebs| ebs.volume_id.clone()),
                delete_on_termination: mapping.ebs.and_then(|ebs| ebs.delete_on_termination),
            })
            .collect(),
        tags: tags(instance.tags),
        user_data_secrets: Vec::new(),
    }
}

/// The error codes DescribeImages answers for an id it does not know (a deregistered AMI, or
/// one no longer shared with the account).
const IMAGE_NOT_FOUND_CODES: &[&str] = &["InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"];

/// Looks up, in each region, every AMI the region's instances, launch template versions and
/// launch configurations use, by id whoever owns it: one DescribeImages call per image (a batch
/// fails as a whole when one id is unknown, and an unknown id is the answer we want). Runs
/// after the regional collectors, which found the ids.
pub async fn images_in_use(session: &Session, inventory: &mut vigil_model::Inventory) {
    let wanted: Vec<(Region, std::collections::BTreeSet<String>)> = inventory
        .regional
        .iter()
        .map(|(region, regional)| {
            let mut image_ids: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
            let running = regional.ec2.instances.iter().filter(|instance| !instance.is_gone());
            image_ids.extend(running.filter_map(|instance| instance.image_id.clone()));
            image_ids.extend(
                regional.ec2.launch_templates.iter().flat_map(|template| template.version_images.iter().filter_map(|version| version.image_id.clone())),
            );
            image_ids.extend(regional.launch_configurations.iter().filter_map(|configuration| configuration.image_id.clone()));
            image_ids.retain(|image_id| !image_id.is_empty() && !image_id.starts_with("resolve:ssm:"));
            (region.clone(), image_ids)
        })
        .filter(|(_, image_ids)| !image_ids.is_empty())
        .collect();
    // Every region at once.
    let found = futures::future::join_all(wanted.into_iter().map(|(region, image_ids)| async move {
        let images = images_by_id(session, region.as_str(), image_ids).await;
        (region, images)
    }))
    .await;
    for (region, images) in found {
        if let Some(regional) = inventory.regional.get_mut(&region) {
            regional.ec2.images_in_use = images;
        }
    }
}

/// One region's images in use, by id, sorted by id.
async fn images_by_id(session: &Session, region: &str, image_ids: std::collections::BTreeSet<String>) -> Vec<ImageInUse> {
    let client = crate::sdk_client!(aws_sdk_ec2, session, region);
    let client = &client;
    let mut found: Vec<ImageInUse> = futures::stream::iter(image_ids)
        .map(|image_id| async move {
            let call = Call::new("ec2", region, "DescribeImages").on(&image_id);
            let request = client.describe_images().image_ids(&image_id).include_deprecated(true);
            let output = crate::call_absent!(session, call, request.send(), IMAGE_NOT_FOUND_CODES);
            let image = output
                .and_then(|output| output.images)
                .and_then(|images| images.into_iter().find(|image| image.image_id.as_deref() == Some(image_id.as_str())));
            // A failed call leaves `image` empty too: the checks tell the two apart through the
            // ledger, which says the call failed (ERROR) rather than the image is gone.
            ImageInUse { image: image.map(image_of), image_id }
        })
        .buffer_unordered(session.fan_out())
        .collect()
        .await;
    found.sort_by(|a, b| a.image_id.cmp(&b.image_id));
    found
}

fn image_of(image: sdk::Image) -> Image {
    Image {
        image_id: image.image_id.unwrap_or_default(),
        name: image.name,
        owner_id: image.owner_id,
        public: image.public.unwrap_or(false),
        state: image.state.map(|value| value.as_str().to_string()),
        creation_date: image.creation_date,
        deprecation_time: image.deprecation_time,
        block_device_mappings: image
            .block_device_mappings
            .unwrap_or_default()
            .into_iter()
            .map(|mapping| ImageBlockDeviceMapping {
                device_name: mapping.device_name,
                snapshot_id: mapping.ebs.as_ref().and_then(|ebs| ebs.snapshot_id.clone()),
                encrypted: mapping.ebs.and_then(|ebs| ebs.encrypted),
            })
            .collect(),
        tags: tags(image.tags),
    }
}

async fn images(session: &Session, client: &Client, region: &str) -> Vec<Image> {
    let mut images = Vec::new();
    let call = Call::new("ec2", region, "DescribeImages");
    crate::for_each_page!(session, call, client.describe_images().owners("self").into_paginator().send(), |page| {
        images.extend(page.images.unwrap_or_default().into_iter().map(image_of));
    });
    images
}

fn volume(volume: sdk::Volume) -> Volume {
    Volume {
        volume_id: volume.volume_id.unwrap_or_default(),
        size: volume.size,
        volume_type: volume.volume_type.map(|value| value.as_str().to_string()),
        encrypted: volume.encrypted.unwrap_or(false),
        kms_key_id: volume.kms_key_id,
        state: volume.state.map(|value| value.as_str().to_string()),
        availability_zone: volume.availability_zone,
        snapshot_id: volume.snapshot_id.filter(|id| !id.is_empty()),
        create_time: time_opt(volume.create_time.as_ref()),
        attachments: volume
            .attachments
            .unwrap_or_default()
            .into_iter()
            .map(|attachment| VolumeAttachment {
                instance_id: attachment.instance_id,
                device: attachment.device,
                state: attachment.state.map(|value| value.as_str().to_string()),
            })
            .collect(),
        tags: tags(volume.tags),
    }
}

async fn snapshots(session: &Session, client: &Client, region: &str) -> Vec<Snapshot> {
    let mut snapshots = Vec::new();
    let call = Call::new("ec2", region, "DescribeSnapshots");
    crate::for_each_page!(session, call, client.describe_snapshots().owner_ids("self").into_paginator().send(), |page| {
        snapshots.extend(page.snapshots.unwrap_or_default().into_iter().map(|snapshot| Snapshot {
            snapshot_id: snapshot.snapshot_id.unwrap_or_default(),
            volume_id: snapshot.volume_id,
            volume_size: snapshot.volume_size,
            encrypted: snapshot.encrypted.unwrap_or(false),
            kms_key_id: snapshot.kms_key_id,
            owner_id: snapshot.owner_id,
            state: snapshot.state.map(|value| value.as_str().to_string()),
            start_time: time_opt(snapshot.start_time.as_ref()),
            description: snapshot.description,
            create_volume_permissions: Vec::new(),
            tags: tags(snapshot.tags),
        }));
    });
    futures::stream::iter(snapshots)
        .map(|mut snapshot| async move {
            let call = Call::new("ec2", region, "DescribeSnapshotAttribute").on(&snapshot.snapshot_id);
            let request = client.describe_snapshot_attribute().snapshot_id(&snapshot.snapshot_id).attribute(sdk::SnapshotAttributeName::CreateVolumePermission);
            if let Some(output) = crate::call!(session, call, request.send()) {
                snapshot.create_volume_permissions = output
                    .create_volume_permissions
                    .unwrap_or_default()
                    .into_iter()
                    .map(|permission| CreateVolumePermission { group: permission.group.map(|group| group.as_str().to_string()), user_id: permission.user_id })
                    .collect();
            }
            snapshot
        })
        .buffer_unordered(session.fan_out())
        .collect()
        .await
}

fn ip_permission(permission: sdk::IpPermission) -> IpPermission {
    IpPermission {
        ip_protocol: permission.ip_protocol.unwrap_or_else(|| "-1".to_string()),
        from_port: permission.from_port,
        to_port: permission.to_port,
        ip_ranges: permission
            .ip_ranges
            .unwrap_or_default()
            .into_iter()
            .map(|range| IpRange { cidr_ip: range.cidr_ip.unwrap_or_default(), description: range.description })
            .collect(),
        ipv6_ranges: permission
            .ipv6_ranges
            .unwrap_or_default()
            .into_iter()
            .map(|range| Ipv6Range { cidr_ipv6: range.cidr_ipv6.unwrap_or_default(), description: range.description })
            .collect(),
        prefix_list_ids: permission
            .prefix_list_ids
            .unwrap_or_default()
            .into_iter()
            .map(|prefix_list| PrefixListId { prefix_list_id: prefix_list.prefix_list_id.unwrap_or_default(), description: prefix_list.description })
            .collect(),
        user_id_group_pairs: permission
            .user_id_group_pairs
            .unwrap_or_default()
            .into_iter()
            .map(|pair| UserIdGroupPair {
                group_id: pair.group_id,
                group_name: pair.group_name,
                user_id: pair.user_id,
                vpc_id: pair.vpc_id,
                vpc_peering_connection_id: pair.vpc_peering_connection_id,
                peering_status: pair.peering_status,
                description: pair.description,
            })
            .collect(),
    }
}

/// A group's rules in a canonical order. AWS returns rules and their sources in no defined
/// order (a source revoked and authorized again comes back last), so without sorting the same
/// rules could read as a changed configuration.
fn sorted_permissions(mut permissions: Vec<IpPermission>) -> Vec<IpPermission> {
    for permission in &mut permissions {
        permission.ip_ranges.sort_by(|a, b| (&a.cidr_ip, &a.description).cmp(&(&b.cidr_ip, &b.description)));
        permission.ipv6_ranges.sort_by(|a, b| (&a.cidr_ipv6, &a.description).cmp(&(&b.cidr_ipv6, &b.description)));
        permission.prefix_list_ids.sort_by(|a, b| (&a.prefix_list_id, &a.description).cmp(&(&b.prefix_list_id, &b.description)));
        permission.user_id_group_pairs.sort_by(|a, b| (&a.group_id, &a.user_id, &a.description).cmp(&(&b.group_id, &b.user_id, &b.description)));
    }
    permissions.sort_by(|a, b| (&a.ip_protocol, a.from_port, a.to_port).cmp(&(&b.ip_protocol, b.from_port, b.to_port)));
    permissions
}

pub(crate) fn security_group(group: sdk::SecurityGroup) -> SecurityGroup {
    SecurityGroup {
        group_id: group.group_id.unwrap_or_default(),
        group_name: group.group_name.unwrap_or_default(),
        description: group.description,
        vpc_id: group.vpc_id,
        owner_id: group.owner_id,
        ip_permissions: sorted_permissions(group.ip_permissions.unwrap_or_default().into_iter().map(ip_permission).collect()),
        ip_permissions_egress: sorted_permissions(group.ip_permissions_egress.unwrap_or_default().into_iter().map(ip_permission).collect()),
        tags: tags(group.tags),
    }
}

fn network_acl(acl: sdk::NetworkAcl) -> NetworkAcl {
    NetworkAcl {
        network_acl_id: acl.network_acl_id.unwrap_or_default(),
        vpc_id: acl.vpc_id,
        is_default: acl.is_default.unwrap_or(false),
        entries: acl
            .entries
            .unwrap_or_default()
            .into_iter()
            .map(|entry| NetworkAclEntry {
                rule_number: entry.rule_number.unwrap_or_default(),
                protocol: entry.protocol.unwrap_or_else(|| "-1".to_string()),
                rule_action: entry.rule_action.map(|value| value.as_str().to_string()).unwrap_or_default(),
                egress: entry.egress.unwrap_or(false),
                cidr_block: entry.cidr_block,
                ipv6_cidr_block: entry.ipv6_cidr_block,
                icmp_type_code: entry.icmp_type_code.map(|icmp| IcmpTypeCode { code: icmp.code, r#type: icmp.r#type }),
                port_range: entry.port_range.map(|range| PortRange { from: range.from, to: range.to }),
            })
            .collect(),
        associations: acl
            .associations
            .unwrap_or_default()
            .into_iter()
            .map(|association| NetworkAclAssociation {
                network_acl_association_id: association.network_acl_association_id,
                network_acl_id: association.network_acl_id,
                subnet_id: association.subnet_id,
            })
            .collect(),
        owner_id: acl.owner_id,
        tags: tags(acl.tags),
    }
}

fn route_table(table: sdk::RouteTable) -> RouteTable {
    RouteTable {
        route_table_id: table.route_table_id.unwrap_or_default(),
        vpc_id: table.vpc_id,
        routes: table
            .routes
            .unwrap_or_default()
            .into_iter()
            .map(|route| Route {
                destination_cidr_block: route.destination_cidr_block,
                destination_ipv6_cidr_block: route.destination_ipv6_cidr_block,
                destination_prefix_list_id: route.destination_prefix_list_id,
                gateway_id: route.gateway_id,
                egress_only_internet_gateway_id: route.egress_only_internet_gateway_id,
                nat_gateway_id: route.nat_gateway_id,
                instance_id: route.instance_id,
                network_interface_id: route.network_interface_id,
                transit_gateway_id: route.transit_gateway_id,
                vpc_peering_connection_id: route.vpc_peering_connection_id,
                local_gateway_id: route.local_gateway_id,
                carrier_gateway_id: route.carrier_gateway_id,
                state: route.state.map(|value| value.as_str().to_string()),
                origin: route.origin.map(|value| value.as_str().to_string()),
            })
            .collect(),
        associations: table
            .associations
            .unwrap_or_default()
            .into_iter()
            .map(|association| RouteTableAssociation {
                route_table_association_id: association.route_table_association_id,
                route_table_id: association.route_table_id,
                subnet_id: association.subnet_id,
                gateway_id: association.gateway_id,
                main: association.main.unwrap_or(false),
            })
            .collect(),
        owner_id: table.owner_id,
        tags: tags(table.tags),
    }
}

fn subnet(subnet: sdk::Subnet) -> Subnet {
    Subnet {
        subnet_id: subnet.subnet_id.unwrap_or_default(),
        subnet_arn: subnet.subnet_arn,
        vpc_id: subnet.vpc_id.unwrap_or_default(),
        cidr_block: subnet.cidr_block,
        ipv6_cidr_blocks: subnet
            .ipv6_cidr_block_association_set
            .unwrap_or_default()
            .into_iter()
            .filter_map(|association| association.ipv6_cidr_block)
            .collect(),
        availability_zone: subnet.availability_zone,
        map_public_ip_on_launch: subnet.map_public_ip_on_launch.unwrap_or(false),
        assign_ipv6_address_on_creation: subnet.assign_ipv6_address_on_creation.unwrap_or(false),
        default_for_az: subnet.default_for_az.unwrap_or(false),
        state: subnet.state.map(|value| value.as_str().to_string()),
        owner_id: subnet.owner_id,
        tags: tags(subnet.tags),
    }
}

fn vpc(vpc: sdk::Vpc) -> Vpc {
    Vpc {
        vpc_id: vpc.vpc_id.unwrap_or_default(),
        cidr_blocks: vpc.cidr_block_association_set.unwrap_or_default().into_iter().filter_map(|association| association.cidr_block).collect(),
        cidr_block: vpc.cidr_block,
        ipv6_cidr_blocks: vpc.ipv6_cidr_block_association_set.unwrap_or_default().into_iter().filter_map(|association| association.ipv6_cidr_block).collect(),
        is_default: vpc.is_default.unwrap_or(false),
        state: vpc.state.map(|value| value.as_str().to_string()),
        owner_id: vpc.owner_id,
        tags: tags(vpc.tags),
    }
}

fn attachments(list: Option<Vec<sdk::InternetGatewayAttachment>>) -> Vec<GatewayAttachment> {
    list.unwrap_or_default()
        .into_iter()
        .map(|attachment| GatewayAttachment { vpc_id: attachment.vpc_id.unwrap_or_default(), state: attachment.state.map(|value| value.as_str().to_string()) })
        .collect()
}

fn internet_gateway(gateway: sdk::InternetGateway) -> InternetGateway {
    InternetGateway {
        internet_gateway_id: gateway.internet_gateway_id.unwrap_or_default(),
        attachments: attachments(gateway.attachments),
        owner_id: gateway.owner_id,
        tags: tags(gateway.tags),
    }
}

fn egress_only_internet_gateway(gateway: sdk::EgressOnlyInternetGateway) -> EgressOnlyInternetGateway {
    EgressOnlyInternetGateway {
        egress_only_internet_gateway_id: gateway.egress_only_internet_gateway_id.unwrap_or_default(),
        attachments: attachments(gateway.attachments),
        tags: tags(gateway.tags),
    }
}

fn nat_gateway(gateway: sdk::NatGateway) -> NatGateway {
    NatGateway {
        nat_gateway_id: gateway.nat_gateway_id.unwrap_or_default(),
        vpc_id: gateway.vpc_id,
        subnet_id: gateway.subnet_id,
        state: gateway.state.map(|value| value.as_str().to_string()),
        connectivity_type: gateway.connectivity_type.map(|value| value.as_str().to_string()),
        nat_gateway_addresses: gateway
            .nat_gateway_addresses
            .unwrap_or_default()
            .into_iter()
            .map(|address| NatGatewayAddress {
                allocation_id: address.allocation_id,
                network_interface_id: address.network_interface_id,
                private_ip: address.private_ip,
                public_ip: address.public_ip,
            })
            .collect(),
        tags: tags(gateway.tags),
    }
}

fn peering_info(info: Option<sdk::VpcPeeringConnectionVpcInfo>) -> Option<VpcPeeringConnectionVpcInfo> {
    info.map(|info| VpcPeeringConnectionVpcInfo { vpc_id: info.vpc_id, owner_id: info.owner_id, region: info.region, cidr_block: info.cidr_block })
}

fn vpc_peering_connection(connection: sdk::VpcPeeringConnection) -> VpcPeeringConnection {
    VpcPeeringConnection {
        vpc_peering_connection_id: connection.vpc_peering_connection_id.unwrap_or_default(),
        accepter_vpc_info: peering_info(connection.accepter_vpc_info),
        requester_vpc_info: peering_info(connection.requester_vpc_info),
        status_code: connection.status.and_then(|status| status.code).map(|code| code.as_str().to_string()),
        tags: tags(connection.tags),
    }
}

fn association(association: sdk::NetworkInterfaceAssociation) -> NetworkInterfaceAssociation {
    NetworkInterfaceAssociation {
        public_ip: association.public_ip,
        public_dns_name: association.public_dns_name,
        ip_owner_id: association.ip_owner_id,
        allocation_id: association.allocation_id,
        association_id: association.association_id,
    }
}

fn network_interface(interface: sdk::NetworkInterface) -> NetworkInterface {
    NetworkInterface {
        network_interface_id: interface.network_interface_id.unwrap_or_default(),
        subnet_id: interface.subnet_id,
        vpc_id: interface.vpc_id,
        availability_zone: interface.availability_zone,
        description: interface.description,
        interface_type: interface.interface_type.map(|value| value.as_str().to_string()),
        status: interface.status.map(|value| value.as_str().to_string()),
        owner_id: interface.owner_id,
        requester_id: interface.requester_id,
        requester_managed: interface.requester_managed,
        private_ip_address: interface.private_ip_address,
        private_ip_addresses: interface
            .private_ip_addresses
            .unwrap_or_default()
            .into_iter()
            .map(|address| NetworkInterfacePrivateIpAddress {
                private_ip_address: address.private_ip_address,
                primary: address.primary.unwrap_or(false),
                association: address.association.map(association),
            })
            .collect(),
        ipv6_addresses: interface.ipv6_addresses.unwrap_or_default().into_iter().filter_map(|address| address.ipv6_address).collect(),
        association: interface.association.map(association),
        attachment: interface.attachment.map(|attachment| NetworkInterfaceAttachment {
            attachment_id: attachment.attachment_id,
            instance_id: attachment.instance_id,
            instance_owner_id: attachment.instance_owner_id,
            device_index: attachment.device_index,
            status: attachment.status.map(|value| value.as_str().to_string()),
        }),
        groups: group_identifiers(interface.groups),
        source_dest_check: interface.source_dest_check,
        tags: tags(interface.tag_set),
    }
}

fn flow_log(flow_log: sdk::FlowLog) -> FlowLog {
    FlowLog {
        flow_log_id: flow_log.flow_log_id.unwrap_or_default(),
        resource_id: flow_log.resource_id,
        traffic_type: flow_log.traffic_type.map(|value| value.as_str().to_string()),
        log_destination_type: flow_log.log_destination_type.map(|value| value.as_str().to_string()),
        log_destination: flow_log.log_destination,
        log_group_name: flow_log.log_group_name,
        flow_log_status: flow_log.flow_log_status,
        deliver_logs_status: flow_log.deliver_logs_status,
        tags: tags(flow_log.tags),
    }
}

async fn vpn_gateways(session: &Session, client: &Client, region: &str) -> Vec<VpnGateway> {
    // DescribeVpnGateways is not paginated.
    let call = Call::new("ec2", region, "DescribeVpnGateways");
    crate::call!(session, call, client.describe_vpn_gateways().send())
        .map(|output| output.vpn_gateways.unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .map(|gateway| VpnGateway {
            vpn_gateway_id: gateway.vpn_gateway_id.unwrap_or_default(),
            state: gateway.state.map(|value| value.as_str().to_string()),
            r#type: gateway.r#type.map(|value| value.as_str().to_string()),
            vpc_attachments: gateway
                .vpc_attachments
                .unwrap_or_default()
                .into_iter()
                .map(|attachment| GatewayAttachment {
                    vpc_id: attachment.vpc_id.unwrap_or_default(),
                    state: attachment.state.map(|value| value.as_str().to_string()),
                })
                .collect(),
            tags: tags(gateway.tags),
        })
        .collect()
}

async fn addresses(session: &Session, client: &Client, region: &str) -> Vec<Address> {
    // DescribeAddresses is not paginated.
    let call = Call::new("ec2", region, "DescribeAddresses");
    crate::call!(session, call, client.describe_addresses().send())
        .map(|output| output.addresses.unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .map(|address| Address {
            allocation_id: address.allocation_id,
            public_ip: address.public_ip,
            association_id: address.association_id,
            instance_id: address.instance_id.filter(|id| !id.is_empty()),
            network_interface_id: address.network_interface_id,
            private_ip_address: address.private_ip_address,
            domain: address.domain.map(|value| value.as_str().to_string()),
            tags: tags(address.tags),
        })
        .collect()
}

async fn managed_prefix_lists(session: &Session, client: &Client, region: &str) -> Vec<ManagedPrefixList> {
    let lists =
        describe_all!(session, region, "DescribeManagedPrefixLists", client.describe_managed_prefix_lists(), prefix_lists, |list: sdk::ManagedPrefixList| {
            ManagedPrefixList {
                prefix_list_id: list.prefix_list_id.unwrap_or_default(),
                prefix_list_name: list.prefix_list_name,
                address_family: list.address_family,
                owner_id: list.owner_id,
                prefix_list_arn: list.prefix_list_arn,
                entries: Vec::new(),
                tags: tags(list.tags),
            }
        })
        .await;
    futures::stream::iter(lists)
        .map(|mut list| async move {
            let call = Call::new("ec2", region, "GetManagedPrefixListEntries").on(&list.prefix_list_id);
            let mut entries = Vec::new();
            crate::for_each_page!(
                session,
                call,
                client.get_managed_prefix_list_entries().prefix_list_id(&list.prefix_list_id).into_paginator().send(),
                |page| {
                    entries.extend(
                        page.entries
                            .unwrap_or_default()
                            .into_iter()
                            .map(|entry| PrefixListEntry { cidr: entry.cidr.unwrap_or_default(), description: entry.description }),
                    );
                }
            );
            list.entries = entries;
            list
        })
        .buffer_unordered(session.fan_out())
        .collect()
        .await
}

async fn launch_templates(session: &Session, client: &Client, region: &str) -> Vec<LaunchTemplate> {
    let templates =
        describe_all!(session, region, "DescribeLaunchTemplates", client.describe_launch_templates(), launch_templates, |template: sdk::LaunchTemplate| {
            LaunchTemplate {
                launch_template_id: template.launch_template_id.unwrap_or_default(),
                launch_template_name: template.launch_template_name,
                default_version_number: template.default_version_number,
                latest_version_number: template.latest_version_number,
                create_time: time_opt(template.create_time.as_ref()),
                default_version_data: None,
                tags: tags(template.tags),
                ..LaunchTemplate::default()
            }
        })
        .await;
    futures::stream::iter(templates)
        .map(|mut template| async move {
            // Every version: the default one's settings, each one's AMI, and secrets in each
            // one's user data (an old version still holds what was pasted into it).
            let call = Call::new("ec2", region, "DescribeLaunchTemplateVersions").on(&template.launch_template_id);
            let mut versions = Vec::new();
            crate::for_each_page!(
                session,
                call,
                client.describe_launch_template_versions().launch_template_id(&template.launch_template_id).into_paginator().send(),
                |page| {
                    versions.extend(page.launch_template_versions.unwrap_or_default());
                }
            );
            versions.sort_by_key(|version| version.version_number);
            for version in versions {
                let number = version.version_number.unwrap_or_default();
                let Some(data) = version.launch_template_data else { continue };
                template.version_images.push(LaunchTemplateVersionImage { version_number: number, image_id: data.image_id.clone() });
                if let Some(user_data) = data.user_data.as_deref() {
                    template.user_data_secrets.extend(super::secrets::in_user_data(user_data, &format!("version {number}, ")));
                }
                if version.default_version == Some(true) || template.default_version_number == Some(number) {
                    template.default_version_data = Some(launch_template_data(data));
                }
            }
            template
        })
        .buffer_unordered(session.fan_out())
        .collect()
        .await
}

fn launch_template_data(data: sdk::ResponseLaunchTemplateData) -> LaunchTemplateData {
    let interfaces = data.network_interfaces.unwrap_or_default();
    LaunchTemplateData {
        image_id: data.image_id,
        instance_type: data.instance_type.map(|value| value.as_str().to_string()),
        metadata_options: data.metadata_options.map(|options| InstanceMetadataOptions {
            http_tokens: options.http_tokens.map(|value| value.as_str().to_string()),
            http_endpoint: options.http_endpoint.map(|value| value.as_str().to_string()),
            http_put_response_hop_limit: options.http_put_response_hop_limit,
            instance_metadata_tags: options.instance_metadata_tags.map(|value| value.as_str().to_string()),
            http_protocol_ipv6: options.http_protocol_ipv6.map(|value| value.as_str().to_string()),
        }),
        iam_instance_profile_arn: data.iam_instance_profile.and_then(|profile| profile.arn),
        security_group_ids: data
            .security_group_ids
            .unwrap_or_default()
            .into_iter()
            .chain(interfaces.iter().flat_map(|interface| interface.groups.clone().unwrap_or_default()))
            .collect(),
        associate_public_ip_address: interfaces.iter().filter_map(|interface| interface.associate_public_ip_address).reduce(|a, b| a || b),
        ebs_encrypted: data.block_device_mappings.unwrap_or_default().into_iter().filter_map(|mapping| mapping.ebs.map(|ebs| ebs.encrypted)).collect(),
        has_user_data: data.user_data.is_some_and(|user_data| !user_data.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_group_rules_and_sources_come_in_one_order_whatever_order_aws_used() {
        let range = |cidr: &str| IpRange { cidr_ip: cidr.to_string(), description: None };
        let rule = |port: i32, cidrs: &[&str]| IpPermission {
            ip_protocol: "tcp".into(),
            from_port: Some(port),
            to_port: Some(port),
            ip_ranges: cidrs.iter().map(|cidr| range(cidr)).collect(),
            ..IpPermission::default()
        };
        let one = sorted_permissions(vec![rule(443, &["0.0.0.0/0"]), rule(22, &["10.0.0.0/8", "0.0.0.0/0"])]);
        let other = sorted_permissions(vec![rule(22, &["0.0.0.0/0", "10.0.0.0/8"]), rule(443, &["0.0.0.0/0"])]);
        assert_eq!(one, other);
        assert_eq!(one[0].from_port, Some(22));
    }
}
