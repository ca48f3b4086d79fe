//! What "using" a resource means, in one place: the request that stands for reading a bucket,
//! a secret, a key, a database... Used by the console's who-can-access analysis and by
//! `vigil iam escalation --to ARN` (paths to a named resource).

/// The request that stands for reading a resource of a CloudFormation type: (action, the
/// resource the request names).
pub fn access_question(resource_type: &str, arn: &str) -> Option<(&'static str, String)> {
    Some(match resource_type {
        "AWS::S3::Bucket" => ("s3:GetObject", format!("{arn}/*")),
        "AWS::KMS::Key" => ("kms:Decrypt", arn.to_string()),
        "AWS::SecretsManager::Secret" => ("secretsmanager:GetSecretValue", arn.to_string()),
        "AWS::SQS::Queue" => ("sqs:ReceiveMessage", arn.to_string()),
        "AWS::SNS::Topic" => ("sns:Publish", arn.to_string()),
        "AWS::Lambda::Function" => ("lambda:InvokeFunction", arn.to_string()),
        "AWS::DynamoDB::Table" => ("dynamodb:GetItem", arn.to_string()),
        "AWS::IAM::Role" => ("sts:AssumeRole", arn.to_string()),
        "AWS::ECR::Repository" => ("ecr:BatchGetImage", arn.to_string()),
        "AWS::Kinesis::Stream" => ("kinesis:GetRecords", arn.to_string()),
        _ => return None,
    })
}

/// The requests any one of which gives a principal the data of the resource named by `arn`
/// (its type read from the ARN): reading an object, a secret's value, decrypting with a key,
/// connecting to or taking over a database... `None` when the ARN names no type vigil knows
/// (then the caller must say which action counts).
pub fn access_requests(arn: &str) -> Option<Vec<(String, String)>> {
    let parts = crate::pattern::arn_parts(arn)?;
    let (partition, service, region, account, resource) = (parts[1], parts[2], parts[3], parts[4], parts[5]);
    let one = |action: &str, resource: String| Some(vec![(action.to_string(), resource)]);
    match service {
        "s3" if !resource.contains('/') => one("s3:GetObject", format!("{arn}/*")),
        "s3" => one("s3:GetObject", arn.to_string()),
        "secretsmanager" => one("secretsmanager:GetSecretValue", arn.to_string()),
        "kms" => one("kms:Decrypt", arn.to_string()),
        "dynamodb" => Some(vec![("dynamodb:GetItem".to_string(), arn.to_string()), ("dynamodb:Scan".to_string(), arn.to_string())]),
        "rds" => {
            // IAM database authentication, or the management calls that hand the data over
            // (resetting the master password, copying a snapshot out).
            let connect = ("rds-db:connect".to_string(), format!("arn:{partition}:rds-db:{region}:{account}:dbuser:*/*"));
            match resource.split(':').next() {
                Some("db") => Some(vec![connect, ("rds:ModifyDBInstance".to_string(), arn.to_string())]),
                Some("cluster") => Some(vec![connect, ("rds:ModifyDBCluster".to_string(), arn.to_string())]),
                _ => None,
            }
        }
        "redshift" => one("redshift:GetClusterCredentials", arn.to_string()),
        "sqs" => one("sqs:ReceiveMessage", arn.to_string()),
        "ssm" if resource.starts_with("parameter") => one("ssm:GetParameter", arn.to_string()),
        "lambda" => one("lambda:InvokeFunction", arn.to_string()),
        "iam" if resource.starts_with("role/") => one("sts:AssumeRole", arn.to_string()),
        "ecr" => one("ecr:BatchGetImage", arn.to_string()),
        "kinesis" => one("kinesis:GetRecords", arn.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::access_requests;

    #[test]
    fn data_resources_map_to_the_request_that_reads_them() {
        for (arn, expected) in [
            ("arn:aws:s3:::payroll", Some(("s3:GetObject", "arn:aws:s3:::payroll/*"))),
            (
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
                Some(("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf")),
            ),
            ("arn:aws:kms:us-east-1:123456789012:key/k1", Some(("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/k1"))),
            ("arn:aws:rds:us-east-1:123456789012:db:orders", Some(("rds-db:connect", "arn:aws:rds-db:us-east-1:123456789012:dbuser:*/*"))),
            ("arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1", None),
        ] {
            let found = access_requests(arn);
            let first = found.as_ref().and_then(|requests| requests.first()).map(|(action, resource)| (action.as_str(), resource.as_str()));
            assert_eq!(first, expected, "{arn}");
        }
    }
}
