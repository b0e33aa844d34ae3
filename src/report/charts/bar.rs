//! Horizontal bars around a zero line: positive bars solid, negative ones hatched.

use super::core::*;
use super::{GRID, INK};

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
    let pfx = idp("bar", &b.title);
    let dec = b.decimals.min(6);
    let vlab = |v: f64| {
        if !v.is_finite() {
            return "n/a".to_string();
        }
        let s = format!("{v:.dec$}");
        if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
            s[1..].to_string()
        } else {
            s
        }
    };
    let (mn, mx) = finite_minmax(b.bars.iter().map(|x| x.value)).unwrap_or((0.0, 0.0));
    let (lo, hi) = (mn.min(0.0), mx.max(0.0));
    let (x0, x1, ticks, step) = if lo == hi {
        nice_ticks(-1.0, 1.0, 4)
    } else {
        nice_ticks(lo, hi, 5)
    };
    let lab_w = b
        .bars
        .iter()
        .map(|x| tw(&x.label, 11.0))
        .fold(0.0, f64::max);
    let val_w = b
        .bars
        .iter()
        .map(|x| tw(&vlab(x.value), 10.0))
        .fold(0.0, f64::max)
        + 8.0;
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
    let top = 32.0 + (title_lines(&b.title, w - 20.0).max(1) - 1) as f64 * TITLE_LINE;
    let h = top + ph + 46.0;
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
    let mut o = String::new();
    svg_open(
        &mut o,
        w,
        h,
        &b.title,
        &format!("Horizontal bar chart: {}", b.x_label),
    );
    w!(
        o,
        r##"<defs><pattern id="{pfx}-neg" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-opacity="0.6" stroke-width="2"/></pattern></defs>"##
    );
    title_text(&mut o, &b.title, w / 2.0, 18.0, w - 20.0);
    let b_edge = top + ph;
    for t in &ticks {
        let x = fr.sx(*t);
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
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            f(x),
            f(b_edge + 16.0),
            tick_label(*t, step)
        );
    }
    w!(
        o,
        r#"<line x1="{}" y1="{2}" x2="{}" y2="{2}" stroke="{INK}"/>"#,
        f(fr.left - pad_l),
        f(fr.left + plot_w + pad_r),
        f(b_edge)
    );
    let zx = fr.sx(0.0);
    for (i, bar) in b.bars.iter().enumerate() {
        let cy = top + row * i as f64 + row / 2.0;
        w!(
            o,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            f(left - 6.0),
            f(cy + 4.0),
            esc(&bar.label)
        );
        let v = bar.value;
        if !v.is_finite() {
            w!(
                o,
                r##"<text x="{}" y="{}" font-size="10" fill="#666666">n/a</text>"##,
                f(zx + 4.0),
                f(cy + 3.5)
            );
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
            vlab(v)
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
            vlab(v)
        );
    }
    w!(
        o,
        r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{INK}" stroke-width="1.5"/>"#,
        f(zx),
        f(top - 4.0),
        f(b_edge)
    );
    if !b.x_label.is_empty() {
        w!(
            o,
            r#"<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text>"#,
            f(fr.left + plot_w / 2.0),
            f(b_edge + 34.0),
            esc(&b.x_label)
        );
    }
    o.push_str("</svg>");
    o
}
