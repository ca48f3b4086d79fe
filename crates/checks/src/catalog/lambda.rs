//! Lambda checks: supported runtimes, resource policies, function URLs, secrets in environment
//! variables, VPC placement, tracing and dead-letter configuration.

use chrono::NaiveDate;
use serde_json::json;
use vigil_model::lambda::{EnvironmentVariable, Function};

use super::FnCheck;
use super::support::{principal_accounts, public_statements};
use crate::context::{Context, Needs, Subject, Unread};
use crate::{Finding, Metadata, Read, Remediation, Severity};

/// The listing every check of this family reads.
const FUNCTIONS: &[Read] = &[Read::regional("lambda", "ListFunctions")];

/// The runtime table: each Lambda runtime and the date AWS deprecates (or deprecated) it, as
/// data read from AWS's runtime page (see the file's header for the source and its date).
const RUNTIME_TABLE: &str = include_str!("../../data/lambda-runtimes.csv");

/// A runtime's entry: `Some(date)` when AWS has set a deprecation date, `None` when it has not.
type RuntimeEntry = Option<NaiveDate>;

/// The runtime table, parsed once. Rows that do not parse are left out (a test keeps the file
/// free of them).
fn runtimes() -> &'static [(String, RuntimeEntry)] {
    static TABLE: std::sync::OnceLock<Vec<(String, RuntimeEntry)>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| RUNTIME_TABLE.lines().filter_map(parse_runtime_row).collect())
}

fn parse_runtime_row(line: &str) -> Option<(String, RuntimeEntry)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (identifier, date) = line.split_once(',')?;
    let date = date.trim();
    let entry = if date.is_empty() { None } else { Some(NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?) };
    Some((identifier.trim().to_string(), entry))
}

/// The runtime's entry, or `None` when the runtime is not in the table.
fn runtime_entry(runtime: &str) -> Option<RuntimeEntry> {
    runtimes().iter().find(|(identifier, _)| identifier == runtime).map(|(_, entry)| *entry)
}

/// Runs `judge` over every function of every region whose ListFunctions was read.
fn each_function(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    operation: Option<&str>,
    judge: impl Fn(&Function, &Subject) -> Option<Result<(bool, String, serde_json::Value), Unread>>,
) {
    for (region, regional) in &context.inventory.regional {
        let region = region.as_str();
        for function in &regional.lambda_functions {
            let subject = context.item_subject(function, || {
                context.new_subject(&function.function_arn, "AWS::Lambda::Function", &function.function_name, region, Some(&function.tags))
            });
            let needs: Vec<Needs<'_>> = operation.map(|operation| Needs::call("lambda", region, operation).on(&function.function_name)).into_iter().collect();
            if let Err(unread) = context.require(&needs) {
                findings.push(context.unread(metadata, &subject, unread));
                continue;
            }
            match judge(function, &subject) {
                Some(Ok((passed, message, evidence))) => findings.push(context.verdict(metadata, &subject, passed, message, evidence)),
                Some(Err(unread)) => findings.push(context.unread(metadata, &subject, unread)),
                None => {}
            }
        }
    }
}

pub static FUNCTION_RUNTIME_SUPPORTED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "lambda_function_runtime_supported",
        title: "Lambda functions use runtimes that AWS still supports",
        service: "lambda",
        resource_type: "AWS::Lambda::Function",
        severity: Severity::Medium,
        risk: "A deprecated runtime no longer receives security patches; known vulnerabilities in the language runtime stay exploitable.",
        remediation: Remediation {
            text: "Move the function to a supported runtime (for example nodejs22.x or python3.13) and redeploy.",
            cli: "aws lambda update-function-configuration --function-name FUNCTION --runtime python3.13",
            terraform: "resource \"aws_lambda_function\" \"function\" {\n  runtime = \"python3.13\"\n}",
        },
        references: &["https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html"],
        frameworks: &[("aws-fsbp", "Lambda.2"), ("pci-dss-4.0", "12.3.4"), ("nist-800-53-r5", "SI-2")],
        reads: FUNCTIONS,
    },
    run: function_runtime_supported,
};

