//! CloudFront checks: viewer and origin TLS, logging, WAF, default root object, origin access
//! control, SNI and field-level encryption.

use serde_json::json;
use vigil_model::Region;
use vigil_model::edge::{Distribution, ViewerCertificate};

use super::FnCheck;
use crate::context::{Context, Needs};
use crate::{Finding, Metadata, Read, Remediation, Severity};

/// The listing every check of this family reads.
const DISTRIBUTIONS: &[Read] = &[Read::global("cloudfront", "ListDistributions")];

/// Viewer TLS security policies older than TLSv1.2 (CloudFront's names).
const WEAK_VIEWER_PROTOCOLS: &[&str] = &["SSLv3", "TLSv1", "TLSv1_2016", "TLSv1.1_2016"];
/// Origin protocols that must not be offered to custom origins.
const WEAK_ORIGIN_PROTOCOLS: &[&str] = &["SSLv3", "TLSv1", "TLSv1.1"];

/// True when viewers get the shared *.cloudfront.net certificate, whose TLS policy cannot be
/// chosen. A named ACM or IAM certificate wins over the flag (some emulators set both).
fn uses_default_certificate(certificate: &ViewerCertificate) -> bool {
    certificate.cloud_front_default_certificate == Some(true) && certificate.acm_certificate_arn.is_none() && certificate.iam_certificate_id.is_none()
}

/// Runs `judge` over every distribution when ListDistributions was read. Settings come from
/// GetDistributionConfig, so each distribution needs that call.
fn each_distribution(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    judge: impl Fn(&Distribution) -> Option<(bool, String, serde_json::Value)>,
) {
    let global = Region::GLOBAL;
    for resource in context.inventory.edge.distributions.iter() {
        let arn =
            if resource.arn.is_empty() { format!("arn:aws:cloudfront::{}:distribution/{}", context.account_id(), resource.id) } else { resource.arn.clone() };
        let subject = context.new_subject(&arn, "AWS::CloudFront::Distribution", &resource.id, global, None);
        let needs = [Needs::call("cloudfront", global, "GetDistributionConfig").on(&resource.id)];
        if let Err(unread) = context.require(&needs) {
            findings.push(context.unread(metadata, &subject, unread));
            continue;
        }
        if let Some((passed, message, evidence)) = judge(resource) {
            findings.push(context.verdict(metadata, &subject, passed, message, evidence));
        }
    }
}

pub static DISTRIBUTION_VIEWER_HTTPS: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudfront_distribution_viewer_https",
        title: "CloudFront distributions require HTTPS between viewers and CloudFront",
        service: "cloudfront",
        resource_type: "AWS::CloudFront::Distribution",
        severity: Severity::Medium,
        risk: "A cache behavior with viewer protocol policy allow-all serves content over plain HTTP, open to eavesdropping and tampering.",
        remediation: Remediation {
            text: "Set ViewerProtocolPolicy to redirect-to-https or https-only on the default and every other cache behavior.",
            cli: "aws cloudfront get-distribution-config --id DISTRIBUTION_ID > config.json\n# set ViewerProtocolPolicy to redirect-to-https, then\naws cloudfront update-distribution --id DISTRIBUTION_ID --if-match ETAG --distribution-config file://config.json",
            terraform: "resource \"aws_cloudfront_distribution\" \"site\" {\n  default_cache_behavior {\n    viewer_protocol_policy = \"redirect-to-https\"\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-https-viewers-to-cloudfront.html"],
        frameworks: &[("aws-fsbp", "CloudFront.3"), ("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-8")],
        reads: DISTRIBUTIONS,
    },
    run: distribution_viewer_https,
};

