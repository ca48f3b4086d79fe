//! CloudTrail log files in S3 for `vigil trail`: lists the log objects under a bucket prefix
//! for a time range (ListObjectsV2, using the CloudTrail key layout to narrow the listing) and
//! fetches them (GetObject); for `vigil trail verify`, lists digests and logs together, reads a
//! digest's signature from its object metadata, and fetches the region's public keys
//! (cloudtrail:ListPublicKeys). Only reads.
//!
//! Key layout: `[prefix/]AWSLogs/[o-org/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/
//! ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_RANDOM.json.gz`; digests live under
//! `CloudTrail-Digest/` and are left out.

use aws_sdk_s3::Client;
use aws_smithy_types::error::display::DisplayErrorContext;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

pub use aws_types::SdkConfig;
pub use aws_types::region::Region;

/// What to list.
#[derive(Debug, Clone)]
pub struct TrailLogQuery {
    pub bucket: String,
    pub prefix: String,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// One listed log object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogObject {
    pub key: String,
    pub size: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum TrailLogError {
    #[error("s3:ListObjectsV2 on `s3://{bucket}/{prefix}` failed: {reason}")]
    List { bucket: String, prefix: String, reason: String },
    #[error("s3:GetObject on `s3://{bucket}/{key}` failed: {reason}")]
    Get { bucket: String, key: String, reason: String },
    #[error("cloudtrail:ListPublicKeys in `{region}` failed: {reason}")]
    PublicKeys { region: String, reason: String },
}

/// Parses `s3://bucket/prefix`.
pub fn parse_s3_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| (bucket.to_string(), prefix.to_string()))
}

/// An S3 client for the configuration; path-style addressing when a custom endpoint is set.
pub fn client(sdk_config: &aws_types::SdkConfig, custom_endpoint: bool) -> Client {
    let mut builder = aws_sdk_s3::config::Builder::from(sdk_config);
    if custom_endpoint {
        builder = builder.force_path_style(true);
    }
    Client::from_conf(builder.build())
}

/// A CloudTrail client for the configuration in `region` (public keys are per region).
pub fn cloudtrail_client(sdk_config: &SdkConfig, region: &str) -> aws_sdk_cloudtrail::Client {
    let config = aws_sdk_cloudtrail::config::Builder::from(sdk_config).region(Region::new(region.to_string())).build();
    aws_sdk_cloudtrail::Client::from_conf(config)
}

/// The delivery time in a CloudTrail log file name (`..._20230710T1220Z_...`).
pub fn key_time(key: &str) -> Option<DateTime<Utc>> {
    let name = key.rsplit('/').next()?;
    name.split('_').find_map(|part| {
        if part.len() == 14 && part.as_bytes().get(8) == Some(&b'T') && part.ends_with('Z') {
            chrono::NaiveDateTime::parse_from_str(part, "%Y%m%dT%H%MZ").ok().map(|time| Utc.from_utc_datetime(&time))
        } else {
            None
        }
    })
}

/// Whether a key names a log file (not a digest, not a folder marker) in the time range. A
/// file is named for the end of its delivery period and may arrive late, so a file is kept
/// from `from` up to an hour after `to`.
pub fn key_wanted(key: &str, query: &TrailLogQuery) -> bool {
    if key.ends_with('/') || key.contains("/CloudTrail-Digest/") || key.contains("_CloudTrail-Digest_") {
        return false;
    }
    match key_time(key) {
        None => true,
        Some(time) => query.from.is_none_or(|from| time >= from) && query.to.is_none_or(|to| time <= to + Duration::hours(1)),
    }
}

/// The prefixes to list: one per day when the prefix ends at a region folder
/// (`.../CloudTrail/REGION/`) and the range is bounded (at most 400 days), else the prefix itself.
pub fn listing_prefixes(query: &TrailLogQuery) -> Vec<String> {
    let prefix = &query.prefix;
    let at_region = {
        let trimmed = prefix.trim_end_matches('/');
        let mut parts = trimmed.rsplit('/');
        let _region = parts.next();
        parts.next() == Some("CloudTrail")
    };
    if let (true, Some(from), Some(to)) = (at_region, query.from, query.to) {
        let first: NaiveDate = from.date_naive();
        let last: NaiveDate = (to + Duration::hours(1)).date_naive();
        let days = (last - first).num_days();
        if (0..=400).contains(&days) {
            let base = if prefix.ends_with('/') { prefix.clone() } else { format!("{prefix}/") };
            return first.iter_days().take(days as usize + 1).map(|day| format!("{base}{}/", day.format("%Y/%m/%d"))).collect();
        }
    }
    vec![prefix.clone()]
}

/// Lists the log objects the query names, in key order.
pub async fn list_log_objects(client: &Client, query: &TrailLogQuery) -> Result<Vec<LogObject>, TrailLogError> {
    let mut objects = Vec::new();
    for prefix in listing_prefixes(query) {
        let mut pages = client.list_objects_v2().bucket(&query.bucket).prefix(&prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| TrailLogError::List {
                bucket: query.bucket.clone(),
                prefix: prefix.clone(),
                reason: DisplayErrorContext(&error).to_string(),
            })?;
            for object in page.contents.unwrap_or_default() {
                let Some(key) = object.key else { continue };
                if key_wanted(&key, query) {
                    objects.push(LogObject { key, size: object.size.unwrap_or(0) });
                }
            }
        }
    }
    objects.sort_by(|left, right| left.key.cmp(&right.key));
    Ok(objects)
}

