//! Tests of the Sigma engine: one data-driven case per modifier and condition form, the
//! SigmaHQ CloudTrail rules, and the compiled matcher against the naive interpreter.

use std::path::PathBuf;

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::value::{Fields, Value};

fn compile(detection: &str) -> Result<Rule, String> {
    let text = format!("title: t\nid: r\nlogsource: {{product: aws, service: cloudtrail}}\ndetection:\n{}", indent(detection));
    let options = CompileOptions {
        placeholders: [("admins".to_string(), vec!["alice".to_string(), "bob".to_string()])].into_iter().collect(),
        ..CompileOptions::default()
    };
    let loaded = load_text(&text, "test", &options);
    match (loaded.rules.into_iter().next(), loaded.rejected.into_iter().next()) {
        (Some(rule), _) => Ok(rule),
        (None, Some(rejected)) => Err(rejected.reason),
        (None, None) => Err("nothing loaded".to_string()),
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("    {line}\n")).collect()
}

/// Compiles `detection` and checks it against `event`, and the naive interpreter agrees.
fn check(detection: &str, event: serde_json::Value, expected: bool) {
    let rule = compile(detection).unwrap_or_else(|error| panic!("{detection}: {error}"));
    let value = Value::from_json(&event);
    assert_eq!(rule.matches(&value), expected, "compiled: {detection} on {event}");
    let (set, rejected) = RuleSet::new(Loaded { rules: vec![rule], ..Loaded::default() });
    assert!(rejected.is_empty());
    let mut matched = Vec::new();
    set.matches(&value, &mut matched);
    assert_eq!(!matched.is_empty(), expected, "indexed: {detection} on {event}");
    let text = event.to_string();
    let selected = Value::parse_fields(text.as_bytes(), &set.fields).unwrap();
    assert_eq!(set.rules[0].matches(&selected), expected, "parsed for {:?}: {detection} on {event}", set.fields);
}

fn check_rejected(detection: &str, expected_reason: &str) {
    match compile(detection) {
        Ok(_) => panic!("{detection} should be rejected"),
        Err(reason) => assert!(reason.contains(expected_reason), "{reason} should contain {expected_reason}"),
    }
}

#[test]
fn plain_values_wildcards_and_case() {
    let event = json!({"eventName": "DeleteTrail", "eventSource": "cloudtrail.amazonaws.com", "userAgent": "aws-cli/2.0 a*b?c\\d"});
    check("sel: {eventName: DeleteTrail}\ncondition: sel", event.clone(), true);
    check("sel: {eventName: deletetrail}\ncondition: sel", event.clone(), true);
    check("sel: {eventName|cased: deletetrail}\ncondition: sel", event.clone(), false);
    check("sel: {eventName: Delete*}\ncondition: sel", event.clone(), true);
    check("sel: {eventName: '*Trail'}\ncondition: sel", event.clone(), true);
    check("sel: {eventName: 'D?leteTrail'}\ncondition: sel", event.clone(), true);
    check("sel: {eventName: 'D?Trail'}\ncondition: sel", event.clone(), false);
    check("sel: {eventName: 'Del*Tr?il'}\ncondition: sel", event.clone(), true);
    check("sel: {eventName: [StopLogging, DeleteTrail]}\ncondition: sel", event.clone(), true);
    check("sel: {eventName: [StopLogging, UpdateTrail]}\ncondition: sel", event.clone(), false);
    check(
        r"sel: {userAgent|endswith: 'a\*b\?c\d'}
condition: sel",
        event.clone(),
        true,
    );
    check(
        r"sel: {userAgent|endswith: 'a\*bxc\d'}
condition: sel",
        event.clone(),
        false,
    );
    check(
        r"sel: {userAgent|contains: 'b\?c\\d'}
condition: sel",
        event.clone(),
        true,
    );
    check("sel: {eventName: DeleteTrail, eventSource: cloudtrail.amazonaws.com}\ncondition: sel", event.clone(), true);
    check("sel: {eventName: DeleteTrail, eventSource: s3.amazonaws.com}\ncondition: sel", event, false);
}

