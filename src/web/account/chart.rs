//! Small SVG charts drawn on the server for the dashboard: a bar chart and a line chart over
//! days. No script and no `style` attribute (the CSP allows neither inline); colours are SVG
//! presentation attributes. Every mark has a `<title>`, so a screen reader or a hover tells its
//! value, and the chart itself is an `img` named by its own `<title>` and `<desc>`.

use std::fmt::Write;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 54.0;

/// One day of a chart.
pub struct Point {
    /// The x-axis label (`12-03`).
    pub label: String,
    /// `None`: nothing to show that day (no gap is drawn as zero).
    pub value: Option<f64>,
    /// What the mark's `<title>` says, e.g. `2026-12-03: 1500.00 RUB`.
    pub title: String,
}

/// The words of a chart.
pub struct Labels<'a> {
    /// Unique in the page: prefixes the ids of `<title>` and `<desc>`.
    pub id: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
    pub x_axis: &'a str,
    pub y_axis: &'a str,
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The smallest 1, 2 or 5 × 10ⁿ at or above `v` (at least 1), so axis ticks are round numbers.
pub fn nice_ceiling(v: f64) -> f64 {
    if v <= 1.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|c| *c >= v).unwrap_or(10.0 * magnitude)
}

fn plot_width() -> f64 {
    WIDTH - LEFT - RIGHT
}

fn plot_height() -> f64 {
    HEIGHT - TOP - BOTTOM
}

fn y_of(value: f64, max: f64) -> f64 {
    TOP + plot_height() * (1.0 - value / max)
}

/// The frame: `<svg>`, title, description, axes, y ticks with `tick` labels, x labels (thinned
/// to about twelve), axis titles. The caller appends marks and closes with `</svg>`.
fn frame(labels: &Labels, points: &[Point], max: f64, tick: &dyn Fn(f64) -> String) -> String {
    let id = escape(labels.id);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{id}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="{id}-title {id}-desc">"#
    );
    let _ = write!(
        s,
        r#"<title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(labels.title),
        escape(labels.desc)
    );
    let bottom = TOP + plot_height();
    let _ = write!(s, r##"<g class="axes" stroke="#555" stroke-width="1">"##);
    let _ = write!(s, r#"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/>"#);
    let _ = write!(s, r#"<line x1="{LEFT}" y1="{bottom}" x2="{}" y2="{bottom}"/>"#, WIDTH - RIGHT);
    s.push_str("</g>");
    let _ = write!(s, r##"<g class="y-ticks" font-size="11" fill="#333" text-anchor="end">"##);
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = y_of(v, max);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd" stroke-width="1"/><text x="{}" y="{:.1}">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            escape(&tick(v))
        );
    }
    s.push_str("</g>");
    let _ = write!(s, r##"<g class="x-labels" font-size="11" fill="#333" text-anchor="middle">"##);
    let every = points.len().div_ceil(12).max(1);
    for (i, p) in points.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
            x_center(i, points.len()),
            bottom + 16.0,
            escape(&p.label)
        );
    }
    s.push_str("</g>");
    let _ = write!(
        s,
        r##"<text class="x-axis" x="{:.1}" y="{:.1}" font-size="12" fill="#333" text-anchor="middle">{}</text>"##,
        LEFT + plot_width() / 2.0,
        HEIGHT - 8.0,
        escape(labels.x_axis)
    );
    let _ = write!(
        s,
        r##"<text class="y-axis" x="14" y="{:.1}" font-size="12" fill="#333" text-anchor="middle" transform="rotate(-90 14 {:.1})">{}</text>"##,
        TOP + plot_height() / 2.0,
        TOP + plot_height() / 2.0,
        escape(labels.y_axis)
    );
    s
}

fn x_center(i: usize, n: usize) -> f64 {
    let slot = plot_width() / n.max(1) as f64;
    LEFT + slot * (i as f64 + 0.5)
}

/// A bar per point; the y axis from zero to a round number above the largest value, its ticks
/// written by `tick`.
pub fn bars(labels: &Labels, points: &[Point], tick: &dyn Fn(f64) -> String) -> String {
    let max = nice_ceiling(points.iter().filter_map(|p| p.value).fold(0.0, f64::max));
    let mut s = frame(labels, points, max, tick);
    let slot = plot_width() / points.len().max(1) as f64;
    let width = (slot * 0.7).max(1.0);
    s.push_str(r##"<g class="bars" fill="#3b6ea5">"##);
    for (i, p) in points.iter().enumerate() {
        let v = p.value.unwrap_or(0.0).max(0.0);
        let y = y_of(v, max);
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{y:.1}" width="{width:.1}" height="{:.1}"><title>{}</title></rect>"#,
            x_center(i, points.len()) - width / 2.0,
            TOP + plot_height() - y,
            escape(&p.title)
        );
    }
    s.push_str("</g></svg>");
    s
}

/// A line through the points that have a value (broken where one has none), from 0 to `max`,
/// with a dot per value.
pub fn line(labels: &Labels, points: &[Point], max: f64, tick: &dyn Fn(f64) -> String) -> String {
    let mut s = frame(labels, points, max, tick);
    let mut path = String::new();
    let mut pen_down = false;
    for (i, p) in points.iter().enumerate() {
        match p.value {
            Some(v) => {
                let _ = write!(
                    path,
                    "{}{:.1} {:.1} ",
                    if pen_down { "L" } else { "M" },
                    x_center(i, points.len()),
                    y_of(v.clamp(0.0, max), max)
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    if !path.is_empty() {
        let _ = write!(
            s,
            r##"<path class="line" d="{}" fill="none" stroke="#2e7d32" stroke-width="2"/>"##,
            path.trim_end()
        );
    }
    s.push_str(r##"<g class="dots" fill="#2e7d32">"##);
    for (i, p) in points.iter().enumerate() {
        if let Some(v) = p.value {
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5"><title>{}</title></circle>"#,
                x_center(i, points.len()),
                y_of(v.clamp(0.0, max), max),
                escape(&p.title)
            );
        }
    }
    s.push_str("</g></svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Labels<'static> {
        Labels { id: "c", title: "T <1>", desc: "D & d", x_axis: "day", y_axis: "RUB" }
    }

    #[test]
    fn round_axis_maxima() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(150_000.0), 200_000.0);
        assert_eq!(nice_ceiling(500.0), 500.0);
    }

    #[test]
    fn bars_have_one_rect_per_day_and_escaped_text() {
        let points: Vec<Point> = (0..3)
            .map(|i| Point { label: format!("d{i}"), value: Some(f64::from(i)), title: format!("day {i} <x>") })
            .collect();
        let svg = bars(&labels(), &points, &|v| format!("{v}"));
        assert_eq!(svg.matches("<rect ").count(), 3);
        assert!(svg.contains("<title id=\"c-title\">T &lt;1&gt;</title>"));
        assert!(svg.contains("day 2 &lt;x&gt;"));
        assert!(!svg.contains("style="));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn a_line_breaks_where_a_day_has_no_value() {
        let v = [Some(1.0), None, Some(0.5), Some(0.25)];
        let points: Vec<Point> = v
            .iter()
            .enumerate()
            .map(|(i, v)| Point { label: i.to_string(), value: *v, title: i.to_string() })
            .collect();
        let svg = line(&labels(), &points, 1.0, &|v| format!("{v}"));
        assert_eq!(svg.matches("<circle ").count(), 3);
        let d = svg.split(" d=\"").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(d.matches('L').count(), 1, "{d}");
    }
}
