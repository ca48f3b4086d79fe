//! IAM slices: the account password policy and the status of a user's access keys (keys are
//! deactivated, never deleted, so every change can be undone).

use serde_json::{Value, json};
use vigil_model::Region;
use vigil_model::iam::PasswordPolicy;

use super::Kind;
use crate::iac::{self, Iac};
use crate::support::{clean, parse, require, to_value};
use crate::{Call, FixError, Target};

const GLOBAL: &str = Region::GLOBAL;

// ---- Password policy ----

pub static PASSWORD_POLICY: Kind = Kind {
    id: "iam-password-policy",
    title: "the account password policy",
    service: "iam",
    reads: &["iam:GetAccountPasswordPolicy"],
    writes: &["iam:UpdateAccountPasswordPolicy", "iam:DeleteAccountPasswordPolicy"],
    network: false,
    iam: false,
    guards: &[],
    state: |inventory, _target| {
        require(inventory, "iam", GLOBAL, "GetAccountPasswordPolicy", None)?;
        Ok(json!({ "PasswordPolicy": inventory.iam.password_policy.as_ref().map(canonical) }))
    },
    set_state: |inventory, _target, state| {
        inventory.iam.password_policy = policy(state)?.map(|policy| canonical(&policy)).map(|value| parse(&value, "PasswordPolicy")).transpose()?;
        Ok(())
    },
    calls: |_target, from, to| {
        let (before, after) = (policy(from)?, policy(to)?);
        if before.as_ref().map(canonical) == after.as_ref().map(canonical) {
            return Ok(Vec::new());
        }
        Ok(vec![match after {
            None => Call::new("iam", "DeleteAccountPasswordPolicy", GLOBAL, json!({})),
            Some(policy) => Call::new("iam", "UpdateAccountPasswordPolicy", GLOBAL, update_parameters(&policy)),
        }])
    },
    normalize: |state| json!(policy(state).ok().flatten().as_ref().map(canonical)),
    iac: password_policy_iac,
};

fn policy(state: &Value) -> Result<Option<PasswordPolicy>, FixError> {
    match state.get("PasswordPolicy") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => parse(value, "PasswordPolicy").map(Some),
    }
}

/// A password policy as AWS reports it after an update: an age of 0 means none, and
/// `ExpirePasswords` follows from the age.
pub(crate) fn canonical(policy: &PasswordPolicy) -> Value {
    let max_age = policy.max_password_age.filter(|age| *age > 0);
    let reuse = policy.password_reuse_prevention.filter(|count| *count > 0);
    clean(json!({
        "MinimumPasswordLength": policy.minimum_password_length.unwrap_or(6),
        "RequireSymbols": policy.require_symbols,
        "RequireNumbers": policy.require_numbers,
        "RequireUppercaseCharacters": policy.require_uppercase_characters,
        "RequireLowercaseCharacters": policy.require_lowercase_characters,
        "AllowUsersToChangePassword": policy.allow_users_to_change_password,
        "ExpirePasswords": max_age.is_some(),
        "MaxPasswordAge": max_age,
        "PasswordReusePrevention": reuse,
        "HardExpiry": policy.hard_expiry.unwrap_or(false),
    }))
}

/// UpdateAccountPasswordPolicy replaces the whole policy: every setting is sent.
fn update_parameters(policy: &PasswordPolicy) -> Value {
    let mut parameters = canonical(policy);
    if let Some(map) = parameters.as_object_mut() {
        map.remove("ExpirePasswords");
    }
    parameters
}

fn password_policy_iac(_target: &Target, after: &Value) -> Iac {
    let policy = policy(after).ok().flatten().unwrap_or_default();
    iac::standalone(
        "account password policy",
        "aws_iam_account_password_policy",
        &[
            ("minimum_password_length", json!(policy.minimum_password_length.unwrap_or(6))),
            ("require_symbols", json!(policy.require_symbols)),
            ("require_numbers", json!(policy.require_numbers)),
            ("require_uppercase_characters", json!(policy.require_uppercase_characters)),
            ("require_lowercase_characters", json!(policy.require_lowercase_characters)),
            ("allow_users_to_change_password", json!(policy.allow_users_to_change_password)),
            ("max_password_age", json!(policy.max_password_age.unwrap_or(0))),
            ("password_reuse_prevention", json!(policy.password_reuse_prevention)),
            ("hard_expiry", json!(policy.hard_expiry.unwrap_or(false))),
        ],
        "# CloudFormation has no resource for the account password policy; use the API (see the calls) or Terraform",
    )
}

// ---- Access key status ----

