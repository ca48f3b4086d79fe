//! Where vigil keeps its files: the data directory (store, optional IAM action catalog, ...).

use std::path::PathBuf;

/// The data directory: `$VIGIL_DATA_DIR` if set, else `$XDG_DATA_HOME/vigil`, else
/// `~/.local/share/vigil`, else `.vigil` in the working directory (no home at all).
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("VIGIL_DATA_DIR").filter(|dir| !dir.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|dir| !dir.is_empty()) {
        return PathBuf::from(dir).join("vigil");
    }
    match std::env::var_os("HOME").filter(|dir| !dir.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/share/vigil"),
        None => PathBuf::from(".vigil"),
    }
}