fn function_runtime_supported(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    // Judged against the date of the scan: a runtime deprecated since is a FAIL even in an old
    // snapshot's account, as it would be in the account today.
    let today = context.now.date_naive();
    each_function(metadata, context, findings, None, |function, _| {
        // Container-image functions bring their own runtime: nothing to judge here.
        let runtime = function.runtime.as_deref()?;
        let Some(deprecation) = runtime_entry(runtime) else {
            return Some(Err(Unread {
                message: format!(
                    "runtime `{runtime}` of function `{}` is not in vigil's Lambda runtime table, so its support is unknown",
                    function.function_name
                ),
                evidence: json!({ "Runtime": runtime, "Table": "crates/checks/data/lambda-runtimes.csv" }),
            }));
        };
        let deprecated = deprecation.is_some_and(|date| date <= today);
        let message = match deprecation {
            Some(date) if deprecated => format!("Function `{}` uses runtime `{runtime}`, deprecated on {date}.", function.function_name),
            Some(date) => format!("Function `{}` uses runtime `{runtime}`, supported until {date}.", function.function_name),
            None => format!("Function `{}` uses supported runtime `{runtime}`.", function.function_name),
        };
        Some(Ok((
            !deprecated,
            message,
            json!({ "Runtime": runtime, "DeprecationDate": deprecation.map(|date| date.to_string()), "ScanDate": today.to_string() }),
        )))
    });
}

pub static FUNCTION_POLICY_NOT_PUBLIC: FnCheck = FnCheck {
    metadata: Metadata {
        id: "lambda_function_policy_not_public",
        title: "Lambda function policies do not allow invocation by everyone",
        service: "lambda",
        resource_type: "AWS::Lambda::Function",
        severity: Severity::Critical,
        risk: "A resource policy granting Principal \"*\" without a source condition lets anyone invoke the function, running your code and costs on demand.",
        remediation: Remediation {
            text: "Remove the public permission and grant invoke rights to specific accounts or services with aws:SourceArn / aws:SourceAccount conditions.",
            cli: "aws lambda remove-permission --function-name FUNCTION --statement-id STATEMENT_ID",
            terraform: "resource \"aws_lambda_permission\" \"invoke\" {\n  function_name  = aws_lambda_function.function.function_name\n  action         = \"lambda:InvokeFunction\"\n  principal      = \"s3.amazonaws.com\"\n  source_arn     = aws_s3_bucket.bucket.arn\n  source_account = data.aws_caller_identity.current.account_id\n}",
        },
        references: &["https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html"],
        frameworks: &[("aws-fsbp", "Lambda.1"), ("pci-dss-4.0", "1.4.1"), ("nist-800-53-r5", "AC-3"), ("nist-800-53-r5", "AC-21")],
        reads: FUNCTIONS,
    },
    run: function_policy_not_public,
};

fn function_policy_not_public(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_function(metadata, context, findings, Some("GetPolicy"), |function, _| {
        let public = match function.policy.as_ref().map(|policy| public_statements(context, policy, &function.function_arn)).transpose() {
            Ok(public) => public.unwrap_or_default(),
            Err(unread) => return Some(Err(unread)),
        };
        let message = if public.is_empty() {
            format!("Function `{}` cannot be invoked by everyone.", function.function_name)
        } else {
            format!("Function `{}` allows everyone in {} policy statement(s).", function.function_name, public.len())
        };
        Some(Ok((public.is_empty(), message, json!({ "PublicStatements": public }))))
    });
}

