//! One file's recorded state (an [`Entry`]), read from the file system without following
//! symbolic links, and the comparison of two states into the fields that changed.

use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::rate::Pacer;

/// The hash of file contents.
///
/// BLAKE3 is the default: a 256-bit cryptographic hash (128-bit collision resistance, as
/// SHA-256) that runs several times faster than SHA-256 on one core. SHA-256 is there for
/// policies that require a FIPS-approved digest and to compare with AIDE at the very same hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgorithm {
    #[default]
    Blake3,
    Sha256,
}

impl HashAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Blake3 => "blake3",
            HashAlgorithm::Sha256 => "sha256",
        }
    }

    pub fn parse(text: &str) -> Option<HashAlgorithm> {
        match text {
            "blake3" => Some(HashAlgorithm::Blake3),
            "sha256" => Some(HashAlgorithm::Sha256),
            _ => None,
        }
    }
}

/// What kind of file an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    File,
    Directory,
    Symlink,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
}

impl Kind {
    pub fn of(metadata: &Metadata) -> Kind {
        let file_type = metadata.file_type();
        if file_type.is_symlink() {
            Kind::Symlink
        } else if file_type.is_dir() {
            Kind::Directory
        } else if file_type.is_fifo() {
            Kind::Fifo
        } else if file_type.is_socket() {
            Kind::Socket
        } else if file_type.is_char_device() {
            Kind::CharDevice
        } else if file_type.is_block_device() {
            Kind::BlockDevice
        } else {
            Kind::File
        }
    }

    pub fn code(self) -> i64 {
        self as i64
    }

    pub fn from_code(code: i64) -> Option<Kind> {
        [Kind::File, Kind::Directory, Kind::Symlink, Kind::Fifo, Kind::Socket, Kind::CharDevice, Kind::BlockDevice].into_iter().find(|kind| kind.code() == code)
    }
}

/// A file's recorded state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The path inside the root (`/etc/passwd`), as bytes.
    pub path: Vec<u8>,
    pub kind: Kind,
    pub size: u64,
    /// Permission bits with setuid, setgid and sticky (`mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub inode: u64,
    /// The target of a symbolic link.
    pub target: Option<Vec<u8>>,
    /// The contents' hash (regular files only).
    pub hash: Option<Vec<u8>>,
    /// Extended attributes (POSIX ACLs and file capabilities among them), sorted by name.
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The fields a change names (the `fields` of `vigil host fim check`).
pub const FIELDS: &[&str] = &["content", "mode", "owner", "group", "type", "target", "xattrs"];

impl Entry {
    /// The fields that differ between `self` (before) and `after`, among [`FIELDS`]. Fields
    /// that mean nothing for one of the two kinds (contents of a symlink, a symlink's mode)
    /// are not compared; a change of kind is `type`.
    pub fn changed_fields(&self, after: &Entry) -> Vec<&'static str> {
        let mut fields = Vec::new();
        let both = |kind: Kind| self.kind == kind && after.kind == kind;
        if both(Kind::File) && (self.hash != after.hash || self.size != after.size) {
            fields.push("content");
        }
        if self.kind != Kind::Symlink && after.kind != Kind::Symlink && self.mode != after.mode {
            fields.push("mode");
        }
        if self.uid != after.uid {
            fields.push("owner");
        }
        if self.gid != after.gid {
            fields.push("group");
        }
        if self.kind != after.kind {
            fields.push("type");
        }
        if both(Kind::Symlink) && self.target != after.target {
            fields.push("target");
        }
        if self.xattrs != after.xattrs {
            fields.push("xattrs");
        }
        fields
    }

    /// The entry as JSON for reports (`before`/`after` of a change).
    pub fn to_json(&self) -> serde_json::Value {
        let mut object = serde_json::json!({
            "type": self.kind,
            "size": self.size,
            "mode": format!("{:04o}", self.mode),
            "uid": self.uid,
            "gid": self.gid,
            "mtime": format_time(self.mtime_ns),
            "inode": self.inode,
        });
        if let Some(target) = &self.target {
            object["target"] = serde_json::Value::String(crate::fsroot::display_path(target));
        }
        if let Some(hash) = &self.hash {
            object["hash"] = serde_json::Value::String(hex::encode(hash));
        }
        if !self.xattrs.is_empty() {
            object["xattrs"] =
                self.xattrs.iter().map(|(name, value)| (crate::fsroot::display_path(name), serde_json::Value::String(hex::encode(value)))).collect();
        }
        object
    }
}

fn format_time(nanoseconds: i64) -> String {
    chrono::DateTime::from_timestamp(nanoseconds.div_euclid(1_000_000_000), nanoseconds.rem_euclid(1_000_000_000) as u32)
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
        .unwrap_or_default()
}

/// Why a file's state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    #[error("cannot read `{path}`: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("`{path}` changed while it was read (it will be read again at the next scan)")]
    Raced { path: String },
}