fn distribution_viewer_https(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_distribution(metadata, context, findings, |distribution| {
        let behaviors = distribution.default_cache_behavior.iter().chain(distribution.cache_behaviors.iter());
        let plain: Vec<serde_json::Value> = behaviors
            .filter(|behavior| behavior.viewer_protocol_policy.as_deref().is_none_or(|policy| policy == "allow-all"))
            .map(|behavior| json!({ "PathPattern": behavior.path_pattern.as_deref().unwrap_or("Default (*)"), "ViewerProtocolPolicy": behavior.viewer_protocol_policy }))
            .collect();
        let message = if plain.is_empty() {
            format!("Distribution `{}` requires HTTPS for viewers.", distribution.id)
        } else {
            format!("Distribution `{}` allows plain HTTP on {} cache behavior(s).", distribution.id, plain.len())
        };
        Some((plain.is_empty(), message, json!({ "HttpBehaviors": plain })))
    });
}

pub static DISTRIBUTION_VIEWER_TLS_1_2: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudfront_distribution_viewer_tls_1_2",
        title: "CloudFront distributions with custom certificates require TLS 1.2 or later from viewers",
        service: "cloudfront",
        resource_type: "AWS::CloudFront::Distribution",
        severity: Severity::Medium,
        risk: "Security policies that allow SSLv3, TLS 1.0 or TLS 1.1 let clients negotiate protocols with known weaknesses.",
        remediation: Remediation {
            text: "Set the viewer certificate's MinimumProtocolVersion to TLSv1.2_2021 (or later). Distributions on the default *.cloudfront.net certificate cannot choose a policy and are not assessed.",
            cli: "aws cloudfront get-distribution-config --id DISTRIBUTION_ID > config.json\n# set ViewerCertificate.MinimumProtocolVersion to TLSv1.2_2021, then\naws cloudfront update-distribution --id DISTRIBUTION_ID --if-match ETAG --distribution-config file://config.json",
            terraform: "resource \"aws_cloudfront_distribution\" \"site\" {\n  viewer_certificate {\n    acm_certificate_arn      = aws_acm_certificate.site.arn\n    ssl_support_method       = \"sni-only\"\n    minimum_protocol_version = \"TLSv1.2_2021\"\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/secure-connections-supported-viewer-protocols-ciphers.html"],
        frameworks: &[("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-8"), ("nist-800-53-r5", "SC-13")],
        reads: DISTRIBUTIONS,
    },
    run: distribution_viewer_tls_1_2,
};

fn distribution_viewer_tls_1_2(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_distribution(metadata, context, findings, |distribution| {
        let certificate = distribution.viewer_certificate.as_ref()?;
        if uses_default_certificate(certificate) {
            return None;
        }
        let version = certificate.minimum_protocol_version.as_deref().unwrap_or("TLSv1");
        let strong = !WEAK_VIEWER_PROTOCOLS.contains(&version);
        let message = format!("Distribution `{}` accepts viewer connections from {version}.", distribution.id);
        Some((strong, message, json!({ "ViewerCertificate": certificate })))
    });
}

pub static DISTRIBUTION_ORIGIN_HTTPS: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudfront_distribution_origin_https",
        title: "CloudFront distributions use HTTPS to reach custom origins",
        service: "cloudfront",
        resource_type: "AWS::CloudFront::Distribution",
        severity: Severity::Medium,
        risk: "With origin protocol policy http-only (or match-viewer while viewers may use HTTP), content travels unencrypted between CloudFront and the origin.",
        remediation: Remediation {
            text: "Set OriginProtocolPolicy to https-only on every custom origin.",
            cli: "aws cloudfront get-distribution-config --id DISTRIBUTION_ID > config.json\n# set CustomOriginConfig.OriginProtocolPolicy to https-only, then\naws cloudfront update-distribution --id DISTRIBUTION_ID --if-match ETAG --distribution-config file://config.json",
            terraform: "resource \"aws_cloudfront_distribution\" \"site\" {\n  origin {\n    custom_origin_config {\n      origin_protocol_policy = \"https-only\"\n      origin_ssl_protocols   = [\"TLSv1.2\"]\n      http_port              = 80\n      https_port             = 443\n    }\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-https-cloudfront-to-custom-origin.html"],
        frameworks: &[("aws-fsbp", "CloudFront.9"), ("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-8")],
        reads: DISTRIBUTIONS,
    },
    run: distribution_origin_https,
};

