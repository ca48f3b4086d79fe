//! The Parquet schema of each exported table, declared once: the Arrow schema the files are
//! written with and the table in `docs/export.md` are both generated from [`TABLES`]. Column
//! names are OCSF attribute names, nested as OCSF nests them, so a column's path is the OCSF
//! attribute it holds.

use std::fmt::Write as _;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit};

/// A column's type.
#[derive(Debug, Clone, Copy)]
pub enum Type {
    /// UTF-8 text (Parquet `STRING`); a number or boolean is written as its text.
    Text,
    /// Parquet `INT32`.
    Int32,
    /// Parquet `INT64`.
    Int64,
    /// Parquet `TIMESTAMP(MILLIS, UTC)`, from OCSF's milliseconds since the epoch.
    Timestamp,
    /// Any JSON value written as its JSON text (Parquet `STRING`): OCSF's free-form objects.
    Json,
    /// A list of texts.
    TextList,
    /// An OCSF object.
    Struct(&'static [Column]),
    /// A list of OCSF objects.
    StructList(&'static [Column]),
}

/// One column (or nested field) of a table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: Type,
    pub doc: &'static str,
}

const fn column(name: &'static str, kind: Type, doc: &'static str) -> Column {
    Column { name, kind, doc }
}

/// One exported table: its directory, the `--what` name, its OCSF class and columns.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// The directory under the destination (`findings/date=.../...`).
    pub name: &'static str,
    /// What the table holds and where its partition day comes from.
    pub about: &'static str,
    /// The OCSF class (or classes) of its rows.
    pub class: &'static str,
    pub columns: &'static [Column],
}

use Type::{Int32, Int64, Json, Struct, StructList, Text, TextList, Timestamp};

const PRODUCT: &[Column] =
    &[column("name", Text, "`vigil`"), column("vendor_name", Text, "`vigil`"), column("version", Text, "the vigil version that wrote the event")];

const ACCOUNT: &[Column] = &[column("uid", Text, "AWS account id"), column("type", Text, "`AWS Account`"), column("type_id", Int32, "10 (AWS Account)")];

const CLOUD: &[Column] = &[
    column("provider", Text, "`AWS`"),
    column("account", Struct(ACCOUNT), "the account"),
    column("region", Text, "AWS region (`global` for global resources)"),
];

const FINDING_METADATA: &[Column] = &[
    column("version", Text, "OCSF version (`1.3.0`)"),
    column("profiles", TextList, "`[cloud]`"),
    column("product", Struct(PRODUCT), "the product"),
    column("event_code", Text, "the check id"),
    column("uid", Text, "stable id of the finding (check and resource)"),
];

const FINDING_INFO: &[Column] = &[
    column("uid", Text, "stable id of the finding (check and resource)"),
    column("title", Text, "the check's title"),
    column("desc", Text, "the check's risk"),
    column("types", TextList, "the check's service"),
    column("created_time", Timestamp, "first seen"),
    column("first_seen_time", Timestamp, "first seen by a scan"),
    column("last_seen_time", Timestamp, "last seen by a scan"),
];

const COMPLIANCE: &[Column] = &[
    column("control", Text, "the check id"),
    column("requirements", TextList, "framework requirements (`cis-aws-5.0 1.4`, ...)"),
    column("standards", TextList, "frameworks"),
    column("status", Text, "`Pass`, `Fail`, `Warning` (error or muted)"),
    column("status_id", Int32, "1 Pass, 2 Warning, 3 Fail"),
];

const FINDING_RESOURCE: &[Column] = &[
    column("uid", Text, "ARN"),
    column("name", Text, "resource id"),
    column("type", Text, "CloudFormation type (`AWS::S3::Bucket`)"),
    column("region", Text, "region"),
    column("labels", TextList, "tags as `key=value`"),
    column("data", Json, "the check's evidence"),
];

