//! Shares of a whole as horizontal bars on a fixed 0–100% axis: one row per item, one bar per
//! series side by side in it (told apart by colour *and* fill pattern, so a greyscale print
//! keeps them apart), each labelled with its percentage and its count — how often each
//! predictor is selected across a sweep's fits.

use super::core::*;
use super::{GRID, INK, PALETTE};

/// `count` of `of`; `of == 0` draws no bar and says "n/a".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Share {
    pub count: usize,
    pub of: usize,
}

/// One row: its label and one share per series, in the series' order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShareRow {
    pub label: String,
    pub shares: Vec<Share>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShareChart {
    pub title: String,
    /// The axis title, e.g. "% of fits with a non-zero coefficient at lambda.min".
    pub x_label: String,
    /// Series names, shown in the legend (one series: no legend).
    pub series: Vec<String>,
    /// Drawn top to bottom in the given order.
    pub rows: Vec<ShareRow>,
}

/// Fill patterns per series index: solid, hatched, dotted, cross-hatched.
const PATTERNS: usize = 4;

fn pattern_defs(pfx: &str) -> String {
    let mut o = String::from("<defs>");
    w!(
        o,
        r##"<pattern id="{pfx}-p1" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-opacity="0.7" stroke-width="2"/></pattern>"##
    );
    w!(
        o,
        r##"<pattern id="{pfx}-p2" patternUnits="userSpaceOnUse" width="5" height="5"><circle cx="2.5" cy="2.5" r="1.1" fill="#ffffff" fill-opacity="0.8"/></pattern>"##
    );
    w!(
        o,
        r##"<pattern id="{pfx}-p3" patternUnits="userSpaceOnUse" width="6" height="6"><path d="M0 3H6M3 0V6" stroke="#ffffff" stroke-opacity="0.7" stroke-width="1.2"/></pattern>"##
    );
    o.push_str("</defs>");
    o
}

/// A bar of series `series` at `(x, y)`, `bw` × `bh`, its tooltip `tip`.
fn bar_rect(
    o: &mut String,
    pfx: &str,
    series: usize,
    (x, y, bw, bh): (f64, f64, f64, f64),
    tip: &str,
) {
    let col = PALETTE[series % PALETTE.len()];
    w!(
        o,
        r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{col}"><title>{}</title></rect>"#,
        f(x),
        f(y),
        f(bw),
        f(bh),
        esc(tip)
    );
    let p = series % PATTERNS;
    if p > 0 {
        w!(
            o,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="url(#{pfx}-p{p})"/>"#,
            f(x),
            f(y),
            f(bw),
            f(bh)
        );
    }
}

fn label(s: Share) -> String {
    if s.of == 0 {
        return "n/a".into();
    }
    format!(
        "{:.0}% ({}/{})",
        100.0 * s.count as f64 / s.of as f64,
        s.count,
        s.of
    )
}