fn distribution_origin_https(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_distribution(metadata, context, findings, |distribution| {
        let custom: Vec<_> = distribution.origins.iter().filter_map(|origin| Some((origin, origin.custom_origin_config.as_ref()?))).collect();
        if custom.is_empty() {
            return None;
        }
        let viewers_may_use_http = distribution
            .default_cache_behavior
            .iter()
            .chain(distribution.cache_behaviors.iter())
            .any(|behavior| behavior.viewer_protocol_policy.as_deref().is_none_or(|policy| policy == "allow-all"));
        let plain: Vec<serde_json::Value> = custom
            .iter()
            .filter(|(_, config)| match config.origin_protocol_policy.as_deref() {
                Some("https-only") => false,
                Some("match-viewer") => viewers_may_use_http,
                _ => true,
            })
            .map(|(origin, config)| json!({ "Id": origin.id, "DomainName": origin.domain_name, "OriginProtocolPolicy": config.origin_protocol_policy }))
            .collect();
        let message = if plain.is_empty() {
            format!("Distribution `{}` reaches every custom origin over HTTPS.", distribution.id)
        } else {
            format!("Distribution `{}` may reach {} custom origin(s) over plain HTTP.", distribution.id, plain.len())
        };
        Some((plain.is_empty(), message, json!({ "HttpOrigins": plain })))
    });
}

pub static DISTRIBUTION_ORIGIN_TLS: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudfront_distribution_origin_tls",
        title: "CloudFront distributions do not offer SSLv3, TLS 1.0 or TLS 1.1 to custom origins",
        service: "cloudfront",
        resource_type: "AWS::CloudFront::Distribution",
        severity: Severity::Medium,
        risk: "Deprecated protocols between CloudFront and the origin can be downgraded and decrypted.",
        remediation: Remediation {
            text: "Set OriginSslProtocols to TLSv1.2 only on every custom origin.",
            cli: "aws cloudfront get-distribution-config --id DISTRIBUTION_ID > config.json\n# set CustomOriginConfig.OriginSslProtocols to [TLSv1.2], then\naws cloudfront update-distribution --id DISTRIBUTION_ID --if-match ETAG --distribution-config file://config.json",
            terraform: "resource \"aws_cloudfront_distribution\" \"site\" {\n  origin {\n    custom_origin_config {\n      origin_ssl_protocols = [\"TLSv1.2\"]\n    }\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/secure-connections-supported-ciphers-cloudfront-to-origin.html"],
        frameworks: &[("aws-fsbp", "CloudFront.10"), ("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-8"), ("nist-800-53-r5", "SC-13")],
        reads: DISTRIBUTIONS,
    },
    run: distribution_origin_tls,
};

fn distribution_origin_tls(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_distribution(metadata, context, findings, |distribution| {
        let custom: Vec<_> = distribution.origins.iter().filter_map(|origin| Some((origin, origin.custom_origin_config.as_ref()?))).collect();
        if custom.is_empty() {
            return None;
        }
        let weak: Vec<serde_json::Value> = custom
            .iter()
            .filter(|(_, config)| config.origin_ssl_protocols.iter().any(|protocol| WEAK_ORIGIN_PROTOCOLS.contains(&protocol.as_str())))
            .map(|(origin, config)| json!({ "Id": origin.id, "OriginSslProtocols": config.origin_ssl_protocols }))
            .collect();
        let message = if weak.is_empty() {
            format!("Distribution `{}` offers only TLS 1.2 or later to custom origins.", distribution.id)
        } else {
            format!("Distribution `{}` offers deprecated protocols to {} custom origin(s).", distribution.id, weak.len())
        };
        Some((weak.is_empty(), message, json!({ "WeakOrigins": weak })))
    });
}

