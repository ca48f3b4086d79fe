//! The collector against moto, the AWS API emulator: each test starts a moto server of its own,
//! seeds it with the AWS SDK, collects and checks the inventory, the ledger and the checks'
//! findings. One test binary for them all, so the AWS SDK is linked once rather than per file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod collection;
mod core_checks;
mod errors;
mod faults;
mod sensitive;
mod services_a;
mod services_b;
mod support;
mod verdicts;
