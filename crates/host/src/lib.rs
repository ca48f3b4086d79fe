//! Host security modules: library code that `vigil-agent` runs on an instance and that the
//! `vigil host ...` commands run one-shot, on the live system or on a root tree (`--root DIR`:
//! a mounted snapshot, an extracted image), so that every module can be tested on its own.
//!
//! Modules (one per concern) are added below as they land.

pub mod fim;
pub mod firewall;
pub mod fsroot;
pub mod inventory;
pub mod ips;
pub mod logs;
pub mod module;
pub mod packages;
pub mod patch;
pub mod rate;
pub mod sca;
pub mod secrets;
pub mod versions;
pub mod vulns;
