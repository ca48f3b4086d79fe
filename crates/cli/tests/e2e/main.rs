//! vigil's end-to-end tests: each runs the real `vigil` binary, most against a moto server of
//! their own. One test binary for them all, so the AWS SDK is linked once rather than per file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod agent;
mod architecture;
mod crash;
mod deploy;
mod escalation;
mod export;
mod fix;
mod fuzz_corpus;
mod history;
mod host;
mod host_posture;
mod iam;
mod notify;
mod org_work;
mod paths;
mod posture;
mod reach;
mod release;
mod scan;
mod serve;
mod trail;
