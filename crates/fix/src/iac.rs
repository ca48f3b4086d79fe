//! The same changes as infrastructure-as-code snippets (`vigil fix --format terraform` and
//! `--format cloudformation`), and the tags that say a resource is managed that way (a fix
//! applied by hand to such a resource is reverted by the next deployment).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vigil_model::Tags;

/// One change as a Terraform snippet and a CloudFormation (YAML) snippet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Iac {
    pub terraform: String,
    pub cloudformation: String,
}

/// A snippet that sets attributes in an existing resource's definition.
pub(crate) fn resource_block(
    what: &str,
    terraform_type: &str,
    terraform_attributes: &[(&str, Value)],
    cloudformation_type: &str,
    cloudformation_properties: &[(&str, Value)],
) -> Iac {
    let name = identifier(what);
    let mut terraform = format!("# {what}: set in its {terraform_type} resource\nresource \"{terraform_type}\" \"{name}\" {{\n");
    for (key, value) in terraform_attributes {
        terraform.push_str(&format!("  {key} = {}\n", hcl(value, 1)));
    }
    terraform.push_str("}\n");
    let mut cloudformation =
        format!("# {what}: set in its {cloudformation_type} resource\n{}:\n  Type: {cloudformation_type}\n  Properties:\n", logical_id(what));
    for (key, value) in cloudformation_properties {
        cloudformation.push_str(&yaml_field(key, value, 4));
    }
    Iac { terraform, cloudformation }
}

/// A snippet for a change that is not a property of a resource (an account setting, a
/// region setting): the Terraform resource and the CloudFormation note, as given.
pub(crate) fn standalone(what: &str, terraform_type: &str, terraform_attributes: &[(&str, Value)], cloudformation: &str) -> Iac {
    let name = identifier(what);
    let mut terraform = format!("# {what}\nresource \"{terraform_type}\" \"{name}\" {{\n");
    for (key, value) in terraform_attributes {
        terraform.push_str(&format!("  {key} = {}\n", hcl(value, 1)));
    }
    terraform.push_str("}\n");
    Iac { terraform, cloudformation: format!("# {what}\n{cloudformation}\n") }
}

/// A Terraform name made of the letters, digits and underscores of `text`.
fn identifier(text: &str) -> String {
    let mut name: String = text.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    while name.contains("__") {
        name = name.replace("__", "_");
    }
    let name = name.trim_matches('_').to_string();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) { format!("r_{name}") } else { name }
}

/// A CloudFormation logical id (letters and digits) for `text`.
fn logical_id(text: &str) -> String {
    let id: String = text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|part| !part.is_empty()).map(capitalize).collect();
    if id.is_empty() { "Resource".to_string() } else { id }
}

fn capitalize(part: &str) -> String {
    let mut chars = part.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// A JSON value as an HCL expression.
pub(crate) fn hcl(value: &Value, depth: usize) -> String {
    let pad = "  ".repeat(depth);
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => serde_json::to_string(text).unwrap_or_default(),
        Value::Array(items) if items.is_empty() => "[]".to_string(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(|item| format!("{pad}  {}", hcl(item, depth + 1))).collect();
            format!("[\n{}\n{pad}]", inner.join(",\n"))
        }
        Value::Object(map) if map.is_empty() => "{}".to_string(),
        Value::Object(map) => {
            let inner: Vec<String> = map.iter().map(|(key, item)| format!("{pad}  {key} = {}", hcl(item, depth + 1))).collect();
            format!("{{\n{}\n{pad}}}", inner.join("\n"))
        }
    }
}

/// `key: value` as YAML at an indentation (strings are JSON-quoted, which YAML reads).
pub(crate) fn yaml_field(key: &str, value: &Value, indent: usize) -> String {
    let pad = " ".repeat(indent);
    match value {
        Value::Array(items) if !items.is_empty() => {
            let mut out = format!("{pad}{key}:\n");
            for item in items {
                out.push_str(&yaml_item(item, indent + 2));
            }
            out
        }
        Value::Object(map) if !map.is_empty() => {
            let mut out = format!("{pad}{key}:\n");
            for (inner_key, inner) in map {
                out.push_str(&yaml_field(inner_key, inner, indent + 2));
            }
            out
        }
        scalar => format!("{pad}{key}: {}\n", yaml_scalar(scalar)),
    }
}

