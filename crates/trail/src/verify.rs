//! Verify (placeholder while written).
