//! Sigma (placeholder while written).
