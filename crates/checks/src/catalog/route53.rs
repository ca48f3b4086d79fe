//! Route 53 checks: DNS query logging for public hosted zones; transfer lock, auto-renew and
//! privacy protection for registered domains.

use serde_json::json;
use vigil_model::Region;
use vigil_model::edge::Domain;

use super::FnCheck;
use crate::context::{Context, Needs};
use crate::{Finding, Metadata, Read, Remediation, Severity};

/// The registered domains every domain check reads.
const DOMAINS: &[Read] = &[Read::global("route53domains", "ListDomains")];

pub static PUBLIC_ZONE_QUERY_LOGGING: FnCheck = FnCheck {
    metadata: Metadata {
        id: "route53_public_zone_query_logging",
        title: "Route 53 public hosted zones log DNS queries",
        service: "route53",
        resource_type: "AWS::Route53::HostedZone",
        severity: Severity::Medium,
        risk: "Without query logs there is no record of which names were resolved, which hides reconnaissance, data exfiltration over DNS and abuse of dangling records.",
        remediation: Remediation {
            text: "Create a query logging configuration that sends the zone's queries to a CloudWatch Logs log group in us-east-1.",
            cli: "aws route53 create-query-logging-config --hosted-zone-id ZONE_ID --cloud-watch-logs-log-group-arn arn:aws:logs:us-east-1:ACCOUNT:log-group:/aws/route53/example.com",
            terraform: "resource \"aws_route53_query_log\" \"zone\" {\n  zone_id                  = aws_route53_zone.public.zone_id\n  cloudwatch_log_group_arn = aws_cloudwatch_log_group.dns.arn\n}",
        },
        references: &["https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/query-logs.html"],
        frameworks: &[("aws-fsbp", "Route53.2"), ("pci-dss-4.0", "10.2.1"), ("nist-800-53-r5", "AU-2"), ("nist-800-53-r5", "AU-12")],
        reads: &[Read::global("route53", "ListHostedZones"), Read::global("route53", "ListQueryLoggingConfigs")],
    },
    run: public_zone_query_logging,
};

fn public_zone_query_logging(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let global = Region::GLOBAL;
    for zone in context.inventory.edge.hosted_zones.iter().filter(|zone| !zone.private_zone) {
        let arn = format!("arn:{}:route53:::hostedzone/{}", context.inventory.partition(), zone.short_id());
        let subject = context.new_subject(&arn, "AWS::Route53::HostedZone", zone.short_id(), global, None);
        findings.push(context.decide(metadata, &subject, &[], || {
            let logged = !zone.query_logging_configs.is_empty();
            let message = if logged {
                format!("Public zone `{}` logs DNS queries.", zone.name)
            } else {
                format!("Public zone `{}` does not log DNS queries.", zone.name)
            };
            (logged, message, json!({ "Name": zone.name, "QueryLoggingConfigs": zone.query_logging_configs }))
        }));
    }
}

/// Runs `judge` over every registered domain when ListDomains was read.
fn each_domain(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    detail: bool,
    judge: impl Fn(&Domain) -> (bool, String, serde_json::Value),
) {
    let global = Region::GLOBAL;
    for domain in &context.inventory.edge.domains {
        let arn = format!("arn:{}:route53domains:us-east-1:{}:domain/{}", context.inventory.partition(), context.account_id(), domain.domain_name);
        let subject = context.new_subject(&arn, "AWS::Route53Domains::Domain", &domain.domain_name, global, None);
        let needs: Vec<Needs<'_>> = detail.then(|| Needs::call("route53domains", global, "GetDomainDetail").on(&domain.domain_name)).into_iter().collect();
        findings.push(context.decide(metadata, &subject, &needs, || judge(domain)));
    }
}

