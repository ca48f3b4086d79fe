//! Queries for the console and its API: pages of findings and resources with filters (keyset
//! pagination on the row id, so page 1,000 costs what page 1 costs), muting by a person, and
//! the dashboard's counts.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::db::Param;
use crate::{Store, StoreError};

/// Filters for findings; every field is optional and they combine with AND.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FindingFilter {
    pub severity: Option<String>,
    pub status: Option<String>,
    pub lifecycle: Option<String>,
    pub check_id: Option<String>,
    pub service: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub resource_arn: Option<String>,
    /// Case-insensitive substring of the check id or the resource ARN.
    pub q: Option<String>,
    /// Order: by row id (the default), or `severity`, `check`, `resource`, `newest`. Every
    /// order pages by keyset: `after` is the id of the previous page's last row.
    pub sort: Option<String>,
    /// Only failing findings: lifecycle new or open (what the dashboard counts).
    pub failing: bool,
}

/// The orders of a findings page. Each has an index on (key, id) (migration 5), so any page
/// of any order costs about what the first one does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FindingOrder {
    Id,
    Newest,
    Severity,
    Check,
    Resource,
}

/// The value of a sorted order's key at a page's cursor.
enum SortKey {
    Rank(i64),
    Text(String),
}

const SEVERITY_RANK: &str = severity_rank!();

impl FindingOrder {
    fn parse(sort: &str) -> Result<Self, StoreError> {
        Ok(match sort {
            "" | "id" => Self::Id,
            "newest" => Self::Newest,
            "severity" => Self::Severity,
            "check" => Self::Check,
            "resource" => Self::Resource,
            other => return Err(StoreError::NotFound(format!("cannot sort findings by `{other}`: use severity, check, resource or newest"))),
        })
    }

    /// The sort key before the id, if any.
    fn key(self) -> Option<&'static str> {
        match self {
            Self::Id | Self::Newest => None,
            Self::Severity => Some(SEVERITY_RANK),
            Self::Check => Some("check_id"),
            Self::Resource => Some("resource_arn"),
        }
    }

    fn order_by(self) -> String {
        match (self, self.key()) {
            (Self::Newest, _) => "id DESC".to_string(),
            (_, Some(key)) => format!("{key}, id"),
            (_, None) => "id".to_string(),
        }
    }
}

/// One finding in a page.
#[derive(Debug, Clone, Serialize)]
pub struct FindingItem {
    pub id: i64,
    pub check_id: String,
    pub service: String,
    pub severity: String,
    pub status: String,
    pub lifecycle: String,
    pub account_id: String,
    pub region: String,
    pub resource_arn: String,
    pub resource_type: String,
    pub first_seen_at: String,
    pub resolved_at: Option<String>,
    pub user_mute_reason: Option<String>,
    /// When the person's mute was set.
    pub user_muted_at: Option<String>,
    pub detail: Value,
}

/// One change of a finding's status or lifecycle, in the scan that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingStep {
    pub scan_id: i64,
    /// PASS, FAIL, ERROR, MUTED, or ABSENT when the resource was gone.
    pub status: String,
    pub lifecycle: String,
    pub changed_at: String,
}

/// A page and the cursor of the next one (`None` on the last page).
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<i64>,
}

impl<T> Page<T> {
    /// A page from up to `limit + 1` rows read: the extra row only tells that a next page
    /// exists, whose cursor `cursor` gives from the page's last item.
    pub(crate) fn from_rows(mut items: Vec<T>, limit: usize, cursor: impl FnOnce(&T) -> i64) -> Page<T> {
        let next = if items.len() > limit { items.get(limit - 1).map(cursor) } else { None };
        items.truncate(limit);
        Page { items, next }
    }
}

/// Filters for resources.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ResourceFilter {
    pub resource_type: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub state: Option<String>,
    /// Case-insensitive substring of the ARN.
    pub q: Option<String>,
    /// `KEY` or `KEY=VALUE`: resources whose latest tags hold that key (with that value).
    pub tag: Option<String>,
}

/// One resource in a page.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceItem {
    pub id: i64,
    pub arn: String,
    pub resource_type: String,
    pub account_id: String,
    pub region: String,
    pub resource_id: String,
    pub state: String,
    pub version: i64,
    pub first_seen_at: String,
    pub tags: Value,
}