pub static ACCESS_KEYS: Kind = Kind {
    id: "iam-access-key-status",
    title: "whether each access key of an IAM user is active",
    service: "iam",
    reads: &["iam:GetAccountAuthorizationDetails", "iam:ListAccessKeys"],
    writes: &["iam:UpdateAccessKey"],
    network: false,
    iam: true,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "iam", GLOBAL, "ListAccessKeys", Some(&target.id))?;
        let user = inventory.iam.users.iter().find(|user| user.user_name == target.id).ok_or_else(|| FixError::NotFound(format!("user `{}`", target.id)))?;
        let keys: Vec<Value> = user.access_keys.iter().map(|key| json!({ "AccessKeyId": key.access_key_id, "Status": key.status })).collect();
        Ok(json!({ "AccessKeys": keys }))
    },
    set_state: |inventory, target, state| {
        let wanted = statuses(state);
        let user =
            inventory.iam.users.iter_mut().find(|user| user.user_name == target.id).ok_or_else(|| FixError::NotFound(format!("user `{}`", target.id)))?;
        for key in &mut user.access_keys {
            if let Some((_, status)) = wanted.iter().find(|(id, _)| *id == key.access_key_id) {
                key.status = status.clone();
            }
        }
        // The credential report numbers a user's keys by creation (key 1 is the older).
        let mut keys: Vec<(Option<vigil_model::Timestamp>, bool)> = user.access_keys.iter().map(|key| (key.create_date, key.status == "Active")).collect();
        keys.sort_by_key(|(created, _)| *created);
        if let Some(row) = inventory.iam.credential_report.iter_mut().find(|row| row.user == target.id) {
            row.access_key_1_active = keys.first().is_some_and(|(_, active)| *active);
            row.access_key_2_active = keys.get(1).is_some_and(|(_, active)| *active);
        }
        Ok(())
    },
    calls: |target, from, to| {
        let before = statuses(from);
        Ok(statuses(to)
            .into_iter()
            .filter(|(id, status)| before.iter().any(|(old_id, old_status)| old_id == id && old_status != status))
            .map(|(id, status)| Call::new("iam", "UpdateAccessKey", GLOBAL, json!({ "UserName": target.id, "AccessKeyId": id, "Status": status })))
            .collect())
    },
    normalize: |state| {
        let mut list = statuses(state);
        list.sort();
        to_value(&list)
    },
    iac: |target, after| {
        let inactive: Vec<String> = statuses(after).into_iter().filter(|(_, status)| status != "Active").map(|(id, _)| id).collect();
        Iac {
            terraform: format!(
                "# user {}: in the aws_iam_access_key resources of keys {}\nresource \"aws_iam_access_key\" \"key\" {{\n  status = \"Inactive\"\n}}\n",
                target.id,
                inactive.join(", ")
            ),
            cloudformation: format!(
                "# user {}: in the AWS::IAM::AccessKey resources of keys {}\nAccessKey:\n  Type: AWS::IAM::AccessKey\n  Properties:\n    Status: Inactive\n",
                target.id,
                inactive.join(", ")
            ),
        }
    },
};

/// (key id, status) pairs of a state.
pub(crate) fn statuses(state: &Value) -> Vec<(String, String)> {
    state
        .get("AccessKeys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|key| Some((key.get("AccessKeyId")?.as_str()?.to_string(), key.get("Status")?.as_str()?.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_sends_every_setting_and_an_absent_policy_is_deleted() {
        let target = Target { kind: PASSWORD_POLICY.id.into(), account_id: "1".into(), region: GLOBAL.into(), id: "1".into(), arn: String::new() };
        let none = json!({ "PasswordPolicy": null });
        let strict = json!({ "PasswordPolicy": { "MinimumPasswordLength": 14, "RequireSymbols": true } });
        let calls = (PASSWORD_POLICY.calls)(&target, &none, &strict).unwrap();
        assert_eq!(calls[0].operation, "UpdateAccountPasswordPolicy");
        assert_eq!(calls[0].parameters["MinimumPasswordLength"], 14);
        assert_eq!(calls[0].parameters["RequireNumbers"], false);
        assert!(calls[0].parameters.get("ExpirePasswords").is_none());
        assert_eq!((PASSWORD_POLICY.calls)(&target, &strict, &none).unwrap()[0].operation, "DeleteAccountPasswordPolicy");
        // A reading that spells defaults differently is the same policy.
        let spelled = json!({ "PasswordPolicy": { "MinimumPasswordLength": 14, "RequireSymbols": true, "HardExpiry": false, "MaxPasswordAge": 0 } });
        assert!(PASSWORD_POLICY.same(&strict, &spelled));
    }
}