pub static DISTRIBUTION_LOGGING_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudfront_distribution_logging_enabled",
        title: "CloudFront distributions have standard logging enabled",
        service: "cloudfront",
        resource_type: "AWS::CloudFront::Distribution",
        severity: Severity::Medium,
        risk: "Without access logs there is no record of who requested what, for incident response or abuse investigations.",
        remediation: Remediation {
            text: "Enable standard logging to an S3 bucket (or CloudWatch Logs delivery).",
            cli: "aws cloudfront get-distribution-config --id DISTRIBUTION_ID > config.json\n# set Logging.Enabled=true and Logging.Bucket, then\naws cloudfront update-distribution --id DISTRIBUTION_ID --if-match ETAG --distribution-config file://config.json",
            terraform: "resource \"aws_cloudfront_distribution\" \"site\" {\n  logging_config {\n    bucket = aws_s3_bucket.logs.bucket_domain_name\n    prefix = \"cloudfront/\"\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/AccessLogs.html"],
        frameworks: &[("aws-fsbp", "CloudFront.5"), ("pci-dss-4.0", "10.2.1"), ("nist-800-53-r5", "AU-2"), ("nist-800-53-r5", "AU-12")],
        reads: DISTRIBUTIONS,
    },
    run: distribution_logging_enabled,
};

fn distribution_logging_enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_distribution(metadata, context, findings, |distribution| {
        let enabled = distribution.logging.as_ref().is_some_and(|logging| logging.enabled);
        let message = if enabled {
            format!("Distribution `{}` writes access logs.", distribution.id)
        } else {
            format!("Distribution `{}` does not write access logs.", distribution.id)
        };
        Some((enabled, message, json!({ "Logging": distribution.logging })))
    });
}

pub static DISTRIBUTION_WAF_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudfront_distribution_waf_enabled",
        title: "CloudFront distributions are associated with an AWS WAF web ACL",
        service: "cloudfront",
        resource_type: "AWS::CloudFront::Distribution",
        severity: Severity::Medium,
        risk: "Without a web ACL, common web attacks and abusive clients reach the origin unfiltered.",
        remediation: Remediation {
            text: "Associate a WAF web ACL (scope CLOUDFRONT) with the distribution.",
            cli: "aws cloudfront get-distribution-config --id DISTRIBUTION_ID > config.json\n# set WebACLId to the web ACL ARN, then\naws cloudfront update-distribution --id DISTRIBUTION_ID --if-match ETAG --distribution-config file://config.json",
            terraform: "resource \"aws_cloudfront_distribution\" \"site\" {\n  web_acl_id = aws_wafv2_web_acl.site.arn\n}",
        },
        references: &["https://docs.aws.amazon.com/waf/latest/developerguide/cloudfront-features.html"],
        frameworks: &[("aws-fsbp", "CloudFront.6"), ("pci-dss-4.0", "6.4.2"), ("nist-800-53-r5", "SC-7")],
        reads: DISTRIBUTIONS,
    },
    run: distribution_waf_enabled,
};

fn distribution_waf_enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_distribution(metadata, context, findings, |distribution| {
        let protected = distribution.web_acl_id.as_deref().is_some_and(|id| !id.is_empty());
        let message = if protected {
            format!("Distribution `{}` is protected by a web ACL.", distribution.id)
        } else {
            format!("Distribution `{}` has no web ACL.", distribution.id)
        };
        Some((protected, message, json!({ "WebACLId": distribution.web_acl_id })))
    });
}

pub static DISTRIBUTION_DEFAULT_ROOT_OBJECT: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudfront_distribution_default_root_object",
        title: "CloudFront distributions have a default root object",
        service: "cloudfront",
        resource_type: "AWS::CloudFront::Distribution",
        severity: Severity::Low,
        risk: "A request for the root URL without a default root object is forwarded to the origin, which may list the bucket's contents.",
        remediation: Remediation {
            text: "Set DefaultRootObject (for example index.html).",
            cli: "aws cloudfront get-distribution-config --id DISTRIBUTION_ID > config.json\n# set DefaultRootObject to index.html, then\naws cloudfront update-distribution --id DISTRIBUTION_ID --if-match ETAG --distribution-config file://config.json",
            terraform: "resource \"aws_cloudfront_distribution\" \"site\" {\n  default_root_object = \"index.html\"\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DefaultRootObject.html"],
        frameworks: &[("aws-fsbp", "CloudFront.1"), ("nist-800-53-r5", "SC-7")],
        reads: DISTRIBUTIONS,
    },
    run: distribution_default_root_object,
};