pub static FUNCTION_POLICY_NO_UNTRUSTED_ACCOUNTS: FnCheck = FnCheck {
    metadata: Metadata {
        id: "lambda_function_policy_no_untrusted_accounts",
        title: "Lambda function policies grant access only to this account and trusted accounts",
        service: "lambda",
        resource_type: "AWS::Lambda::Function",
        severity: Severity::Medium,
        risk: "Cross-account invoke permissions let another account run the function; unknown accounts may be former vendors or attackers. Trusted accounts are the policy parameter `trusted_account_ids`.",
        remediation: Remediation {
            text: "Remove permissions for accounts that are neither this account nor listed in `trusted_account_ids`.",
            cli: "aws lambda remove-permission --function-name FUNCTION --statement-id STATEMENT_ID",
            terraform: "# Remove the aws_lambda_permission resource whose principal is the untrusted account.",
        },
        references: &["https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-cross-account.html"],
        frameworks: &[("nist-800-53-r5", "AC-3"), ("nist-800-53-r5", "AC-6")],
        reads: FUNCTIONS,
    },
    run: function_policy_no_untrusted_accounts,
};

fn function_policy_no_untrusted_accounts(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let account_id = context.account_id().to_string();
    each_function(metadata, context, findings, Some("GetPolicy"), |function, subject| {
        let trusted = context.strings(subject, "trusted_account_ids", &[]);
        let untrusted: Vec<String> = function
            .policy
            .as_ref()
            .map(principal_accounts)
            .unwrap_or_default()
            .into_iter()
            .filter(|account| *account != account_id && !trusted.contains(account))
            .collect();
        let message = if untrusted.is_empty() {
            format!("Function `{}` grants no access to untrusted accounts.", function.function_name)
        } else {
            format!("Function `{}` grants access to untrusted account(s) {}.", function.function_name, untrusted.join(", "))
        };
        Some(Ok((untrusted.is_empty(), message, json!({ "UntrustedAccounts": untrusted, "TrustedAccountIds": trusted }))))
    });
}

pub static FUNCTION_URL_AUTH_REQUIRED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "lambda_function_url_auth_required",
        title: "Lambda function URLs require IAM authentication",
        service: "lambda",
        resource_type: "AWS::Lambda::Function",
        severity: Severity::High,
        risk: "A function URL with AuthType NONE is a public HTTPS endpoint: anyone who finds it can invoke the function.",
        remediation: Remediation {
            text: "Set the function URL's AuthType to AWS_IAM, or put the function behind API Gateway or CloudFront with authentication.",
            cli: "aws lambda update-function-url-config --function-name FUNCTION --auth-type AWS_IAM",
            terraform: "resource \"aws_lambda_function_url\" \"url\" {\n  function_name      = aws_lambda_function.function.function_name\n  authorization_type = \"AWS_IAM\"\n}",
        },
        references: &["https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"],
        frameworks: &[("pci-dss-4.0", "1.4.1"), ("nist-800-53-r5", "AC-3"), ("nist-800-53-r5", "IA-2")],
        reads: FUNCTIONS,
    },
    run: function_url_auth_required,
};

fn function_url_auth_required(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_function(metadata, context, findings, Some("ListFunctionUrlConfigs"), |function, _| {
        if function.function_url_configs.is_empty() {
            return None;
        }
        let open: Vec<&str> = function
            .function_url_configs
            .iter()
            .filter(|config| config.auth_type.as_deref() != Some("AWS_IAM"))
            .map(|config| config.function_url.as_str())
            .collect();
        let message = if open.is_empty() {
            format!("Function `{}` URLs require IAM authentication.", function.function_name)
        } else {
            format!("Function `{}` has a URL without authentication: {}.", function.function_name, open.join(", "))
        };
        Some(Ok((open.is_empty(), message, json!({ "FunctionUrlConfigs": function.function_url_configs }))))
    });
}

/// Why a variable looks like it holds a secret, if it does. Never looks at the value itself
/// (collection kept only its length and the secret pattern it matched).
fn secret_reason(variable: &EnvironmentVariable) -> Option<String> {
    if let Some(pattern) = &variable.value_pattern {
        return Some(format!("value matches {pattern}"));
    }
    (vigil_secrets::secret_name(&variable.name) && variable.value_length >= 8).then(|| "name suggests a secret".to_string())
}

