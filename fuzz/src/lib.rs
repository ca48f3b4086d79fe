//! vigil's fuzz targets (see `targets.rs`), as a library for the AFL binaries.

pub mod targets;
