//! Secrets in what collection reads (EC2 user data, launch template versions, ECS container
//! environments, sampled S3 objects), judged at the edge by the one detector, `vigil-secrets`:
//! only the location, the kind and the redacted form reach the inventory, never the value.

use std::io::Read as _;

use base64::Engine;
use vigil_model::sensitive::SecretFound;

/// The most user data decoded from gzip (AWS caps user data at 16 KB before compression).
const MAX_DECODED_USER_DATA: u64 = 1024 * 1024;

/// The text of user data as EC2 returns it: base64, possibly of gzip. Text that is not base64
/// is taken as it is (some tools hand back plain text).
pub fn decode_user_data(encoded: &str) -> String {
    let compact: String = encoded.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) else {
        return encoded.to_string();
    };
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = Vec::new();
        let decoder = flate2::read::MultiGzDecoder::new(bytes.as_slice());
        if decoder.take(MAX_DECODED_USER_DATA).read_to_end(&mut text).is_ok() {
            return String::from_utf8_lossy(&text).into_owned();
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Every finding in a text, located as `{place} line N`.
pub fn in_text(text: &str, place: &str) -> Vec<SecretFound> {
    vigil_secrets::scan(text)
        .into_iter()
        .map(|finding| SecretFound { location: format!("{place} line {}", finding.line), kind: finding.kind.as_str().to_string(), redacted: finding.redacted })
        .collect()
}

/// Every finding in user data (base64 as EC2 returns it), located as `{prefix}user data line N`.
pub fn in_user_data(encoded: &str, prefix: &str) -> Vec<SecretFound> {
    in_text(&decode_user_data(encoded), &format!("{prefix}user data"))
}

/// Every finding in one environment variable (its value, and its name when it says secret),
/// located as `{prefix}variable NAME`.
pub fn in_variable(name: &str, value: &str, prefix: &str) -> Vec<SecretFound> {
    vigil_secrets::scan_named(name, value)
        .into_iter()
        .map(|finding| SecretFound { location: format!("{prefix}variable {name}"), kind: finding.kind.as_str().to_string(), redacted: finding.redacted })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    // Built at run time so that no scanner flags this file.
    fn access_key() -> String {
        format!("AKIA{}", "Q7XZ3MRT5WJKLN2P")
    }

    fn check(encoded: &str, expected: &[(&str, &str)]) {
        let found = in_user_data(encoded, "");
        let got: Vec<(&str, &str)> = found.iter().map(|finding| (finding.location.as_str(), finding.kind.as_str())).collect();
        assert_eq!(got, expected);
        for finding in &found {
            assert!(!finding.redacted.contains(&access_key()), "{finding:?}");
        }
    }

    #[test]
    fn user_data_is_decoded_from_base64_and_gzip_and_located_by_line() {
        let script = format!("#!/bin/bash\nexport AWS_ACCESS_KEY_ID={}\n", access_key());
        let plain = base64::engine::general_purpose::STANDARD.encode(&script);
        check(&plain, &[("user data line 2", "aws_access_key_id")]);
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gzip.write_all(script.as_bytes()).unwrap();
        let gzipped = base64::engine::general_purpose::STANDARD.encode(gzip.finish().unwrap());
        check(&gzipped, &[("user data line 2", "aws_access_key_id")]);
    }

    #[test]
    fn look_alikes_and_empty_user_data_find_nothing() {
        let script = "#!/bin/bash\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nDB_PASSWORD=${DB_PASSWORD}\n";
        check(&base64::engine::general_purpose::STANDARD.encode(script), &[]);
        check("", &[]);
    }

    #[test]
    fn a_secret_named_variable_is_located_by_name_and_redacted() {
        let found = in_variable("DB_PASSWORD", "v9#Lq2!xT7pZ", "container web, ");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].location, "container web, variable DB_PASSWORD");
        assert!(!found[0].redacted.contains("v9#Lq2!xT7pZ"));
    }
}
