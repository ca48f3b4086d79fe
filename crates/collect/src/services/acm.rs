//! ACM: certificates of every key type and status, each described (expiry, key algorithm,
//! transparency logging, the resources using it).

use std::sync::Arc;

use aws_sdk_acm::types::{Filters, KeyAlgorithm};
use futures::StreamExt;
use vigil_model::acm::Certificate;

use super::time_opt;
use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_acm, session, &region);
    let session = session.as_ref();
    let region = region.as_str();
    // Without a key-type filter ListCertificates returns RSA_1024 and RSA_2048 certificates only.
    let every_key_type = Filters::builder().set_key_types(Some(KeyAlgorithm::values().iter().map(|value| KeyAlgorithm::from(*value)).collect())).build();
    let mut arns = Vec::new();
    let call = Call::new("acm", region, "ListCertificates");
    crate::for_each_page!(session, call, client.list_certificates().includes(every_key_type).into_paginator().send(), |page| {
        arns.extend(page.certificate_summary_list.unwrap_or_default().into_iter().filter_map(|summary| summary.certificate_arn));
    });
    let certificates: Vec<Certificate> = futures::stream::iter(arns)
        .map(|arn| {
            let client = &client;
            async move {
                let call = Call::new("acm", region, "DescribeCertificate").on(&arn);
                let detail = crate::call!(session, call, client.describe_certificate().certificate_arn(&arn).send()).and_then(|output| output.certificate);
                let Some(detail) = detail else { return Certificate { certificate_arn: arn, ..Certificate::default() } };
                Certificate {
                    certificate_arn: arn,
                    domain_name: detail.domain_name,
                    subject_alternative_names: detail.subject_alternative_names.unwrap_or_default(),
                    status: detail.status.map(|value| value.as_str().to_string()),
                    r#type: detail.r#type.map(|value| value.as_str().to_string()),
                    key_algorithm: detail.key_algorithm.map(|value| value.as_str().to_string()),
                    signature_algorithm: detail.signature_algorithm,
                    issuer: detail.issuer,
                    not_before: time_opt(detail.not_before.as_ref()),
                    not_after: time_opt(detail.not_after.as_ref()),
                    in_use_by: detail.in_use_by.unwrap_or_default(),
                    certificate_transparency_logging_preference: transparency_preference(detail.options),
                    renewal_eligibility: detail.renewal_eligibility.map(|value| value.as_str().to_string()),
                }
            }
        })
        .buffer_unordered(session.fan_out())
        .collect()
        .await;
    Box::new(move |regional| regional.certificates = certificates)
}

/// The certificate's transparency-logging preference. AWS deprecated the opt-out (new
/// certificates are always logged), but certificates issued with it disabled still report it,
/// and the check on it needs to see them.
#[allow(deprecated)]
fn transparency_preference(options: Option<aws_sdk_acm::types::CertificateOptions>) -> Option<String> {
    options.and_then(|options| options.certificate_transparency_logging_preference).map(|value| value.as_str().to_string())
}
