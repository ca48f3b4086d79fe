//! Elastic Load Balancing checks: TLS on listeners and modern TLS policies, HTTP to HTTPS
//! redirects, access logs, deletion protection, header hygiene and multi-AZ placement, for
//! Application/Network/Gateway Load Balancers (`elbv2`) and Classic Load Balancers (`elb`).

use serde_json::{Value, json};
use vigil_model::elb::{ClassicLoadBalancer, LoadBalancer};

use super::FnCheck;
use super::support::{Verdict, each_regional, subject_of};
use crate::context::{Context, Needs, Unread};
use crate::{Finding, Metadata, Read, Remediation, Severity};

const ELBV2_LISTING: &[Read] = &[Read::regional("elbv2", "DescribeLoadBalancers")];
const ELB_LISTING: &[Read] = &[Read::regional("elb", "DescribeLoadBalancers")];

/// The protocols of the predefined Elastic Load Balancing security policies, as the Elastic
/// Load Balancing documentation lists them: "Security policies for your Application Load
/// Balancer" (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html>,
/// the same policies for Network Load Balancers) and "Predefined SSL security policies for
/// Classic Load Balancers" (<https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-security-policy-table.html>).
/// The names only key the table: a verdict comes from the protocol list. `aws elbv2
/// describe-ssl-policies --names NAME` prints a policy's list, to add one AWS publishes later.
const TLS_POLICY_PROTOCOLS: &[(&str, &[&str])] = &[
    ("ELBSecurityPolicy-TLS13-1-3-2021-06", TLS13),
    ("ELBSecurityPolicy-TLS13-1-3-PQ-2025-09", TLS13),
    ("ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04", TLS13),
    ("ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09", TLS13),
    ("ELBSecurityPolicy-TLS13-1-2-2021-06", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Res-2021-06", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09", TLS12_13),
    ("ELBSecurityPolicy-TLS13-1-1-2021-06", TLS11_13),
    ("ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04", TLS11_13),
    ("ELBSecurityPolicy-TLS13-1-0-2021-06", TLS10_13),
    ("ELBSecurityPolicy-TLS13-1-0-PQ-2025-09", TLS10_13),
    ("ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04", TLS10_13),
    ("ELBSecurityPolicy-TLS-1-2-Ext-2018-06", TLS12),
    ("ELBSecurityPolicy-TLS-1-2-2017-01", TLS12),
    ("ELBSecurityPolicy-TLS-1-1-2017-01", TLS11_12),
    ("ELBSecurityPolicy-FS-1-2-Res-2020-10", TLS12),
    ("ELBSecurityPolicy-FS-1-2-Res-2019-08", TLS12),
    ("ELBSecurityPolicy-FS-1-2-2019-08", TLS12),
    ("ELBSecurityPolicy-FS-1-1-2019-08", TLS11_12),
    ("ELBSecurityPolicy-FS-2018-06", TLS10_12),
    ("ELBSecurityPolicy-2016-08", TLS10_12),
    ("ELBSecurityPolicy-2015-05", TLS10_12),
    ("ELBSecurityPolicy-2015-03", TLS10_12),
    ("ELBSecurityPolicy-2015-02", TLS10_12),
    ("ELBSecurityPolicy-2014-10", TLS10_12),
    ("ELBSecurityPolicy-2014-01", SSL3_TLS12),
    ("ELBSecurityPolicy-2011-08", SSL3_TLS12),
    ("ELBSample-ELBDefaultNegotiationPolicy", SSL3_TLS12),
    ("ELBSample-OpenSSLDefaultNegotiationPolicy", SSL3_TLS12),
];
const TLS13: &[&str] = &["TLSv1.3"];
const TLS12: &[&str] = &["TLSv1.2"];
const TLS12_13: &[&str] = &["TLSv1.2", "TLSv1.3"];
const TLS11_12: &[&str] = &["TLSv1.1", "TLSv1.2"];
const TLS11_13: &[&str] = &["TLSv1.1", "TLSv1.2", "TLSv1.3"];
const TLS10_12: &[&str] = &["TLSv1", "TLSv1.1", "TLSv1.2"];
const TLS10_13: &[&str] = &["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
const SSL3_TLS12: &[&str] = &["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"];

/// Protocols older than TLS 1.2.
const LEGACY_PROTOCOLS: &[&str] = &["SSLv2", "SSLv3", "TLSv1", "TLSv1.1"];

/// How a listener's security policy stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PolicyVerdict {
    /// Accepts only TLS 1.2 and later (or is in the policy's allow list).
    Modern,
    /// Accepts these legacy protocols (or is missing from a non-empty allow list).
    Legacy(Vec<&'static str>),
    /// Not in the documented table: its protocols are unknown.
    Unknown,
}

/// Judges a security policy from its documented protocols. `allowed` (policy parameter
/// `elb_allowed_ssl_policies`) replaces the rule when it is not empty.
fn judge_tls_policy(policy: Option<&str>, allowed: &[String]) -> PolicyVerdict {
    let Some(policy) = policy else { return PolicyVerdict::Unknown };
    if !allowed.is_empty() {
        return if allowed.iter().any(|name| name == policy) { PolicyVerdict::Modern } else { PolicyVerdict::Legacy(Vec::new()) };
    }
    match TLS_POLICY_PROTOCOLS.iter().find(|(name, _)| *name == policy) {
        None => PolicyVerdict::Unknown,
        Some((_, protocols)) => {
            let legacy: Vec<&'static str> = protocols.iter().copied().filter(|protocol| LEGACY_PROTOCOLS.contains(protocol)).collect();
            if legacy.is_empty() { PolicyVerdict::Modern } else { PolicyVerdict::Legacy(legacy) }
        }
    }
}

/// The verdict over a load balancer's secure listeners, each (name, policy): FAIL when one
/// accepts a protocol older than TLS 1.2, else ERROR when one's policy is not in the table.
fn judge_listener_policies(name: &str, listeners: &[(String, Option<&str>)], allowed: &[String]) -> Result<Verdict, Unread> {
    let judged: Vec<(String, Option<&str>, PolicyVerdict)> =
        listeners.iter().map(|(listener, policy)| (listener.clone(), *policy, judge_tls_policy(*policy, allowed))).collect();
    let evidence = |verdict: &PolicyVerdict| {
        judged
            .iter()
            .filter(|(_, _, judged)| judged == verdict || matches!((judged, verdict), (PolicyVerdict::Legacy(_), PolicyVerdict::Legacy(_))))
            .map(|(listener, policy, judged)| {
                let protocols = match judged {
                    PolicyVerdict::Legacy(protocols) => json!(protocols),
                    _ => Value::Null,
                };
                json!({ "Listener": listener, "SslPolicy": policy, "LegacyProtocols": protocols })
            })
            .collect::<Vec<_>>()
    };
    let weak = evidence(&PolicyVerdict::Legacy(Vec::new()));
    if !weak.is_empty() {
        let message = format!("{} HTTPS/TLS listener(s) of `{name}` use a policy that accepts protocols older than TLS 1.2.", weak.len());
        return Ok((false, message, json!({ "WeakListeners": weak, "AllowedPolicies": allowed })));
    }
    let unknown = evidence(&PolicyVerdict::Unknown);
    if !unknown.is_empty() {
        return Err(Unread {
            message: format!(
                "the security policy of {} HTTPS/TLS listener(s) of `{name}` is not in vigil's table of documented ELB policies, so its protocols are unknown",
                unknown.len()
            ),
            evidence: json!({ "UnknownListeners": unknown }),
        });
    }
    Ok((
        true,
        format!("Every HTTPS/TLS listener of `{name}` uses a policy that accepts only TLS 1.2 or later."),
        json!({ "Listeners": evidence(&PolicyVerdict::Modern) }),
    ))
}

fn attribute<'a>(balancer: &'a LoadBalancer, key: &str) -> Option<&'a str> {
    balancer.attributes.get(key).map(String::as_str)
}

