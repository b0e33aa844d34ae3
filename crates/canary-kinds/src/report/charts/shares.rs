//! Shares of a whole as horizontal bars on a fixed 0–100% axis: one row per item, one bar per
//! series side by side in it (told apart by colour *and* fill pattern, so a greyscale print
//! keeps them apart), each labelled with its percentage and its count — how often each
//! predictor is selected across a sweep's fits.

use super::core::*;
use super::{INK, PALETTE};

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
    let l = Layout::new(c);
    let (fr, w) = (&l.fr, l.w);
    let mut o = String::new();
    svg_open(
        &mut o,
        w,
        l.h,
        &c.title,
        &format!("Horizontal bars of shares from 0% to 100%: {}", c.x_label),
    );
    o.push_str(&pattern_defs(&l.pfx));
    title_text(&mut o, &c.title, w / 2.0, 18.0, w - 20.0);
    let b_edge = fr.top + fr.h;
    let ticks: Vec<(f64, String)> = [0.0, 25.0, 50.0, 75.0, 100.0]
        .into_iter()
        .map(|t| (t, format!("{}%", t as i64)))
        .collect();
    fr.value_ticks(&mut o, &ticks);
    w!(
        o,
        r#"<path d="M{} {}V{}H{}" fill="none" stroke="{INK}"/>"#,
        f(fr.left),
        f(fr.top - 4.0),
        f(b_edge),
        f(fr.left + fr.w)
    );
    for (i, row) in c.rows.iter().enumerate() {
        l.row(&mut o, c, i, row);
    }
    fr.value_title(&mut o, &c.x_label);
    let (lg, _) = legend_with_patterns(&l.items, &l.pfx, 10.0, b_edge + 44.0, w - 20.0);
    o.push_str(&lg);
    o.push_str("</svg>");
    o
}

/// The share chart's geometry, worked out once from the rows, the series and the labels.
struct Layout {
    pfx: String,
    /// Bars per row: one per series, at least one.
    k: usize,
    bar_h: f64,
    row_h: f64,
    /// The shares across (0 to 100), the rows down.
    fr: Frame,
    /// The legend's entries: none for a single series.
    items: Vec<(Key, String)>,
    w: f64,
    h: f64,
}

impl Layout {
    /// A fixed-width plot; margins from the widest labels, height from the rows and legend.
    fn new(c: &ShareChart) -> Layout {
        let k = c.series.len().max(1);
        let bar_h = 12.0;
        let row_h = 10.0 + bar_h * k as f64;
        let lab_w = widest(c.rows.iter().map(|r| &r.label), 11.0);
        let val_w = widest(
            c.rows
                .iter()
                .flat_map(|r| r.shares.iter().map(|s| label(*s))),
            10.0,
        ) + 10.0;
        let plot_w = 320.0;
        let left = lab_w + 16.0;
        let w = left + plot_w + val_w + 10.0;
        let top = 32.0 + extra_title_height(title_lines(&c.title, w - 20.0));
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
        Layout {
            pfx: idp("shares", &c.title),
            k,
            bar_h,
            row_h,
            fr,
            items,
            w,
            h: top + ph + 46.0 + leg_h,
        }
    }

    /// Row `i`: its label, then one bar per series with its percentage and count, or "n/a".
    fn row(&self, o: &mut String, c: &ShareChart, i: usize, row: &ShareRow) {
        let (left, bar_h, k) = (self.fr.left, self.bar_h, self.k);
        let y0 = self.fr.top + self.row_h * i as f64 + 5.0;
        row_label(o, left, y0 + bar_h * k as f64 / 2.0, &row.label);
        for (j, s) in row.shares.iter().enumerate().take(k) {
            let y = y0 + bar_h * j as f64;
            let text = label(*s);
            if s.of == 0 {
                not_available(o, left + 4.0, y + bar_h - 2.5);
                continue;
            }
            let bw = self.fr.sx(100.0 * s.count as f64 / s.of as f64) - left;
            let series = c.series.get(j).map(String::as_str).unwrap_or("");
            bar_rect(
                o,
                &self.pfx,
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
        }
    }
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
