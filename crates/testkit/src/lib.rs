//! Test support shared by the integration tests: a `moto_server` per test, SDK clients
//! pointed at it, and the scripted "example corp" account used for the demo snapshot.
//!
//! This crate depends on the AWS SDK to seed the emulator (feature `aws`, on by default);
//! without it, the test IMDS, CA, OpenID Connect provider, fault proxy and network namespaces
//! (`netns`: a real sshd, veth pairs) build alone. It is a
//! dev-only crate, never linked into `vigil`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(feature = "aws")]
pub mod example_corp;
pub mod fault_proxy;
pub mod http1;
pub mod identity;
pub mod imds;
#[cfg(feature = "aws")]
pub mod moto;
pub mod netns;
pub mod oidc;

pub use fault_proxy::{Fault, FaultPlan, FaultProxy};
#[cfg(feature = "aws")]
pub use moto::MotoServer;