pub static FUNCTION_NO_SECRETS_IN_ENVIRONMENT: FnCheck = FnCheck {
    metadata: Metadata {
        id: "lambda_function_no_secrets_in_environment",
        title: "Lambda functions do not keep secrets in environment variables",
        service: "lambda",
        resource_type: "AWS::Lambda::Function",
        severity: Severity::High,
        risk: "Environment variables are readable by anyone with lambda:GetFunctionConfiguration and end up in logs, templates and snapshots; credentials there leak easily.",
        remediation: Remediation {
            text: "Store the secret in Secrets Manager or SSM Parameter Store (SecureString), pass its ARN in the environment, and read it at run time. Evidence lists variable names only, never values.",
            cli: "aws secretsmanager create-secret --name app/db-password --secret-string file://secret.txt\naws lambda update-function-configuration --function-name FUNCTION --environment 'Variables={DB_PASSWORD_SECRET_ARN=SECRET_ARN}'",
            terraform: "resource \"aws_lambda_function\" \"function\" {\n  environment {\n    variables = {\n      DB_PASSWORD_SECRET_ARN = aws_secretsmanager_secret.db.arn\n    }\n  }\n}",
        },
        references: &[
            "https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html",
            "https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets_lambda.html",
        ],
        frameworks: &[("pci-dss-4.0", "8.6.2"), ("nist-800-53-r5", "IA-5")],
        reads: FUNCTIONS,
    },
    run: function_no_secrets_in_environment,
};

fn function_no_secrets_in_environment(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_function(metadata, context, findings, None, |function, _| {
        let suspicious: Vec<serde_json::Value> =
            function.environment_variables.iter().filter_map(|variable| Some(json!({ "Name": variable.name, "Reason": secret_reason(variable)? }))).collect();
        let message = if suspicious.is_empty() {
            format!("Function `{}` has no environment variable that looks like a secret.", function.function_name)
        } else {
            format!("Function `{}` has {} environment variable(s) that look like secrets.", function.function_name, suspicious.len())
        };
        Some(Ok((suspicious.is_empty(), message, json!({ "SuspiciousVariables": suspicious }))))
    });
}

pub static FUNCTION_IN_VPC: FnCheck = FnCheck {
    metadata: Metadata {
        id: "lambda_function_in_vpc",
        title: "Lambda functions run in a VPC",
        service: "lambda",
        resource_type: "AWS::Lambda::Function",
        severity: Severity::Low,
        risk: "A function outside a VPC reaches the internet directly; its network access cannot be limited by security groups, NACLs or VPC endpoints.",
        remediation: Remediation {
            text: "Attach the function to private subnets and security groups in a VPC.",
            cli: "aws lambda update-function-configuration --function-name FUNCTION --vpc-config SubnetIds=SUBNET_A,SUBNET_B,SecurityGroupIds=SG_ID",
            terraform: "resource \"aws_lambda_function\" \"function\" {\n  vpc_config {\n    subnet_ids         = [aws_subnet.a.id, aws_subnet.b.id]\n    security_group_ids = [aws_security_group.function.id]\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html"],
        frameworks: &[("aws-securityhub", "Lambda.3"), ("pci-dss-4.0", "1.3.1"), ("nist-800-53-r5", "SC-7")],
        reads: FUNCTIONS,
    },
    run: function_in_vpc,
};

fn function_in_vpc(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_function(metadata, context, findings, None, |function, _| {
        let in_vpc = function.vpc_config.as_ref().is_some_and(|vpc| vpc.vpc_id.is_some() || !vpc.subnet_ids.is_empty());
        let message = if in_vpc {
            format!("Function `{}` runs in a VPC.", function.function_name)
        } else {
            format!("Function `{}` does not run in a VPC.", function.function_name)
        };
        Some(Ok((in_vpc, message, json!({ "VpcConfig": function.vpc_config }))))
    });
}