#[test]
fn string_modifiers() {
    let event = json!({"userAgent": "Mozilla/5.0 (X11; Kali Linux)", "eventName": "GetObject"});
    check("sel: {userAgent|contains: kali}\ncondition: sel", event.clone(), true);
    check("sel: {userAgent|contains: [parrot, pentoo, kali]}\ncondition: sel", event.clone(), true);
    check("sel: {userAgent|contains: [parrot, pentoo]}\ncondition: sel", event.clone(), false);
    check("sel: {userAgent|contains|all: [mozilla, kali]}\ncondition: sel", event.clone(), true);
    check("sel: {userAgent|contains|all: [mozilla, parrot]}\ncondition: sel", event.clone(), false);
    check("sel: {userAgent|startswith: mozilla/}\ncondition: sel", event.clone(), true);
    check("sel: {userAgent|startswith: kali}\ncondition: sel", event.clone(), false);
    check("sel: {userAgent|endswith: 'linux)'}\ncondition: sel", event.clone(), true);
    check("sel: {eventName|re: '^Get(Object|Bucket)$'}\ncondition: sel", event.clone(), true);
    check("sel: {eventName|re: '^getobject$'}\ncondition: sel", event.clone(), false);
    check("sel: {eventName|re|i: '^getobject$'}\ncondition: sel", event.clone(), true);
    check("sel: {eventName|re|s|m: '^Get.bject'}\ncondition: sel", event, true);
    check("sel: {text|re|m: '^second$'}\ncondition: sel", json!({"text": "first\nsecond"}), true);
    check("sel: {text|re: '^second$'}\ncondition: sel", json!({"text": "first\nsecond"}), false);
    check("sel: {text|re|s: 'first.second'}\ncondition: sel", json!({"text": "first\nsecond"}), true);
}

#[test]
fn encoding_modifiers() {
    check("sel: {data|base64: 'secret'}\ncondition: sel", json!({"data": "c2VjcmV0"}), true);
    check("sel: {data|base64|contains: 'secret'}\ncondition: sel", json!({"data": "xx c2VjcmV0 yy"}), true);
    // "secret" at offsets 0, 1 and 2 of a base64 stream.
    for encoded in ["c2VjcmV0", "eHNlY3JldA==", "eHhzZWNyZXQ="] {
        check("sel: {data|base64offset|contains: 'secret'}\ncondition: sel", json!({"data": encoded}), true);
    }
    check("sel: {data|base64offset|contains: 'secret'}\ncondition: sel", json!({"data": "c2VjcmVu"}), false);
    check("sel: {cmd|windash|contains: ' -enc '}\ncondition: sel", json!({"cmd": "powershell /enc abc"}), true);
    check("sel: {cmd|windash|contains: ' -enc '}\ncondition: sel", json!({"cmd": "powershell \u{2013}enc abc"}), true);
    check("sel: {cmd|windash|contains: ' -enc '}\ncondition: sel", json!({"cmd": "powershell +enc abc"}), false);
    check("sel: {user|expand: '%admins%'}\ncondition: sel", json!({"user": "bob"}), true);
    check("sel: {user|expand: 'x-%admins%'}\ncondition: sel", json!({"user": "x-alice"}), true);
    check("sel: {user|expand: '%admins%'}\ncondition: sel", json!({"user": "carol"}), false);
    check_rejected("sel: {user|expand: '%nobody%'}\ncondition: sel", "placeholder `%nobody%` has no value");
}