/// Counts for the dashboard.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Dashboard {
    /// Failing findings (lifecycle new or open) by severity, service, account and region.
    pub failing_by_severity: Vec<(String, i64)>,
    pub failing_by_service: Vec<(String, i64)>,
    pub failing_by_account: Vec<(String, i64)>,
    pub failing_by_region: Vec<(String, i64)>,
    /// Live resources by type.
    pub resources_by_type: Vec<(String, i64)>,
    /// Per full scan: id, finish time and its findings by status.
    pub trend: Vec<(i64, String, Value)>,
    /// Per framework: requirements passing, failing, in error, without resources, not
    /// covered by a check, and manual.
    pub compliance: Vec<FrameworkScore>,
}

/// A framework's requirements by status, from the current findings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FrameworkScore {
    pub framework: String,
    pub name: String,
    pub requirements: usize,
    pub by_status: std::collections::BTreeMap<String, usize>,
    /// Passing requirements out of those with a decision (pass, fail or error), in percent.
    pub score: Option<f64>,
}

/// The dimensions findings can be grouped by.
pub const GROUPS: &[&str] = &["check_id", "service", "severity", "account_id", "region", "status", "lifecycle"];

/// Facets of the inventory: live resources by type, account and region.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facets {
    pub resource_type: Vec<(String, i64)>,
    pub account_id: Vec<(String, i64)>,
    pub region: Vec<(String, i64)>,
}

/// `%text%` for LIKE, with LIKE's own wildcards in `text` taken literally (ESCAPE '\\').
fn contains(text: &str) -> String {
    let mut pattern = String::from("%");
    for character in text.chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}

/// The LIKE pattern that finds `KEY` or `KEY=VALUE` in a tags JSON object.
fn tag_pattern(tag: &str) -> String {
    let quoted = |text: &str| serde_json::to_string(text).unwrap_or_default();
    match tag.split_once('=') {
        Some((key, value)) => contains(&format!("{}:{}", quoted(key), quoted(value))),
        None => contains(&format!("{}:", quoted(tag))),
    }
}

fn like(text: &Option<String>) -> String {
    text.as_deref().map(|text| contains(&text.to_lowercase())).unwrap_or_default()
}

/// The columns every finding statement selects, in [`finding_item`]'s order.
const FINDING_COLUMNS: &str = "id, check_id, service, severity, status, lifecycle, account_id, region, resource_arn, resource_type, first_seen_at, resolved_at, user_mute_reason, detail, user_muted_at";

/// A finding from a row of [`FINDING_COLUMNS`].
fn finding_item(row: Vec<crate::db::Value>) -> FindingItem {
    let text = |index: usize| row.get(index).and_then(|value| value.text()).unwrap_or_default().to_string();
    let optional = |index: usize| row.get(index).and_then(|value| value.text()).map(str::to_string);
    FindingItem {
        id: row.first().and_then(|value| value.int()).unwrap_or_default(),
        check_id: text(1),
        service: text(2),
        severity: text(3),
        status: text(4),
        lifecycle: text(5),
        account_id: text(6),
        region: text(7),
        resource_arn: text(8),
        resource_type: text(9),
        first_seen_at: text(10),
        resolved_at: optional(11),
        user_mute_reason: optional(12),
        user_muted_at: optional(14),
        detail: serde_json::from_str(row.get(13).and_then(|value| value.text()).unwrap_or("null")).unwrap_or(Value::Null),
    }
}

