//! The agent fleet's shared logic, pure (no I/O, no async): the wire types spoken between
//! `vigil-agent` and `vigil serve` ([`wire`]), the EC2 instance identity document and the
//! verification of its PKCS#7 signature ([`identity`], feature `verify`), the cloud-aware host
//! policy ([`policy`]) and the agent lifecycle ([`lifecycle`]).
//!
//! The agent links this crate without the `verify` feature, so it carries no certificate
//! parsing; the server enables it.

pub mod ber;
pub mod identity;
pub mod lifecycle;
pub mod policy;
pub mod wire;

pub use identity::IdentityDocument;
pub use lifecycle::Status;
pub use policy::{EffectivePolicy, HostPolicy, InstanceAttributes, ModuleSettings};
pub use wire::Event;
