//! A host's file system seen from a root: the live system (`/`) or a mounted or extracted
//! image (`--root DIR`). Paths are the host's own (`/etc/ssh/sshd_config`); under a root,
//! symbolic links are followed as the image's kernel would follow them, inside the root (an
//! absolute link target starts again at the root, `..` never climbs above it), so an image's
//! `/etc/os-release -> /usr/lib/os-release` reads the image's file and never the machine's.

use std::ffi::OsStr;
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Symbolic links followed in one resolution before giving up (Linux's `MAXSYMLINKS`).
const MAX_SYMLINK_HOPS: usize = 40;

/// The file system a module reads: the live one, or an image under a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRoot {
    /// `None` for the live system.
    root: Option<PathBuf>,
}

impl HostRoot {
    /// The running system's own file system.
    pub fn live() -> Self {
        HostRoot { root: None }
    }

    /// An image mounted or extracted under `dir` (made absolute, so that real paths compare
    /// with absolute ones).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        HostRoot { root: Some(std::path::absolute(&dir).unwrap_or(dir)) }
    }

    /// `--root DIR` when given, else the live system.
    pub fn from_option(dir: Option<&Path>) -> Self {
        match dir {
            Some(dir) => HostRoot::at(dir),
            None => HostRoot::live(),
        }
    }

    /// True for the running system: commands, processes and `/proc` describe it.
    pub fn is_live(&self) -> bool {
        self.root.is_none()
    }

    /// The directory of the image, `None` for the live system.
    pub fn dir(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// The root directory: `/` for the live system.
    pub fn directory(&self) -> &Path {
        self.root.as_deref().unwrap_or(Path::new("/"))
    }

    /// The real path of `inner` (a path inside the root as bytes, `/etc/x` or `etc/x`), joined
    /// without following any link: for modules that record links as they are (integrity
    /// monitoring). [`HostRoot::resolve`] is for modules that read what a path leads to.
    pub fn join(&self, inner: &[u8]) -> PathBuf {
        let relative = inner.strip_prefix(b"/").unwrap_or(inner);
        if relative.is_empty() { self.directory().to_path_buf() } else { self.directory().join(OsStr::from_bytes(relative)) }
    }

    /// The path inside the root of `real`, when `real` is under the root.
    pub fn inner(&self, real: &Path) -> Option<Vec<u8>> {
        let relative = real.strip_prefix(self.directory()).ok()?;
        let mut inner = Vec::with_capacity(relative.as_os_str().len() + 1);
        inner.push(b'/');
        inner.extend_from_slice(relative.as_os_str().as_bytes());
        Some(inner)
    }

    /// The real path of a host path, with every symbolic link resolved inside the root.
    /// A missing component ends resolution: the rest is appended as is, so that opening the
    /// result fails with `NotFound`.
    pub fn resolve(&self, host_path: &str) -> io::Result<PathBuf> {
        let Some(root) = &self.root else {
            return Ok(PathBuf::from(host_path));
        };
        // Components still to walk, in order (a stack: last to walk first).
        let mut pending: Vec<PathBuf> = components_reversed(Path::new(host_path));
        let mut current = root.clone();
        let mut depth: usize = 0; // components below the root in `current`
        let mut hops = 0;
        while let Some(component) = pending.pop() {
            let name = component.as_os_str();
            if name == ".." {
                if depth > 0 {
                    current.pop();
                    depth -= 1;
                }
                continue;
            }
            if name == "." || name.is_empty() {
                continue;
            }
            let candidate = current.join(name);
            match fs::symlink_metadata(&candidate) {
                Ok(metadata) if metadata.file_type().is_symlink() => {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(io::Error::other(format!("too many levels of symbolic links resolving `{host_path}`")));
                    }
                    let target = fs::read_link(&candidate)?;
                    if target.is_absolute() {
                        current = root.clone();
                        depth = 0;
                    }
                    pending.extend(components_reversed(&target));
                }
                Ok(_) => {
                    current = candidate;
                    depth += 1;
                }
                Err(error) if error.kind() == io::ErrorKind::NotFound => {
                    let mut rest = candidate;
                    while let Some(component) = pending.pop() {
                        rest.push(component);
                    }
                    return Ok(rest);
                }
                Err(error) => return Err(error),
            }
        }
        Ok(current)
    }

    /// Metadata of the file a host path names, links followed (inside the root).
    pub fn metadata(&self, host_path: &str) -> io::Result<Metadata> {
        fs::metadata(self.resolve(host_path)?)
    }

    /// Metadata of the path itself, the last component's link not followed.
    pub fn symlink_metadata(&self, host_path: &str) -> io::Result<Metadata> {
        let path = Path::new(host_path);
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return self.metadata(host_path);
        };
        let parent = self.resolve(&parent.to_string_lossy())?;
        fs::symlink_metadata(parent.join(name))
    }

    /// The whole content of a file (links followed inside the root).
    pub fn read(&self, host_path: &str) -> io::Result<Vec<u8>> {
        fs::read(self.resolve(host_path)?)
    }

    /// A file's content as text, invalid UTF-8 replaced.
    pub fn read_to_string_lossy(&self, host_path: &str) -> io::Result<String> {
        Ok(String::from_utf8_lossy(&self.read(host_path)?).into_owned())
    }

    /// The entries of a directory as host paths, sorted by name.
    pub fn read_dir(&self, host_path: &str) -> io::Result<Vec<String>> {
        let real = self.resolve(host_path)?;
        let mut names: Vec<String> = Vec::new();
        for entry in fs::read_dir(real)? {
            let entry = entry?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        let base = host_path.trim_end_matches('/');
        Ok(names.into_iter().map(|name| format!("{base}/{name}")).collect())
    }

    /// How a host path is shown to people: as is on the live system, prefixed with the root
    /// under `--root`.
    pub fn display(&self, host_path: &str) -> String {
        match &self.root {
            None => host_path.to_string(),
            Some(root) => format!("{}{}", root.display(), host_path),
        }
    }
}