impl Store {
    /// A page of findings after cursor `after` (a row id), newest rows last.
    pub fn findings_page(&mut self, filter: &FindingFilter, after: i64, limit: usize) -> Result<Page<FindingItem>, StoreError> {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let (severity, status, lifecycle, check, service, account, region, arn, q) = (
            text(&filter.severity),
            text(&filter.status),
            text(&filter.lifecycle),
            text(&filter.check_id),
            text(&filter.service),
            text(&filter.account_id),
            text(&filter.region),
            text(&filter.resource_arn),
            like(&filter.q),
        );
        let limit = limit.clamp(1, 10_000);
        let order = FindingOrder::parse(filter.sort.as_deref().unwrap_or_default())?;
        // Every order pages by keyset: `after` is the id of the last row of the previous page.
        // For a sorted order, the next page starts after that row's (sort key, id), so a deep
        // page walks the order's index from there, like the first.
        // On the first page the cursor is before every row: id 0 (or past the last id, newest
        // first), and a key below every key (see `sort_key_of`).
        let position = match order.key() {
            None if order == FindingOrder::Newest => "id < $1".to_string(),
            None => "id > $1".to_string(),
            Some(key) => format!("({key}, id) > ($13, $1)"),
        };
        let from = if order == FindingOrder::Newest && after == 0 { i64::MAX } else { after };
        let cursor_key = self.sort_key_of(order, after)?;
        let cursor = match &cursor_key {
            SortKey::Rank(rank) => Param::Int(*rank),
            SortKey::Text(text) => Param::Text(text),
        };
        let params = [
            Param::Int(from),
            Param::Text(&severity),
            Param::Text(&status),
            Param::Text(&lifecycle),
            Param::Text(&check),
            Param::Text(&service),
            Param::Text(&account),
            Param::Text(&region),
            Param::Text(&arn),
            Param::Text(&q),
            Param::Int(limit as i64 + 1),
            Param::Text(if filter.failing { "1" } else { "" }),
            cursor,
        ];
        // The cursor's key ($13) is a parameter only of the sorted orders' statements.
        let used = if order.key().is_some() { params.len() } else { params.len() - 1 };
        let rows = self.db.rows(
            &format!(
                "SELECT {FINDING_COLUMNS}
                 FROM findings WHERE {position}
                   AND ($2 = '' OR severity = $2) AND ($3 = '' OR status = $3) AND ($4 = '' OR lifecycle = $4) AND ($5 = '' OR check_id = $5)
                   AND ($6 = '' OR service = $6) AND ($7 = '' OR account_id = $7) AND ($8 = '' OR region = $8) AND ($9 = '' OR resource_arn = $9)
                   AND ($12 = '' OR lifecycle IN ('new', 'open'))
                   AND ($10 = '' OR LOWER(check_id) LIKE $10 ESCAPE '\\' OR LOWER(resource_arn) LIKE $10 ESCAPE '\\')
                 ORDER BY {} LIMIT $11",
                order.order_by()
            ),
            &params[..used],
        )?;
        let items: Vec<FindingItem> = rows.into_iter().map(finding_item).collect();
        Ok(Page::from_rows(items, limit, |last| last.id))
    }

    /// The sort key of finding `after` (the cursor of a sorted page): a severity rank or a
    /// text. On the first page, a key below every key (rank -1, the empty text).
    fn sort_key_of(&mut self, order: FindingOrder, after: i64) -> Result<SortKey, StoreError> {
        let placeholder = if order == FindingOrder::Severity { SortKey::Rank(-1) } else { SortKey::Text(String::new()) };
        let Some(key) = order.key().filter(|_| after != 0) else {
            return Ok(placeholder);
        };
        let row = self.db.row(&format!("SELECT {key} FROM findings WHERE id = $1"), &[Param::Int(after)])?;
        let value = row.and_then(|row| row.into_iter().next()).ok_or_else(|| StoreError::NotFound(format!("no finding {after} to page after")))?;
        Ok(match (value.int(), value.text()) {
            (Some(rank), _) => SortKey::Rank(rank),
            (None, Some(text)) => SortKey::Text(text.to_string()),
            (None, None) => placeholder,
        })
    }

    /// One finding by its row id.
    pub fn finding(&mut self, id: i64) -> Result<Option<FindingItem>, StoreError> {
        let page = self.findings_page(&FindingFilter::default(), id - 1, 1)?;
        Ok(page.items.into_iter().find(|item| item.id == id))
    }

