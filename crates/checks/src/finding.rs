//! Findings live in `vigil-model` (`vigil_model::finding`), so every crate that reads or
//! writes them shares one definition; this module keeps the `vigil_checks::finding` path.

pub use vigil_model::finding::*;