pub static FUNCTION_TRACING_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "lambda_function_tracing_enabled",
        title: "Lambda functions have X-Ray active tracing enabled",
        service: "lambda",
        resource_type: "AWS::Lambda::Function",
        severity: Severity::Low,
        risk: "Without tracing, requests through the function leave no end-to-end record to investigate failures or abuse.",
        remediation: Remediation {
            text: "Set the function's tracing mode to Active.",
            cli: "aws lambda update-function-configuration --function-name FUNCTION --tracing-config Mode=Active",
            terraform: "resource \"aws_lambda_function\" \"function\" {\n  tracing_config {\n    mode = \"Active\"\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html"],
        frameworks: &[("nist-800-53-r5", "AU-12")],
        reads: FUNCTIONS,
    },
    run: function_tracing_enabled,
};

fn function_tracing_enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_function(metadata, context, findings, None, |function, _| {
        let active = function.tracing_mode.as_deref() == Some("Active");
        let message = format!("Function `{}` tracing mode is {}.", function.function_name, function.tracing_mode.as_deref().unwrap_or("PassThrough"));
        Some(Ok((active, message, json!({ "TracingConfig": { "Mode": function.tracing_mode } }))))
    });
}

pub static FUNCTION_DEAD_LETTER_CONFIGURED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "lambda_function_dead_letter_configured",
        title: "Lambda functions send failed asynchronous events to a dead-letter queue",
        service: "lambda",
        resource_type: "AWS::Lambda::Function",
        severity: Severity::Low,
        risk: "Asynchronous events that fail all retries are dropped without a trace when no dead-letter queue or topic is configured.",
        remediation: Remediation {
            text: "Configure a dead-letter SQS queue or SNS topic (or an on-failure destination) for the function.",
            cli: "aws lambda update-function-configuration --function-name FUNCTION --dead-letter-config TargetArn=QUEUE_ARN",
            terraform: "resource \"aws_lambda_function\" \"function\" {\n  dead_letter_config {\n    target_arn = aws_sqs_queue.dlq.arn\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html"],
        frameworks: &[],
        reads: FUNCTIONS,
    },
    run: function_dead_letter_configured,
};

fn function_dead_letter_configured(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_function(metadata, context, findings, None, |function, _| {
        let configured = function.dead_letter_target_arn.is_some();
        let message = if configured {
            format!("Function `{}` has a dead-letter target.", function.function_name)
        } else {
            format!("Function `{}` has no dead-letter target.", function.function_name)
        };
        Some(Ok((configured, message, json!({ "DeadLetterConfig": { "TargetArn": function.dead_letter_target_arn } }))))
    });
}

#[cfg(test)]
mod tests {
    use vigil_model::lambda::{FunctionUrlConfig, FunctionVpcConfig};

    use super::*;
    use crate::catalog::test_support::*;
    use crate::{Check, Status, Status::*};

    fn function(name: &str) -> Function {
        Function {
            function_name: name.into(),
            function_arn: format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"),
            runtime: Some("python3.13".into()),
            ..Function::default()
        }
    }

    /// Runs a check with every per-function call read, plus a function whose calls were denied.
    fn check(check: &dyn Check, functions: Vec<Function>) -> Vec<(String, Status)> {
        let mut inventory = inventory();
        read(&mut inventory, "lambda", "us-east-1", "ListFunctions", None);
        for function in &functions {
            read(&mut inventory, "lambda", "us-east-1", "GetPolicy", Some(&function.function_name));
            read(&mut inventory, "lambda", "us-east-1", "ListFunctionUrlConfigs", Some(&function.function_name));
        }
        record(&mut inventory, "lambda", "us-east-1", "GetPolicy", Some("zz-denied"), denied());
        record(&mut inventory, "lambda", "us-east-1", "ListFunctionUrlConfigs", Some("zz-denied"), denied());
        let mut functions = functions;
        functions.push(function("zz-denied"));
        inventory.regional.get_mut(&"us-east-1".into()).unwrap().lambda_functions = functions;
        statuses(&run(check, &inventory))
    }