    /// A page of resources after cursor `after` (a row id).
    pub fn resources_page(&mut self, filter: &ResourceFilter, after: i64, limit: usize) -> Result<Page<ResourceItem>, StoreError> {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let (kind, account, region, state, q) =
            (text(&filter.resource_type), text(&filter.account_id), text(&filter.region), text(&filter.state), like(&filter.q));
        let tag = filter.tag.as_deref().filter(|tag| !tag.is_empty()).map(tag_pattern).unwrap_or_default();
        let limit = limit.clamp(1, 10_000);
        let rows = self.db.rows(
            "SELECT r.id, r.arn, r.resource_type, r.account_id, r.region, r.resource_id, r.state, r.version, r.first_seen_at, v.tags
             FROM resources r LEFT JOIN resource_versions v ON v.resource = r.id AND v.version = r.version
             WHERE r.id > $1 AND ($2 = '' OR r.resource_type = $2) AND ($3 = '' OR r.account_id = $3) AND ($4 = '' OR r.region = $4)
               AND ($5 = '' OR r.state = $5) AND ($6 = '' OR LOWER(r.arn) LIKE $6 ESCAPE '\\') AND ($8 = '' OR v.tags LIKE $8 ESCAPE '\\')
             ORDER BY r.id LIMIT $7",
            &[
                Param::Int(after),
                Param::Text(&kind),
                Param::Text(&account),
                Param::Text(&region),
                Param::Text(&state),
                Param::Text(&q),
                Param::Int(limit as i64 + 1),
                Param::Text(&tag),
            ],
        )?;
        let items: Vec<ResourceItem> = rows
            .into_iter()
            .map(|row| {
                let text = |index: usize| row[index].text().unwrap_or_default().to_string();
                ResourceItem {
                    id: row[0].int().unwrap_or_default(),
                    arn: text(1),
                    resource_type: text(2),
                    account_id: text(3),
                    region: text(4),
                    resource_id: text(5),
                    state: text(6),
                    version: row[7].int().unwrap_or_default(),
                    first_seen_at: text(8),
                    tags: serde_json::from_str(row[9].text().unwrap_or("{}")).unwrap_or(Value::Null),
                }
            })
            .collect();
        Ok(Page::from_rows(items, limit, |last| last.id))
    }

    /// Mutes a finding with a person's reason (kept until unmuted; rescans keep it muted).
    pub fn mute_finding(&mut self, id: i64, reason: &str) -> Result<bool, StoreError> {
        self.change_finding(
            id,
            "UPDATE findings SET user_mute_reason = $2, user_muted_at = $3, lifecycle = CASE WHEN status IN ('FAIL', 'ERROR') THEN 'muted' ELSE lifecycle END WHERE id = $1",
            Some(reason),
        )
    }

    /// Removes a person's mute; a failing finding is open again.
    pub fn unmute_finding(&mut self, id: i64) -> Result<bool, StoreError> {
        self.change_finding(
            id,
            "UPDATE findings SET user_mute_reason = NULL, user_muted_at = NULL, lifecycle = CASE WHEN lifecycle = 'muted' AND status IN ('FAIL', 'ERROR') THEN 'open' ELSE lifecycle END WHERE id = $1",
            None,
        )
    }

    /// Applies a mute or unmute and moves the finding between the dashboard's counts, in one
    /// transaction.
    fn change_finding(&mut self, id: i64, update: &str, reason: Option<&str>) -> Result<bool, StoreError> {
        self.db.begin_write()?;
        let result = (|| {
            let Some(before) = crate::counts::key_of(&mut self.db, id)? else { return Ok(false) };
            match reason {
                Some(reason) => self.db.exec(update, &[Param::Int(id), Param::Text(reason), Param::Text(&chrono::Utc::now().to_rfc3339())])?,
                None => self.db.exec(update, &[Param::Int(id)])?,
            };
            let after = self.db.row("SELECT lifecycle FROM findings WHERE id = $1", &[Param::Int(id)])?;
            let after = after.and_then(|row| row.into_iter().next()).and_then(|value| value.into_text()).unwrap_or_default();
            crate::counts::shift(&mut self.db, &before, &after)?;
            Ok(true)
        })();
        match result {
            Ok(changed) => {
                self.db.commit()?;
                Ok(changed)
            }
            Err(error) => {
                self.db.rollback();
                Err(error)
            }
        }
    }

    /// Current findings (not resolved) grouped by one of [`GROUPS`], failing ones (new, open)
    /// only when `failing`; largest groups first.
    pub fn finding_groups(&mut self, by: &str, failing: bool) -> Result<Vec<(String, i64)>, StoreError> {
        self.finding_groups_filtered(by, &FindingFilter { failing, ..FindingFilter::default() })
    }