/// Fetches one object's bytes.
pub async fn fetch_object(client: &Client, bucket: &str, key: &str) -> Result<Vec<u8>, TrailLogError> {
    let get_error = |reason: String| TrailLogError::Get { bucket: bucket.to_string(), key: key.to_string(), reason };
    let output = client.get_object().bucket(bucket).key(key).send().await.map_err(|error| get_error(DisplayErrorContext(&error).to_string()))?;
    let body = output.body.collect().await.map_err(|error| get_error(error.to_string()))?;
    Ok(body.into_bytes().to_vec())
}

/// Lists every object under `s3://bucket/prefix` (digests, logs and anything else), in key order.
pub async fn list_all_objects(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<LogObject>, TrailLogError> {
    let mut objects = Vec::new();
    let mut pages = client.list_objects_v2().bucket(bucket).prefix(prefix).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| TrailLogError::List {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            reason: DisplayErrorContext(&error).to_string(),
        })?;
        for object in page.contents.unwrap_or_default() {
            if let Some(key) = object.key.filter(|key| !key.ends_with('/')) {
                objects.push(LogObject { key, size: object.size.unwrap_or(0) });
            }
        }
    }
    objects.sort_by(|left, right| left.key.cmp(&right.key));
    Ok(objects)
}

/// Fetches one object's bytes and its `signature` user metadata (`x-amz-meta-signature`), where
/// CloudTrail keeps a digest file's hex SHA256withRSA signature.
pub async fn fetch_object_with_signature(client: &Client, bucket: &str, key: &str) -> Result<(Vec<u8>, Option<String>), TrailLogError> {
    let get_error = |reason: String| TrailLogError::Get { bucket: bucket.to_string(), key: key.to_string(), reason };
    let output = client.get_object().bucket(bucket).key(key).send().await.map_err(|error| get_error(DisplayErrorContext(&error).to_string()))?;
    let signature = output.metadata.as_ref().and_then(|metadata| metadata.get("signature")).cloned();
    let body = output.body.collect().await.map_err(|error| get_error(error.to_string()))?;
    Ok((body.into_bytes().to_vec(), signature))
}

/// The end time in a digest file name (`..._CloudTrail-Digest_REGION_TRAIL_REGION_20240501T120000Z.json.gz`).
pub fn digest_key_time(key: &str) -> Option<DateTime<Utc>> {
    let name = key.rsplit('/').next()?;
    let stamp = name.rsplit('_').next()?.split('.').next()?;
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").ok().map(|time| Utc.from_utc_datetime(&time))
}

/// One region public key as ListPublicKeys returns it: the fingerprint and the DER bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionPublicKey {
    pub fingerprint: String,
    pub der: Vec<u8>,
}

/// The public keys whose private keys signed digests between `start` and now, in the client's
/// region (cloudtrail:ListPublicKeys, all pages). Keys without a value or fingerprint are left out.
pub async fn list_public_keys(client: &aws_sdk_cloudtrail::Client, start: Option<DateTime<Utc>>) -> Result<Vec<RegionPublicKey>, TrailLogError> {
    let region = client.config().region().map(ToString::to_string).unwrap_or_default();
    let mut keys = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let mut request = client.list_public_keys();
        if let Some(start) = start {
            request = request.start_time(aws_smithy_types::DateTime::from_millis(start.timestamp_millis()));
        }
        if let Some(token) = &next_token {
            request = request.next_token(token);
        }
        let output =
            request.send().await.map_err(|error| TrailLogError::PublicKeys { region: region.clone(), reason: DisplayErrorContext(&error).to_string() })?;
        keys.extend(output.public_key_list.unwrap_or_default().into_iter().filter_map(region_public_key));
        next_token = output.next_token.filter(|token| !token.is_empty());
        if next_token.is_none() {
            return Ok(keys);
        }
    }
}