fn is_application(balancer: &LoadBalancer) -> bool {
    balancer.r#type.as_deref() == Some("application")
}

pub static ELBV2_LISTENERS_ENCRYPTED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elbv2_listeners_encrypted",
        title: "Application Load Balancer listeners use HTTPS or redirect HTTP to HTTPS",
        service: "elbv2",
        resource_type: "AWS::ElasticLoadBalancingV2::LoadBalancer",
        severity: Severity::Medium,
        risk: "A plain HTTP listener that serves content sends cookies, tokens and form data in clear text across the internet.",
        remediation: Remediation {
            text: "Serve over HTTPS and make every HTTP listener's default action a redirect to HTTPS (status HTTP_301).",
            cli: "aws elbv2 modify-listener --listener-arn LISTENER_ARN --default-actions 'Type=redirect,RedirectConfig={Protocol=HTTPS,Port=443,StatusCode=HTTP_301}'",
            terraform: "resource \"aws_lb_listener\" \"http\" {\n  load_balancer_arn = aws_lb.main.arn\n  port              = 80\n  protocol          = \"HTTP\"\n  default_action {\n    type = \"redirect\"\n    redirect {\n      port        = \"443\"\n      protocol    = \"HTTPS\"\n      status_code = \"HTTP_301\"\n    }\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html"],
        frameworks: &[("aws-fsbp", "ELB.1"), ("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-8")],
        reads: ELBV2_LISTING,
    },
    run: elbv2_listeners_encrypted,
};

fn elbv2_listeners_encrypted(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_regional(metadata, context, findings, |balancer: &LoadBalancer, _, region| {
        if !is_application(balancer) {
            return None;
        }
        let clear: Vec<_> = balancer
            .listeners
            .iter()
            .filter(|listener| listener.protocol.as_deref() == Some("HTTP"))
            .filter(|listener| {
                !listener.default_actions.iter().any(|action| action.r#type == "redirect" && action.redirect_protocol.as_deref() == Some("HTTPS"))
            })
            .map(|listener| json!({ "ListenerArn": listener.listener_arn, "Port": listener.port, "Protocol": listener.protocol, "DefaultActions": listener.default_actions }))
            .collect();
        let message = if clear.is_empty() {
            format!("Load balancer `{}` serves no plain HTTP: every listener is HTTPS or redirects to HTTPS.", balancer.load_balancer_name)
        } else {
            format!("Load balancer `{}` has {} HTTP listener(s) that do not redirect to HTTPS.", balancer.load_balancer_name, clear.len())
        };
        Some((
            vec![Needs::call("elbv2", region, "DescribeListeners").on(&balancer.load_balancer_arn)],
            (clear.is_empty(), message, json!({ "ClearTextListeners": clear })),
        ))
    });
}

pub static ELBV2_SSL_POLICY_MODERN: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elbv2_ssl_policy_modern",
        title: "HTTPS and TLS listeners of Application and Network Load Balancers use a TLS 1.2+ security policy",
        service: "elbv2",
        resource_type: "AWS::ElasticLoadBalancingV2::LoadBalancer",
        severity: Severity::Medium,
        risk: "Policies that still accept TLS 1.0/1.1 and weak ciphers expose sessions to downgrade and known protocol attacks. Policy parameter `elb_allowed_ssl_policies` lists the accepted policies when set.",
        remediation: Remediation {
            text: "Set each HTTPS/TLS listener's security policy to a TLS 1.2 or TLS 1.3 policy such as ELBSecurityPolicy-TLS13-1-2-2021-06.",
            cli: "aws elbv2 modify-listener --listener-arn LISTENER_ARN --ssl-policy ELBSecurityPolicy-TLS13-1-2-2021-06",
            terraform: "resource \"aws_lb_listener\" \"https\" {\n  # ...\n  ssl_policy = \"ELBSecurityPolicy-TLS13-1-2-2021-06\"\n}",
        },
        references: &["https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html"],
        frameworks: &[("aws-fsbp", "ELB.17"), ("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-8"), ("nist-800-53-r5", "SC-13")],
        reads: ELBV2_LISTING,
    },
    run: elbv2_ssl_policy_modern,
};