fn distribution_default_root_object(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_distribution(metadata, context, findings, |distribution| {
        let configured = distribution.default_root_object.as_deref().is_some_and(|object| !object.is_empty());
        let message = if configured {
            format!("Distribution `{}` has a default root object.", distribution.id)
        } else {
            format!("Distribution `{}` has no default root object.", distribution.id)
        };
        Some((configured, message, json!({ "DefaultRootObject": distribution.default_root_object })))
    });
}

pub static DISTRIBUTION_S3_ORIGIN_ACCESS_CONTROL: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudfront_distribution_s3_origin_access_control",
        title: "CloudFront distributions reach S3 origins through origin access control",
        service: "cloudfront",
        resource_type: "AWS::CloudFront::Distribution",
        severity: Severity::Medium,
        risk: "An S3 origin without origin access control (or the legacy origin access identity) must be public for CloudFront to read it, so viewers can bypass CloudFront.",
        remediation: Remediation {
            text: "Create an origin access control, attach it to each S3 origin, and allow only the distribution in the bucket policy.",
            cli: "aws cloudfront create-origin-access-control --origin-access-control-config Name=site,SigningProtocol=sigv4,SigningBehavior=always,OriginAccessControlOriginType=s3",
            terraform: "resource \"aws_cloudfront_distribution\" \"site\" {\n  origin {\n    domain_name              = aws_s3_bucket.site.bucket_regional_domain_name\n    origin_id                = \"s3\"\n    origin_access_control_id = aws_cloudfront_origin_access_control.site.id\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html"],
        frameworks: &[("aws-fsbp", "CloudFront.13"), ("nist-800-53-r5", "AC-3")],
        reads: DISTRIBUTIONS,
    },
    run: distribution_s3_origin_access_control,
};

fn distribution_s3_origin_access_control(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_distribution(metadata, context, findings, |distribution| {
        let s3_origins: Vec<_> = distribution.origins.iter().filter(|origin| origin.is_s3()).collect();
        if s3_origins.is_empty() {
            return None;
        }
        let open: Vec<serde_json::Value> = s3_origins
            .iter()
            .filter(|origin| origin.origin_access_control_id.is_none() && origin.s3_origin_access_identity.as_deref().is_none_or(str::is_empty))
            .map(|origin| json!({ "Id": origin.id, "DomainName": origin.domain_name }))
            .collect();
        let message = if open.is_empty() {
            format!("Distribution `{}` reaches its S3 origins through origin access control.", distribution.id)
        } else {
            format!("Distribution `{}` has {} S3 origin(s) without origin access control.", distribution.id, open.len())
        };
        Some((open.is_empty(), message, json!({ "S3OriginsWithoutAccessControl": open })))
    });
}

pub static DISTRIBUTION_SNI: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudfront_distribution_sni",
        title: "CloudFront distributions with custom certificates serve HTTPS with SNI",
        service: "cloudfront",
        resource_type: "AWS::CloudFront::Distribution",
        severity: Severity::Low,
        risk: "Dedicated-IP (vip) custom SSL support is costly and only needed for clients without SNI, which are also too old for modern TLS.",
        remediation: Remediation {
            text: "Set the viewer certificate's SSLSupportMethod to sni-only.",
            cli: "aws cloudfront get-distribution-config --id DISTRIBUTION_ID > config.json\n# set ViewerCertificate.SSLSupportMethod to sni-only, then\naws cloudfront update-distribution --id DISTRIBUTION_ID --if-match ETAG --distribution-config file://config.json",
            terraform: "resource \"aws_cloudfront_distribution\" \"site\" {\n  viewer_certificate {\n    ssl_support_method = \"sni-only\"\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cnames-https-dedicated-ip-or-sni.html"],
        frameworks: &[("aws-fsbp", "CloudFront.8"), ("nist-800-53-r5", "SC-8")],
        reads: DISTRIBUTIONS,
    },
    run: distribution_sni,
};