const REMEDIATION: &[Column] = &[column("desc", Text, "how to fix it"), column("references", TextList, "links")];

const FINDING_UNMAPPED: &[Column] = &[
    column("mute_reason", Text, "why the finding is muted"),
    column("lifecycle", Text, "`new`, `open`, `muted`, `resolved`, `passing`"),
    column("resolved_time", Timestamp, "when it was resolved"),
];

const FINDING_COLUMNS: &[Column] = &[
    column("class_uid", Int32, "2003"),
    column("class_name", Text, "`Compliance Finding`"),
    column("category_uid", Int32, "2 (Findings)"),
    column("category_name", Text, "`Findings`"),
    column("activity_id", Int32, "1 (Create)"),
    column("activity_name", Text, "`Create`"),
    column("type_uid", Int64, "200301"),
    column("type_name", Text, "`Compliance Finding: Create`"),
    column("severity_id", Int32, "1 Informational .. 5 Critical"),
    column("severity", Text, "severity caption"),
    column("status_id", Int32, "1 New, 3 Suppressed (muted), 4 Resolved"),
    column("status", Text, "status caption"),
    column("status_code", Text, "`PASS`, `FAIL`, `ERROR`, `MUTED`"),
    column("status_detail", Text, "the mute reason, else the message"),
    column("message", Text, "what the check found"),
    column("time", Timestamp, "last seen by a scan"),
    column("metadata", Struct(FINDING_METADATA), "event metadata"),
    column("finding_info", Struct(FINDING_INFO), "the finding"),
    column("compliance", Struct(COMPLIANCE), "the control and its frameworks"),
    column("cloud", Struct(CLOUD), "where the resource lives"),
    column("resources", StructList(FINDING_RESOURCE), "the resource (one)"),
    column("remediation", Struct(REMEDIATION), "the fix"),
    column("unmapped", Struct(FINDING_UNMAPPED), "vigil's lifecycle"),
];

const EVENT_METADATA: &[Column] =
    &[column("version", Text, "OCSF version"), column("product", Struct(PRODUCT), "the product"), column("uid", Text, "the event's id")];

const RESOURCE_RESOURCE: &[Column] = &[
    column("uid", Text, "ARN"),
    column("name", Text, "own name, else resource id"),
    column("type", Text, "CloudFormation type"),
    column("region", Text, "region"),
    column("version", Text, "the store's configuration version (1, 2, ...)"),
    column("labels", TextList, "tags as `key=value`"),
    column("data", Json, "the latest configuration (AWS's field names; volatile fields left out)"),
];

const RESOURCE_UNMAPPED: &[Column] = &[
    column("resource_id", Text, "resource id"),
    column("state", Text, "`active`, `stopped`, `terminated`, `deleted`"),
    column("version", Int64, "configuration version"),
    column("first_seen_time", Timestamp, "first seen by a scan"),
    column("last_seen_time", Timestamp, "last seen by a scan"),
];

const RESOURCE_COLUMNS: &[Column] = &[
    column("class_uid", Int32, "5023"),
    column("class_name", Text, "`Cloud Resources Inventory Info`"),
    column("category_uid", Int32, "5 (Discovery)"),
    column("category_name", Text, "`Discovery`"),
    column("activity_id", Int32, "2 (Collect)"),
    column("activity_name", Text, "`Collect`"),
    column("type_uid", Int64, "502302"),
    column("type_name", Text, "`Cloud Resources Inventory Info: Collect`"),
    column("severity_id", Int32, "1 (Informational)"),
    column("severity", Text, "`Informational`"),
    column("time", Timestamp, "last seen by a scan"),
    column("status", Text, "`active`, `stopped`, `terminated`, `deleted`"),
    column("metadata", Struct(EVENT_METADATA), "event metadata (`uid`: ARN#version; OCSF `1.5.0`)"),
    column("cloud", Struct(CLOUD), "where the resource lives"),
    column("resources", StructList(RESOURCE_RESOURCE), "the resource (one)"),
    column("unmapped", Struct(RESOURCE_UNMAPPED), "vigil's state and history"),
];