fn elbv2_ssl_policy_modern(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let inventory = context.inventory;
    for region in &inventory.regions {
        let Some(regional) = inventory.regional.get(region) else { continue };
        for balancer in &regional.load_balancers {
            let secure: Vec<(String, Option<&str>)> = balancer
                .listeners
                .iter()
                .filter(|listener| matches!(listener.protocol.as_deref(), Some("HTTPS" | "TLS")))
                .map(|listener| (listener.listener_arn.clone(), listener.ssl_policy.as_deref()))
                .collect();
            if secure.is_empty() {
                continue;
            }
            let subject = subject_of(context, region.as_str(), balancer);
            let allowed = context.strings(&subject, "elb_allowed_ssl_policies", &[]);
            let needs = [Needs::call("elbv2", region.as_str(), "DescribeListeners").on(&balancer.load_balancer_arn)];
            findings.push(context.decide_or_error(metadata, &subject, &needs, || judge_listener_policies(&balancer.load_balancer_name, &secure, &allowed)));
        }
    }
}

/// An ELBv2 check decided by one load balancer attribute.
fn elbv2_attribute_check(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    applies: fn(&LoadBalancer) -> bool,
    key: &'static str,
    good: fn(Option<&str>) -> bool,
) {
    each_regional(metadata, context, findings, |balancer: &LoadBalancer, _, region| {
        if !applies(balancer) {
            return None;
        }
        let value = attribute(balancer, key);
        let passed = good(value);
        let message = format!("Load balancer `{}` has `{key}` = `{}`.", balancer.load_balancer_name, value.unwrap_or("(unset)"));
        Some((vec![Needs::call("elbv2", region, "DescribeLoadBalancerAttributes").on(&balancer.load_balancer_arn)], (passed, message, json!({ key: value }))))
    });
}

pub static ELBV2_ACCESS_LOGS_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elbv2_access_logs_enabled",
        title: "Application and Network Load Balancers write access logs",
        service: "elbv2",
        resource_type: "AWS::ElasticLoadBalancingV2::LoadBalancer",
        severity: Severity::Medium,
        risk: "Without access logs there is no record of who sent which request, which leaves incidents uninvestigable.",
        remediation: Remediation {
            text: "Enable access logs to an S3 bucket whose policy allows the regional ELB log delivery principal.",
            cli: "aws elbv2 modify-load-balancer-attributes --load-balancer-arn LB_ARN --attributes Key=access_logs.s3.enabled,Value=true Key=access_logs.s3.bucket,Value=BUCKET",
            terraform: "resource \"aws_lb\" \"main\" {\n  # ...\n  access_logs {\n    bucket  = aws_s3_bucket.logs.id\n    enabled = true\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html"],
        frameworks: &[("aws-fsbp", "ELB.5"), ("pci-dss-4.0", "10.2.1"), ("nist-800-53-r5", "AU-2"), ("nist-800-53-r5", "AU-12")],
        reads: ELBV2_LISTING,
    },
    run: |metadata, context, findings| {
        elbv2_attribute_check(
            metadata,
            context,
            findings,
            |balancer| balancer.r#type.as_deref() != Some("gateway"),
            "access_logs.s3.enabled",
            |value| value == Some("true"),
        )
    },
};

pub static ELBV2_DELETION_PROTECTION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elbv2_deletion_protection_enabled",
        title: "Application, Network and Gateway Load Balancers have deletion protection enabled",
        service: "elbv2",
        resource_type: "AWS::ElasticLoadBalancingV2::LoadBalancer",
        severity: Severity::Low,
        risk: "A load balancer deleted by mistake or by an attacker takes the application offline and loses its DNS name.",
        remediation: Remediation {
            text: "Turn on deletion protection.",
            cli: "aws elbv2 modify-load-balancer-attributes --load-balancer-arn LB_ARN --attributes Key=deletion_protection.enabled,Value=true",
            terraform: "resource \"aws_lb\" \"main\" {\n  # ...\n  enable_deletion_protection = true\n}",
        },
        references: &["https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#deletion-protection"],
        frameworks: &[("aws-fsbp", "ELB.6"), ("nist-800-53-r5", "CM-3"), ("nist-800-53-r5", "SC-5")],
        reads: ELBV2_LISTING,
    },
    run: |metadata, context, findings| {
        elbv2_attribute_check(metadata, context, findings, |_| true, "deletion_protection.enabled", |value| value == Some("true"))
    },
};