pub static DOMAIN_TRANSFER_LOCK: FnCheck = FnCheck {
    metadata: Metadata {
        id: "route53_domain_transfer_lock",
        title: "Registered domains have transfer lock enabled",
        service: "route53",
        resource_type: "AWS::Route53Domains::Domain",
        severity: Severity::High,
        risk: "Without the transfer lock (clientTransferProhibited), a domain can be transferred away by anyone who obtains the authorization code, taking over your DNS and email.",
        remediation: Remediation {
            text: "Enable the transfer lock on the domain.",
            cli: "aws route53domains enable-domain-transfer-lock --region us-east-1 --domain-name DOMAIN",
            terraform: "resource \"aws_route53domains_registered_domain\" \"domain\" {\n  domain_name   = \"example.com\"\n  transfer_lock = true\n}",
        },
        references: &["https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/domain-lock.html"],
        frameworks: &[("nist-800-53-r5", "CM-6")],
        reads: DOMAINS,
    },
    run: domain_transfer_lock,
};

fn domain_transfer_lock(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_domain(metadata, context, findings, false, |domain| {
        let locked = domain.transfer_lock == Some(true) || domain.status_list.iter().any(|status| status == "clientTransferProhibited");
        let message = if locked {
            format!("Domain `{}` is locked against transfer.", domain.domain_name)
        } else {
            format!("Domain `{}` can be transferred away.", domain.domain_name)
        };
        (locked, message, json!({ "TransferLock": domain.transfer_lock, "StatusList": domain.status_list }))
    });
}

pub static DOMAIN_AUTO_RENEW: FnCheck = FnCheck {
    metadata: Metadata {
        id: "route53_domain_auto_renew",
        title: "Registered domains renew automatically",
        service: "route53",
        resource_type: "AWS::Route53Domains::Domain",
        severity: Severity::Medium,
        risk: "An expired domain can be registered by someone else, who then receives your traffic and email.",
        remediation: Remediation {
            text: "Enable automatic renewal on the domain.",
            cli: "aws route53domains enable-domain-auto-renew --region us-east-1 --domain-name DOMAIN",
            terraform: "resource \"aws_route53domains_registered_domain\" \"domain\" {\n  domain_name = \"example.com\"\n  auto_renew  = true\n}",
        },
        references: &["https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/domain-enable-disable-auto-renewal.html"],
        frameworks: &[("nist-800-53-r5", "CM-6")],
        reads: DOMAINS,
    },
    run: domain_auto_renew,
};

fn domain_auto_renew(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_domain(metadata, context, findings, false, |domain| {
        let renews = domain.auto_renew == Some(true);
        let message = if renews {
            format!("Domain `{}` renews automatically.", domain.domain_name)
        } else {
            format!("Domain `{}` does not renew automatically.", domain.domain_name)
        };
        (renews, message, json!({ "AutoRenew": domain.auto_renew, "Expiry": domain.expiry }))
    });
}

pub static DOMAIN_PRIVACY_PROTECTION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "route53_domain_privacy_protection",
        title: "Registered domains hide contact details with privacy protection",
        service: "route53",
        resource_type: "AWS::Route53Domains::Domain",
        severity: Severity::Low,
        risk: "Public WHOIS contact details feed phishing and social engineering against the people who administer the domain.",
        remediation: Remediation {
            text: "Enable privacy protection for the admin, registrant and technical contacts.",
            cli: "aws route53domains update-domain-contact-privacy --region us-east-1 --domain-name DOMAIN --admin-privacy --registrant-privacy --tech-privacy",
            terraform: "resource \"aws_route53domains_registered_domain\" \"domain\" {\n  domain_name        = \"example.com\"\n  admin_privacy      = true\n  registrant_privacy = true\n  tech_privacy       = true\n}",
        },
        references: &["https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/domain-privacy-protection.html"],
        frameworks: &[],
        reads: DOMAINS,
    },
    run: domain_privacy_protection,
};

fn domain_privacy_protection(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_domain(metadata, context, findings, true, |domain| {
        let private = [domain.admin_privacy, domain.registrant_privacy, domain.tech_privacy].iter().all(|flag| *flag == Some(true));
        let message = if private {
            format!("Domain `{}` hides its contact details.", domain.domain_name)
        } else {
            format!("Domain `{}` publishes some contact details.", domain.domain_name)
        };
        (private, message, json!({ "AdminPrivacy": domain.admin_privacy, "RegistrantPrivacy": domain.registrant_privacy, "TechPrivacy": domain.tech_privacy }))
    });
}

