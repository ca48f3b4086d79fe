//! Walking the monitored paths of a root: depth first, names sorted, symbolic links never
//! followed, excluded subtrees pruned, in chunks so that memory stays bounded on any tree.

use std::fs::Metadata;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::fsroot::{HostRoot, display_path};

/// Include and exclude patterns over paths inside the root (`/etc/**`, `/var/log/*.gz`): `*`
/// and `?` stay within one path component, `**` crosses them.
#[derive(Debug, Clone)]
pub struct Filter {
    include: Option<GlobSet>,
    exclude: GlobSet,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid pattern `{pattern}`: {reason}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: String,
}

fn glob_set(patterns: &[String]) -> Result<GlobSet, PatternError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|error| PatternError { pattern: pattern.clone(), reason: error.kind().to_string() })?;
        builder.add(glob);
    }
    builder.build().map_err(|error| PatternError { pattern: patterns.join(", "), reason: error.to_string() })
}

impl Filter {
    pub fn new(include: &[String], exclude: &[String]) -> Result<Filter, PatternError> {
        Ok(Filter { include: if include.is_empty() { None } else { Some(glob_set(include)?) }, exclude: glob_set(exclude)? })
    }

    /// Whether the walk skips `inner` (and, for a directory, everything under it).
    pub fn excluded(&self, inner: &[u8]) -> bool {
        self.exclude.is_match(std::ffi::OsStr::from_bytes(inner))
    }

    /// Whether `inner` is recorded (directories are walked even when not recorded).
    pub fn recorded(&self, inner: &[u8]) -> bool {
        self.include.as_ref().is_none_or(|include| include.is_match(std::ffi::OsStr::from_bytes(inner)))
    }
}

/// One path found by the walk.
#[derive(Debug)]
pub struct Found {
    pub inner: Vec<u8>,
    pub real: PathBuf,
    pub metadata: Metadata,
}

/// A path the walk could not read (the scan goes on without it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub path: String,
    pub reason: String,
}

/// Depth-first walk state over the monitored paths.
pub struct Walk<'a> {
    root: &'a HostRoot,
    filter: &'a Filter,
    /// Real paths that are never recorded (the baseline database itself).
    ignored: &'a [PathBuf],
    /// Paths left to visit, last first.
    stack: Vec<Vec<u8>>,
    pub problems: Vec<Problem>,
    /// Paths that exist but could not be read: not "removed".
    pub unreadable: Vec<Vec<u8>>,
}

impl<'a> Walk<'a> {
    pub fn new(root: &'a HostRoot, paths: &[Vec<u8>], filter: &'a Filter, ignored: &'a [PathBuf]) -> Walk<'a> {
        let mut stack: Vec<Vec<u8>> = paths.to_vec();
        stack.sort();
        stack.dedup();
        stack.reverse();
        Walk { root, filter, ignored, stack, problems: Vec::new(), unreadable: Vec::new() }
    }

    /// The next chunk of up to `size` recorded paths; empty when the walk is over.
    pub fn next_chunk(&mut self, size: usize) -> Vec<Found> {
        let mut chunk = Vec::with_capacity(size.min(4096));
        while chunk.len() < size {
            let Some(inner) = self.stack.pop() else { break };
            if self.filter.excluded(&inner) {
                continue;
            }
            let real = self.root.join(&inner);
            if self.ignored.contains(&real) {
                continue;
            }
            let metadata = match std::fs::symlink_metadata(&real) {
                Ok(metadata) => metadata,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => {
                    self.problems.push(Problem { path: display_path(&inner), reason: error.to_string() });
                    self.unreadable.push(inner);
                    continue;
                }
            };
            if metadata.is_dir() {
                self.push_children(&inner, &real);
            }
            if self.filter.recorded(&inner) {
                chunk.push(Found { inner, real, metadata });
            }
        }
        chunk
    }

    fn push_children(&mut self, inner: &[u8], real: &std::path::Path) {
        let entries = match std::fs::read_dir(real) {
            Ok(entries) => entries,
            Err(error) => {
                self.problems.push(Problem { path: display_path(inner), reason: format!("cannot list the directory: {error}") });
                return;
            }
        };
        let mut names: Vec<Vec<u8>> = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => names.push(entry.file_name().as_bytes().to_vec()),
                Err(error) => {
                    self.problems.push(Problem { path: display_path(inner), reason: format!("cannot list the directory: {error}") });
                    // Children not listed must not read as removed.
                    self.unreadable.push(inner.to_vec());
                }
            }
        }
        names.sort();
        for name in names.into_iter().rev() {
            let mut child = inner.to_vec();
            if child.last() != Some(&b'/') {
                child.push(b'/');
            }
            child.extend_from_slice(&name);
            self.stack.push(child);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_follow_path_components() {
        let filter = Filter::new(&["/etc/**".to_string(), "/usr/bin/*".to_string()], &["/etc/*.cache".to_string(), "/proc".to_string()]).unwrap();
        assert!(filter.recorded(b"/etc/ssh/sshd_config"));
        assert!(filter.recorded(b"/usr/bin/ls"));
        assert!(!filter.recorded(b"/usr/bin/sub/ls"));
        assert!(filter.excluded(b"/etc/ld.so.cache"));
        assert!(!filter.excluded(b"/etc/sub/ld.so.cache"));
        assert!(filter.excluded(b"/proc"));
        assert!(Filter::new(&[], &["/a/[".to_string()]).unwrap_err().to_string().contains("`/a/[`"));
    }

    #[test]
    fn the_walk_is_sorted_prunes_exclusions_and_never_follows_links() {
        let directory = tempfile::tempdir().unwrap();
        let base = directory.path();
        std::fs::create_dir_all(base.join("b/skip")).unwrap();
        std::fs::write(base.join("b/skip/x"), "x").unwrap();
        std::fs::write(base.join("b/file"), "x").unwrap();
        std::fs::write(base.join("a"), "x").unwrap();
        std::os::unix::fs::symlink("/etc", base.join("link")).unwrap();
        let root = HostRoot::at(base);
        let filter = Filter::new(&[], &["/b/skip".to_string()]).unwrap();
        let mut walk = Walk::new(&root, &[b"/".to_vec()], &filter, &[]);
        let mut seen = Vec::new();
        loop {
            let chunk = walk.next_chunk(2);
            if chunk.is_empty() {
                break;
            }
            seen.extend(chunk.into_iter().map(|found| String::from_utf8(found.inner).unwrap()));
        }
        assert_eq!(seen, ["/", "/a", "/b", "/b/file", "/link"]);
    }
}