fn distribution_sni(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_distribution(metadata, context, findings, |distribution| {
        let certificate = distribution.viewer_certificate.as_ref()?;
        if uses_default_certificate(certificate) {
            return None;
        }
        let method = certificate.ssl_support_method.as_deref().unwrap_or("sni-only");
        let message = format!("Distribution `{}` serves HTTPS with SSL support method {method}.", distribution.id);
        Some((method == "sni-only", message, json!({ "SSLSupportMethod": certificate.ssl_support_method })))
    });
}

pub static DISTRIBUTION_FIELD_LEVEL_ENCRYPTION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudfront_distribution_field_level_encryption",
        title: "CloudFront distributions encrypt sensitive fields at the edge (optional hardening)",
        service: "cloudfront",
        resource_type: "AWS::CloudFront::Distribution",
        severity: Severity::Low,
        risk: "Without field-level encryption, sensitive form fields (card numbers, personal data) are readable by every system behind CloudFront. Optional: applies where such fields are posted.",
        remediation: Remediation {
            text: "Create a field-level encryption configuration and attach it to the default cache behavior.",
            cli: "aws cloudfront create-field-level-encryption-config --field-level-encryption-config file://fle.json",
            terraform: "resource \"aws_cloudfront_distribution\" \"site\" {\n  default_cache_behavior {\n    field_level_encryption_id = aws_cloudfront_field_level_encryption_config.site.id\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/field-level-encryption.html"],
        frameworks: &[("nist-800-53-r5", "SC-28")],
        reads: DISTRIBUTIONS,
    },
    run: distribution_field_level_encryption,
};

fn distribution_field_level_encryption(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_distribution(metadata, context, findings, |distribution| {
        let behavior = distribution.default_cache_behavior.as_ref()?;
        let configured = behavior.field_level_encryption_id.is_some();
        let message = if configured {
            format!("Distribution `{}` uses field-level encryption.", distribution.id)
        } else {
            format!("Distribution `{}` does not use field-level encryption.", distribution.id)
        };
        Some((configured, message, json!({ "FieldLevelEncryptionId": behavior.field_level_encryption_id })))
    });
}

#[cfg(test)]
mod tests {
    use vigil_model::edge::{CacheBehavior, CustomOriginConfig, DistributionLogging, Origin};

    use super::*;
    use crate::catalog::test_support::*;
    use crate::{Check, Status, Status::*};

    /// A well-configured distribution; tests spoil one setting at a time.
    fn good(id: &str) -> Distribution {
        Distribution {
            id: id.into(),
            arn: format!("arn:aws:cloudfront::{ACCOUNT}:distribution/{id}"),
            default_root_object: Some("index.html".into()),
            web_acl_id: Some("arn:aws:wafv2:us-east-1:123456789012:global/webacl/site/1".into()),
            viewer_certificate: Some(ViewerCertificate {
                acm_certificate_arn: Some("arn:aws:acm:us-east-1:123456789012:certificate/1".into()),
                minimum_protocol_version: Some("TLSv1.2_2021".into()),
                ssl_support_method: Some("sni-only".into()),
                ..Default::default()
            }),
            origins: vec![
                Origin {
                    id: "s3".into(),
                    domain_name: "site.s3.us-east-1.amazonaws.com".into(),
                    s3_origin_access_identity: Some(String::new()),
                    origin_access_control_id: Some("E1".into()),
                    ..Default::default()
                },
                Origin {
                    id: "api".into(),
                    domain_name: "api.example.com".into(),
                    custom_origin_config: Some(CustomOriginConfig {
                        origin_protocol_policy: Some("https-only".into()),
                        origin_ssl_protocols: vec!["TLSv1.2".into()],
                    }),
                    ..Default::default()
                },
            ],
            default_cache_behavior: Some(CacheBehavior {
                target_origin_id: "s3".into(),
                viewer_protocol_policy: Some("redirect-to-https".into()),
                field_level_encryption_id: Some("F1".into()),
                ..Default::default()
            }),
            logging: Some(DistributionLogging { enabled: true, bucket: Some("logs.s3.amazonaws.com".into()), prefix: None }),
            ..Distribution::default()
        }
    }

