//! Horizontal bars around a zero line: positive bars solid, negative ones hatched.

use super::core::*;
use super::INK;

/// One horizontal bar. NaN values show "n/a" and no bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
}

/// Horizontal bars around a zero line, drawn top to bottom in the given order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarChart {
    pub title: String,
    /// Value axis title with unit, e.g. "Spearman rho with re-referrals".
    pub x_label: String,
    pub bars: Vec<Bar>,
    /// Decimals of the value labels at the bar ends.
    pub decimals: usize,
    /// Plot-area width in px; 0 uses 380.
    pub plot_width: f64,
}

/// Horizontal bar chart: positive bars blue/solid, negative orange/hatched.
pub fn bar_chart(b: &BarChart) -> String {
    if b.bars.is_empty() {
        return no_data_svg(&b.title, 480.0, 200.0);
    }
    let l = Layout::new(b);
    let (fr, pfx) = (&l.fr, &l.pfx);
    let mut o = String::new();
    svg_open(
        &mut o,
        l.w,
        l.h,
        &b.title,
        &format!("Horizontal bar chart: {}", b.x_label),
    );
    w!(
        o,
        r##"<defs><pattern id="{pfx}-neg" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-opacity="0.6" stroke-width="2"/></pattern></defs>"##
    );
    title_text(&mut o, &b.title, l.w / 2.0, 18.0, l.w - 20.0);
    let b_edge = fr.top + fr.h;
    fr.value_ticks(&mut o, &l.ticks);
    w!(
        o,
        r#"<line x1="{}" y1="{2}" x2="{}" y2="{2}" stroke="{INK}"/>"#,
        f(fr.left - l.pad_l),
        f(fr.left + fr.w + l.pad_r),
        f(b_edge)
    );
    l.bars(&mut o, b);
    w!(
        o,
        r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{INK}" stroke-width="1.5"/>"#,
        f(fr.sx(0.0)),
        f(fr.top - 4.0),
        f(b_edge)
    );
    fr.value_title(&mut o, &b.x_label);
    o.push_str("</svg>");
    o
}

/// A bar's value with `dec` decimals, "n/a" if not finite, never "-0".
fn value_label(v: f64, dec: usize) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let s = format!("{v:.dec$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// The bar chart's geometry, worked out once from the values and the labels.
struct Layout {
    pfx: String,
    dec: usize,
    /// The labels' right edge (the plot starts `pad_l` further right).
    left: f64,
    /// Room left of the plot for the labels of negative bars.
    pad_l: f64,
    /// Room right of the plot for the labels of positive bars.
    pad_r: f64,
    row: f64,
    /// The value axis across, the rows down.
    fr: Frame,
    ticks: Vec<(f64, String)>,
    w: f64,
    h: f64,
}

impl Layout {
    /// A value axis through 0 covering every bar; margins from the widest labels.
    fn new(b: &BarChart) -> Layout {
        let dec = b.decimals.min(6);
        let (mn, mx) = finite_minmax(b.bars.iter().map(|x| x.value)).unwrap_or((0.0, 0.0));
        let (lo, hi) = (mn.min(0.0), mx.max(0.0));
        let (x0, x1, ticks, step) = if lo == hi {
            nice_ticks(-1.0, 1.0, 4)
        } else {
            nice_ticks(lo, hi, 5)
        };
        let lab_w = widest(b.bars.iter().map(|x| &x.label), 11.0);
        let val_w = widest(b.bars.iter().map(|x| value_label(x.value, dec)), 10.0) + 8.0;
        let row = 22.0;
        let plot_w = if b.plot_width.is_finite() && b.plot_width > 60.0 {
            b.plot_width
        } else {
            380.0
        };
        let left = lab_w + 16.0;
        let pad_l = if mn < 0.0 { val_w } else { 4.0 };
        let pad_r = val_w.max(12.0);
        let ph = row * b.bars.len() as f64;
        let w = left + pad_l + plot_w + pad_r + 10.0;
        let top = 32.0 + extra_title_height(title_lines(&b.title, w - 20.0));
        let fr = Frame {
            left: left + pad_l,
            top,
            w: plot_w,
            h: ph,
            x0,
            x1,
            y0: 0.0,
            y1: 1.0,
        };
        Layout {
            pfx: idp("bar", &b.title),
            dec,
            left,
            pad_l,
            pad_r,
            row,
            fr,
            ticks: labelled_ticks(&ticks, step),
            w,
            h: top + ph + 46.0,
        }
    }

    /// Each row: its label, and its bar from 0 with the value at the bar's end (a negative
    /// bar hatched), or "n/a".
    fn bars(&self, o: &mut String, b: &BarChart) {
        let (fr, pfx, row) = (&self.fr, &self.pfx, self.row);
        let zx = fr.sx(0.0);
        for (i, bar) in b.bars.iter().enumerate() {
            let cy = fr.top + row * i as f64 + row / 2.0;
            row_label(o, self.left, cy, &bar.label);
            let v = bar.value;
            if !v.is_finite() {
                not_available(o, zx + 4.0, cy + 3.5);
                continue;
            }
            let vx = fr.sx(v);
            let (x, bw) = (zx.min(vx), (vx - zx).abs());
            let (col, anchor, lx) = if v < 0.0 {
                ("#D55E00", "end", vx - 4.0)
            } else {
                ("#0072B2", "start", vx + 4.0)
            };
            w!(
                o,
                r#"<rect x="{}" y="{}" width="{}" height="14" fill="{col}"><title>{}: {}</title></rect>"#,
                f(x),
                f(cy - 7.0),
                f(bw),
                esc(&bar.label),
                value_label(v, self.dec)
            );
            if v < 0.0 {
                w!(
                    o,
                    r#"<rect x="{}" y="{}" width="{}" height="14" fill="url(#{pfx}-neg)"/>"#,
                    f(x),
                    f(cy - 7.0),
                    f(bw)
                );
            }
            w!(
                o,
                r#"<text x="{}" y="{}" text-anchor="{anchor}" font-size="10">{}</text>"#,
                f(lx),
                f(cy + 3.5),
                value_label(v, self.dec)
            );
        }
    }
}
