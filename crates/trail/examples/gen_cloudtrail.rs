//! Generates large, realistic CloudTrail sets for benchmarks by varying the records of the
//! shared datasets (event ids, times, source addresses, users, request ids).
//!
//! Usage: `cargo run --release -p vigil-trail --example gen_cloudtrail -- DATA_DIR OUT_DIR RECORDS [--gzip] [--jsonl FILE]`
//! writes CloudTrail delivery files (`{"Records":[...]}`, 1,000 records each) under
//! `OUT_DIR/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`, and optionally the same records
//! as one JSON Lines file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

fn load_records(data: &Path) -> Vec<Value> {
    let mut records = Vec::new();
    for folder in ["cloudtrail/invictus-aws-dataset", "cloudtrail/stratus-red-team-detonations"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(data.join(folder)).unwrap().map(|entry| entry.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            if path.extension().is_some_and(|extension| extension == "json") {
                let json: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                let list = json.get("Records").cloned().unwrap_or(json);
                records.extend(list.as_array().cloned().unwrap_or_default());
            }
        }
    }
    records
}

/// A small deterministic mixer (splitmix64).
fn mix(mut value: u64) -> u64 {
    value = value.wrapping_add(0x9e3779b97f4a7c15);
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d049bb133111eb);
    value ^ (value >> 31)
}

fn uuid(seed: u64) -> String {
    let (high, low) = (mix(seed), mix(seed ^ 0xdead_beef));
    format!("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xffff, high & 0xfff, (low >> 48) & 0x3fff | 0x8000, low & 0xffff_ffff_ffff)
}

fn vary(template: &Value, index: u64, base_ms: i64) -> Value {
    let mut record = template.clone();
    let random = mix(index);
    let time = chrono::DateTime::from_timestamp_millis(base_ms + index as i64 * 37).unwrap();
    record["eventTime"] = json!(time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    record["eventID"] = json!(uuid(index));
    record["requestID"] = json!(uuid(index ^ 0x5555));
    if record.get("sourceIPAddress").and_then(Value::as_str).is_some_and(|address| address.parse::<std::net::IpAddr>().is_ok()) {
        record["sourceIPAddress"] = json!(format!("{}.{}.{}.{}", 11 + random % 200, (random >> 8) % 256, (random >> 16) % 256, (random >> 24) % 256));
    }
    let user = format!("user{:02}", (random >> 32) % 50);
    if let Some(identity) = record.get_mut("userIdentity").and_then(Value::as_object_mut)
        && identity.get("type").and_then(Value::as_str) == Some("IAMUser")
    {
        let account = identity.get("accountId").and_then(Value::as_str).unwrap_or("111122223333").to_string();
        identity.insert("userName".into(), json!(user));
        identity.insert("arn".into(), json!(format!("arn:aws:iam::{account}:user/{user}")));
    }
    record
}

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let data = PathBuf::from(&arguments[0]);
    let out = PathBuf::from(&arguments[1]);
    let total: u64 = arguments[2].parse().unwrap();
    let gzip = arguments.iter().any(|argument| argument == "--gzip");
    let jsonl = arguments.iter().position(|argument| argument == "--jsonl").map(|position| PathBuf::from(&arguments[position + 1]));
    let templates = load_records(&data);
    let base_ms = chrono::DateTime::parse_from_rfc3339("2024-05-01T00:00:00Z").unwrap().timestamp_millis();
    let mut jsonl_writer = jsonl.map(|path| std::io::BufWriter::new(std::fs::File::create(path).unwrap()));
    let per_file = 1000u64;
    let mut written = 0u64;
    let mut file_index = 0u64;
    while written < total {
        let count = per_file.min(total - written);
        let records: Vec<Value> = (written..written + count).map(|index| vary(&templates[(index % templates.len() as u64) as usize], index, base_ms)).collect();
        let time = chrono::DateTime::from_timestamp_millis(base_ms + written as i64 * 37).unwrap();
        let folder = out.join(format!("AWSLogs/111122223333/CloudTrail/us-east-1/{}", time.format("%Y/%m/%d")));
        std::fs::create_dir_all(&folder).unwrap();
        let name = format!("111122223333_CloudTrail_us-east-1_{}_{file_index:08}.json", time.format("%Y%m%dT%H%MZ"));
        let body = serde_json::to_vec(&json!({ "Records": records })).unwrap();
        if gzip {
            let file = std::fs::File::create(folder.join(format!("{name}.gz"))).unwrap();
            let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::default());
            encoder.write_all(&body).unwrap();
            encoder.finish().unwrap();
        } else {
            std::fs::write(folder.join(name), &body).unwrap();
        }
        if let Some(writer) = jsonl_writer.as_mut() {
            for record in &records {
                serde_json::to_writer(&mut *writer, record).unwrap();
                writer.write_all(b"\n").unwrap();
            }
        }
        written += count;
        file_index += 1;
    }
    if let Some(mut writer) = jsonl_writer {
        writer.flush().unwrap();
    }
    eprintln!("wrote {written} records in {file_index} files under {}", out.display());
}