    /// The same with every filter of `filter` applied. Without `q` and `resource_arn` they are
    /// read from the count tables (a few thousand rows whatever the size of the store); with
    /// either, from the findings themselves. Without a lifecycle, resolved findings are left
    /// out. Largest groups first; grouped by severity, critical first ([`crate::severity_rank`]).
    pub fn finding_groups_filtered(&mut self, by: &str, filter: &FindingFilter) -> Result<Vec<(String, i64)>, StoreError> {
        let Some(column) = GROUPS.iter().find(|column| **column == by) else {
            return Err(StoreError::NotFound(format!("cannot group findings by `{by}`: use one of {}", GROUPS.join(", "))));
        };
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let values = [
            text(&filter.severity),
            text(&filter.status),
            text(&filter.lifecycle),
            text(&filter.check_id),
            text(&filter.service),
            text(&filter.account_id),
            text(&filter.region),
            if filter.failing { "1".to_string() } else { String::new() },
            text(&filter.resource_arn),
            like(&filter.q),
        ];
        let searched = !values[8].is_empty() || !values[9].is_empty();
        let (source, count, search) = if searched {
            (
                "findings",
                "COUNT(*)",
                "AND ($9 = '' OR resource_arn = $9) AND ($10 = '' OR LOWER(check_id) LIKE $10 ESCAPE '\\' OR LOWER(resource_arn) LIKE $10 ESCAPE '\\')",
            )
        } else {
            ("finding_counts", "SUM(n)", "")
        };
        let used = if searched { values.len() } else { 8 };
        let params: Vec<Param<'_>> = values.iter().take(used).map(|value| Param::Text(value)).collect();
        let order = if *column == "severity" { SEVERITY_RANK } else { "2 DESC, 1" };
        let rows = self.db.rows(
            &format!(
                "SELECT {column}, CAST({count} AS BIGINT) FROM {source}
                 WHERE ($1 = '' OR severity = $1) AND ($2 = '' OR status = $2) AND (($3 = '' AND lifecycle <> 'resolved') OR lifecycle = $3)
                   AND ($4 = '' OR check_id = $4) AND ($5 = '' OR service = $5) AND ($6 = '' OR account_id = $6) AND ($7 = '' OR region = $7)
                   AND ($8 = '' OR lifecycle IN ('new', 'open')) {search}
                 GROUP BY {column} ORDER BY {order}"
            ),
            &params,
        )?;
        Ok(rows.into_iter().filter_map(|row| Some((row[0].text()?.to_string(), row[1].int()?))).collect())
    }

    /// The top risks: failing (new or open) critical and high findings on resources the latest
    /// analysed scan found reachable from the internet, critical first. Read from the exposed
    /// resources (usually a few hundred) through the findings' index on the resource.
    pub fn exposed_failing_findings(&mut self, limit: usize) -> Result<Vec<FindingItem>, StoreError> {
        let Some(scan) = self.analysed_scan()? else { return Ok(Vec::new()) };
        let rows = self.db.rows(
            &format!(
                "SELECT {FINDING_COLUMNS} FROM findings
                 WHERE resource_arn IN (SELECT subject FROM analyses WHERE scan_id = $1 AND kind = $2)
                   AND lifecycle IN ('new', 'open') AND severity IN ('critical', 'high')
                 ORDER BY {SEVERITY_RANK}, id LIMIT $3"
            ),
            &[
                Param::Int(scan),
                Param::Text(<vigil_model::analysis::Exposure as vigil_model::analysis::AnalysisKind>::KIND),
                Param::Int(limit.clamp(1, 10_000) as i64),
            ],
        )?;
        Ok(rows.into_iter().map(finding_item).collect())
    }

