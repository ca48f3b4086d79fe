//! vigil-iam: an IAM policy engine that decides like AWS (parser, evaluator with explanations)
//! and the access analyses built on it (who can, admins, escalation paths, external access),
//! with the one definition of a public grant ([`publicity`]).
//!
//! Pure: no I/O, no async. Entry points: [`Policy::parse`], [`evaluate`], [`simulate`], and the
//! optional action catalog [`catalog::Catalog`].

pub mod access;
pub mod account;
pub mod analysis;
pub mod catalog;
pub mod condition;
pub mod escalation;
pub mod evaluate;
pub mod organization;
pub mod pattern;
pub mod policy;
pub mod publicity;
pub mod request;
pub mod simulate;
pub mod techniques;
pub mod variables;

pub use evaluate::{Decision, Evaluation, PolicySet, evaluate};
pub use policy::{Effect, Policy, PolicyError, Statement};
pub use request::{Principal, Request};
