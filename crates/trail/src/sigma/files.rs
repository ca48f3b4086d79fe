//! Reading rule files: the I/O edge of the Sigma engine (YAML files and directory trees).

use std::path::{Path, PathBuf};

use super::{CompileOptions, Loaded, Rejected, load_text};

/// A rule path that cannot be read at all (as opposed to a rule that does not compile).
#[derive(Debug, thiserror::Error)]
#[error("cannot read rules from `{path}`: {error}")]
pub struct RulePathError {
    pub path: String,
    pub error: std::io::Error,
}

/// Loads every `.yml`/`.yaml` file under `path` (a file or a directory, walked recursively in
/// name order).
pub fn load_path(path: &Path, options: &CompileOptions) -> Result<Loaded, RulePathError> {
    let path_error = |error| RulePathError { path: path.display().to_string(), error };
    let metadata = std::fs::metadata(path).map_err(path_error)?;
    let mut files = Vec::new();
    if metadata.is_dir() {
        walk(path, &mut files)?;
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut loaded = Loaded::default();
    for file in files {
        let origin = file.display().to_string();
        match std::fs::read_to_string(&file) {
            Ok(text) => loaded.extend(load_text(&text, &origin, options)),
            Err(error) => loaded.rejected.push(Rejected {
                origin,
                id: None,
                title: None,
                reason: format!("cannot read the file: {error}"),
                kind: super::RejectionKind::Invalid,
            }),
        }
    }
    Ok(loaded)
}

fn walk(directory: &Path, files: &mut Vec<PathBuf>) -> Result<(), RulePathError> {
    let path_error = |error| RulePathError { path: directory.display().to_string(), error };
    for entry in std::fs::read_dir(directory).map_err(path_error)? {
        let entry = entry.map_err(path_error)?;
        let path = entry.path();
        if entry.file_type().map_err(path_error)?.is_dir() {
            walk(&path, files)?;
        } else if path.extension().is_some_and(|extension| extension == "yml" || extension == "yaml") {
            files.push(path);
        }
    }
    Ok(())
}
