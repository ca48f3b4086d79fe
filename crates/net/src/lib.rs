//! vigil-net: exact network reachability from the internet, explained hop by hop.
//!
//! Pure: no I/O, no async. [`Network::new`] indexes an inventory; [`Network::exposures`]
//! computes, for every network interface, instance, load balancer (and the targets behind
//! it) and public database, the exact set of (protocol, ports, source addresses) the
//! internet can deliver, following AWS semantics: internet gateways, route tables (the
//! reply's longest-prefix match must be the internet gateway), network ACLs (first match by
//! rule number, stateless: the reply must pass outbound to an ephemeral port), security
//! groups (union, stateful, CIDR / prefix list / group reference). Sets are interval sets, so
//! the answers are exact. [`Network::explain`] walks one packet and names the hop that drops it.

pub mod access;
pub mod addr;
pub mod engine;
pub mod host_firewall;
pub mod interval;
pub mod rules;
pub mod topology;

pub use access::{Access, Region, Slot};
pub use addr::{Cidr, Family};
pub use engine::{AdmittingRule, Answer, EndpointAnswer, Entry, ExplainError, Exposure, Hop, Network, Question, parse_protocol, parse_source, region_entries};
pub use host_firewall::HostRuleset;