#[test]
fn typed_modifiers_and_null() {
    check("sel: {sourceIPAddress|cidr: 10.0.0.0/8}\ncondition: sel", json!({"sourceIPAddress": "10.1.2.3"}), true);
    check("sel: {sourceIPAddress|cidr: 10.0.0.0/8}\ncondition: sel", json!({"sourceIPAddress": "11.1.2.3"}), false);
    check("sel: {sourceIPAddress|cidr: 'fd00::/8'}\ncondition: sel", json!({"sourceIPAddress": "fd12::1"}), true);
    check("sel: {sourceIPAddress|cidr: 10.0.0.0/8}\ncondition: sel", json!({"sourceIPAddress": "AWS Internal"}), false);
    check("sel: {count|gt: 5}\ncondition: sel", json!({"count": 6}), true);
    check("sel: {count|gt: 5}\ncondition: sel", json!({"count": 5}), false);
    check("sel: {count|gte: 5}\ncondition: sel", json!({"count": "5"}), true);
    check("sel: {count|lt: 5}\ncondition: sel", json!({"count": 4.5}), true);
    check("sel: {count|lte: 5}\ncondition: sel", json!({"count": 6}), false);
    check("sel: {count: 5}\ncondition: sel", json!({"count": 5}), true);
    check("sel: {count: 5}\ncondition: sel", json!({"count": "5"}), true);
    check("sel: {readOnly: false}\ncondition: sel", json!({"readOnly": false}), true);
    check("sel: {readOnly: false}\ncondition: sel", json!({"readOnly": true}), false);
    check("sel: {errorCode: null}\ncondition: sel", json!({"eventName": "X"}), true);
    check("sel: {errorCode: null}\ncondition: sel", json!({"errorCode": null}), true);
    check("sel: {errorCode: null}\ncondition: sel", json!({"errorCode": "AccessDenied"}), false);
    check("sel: {errorCode|exists: true}\ncondition: sel", json!({"errorCode": "AccessDenied"}), true);
    check("sel: {errorCode|exists: false}\ncondition: sel", json!({"errorCode": "AccessDenied"}), false);
    check("sel: {errorCode|exists: false}\ncondition: sel", json!({}), true);
    check("sel: {errorCode: ''}\ncondition: sel", json!({"errorCode": ""}), true);
    check("sel: {errorCode: ''}\ncondition: sel", json!({}), false);
    check(
        "sel: {userIdentity.arn|fieldref: requestParameters.userName}\ncondition: sel",
        json!({"userIdentity": {"arn": "Bob"}, "requestParameters": {"userName": "bob"}}),
        true,
    );
    check(
        "sel: {userIdentity.arn|fieldref|endswith: requestParameters.userName}\ncondition: sel",
        json!({"userIdentity": {"arn": "arn:aws:iam::1:user/bob"}, "requestParameters": {"userName": "bob"}}),
        true,
    );
    check(
        "sel: {userIdentity.arn|fieldref: requestParameters.userName}\ncondition: sel",
        json!({"userIdentity": {"arn": "arn:aws:iam::1:user/bob"}, "requestParameters": {"userName": "alice"}}),
        false,
    );
    check_rejected("sel: {a|utf16le: x}\ncondition: sel", "not supported");
    check_rejected("sel: {a|frobnicate: x}\ncondition: sel", "unknown or unsupported modifier `frobnicate`");
    check_rejected("sel: {a|cidr: notanip}\ncondition: sel", "is not a CIDR range");
    check_rejected("sel: {a|re: '(unclosed'}\ncondition: sel", "invalid regular expression");
}

#[test]
fn nested_paths_arrays_lists_and_keywords() {
    let event = json!({
        "userIdentity": {"sessionContext": {"sessionIssuer": {"type": "Role"}}},
        "resources": [{"ARN": "arn:aws:s3:::a"}, {"ARN": "arn:aws:s3:::secret"}],
        "tags": ["x", "prod"],
        "requestParameters.flat": "dotted-key"
    });
    check("sel: {userIdentity.sessionContext.sessionIssuer.type: role}\ncondition: sel", event.clone(), true);
    check("sel: {resources.ARN|endswith: secret}\ncondition: sel", event.clone(), true);
    check("sel: {tags: prod}\ncondition: sel", event.clone(), true);
    check("sel: {requestParameters.flat: dotted-key}\ncondition: sel", event.clone(), true);
    check("sel:\n  - {tags: nope}\n  - {tags: x}\ncondition: sel", event.clone(), true);
    check("sel:\n  - {tags: nope}\n  - {tags: nada}\ncondition: sel", event.clone(), false);
    check("keywords: [secret, other]\ncondition: keywords", event.clone(), true);
    check("keywords: [absent]\ncondition: keywords", event, false);
}

#[test]
fn a_rule_set_reads_its_rules_fields_and_everything_for_keywords() {
    let rule = compile("sel: {userIdentity.arn|fieldref: requestParameters.userName, resources.ARN|contains: x}\ncondition: sel").unwrap();
    let (set, _) = RuleSet::new(Loaded { rules: vec![rule.clone()], ..Loaded::default() });
    let mut expected = Fields::none();
    for path in ["eventName", "eventSource", "userIdentity.arn", "requestParameters.userName", "resources.ARN"] {
        expected.add_path(path);
    }
    assert_eq!(set.fields, expected);
    let keywords = compile("keywords: [secret]\nsel: {eventName: x}\ncondition: sel or keywords").unwrap();
    let (set, _) = RuleSet::new(Loaded { rules: vec![rule, keywords], ..Loaded::default() });
    assert_eq!(set.fields, Fields::All);
}