    /// The good twin passes, the bad twin fails, and a denied GetDistributionConfig errors when needed.
    fn twins(check: &dyn Check, spoil: impl Fn(&mut Distribution)) {
        let mut bad = good("bad");
        spoil(&mut bad);
        let mut inventory = inventory();
        read(&mut inventory, "cloudfront", "global", "ListDistributions", None);
        read(&mut inventory, "cloudfront", "global", "GetDistributionConfig", Some("bad"));
        read(&mut inventory, "cloudfront", "global", "GetDistributionConfig", Some("good"));
        record(&mut inventory, "cloudfront", "global", "GetDistributionConfig", Some("zz-denied"), denied());
        inventory.edge.distributions = vec![bad, good("good"), good("zz-denied")];
        let expected: Vec<(String, Status)> = vec![("bad".into(), Fail), ("good".into(), Pass), ("zz-denied".into(), Error)];
        assert_eq!(statuses(&run(check, &inventory)), expected, "{}", check.metadata().id);
    }

    #[test]
    fn each_cloudfront_check_fails_its_bad_twin_only() {
        twins(&DISTRIBUTION_VIEWER_HTTPS, |d| d.default_cache_behavior.as_mut().unwrap().viewer_protocol_policy = Some("allow-all".into()));
        twins(&DISTRIBUTION_VIEWER_TLS_1_2, |d| d.viewer_certificate.as_mut().unwrap().minimum_protocol_version = Some("TLSv1".into()));
        twins(&DISTRIBUTION_ORIGIN_HTTPS, |d| d.origins[1].custom_origin_config.as_mut().unwrap().origin_protocol_policy = Some("http-only".into()));
        twins(&DISTRIBUTION_ORIGIN_TLS, |d| d.origins[1].custom_origin_config.as_mut().unwrap().origin_ssl_protocols.push("SSLv3".into()));
        twins(&DISTRIBUTION_LOGGING_ENABLED, |d| d.logging = Some(DistributionLogging::default()));
        twins(&DISTRIBUTION_WAF_ENABLED, |d| d.web_acl_id = None);
        twins(&DISTRIBUTION_DEFAULT_ROOT_OBJECT, |d| d.default_root_object = None);
        twins(&DISTRIBUTION_S3_ORIGIN_ACCESS_CONTROL, |d| d.origins[0].origin_access_control_id = None);
        twins(&DISTRIBUTION_SNI, |d| d.viewer_certificate.as_mut().unwrap().ssl_support_method = Some("vip".into()));
        twins(&DISTRIBUTION_FIELD_LEVEL_ENCRYPTION, |d| d.default_cache_behavior.as_mut().unwrap().field_level_encryption_id = None);
    }

    #[test]
    fn match_viewer_origins_fail_only_when_viewers_may_use_http() {
        twins(&DISTRIBUTION_ORIGIN_HTTPS, |d| {
            d.origins[1].custom_origin_config.as_mut().unwrap().origin_protocol_policy = Some("match-viewer".into());
            d.cache_behaviors.push(CacheBehavior {
                path_pattern: Some("/api/*".into()),
                viewer_protocol_policy: Some("allow-all".into()),
                ..Default::default()
            });
        });
    }

    #[test]
    fn a_denied_distribution_listing_is_one_error() {
        let mut inventory = inventory();
        record(&mut inventory, "cloudfront", "global", "ListDistributions", None, denied());
        assert_eq!(statuses(&run(&DISTRIBUTION_VIEWER_HTTPS, &inventory)), vec![(ACCOUNT.to_string(), Error)]);
    }
}
