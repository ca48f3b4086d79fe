//! Search (placeholder while written).