pub static ELBV2_DROP_INVALID_HEADERS: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elbv2_drop_invalid_header_fields",
        title: "Application Load Balancers drop invalid HTTP header fields",
        service: "elbv2",
        resource_type: "AWS::ElasticLoadBalancingV2::LoadBalancer",
        severity: Severity::Medium,
        risk: "Headers with invalid names pass through to targets and enable HTTP request smuggling and desync attacks.",
        remediation: Remediation {
            text: "Set `routing.http.drop_invalid_header_fields.enabled` to true.",
            cli: "aws elbv2 modify-load-balancer-attributes --load-balancer-arn LB_ARN --attributes Key=routing.http.drop_invalid_header_fields.enabled,Value=true",
            terraform: "resource \"aws_lb\" \"main\" {\n  # ...\n  drop_invalid_header_fields = true\n}",
        },
        references: &["https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#load-balancer-attributes"],
        frameworks: &[("aws-fsbp", "ELB.4"), ("nist-800-53-r5", "SC-8")],
        reads: ELBV2_LISTING,
    },
    run: |metadata, context, findings| {
        elbv2_attribute_check(metadata, context, findings, is_application, "routing.http.drop_invalid_header_fields.enabled", |value| value == Some("true"))
    },
};

pub static ELBV2_DESYNC_MITIGATION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elbv2_desync_mitigation_mode",
        title: "Application Load Balancers use the defensive or strictest desync mitigation mode",
        service: "elbv2",
        resource_type: "AWS::ElasticLoadBalancingV2::LoadBalancer",
        severity: Severity::Medium,
        risk: "In monitor mode ambiguous requests reach the targets, which allows HTTP desync (request smuggling) attacks.",
        remediation: Remediation {
            text: "Set `routing.http.desync_mitigation_mode` to `defensive` or `strictest`.",
            cli: "aws elbv2 modify-load-balancer-attributes --load-balancer-arn LB_ARN --attributes Key=routing.http.desync_mitigation_mode,Value=defensive",
            terraform: "resource \"aws_lb\" \"main\" {\n  # ...\n  desync_mitigation_mode = \"defensive\"\n}",
        },
        references: &["https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#desync-mitigation-mode"],
        frameworks: &[("aws-fsbp", "ELB.12"), ("nist-800-53-r5", "SC-8")],
        reads: ELBV2_LISTING,
    },
    run: |metadata, context, findings| {
        // Absent means the service default, `defensive`.
        elbv2_attribute_check(metadata, context, findings, is_application, "routing.http.desync_mitigation_mode", |value| {
            matches!(value, None | Some("defensive" | "strictest"))
        })
    },
};

pub static ELBV2_MULTIPLE_AZ: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elbv2_multiple_az",
        title: "Application, Network and Gateway Load Balancers span at least two Availability Zones",
        service: "elbv2",
        resource_type: "AWS::ElasticLoadBalancingV2::LoadBalancer",
        severity: Severity::Medium,
        risk: "A load balancer in one Availability Zone fails with that zone. Policy parameter `elb_min_availability_zones` (default 2).",
        remediation: Remediation {
            text: "Attach subnets in at least two Availability Zones.",
            cli: "aws elbv2 set-subnets --load-balancer-arn LB_ARN --subnets SUBNET_A SUBNET_B",
            terraform: "resource \"aws_lb\" \"main\" {\n  # ...\n  subnets = [aws_subnet.a.id, aws_subnet.b.id]\n}",
        },
        references: &["https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-subnets.html"],
        frameworks: &[("aws-fsbp", "ELB.13"), ("nist-800-53-r5", "CP-10"), ("nist-800-53-r5", "SC-36")],
        reads: ELBV2_LISTING,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |balancer: &LoadBalancer, _, region| {
            let subject = subject_of(context, region, balancer);
            let minimum = context.number(&subject, "elb_min_availability_zones", 2);
            let zones = balancer.subnet_ids.len() as i64;
            let message =
                format!("Load balancer `{}` has nodes in {zones} subnet(s) (Availability Zones); at least {minimum} required.", balancer.load_balancer_name);
            Some((vec![], (zones >= minimum, message, json!({ "SubnetIds": balancer.subnet_ids }))))
        })
    },
};

pub static ELB_LISTENERS_ENCRYPTED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elb_listeners_encrypted",
        title: "Classic Load Balancer listeners use HTTPS or SSL",
        service: "elb",
        resource_type: "AWS::ElasticLoadBalancing::LoadBalancer",
        severity: Severity::Medium,
        risk: "HTTP and TCP front-end listeners carry client traffic in clear text.",
        remediation: Remediation {
            text: "Replace HTTP/TCP listeners with HTTPS/SSL listeners using an ACM certificate.",
            cli: "aws elb create-load-balancer-listeners --load-balancer-name NAME --listeners Protocol=HTTPS,LoadBalancerPort=443,InstanceProtocol=HTTP,InstancePort=80,SSLCertificateId=CERT_ARN",
            terraform: "resource \"aws_elb\" \"main\" {\n  listener {\n    lb_port            = 443\n    lb_protocol        = \"https\"\n    instance_port      = 80\n    instance_protocol  = \"http\"\n    ssl_certificate_id = aws_acm_certificate.main.arn\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-listener-config.html"],
        frameworks: &[("aws-fsbp", "ELB.3"), ("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-8")],
        reads: ELB_LISTING,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |balancer: &ClassicLoadBalancer, _, _| {
            let clear: Vec<_> = balancer
                .listener_descriptions
                .iter()
                .filter(|listener| !matches!(listener.protocol.to_ascii_uppercase().as_str(), "HTTPS" | "SSL"))
                .map(|listener| json!({ "Protocol": listener.protocol, "LoadBalancerPort": listener.load_balancer_port }))
                .collect();
            let message = format!("Classic load balancer `{}` has {} listener(s) without HTTPS/SSL.", balancer.load_balancer_name, clear.len());
            Some((vec![], (clear.is_empty(), message, json!({ "ClearTextListeners": clear }))))
        })
    },
};

