//! Charts drawn on the server as SVG: no script, no external library, and every label goes
//! through the HTML escaper like the rest of the page.

use std::fmt::Write as _;

use vigil_report::escape_html as escape;

/// Horizontal bars, one per (label, value), each label a link when `link` gives one.
pub fn bars(title: &str, rows: &[(String, i64)], link: impl Fn(&str) -> Option<String>) -> String {
    const ROW: i64 = 22;
    const LABEL: i64 = 190;
    const WIDTH: i64 = 520;
    let max = rows.iter().map(|(_, value)| *value).max().unwrap_or(0).max(1);
    let height = ROW * rows.len().max(1) as i64 + 4;
    let mut svg = format!(
        "<figure class=\"chart\"><figcaption>{}</figcaption><svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\">",
        escape(title),
        escape(title)
    );
    if rows.is_empty() {
        let _ = write!(svg, "<text x=\"0\" y=\"16\" class=\"muted\">none</text>");
    }
    for (index, (label, value)) in rows.iter().enumerate() {
        let y = index as i64 * ROW + 2;
        let length = (WIDTH - LABEL - 60) * value / max;
        let class = escape(&label.to_lowercase());
        let text = format!("<text x=\"0\" y=\"{}\" class=\"label\">{}</text>", y + 14, escape(&shorten(label, 30)));
        match link(label) {
            Some(href) => {
                let _ = write!(svg, "<a href=\"{}\">{text}</a>", escape(&href));
            }
            None => svg.push_str(&text),
        }
        let _ = write!(
            svg,
            "<rect x=\"{LABEL}\" y=\"{y}\" width=\"{}\" height=\"{}\" class=\"bar {class}\"><title>{}: {value}</title></rect><text x=\"{}\" y=\"{}\" class=\"value\">{value}</text>",
            length.max(1),
            ROW - 6,
            escape(label),
            LABEL + length + 6,
            y + 14
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

/// One line per series over the scans (x: scan ids), with the last value written at its end.
pub fn trend(title: &str, scans: &[i64], series: &[(&str, Vec<i64>)]) -> String {
    const WIDTH: i64 = 520;
    const HEIGHT: i64 = 160;
    const LEFT: i64 = 40;
    const BOTTOM: i64 = 20;
    let max = series.iter().flat_map(|(_, values)| values.iter().copied()).max().unwrap_or(0).max(1);
    let mut svg = format!(
        "<figure class=\"chart\"><figcaption>{}</figcaption><svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" height=\"{HEIGHT}\">\
         <line x1=\"{LEFT}\" y1=\"{}\" x2=\"{WIDTH}\" y2=\"{}\" class=\"axis\"/><text x=\"0\" y=\"12\" class=\"value\">{max}</text><text x=\"0\" y=\"{}\" class=\"value\">0</text>",
        escape(title),
        escape(title),
        HEIGHT - BOTTOM,
        HEIGHT - BOTTOM,
        HEIGHT - BOTTOM
    );
    let count = scans.len() as i64;
    let x = |index: usize| if count <= 1 { LEFT + (WIDTH - LEFT) / 2 } else { LEFT + (WIDTH - LEFT - 30) * index as i64 / (count - 1) };
    let y = |value: i64| HEIGHT - BOTTOM - (HEIGHT - BOTTOM - 8) * value / max;
    for (index, scan) in scans.iter().enumerate() {
        if count <= 12 || index % (count as usize / 12 + 1) == 0 {
            let _ = write!(svg, "<text x=\"{}\" y=\"{}\" class=\"value\">#{scan}</text>", x(index) - 6, HEIGHT - 4);
        }
    }
    for (name, values) in series {
        let points: Vec<String> = values.iter().enumerate().map(|(index, value)| format!("{},{}", x(index), y(*value))).collect();
        let class = escape(&name.to_lowercase());
        let _ = write!(svg, "<polyline points=\"{}\" class=\"line {class}\"><title>{}</title></polyline>", points.join(" "), escape(name));
        for (index, value) in values.iter().enumerate() {
            let _ = write!(
                svg,
                "<circle cx=\"{}\" cy=\"{}\" r=\"3\" class=\"dot {class}\"><title>{} scan #{}: {value}</title></circle>",
                x(index),
                y(*value),
                escape(name),
                scans[index]
            );
        }
        if let Some(last) = values.last() {
            // Above the line's end, or below it when that would leave the chart.
            let label_y = if y(*last) < 18 { y(*last) + 14 } else { y(*last) - 6 };
            let _ = write!(svg, "<text x=\"{}\" y=\"{label_y}\" class=\"value\">{} {last}</text>", x(values.len() - 1) - 60, escape(name));
        }
    }
    svg.push_str("</svg></figure>");
    svg
}

/// A stacked bar of a framework's requirements by status.
pub fn stacked(parts: &[(&str, usize)]) -> String {
    let total: usize = parts.iter().map(|(_, count)| count).sum::<usize>().max(1);
    let mut svg = String::from("<svg role=\"img\" viewBox=\"0 0 300 14\" width=\"300\" height=\"14\" class=\"stacked\">");
    let mut x = 0usize;
    for (status, count) in parts {
        let width = 300 * count / total;
        if width > 0 {
            let class = escape(&status.to_lowercase());
            let _ =
                write!(svg, "<rect x=\"{x}\" y=\"0\" width=\"{width}\" height=\"14\" class=\"part {class}\"><title>{}: {count}</title></rect>", escape(status));
        }
        x += width;
    }
    svg.push_str("</svg>");
    svg
}

fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit { text.to_string() } else { format!("{}…", text.chars().take(limit - 1).collect::<String>()) }
}

/// An attack-path graph: nodes in columns by their distance from the internet (internet,
/// compute, role, escalation, target), one line per hop; hops a change of the cut removes are
/// drawn as cut. Nodes are the last part of their ARN, with the whole ARN as their title.
pub fn attack_graph(title: &str, paths: &[&vigil_model::analysis::AttackPath]) -> String {
    const COLUMN: i64 = 210;
    const ROW: i64 = 30;
    const BOX_WIDTH: i64 = 170;
    const BOX_HEIGHT: i64 = 20;
    let mut column: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    let mut edges: std::collections::BTreeMap<(&str, &str), (String, bool)> = std::collections::BTreeMap::new();
    for path in paths {
        for (index, hop) in path.hops.iter().enumerate() {
            for (node, depth) in [(hop.from.as_str(), index as i64), (hop.to.as_str(), index as i64 + 1)] {
                let entry = column.entry(node).or_insert_with(|| {
                    order.push(node);
                    depth
                });
                *entry = (*entry).max(depth).min(5);
            }
            // A hop is drawn as cut when a change of the path's cut removes it.
            let via_names_cut = path.cut.iter().any(|change| match change.kind.as_str() {
                "security-group-rule" => hop.kind == "network" && change.resource.rsplit('/').next().is_some_and(|group| hop.via.starts_with(group)),
                "instance-profile" => hop.kind == "runs-as" && change.resource == hop.from,
                "function-url" | "public-endpoint" => hop.kind == "network" && change.resource == hop.to,
                _ => {
                    (hop.kind == "access" || hop.kind == "escalation")
                        && (change.resource == hop.from || change.resource == hop.to || hop.via.contains(change.resource.as_str()))
                }
            });
            let edge = edges.entry((hop.from.as_str(), hop.to.as_str())).or_insert_with(|| (hop.via.clone(), false));
            edge.1 |= via_names_cut;
        }
    }
    column.insert("internet", 0);
    let columns = column.values().copied().max().unwrap_or(0) + 1;
    let mut rows_in: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
    let mut position: std::collections::BTreeMap<&str, (i64, i64)> = std::collections::BTreeMap::new();
    for node in &order {
        let x = column.get(node).copied().unwrap_or(0);
        let row = rows_in.entry(x).or_insert(0);
        position.insert(node, (x * COLUMN + 4, *row * ROW + 4));
        *row += 1;
    }
    let width = columns * COLUMN;
    let height = rows_in.values().copied().max().unwrap_or(1).max(1) * ROW + 8;
    let mut svg = format!(
        "<figure class=\"chart graph\"><figcaption>{}</figcaption><svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">",
        escape(title),
        escape(title)
    );
    if paths.is_empty() {
        svg.push_str("<text x=\"0\" y=\"16\" class=\"muted\">no attack path</text>");
    }
    for ((from, to), (via, cut)) in &edges {
        let (Some((x1, y1)), Some((x2, y2))) = (position.get(from), position.get(to)) else { continue };
        let class = if *cut { "edge cut" } else { "edge" };
        let _ = write!(
            svg,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{x2}\" y2=\"{}\" class=\"{class}\"><title>{}</title></line>",
            x1 + BOX_WIDTH,
            y1 + BOX_HEIGHT / 2,
            y2 + BOX_HEIGHT / 2,
            escape(via)
        );
    }
    for (node, (x, y)) in &position {
        let label = node.rsplit(['/', ':']).next().filter(|last| !last.is_empty()).unwrap_or(node);
        let _ = write!(
            svg,
            "<g class=\"node\"><title>{}</title><rect x=\"{x}\" y=\"{y}\" width=\"{BOX_WIDTH}\" height=\"{BOX_HEIGHT}\" rx=\"3\"/><text x=\"{}\" y=\"{}\">{}</text></g>",
            escape(node),
            x + 5,
            y + 14,
            escape(&shorten(label, 26))
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_are_escaped_and_values_drawn() {
        let svg = super::bars("t", &[("<script>x</script>".into(), 3), ("b".into(), 1)], |_| Some("/findings?x=\"".into()));
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("href=\"/findings?x=&quot;\""));
        assert_eq!(svg.matches("<rect").count(), 2);
        let trend = super::trend("t", &[1, 2], &[("FAIL", vec![4, 2])]);
        assert!(trend.contains("<polyline"));
        assert_eq!(super::stacked(&[("PASS", 1), ("FAIL", 1)]).matches("<rect").count(), 2);
    }

    #[test]
    fn the_attack_graph_draws_each_node_once_escapes_names_and_marks_the_cut_hop() {
        use vigil_model::analysis::{AttackPath, CutChange, PathHop};
        let hop = |from: &str, to: &str, via: &str, kind: &str| PathHop { from: from.into(), to: to.into(), via: via.into(), kind: kind.into() };
        let path = |instance: &str| AttackPath {
            source: "internet".into(),
            target: "arn:aws:s3:::<b>".into(),
            hops: vec![
                hop("internet", instance, "sg-1 tcp 22-22 from 0.0.0.0/0", "network"),
                hop(instance, "arn:aws:iam::1:role/r", "instance profile p", "runs-as"),
                hop("arn:aws:iam::1:role/r", "arn:aws:s3:::<b>", "s3:GetObject allowed by x", "access"),
            ],
            cut: vec![CutChange { kind: "security-group-rule".into(), resource: "arn:aws:ec2:r:1:security-group/sg-1".into(), ..CutChange::default() }],
            ..AttackPath::default()
        };
        let (first, second) = (path("arn:aws:ec2:r:1:instance/i-1"), path("arn:aws:ec2:r:1:instance/i-2"));
        let svg = super::attack_graph("t", &[&first, &second]);
        assert_eq!(svg.matches("<g class=\"node\">").count(), 5, "{svg}");
        assert_eq!(svg.matches("class=\"edge cut\"").count(), 2, "{svg}");
        assert_eq!(svg.matches("class=\"edge\"").count(), 3, "{svg}");
        assert!(!svg.contains("<b>") && svg.contains("&lt;b&gt;"), "{svg}");
    }
}