const ALERT_ANALYTIC: &[Column] =
    &[column("uid", Text, "rule id"), column("name", Text, "rule title"), column("type_id", Int32, "1 (Rule)"), column("type", Text, "`Rule`")];

const RELATED_EVENT: &[Column] = &[
    column("uid", Text, "CloudTrail eventID, or agent/event id"),
    column("time", Timestamp, "event time"),
    column("product_uid", Text, "`cloudtrail` or `vigil-agent`"),
];

const ALERT_FINDING_INFO: &[Column] = &[
    column("uid", Text, "rule id:event id"),
    column("title", Text, "rule title"),
    column("types", TextList, "rule tags (ATT&CK)"),
    column("analytic", Struct(ALERT_ANALYTIC), "the rule"),
    column("related_events", StructList(RELATED_EVENT), "the event that matched"),
];

const ALERT_CLOUD: &[Column] = &[
    column("provider", Text, "`AWS`"),
    column("region", Text, "event region"),
    column("account", Struct(&[column("uid", Text, "AWS account id")]), "the account"),
];

const DEVICE: &[Column] = &[
    column("uid", Text, "agent id"),
    column("hostname", Text, "host name"),
    column("instance_uid", Text, "EC2 instance id"),
    column("region", Text, "region"),
    column("type_id", Int32, "6 (Virtual)"),
    column("type", Text, "`Virtual`"),
];

const ALERT_COLUMNS: &[Column] = &[
    column("class_uid", Int32, "2004"),
    column("class_name", Text, "`Detection Finding`"),
    column("category_uid", Int32, "2 (Findings)"),
    column("category_name", Text, "`Findings`"),
    column("activity_id", Int32, "1 (Create)"),
    column("activity_name", Text, "`Create`"),
    column("type_uid", Int64, "200401"),
    column("type_name", Text, "`Detection Finding: Create`"),
    column("severity_id", Int32, "from the rule's level"),
    column("severity", Text, "severity caption"),
    column("status_id", Int32, "1 (New)"),
    column("status", Text, "`New`"),
    column("time", Timestamp, "event time (the time it was stored when the event's is not a time)"),
    column("message", Text, "rule title"),
    column("metadata", Struct(EVENT_METADATA), "event metadata (OCSF `1.1.0`)"),
    column("finding_info", Struct(ALERT_FINDING_INFO), "the detection"),
    column("cloud", Struct(ALERT_CLOUD), "account and region"),
    column("actor", Struct(&[column("user", Struct(&[column("uid", Text, "principal ARN")]), "the principal")]), "who acted"),
    column("src_endpoint", Struct(&[column("ip", Text, "source address")]), "where from"),
    column(
        "api",
        Struct(&[column("operation", Text, "event name"), column("service", Struct(&[column("name", Text, "event source")]), "service")]),
        "the call",
    ),
    column("device", Struct(DEVICE), "the host (host alerts)"),
    column("unmapped", Struct(&[column("correlation", Json, "correlation details (correlation alerts)")]), "vigil's extras"),
];

const HOST_METADATA: &[Column] = &[
    column("version", Text, "OCSF version (`1.3.0`)"),
    column("profiles", TextList, "`[cloud, host]`"),
    column("product", Struct(PRODUCT), "the product"),
    column("uid", Text, "agent id/event id"),
    column("event_code", Text, "`module/kind`"),
    column("original_time", Text, "the time the agent gave"),
    column("logged_time", Timestamp, "when the server stored it"),
    column("sequence", Int64, "the agent's sequence number"),
];

const HOST_FINDING_INFO: &[Column] =
    &[column("uid", Text, "agent id/event id"), column("title", Text, "what was detected"), column("analytic", Struct(ALERT_ANALYTIC), "the rule")];

