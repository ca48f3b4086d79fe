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
}
