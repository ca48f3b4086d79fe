//! The exposure and IAM analyses recorded with each stored scan, so the console can show
//! internet exposure, admin-equivalent principals, escalation paths, access from outside the
//! account and who can reach a resource without the inventory.

use std::collections::HashMap;

use serde_json::json;
use vigil_iam::account::Account;
use vigil_iam::analysis;
use vigil_model::Inventory;
use vigil_store::Analysis;

/// Who-can-access is answered for at most this many (principal, resource) decisions per
/// account (about a second of engine time); beyond it the console says it was not computed.
const ACCESS_DECISIONS: usize = 500_000;

/// For each resource type whose access matters most, the action that stands for reading it
/// and the resource the request names.
fn access_question(resource_type: &str, arn: &str) -> Option<(&'static str, String)> {
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

/// Every analysis of one account's inventory.
pub fn analyse(inventory: &Inventory) -> Vec<Analysis> {
    let account_id = inventory.account_id().to_string();
    let row = |kind: &str, subject: &str, body: serde_json::Value| Analysis {
        account_id: account_id.clone(),
        kind: kind.to_string(),
        subject: subject.to_string(),
        body,
    };
    let resources = inventory.resources();
    let arn_of: HashMap<&str, &str> =
        resources.iter().flat_map(|resource| [(resource.id, resource.arn.as_str()), (resource.arn.as_str(), resource.arn.as_str())]).collect();
    let mut rows = Vec::new();

    let network = vigil_net::Network::new(inventory);
    for exposure_row in super::reach::exposure_rows(&network, &network.exposures()) {
        let id = exposure_row["resource_id"].as_str().unwrap_or_default();
        let subject = arn_of.get(id).copied().unwrap_or(id).to_string();
        rows.push(row("exposure", &subject, exposure_row));
    }

    let account = Account::from_inventory(inventory);
    for admin in analysis::admins(&account) {
        rows.push(row("admin", &admin.principal, json!(admin)));
    }
    for path in analysis::escalation(&account) {
        rows.push(row("escalation", &path.principal, json!(path)));
    }
    for grant in analysis::external_access(&account) {
        rows.push(row("external", &grant.resource, json!(grant)));
    }

    let questions: Vec<(&str, &'static str, String)> = resources
        .iter()
        .filter_map(|resource| access_question(resource.resource_type, &resource.arn).map(|(action, target)| (resource.arn.as_str(), action, target)))
        .collect();
    let decisions = questions.len() * account.principals.len();
    if decisions > ACCESS_DECISIONS {
        rows.push(row(
            "access-skipped",
            "",
            json!({ "reason": format!("{} principals × {} resources is more than {ACCESS_DECISIONS} decisions; ask `vigil iam who-can`", account.principals.len(), questions.len()) }),
        ));
        return rows;
    }
    for (arn, action, target) in questions {
        let principals: Vec<serde_json::Value> = account
            .who_can(action, &target)
            .iter()
            .map(|(principal, evaluation)| {
                let by: Vec<String> =
                    evaluation.explanation.allowed_by.iter().map(|statement| format!("{}#{}", statement.policy, statement.statement)).collect();
                json!({ "principal": principal.arn, "kind": principal.kind, "allowed_by": by })
            })
            .collect();
        rows.push(row("access", arn, json!({ "action": action, "resource": target, "principals": principals })));
    }
    rows
}
