//! Paths inside a host root: the live system (`/`) or a tree mounted elsewhere (`--root DIR`).
//!
//! Every module names files by their path inside the root (`/etc/shadow`), as raw bytes so that
//! names that are not UTF-8 or that hold newlines survive; [`display_path`] is the one place
//! that turns such a name into text for reports.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A host's root directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRoot {
    directory: PathBuf,
}

impl HostRoot {
    /// The live system.
    pub fn live() -> HostRoot {
        HostRoot { directory: PathBuf::from("/") }
    }

    /// A root directory (made absolute, so that paths compare with absolute ones).
    pub fn new(directory: impl Into<PathBuf>) -> HostRoot {
        let directory = directory.into();
        HostRoot { directory: std::path::absolute(&directory).unwrap_or(directory) }
    }

    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// The real path of `inner` (a path inside the root, `/etc/x` or `etc/x`).
    pub fn join(&self, inner: &[u8]) -> PathBuf {
        let relative = inner.strip_prefix(b"/").unwrap_or(inner);
        if relative.is_empty() { self.directory.clone() } else { self.directory.join(OsStr::from_bytes(relative)) }
    }

    /// The path inside the root of `real`, when `real` is under the root.
    pub fn inner(&self, real: &Path) -> Option<Vec<u8>> {
        let relative = real.strip_prefix(&self.directory).ok()?;
        let mut inner = Vec::with_capacity(relative.as_os_str().len() + 1);
        inner.push(b'/');
        inner.extend_from_slice(relative.as_os_str().as_bytes());
        Some(inner)
    }
}

/// A path as text: UTF-8 names as they are; any byte that is not valid UTF-8 as `\xNN` (so a
/// name is never silently changed into another existing name's text).
pub fn display_path(path: &[u8]) -> String {
    let mut out = String::with_capacity(path.len());
    for chunk in path.utf8_chunks() {
        out.push_str(chunk.valid());
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02X}"));
        }
    }
    out
}

/// Inverse of [`display_path`] for names given on a command line: `\xNN` becomes the byte.
pub fn parse_display_path(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'\\'
            && bytes.get(index + 1) == Some(&b'x')
            && let Some(value) = bytes.get(index + 2..index + 4).and_then(|hex| std::str::from_utf8(hex).ok()).and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(value);
            index += 4;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_inside_a_root_round_trip_including_newlines_and_invalid_utf8() {
        let root = HostRoot::new("/srv/image");
        assert_eq!(root.join(b"/etc/passwd"), PathBuf::from("/srv/image/etc/passwd"));
        assert_eq!(root.join(b"/"), PathBuf::from("/srv/image"));
        assert_eq!(root.inner(Path::new("/srv/image/etc/passwd")).unwrap(), b"/etc/passwd");
        assert_eq!(root.inner(Path::new("/elsewhere")), None);
        let odd = b"/tmp/a\nb\xff";
        assert_eq!(display_path(odd), "/tmp/a\nb\\xFF");
        assert_eq!(parse_display_path(&display_path(odd)), odd);
        assert_eq!(HostRoot::live().join(b"/etc"), PathBuf::from("/etc"));
    }
}