pub static ELB_SSL_POLICY_MODERN: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elb_ssl_policy_modern",
        title: "Classic Load Balancer HTTPS/SSL listeners use a TLS 1.2+ predefined security policy",
        service: "elb",
        resource_type: "AWS::ElasticLoadBalancing::LoadBalancer",
        severity: Severity::Medium,
        risk: "Older or custom negotiation policies accept TLS 1.0/1.1 and weak ciphers. Policy parameter `elb_allowed_ssl_policies` lists the accepted policies when set.",
        remediation: Remediation {
            text: "Create a policy referencing ELBSecurityPolicy-TLS-1-2-2017-01 and set it on each HTTPS/SSL listener.",
            cli: "aws elb create-load-balancer-policy --load-balancer-name NAME --policy-name tls12 --policy-type-name SSLNegotiationPolicyType --policy-attributes AttributeName=Reference-Security-Policy,AttributeValue=ELBSecurityPolicy-TLS-1-2-2017-01\naws elb set-load-balancer-policies-of-listener --load-balancer-name NAME --load-balancer-port 443 --policy-names tls12",
            terraform: "resource \"aws_load_balancer_policy\" \"tls12\" {\n  load_balancer_name = aws_elb.main.name\n  policy_name        = \"tls12\"\n  policy_type_name   = \"SSLNegotiationPolicyType\"\n  policy_attribute {\n    name  = \"Reference-Security-Policy\"\n    value = \"ELBSecurityPolicy-TLS-1-2-2017-01\"\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-security-policy-table.html"],
        frameworks: &[("aws-fsbp", "ELB.8"), ("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-8"), ("nist-800-53-r5", "SC-13")],
        reads: ELB_LISTING,
    },
    run: |metadata, context, findings| {
        let inventory = context.inventory;
        for region in &inventory.regions {
            let Some(regional) = inventory.regional.get(region) else { continue };
            for balancer in &regional.classic_load_balancers {
                let secure = balancer.listener_descriptions.iter().any(|listener| matches!(listener.protocol.to_ascii_uppercase().as_str(), "HTTPS" | "SSL"));
                if !secure {
                    continue;
                }
                let subject = subject_of(context, region.as_str(), balancer);
                let allowed = context.strings(&subject, "elb_allowed_ssl_policies", &[]);
                // A Classic Load Balancer negotiates with the predefined policies its listener
                // policies reference; none referenced means a custom policy, whose protocols
                // vigil does not read.
                let policies: Vec<(String, Option<&str>)> = if balancer.ssl_reference_policies.is_empty() {
                    vec![(balancer.load_balancer_name.clone(), None)]
                } else {
                    balancer.ssl_reference_policies.iter().map(|policy| (balancer.load_balancer_name.clone(), Some(policy.as_str()))).collect()
                };
                let needs = [Needs::call("elb", region.as_str(), "DescribeLoadBalancerPolicies").on(&balancer.load_balancer_name)];
                findings
                    .push(context.decide_or_error(metadata, &subject, &needs, || judge_listener_policies(&balancer.load_balancer_name, &policies, &allowed)));
            }
        }
    },
};

pub static ELB_ACM_CERTIFICATE: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elb_acm_certificate",
        title: "Classic Load Balancer HTTPS/SSL listeners use certificates from ACM",
        service: "elb",
        resource_type: "AWS::ElasticLoadBalancing::LoadBalancer",
        severity: Severity::Low,
        risk: "Certificates uploaded to IAM are not renewed automatically and tend to expire unnoticed.",
        remediation: Remediation {
            text: "Issue or import the certificate in ACM and set it on the listener.",
            cli: "aws elb set-load-balancer-listener-ssl-certificate --load-balancer-name NAME --load-balancer-port 443 --ssl-certificate-id ACM_CERT_ARN",
            terraform: "resource \"aws_elb\" \"main\" {\n  listener {\n    # ...\n    ssl_certificate_id = aws_acm_certificate.main.arn\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/ssl-server-cert.html"],
        frameworks: &[("aws-fsbp", "ELB.2"), ("nist-800-53-r5", "SC-12")],
        reads: ELB_LISTING,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |balancer: &ClassicLoadBalancer, _, _| {
            let certificates: Vec<&str> = balancer.listener_descriptions.iter().filter_map(|listener| listener.ssl_certificate_id.as_deref()).collect();
            if certificates.is_empty() {
                return None;
            }
            let foreign: Vec<&&str> = certificates.iter().filter(|certificate| !certificate.contains(":acm:")).collect();
            let message = format!("Classic load balancer `{}` uses {} certificate(s) not managed by ACM.", balancer.load_balancer_name, foreign.len());
            Some((vec![], (foreign.is_empty(), message, json!({ "SSLCertificateIds": certificates }))))
        })
    },
};

/// A Classic Load Balancer check decided by one attribute flag.
fn elb_flag_check(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>, name: &'static str, flag: fn(&ClassicLoadBalancer) -> Option<bool>) {
    each_regional(metadata, context, findings, |balancer: &ClassicLoadBalancer, _, region| {
        let value = flag(balancer);
        let message =
            format!("Classic load balancer `{}` has {name} {}.", balancer.load_balancer_name, if value == Some(true) { "enabled" } else { "disabled" });
        Some((
            vec![Needs::call("elb", region, "DescribeLoadBalancerAttributes").on(&balancer.load_balancer_name)],
            (value == Some(true), message, json!({ name: value })),
        ))
    });
}

