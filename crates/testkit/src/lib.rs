//! Test support shared by the integration tests: a `moto_server` per test, SDK clients
//! pointed at it, and the scripted "example corp" account used for the demo snapshot.
//!
//! This crate depends on the AWS SDK to seed the emulator; it is a dev-only crate, never
//! linked into `vigil`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod example_corp;
pub mod fault_proxy;
pub mod identity;
pub mod imds;
pub mod moto;
pub mod oidc;

pub use fault_proxy::{Fault, FaultPlan, FaultProxy};
pub use moto::MotoServer;
