//! The upload of the Parquet files `vigil export --to s3://BUCKET/PREFIX` writes (s3:PutObject,
//! one object per file, the client of [`crate::trail_logs::client`]). The one write to S3 outside
//! `vigil-apply`: it puts new objects into the bucket the user named, and changes no
//! configuration of the account.

use std::path::Path;

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_types::error::display::DisplayErrorContext;

/// The `Content-Type` of the uploaded files.
pub const PARQUET_CONTENT_TYPE: &str = "application/vnd.apache.parquet";

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("cannot read `{path}` to upload it: {reason}")]
    Read { path: String, reason: String },
    #[error("s3:PutObject on `s3://{bucket}/{key}` failed: {reason}")]
    Put { bucket: String, key: String, reason: String },
}

/// Uploads the file at `path` as `s3://bucket/key`.
pub async fn put_file(client: &Client, bucket: &str, key: &str, path: &Path) -> Result<(), UploadError> {
    let body = ByteStream::from_path(path).await.map_err(|error| UploadError::Read { path: path.display().to_string(), reason: error.to_string() })?;
    client.put_object().bucket(bucket).key(key).content_type(PARQUET_CONTENT_TYPE).body(body).send().await.map_err(|error| UploadError::Put {
        bucket: bucket.to_string(),
        key: key.to_string(),
        reason: DisplayErrorContext(&error).to_string(),
    })?;
    Ok(())
}