#[test]
fn condition_forms() {
    let event = json!({"a": "1", "b": "2"});
    let searches = "sel_a: {a: '1'}\nsel_b: {b: '2'}\nfilter_x: {a: '9'}\nfilter_y: {b: '9'}\n";
    for (condition, expected) in [
        ("sel_a and sel_b", true),
        ("sel_a and filter_x", false),
        ("sel_a or filter_x", true),
        ("not filter_x", true),
        ("sel_a and not 1 of filter_*", true),
        ("1 of filter_*", false),
        ("all of sel_*", true),
        ("all of them", false),
        ("1 of them", true),
        ("(sel_a or filter_x) and (sel_b or filter_y)", true),
        ("not (sel_a and sel_b)", false),
        ("sel_a and sel_b and not filter_x and not filter_y", true),
    ] {
        check(&format!("{searches}condition: {condition}"), event.clone(), expected);
    }
    check(&format!("{searches}condition: [filter_x, sel_b]"), event, true);
}

#[test]
fn unsupported_rules_are_rejected_with_reasons() {
    check_rejected("sel: {a: x}\ncondition: sel | count() by b > 3", "not supported");
    check_rejected("sel: {a: x}\ntimeframe: 5m\ncondition: sel", "timeframe");
    check_rejected("sel: {a: {nested: map}}\ncondition: sel", "nested maps");
    check_rejected("sel: {a: x}", "no `condition`");
    let loaded =
        load_text("title: w\nlogsource: {product: windows, service: security}\ndetection: {sel: {a: x}, condition: sel}", "w", &CompileOptions::default());
    assert!(loaded.rejected[0].reason.contains("not a CloudTrail rule"), "{:?}", loaded.rejected);
    let loaded = load_text("title: [unclosed", "bad.yml", &CompileOptions::default());
    assert!(loaded.rejected[0].reason.contains("invalid YAML"), "{:?}", loaded.rejected);
}

#[test]
fn index_uses_event_name_then_event_source() {
    let yaml = |name: &str, detection: &str| format!("title: {name}\nid: {name}\ndetection:\n{}", indent(detection));
    let text = [
        yaml("by-name", "sel: {eventName: [StopLogging, DeleteTrail]}\ncondition: sel"),
        yaml("by-source", "sel: {eventSource: s3.amazonaws.com}\ncondition: sel"),
        yaml("open", "sel: {userAgent|contains: kali}\ncondition: sel"),
        yaml("negated", "sel: {eventSource: s3.amazonaws.com}\ncondition: not sel"),
    ]
    .join("---\n");
    let (set, rejected) = RuleSet::new(load_text(&text, "t", &CompileOptions::default()));
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(set.index_stats(), (1, 1, 2));
    let mut matched = Vec::new();
    set.matches(&Value::from_json(&json!({"eventName": "stoplogging", "eventSource": "cloudtrail.amazonaws.com", "userAgent": "kali"})), &mut matched);
    assert_eq!(matched, vec![0, 2, 3]);
}