#[cfg(test)]
mod tests {
    use vigil_model::edge::{HostedZone, QueryLoggingConfig};

    use super::*;
    use crate::catalog::test_support::*;
    use crate::{Check, Status, Status::*};

    #[test]
    fn public_zones_need_query_logging_and_private_zones_are_skipped() {
        let zone = |id: &str, private: bool, logged: bool| HostedZone {
            id: format!("/hostedzone/{id}"),
            name: format!("{id}.example.com."),
            private_zone: private,
            query_logging_configs: if logged {
                vec![QueryLoggingConfig {
                    id: "q".into(),
                    hosted_zone_id: id.into(),
                    cloud_watch_logs_log_group_arn: "arn:aws:logs:us-east-1:123456789012:log-group:dns".into(),
                }]
            } else {
                vec![]
            },
            ..HostedZone::default()
        };
        let mut inventory = inventory();
        read(&mut inventory, "route53", "global", "ListHostedZones", None);
        read(&mut inventory, "route53", "global", "ListQueryLoggingConfigs", None);
        inventory.edge.hosted_zones = vec![zone("ZLOGGED", false, true), zone("ZSILENT", false, false), zone("ZPRIVATE", true, false)];
        assert_eq!(statuses(&run(&PUBLIC_ZONE_QUERY_LOGGING, &inventory)), vec![("ZLOGGED".into(), Pass), ("ZSILENT".into(), Fail)]);
        inventory.ledger.calls.retain(|call| call.operation != "ListQueryLoggingConfigs");
        record(&mut inventory, "route53", "global", "ListQueryLoggingConfigs", None, denied());
        // An unread account-wide listing is one ERROR for the account, naming the call.
        let findings = run(&PUBLIC_ZONE_QUERY_LOGGING, &inventory);
        assert_eq!(statuses(&findings), vec![(ACCOUNT.into(), Error)]);
        assert!(findings[0].message.contains("route53:ListQueryLoggingConfigs"), "{}", findings[0].message);
    }

    fn check(check: &dyn Check, good: Domain, bad: Domain) -> Vec<(String, Status)> {
        let mut inventory = inventory();
        read(&mut inventory, "route53domains", "global", "ListDomains", None);
        read(&mut inventory, "route53domains", "global", "GetDomainDetail", Some(&good.domain_name));
        read(&mut inventory, "route53domains", "global", "GetDomainDetail", Some(&bad.domain_name));
        record(&mut inventory, "route53domains", "global", "GetDomainDetail", Some("zz-denied.com"), denied());
        inventory.edge.domains = vec![good, bad, Domain { domain_name: "zz-denied.com".into(), ..Domain::default() }];
        statuses(&run(check, &inventory))
    }

    #[test]
    fn domain_settings_fail_the_bad_twin() {
        let domain = |name: &str, on: bool| Domain {
            domain_name: name.into(),
            auto_renew: Some(on),
            transfer_lock: Some(on),
            admin_privacy: Some(on),
            registrant_privacy: Some(on),
            tech_privacy: Some(on),
            ..Domain::default()
        };
        assert_eq!(
            check(&DOMAIN_TRANSFER_LOCK, domain("good.com", true), domain("bad.com", false)),
            vec![("bad.com".into(), Fail), ("good.com".into(), Pass), ("zz-denied.com".into(), Fail)]
        );
        assert_eq!(
            check(&DOMAIN_AUTO_RENEW, domain("good.com", true), domain("bad.com", false)),
            vec![("bad.com".into(), Fail), ("good.com".into(), Pass), ("zz-denied.com".into(), Fail)]
        );
        assert_eq!(
            check(&DOMAIN_PRIVACY_PROTECTION, domain("good.com", true), domain("bad.com", false)),
            vec![("bad.com".into(), Fail), ("good.com".into(), Pass), ("zz-denied.com".into(), Error)]
        );
    }

    #[test]
    fn a_denied_domain_listing_is_one_error() {
        let mut inventory = inventory();
        record(&mut inventory, "route53domains", "global", "ListDomains", None, denied());
        assert_eq!(statuses(&run(&DOMAIN_TRANSFER_LOCK, &inventory)), vec![(ACCOUNT.to_string(), Error)]);
    }
}
