//! The single-file HTML report: inline CSS, JS and SVG, a CSP that forbids any network
//! request, filters by severity, service, status and framework, and every finding with its
//! evidence and remediation. Everything that came from AWS or the user is HTML-escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use vigil_checks::{Finding, Severity, Status};

use crate::{ScanInfo, metadata};

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            character => out.push(character),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:16px 24px}header h1{margin:0 0 4px;font-size:20px}header p{margin:0;color:#c9cfdb}
main{padding:16px 24px}section.charts{display:flex;gap:24px;flex-wrap:wrap}figure{background:#fff;border-radius:6px;padding:12px 16px;margin:0;box-shadow:0 1px 2px #0002}
figcaption{font-weight:600;margin-bottom:6px}.filters{margin:16px 0;display:flex;gap:12px;flex-wrap:wrap;align-items:center}select,input{font:inherit;padding:4px}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px #0002}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e3e6eb;vertical-align:top}
th{background:#eef0f4;position:sticky;top:0}.st{font-weight:700;border-radius:3px;padding:1px 6px;color:#fff;font-size:12px}
.FAIL{background:#c62828}.ERROR{background:#ef6c00}.PASS{background:#2e7d32}.MUTED{background:#757575}
.sev-critical{color:#8e0000;font-weight:700}.sev-high{color:#c62828;font-weight:600}.sev-medium{color:#ef6c00}.sev-low{color:#546e7a}.sev-informational{color:#78909c}
details pre{background:#f0f2f5;padding:8px;overflow:auto;max-height:300px;white-space:pre-wrap}code{font-size:12px}.muted{color:#666}";

const SCRIPT: &str = "(function(){var ids=['f-status','f-severity','f-service','f-framework','f-text'];
function apply(){var v={};ids.forEach(function(id){v[id]=document.getElementById(id).value.toLowerCase();});var shown=0;
document.querySelectorAll('tbody tr.finding').forEach(function(row){var ok=(!v['f-status']||row.dataset.status===v['f-status'])&&(!v['f-severity']||row.dataset.severity===v['f-severity'])&&(!v['f-service']||row.dataset.service===v['f-service'])&&(!v['f-framework']||(' '+row.dataset.frameworks+' ').indexOf(' '+v['f-framework']+' ')>=0)&&(!v['f-text']||row.textContent.toLowerCase().indexOf(v['f-text'])>=0);
row.hidden=!ok;if(ok){shown++;}});document.getElementById('shown').textContent=String(shown);}
ids.forEach(function(id){var e=document.getElementById(id);e.addEventListener('input',apply);e.addEventListener('change',apply);});apply();document.body.setAttribute('data-ready','1');})();";

fn bar_chart(rows: &[(String, usize, &str)]) -> String {
    let maximum = rows.iter().map(|(_, count, _)| *count).max().unwrap_or(0).max(1);
    let height = rows.len() * 24 + 8;
    let mut svg = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"360\" height=\"{height}\" role=\"img\">");
    for (index, (label, count, colour)) in rows.iter().enumerate() {
        let y = index * 24 + 4;
        let width = (count * 220) / maximum;
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text><rect x=\"100\" y=\"{y}\" width=\"{width}\" height=\"18\" fill=\"{colour}\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{count}</text>",
            y + 13,
            escape(label),
            100 + width + 6,
            y + 13
        );
    }
    svg.push_str("</svg>");
    svg
}

fn options(values: impl IntoIterator<Item = String>) -> String {
    values.into_iter().map(|value| format!("<option value=\"{0}\">{0}</option>", escape(&value))).collect()
}

/// The whole report as one HTML document.
pub fn html(info: &ScanInfo, findings: &[Finding]) -> String {
    let count = |status: Status| findings.iter().filter(|finding| finding.status == status).count();
    let status_rows = vec![
        ("FAIL".to_string(), count(Status::Fail), "#c62828"),
        ("ERROR".to_string(), count(Status::Error), "#ef6c00"),
        ("PASS".to_string(), count(Status::Pass), "#2e7d32"),
        ("MUTED".to_string(), count(Status::Muted), "#757575"),
    ];
    let severities = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Informational];
    let severity_rows: Vec<(String, usize, &str)> = severities
        .iter()
        .map(|severity| {
            (
                severity.as_str().to_string(),
                findings.iter().filter(|finding| finding.status == Status::Fail && finding.severity == *severity).count(),
                "#b71c1c",
            )
        })
        .collect();
    let mut failed_by_service: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in findings.iter().filter(|finding| finding.status == Status::Fail) {
        *failed_by_service.entry(finding.service.as_str()).or_default() += 1;
    }
    let mut service_rows: Vec<(String, usize, &str)> = failed_by_service.iter().map(|(service, count)| (service.to_string(), *count, "#37474f")).collect();
    service_rows.sort_by_key(|row| std::cmp::Reverse(row.1));
    service_rows.truncate(10);

    let mut services: Vec<String> = findings.iter().map(|finding| finding.service.to_string()).collect();
    services.sort();
    services.dedup();
    let frameworks: Vec<String> = vigil_checks::frameworks::FRAMEWORKS.iter().map(|framework| framework.id.to_string()).collect();

    let mut page = String::with_capacity(4096 + findings.len() * 1500);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    page.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
    );
    page.push_str("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    let _ = write!(page, "<title>vigil report: account {}</title><style>{STYLE}</style></head><body>", escape(&info.account_id));
    let _ = write!(
        page,
        "<header><h1>vigil posture report</h1><p>Account {} &middot; regions {} &middot; collected {} &middot; report generated {} by vigil {}</p></header><main>",
        escape(&info.account_id),
        escape(&info.regions.join(", ")),
        escape(&info.collected_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        escape(&info.generated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        escape(&info.vigil_version)
    );
    let _ = write!(
        page,
        "<section class=\"charts\"><figure><figcaption>Findings by status</figcaption>{}</figure><figure><figcaption>Failed by severity</figcaption>{}</figure><figure><figcaption>Failed by service (top 10)</figcaption>{}</figure></section>",
        bar_chart(&status_rows),
        bar_chart(&severity_rows),
        bar_chart(&service_rows)
    );
    let _ = write!(
        page,
        "<div class=\"filters\"><label>Status <select id=\"f-status\"><option value=\"\">all</option>{}</select></label><label>Severity <select id=\"f-severity\"><option value=\"\">all</option>{}</select></label><label>Service <select id=\"f-service\"><option value=\"\">all</option>{}</select></label><label>Framework <select id=\"f-framework\"><option value=\"\">all</option>{}</select></label><label>Search <input id=\"f-text\" type=\"search\"></label><span class=\"muted\"><span id=\"shown\">{}</span> of {} findings shown</span></div>",
        options(["fail", "error", "pass", "muted"].map(String::from)),
        options(severities.iter().map(|severity| severity.as_str().to_string())),
        options(services),
        options(frameworks),
        findings.len(),
        findings.len()
    );
    page.push_str("<table><thead><tr><th>Status</th><th>Severity</th><th>Check</th><th>Resource</th><th>Region</th><th>Details</th></tr></thead><tbody>");
    for finding in findings {
        let check = metadata(finding);
        let frameworks: Vec<&str> = check.map(|metadata| metadata.frameworks.iter().map(|(framework, _)| *framework).collect()).unwrap_or_default();
        let requirements: Vec<String> = crate::requirements(finding);
        let _ = write!(
            page,
            "<tr class=\"finding\" data-status=\"{}\" data-severity=\"{}\" data-service=\"{}\" data-frameworks=\"{}\"><td><span class=\"st {}\">{}</span></td><td class=\"sev-{}\">{}</td><td><code>{}</code><br>{}</td><td><code>{}</code><br><span class=\"muted\">{}</span></td><td>{}</td><td>{}",
            finding.status.as_str().to_ascii_lowercase(),
            finding.severity.as_str(),
            escape(&finding.service.to_ascii_lowercase()),
            escape(&frameworks.join(" ")),
            finding.status.as_str(),
            finding.status.as_str(),
            finding.severity.as_str(),
            finding.severity.as_str(),
            escape(&finding.check_id),
            escape(&finding.check_title),
            escape(&finding.resource_id),
            escape(&finding.resource_arn),
            escape(&finding.region),
            escape(&finding.message)
        );
        if let Some(reason) = &finding.mute_reason {
            let _ = write!(page, "<br><em>Muted: {}</em>", escape(reason));
        }
        page.push_str("<details><summary>Evidence and remediation</summary>");
        if !finding.resource_tags.is_empty() {
            let tags: Vec<String> = finding.resource_tags.iter().map(|(key, value)| format!("{key}={value}")).collect();
            let _ = write!(page, "<p>Tags: {}</p>", escape(&tags.join(", ")));
        }
        let evidence = serde_json::to_string_pretty(&finding.evidence.to_value()).unwrap_or_default();
        let _ = write!(page, "<p>Evidence:</p><pre>{}</pre>", escape(&evidence));
        if let Some(check) = check {
            let _ = write!(
                page,
                "<p>{}</p><p><strong>Remediation.</strong> {}</p><p>AWS CLI:</p><pre>{}</pre><p>Terraform:</p><pre>{}</pre>",
                escape(check.risk),
                escape(check.remediation.text),
                escape(check.remediation.cli),
                escape(check.remediation.terraform)
            );
            if !requirements.is_empty() {
                let _ = write!(page, "<p>Frameworks: {}</p>", escape(&requirements.join(", ")));
            }
            let references: Vec<String> = check.references.iter().map(|reference| format!("<code>{}</code>", escape(reference))).collect();
            let _ = write!(page, "<p>References: {}</p>", references.join(" "));
        }
        page.push_str("</details></td></tr>");
    }
    let _ = writeln!(page, "</tbody></table></main><script>{SCRIPT}</script></body></html>");
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_findings::{findings, info};

    #[test]
    fn the_report_is_self_contained_and_escapes_everything_from_aws() {
        let page = html(&info(), &findings());
        assert!(page.contains("default-src 'none'"));
        assert!(!page.contains("<script>alert(1)"), "a tag value must not become markup");
        assert!(page.contains("owner=&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&lt;b&gt;bold&lt;/b&gt;"));
        for external in ["http://", "https://", "src=\"", "<link", "@import", "url("] {
            let outside_references = page.replace("http://www.w3.org/2000/svg", "");
            let body_without_references: String =
                outside_references.split("<code>https://").map(|part| part.split_once("</code>").map(|(_, rest)| rest).unwrap_or(part)).collect();
            assert!(!body_without_references.contains(external), "`{external}` could load something");
        }
        assert_eq!(page.matches("<tr class=\"finding\"").count(), 4);
        assert!(page.contains("data-frameworks=\"cis-aws-5.0"));
        assert!(page.contains("Remediation.") && page.contains("Terraform:"));
        assert!(page.contains("<em>Muted: public website</em>"));
    }

    /// Opens the report in headless Chromium: it must render, run its script, log no console
    /// error and attempt no network request (the CSP would refuse it and Chromium would log
    /// the refusal). Skips with a message when Chromium is not installed.
    #[test]
    fn the_report_opens_in_headless_chromium_without_errors_or_network() {
        let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
            .into_iter()
            .find(|name| std::process::Command::new(name).arg("--version").output().is_ok_and(|output| output.status.success()))
        else {
            eprintln!("skipped: no chromium on PATH (apt-get install -y chromium)");
            return;
        };
        let directory = std::env::temp_dir().join(format!("vigil-report-test-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let report = directory.join("report.html");
        std::fs::write(&report, html(&info(), &findings())).unwrap();
        let output = std::process::Command::new(chromium)
            .args(["--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000"])
            .arg(format!("--user-data-dir={}", directory.join("profile").display()))
            .arg("--dump-dom")
            .arg(format!("file://{}", report.display()))
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&directory);
        let dom = String::from_utf8_lossy(&output.stdout);
        let log = String::from_utf8_lossy(&output.stderr);
        assert!(dom.contains("<span id=\"shown\">4</span>"), "the page did not render: {log}");
        assert!(dom.contains("data-ready=\"1\""), "the page's script did not run: {log}");
        assert!(!dom.contains("<script>alert(1)"), "a tag value became markup");
        let console_errors: Vec<&str> =
            log.lines().filter(|line| line.contains("CONSOLE") || line.contains("Uncaught") || line.contains("Content Security Policy")).collect();
        assert!(console_errors.is_empty(), "{console_errors:?}");
        assert!(!log.contains("Refused to"), "a request was attempted: {log}");
    }
}