fn region_public_key(key: aws_sdk_cloudtrail::types::PublicKey) -> Option<RegionPublicKey> {
    Some(RegionPublicKey { fingerprint: key.fingerprint?, der: key.value?.into_inner() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(prefix: &str, from: Option<&str>, to: Option<&str>) -> TrailLogQuery {
        let parse = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
        TrailLogQuery { bucket: "b".into(), prefix: prefix.into(), from: from.map(parse), to: to.map(parse) }
    }

    #[test]
    fn parses_urls_and_key_times() {
        assert_eq!(parse_s3_url("s3://bucket/a/b"), Some(("bucket".into(), "a/b".into())));
        assert_eq!(parse_s3_url("s3://bucket"), Some(("bucket".into(), "".into())));
        assert_eq!(parse_s3_url("/tmp/x"), None);
        let key = "AWSLogs/1/CloudTrail/us-east-1/2023/07/10/1_CloudTrail_us-east-1_20230710T1220Z_WMiH.json.gz";
        assert_eq!(key_time(key).map(|time| time.to_rfc3339()), Some("2023-07-10T12:20:00+00:00".into()));
    }

    #[test]
    fn keeps_log_files_in_range_and_drops_digests() {
        let range = query("", Some("2023-07-10T12:00:00Z"), Some("2023-07-10T13:00:00Z"));
        let key = |time: &str| format!("AWSLogs/1/CloudTrail/us-east-1/2023/07/10/1_CloudTrail_us-east-1_{time}_x.json.gz");
        assert!(key_wanted(&key("20230710T1220Z"), &range));
        assert!(key_wanted(&key("20230710T1355Z"), &range));
        assert!(!key_wanted(&key("20230710T1155Z"), &range));
        assert!(!key_wanted(&key("20230710T1415Z"), &range));
        assert!(!key_wanted("AWSLogs/1/CloudTrail-Digest/us-east-1/2023/07/10/1_CloudTrail-Digest_us-east-1_t_20230710T1220Z.json.gz", &range));
        assert!(key_wanted("other/file.json", &range));
    }

    #[test]
    fn lists_one_prefix_per_day_under_a_region_folder() {
        let range = query("AWSLogs/1/CloudTrail/us-east-1/", Some("2023-07-10T22:00:00Z"), Some("2023-07-11T23:30:00Z"));
        assert_eq!(
            listing_prefixes(&range),
            vec!["AWSLogs/1/CloudTrail/us-east-1/2023/07/10/", "AWSLogs/1/CloudTrail/us-east-1/2023/07/11/", "AWSLogs/1/CloudTrail/us-east-1/2023/07/12/"]
        );
        assert_eq!(listing_prefixes(&query("AWSLogs/1/", Some("2023-07-10T22:00:00Z"), None)), vec!["AWSLogs/1/"]);
    }
}

/// ListPublicKeys is not emulated by moto, so this test serves recorded replies (the JSON
/// shape of a real `ListPublicKeys` answer, two pages) from a local socket and checks that
/// the SDK call, the paging and the conversion give the fingerprints and DER bytes.
#[cfg(test)]
mod public_key_tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    use super::*;

    const PAGE_ONE: &str = r#"{"NextToken":"page-2","PublicKeyList":[{"Fingerprint":"8eba5db5bea9b640d5e3e5ab7c4b4a58","ValidityStartTime":1.7040672E9,"ValidityEndTime":1.7356032E9,"Value":"MAkCBADerWMCAQM="}]}"#;
    const PAGE_TWO: &str = r#"{"PublicKeyList":[{"Fingerprint":"0a1b2c","ValidityStartTime":1.7356032E9,"ValidityEndTime":1.7671392E9,"Value":"AQID"},{"ValidityStartTime":1.7356032E9}]}"#;

    /// Answers each request with the next reply and returns the request bodies it saw.
    fn serve(replies: Vec<&'static str>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut bodies = Vec::new();
            for reply in replies {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if line.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                bodies.push(String::from_utf8(body).unwrap());
                let mut stream = stream;
                write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                )
                .unwrap();
            }
            bodies
        });
        (url, handle)
    }

    #[tokio::test]
    async fn list_public_keys_pages_and_converts_the_reply() {
        let (url, server) = serve(vec![PAGE_ONE, PAGE_TWO]);
        let config = aws_sdk_cloudtrail::Config::builder()
            .behavior_version(aws_sdk_cloudtrail::config::BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .endpoint_url(url)
            .credentials_provider(aws_credential_types::Credentials::new("AKID", "SECRET", None, None, "test"))
            .build();
        let client = aws_sdk_cloudtrail::Client::from_conf(config);
        let start = DateTime::parse_from_rfc3339("2024-05-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let keys = list_public_keys(&client, Some(start)).await.unwrap();
        assert_eq!(
            keys,
            vec![
                RegionPublicKey { fingerprint: "8eba5db5bea9b640d5e3e5ab7c4b4a58".into(), der: vec![0x30, 9, 2, 4, 0, 0xde, 0xad, 0x63, 2, 1, 3] },
                RegionPublicKey { fingerprint: "0a1b2c".into(), der: vec![1, 2, 3] },
            ]
        );
        let bodies = server.join().unwrap();
        assert!(bodies[0].contains("\"StartTime\":1714521600") && !bodies[0].contains("NextToken"), "{bodies:?}");
        assert!(bodies[1].contains("\"NextToken\":\"page-2\""), "{bodies:?}");
    }

    #[test]
    fn digest_names_give_their_end_time() {
        let key = "p/AWSLogs/1/CloudTrail-Digest/us-east-1/2024/05/01/1_CloudTrail-Digest_us-east-1_main_us-east-1_20240501T120000Z.json.gz";
        assert_eq!(digest_key_time(key).map(|time| time.to_rfc3339()), Some("2024-05-01T12:00:00+00:00".into()));
        assert_eq!(digest_key_time("AWSLogs/x.json.gz"), None);
    }
}
