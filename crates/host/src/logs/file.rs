//! Following a text log file across rotations: the position is (inode, offset, fingerprint of
//! the first bytes), so a restart resumes where it stopped; a file rotated by rename is read to
//! its end (found beside it by inode) before the new file is read from its start; a file
//! truncated in place (`copytruncate`, or cleared) is read again from the start, and the
//! truncation itself becomes a record.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::parse::MAX_LINE_BYTES;

/// Where reading a file stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilePosition {
    pub inode: u64,
    pub offset: u64,
    /// Hex SHA-256 of the first bytes already read (up to 256): an inode reused by another
    /// file does not match.
    pub fingerprint: String,
}

/// One line read, or an event of the file itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileEvent {
    /// A line (without its newline), as text (invalid UTF-8 replaced), and whether it was cut
    /// at [`MAX_LINE_BYTES`].
    Line { text: String, truncated: bool },
    /// The file shrank below the saved offset, or its first bytes changed: it was truncated,
    /// cleared or rewritten in place.
    Truncated { from: u64, to: u64 },
}

const FINGERPRINT_BYTES: u64 = 256;

/// Hex SHA-256 of the first `length` bytes of `file` (fewer if it is shorter).
fn fingerprint(file: &mut File, length: u64) -> std::io::Result<String> {
    use sha2::Digest as _;
    let mut head = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    (&mut *file).take(length).read_to_end(&mut head)?;
    Ok(hex::encode(sha2::Sha256::digest(&head)))
}

/// Reads what is new in `path` since `position` (none: from the start), calling `each` for
/// every complete line and event, and returns the new position. An incomplete last line is
/// left for the next call. At most `max_bytes` are read per call.
pub fn read_new(path: &Path, position: Option<&FilePosition>, max_bytes: u64, each: &mut dyn FnMut(FileEvent)) -> std::io::Result<FilePosition> {
    let mut file = File::open(path)?;
    let metadata = file.metadata()?;
    let mut start = 0;
    if let Some(position) = position {
        if position.inode == metadata.ino() {
            if metadata.len() < position.offset || !fingerprint_matches(&mut file, position)? {
                // Shrunk, or rewritten in place (its first bytes changed): read from the start.
                each(FileEvent::Truncated { from: position.offset, to: metadata.len() });
            } else {
                start = position.offset;
            }
        } else if let Some(rotated) = find_rotated(path, position.inode) {
            // Rotated by rename: finish the old file first.
            let mut old = File::open(&rotated)?;
            if fingerprint_matches(&mut old, position)? {
                old.seek(SeekFrom::Start(position.offset))?;
                read_lines(old, max_bytes, each)?;
            }
        }
    }
    file.seek(SeekFrom::Start(start))?;
    let consumed = read_lines(file, max_bytes, each)?;
    let offset = start + consumed;
    let mut file = File::open(path)?;
    let fingerprint = fingerprint(&mut file, offset.min(FINGERPRINT_BYTES))?;
    Ok(FilePosition { inode: metadata.ino(), offset, fingerprint })
}

/// Whether the file still starts with the bytes the position was taken on (the first bytes
/// already read never change in a file that is only appended to).
fn fingerprint_matches(file: &mut File, position: &FilePosition) -> std::io::Result<bool> {
    if position.fingerprint.is_empty() {
        return Ok(true);
    }
    Ok(fingerprint(file, position.offset.min(FINGERPRINT_BYTES))? == position.fingerprint)
}

/// The rotated copy of `path` with inode `inode` (`auth.log.1`, `auth.log-20240501`...).
fn find_rotated(path: &Path, inode: u64) -> Option<PathBuf> {
    let directory = path.parent()?;
    let name = path.file_name()?.to_string_lossy().into_owned();
    std::fs::read_dir(directory).ok()?.flatten().map(|entry| entry.path()).find(|candidate| {
        candidate.file_name().is_some_and(|candidate_name| {
            let candidate_name = candidate_name.to_string_lossy();
            candidate_name != name && candidate_name.starts_with(&name) && !candidate_name.ends_with(".gz")
        }) && std::fs::metadata(candidate).is_ok_and(|metadata| metadata.ino() == inode)
    })
}

/// Reads complete lines; returns the bytes consumed (up to the last newline).
fn read_lines(file: File, max_bytes: u64, each: &mut dyn FnMut(FileEvent)) -> std::io::Result<u64> {
    let mut reader = BufReader::with_capacity(64 * 1024, file.take(max_bytes));
    let mut consumed = 0u64;
    // Bytes of the current, unfinished line taken from earlier buffers.
    let mut pending = 0u64;
    let mut line = Vec::new();
    let mut truncated = false;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            break;
        }
        let newline = buffer.iter().position(|byte| *byte == b'\n');
        let chunk = buffer.get(..newline.unwrap_or(buffer.len())).unwrap_or_default();
        let room = MAX_LINE_BYTES.saturating_sub(line.len());
        if chunk.len() > room {
            truncated = true;
        }
        line.extend_from_slice(chunk.get(..chunk.len().min(room)).unwrap_or_default());
        let used = chunk.len() + usize::from(newline.is_some());
        reader.consume(used);
        pending += used as u64;
        if newline.is_some() {
            consumed += pending;
            pending = 0;
            each(FileEvent::Line { text: String::from_utf8_lossy(&line).into_owned(), truncated });
            line.clear();
            truncated = false;
        }
    }
    Ok(consumed)
}