    #[test]
    fn deprecated_runtimes_fail_unknown_ones_error_and_image_functions_are_skipped() {
        let old = Function { runtime: Some("python3.7".into()), ..function("old") };
        let image = Function { runtime: None, package_type: Some("Image".into()), ..function("image") };
        let unknown = Function { runtime: Some("cobol85".into()), ..function("unknown") };
        assert_eq!(
            check(&FUNCTION_RUNTIME_SUPPORTED, vec![old, image, unknown, function("new")]),
            vec![("new".into(), Pass), ("old".into(), Fail), ("unknown".into(), Error), ("zz-denied".into(), Pass)]
        );
    }

    /// Issue 14: the table was stale (python3.10, java11/17, provided.al2 were missing) and
    /// judged against nothing; it is data with dates, judged against the scan date.
    #[test]
    fn runtimes_are_judged_against_the_scan_date() {
        let judge = |runtime: &str, day: &str| {
            let mut inventory = inventory();
            read(&mut inventory, "lambda", "us-east-1", "ListFunctions", None);
            inventory.regional.get_mut(&"us-east-1".into()).unwrap().lambda_functions = vec![Function { runtime: Some(runtime.into()), ..function("f") }];
            let now = chrono::DateTime::parse_from_rfc3339(&format!("{day}T12:00:00Z")).unwrap().with_timezone(&chrono::Utc);
            let context = Context::new(&inventory, now);
            let mut findings = Vec::new();
            crate::Check::run(&FUNCTION_RUNTIME_SUPPORTED, &context, &mut findings);
            findings[0].status
        };
        assert_eq!(judge("python3.10", "2026-06-29"), Pass);
        assert_eq!(judge("python3.10", "2026-06-30"), Fail);
        assert_eq!(judge("java11", "2027-01-01"), Fail);
        assert_eq!(judge("provided.al2", "2026-07-01"), Fail);
        assert_eq!(judge("python3.13", "2027-01-01"), Pass);
        assert_eq!(judge("provided.al2023", "2030-01-01"), Pass);
    }

    #[test]
    fn every_row_of_the_runtime_table_parses() {
        let rows: Vec<&str> = RUNTIME_TABLE.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')).collect();
        for row in &rows {
            assert!(parse_runtime_row(row).is_some(), "unreadable row `{row}`");
        }
        assert_eq!(runtimes().len(), rows.len());
        let mut identifiers: Vec<&str> = runtimes().iter().map(|(identifier, _)| identifier.as_str()).collect();
        identifiers.sort();
        identifiers.dedup();
        assert_eq!(identifiers.len(), rows.len(), "duplicate runtime rows");
    }