/// The components of a path without its root, reversed (for use as a stack).
fn components_reversed(path: &Path) -> Vec<PathBuf> {
    let mut components: Vec<PathBuf> = path
        .components()
        .filter_map(|component| match component {
            Component::Normal(name) => Some(PathBuf::from(name)),
            Component::ParentDir => Some(PathBuf::from("..")),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => None,
        })
        .collect();
    components.reverse();
    components
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
    use std::os::unix::fs::symlink;

    #[test]
    fn absolute_links_resolve_inside_the_root_never_on_the_machine() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("usr/lib")).unwrap();
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::write(root.join("usr/lib/os-release"), "ID=imagelinux\n").unwrap();
        symlink("/usr/lib/os-release", root.join("etc/os-release")).unwrap();
        let host = HostRoot::at(root);
        assert_eq!(host.read_to_string_lossy("/etc/os-release").unwrap(), "ID=imagelinux\n");
    }

    #[test]
    fn dot_dot_in_links_stops_at_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::write(root.join("passwd"), "inside").unwrap();
        symlink("../../../../passwd", root.join("etc/escape")).unwrap();
        let host = HostRoot::at(root);
        assert_eq!(host.read_to_string_lossy("/etc/escape").unwrap(), "inside");
    }

    #[test]
    fn relative_links_and_link_loops() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::write(root.join("a/target"), "t").unwrap();
        symlink("../target", root.join("a/b/link")).unwrap();
        symlink("loop2", root.join("a/loop1")).unwrap();
        symlink("loop1", root.join("a/loop2")).unwrap();
        let host = HostRoot::at(root);
        assert_eq!(host.read_to_string_lossy("/a/b/link").unwrap(), "t");
        assert!(host.read("/a/loop1").is_err());
        assert_eq!(host.read("/a/missing/file").unwrap_err().kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn paths_inside_a_root_round_trip_including_newlines_and_invalid_utf8() {
        let root = HostRoot::at("/srv/image");
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
