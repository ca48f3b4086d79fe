//! Built-in detections (placeholder while written).
