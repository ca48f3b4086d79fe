//! GuardDuty: the region's detectors with status and protection plan features.

use std::sync::Arc;

use futures::StreamExt;
use vigil_model::security::{Detector, DetectorFeature};

use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_guardduty, session, &region);
    let mut detector_ids = Vec::new();
    let call = Call::new("guardduty", &region, "ListDetectors");
    crate::for_each_page!(session, call, client.list_detectors().into_paginator().send(), |page| {
        detector_ids.extend(page.detector_ids.unwrap_or_default());
    });
    let detectors: Vec<Detector> = futures::stream::iter(detector_ids)
        .map(|detector_id| read_detector(&session, &client, &region, detector_id))
        .buffer_unordered(session.fan_out())
        .collect()
        .await;
    Box::new(move |regional| regional.guardduty_detectors = detectors)
}

async fn read_detector(session: &Session, client: &aws_sdk_guardduty::Client, region: &str, detector_id: String) -> Detector {
    let mut detector = Detector { detector_id: detector_id.clone(), ..Detector::default() };
    let call = Call::new("guardduty", region, "GetDetector").on(&detector_id);
    if let Some(output) = crate::call!(session, call, client.get_detector().detector_id(&detector.detector_id).send()) {
        detector.status = output.status.map(|status| status.as_str().to_string());
        detector.finding_publishing_frequency = output.finding_publishing_frequency.map(|value| value.as_str().to_string());
        detector.features = output
            .features
            .unwrap_or_default()
            .into_iter()
            .filter_map(|feature| {
                Some(DetectorFeature { name: feature.name?.as_str().to_string(), status: feature.status.map(|status| status.as_str().to_string()) })
            })
            .collect();
        detector.tags = output.tags.unwrap_or_default().into_iter().collect();
    }
    detector
}