pub static ELB_ACCESS_LOGS_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elb_access_logs_enabled",
        title: "Classic Load Balancers write access logs",
        service: "elb",
        resource_type: "AWS::ElasticLoadBalancing::LoadBalancer",
        severity: Severity::Medium,
        risk: "Without access logs there is no record of the requests a balancer served, which leaves incidents uninvestigable.",
        remediation: Remediation {
            text: "Enable access logs to an S3 bucket.",
            cli: "aws elb modify-load-balancer-attributes --load-balancer-name NAME --load-balancer-attributes '{\"AccessLog\":{\"Enabled\":true,\"S3BucketName\":\"BUCKET\",\"EmitInterval\":5}}'",
            terraform: "resource \"aws_elb\" \"main\" {\n  access_logs {\n    bucket  = aws_s3_bucket.logs.id\n    enabled = true\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/enable-access-logs.html"],
        frameworks: &[("aws-fsbp", "ELB.5"), ("pci-dss-4.0", "10.2.1"), ("nist-800-53-r5", "AU-2"), ("nist-800-53-r5", "AU-12")],
        reads: ELB_LISTING,
    },
    run: |metadata, context, findings| elb_flag_check(metadata, context, findings, "AccessLog", |balancer| balancer.access_log_enabled),
};

pub static ELB_CROSS_ZONE: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elb_cross_zone_load_balancing_enabled",
        title: "Classic Load Balancers have cross-zone load balancing enabled",
        service: "elb",
        resource_type: "AWS::ElasticLoadBalancing::LoadBalancer",
        severity: Severity::Low,
        risk: "Without cross-zone balancing a zone with few healthy instances is overloaded, reducing availability.",
        remediation: Remediation {
            text: "Enable cross-zone load balancing.",
            cli: "aws elb modify-load-balancer-attributes --load-balancer-name NAME --load-balancer-attributes '{\"CrossZoneLoadBalancing\":{\"Enabled\":true}}'",
            terraform: "resource \"aws_elb\" \"main\" {\n  # ...\n  cross_zone_load_balancing = true\n}",
        },
        references: &["https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/enable-disable-crosszone-lb.html"],
        frameworks: &[("aws-fsbp", "ELB.9"), ("nist-800-53-r5", "CP-10")],
        reads: ELB_LISTING,
    },
    run: |metadata, context, findings| {
        elb_flag_check(metadata, context, findings, "CrossZoneLoadBalancing", |balancer| balancer.cross_zone_load_balancing_enabled)
    },
};

pub static ELB_CONNECTION_DRAINING: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elb_connection_draining_enabled",
        title: "Classic Load Balancers have connection draining enabled",
        service: "elb",
        resource_type: "AWS::ElasticLoadBalancing::LoadBalancer",
        severity: Severity::Low,
        risk: "Without draining, in-flight requests are cut when an instance is deregistered or fails health checks.",
        remediation: Remediation {
            text: "Enable connection draining.",
            cli: "aws elb modify-load-balancer-attributes --load-balancer-name NAME --load-balancer-attributes '{\"ConnectionDraining\":{\"Enabled\":true,\"Timeout\":300}}'",
            terraform: "resource \"aws_elb\" \"main\" {\n  # ...\n  connection_draining = true\n}",
        },
        references: &["https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/config-conn-drain.html"],
        frameworks: &[("aws-fsbp", "ELB.7"), ("nist-800-53-r5", "CP-10")],
        reads: ELB_LISTING,
    },
    run: |metadata, context, findings| elb_flag_check(metadata, context, findings, "ConnectionDraining", |balancer| balancer.connection_draining_enabled),
};

