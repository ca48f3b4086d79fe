//! Lambda: functions (ListFunctions), their resource policies (GetPolicy), function URLs and
//! tags. Environment variable values are redacted here, at the edge: only names, lengths and
//! the secret pattern a value matched reach the inventory.

use std::sync::Arc;

use futures::StreamExt;
use vigil_model::lambda::{EnvironmentVariable, Function, FunctionUrlConfig, FunctionVpcConfig};

use super::policy_document;
use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_lambda, session, &region);
    let mut configurations = Vec::new();
    let call = Call::new("lambda", &region, "ListFunctions");
    crate::for_each_page!(session, call, client.list_functions().into_paginator().send(), |page| {
        configurations.extend(page.functions.unwrap_or_default());
    });
    let functions: Vec<Function> = futures::stream::iter(configurations)
        .map(|configuration| read_function(&session, &client, &region, configuration))
        .buffer_unordered(session.fan_out())
        .collect()
        .await;
    Box::new(move |regional| regional.lambda_functions = functions)
}

/// What kind of secret an environment variable holds, if any: vigil-secrets decides, from the
/// value and the name, as it does for files and user data; the value itself is not kept.
fn secret_kind(name: &str, value: &str) -> Option<String> {
    vigil_secrets::scan_named(name, value).first().map(|finding| finding.kind.as_str().to_string())
}

/// The function's configuration, with environment values replaced by their redacted summary.
fn function_of(configuration: aws_sdk_lambda::types::FunctionConfiguration) -> Function {
    let mut environment_variables: Vec<EnvironmentVariable> = configuration
        .environment
        .and_then(|environment| environment.variables)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| EnvironmentVariable { value_length: value.len(), value_pattern: secret_kind(&name, &value), name })
        .collect();
    environment_variables.sort_by(|a, b| a.name.cmp(&b.name));
    Function {
        function_name: configuration.function_name.unwrap_or_default(),
        function_arn: configuration.function_arn.unwrap_or_default(),
        runtime: configuration.runtime.map(|runtime| runtime.as_str().to_string()),
        package_type: configuration.package_type.map(|value| value.as_str().to_string()),
        role: configuration.role,
        handler: configuration.handler,
        last_modified: configuration.last_modified,
        kms_key_arn: configuration.kms_key_arn,
        vpc_config: configuration.vpc_config.map(|vpc| FunctionVpcConfig {
            vpc_id: vpc.vpc_id.filter(|id| !id.is_empty()),
            subnet_ids: vpc.subnet_ids.unwrap_or_default(),
            security_group_ids: vpc.security_group_ids.unwrap_or_default(),
        }),
        tracing_mode: configuration.tracing_config.and_then(|tracing| tracing.mode).map(|mode| mode.as_str().to_string()),
        dead_letter_target_arn: configuration.dead_letter_config.and_then(|config| config.target_arn).filter(|arn| !arn.is_empty()),
        environment_variables,
        ..Function::default()
    }
}

async fn read_function(
    session: &Session,
    client: &aws_sdk_lambda::Client,
    region: &str,
    configuration: aws_sdk_lambda::types::FunctionConfiguration,
) -> Function {
    let mut function = function_of(configuration);
    let name = function.function_name.clone();
    let policy_call = Call::new("lambda", region, "GetPolicy").on(&name);
    function.policy = crate::call_absent!(session, policy_call, client.get_policy().function_name(&name).send(), &["ResourceNotFoundException"])
        .and_then(|output| output.policy)
        .map(|text| policy_document(&text));
    let urls_call = Call::new("lambda", region, "ListFunctionUrlConfigs").on(&name);
    crate::for_each_page!(session, urls_call, client.list_function_url_configs().function_name(&name).into_paginator().send(), |page| {
        function.function_url_configs.extend(
            page.function_url_configs
                .into_iter()
                .map(|config| FunctionUrlConfig { function_url: config.function_url, auth_type: Some(config.auth_type.as_str().to_string()) }),
        );
    });
    if !function.function_arn.is_empty() {
        let tags_call = Call::new("lambda", region, "ListTags").on(&name);
        function.tags = crate::call!(session, tags_call, client.list_tags().resource(&function.function_arn).send())
            .and_then(|output| output.tags)
            .map(|tags| tags.into_iter().collect())
            .unwrap_or_default();
    }
    function
}

#[cfg(test)]
mod tests {
    use super::secret_kind;

    #[test]
    fn environment_values_are_judged_by_the_secrets_detector_with_their_names() {
        assert_eq!(secret_kind("CONFIG", "-----BEGIN RSA PRIVATE KEY-----\n4+8SdLFo+Et4Yd8aF6OvHrILRIBYgBtV8I2875/g7TEdYBjR8ns+NAtqVZTLwmGS\ndNDC/xI5jekgTMZKmxIy7Yvc0yYs4zd03wdypN6ob+YYHEt/VO5RVekvN8cANEhg\n-----END RSA PRIVATE KEY-----").as_deref(), Some("private_key"));
        assert_eq!(secret_kind("DB_PASSWORD", "Tr0ub4dor&3-horse").as_deref(), Some("password_in_config"));
        assert_eq!(secret_kind("DB_PASSWORD_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db").as_deref(), None);
        assert_eq!(secret_kind("STAGE", "production"), None);
    }
}