/// Grouped horizontal bars of shares, the axis fixed at 0–100%.
pub fn share_chart(c: &ShareChart) -> String {
    if c.rows.is_empty() {
        return no_data_svg(&c.title, 480.0, 200.0);
    }
    let pfx = idp("shares", &c.title);
    let k = c.series.len().max(1);
    let bar_h = 12.0;
    let row_h = 10.0 + bar_h * k as f64;
    let lab_w = c
        .rows
        .iter()
        .map(|r| tw(&r.label, 11.0))
        .fold(0.0, f64::max);
    let val_w = c
        .rows
        .iter()
        .flat_map(|r| r.shares.iter().map(|s| tw(&label(*s), 10.0)))
        .fold(0.0, f64::max)
        + 10.0;
    let plot_w = 320.0;
    let left = lab_w + 16.0;
    let w = left + plot_w + val_w + 10.0;
    let top = 32.0 + (title_lines(&c.title, w - 20.0).max(1) - 1) as f64 * TITLE_LINE;
    let ph = row_h * c.rows.len() as f64;
    let items: Vec<(Key, String)> = if c.series.len() > 1 {
        c.series
            .iter()
            .enumerate()
            .map(|(i, s)| (Key::Swatch(i), s.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let leg_h = legend_height(&items, w - 20.0);
    let h = top + ph + 46.0 + leg_h;
    let fr = Frame {
        left,
        top,
        w: plot_w,
        h: ph,
        x0: 0.0,
        x1: 100.0,
        y0: 0.0,
        y1: 1.0,
    };
    let mut o = String::new();
    svg_open(
        &mut o,
        w,
        h,
        &c.title,
        &format!("Horizontal bars of shares from 0% to 100%: {}", c.x_label),
    );
    o.push_str(&pattern_defs(&pfx));
    title_text(&mut o, &c.title, w / 2.0, 18.0, w - 20.0);
    let b_edge = top + ph;
    for t in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let x = fr.sx(t);
        w!(
            o,
            r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{GRID}"/>"#,
            f(x),
            f(top),
            f(b_edge)
        );
        w!(
            o,
            r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{INK}"/>"#,
            f(x),
            f(b_edge),
            f(b_edge + 4.0)
        );
        w!(
            o,
            r#"<text x="{}" y="{}" text-anchor="middle">{}%</text>"#,
            f(x),
            f(b_edge + 16.0),
            t as i64
        );
    }
    w!(
        o,
        r#"<path d="M{} {}V{}H{}" fill="none" stroke="{INK}"/>"#,
        f(left),
        f(top - 4.0),
        f(b_edge),
        f(left + plot_w)
    );
    for (i, row) in c.rows.iter().enumerate() {
        let y0 = top + row_h * i as f64 + 5.0;
        w!(
            o,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            f(left - 6.0),
            f(y0 + bar_h * k as f64 / 2.0 + 4.0),
            esc(&row.label)
        );
        for (j, s) in row.shares.iter().enumerate().take(k) {
            let y = y0 + bar_h * j as f64;
            let text = label(*s);
            if s.of > 0 {
                let bw = fr.sx(100.0 * s.count as f64 / s.of as f64) - left;
                let series = c.series.get(j).map(String::as_str).unwrap_or("");
                bar_rect(
                    &mut o,
                    &pfx,
                    j,
                    (left, y + 1.0, bw, bar_h - 2.0),
                    &format!(
                        "{}{}{}: {text}",
                        row.label,
                        if series.is_empty() { "" } else { ", " },
                        series
                    ),
                );
                w!(
                    o,
                    r#"<text x="{}" y="{}" font-size="10">{}</text>"#,
                    f(left + bw + 4.0),
                    f(y + bar_h - 2.5),
                    esc(&text)
                );
            } else {
                w!(
                    o,
                    r##"<text x="{}" y="{}" font-size="10" fill="#666666">n/a</text>"##,
                    f(left + 4.0),
                    f(y + bar_h - 2.5)
                );
            }
        }
    }
    if !c.x_label.is_empty() {
        w!(
            o,
            r#"<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text>"#,
            f(left + plot_w / 2.0),
            f(b_edge + 34.0),
            esc(&c.x_label)
        );
    }
    let (lg, _) = legend_with_patterns(&items, &pfx, 10.0, b_edge + 44.0, w - 20.0);
    o.push_str(&lg);
    o.push_str("</svg>");
    o
}

/// The legend, with each swatch filled as its series' bars are.
fn legend_with_patterns(
    items: &[(Key, String)],
    pfx: &str,
    x0: f64,
    y0: f64,
    max_w: f64,
) -> (String, f64) {
    let (mut o, h) = legend(items, x0, y0, max_w);
    // `legend` draws plain swatches; lay the same patterns over them, in the same places.
    let row_h = 17.0;
    let (mut x, mut y) = (x0, y0);
    for (i, (_, label)) in items.iter().enumerate() {
        let iw = 30.0 + tw(label, 11.0) + 16.0;
        if x > x0 && x + iw > x0 + max_w {
            x = x0;
            y += row_h;
        }
        let p = i % PATTERNS;
        if p > 0 {
            w!(
                o,
                r#"<rect x="{}" y="{}" width="24" height="10" fill="url(#{pfx}-p{p})"/>"#,
                f(x),
                f(y + row_h / 2.0 - 5.0)
            );
        }
        x += iw;
    }
    (o, h)
}