fn yaml_item(value: &Value, indent: usize) -> String {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut out = String::new();
            for (index, (key, inner)) in map.iter().enumerate() {
                let field = yaml_field(key, inner, indent + 2);
                if index == 0 {
                    out.push_str(&format!("{pad}- {}", field.trim_start()));
                } else {
                    out.push_str(&field);
                }
            }
            out
        }
        Value::Array(items) if !items.is_empty() => {
            let mut out = format!("{pad}-\n");
            for item in items {
                out.push_str(&yaml_item(item, indent + 2));
            }
            out
        }
        scalar => format!("{pad}- {}\n", yaml_scalar(scalar)),
    }
}

fn yaml_scalar(value: &Value) -> String {
    match value {
        Value::Array(_) => "[]".to_string(),
        Value::Object(_) => "{}".to_string(),
        Value::String(text) => serde_json::to_string(text).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// Tag keys that name the tool managing a resource.
const MANAGER_TAG_KEYS: &[(&str, &str)] = &[
    ("aws:cloudformation:stack-name", "CloudFormation stack"),
    ("aws:cdk:path", "CDK (CloudFormation)"),
    ("aws:servicecatalog:provisionedProductArn", "Service Catalog product"),
];

/// Tag keys that, with a value naming a tool, say who manages a resource.
const MANAGED_BY_KEYS: &[&str] = &["managed-by", "managed_by", "managedby", "provisioner", "provisioned-by", "provisioned_by", "iac"];

/// Who manages a resource, from its tags: a CloudFormation stack (AWS's own tag), or
/// Terraform / Pulumi / CDK by the common tags (`terraform = true`, `ManagedBy = terraform`,
/// `tf:*`, `pulumi:*`). `None` when no tag says.
pub fn managed_by(tags: Option<&Tags>) -> Option<String> {
    let tags = tags?;
    for (key, label) in MANAGER_TAG_KEYS {
        if let Some(value) = tags.get(*key) {
            return Some(format!("{label} `{value}`"));
        }
    }
    for (key, value) in tags {
        let key_lower = key.to_ascii_lowercase();
        let value_lower = value.to_ascii_lowercase();
        if key_lower == "terraform" || key_lower.starts_with("terraform:") || key_lower.starts_with("tf:") || key_lower == "tf_workspace" {
            return Some(format!("Terraform (tag `{key}`)"));
        }
        if key_lower.starts_with("pulumi:") {
            return Some(format!("Pulumi (tag `{key}`)"));
        }
        if MANAGED_BY_KEYS.contains(&key_lower.as_str()) {
            for tool in ["terraform", "opentofu", "pulumi", "cloudformation", "cdk", "crossplane"] {
                if value_lower.contains(tool) {
                    return Some(format!("{value} (tag `{key}`)"));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn iac_tags_name_the_tool_and_ordinary_tags_do_not() {
        let tags = |pairs: &[(&str, &str)]| -> Tags { pairs.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect() };
        assert_eq!(managed_by(Some(&tags(&[("aws:cloudformation:stack-name", "web")]))).as_deref(), Some("CloudFormation stack `web`"));
        assert!(managed_by(Some(&tags(&[("ManagedBy", "Terraform")]))).unwrap().contains("Terraform"));
        assert!(managed_by(Some(&tags(&[("terraform", "true")]))).unwrap().contains("Terraform"));
        assert_eq!(managed_by(Some(&tags(&[("Name", "web"), ("team", "terraform-fans")]))), None);
        assert_eq!(managed_by(None), None);
    }

    #[test]
    fn snippets_render_nested_values_in_both_languages() {
        let iac = resource_block(
            "bucket logs",
            "aws_s3_bucket_public_access_block",
            &[("block_public_acls", json!(true)), ("tags", json!({"a": "b"}))],
            "AWS::S3::Bucket",
            &[("PublicAccessBlockConfiguration", json!({"BlockPublicAcls": true})), ("Rules", json!([{"Id": "x", "Days": 3}]))],
        );
        assert!(iac.terraform.contains("resource \"aws_s3_bucket_public_access_block\" \"bucket_logs\" {\n  block_public_acls = true\n"), "{}", iac.terraform);
        assert!(iac.terraform.contains("tags = {\n    a = \"b\"\n  }"), "{}", iac.terraform);
        assert!(
            iac.cloudformation
                .contains("BucketLogs:\n  Type: AWS::S3::Bucket\n  Properties:\n    PublicAccessBlockConfiguration:\n      BlockPublicAcls: true\n")
        );
        // serde_json keeps insertion order (`preserve_order`), so keys come out as written.
        assert!(iac.cloudformation.contains("    Rules:\n      - Id: \"x\"\n        Days: 3\n"), "{}", iac.cloudformation);
    }
}