const HOST_EVENT_COLUMNS: &[Column] = &[
    column("class_uid", Int32, "by module and kind (table below); 5001 Device Inventory Info otherwise"),
    column("class_name", Text, "OCSF class name"),
    column("category_uid", Int32, "OCSF category"),
    column("category_name", Text, "OCSF category name"),
    column("activity_id", Int32, "File System Activity: 1 Create, 3 Update, 4 Delete (99 Other); Detection Finding: 1 Create; Device Inventory Info: 1 Log"),
    column("activity_name", Text, "activity caption"),
    column("type_uid", Int64, "class_uid * 100 + activity_id"),
    column("severity_id", Int32, "detections by level (malware: 4 High); else 1"),
    column("severity", Text, "severity caption"),
    column("time", Timestamp, "when the module produced it (received time when that is not a time)"),
    column("message", Text, "one line"),
    column("metadata", Struct(HOST_METADATA), "event metadata"),
    column("device", Struct(DEVICE), "the host"),
    column("cloud", Struct(ALERT_CLOUD), "the host's account and region"),
    column(
        "file",
        Struct(&[column("path", Text, "path"), column("name", Text, "file name"), column("type_id", Int32, "0 (Unknown)")]),
        "the file (File System Activity)",
    ),
    column(
        "actor",
        Struct(&[column("process", Struct(&[column("pid", Int64, "process id from the audit log")]), "the process")]),
        "who changed it (File System Activity)",
    ),
    column("finding_info", Struct(HOST_FINDING_INFO), "the detection (Detection Finding)"),
    column("raw_data", Text, "the module's record (JSON text)"),
];

/// The exported tables, in `--what` order.
pub const TABLES: &[Table] = &[
    Table {
        name: "findings",
        about: "Every finding in the store with its latest state; partition day: first seen (a finding stays in its partition, and each export rewrites it with the current state).",
        class: "Compliance Finding (2003), OCSF 1.3.0, `cloud` profile: the events of `vigil scan -o x.ocsf.json`, with when each was first and last seen",
        columns: FINDING_COLUMNS,
    },
    Table {
        name: "resources",
        about: "Every resource in the store with its latest configuration; partition day: first seen.",
        class: "Cloud Resources Inventory Info (5023), OCSF 1.5.0, `cloud` profile",
        columns: RESOURCE_COLUMNS,
    },
    Table {
        name: "alerts",
        about: "Every stored alert (CloudTrail detections, host detections, missing agents); partition day: the event's.",
        class: "Detection Finding (2004), OCSF 1.1.0, `cloud` and `host` profiles: the events of `vigil trail hunt --format ocsf`",
        columns: ALERT_COLUMNS,
    },
    Table {
        name: "host-events",
        about: "Every event agents reported; partition day: the event's; account and region: the agent's instance.",
        class: "by module and kind (below), OCSF 1.3.0, `cloud` and `host` profiles",
        columns: HOST_EVENT_COLUMNS,
    },
];

/// The table named `name`.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|table| table.name == name)
}

fn data_type(kind: Type) -> DataType {
    match kind {
        Text | Json => DataType::Utf8,
        Int32 => DataType::Int32,
        Int64 => DataType::Int64,
        Timestamp => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        TextList => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        Struct(columns) => DataType::Struct(fields(columns)),
        StructList(columns) => DataType::List(Arc::new(Field::new("item", DataType::Struct(fields(columns)), true))),
    }
}

/// The Arrow fields of columns (every field nullable).
pub fn fields(columns: &[Column]) -> Fields {
    columns.iter().map(|column| Field::new(column.name, data_type(column.kind), true)).collect()
}

/// The Arrow schema a table is written with.
pub fn arrow_schema(table: &Table) -> Schema {
    Schema::new(fields(table.columns))
}