#[test]
fn correlations_count_values_and_order_in_windows() {
    let text = r#"
title: login failed
id: base-fail
name: login_failed
detection: {sel: {eventName: ConsoleLogin, errorMessage|contains: Failed}, condition: sel}
---
title: login ok
id: base-ok
detection: {sel: {eventName: ConsoleLogin, errorMessage: null}, condition: sel}
---
title: brute force
id: corr-count
level: high
correlation: {type: event_count, rules: [login_failed], group-by: [sourceIPAddress], timespan: 10m, condition: {gte: 3}}
---
title: many users
id: corr-values
correlation: {type: value_count, rules: [login_failed], group-by: [sourceIPAddress], timespan: 10m, condition: {field: userIdentity.userName, gte: 2}}
---
title: fail then success
id: corr-ordered
correlation: {type: temporal_ordered, rules: [login_failed, base-ok], group-by: [sourceIPAddress], timespan: 10m}
---
title: broken
id: corr-broken
correlation: {type: event_count, rules: [missing], timespan: 10m, condition: {gte: 1}}
"#;
    let (set, rejected) = RuleSet::new(load_text(text, "t", &CompileOptions::default()));
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0].reason.contains("refers to rule `missing`"));
    let event = |minute: u32, ip: &str, user: &str, failed: bool| {
        let mut record = json!({"eventName": "ConsoleLogin", "eventTime": format!("2024-01-01T00:{minute:02}:00Z"), "sourceIPAddress": ip, "userIdentity": {"userName": user}, "eventID": format!("{ip}-{minute}")});
        if failed {
            record["errorMessage"] = json!("Failed authentication");
        }
        record
    };
    let records = [
        event(0, "1.1.1.1", "a", true),
        event(1, "1.1.1.1", "b", true),
        event(2, "1.1.1.1", "a", true),
        event(3, "1.1.1.1", "a", false),
        event(0, "2.2.2.2", "a", false),
        event(30, "2.2.2.2", "a", true),
    ];
    let mut hits = Vec::new();
    for record in &records {
        let value = Value::from_json(record);
        let mut matched = Vec::new();
        set.matches(&value, &mut matched);
        for index in matched {
            correlation::hits_for(&set, index as usize, &value, &mut hits);
        }
    }
    let alerts = correlation::correlate(&set, hits);
    let summary: Vec<(String, String, usize)> =
        alerts.iter().map(|alert| (set.correlations[alert.correlation].id.clone(), alert.group[0].1.clone(), alert.count)).collect();
    assert_eq!(
        summary,
        vec![
            ("corr-count".to_string(), "1.1.1.1".to_string(), 3),
            ("corr-values".to_string(), "1.1.1.1".to_string(), 2),
            ("corr-ordered".to_string(), "1.1.1.1".to_string(), 2)
        ]
    );
}

fn shared_data() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if path.is_dir() {
        Some(path)
    } else {
        eprintln!("skipped: the shared data folder `{}` is absent", path.display());
        None
    }
}

#[test]
fn all_sigmahq_cloudtrail_rules_load() {
    let Some(data) = shared_data() else { return };
    let loaded = files::load_path(&data.join("sigma"), &CompileOptions::default()).unwrap();
    assert!(loaded.rejected.is_empty(), "rejected: {:#?}", loaded.rejected);
    assert_eq!(loaded.rules.len(), 57);
    let (set, _) = RuleSet::new(loaded);
    let (by_name, by_source, unindexed) = set.index_stats();
    assert!(by_name + by_source >= 50, "index covers {by_name} + {by_source}, {unindexed} unindexed");
}

#[test]
fn sigmahq_rules_agree_with_the_naive_interpreter_on_the_datasets() {
    let Some(data) = shared_data() else { return };
    let mut rules = Vec::new();
    for entry in std::fs::read_dir(data.join("sigma")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|extension| extension == "yml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
            let rule = load_text(&text, "x", &CompileOptions::default()).rules.remove(0);
            rules.push((yaml, rule));
        }
    }
    let mut records = Vec::new();
    for folder in ["invictus-aws-dataset", "stratus-red-team-detonations"] {
        for entry in std::fs::read_dir(data.join("cloudtrail").join(folder)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|extension| extension == "json") {
                let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                let list = json.get("Records").cloned().unwrap_or(json);
                records.extend(list.as_array().cloned().unwrap_or_default());
            }
        }
    }
    assert!(records.len() > 2900);
    let (set, _) = RuleSet::new(Loaded { rules: rules.iter().map(|(_, rule)| rule.clone()).collect(), ..Loaded::default() });
    assert!(matches!(set.fields, Fields::Members(_)), "the CloudTrail rules read named fields only");
    let mut matches = 0;
    for record in &records {
        let value = Value::from_json(record);
        let text = record.to_string();
        // The record parsed only for the fields the rule set reads matches the same rules.
        let selected = Value::parse_fields(text.as_bytes(), &set.fields).unwrap();
        for (yaml, rule) in &rules {
            let expected = naive::rule_matches(yaml, record);
            assert_eq!(rule.matches(&value), expected, "rule {} on {}", rule.id, record["eventID"]);
            assert_eq!(rule.matches(&selected), expected, "rule {} on {} parsed for the set's fields", rule.id, record["eventID"]);
            matches += usize::from(expected);
        }
    }
    assert!(matches > 0);
}

const FIELDS: [&str; 4] = ["eventName", "userAgent", "userIdentity.type", "resources.ARN"];
const MODIFIERS: [&str; 9] = ["", "|contains", "|startswith", "|endswith", "|contains|all", "|cased", "|contains|cased", "|exists", "|endswith|all"];

