//! Snapshot files: a versioned, zstd-compressed JSON envelope around an [`Inventory`].
//!
//! Reading never panics: a file that is not zstd, is truncated, holds another program's JSON,
//! or was written by a newer vigil gets an error that names the problem.

use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::inventory::Inventory;

/// The `Format` field every snapshot carries.
pub const FORMAT_NAME: &str = "vigil-inventory";
/// The snapshot format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot `{path}`: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("`{path}` is not a vigil snapshot: it is not zstd-compressed (expected a file written by `vigil collect -o`)")]
    NotZstd { path: String },
    #[error("snapshot `{path}` is corrupt or truncated: {reason}")]
    Corrupt { path: String, reason: String },
    #[error("`{path}` is not a vigil snapshot: {reason}")]
    Foreign { path: String, reason: String },
    #[error("snapshot `{path}` has format version {found}, newer than this vigil reads ({supported}); upgrade vigil")]
    NewerVersion { path: String, found: u32, supported: u32 },
    #[error("snapshot `{path}` has an invalid inventory: {reason}")]
    InvalidInventory { path: String, reason: String },
    #[error("cannot write snapshot: {0}")]
    Write(String),
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EnvelopeOut<'a> {
    format: &'static str,
    format_version: u32,
    inventory: &'a Inventory,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Header {
    format: Option<String>,
    format_version: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EnvelopeIn {
    inventory: Inventory,
}

/// Serializes an inventory into snapshot bytes.
pub fn to_bytes(inventory: &Inventory) -> Result<Vec<u8>, SnapshotError> {
    let envelope = EnvelopeOut { format: FORMAT_NAME, format_version: FORMAT_VERSION, inventory };
    let mut encoder = zstd::Encoder::new(Vec::new(), 9).map_err(|error| SnapshotError::Write(error.to_string()))?;
    serde_json::to_writer(&mut encoder, &envelope).map_err(|error| SnapshotError::Write(error.to_string()))?;
    let mut bytes = encoder.finish().map_err(|error| SnapshotError::Write(error.to_string()))?;
    bytes.flush().map_err(|error| SnapshotError::Write(error.to_string()))?;
    Ok(bytes)
}

/// Writes a snapshot file atomically (a temporary file renamed into place).
pub fn write(path: &Path, inventory: &Inventory) -> Result<(), SnapshotError> {
    let bytes = to_bytes(inventory)?;
    let temporary = path.with_extension("partial");
    std::fs::write(&temporary, bytes)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|error| SnapshotError::Write(format!("`{}`: {error}", path.display())))
}

/// Reads a snapshot file.
pub fn read(path: &Path) -> Result<Inventory, SnapshotError> {
    let display = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| SnapshotError::Io { path: display.clone(), source })?;
    from_bytes(&bytes, &display)
}

/// Parses snapshot bytes; `origin` names the source in error messages.
pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<Inventory, SnapshotError> {
    let path = origin.to_string();
    if !bytes.starts_with(&ZSTD_MAGIC) {
        return Err(SnapshotError::NotZstd { path });
    }
    let mut json = Vec::new();
    zstd::Decoder::new(bytes)
        .and_then(|mut decoder| decoder.read_to_end(&mut json))
        .map_err(|error| SnapshotError::Corrupt { path: path.clone(), reason: error.to_string() })?;
    let header: Header = serde_json::from_slice(&json).map_err(|error| {
        if error.is_eof() {
            SnapshotError::Corrupt { path: path.clone(), reason: format!("the JSON inside ends early ({error})") }
        } else {
            SnapshotError::Foreign { path: path.clone(), reason: format!("its content is not a vigil inventory ({error})") }
        }
    })?;
    match header.format.as_deref() {
        Some(FORMAT_NAME) => {}
        Some(other) => {
            return Err(SnapshotError::Foreign { path, reason: format!("its `Format` is `{other}`, expected `{FORMAT_NAME}`") });
        }
        None => return Err(SnapshotError::Foreign { path, reason: "it has no `Format` field".to_string() }),
    }
    let version = header.format_version.unwrap_or(0);
    if version > FORMAT_VERSION {
        return Err(SnapshotError::NewerVersion { path, found: version, supported: FORMAT_VERSION });
    }
    if version == 0 {
        return Err(SnapshotError::Foreign { path, reason: "it has no valid `FormatVersion`".to_string() });
    }
    let envelope: EnvelopeIn = serde_json::from_slice(&json).map_err(|error| SnapshotError::InvalidInventory { path, reason: error.to_string() })?;
    Ok(envelope.inventory)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::AccountInfo;

    fn inventory() -> Inventory {
        let account =
            AccountInfo { account_id: "123456789012".parse().unwrap(), partition: "aws".into(), caller_arn: None, caller_user_id: None, organization: None };
        Inventory::new(account, vec!["eu-west-1".into()], chrono::Utc::now())
    }

    fn zstd(json: &str) -> Vec<u8> {
        zstd::encode_all(json.as_bytes(), 3).unwrap()
    }

    fn error_of(bytes: &[u8]) -> String {
        from_bytes(bytes, "x.vigil").unwrap_err().to_string()
    }

    #[test]
    fn a_written_snapshot_reads_back_equal() {
        let inventory = inventory();
        let bytes = to_bytes(&inventory).unwrap();
        assert_eq!(from_bytes(&bytes, "x").unwrap(), inventory);
    }

    #[test]
    fn bad_files_get_errors_that_name_the_problem() {
        let good = to_bytes(&inventory()).unwrap();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"{\"Records\": []}".to_vec(), "not zstd-compressed"),
            (Vec::new(), "not zstd-compressed"),
            (good[..good.len() / 2].to_vec(), "corrupt or truncated"),
            (zstd("{\"Format\": \"vigil-inventory\", \"FormatVersion\": 1, \"Inv"), "corrupt or truncated"),
            (zstd("{\"Records\": []}"), "no `Format` field"),
            (zstd("[1,2,3]"), "not a vigil inventory"),
            (zstd("{\"Format\": \"prowler\", \"FormatVersion\": 1}"), "`Format` is `prowler`"),
            (zstd("{\"Format\": \"vigil-inventory\", \"FormatVersion\": 99}"), "format version 99, newer"),
            (zstd("{\"Format\": \"vigil-inventory\", \"FormatVersion\": 1, \"Inventory\": {}}"), "invalid inventory"),
        ];
        for (bytes, expected) in cases {
            let message = error_of(&bytes);
            assert!(message.contains(expected), "expected `{expected}` in `{message}`");
        }
    }
}