    #[test]
    fn a_public_policy_fails_and_an_unread_policy_errors() {
        let public = Function {
            policy: Some(json!({ "Statement": [{ "Sid": "open", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction" }] })),
            ..function("public")
        };
        let scoped = Function {
            policy: Some(
                json!({ "Statement": [{ "Effect": "Allow", "Principal": { "Service": "s3.amazonaws.com" }, "Action": "lambda:InvokeFunction", "Condition": { "ArnLike": { "AWS:SourceArn": "arn:aws:s3:::b" } } }] }),
            ),
            ..function("scoped")
        };
        assert_eq!(
            check(&FUNCTION_POLICY_NOT_PUBLIC, vec![public, scoped]),
            vec![("public".into(), Fail), ("scoped".into(), Pass), ("zz-denied".into(), Error)]
        );
    }

    #[test]
    fn other_accounts_in_the_policy_fail_unless_trusted() {
        let cross = Function {
            policy: Some(
                json!({ "Statement": [{ "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::999988887777:root" }, "Action": "lambda:InvokeFunction" }] }),
            ),
            ..function("cross")
        };
        let own = Function {
            policy: Some(
                json!({ "Statement": [{ "Effect": "Allow", "Principal": { "AWS": format!("arn:aws:iam::{ACCOUNT}:root") }, "Action": "lambda:InvokeFunction" }] }),
            ),
            ..function("own")
        };
        assert_eq!(
            check(&FUNCTION_POLICY_NO_UNTRUSTED_ACCOUNTS, vec![cross, own]),
            vec![("cross".into(), Fail), ("own".into(), Pass), ("zz-denied".into(), Error)]
        );
    }

    #[test]
    fn function_urls_without_auth_fail_and_functions_without_urls_are_skipped() {
        let url = |auth: &str| vec![FunctionUrlConfig { function_url: "https://abc.lambda-url.us-east-1.on.aws/".into(), auth_type: Some(auth.into()) }];
        let open = Function { function_url_configs: url("NONE"), ..function("open") };
        let iam = Function { function_url_configs: url("AWS_IAM"), ..function("iam") };
        assert_eq!(
            check(&FUNCTION_URL_AUTH_REQUIRED, vec![open, iam, function("none")]),
            vec![("iam".into(), Pass), ("open".into(), Fail), ("zz-denied".into(), Error)]
        );
    }

    #[test]
    fn secrets_are_found_by_value_pattern_or_name_but_references_are_not() {
        let variable = |name: &str, length: usize, pattern: Option<&str>| EnvironmentVariable {
            name: name.into(),
            value_length: length,
            value_pattern: pattern.map(str::to_string),
        };
        let leaky = Function { environment_variables: vec![variable("DB_PASSWORD", 16, None)], ..function("leaky") };
        let keyed = Function { environment_variables: vec![variable("CONFIG", 20, Some("aws_access_key_id"))], ..function("keyed") };
        let clean = Function {
            environment_variables: vec![variable("DB_PASSWORD_SECRET_ARN", 80, None), variable("STAGE", 4, None), variable("TOKEN", 0, None)],
            ..function("clean")
        };
        assert_eq!(
            check(&FUNCTION_NO_SECRETS_IN_ENVIRONMENT, vec![leaky, keyed, clean]),
            vec![("clean".into(), Pass), ("keyed".into(), Fail), ("leaky".into(), Fail), ("zz-denied".into(), Pass)]
        );
    }

    #[test]
    fn configuration_checks_read_the_listed_configuration() {
        let in_vpc = Function { vpc_config: Some(FunctionVpcConfig { vpc_id: Some("vpc-1".into()), ..Default::default() }), ..function("vpc") };
        assert_eq!(check(&FUNCTION_IN_VPC, vec![in_vpc]), vec![("vpc".into(), Pass), ("zz-denied".into(), Fail)]);
        let traced = Function { tracing_mode: Some("Active".into()), ..function("traced") };
        assert_eq!(check(&FUNCTION_TRACING_ENABLED, vec![traced]), vec![("traced".into(), Pass), ("zz-denied".into(), Fail)]);
        let dlq = Function { dead_letter_target_arn: Some("arn:aws:sqs:us-east-1:123456789012:dlq".into()), ..function("dlq") };
        assert_eq!(check(&FUNCTION_DEAD_LETTER_CONFIGURED, vec![dlq]), vec![("dlq".into(), Pass), ("zz-denied".into(), Fail)]);
    }

    #[test]
    fn a_denied_function_listing_is_one_error_per_region() {
        let mut inventory = inventory();
        record(&mut inventory, "lambda", "us-east-1", "ListFunctions", None, denied());
        let findings = run(&FUNCTION_RUNTIME_SUPPORTED, &inventory);
        assert_eq!(statuses(&findings), vec![(ACCOUNT.to_string(), Error)]);
    }
}