fn pattern() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof![Just("a"), Just("B"), Just("*"), Just("?"), Just("\\"), Just("b"), Just("\\*")], 0..4)
        .prop_map(|parts| parts.concat())
}

fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof![Just("a"), Just("A"), Just("b"), Just("*"), Just("\\"), Just("?")], 0..5).prop_map(|parts| parts.concat())
}

fn entry() -> impl Strategy<Value = Entry> {
    (0..FIELDS.len(), 0..MODIFIERS.len(), proptest::collection::vec(proptest::option::weighted(0.9, pattern()), 1..3))
}

fn record() -> impl Strategy<Value = serde_json::Value> {
    (proptest::option::of(text()), proptest::option::of(text()), proptest::option::of(text()), proptest::collection::vec(text(), 0..3)).prop_map(
        |(name, agent, kind, arns)| {
            let mut record = serde_json::Map::new();
            if let Some(name) = name {
                record.insert("eventName".into(), json!(name));
            }
            if let Some(agent) = agent {
                record.insert("userAgent".into(), json!(agent));
            }
            if let Some(kind) = kind {
                record.insert("userIdentity".into(), json!({"type": kind}));
            }
            if !arns.is_empty() {
                record.insert("resources".into(), json!(arns.iter().map(|arn| json!({"ARN": arn, "type": arn})).collect::<Vec<_>>()));
            }
            // Members no generated rule reads, which a parse for the rules' fields skips.
            record.insert("requestParameters".into(), json!({"list": [1, {"userAgent": agent_copy(&record)}], "n": -1.5e3, "t": true}));
            serde_json::Value::Object(record)
        },
    )
}

fn agent_copy(record: &serde_json::Map<String, serde_json::Value>) -> serde_json::Value {
    record.get("userAgent").cloned().unwrap_or(serde_json::Value::Null)
}

/// One generated detection entry: (field index, modifier index, values; `None` is null).
type Entry = (usize, usize, Vec<Option<String>>);

fn render(searches: &[Vec<Entry>], condition: &str) -> String {
    let mut text = String::from("title: p\nid: p\ndetection:\n");
    for (index, search) in searches.iter().enumerate() {
        text.push_str(&format!("    sel_{index}:\n"));
        let mut seen = std::collections::BTreeSet::new();
        for (field, modifier, values) in search {
            if !seen.insert((field, modifier)) {
                continue;
            }
            let modifier = MODIFIERS[*modifier];
            let rendered: Vec<String> = if modifier == "|exists" {
                vec![if values.len() % 2 == 0 { "true".into() } else { "false".into() }]
            } else {
                values.iter().map(|value| value.as_ref().map_or("null".to_string(), |text| format!("'{}'", text.replace('\'', "''")))).collect()
            };
            text.push_str(&format!("        {}{}: [{}]\n", FIELDS[*field], modifier, rendered.join(", ")));
        }
    }
    text.push_str(&format!("    condition: {condition}\n"));
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn compiled_matcher_agrees_with_the_naive_interpreter(
        searches in proptest::collection::vec(proptest::collection::vec(entry(), 1..3), 1..4),
        condition in prop_oneof![Just("sel_0"), Just("1 of sel_*"), Just("all of sel_*"), Just("sel_0 and not 1 of sel_*"), Just("not sel_0 or all of them")],
        records in proptest::collection::vec(record(), 1..6),
    ) {
        let text = render(&searches, condition);
        let loaded = load_text(&text, "p", &CompileOptions::default());
        prop_assert!(loaded.rejected.is_empty(), "{text}: {:?}", loaded.rejected);
        let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        let (set, _) = RuleSet::new(loaded);
        for record in &records {
            let expected = naive::rule_matches(&yaml, record);
            let value = Value::from_json(record);
            prop_assert_eq!(set.rules[0].matches(&value), expected, "{} on {}", text, record);
            let mut matched = Vec::new();
            set.matches(&value, &mut matched);
            prop_assert_eq!(!matched.is_empty(), expected, "indexed {} on {}", text, record);
            let json = record.to_string();
            let selected = Value::parse_fields(json.as_bytes(), &set.fields).unwrap();
            prop_assert_eq!(set.rules[0].matches(&selected), expected, "parsed for the set's fields {} on {}", text, record);
        }
    }
}