/// Reads `real` (without following a final symbolic link) as the entry for `inner`; `hash`
/// selects the contents' hash, `pacer` holds the read to its rate limit.
pub fn read_entry(
    inner: &[u8],
    real: &Path,
    metadata: Metadata,
    hash: HashAlgorithm,
    with_xattrs: bool,
    pacer: Option<&mut Pacer>,
) -> Result<Entry, EntryError> {
    let io_error = |error| EntryError::Io { path: crate::fsroot::display_path(inner), error };
    let kind = Kind::of(&metadata);
    let target = if kind == Kind::Symlink { Some(std::fs::read_link(real).map_err(io_error)?.as_os_str().as_bytes().to_vec()) } else { None };
    let digest = if kind == Kind::File {
        let (digest, opened) = hash_file(real, hash).map_err(io_error)?;
        // The file read must be the file stat'ed: a rename in between would record one file's
        // contents under another's metadata.
        if opened.ino() != metadata.ino() || opened.dev() != metadata.dev() {
            return Err(EntryError::Raced { path: crate::fsroot::display_path(inner) });
        }
        Some(digest)
    } else {
        None
    };
    if let Some(pacer) = pacer {
        pacer.account(if kind == Kind::File { metadata.size() } else { 0 });
    }
    let xattrs = if with_xattrs { read_xattrs(real) } else { Vec::new() };
    Ok(Entry {
        path: inner.to_vec(),
        kind,
        size: metadata.size(),
        mode: metadata.mode() & 0o7777,
        uid: metadata.uid(),
        gid: metadata.gid(),
        mtime_ns: metadata.mtime().saturating_mul(1_000_000_000).saturating_add(metadata.mtime_nsec()),
        ctime_ns: metadata.ctime().saturating_mul(1_000_000_000).saturating_add(metadata.ctime_nsec()),
        inode: metadata.ino(),
        target,
        hash: digest,
        xattrs,
    })
}

/// Extended attributes of `real` (not following symlinks); a file system without them has none.
fn read_xattrs(real: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let Ok(names) = xattr::list(real) else { return Vec::new() };
    let mut xattrs: Vec<(Vec<u8>, Vec<u8>)> =
        names.filter_map(|name| xattr::get(real, &name).ok().flatten().map(|value| (name.as_bytes().to_vec(), value))).collect();
    xattrs.sort();
    xattrs
}

/// Opens a regular file without following symlinks, without blocking on a FIFO swapped in,
/// and without updating its access time when allowed.
fn open_for_hashing(real: &Path) -> std::io::Result<File> {
    let flags = libc::O_NOFOLLOW | libc::O_NONBLOCK;
    match OpenOptions::new().read(true).custom_flags(flags | libc::O_NOATIME).open(real) {
        Err(error) if error.raw_os_error() == Some(libc::EPERM) => OpenOptions::new().read(true).custom_flags(flags).open(real),
        other => other,
    }
}

/// The contents' hash of a regular file, and the metadata of the file actually opened.
pub fn hash_file(real: &Path, algorithm: HashAlgorithm) -> std::io::Result<(Vec<u8>, Metadata)> {
    let mut file = open_for_hashing(real)?;
    let opened = file.metadata()?;
    if !opened.is_file() {
        return Err(std::io::Error::other("not a regular file any more"));
    }
    let mut buffer = vec![0u8; 256 * 1024];
    let digest = match algorithm {
        HashAlgorithm::Blake3 => {
            let mut hasher = blake3::Hasher::new();
            loop {
                let read = file.read(&mut buffer)?;
                if read == 0 {
                    break;
                }
                hasher.update(buffer.get(..read).unwrap_or_default());
            }
            hasher.finalize().as_bytes().to_vec()
        }
        HashAlgorithm::Sha256 => {
            use sha2::Digest as _;
            let mut hasher = sha2::Sha256::new();
            loop {
                let read = file.read(&mut buffer)?;
                if read == 0 {
                    break;
                }
                hasher.update(buffer.get(..read).unwrap_or_default());
            }
            hasher.finalize().to_vec()
        }
    };
    Ok((digest, opened))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: Kind) -> Entry {
        Entry {
            path: b"/x".to_vec(),
            kind,
            size: 1,
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime_ns: 0,
            ctime_ns: 0,
            inode: 1,
            target: None,
            hash: None,
            xattrs: Vec::new(),
        }
    }

    #[test]
    fn changed_fields_name_only_what_means_something_for_both_kinds() {
        let check = |before: Entry, after: Entry, expected: &[&str]| assert_eq!(before.changed_fields(&after), expected, "{before:?} -> {after:?}");
        let file = Entry { hash: Some(vec![1]), ..entry(Kind::File) };
        check(file.clone(), file.clone(), &[]);
        check(file.clone(), Entry { mtime_ns: 5, inode: 9, ctime_ns: 3, ..file.clone() }, &[]);
        check(file.clone(), Entry { hash: Some(vec![2]), ..file.clone() }, &["content"]);
        check(file.clone(), Entry { mode: 0o4755, ..file.clone() }, &["mode"]);
        check(file.clone(), Entry { uid: 1000, gid: 1000, ..file.clone() }, &["owner", "group"]);
        let link = Entry { target: Some(b"/etc/shadow".to_vec()), mode: 0o777, hash: None, ..entry(Kind::Symlink) };
        check(file.clone(), link.clone(), &["type"]);
        check(link.clone(), Entry { target: Some(b"/tmp".to_vec()), ..link.clone() }, &["target"]);
        check(file.clone(), Entry { xattrs: vec![(b"security.capability".to_vec(), vec![1])], ..file }, &["xattrs"]);
    }

    #[test]
    fn both_hashes_give_their_published_digests() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        let (sha, _) = hash_file(&path, HashAlgorithm::Sha256).unwrap();
        assert_eq!(hex::encode(sha), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let (blake, _) = hash_file(&path, HashAlgorithm::Blake3).unwrap();
        assert_eq!(hex::encode(blake), "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85");
    }
}
