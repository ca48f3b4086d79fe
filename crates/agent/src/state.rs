//! The agent's state directory (`--state DIR`, mode 0700): its credential (`credential.json`,
//! mode 0600), the last policy it pulled (`policy.json`), the on-disk queue (`queue.db`) and
//! each module's own directory (`modules/NAME`). Files are replaced atomically (written
//! beside, fsync'd, renamed, directory fsync'd), so a crash leaves the old or the new one.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// What the agent keeps to prove who it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    pub server: String,
    pub agent_id: String,
    pub secret: String,
    /// A new secret asked for by rotation, not yet confirmed by a request that used it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_secret: Option<String>,
    pub instance_id: Option<String>,
}

/// Creates the directory with mode 0700 (tightening an existing one).
pub fn ensure_private_dir(path: &Path) -> anyhow::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path).with_context(|| format!("cannot create `{}`", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).with_context(|| format!("cannot make `{}` private", path.display()))
}

/// Replaces `path` atomically with `bytes`, mode 0600.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let temporary = path.with_extension("tmp");
    let context = || format!("cannot write `{}`", path.display());
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&temporary).with_context(context)?;
    file.write_all(bytes).with_context(context)?;
    file.sync_all().with_context(context)?;
    drop(file);
    std::fs::rename(&temporary, path).with_context(context)?;
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent).and_then(|directory| directory.sync_all()).with_context(context)?;
    }
    Ok(())
}

pub struct State {
    pub directory: PathBuf,
}

impl State {
    pub fn open(directory: &Path) -> anyhow::Result<State> {
        ensure_private_dir(directory)?;
        ensure_private_dir(&directory.join("modules"))?;
        Ok(State { directory: directory.to_path_buf() })
    }

    fn credential_path(&self) -> PathBuf {
        self.directory.join("credential.json")
    }

    pub fn credential(&self) -> anyhow::Result<Option<Credential>> {
        let path = self.credential_path();
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| format!("`{}` is damaged; remove it to enrol again", path.display()))?)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error).with_context(|| format!("cannot read `{}`", path.display())),
        }
    }

    pub fn save_credential(&self, credential: &Credential) -> anyhow::Result<()> {
        write_private(&self.credential_path(), &serde_json::to_vec_pretty(credential)?)
    }

    pub fn policy(&self) -> Option<vigil_fleet::EffectivePolicy> {
        std::fs::read(self.directory.join("policy.json")).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok())
    }

    pub fn save_policy(&self, policy: &vigil_fleet::EffectivePolicy) -> anyhow::Result<()> {
        write_private(&self.directory.join("policy.json"), &serde_json::to_vec_pretty(policy)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_is_private_and_survives_reopening() {
        let directory = tempfile::tempdir().unwrap();
        let state_dir = directory.path().join("state");
        let state = State::open(&state_dir).unwrap();
        assert_eq!(state.credential().unwrap(), None);
        let credential =
            Credential { server: "http://s".into(), agent_id: "agt-1".into(), secret: "x".into(), next_secret: None, instance_id: Some("i-1".into()) };
        state.save_credential(&credential).unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&state_dir), 0o700);
        assert_eq!(mode(&state_dir.join("credential.json")), 0o600);
        assert_eq!(State::open(&state_dir).unwrap().credential().unwrap(), Some(credential));
        std::fs::write(state_dir.join("credential.json"), "{").unwrap();
        assert!(state.credential().unwrap_err().to_string().contains("damaged"));
    }
}
