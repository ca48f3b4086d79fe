//! vigil's end-to-end tests: each runs the real `vigil` binary, most against a moto server of
//! their own. One test binary for them all, so the AWS SDK is linked once rather than per file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod escalation;
mod history;
mod iam;
mod notify;
mod posture;
mod reach;
mod scan;
mod serve;
mod trail;