/// The documented name of a type.
pub fn type_name(kind: Type) -> &'static str {
    match kind {
        Text => "STRING",
        Json => "STRING (JSON)",
        Int32 => "INT32",
        Int64 => "INT64",
        Timestamp => "TIMESTAMP(MILLIS, UTC)",
        TextList => "LIST<STRING>",
        Struct(_) => "STRUCT",
        StructList(_) => "LIST<STRUCT>",
    }
}

/// Every column and nested field as (path, type name, description): `finding_info.uid`,
/// `resources[].labels`.
pub fn leaves(columns: &[Column]) -> Vec<(String, &'static str, &'static str)> {
    let mut rows = Vec::new();
    add_leaves(columns, "", &mut rows);
    rows
}

fn add_leaves(columns: &[Column], prefix: &str, rows: &mut Vec<(String, &'static str, &'static str)>) {
    for column in columns {
        let path = format!("{prefix}{}", column.name);
        rows.push((path.clone(), type_name(column.kind), column.doc));
        match column.kind {
            Struct(children) => add_leaves(children, &format!("{path}."), rows),
            StructList(children) => add_leaves(children, &format!("{path}[]."), rows),
            _ => {}
        }
    }
}

/// The generated part of `docs/export.md`: each table's class and columns.
pub fn markdown() -> String {
    let mut page = String::new();
    for table in TABLES {
        let _ = writeln!(page, "### `{}`\n\n{} OCSF class: {}.\n", table.name, table.about, table.class);
        let _ = writeln!(page, "| Column (OCSF attribute) | Parquet type | Holds |\n|---|---|---|");
        for (path, kind, doc) in leaves(table.columns) {
            let _ = writeln!(page, "| `{path}` | {kind} | {doc} |");
        }
        let _ = writeln!(page);
    }
    let _ = writeln!(page, "### Agent events by module and kind\n\n| Module | Kind | OCSF class | Category |\n|---|---|---|---|");
    for (module, kind, class_uid, class_name, category_uid, category_name) in vigil_report::ocsf::HOST_EVENT_CLASSES {
        let _ = writeln!(page, "| `{module}` | `{kind}` | {class_name} ({class_uid}) | {category_name} ({category_uid}) |");
    }
    let _ = writeln!(page, "| any other (`inventory`, `packages`, `sca`, `vulns`, `firewall` snapshots...) | | Device Inventory Info (5001) | Discovery (5) |");
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEGIN: &str = "<!-- schema:begin (generated by vigil-export's schema.rs; VIGIL_BLESS=1 cargo test -p vigil-export rewrites it) -->\n";
    const END: &str = "<!-- schema:end -->";

    /// docs/export.md holds the schema generated from [`TABLES`]; `VIGIL_BLESS=1` rewrites it.
    #[test]
    fn docs_export_md_holds_the_schema_the_files_are_written_with() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/export.md");
        let page = std::fs::read_to_string(path).unwrap();
        let start = page.find(BEGIN).expect("docs/export.md has the schema:begin marker") + BEGIN.len();
        let end = page.find(END).expect("docs/export.md has the schema:end marker");
        let expected = markdown();
        if std::env::var_os("VIGIL_BLESS").is_some() {
            std::fs::write(path, format!("{}{}{}", &page[..start], expected, &page[end..])).unwrap();
            return;
        }
        assert_eq!(&page[start..end], expected, "docs/export.md is stale: run VIGIL_BLESS=1 cargo test -p vigil-export");
    }

    #[test]
    fn column_names_are_unique_within_each_object() {
        fn check(columns: &[Column], path: &str) {
            let mut names: Vec<&str> = columns.iter().map(|column| column.name).collect();
            names.sort_unstable();
            let count = names.len();
            names.dedup();
            assert_eq!(names.len(), count, "duplicate column in {path}");
            for column in columns {
                if let Struct(children) | StructList(children) = column.kind {
                    check(children, column.name);
                }
            }
        }
        for table in TABLES {
            check(table.columns, table.name);
        }
    }
}