    /// A finding's timeline across scans, oldest first: each scan that changed its status or
    /// lifecycle, with when.
    pub fn finding_history(&mut self, id: i64) -> Result<Vec<FindingStep>, StoreError> {
        let rows = self.db.rows("SELECT scan_id, status, lifecycle, changed_at FROM finding_changes WHERE finding = $1 ORDER BY scan_id", &[Param::Int(id)])?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let text = |index: usize| row.get(index).and_then(|value| value.text()).unwrap_or_default().to_string();
                FindingStep { scan_id: row.first().and_then(|value| value.int()).unwrap_or_default(), status: text(1), lifecycle: text(2), changed_at: text(3) }
            })
            .collect())
    }

    /// The inventory's facets: live resources by type, account and region.
    pub fn facets(&mut self) -> Result<Facets, StoreError> {
        let mut facet = |column: &str| {
            self.counts(&format!(
                "SELECT {column}, CAST(SUM(n) AS BIGINT) FROM resource_counts WHERE state IN ('active', 'stopped') GROUP BY {column} ORDER BY 2 DESC, 1"
            ))
        };
        Ok(Facets { resource_type: facet("resource_type")?, account_id: facet("account_id")?, region: facet("region")? })
    }

    fn counts(&mut self, sql: &str) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(self.db.rows(sql, &[])?.into_iter().filter_map(|row| Some((row[0].text()?.to_string(), row[1].int()?))).collect())
    }

    /// Each check's current findings (not resolved) as [pass, fail, error, muted] counts, the
    /// input of a framework's compliance summary.
    pub fn check_counts(&mut self) -> Result<std::collections::HashMap<String, [usize; 4]>, StoreError> {
        let rows = self.db.rows(
            "SELECT check_id, status, lifecycle, CAST(SUM(n) AS BIGINT) FROM finding_counts WHERE lifecycle <> 'resolved' GROUP BY check_id, status, lifecycle",
            &[],
        )?;
        let mut by_check: std::collections::HashMap<String, [usize; 4]> = std::collections::HashMap::new();
        for row in rows {
            let (Some(check), Some(status), Some(lifecycle), Some(count)) = (row[0].text(), row[1].text(), row[2].text(), row[3].int()) else { continue };
            let slot = match (status, lifecycle) {
                (_, "muted") | ("MUTED", _) => 3,
                ("PASS", _) => 0,
                ("FAIL", _) => 1,
                _ => 2,
            };
            by_check.entry(check.to_string()).or_default()[slot] += count.max(0) as usize;
        }
        Ok(by_check)
    }

    /// Each framework's requirements by status, from the current findings.
    pub fn compliance(&mut self) -> Result<Vec<FrameworkScore>, StoreError> {
        let by_check = self.check_counts()?;
        Ok(vigil_checks::frameworks::FRAMEWORKS
            .iter()
            .map(|framework| {
                let rows = vigil_checks::frameworks::summarize_counts(framework, |check| by_check.get(check).copied().unwrap_or_default());
                let mut by_status = std::collections::BTreeMap::new();
                for row in &rows {
                    *by_status.entry(row.status.as_str().to_string()).or_insert(0) += 1;
                }
                let decided: usize = ["PASS", "FAIL", "ERROR"].iter().map(|status| by_status.get(*status).copied().unwrap_or(0)).sum();
                let score = (decided > 0).then(|| 100.0 * by_status.get("PASS").copied().unwrap_or(0) as f64 / decided as f64);
                FrameworkScore { framework: framework.id.to_string(), name: framework.name.to_string(), requirements: rows.len(), by_status, score }
            })
            .collect())
    }

    /// The dashboard's counts, read from the count tables (a few thousand rows whatever the
    /// size of the store).
    pub fn dashboard(&mut self) -> Result<Dashboard, StoreError> {
        let mut dashboard = Dashboard {
            failing_by_severity: self.finding_groups("severity", true)?,
            failing_by_service: self.finding_groups("service", true)?,
            failing_by_account: self.finding_groups("account_id", true)?,
            failing_by_region: self.finding_groups("region", true)?,
            resources_by_type: self.facets()?.resource_type,
            trend: Vec::new(),
            compliance: self.compliance()?,
        };
        let rows = self.db.rows("SELECT id, finished_at, summary FROM scans WHERE kind = 'scan' ORDER BY id DESC LIMIT 30", &[])?;
        dashboard.trend = rows
            .into_iter()
            .rev()
            .map(|row| {
                let summary: Value = serde_json::from_str(row[2].text().unwrap_or("{}")).unwrap_or(Value::Null);
                (row[0].int().unwrap_or_default(), row[1].text().unwrap_or_default().to_string(), summary["by_status"].clone())
            })
            .collect();
        Ok(dashboard)
    }
}