pub static ELB_MULTIPLE_AZ: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elb_multiple_az",
        title: "Classic Load Balancers span at least two Availability Zones",
        service: "elb",
        resource_type: "AWS::ElasticLoadBalancing::LoadBalancer",
        severity: Severity::Medium,
        risk: "A Classic Load Balancer in one zone fails with that zone. Policy parameter `elb_min_availability_zones` (default 2).",
        remediation: Remediation {
            text: "Attach subnets in at least two Availability Zones.",
            cli: "aws elb attach-load-balancer-to-subnets --load-balancer-name NAME --subnets SUBNET_B",
            terraform: "resource \"aws_elb\" \"main\" {\n  subnets = [aws_subnet.a.id, aws_subnet.b.id]\n}",
        },
        references: &["https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/enable-disable-az.html"],
        frameworks: &[("aws-fsbp", "ELB.10"), ("nist-800-53-r5", "CP-10"), ("nist-800-53-r5", "SC-36")],
        reads: ELB_LISTING,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |balancer: &ClassicLoadBalancer, _, region| {
            let subject = subject_of(context, region, balancer);
            let minimum = context.number(&subject, "elb_min_availability_zones", 2);
            let zones = balancer.subnets.len() as i64;
            let message = format!(
                "Classic load balancer `{}` is in {zones} subnet(s) (one per Availability Zone); at least {minimum} required.",
                balancer.load_balancer_name
            );
            Some((vec![], (zones >= minimum, message, json!({ "Subnets": balancer.subnets }))))
        })
    },
};

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use vigil_model::RegionalInventory;
    use vigil_model::elb::{ClassicListener, Listener, ListenerAction};

    use super::*;
    use crate::catalog::test_support::twins::{Twin, check_twins};

    fn alb(name: &str) -> LoadBalancer {
        LoadBalancer {
            load_balancer_arn: format!("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/{name}/1"),
            load_balancer_name: name.into(),
            r#type: Some("application".into()),
            ..LoadBalancer::default()
        }
    }

    fn listener(protocol: &str, policy: Option<&str>, actions: Vec<ListenerAction>) -> Listener {
        Listener {
            listener_arn: format!("listener-{protocol}"),
            port: Some(80),
            protocol: Some(protocol.into()),
            ssl_policy: policy.map(str::to_string),
            default_actions: actions,
            ..Listener::default()
        }
    }

    fn with_attribute(name: &str, key: &str, value: &str) -> LoadBalancer {
        LoadBalancer { attributes: BTreeMap::from([(key.to_string(), value.to_string())]), ..alb(name) }
    }

    const BAD_ARN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/bad/1";
    const GOOD_ARN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/good/1";

    fn classic(name: &str, protocol: &str, certificate: Option<&str>) -> ClassicLoadBalancer {
        ClassicLoadBalancer {
            load_balancer_name: name.into(),
            listener_descriptions: vec![ClassicListener {
                protocol: protocol.into(),
                load_balancer_port: 443,
                ssl_certificate_id: certificate.map(str::to_string),
                ..ClassicListener::default()
            }],
            ..ClassicLoadBalancer::default()
        }
    }

    #[test]
    fn load_balancer_twins() {
        let v2 = |operation| vec![(operation, BAD_ARN), (operation, GOOD_ARN)];
        let v1 = |operation| vec![(operation, "bad"), (operation, "good")];
        check_twins(&[
            Twin {
                check: &ELBV2_LISTENERS_ENCRYPTED,
                calls: v2("DescribeListeners"),
                place: |regional: &mut RegionalInventory| {
                    let forward = ListenerAction { r#type: "forward".into(), ..ListenerAction::default() };
                    let redirect = ListenerAction { r#type: "redirect".into(), redirect_protocol: Some("HTTPS".into()), ..ListenerAction::default() };
                    regional.load_balancers.push(LoadBalancer { listeners: vec![listener("HTTP", None, vec![forward.clone()])], ..alb("bad") });
                    regional.load_balancers.push(LoadBalancer {
                        listeners: vec![listener("HTTP", None, vec![redirect]), listener("HTTPS", Some("ELBSecurityPolicy-TLS13-1-2-2021-06"), vec![forward])],
                        ..alb("good")
                    });
                },
            },
            Twin {
                check: &ELBV2_SSL_POLICY_MODERN,
                calls: v2("DescribeListeners"),
                place: |regional| {
                    regional.load_balancers.push(LoadBalancer { listeners: vec![listener("HTTPS", Some("ELBSecurityPolicy-2016-08"), vec![])], ..alb("bad") });
                    regional
                        .load_balancers
                        .push(LoadBalancer { listeners: vec![listener("HTTPS", Some("ELBSecurityPolicy-TLS13-1-2-2021-06"), vec![])], ..alb("good") });
                    // A balancer without HTTPS/TLS listeners is not assessed.
                    regional.load_balancers.push(LoadBalancer { listeners: vec![listener("HTTP", None, vec![])], ..alb("plain") });
                },
            },
            Twin {
                check: &ELBV2_ACCESS_LOGS_ENABLED,
                calls: v2("DescribeLoadBalancerAttributes"),
                place: |regional| {
                    regional.load_balancers.push(with_attribute("bad", "access_logs.s3.enabled", "false"));
                    regional.load_balancers.push(with_attribute("good", "access_logs.s3.enabled", "true"));
                },
            },
            Twin {
                check: &ELBV2_DELETION_PROTECTION,
                calls: v2("DescribeLoadBalancerAttributes"),
                place: |regional| {
                    regional.load_balancers.push(with_attribute("bad", "deletion_protection.enabled", "false"));
                    regional.load_balancers.push(with_attribute("good", "deletion_protection.enabled", "true"));
                },
            },
            Twin {
                check: &ELBV2_DROP_INVALID_HEADERS,
                calls: v2("DescribeLoadBalancerAttributes"),
                place: |regional| {
                    regional.load_balancers.push(with_attribute("bad", "routing.http.drop_invalid_header_fields.enabled", "false"));
                    regional.load_balancers.push(with_attribute("good", "routing.http.drop_invalid_header_fields.enabled", "true"));
                },
            },
            Twin {
                check: &ELBV2_DESYNC_MITIGATION,
                calls: v2("DescribeLoadBalancerAttributes"),
                place: |regional| {
                    regional.load_balancers.push(with_attribute("bad", "routing.http.desync_mitigation_mode", "monitor"));
                    regional.load_balancers.push(with_attribute("good", "routing.http.desync_mitigation_mode", "strictest"));
                },
            },
            Twin {
                check: &ELBV2_MULTIPLE_AZ,
                calls: vec![],
                place: |regional| {
                    regional.load_balancers.push(LoadBalancer { subnet_ids: vec!["subnet-a".into()], ..alb("bad") });
                    regional.load_balancers.push(LoadBalancer { subnet_ids: vec!["subnet-a".into(), "subnet-b".into()], ..alb("good") });
                },
            },
            Twin {
                check: &ELB_LISTENERS_ENCRYPTED,
                calls: vec![],
                place: |regional| {
                    regional.classic_load_balancers.push(classic("bad", "HTTP", None));
                    regional.classic_load_balancers.push(classic("good", "HTTPS", Some("arn:aws:acm:us-east-1:123456789012:certificate/1")));
                },
            },
            Twin {
                check: &ELB_SSL_POLICY_MODERN,
                calls: v1("DescribeLoadBalancerPolicies"),
                place: |regional| {
                    regional
                        .classic_load_balancers
                        .push(ClassicLoadBalancer { ssl_reference_policies: vec!["ELBSecurityPolicy-2016-08".into()], ..classic("bad", "HTTPS", None) });
                    regional
                        .classic_load_balancers
                        .push(ClassicLoadBalancer { ssl_reference_policies: vec!["ELBSecurityPolicy-TLS-1-2-2017-01".into()], ..classic("good", "SSL", None) });
                },
            },
            Twin {
                check: &ELB_ACM_CERTIFICATE,
                calls: vec![],
                place: |regional| {
                    regional.classic_load_balancers.push(classic("bad", "HTTPS", Some("arn:aws:iam::123456789012:server-certificate/old")));
                    regional.classic_load_balancers.push(classic("good", "HTTPS", Some("arn:aws:acm:us-east-1:123456789012:certificate/1")));
                },
            },
            Twin {
                check: &ELB_ACCESS_LOGS_ENABLED,
                calls: v1("DescribeLoadBalancerAttributes"),
                place: |regional| {
                    regional.classic_load_balancers.push(ClassicLoadBalancer { access_log_enabled: Some(false), ..classic("bad", "HTTPS", None) });
                    regional.classic_load_balancers.push(ClassicLoadBalancer { access_log_enabled: Some(true), ..classic("good", "HTTPS", None) });
                },
            },
            Twin {
                check: &ELB_CROSS_ZONE,
                calls: v1("DescribeLoadBalancerAttributes"),
                place: |regional| {
                    regional
                        .classic_load_balancers
                        .push(ClassicLoadBalancer { cross_zone_load_balancing_enabled: Some(false), ..classic("bad", "HTTPS", None) });
                    regional
                        .classic_load_balancers
                        .push(ClassicLoadBalancer { cross_zone_load_balancing_enabled: Some(true), ..classic("good", "HTTPS", None) });
                },
            },
            Twin {
                check: &ELB_CONNECTION_DRAINING,
                calls: v1("DescribeLoadBalancerAttributes"),
                place: |regional| {
                    regional.classic_load_balancers.push(ClassicLoadBalancer { connection_draining_enabled: None, ..classic("bad", "HTTPS", None) });
                    regional.classic_load_balancers.push(ClassicLoadBalancer { connection_draining_enabled: Some(true), ..classic("good", "HTTPS", None) });
                },
            },
            Twin {
                check: &ELB_MULTIPLE_AZ,
                calls: vec![],
                place: |regional| {
                    regional.classic_load_balancers.push(ClassicLoadBalancer { subnets: vec!["subnet-a".into()], ..classic("bad", "HTTPS", None) });
                    regional
                        .classic_load_balancers
                        .push(ClassicLoadBalancer { subnets: vec!["subnet-a".into(), "subnet-b".into()], ..classic("good", "HTTPS", None) });
                },
            },
        ]);
    }

    #[test]
    fn tls_policies_are_judged_by_their_documented_protocols() {
        let modern = |policy: &str| judge_tls_policy(Some(policy), &[]) == PolicyVerdict::Modern;
        for (policy, expected) in [
            ("ELBSecurityPolicy-2016-08", false),
            ("ELBSecurityPolicy-TLS-1-1-2017-01", false),
            ("ELBSecurityPolicy-TLS-1-2-2017-01", true),
            ("ELBSecurityPolicy-TLS13-1-2-2021-06", true),
            ("ELBSecurityPolicy-TLS13-1-3-2021-06", true),
            ("ELBSecurityPolicy-FS-1-2-Res-2020-10", true),
            ("ELBSecurityPolicy-FS-2018-06", false),
            // Issue 14: TLS 1.3 policies whose floor is TLS 1.0 or 1.1 passed, from their names.
            ("ELBSecurityPolicy-TLS13-1-0-2021-06", false),
            ("ELBSecurityPolicy-TLS13-1-1-2021-06", false),
            ("ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04", false),
            ("ELBSecurityPolicy-TLS13-1-0-PQ-2025-09", false),
        ] {
            assert_eq!(modern(policy), expected, "{policy}");
        }
        assert_eq!(judge_tls_policy(Some("ELBSecurityPolicy-TLS13-1-1-2021-06"), &[]), PolicyVerdict::Legacy(vec!["TLSv1.1"]));
        assert_eq!(judge_tls_policy(Some("ELBSecurityPolicy-Custom-2030"), &[]), PolicyVerdict::Unknown);
        let allowed = ["ELBSecurityPolicy-TLS13-1-3-2021-06".to_string()];
        assert!(judge_tls_policy(Some("ELBSecurityPolicy-TLS-1-2-2017-01"), &allowed) != PolicyVerdict::Modern);
        assert_eq!(judge_tls_policy(Some("ELBSecurityPolicy-TLS13-1-3-2021-06"), &allowed), PolicyVerdict::Modern);
    }

    /// Every policy AWS documents for Application and Network Load Balancers is in the table with
    /// the protocols the documentation gives; this list is the documented one (describe-ssl-policies).
    #[test]
    fn every_table_entry_names_only_known_protocols_and_a_legacy_floor_fails() {
        for (name, protocols) in TLS_POLICY_PROTOCOLS {
            assert!(!protocols.is_empty(), "{name}");
            assert!(protocols.iter().all(|protocol| ["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"].contains(protocol)), "{name}");
            let legacy = protocols.iter().any(|protocol| LEGACY_PROTOCOLS.contains(protocol));
            assert_eq!(judge_tls_policy(Some(name), &[]) == PolicyVerdict::Modern, !legacy, "{name}");
        }
    }

    #[test]
    fn a_listener_with_an_undocumented_policy_is_an_error_and_a_legacy_one_still_fails() {
        let listeners = |policies: &[Option<&'static str>]| -> Vec<(String, Option<&'static str>)> {
            policies.iter().enumerate().map(|(index, policy)| (format!("listener-{index}"), *policy)).collect()
        };
        assert!(judge_listener_policies("lb", &listeners(&[Some("ELBSecurityPolicy-TLS13-1-2-2021-06")]), &[]).is_ok_and(|verdict| verdict.0));
        assert!(judge_listener_policies("lb", &listeners(&[Some("ELBSecurityPolicy-Unknown")]), &[]).is_err());
        let mixed = judge_listener_policies("lb", &listeners(&[Some("ELBSecurityPolicy-Unknown"), Some("ELBSecurityPolicy-TLS13-1-0-2021-06")]), &[]);
        assert!(mixed.is_ok_and(|verdict| !verdict.0), "a legacy listener fails whatever the others");
    }
}
