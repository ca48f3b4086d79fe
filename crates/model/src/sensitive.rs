//! What the one secrets detector (`vigil-secrets`) found in data collection read: EC2 user
//! data, launch template versions, ECS container environments and sampled S3 objects. Only the
//! location, the kind and a redacted form are kept, never the value.

use serde::{Deserialize, Serialize};

/// One secret or item of personal data, found at a location.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SecretFound {
    /// Where, inside the resource: `user data line 3`, `version 2, user data line 1`,
    /// `container web, variable DB_PASSWORD`, `object reports/q1.csv line 12`.
    pub location: String,
    /// The detector's kind (`aws_access_key_id`, `private_key`, `card_number`...).
    pub kind: String,
    /// The detector's redacted form: a few characters at most of the value, the rest masked.
    pub redacted: String,
}

/// What `vigil scan --sample-objects N` read from one bucket and what the detector found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SensitiveDataSample {
    /// The keys of the objects read (GetObject on each, on a bounded prefix of the object).
    pub objects_sampled: Vec<String>,
    /// Bytes read in all, across the sampled objects.
    pub bytes_read: u64,
    /// The kinds found, sorted and without repeats: empty when nothing was found.
    pub kinds: Vec<String>,
    /// Every finding, with the object key and line in its location.
    pub findings: Vec<SecretFound>,
}

impl SensitiveDataSample {
    /// Whether the sample found secrets or personal data.
    pub fn holds_sensitive_data(&self) -> bool {
        !self.kinds.is_empty()
    }
}
