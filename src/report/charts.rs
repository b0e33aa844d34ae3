//! Pure-Rust, dependency-free SVG charts for the canary report.
//!
//! Every public function returns one self-contained `<svg>` element as a
//! `String`: `xmlns`, `viewBox`, `width`/`height`, `role="img"`, a `<title>`,
//! no scripts, no external resources, all caller text XML-escaped.
//!
//! Output is deterministic: inputs are visited in the order given (sorting,
//! where done, is stable and documented), floats are written with two
//! decimals, and ids are derived from a hash of the chart title so several
//! charts can be inlined in one HTML page without id clashes.
//!
//! Series are told apart by the Okabe-Ito palette *and* by dash pattern and
//! marker shape, so charts stay readable in greyscale and for colour-blind
//! readers. Degenerate inputs (empty, one point, NaN, all-equal values) never
//! panic; an empty chart shows "no data".

use std::fmt::Write;

macro_rules! w {
    ($dst:expr, $($arg:tt)*) => {{ let _ = write!($dst, $($arg)*); }};
}

/// Okabe-Ito palette, in the order series are coloured.
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];
/// Dash patterns, one per series index (first is solid).
pub const DASHES: [&str; 8] = ["", "7 3", "2 2", "9 3 2 3", "1 3", "12 4", "5 2 1 2 1 2", "3 5"];
const FONT: &str = "system-ui, sans-serif";
const GRID: &str = "#e3e3e3";
const INK: &str = "#222222";

// ---------------------------------------------------------------- helpers

/// Fixed two-decimal float formatting; non-finite becomes 0, `-0.00` becomes `0.00`.
fn f(x: f64) -> String {
    let v = if x.is_finite() { x } else { 0.0 };
    let s = format!("{v:.2}");
    if s == "-0.00" { "0.00".to_string() } else { s }
}

/// Escape text for XML content and attribute values.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // drop control characters that are not allowed in XML 1.0
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r' => {}
            c => o.push(c),
        }
    }
    o
}

/// Rough text width in px for the system sans-serif at `size` px.
fn tw(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * 0.58
}

/// Deterministic id prefix from chart kind and title (FNV-1a).
fn idp(kind: &str, title: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in kind.bytes().chain([0u8]).chain(title.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("canary-{kind}-{:08x}", (h ^ (h >> 32)) as u32)
}

fn dash_attr(i: usize) -> String {
    let d = DASHES[i % DASHES.len()];
    if d.is_empty() { String::new() } else { format!(r#" stroke-dasharray="{d}""#) }
}

/// A step of 1, 2, 2.5 or 5 × 10^k giving about `target` intervals over `range`.
fn nice_step(range: f64, target: usize) -> f64 {
    let raw = range / target.max(1) as f64;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 2.5 {
        2.5
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Widen a degenerate or non-finite range to something drawable.
fn sane_range(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    if hi - lo > 1e-12 * (lo.abs().max(hi.abs())).max(1e-300) {
        (lo, hi)
    } else {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    }
}

/// Nice ticks covering `[lo, hi]`; returns (domain lo, domain hi, ticks, step).
fn nice_ticks(lo: f64, hi: f64, target: usize) -> (f64, f64, Vec<f64>, f64) {
    let (lo, hi) = sane_range(lo, hi);
    let step = nice_step(hi - lo, target);
    let k0 = (lo / step - 1e-9).floor();
    let k1 = (hi / step + 1e-9).ceil();
    let n = ((k1 - k0) as i64).clamp(1, 60);
    let ticks: Vec<f64> = (0..=n).map(|i| (k0 + i as f64) * step).collect();
    (ticks[0], ticks[ticks.len() - 1], ticks, step)
}

/// Label for a tick value with just enough decimals for `step`.
fn tick_label(v: f64, step: f64) -> String {
    let mut dec = if step > 0.0 && step.is_finite() { (-step.log10().floor()).max(0.0) as usize } else { 0 };
    let m = step / 10f64.powf(step.log10().floor());
    if (m - 2.5).abs() < 1e-6 {
        dec += 1;
    }
    let dec = dec.min(8);
    let s = format!("{v:.dec$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') { s[1..].to_string() } else { s }
}

fn finite_minmax<I: IntoIterator<Item = f64>>(it: I) -> Option<(f64, f64)> {
    let mut r: Option<(f64, f64)> = None;
    for v in it.into_iter().filter(|v| v.is_finite()) {
        r = Some(match r {
            None => (v, v),
            Some((a, b)) => (a.min(v), b.max(v)),
        });
    }
    r
}

fn svg_open(out: &mut String, w: f64, h: f64, title: &str, desc: &str) {
    w!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="{1}" viewBox="0 0 {0} {1}" role="img" font-family="{FONT}" font-size="11" fill="{INK}">"#,
        f(w),
        f(h)
    );
    w!(out, "<title>{}</title>", esc(title));
    if !desc.is_empty() {
        w!(out, "<desc>{}</desc>", esc(desc));
    }
    w!(out, r##"<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>"##, f(w), f(h));
}

fn no_data_svg(title: &str, w: f64, h: f64) -> String {
    let mut o = String::new();
    svg_open(&mut o, w, h, title, "no data");
    title_text(&mut o, title, w / 2.0, 20.0);
    w!(o, r##"<text x="{}" y="{}" text-anchor="middle" font-size="14" fill="#666666">no data</text>"##, f(w / 2.0), f(h / 2.0));
    o.push_str("</svg>");
    o
}

fn title_text(o: &mut String, title: &str, cx: f64, y: f64) {
    if !title.is_empty() {
        w!(o, r#"<text x="{}" y="{}" text-anchor="middle" font-size="13" font-weight="bold">{}</text>"#, f(cx), f(y), esc(title));
    }
}

/// Marker shape `i` (mod 8) centred at (x, y) with radius r.
fn marker(i: usize, x: f64, y: f64, r: f64, color: &str) -> String {
    let (x, y) = (f(x), f(y));
    let xf: f64 = x.parse().unwrap_or(0.0);
    let yf: f64 = y.parse().unwrap_or(0.0);
    let p = |pts: &[(f64, f64)]| -> String {
        pts.iter().map(|(a, b)| format!("{},{}", f(xf + a * r), f(yf + b * r))).collect::<Vec<_>>().join(" ")
    };
    match i % 8 {
        0 => format!(r#"<circle cx="{x}" cy="{y}" r="{}" fill="{color}"/>"#, f(r)),
        1 => format!(r#"<rect x="{}" y="{}" width="{2}" height="{2}" fill="{color}"/>"#, f(xf - r * 0.85), f(yf - r * 0.85), f(r * 1.7)),
        2 => format!(r#"<polygon points="{}" fill="{color}"/>"#, p(&[(0.0, -1.2), (1.1, 0.8), (-1.1, 0.8)])),
        3 => format!(r#"<polygon points="{}" fill="{color}"/>"#, p(&[(0.0, -1.25), (1.25, 0.0), (0.0, 1.25), (-1.25, 0.0)])),
        4 => format!(r#"<polygon points="{}" fill="{color}"/>"#, p(&[(0.0, 1.2), (1.1, -0.8), (-1.1, -0.8)])),
        5 => format!(
            r#"<path d="M{} {}H{}M{} {}V{}" stroke="{color}" stroke-width="2.2" fill="none"/>"#,
            f(xf - r * 1.2), y, f(xf + r * 1.2), x, f(yf - r * 1.2), f(yf + r * 1.2)
        ),
        6 => format!(
            r#"<path d="M{} {}L{} {}M{} {}L{} {}" stroke="{color}" stroke-width="2.2" fill="none"/>"#,
            f(xf - r), f(yf - r), f(xf + r), f(yf + r), f(xf - r), f(yf + r), f(xf + r), f(yf - r)
        ),
        _ => format!(r##"<circle cx="{x}" cy="{y}" r="{}" fill="#ffffff" stroke="{color}" stroke-width="2"/>"##, f(r)),
    }
}

/// What a legend entry shows before its label.
enum Key {
    /// Line sample with series index `i` (colour, dash, marker).
    Series(usize),
    /// Line sample with explicit colour / dash, no marker.
    Line(&'static str, &'static str),
    /// Filled swatch with fill opacity.
    Band(&'static str, f64),
    /// Box with a coloured border and dash of index i (DAG groups).
    Boxed(usize),
    /// Point with error bar.
    ErrPoint(&'static str, &'static str),
}

/// Lay out legend entries left to right, wrapping at `max_w`. Returns (svg, height).
fn legend(items: &[(Key, String)], x0: f64, y0: f64, max_w: f64) -> (String, f64) {
    let mut o = String::new();
    if items.is_empty() {
        return (o, 0.0);
    }
    let row_h = 17.0;
    let (mut x, mut y) = (x0, y0);
    for (key, label) in items {
        let iw = 30.0 + tw(label, 11.0) + 16.0;
        if x > x0 && x + iw > x0 + max_w {
            x = x0;
            y += row_h;
        }
        let cy = y + row_h / 2.0;
        match key {
            Key::Series(i) => {
                let c = PALETTE[i % 8];
                w!(o, r#"<line x1="{}" y1="{2}" x2="{}" y2="{2}" stroke="{c}" stroke-width="2"{3}/>"#, f(x), f(x + 24.0), f(cy), dash_attr(*i));
                o.push_str(&marker(*i, x + 12.0, cy, 3.5, c));
            }
            Key::Line(c, d) => {
                let da = if d.is_empty() { String::new() } else { format!(r#" stroke-dasharray="{d}""#) };
                w!(o, r#"<line x1="{}" y1="{2}" x2="{}" y2="{2}" stroke="{c}" stroke-width="1.6"{da}/>"#, f(x), f(x + 24.0), f(cy));
            }
            Key::Band(c, op) => {
                w!(o, r#"<rect x="{}" y="{}" width="24" height="10" fill="{c}" fill-opacity="{}"/>"#, f(x), f(cy - 5.0), f(*op));
            }
            Key::Boxed(i) => {
                let c = PALETTE[i % 8];
                w!(o, r#"<rect x="{}" y="{}" width="24" height="11" rx="2" fill="{c}" fill-opacity="0.15" stroke="{c}" stroke-width="2"{}/>"#, f(x), f(cy - 5.5), dash_attr(*i));
            }
            Key::ErrPoint(pc, bc) => {
                w!(o, r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{bc}" stroke-width="1.2"/>"#, f(x + 12.0), f(cy - 6.0), f(cy + 6.0));
                o.push_str(&marker(0, x + 12.0, cy, 3.0, pc));
            }
        }
        w!(o, r#"<text x="{}" y="{}">{}</text>"#, f(x + 30.0), f(cy + 4.0), esc(label));
        x += iw;
    }
    (o, y - y0 + row_h)
}

/// Height a legend will take (same wrapping as [`legend`]).
fn legend_height(items: &[(Key, String)], max_w: f64) -> f64 {
    legend(items, 0.0, 0.0, max_w).1
}

/// Linear mapping of a data frame onto a pixel rectangle.
struct Frame {
    left: f64,
    top: f64,
    w: f64,
    h: f64,
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn sx(&self, x: f64) -> f64 {
        let d = if self.x1 - self.x0 != 0.0 { self.x1 - self.x0 } else { 1.0 };
        self.left + (x - self.x0) / d * self.w
    }
    fn sy(&self, y: f64) -> f64 {
        let d = if self.y1 - self.y0 != 0.0 { self.y1 - self.y0 } else { 1.0 };
        self.top + self.h - (y - self.y0) / d * self.h
    }
    /// Grid lines, axes, tick labels and axis titles.
    fn axes(&self, o: &mut String, xt: &[(f64, String)], yt: &[(f64, String)], x_title: &str, y_title: &str, y_title_x: f64) {
        let (l, t, r, b) = (self.left, self.top, self.left + self.w, self.top + self.h);
        for (v, lab) in yt {
            let y = self.sy(*v);
            w!(o, r#"<line x1="{}" y1="{2}" x2="{}" y2="{2}" stroke="{GRID}" stroke-width="1"/>"#, f(l), f(r), f(y));
            w!(o, r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#, f(l - 6.0), f(y + 4.0), esc(lab));
        }
        for (v, lab) in xt {
            let x = self.sx(*v);
            w!(o, r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{INK}" stroke-width="1"/>"#, f(x), f(b), f(b + 4.0));
            w!(o, r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#, f(x), f(b + 16.0), esc(lab));
        }
        w!(o, r#"<path d="M{} {}V{}H{}" fill="none" stroke="{INK}" stroke-width="1"/>"#, f(l), f(t), f(b), f(r));
        if !x_title.is_empty() {
            w!(o, r#"<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text>"#, f((l + r) / 2.0), f(b + 32.0), esc(x_title));
        }
        if !y_title.is_empty() {
            let cy = (t + b) / 2.0;
            w!(
                o,
                r#"<text x="{0}" y="{1}" text-anchor="middle" font-size="12" transform="rotate(-90 {0} {1})">{2}</text>"#,
                f(y_title_x),
                f(cy),
                esc(y_title)
            );
        }
    }
}

/// Split a sequence into runs of consecutive `Some` values.
fn runs<T: Copy>(v: &[Option<T>]) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for x in v {
        match x {
            Some(p) => cur.push(*p),
            None => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn pts(v: &[(f64, f64)]) -> String {
    v.iter().map(|(x, y)| format!("{},{}", f(*x), f(*y))).collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------- 1. trends

/// One year of one series: the median and inter-quartile range across LAs.
/// NaN in `median` breaks the line; NaN in `q1`/`q3` breaks the band.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    pub year: i32,
    pub median: f64,
    pub q1: f64,
    pub q3: f64,
}

/// A named series (e.g. "All LAs" or "Ofsted: Good"). Points are drawn in
/// year order (stable sort of the given points).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrendSeries {
    pub name: String,
    pub points: Vec<TrendPoint>,
}

/// A vertical dashed marker at a definition break, e.g. `2014.5`, "single assessment".
#[derive(Debug, Clone, PartialEq)]
pub struct DefinitionBreak {
    pub year: f64,
    pub label: String,
}

/// Figure 2 small multiple: one indicator over years.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrendChart {
    /// Chart title (the indicator name); also the SVG `<title>`.
    pub title: String,
    /// X axis title, e.g. "Year (ending 31 March)". Empty gives "Year".
    pub x_label: String,
    /// Y axis title with unit, e.g. "Rate per 10,000 children".
    pub y_label: String,
    pub series: Vec<TrendSeries>,
    pub breaks: Vec<DefinitionBreak>,
    /// Pixel size; 0 or negative uses 480 × 320.
    pub width: f64,
    pub height: f64,
}

fn trend_legend_items(c: &TrendChart) -> Vec<(Key, String)> {
    let mut items = Vec::new();
    if c.series.len() > 1 {
        for (i, s) in c.series.iter().enumerate() {
            items.push((Key::Series(i), s.name.clone()));
        }
        items.push((Key::Band("#777777", 0.3), "shaded: IQR (q1 to q3)".to_string()));
    } else {
        let name = c.series.first().map(|s| s.name.as_str()).filter(|n| !n.is_empty()).unwrap_or("median");
        items.push((Key::Series(0), format!("{name} (median)")));
        items.push((Key::Band(PALETTE[0], 0.2), "IQR (q1 to q3)".to_string()));
    }
    items
}

/// Body of a trend chart in local coordinates (0,0)-(w,h), without `<svg>`.
fn trend_body(c: &TrendChart, w: f64, h: f64) -> String {
    let mut o = String::new();
    title_text(&mut o, &c.title, w / 2.0, 17.0);
    let finite_pt = |p: &TrendPoint| p.median.is_finite() || p.q1.is_finite() || p.q3.is_finite();
    let years = finite_minmax(
        c.series
            .iter()
            .flat_map(|s| s.points.iter().filter(|p| finite_pt(p)).map(|p| p.year as f64)),
    );
    let vals = finite_minmax(c.series.iter().flat_map(|s| s.points.iter().flat_map(|p| [p.median, p.q1, p.q3])));
    let (Some((ya, yb)), Some((va, vb))) = (years, vals) else {
        w!(o, r##"<text x="{}" y="{}" text-anchor="middle" font-size="14" fill="#666666">no data</text>"##, f(w / 2.0), f(h / 2.0));
        return o;
    };
    let (ya, yb) = finite_minmax([ya, yb].into_iter().chain(c.breaks.iter().map(|b| b.year))).unwrap_or((ya, yb));
    // x: years
    let (x0, x1) = (ya - 0.5, yb + 0.5);
    let mut step = nice_step(yb - ya, 6).max(1.0);
    if step.fract() != 0.0 {
        step = step.ceil();
    }
    let xt: Vec<(f64, String)> = {
        let k0 = (ya / step).ceil() as i64;
        let k1 = (yb / step).floor() as i64;
        (k0..=k1.min(k0 + 60)).map(|k| (k as f64 * step, format!("{}", k as f64 * step))).collect()
    };
    // y: values (include 0 when close, so rates don't look exaggerated)
    let va2 = if va > 0.0 && va < (vb - va) * 0.5 { 0.0 } else { va };
    let (y0, y1, yticks, ystep) = nice_ticks(va2, vb, 5);
    let yt: Vec<(f64, String)> = yticks.iter().map(|v| (*v, tick_label(*v, ystep))).collect();
    let ytw = yt.iter().map(|(_, l)| tw(l, 11.0)).fold(0.0, f64::max);
    let items = trend_legend_items(c);
    let left = ytw + 30.0;
    let right = 14.0;
    let plot_w = (w - left - right).max(40.0);
    let leg_h = legend_height(&items, w - 20.0);
    let nb_rows = c.breaks.len().min(3) as f64;
    let top = 28.0 + nb_rows * 12.0;
    let bottom = 40.0 + leg_h + 4.0;
    let fr = Frame { left, top, w: plot_w, h: (h - top - bottom).max(30.0), x0, x1, y0, y1 };
    fr.axes(&mut o, &xt, &yt, if c.x_label.is_empty() { "Year" } else { &c.x_label }, &c.y_label, 14.0);
    // definition breaks
    for (i, b) in c.breaks.iter().enumerate() {
        if !b.year.is_finite() {
            continue;
        }
        let x = fr.sx(b.year);
        let ly = 28.0 + (i % 3) as f64 * 12.0 + 6.0;
        w!(o, r##"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#555555" stroke-width="1.2" stroke-dasharray="4 3"/>"##, f(x), f(ly + 2.0), f(fr.top + fr.h));
        // keep the label inside the panel
        let lw = tw(&b.label, 10.0);
        let (lx, anchor) = if x + 3.0 + lw > w - 2.0 { (x - 3.0, "end") } else { (x + 3.0, "start") };
        w!(o, r##"<text x="{}" y="{}" text-anchor="{anchor}" font-size="10" fill="#444444">{}</text>"##, f(lx), f(ly), esc(&b.label));
    }
    // bands first (under all lines), then lines and markers
    for (i, s) in c.series.iter().enumerate() {
        let col = PALETTE[i % 8];
        let mut p = s.points.clone();
        p.sort_by_key(|p| p.year);
        let band: Vec<Option<(f64, f64, f64)>> = p
            .iter()
            .map(|p| (p.q1.is_finite() && p.q3.is_finite()).then(|| (fr.sx(p.year as f64), fr.sy(p.q1), fr.sy(p.q3))))
            .collect();
        for run in runs(&band) {
            if run.len() == 1 {
                let (x, a, b) = run[0];
                w!(o, r#"<rect x="{}" y="{}" width="8" height="{}" fill="{col}" fill-opacity="0.2"/>"#, f(x - 4.0), f(a.min(b)), f((a - b).abs()));
            } else {
                let mut poly: Vec<(f64, f64)> = run.iter().map(|(x, _, b)| (*x, *b)).collect();
                poly.extend(run.iter().rev().map(|(x, a, _)| (*x, *a)));
                w!(o, r#"<polygon points="{}" fill="{col}" fill-opacity="0.18" stroke="{col}" stroke-opacity="0.5" stroke-width="0.8"{}/>"#, pts(&poly), dash_attr(i));
            }
        }
    }
    for (i, s) in c.series.iter().enumerate() {
        let col = PALETTE[i % 8];
        let mut p = s.points.clone();
        p.sort_by_key(|p| p.year);
        let line: Vec<Option<(f64, f64)>> =
            p.iter().map(|p| p.median.is_finite().then(|| (fr.sx(p.year as f64), fr.sy(p.median)))).collect();
        w!(o, r#"<g><title>{}</title>"#, esc(&s.name));
        for run in runs(&line) {
            if run.len() > 1 {
                w!(o, r#"<polyline points="{}" fill="none" stroke="{col}" stroke-width="2"{}/>"#, pts(&run), dash_attr(i));
            }
            for (x, y) in run {
                o.push_str(&marker(i, x, y, 3.5, col));
            }
        }
        o.push_str("</g>");
    }
    let (lg, _) = legend(&items, 10.0, fr.top + fr.h + 38.0, w - 20.0);
    o.push_str(&lg);
    o
}

fn size_or(w: f64, h: f64, dw: f64, dh: f64) -> (f64, f64) {
    let w = if w.is_finite() && w > 0.0 { w } else { dw };
    let h = if h.is_finite() && h > 0.0 { h } else { dh };
    (w, h)
}

/// Figure 2 panel: median line with markers and shaded IQR band per series,
/// dashed vertical markers at definition breaks.
pub fn trend_chart(c: &TrendChart) -> String {
    let (w, h) = size_or(c.width, c.height, 480.0, 320.0);
    let mut o = String::new();
    let desc = format!("Trend of {} by year; median with inter-quartile band.", c.title);
    svg_open(&mut o, w, h, &c.title, &desc);
    o.push_str(&trend_body(c, w, h));
    o.push_str("</svg>");
    o
}

/// Several trend charts as a grid of small multiples in one SVG, `columns`
/// wide (0 is treated as 1), in the given order. Each panel uses its own
/// `width`/`height` or 360 × 260; the cell size is the largest panel.
pub fn trend_grid(charts: &[TrendChart], columns: usize) -> String {
    let title = if charts.is_empty() {
        "Indicator trends".to_string()
    } else {
        format!("Indicator trends: {}", charts.iter().map(|c| c.title.as_str()).collect::<Vec<_>>().join("; "))
    };
    if charts.is_empty() {
        return no_data_svg(&title, 480.0, 200.0);
    }
    let cols = columns.max(1).min(charts.len());
    let rows = charts.len().div_ceil(cols);
    let (mut cw, mut ch) = (0.0f64, 0.0f64);
    for c in charts {
        let (w, h) = size_or(c.width, c.height, 360.0, 260.0);
        cw = cw.max(w);
        ch = ch.max(h);
    }
    let gap = 10.0;
    let (w, h) = (cols as f64 * (cw + gap) + gap, rows as f64 * (ch + gap) + gap);
    let mut o = String::new();
    svg_open(&mut o, w, h, &title, "Small multiples of indicator trends; median line with inter-quartile band.");
    for (k, c) in charts.iter().enumerate() {
        let (x, y) = (gap + (k % cols) as f64 * (cw + gap), gap + (k / cols) as f64 * (ch + gap));
        w!(o, r#"<g transform="translate({},{})">"#, f(x), f(y));
        w!(o, r##"<rect x="0" y="0" width="{}" height="{}" fill="none" stroke="#cccccc"/>"##, f(cw), f(ch));
        o.push_str(&trend_body(c, cw, ch));
        o.push_str("</g>");
    }
    o.push_str("</svg>");
    o
}

// ---------------------------------------------------------------- 2. heatmap

/// Figure 3: square matrix of indicator × indicator values in [-1, 1].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Heatmap {
    pub title: String,
    /// Row and column labels (the matrix is `labels.len()` square).
    pub labels: Vec<String>,
    /// Row-major values; missing entries or NaN are drawn grey. Clamped to [-1, 1].
    pub values: Vec<Vec<f64>>,
    /// Optional per-cell count (e.g. number of years significant), same shape.
    pub annotations: Option<Vec<Vec<u32>>>,
    /// What the annotation counts, e.g. "years significant (p < 0.05)".
    pub annotation_label: String,
    /// Name of the colour scale, e.g. "Spearman rho".
    pub value_label: String,
}

/// Diverging colour: -1 dark blue, 0 near-white, +1 dark orange. Darkness grows
/// monotonically with |v|; the sign is also shown by hatching (negative) and
/// by the printed value, so greyscale prints stay unambiguous.
fn diverging(v: f64) -> String {
    let v = v.clamp(-1.0, 1.0);
    let mid = (247.0, 247.0, 247.0);
    let end = if v < 0.0 { (8.0, 69.0, 148.0) } else { (179.0, 88.0, 6.0) };
    let t = v.abs();
    let c = |a: f64, b: f64| (a + (b - a) * t).round().clamp(0.0, 255.0) as u8;
    format!("#{:02x}{:02x}{:02x}", c(mid.0, end.0), c(mid.1, end.1), c(mid.2, end.2))
}

/// Figure 3 heatmap with per-cell values (≤ 30 wide), optional annotation
/// counts, -45° column labels and a colour legend bar.
pub fn heatmap(hm: &Heatmap) -> String {
    let n = hm.labels.len();
    if n == 0 {
        return no_data_svg(&hm.title, 480.0, 200.0);
    }
    let pfx = idp("heat", &hm.title);
    let show_vals = n <= 30;
    let cell = if show_vals { (600.0 / n as f64).clamp(24.0, 46.0) } else { (640.0 / n as f64).max(6.0) };
    let lab_fs = if cell >= 14.0 { 11.0 } else { (cell * 0.8).max(6.0) };
    let max_lab = hm.labels.iter().map(|l| tw(l, lab_fs)).fold(0.0, f64::max);
    let left = max_lab + 14.0;
    let top = 34.0 + max_lab * 0.71 + 10.0;
    let side = cell * n as f64;
    let bar_x = left + side + 24.0;
    let right = (24.0 + 16.0 + 40.0 + 20.0f64).max(max_lab * 0.71 - 0.0 + 10.0);
    let has_ann = hm.annotations.is_some();
    let foot = if has_ann { 40.0 } else { 22.0 };
    let w = left + side + right;
    let h = top + side + foot;
    let mut o = String::new();
    let desc = format!("{} matrix of {} indicators; colour from -1 (blue) to +1 (orange), negative cells hatched.", hm.value_label, n);
    svg_open(&mut o, w, h, &hm.title, &desc);
    w!(
        o,
        r##"<defs><pattern id="{pfx}-neg" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-opacity="0.45" stroke-width="1.5"/></pattern></defs>"##
    );
    title_text(&mut o, &hm.title, w / 2.0, 18.0);
    let get = |i: usize, j: usize| hm.values.get(i).and_then(|r| r.get(j)).copied().unwrap_or(f64::NAN);
    // cells
    for i in 0..n {
        for j in 0..n {
            let v = get(i, j);
            let (x, y) = (left + j as f64 * cell, top + i as f64 * cell);
            if !v.is_finite() {
                w!(o, r##"<rect x="{}" y="{}" width="{2}" height="{2}" fill="#d9d9d9" stroke="#ffffff" stroke-width="0.5"/>"##, f(x), f(y), f(cell));
                continue;
            }
            let v = v.clamp(-1.0, 1.0);
            w!(o, r##"<rect x="{}" y="{}" width="{2}" height="{2}" fill="{3}" stroke="#ffffff" stroke-width="0.5"/>"##, f(x), f(y), f(cell), diverging(v));
            if v < 0.0 {
                w!(o, r#"<rect x="{}" y="{}" width="{2}" height="{2}" fill="url(#{pfx}-neg)"/>"#, f(x), f(y), f(cell));
            }
            let txt = if v.abs() > 0.5 { "#ffffff" } else { "#111111" };
            if show_vals {
                let s = format!("{v:.1}");
                let s = if s == "-0.0" { "0.0".to_string() } else { s };
                w!(
                    o,
                    r#"<text x="{}" y="{}" text-anchor="middle" font-size="{}" fill="{txt}">{s}</text>"#,
                    f(x + cell / 2.0),
                    f(y + cell / 2.0 + cell * 0.12),
                    f((cell * 0.34).min(12.0))
                );
            }
            if let Some(ann) = &hm.annotations {
                let a = ann.get(i).and_then(|r| r.get(j)).copied().unwrap_or(0);
                if cell >= 14.0 {
                    if a > 0 {
                        w!(o, r#"<text x="{}" y="{}" text-anchor="end" font-size="{}" fill="{txt}">{a}</text>"#, f(x + cell - 2.0), f(y + cell - 2.5), f((cell * 0.24).max(6.0)));
                    }
                } else if a > 0 {
                    w!(o, r#"<circle cx="{}" cy="{}" r="{}" fill="{txt}"/>"#, f(x + cell / 2.0), f(y + cell / 2.0), f(cell * 0.15));
                }
            }
        }
    }
    w!(o, r##"<rect x="{}" y="{}" width="{2}" height="{2}" fill="none" stroke="#555555"/>"##, f(left), f(top), f(side));
    // labels
    for (i, l) in hm.labels.iter().enumerate() {
        let c = i as f64 * cell + cell / 2.0;
        w!(o, r#"<text x="{}" y="{}" text-anchor="end" font-size="{}">{}</text>"#, f(left - 5.0), f(top + c + lab_fs * 0.35), f(lab_fs), esc(l));
        let (x, y) = (left + c + lab_fs * 0.3, top - 5.0);
        w!(o, r#"<text x="{0}" y="{1}" font-size="{2}" transform="rotate(-45 {0} {1})">{3}</text>"#, f(x), f(y), f(lab_fs), esc(l));
    }
    // colour legend bar
    let bar_h = side.clamp(80.0, 240.0);
    let steps = 40;
    for k in 0..steps {
        let v = 1.0 - 2.0 * (k as f64 + 0.5) / steps as f64;
        let y = top + bar_h * k as f64 / steps as f64;
        w!(o, r#"<rect x="{}" y="{}" width="16" height="{}" fill="{}"/>"#, f(bar_x), f(y), f(bar_h / steps as f64 + 0.3), diverging(v));
    }
    w!(o, r#"<rect x="{}" y="{}" width="16" height="{}" fill="url(#{pfx}-neg)"/>"#, f(bar_x), f(top + bar_h / 2.0), f(bar_h / 2.0));
    w!(o, r##"<rect x="{}" y="{}" width="16" height="{}" fill="none" stroke="#555555"/>"##, f(bar_x), f(top), f(bar_h));
    for v in [1.0, 0.5, 0.0, -0.5, -1.0] {
        let y = top + bar_h * (1.0 - v) / 2.0;
        w!(o, r##"<line x1="{}" y1="{2}" x2="{}" y2="{2}" stroke="#555555"/>"##, f(bar_x + 16.0), f(bar_x + 20.0), f(y));
        w!(o, r#"<text x="{}" y="{}">{}</text>"#, f(bar_x + 22.0), f(y + 4.0), tick_label(v, 0.5));
    }
    let lt = if hm.value_label.is_empty() { "value" } else { &hm.value_label };
    let (tx, ty) = (bar_x + 64.0, top + bar_h / 2.0);
    w!(o, r#"<text x="{0}" y="{1}" text-anchor="middle" font-size="12" transform="rotate(-90 {0} {1})">{2}</text>"#, f(tx), f(ty), esc(lt));
    let mut fy = top + side + 16.0;
    w!(o, r##"<text x="{}" y="{}" font-size="10" fill="#444444">Hatched = negative; grey = missing.</text>"##, f(left), f(fy));
    if has_ann {
        fy += 14.0;
        let what = if cell >= 14.0 { "Small number in cell corner" } else { "Dot in cell" };
        let al = if hm.annotation_label.is_empty() { "annotation count" } else { &hm.annotation_label };
        w!(o, r##"<text x="{}" y="{}" font-size="10" fill="#444444">{what}: {}</text>"##, f(left), f(fy), esc(al));
    }
    o.push_str("</svg>");
    o
}

// ---------------------------------------------------------------- 3. bars

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
        if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') { s[1..].to_string() } else { s }
    };
    let (mn, mx) = finite_minmax(b.bars.iter().map(|x| x.value)).unwrap_or((0.0, 0.0));
    let (lo, hi) = (mn.min(0.0), mx.max(0.0));
    let (x0, x1, ticks, step) = if lo == hi { nice_ticks(-1.0, 1.0, 4) } else { nice_ticks(lo, hi, 5) };
    let lab_w = b.bars.iter().map(|x| tw(&x.label, 11.0)).fold(0.0, f64::max);
    let val_w = b.bars.iter().map(|x| tw(&vlab(x.value), 10.0)).fold(0.0, f64::max) + 8.0;
    let row = 22.0;
    let plot_w = if b.plot_width.is_finite() && b.plot_width > 60.0 { b.plot_width } else { 380.0 };
    let left = lab_w + 16.0;
    let pad_l = if mn < 0.0 { val_w } else { 4.0 };
    let pad_r = val_w.max(12.0);
    let top = 32.0;
    let ph = row * b.bars.len() as f64;
    let w = left + pad_l + plot_w + pad_r + 10.0;
    let h = top + ph + 46.0;
    let fr = Frame { left: left + pad_l, top, w: plot_w, h: ph, x0, x1, y0: 0.0, y1: 1.0 };
    let mut o = String::new();
    svg_open(&mut o, w, h, &b.title, &format!("Horizontal bar chart: {}", b.x_label));
    w!(
        o,
        r##"<defs><pattern id="{pfx}-neg" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-opacity="0.6" stroke-width="2"/></pattern></defs>"##
    );
    title_text(&mut o, &b.title, w / 2.0, 18.0);
    let b_edge = top + ph;
    for t in &ticks {
        let x = fr.sx(*t);
        w!(o, r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{GRID}"/>"#, f(x), f(top), f(b_edge));
        w!(o, r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{INK}"/>"#, f(x), f(b_edge), f(b_edge + 4.0));
        w!(o, r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#, f(x), f(b_edge + 16.0), tick_label(*t, step));
    }
    w!(o, r#"<line x1="{}" y1="{2}" x2="{}" y2="{2}" stroke="{INK}"/>"#, f(fr.left - pad_l), f(fr.left + plot_w + pad_r), f(b_edge));
    let zx = fr.sx(0.0);
    for (i, bar) in b.bars.iter().enumerate() {
        let cy = top + row * i as f64 + row / 2.0;
        w!(o, r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#, f(left - 6.0), f(cy + 4.0), esc(&bar.label));
        let v = bar.value;
        if !v.is_finite() {
            w!(o, r##"<text x="{}" y="{}" font-size="10" fill="#666666">n/a</text>"##, f(zx + 4.0), f(cy + 3.5));
            continue;
        }
        let vx = fr.sx(v);
        let (x, bw) = (zx.min(vx), (vx - zx).abs());
        let (col, anchor, lx) = if v < 0.0 { ("#D55E00", "end", vx - 4.0) } else { ("#0072B2", "start", vx + 4.0) };
        w!(o, r#"<rect x="{}" y="{}" width="{}" height="14" fill="{col}"><title>{}: {}</title></rect>"#, f(x), f(cy - 7.0), f(bw), esc(&bar.label), vlab(v));
        if v < 0.0 {
            w!(o, r#"<rect x="{}" y="{}" width="{}" height="14" fill="url(#{pfx}-neg)"/>"#, f(x), f(cy - 7.0), f(bw));
        }
        w!(o, r#"<text x="{}" y="{}" text-anchor="{anchor}" font-size="10">{}</text>"#, f(lx), f(cy + 3.5), vlab(v));
    }
    w!(o, r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{INK}" stroke-width="1.5"/>"#, f(zx), f(top - 4.0), f(b_edge));
    if !b.x_label.is_empty() {
        w!(o, r#"<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text>"#, f(fr.left + plot_w / 2.0), f(b_edge + 34.0), esc(&b.x_label));
    }
    o.push_str("</svg>");
    o
}

// ---------------------------------------------------------------- 4. CV curve

/// Cross-validation curve of a glmnet-style fit. `lambdas`, `cvm`, `cvsd`
/// are parallel; lambdas ≤ 0 or NaN and NaN cvm are skipped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CvCurve {
    pub title: String,
    pub lambdas: Vec<f64>,
    /// Mean cross-validated error per lambda.
    pub cvm: Vec<f64>,
    /// Its standard error; missing or NaN entries draw no error bar.
    pub cvsd: Vec<f64>,
    /// NaN or ≤ 0 hides the marker.
    pub lambda_min: f64,
    pub lambda_1se: f64,
    /// Y axis title, e.g. "Binomial deviance".
    pub y_label: String,
}

/// CV curve: x = natural log of lambda, points with ±1 SD error bars,
/// dashed vertical lines at lambda.min and lambda.1se.
pub fn cv_curve(c: &CvCurve) -> String {
    let (w, h) = (600.0, 380.0);
    let pts_v: Vec<(f64, f64, f64)> = c
        .lambdas
        .iter()
        .zip(&c.cvm)
        .enumerate()
        .filter(|(_, (l, m))| l.is_finite() && **l > 0.0 && m.is_finite())
        .map(|(i, (l, m))| (l.ln(), *m, c.cvsd.get(i).copied().unwrap_or(f64::NAN)))
        .collect();
    if pts_v.is_empty() {
        return no_data_svg(&c.title, w, h);
    }
    let lines: Vec<(f64, &str, &'static str, &'static str)> = [(c.lambda_min, "lambda.min", PALETTE[0], "6 3"), (c.lambda_1se, "lambda.1se", PALETTE[2], "2 3")]
        .into_iter()
        .filter(|(l, ..)| l.is_finite() && *l > 0.0)
        .map(|(l, n, col, d)| (l.ln(), n, col, d))
        .collect();
    let (xa, xb) = finite_minmax(pts_v.iter().map(|p| p.0).chain(lines.iter().map(|l| l.0))).unwrap_or((0.0, 1.0));
    let (ya, yb) = finite_minmax(pts_v.iter().flat_map(|&(_, m, s)| {
        let s = if s.is_finite() { s.abs() } else { 0.0 };
        [m - s, m + s]
    }))
    .unwrap_or((0.0, 1.0));
    let (x0, x1, xticks, xstep) = nice_ticks(xa, xb, 6);
    let (y0, y1, yticks, ystep) = nice_ticks(ya, yb, 5);
    let xt: Vec<(f64, String)> = xticks.iter().map(|v| (*v, tick_label(*v, xstep))).collect();
    let yt: Vec<(f64, String)> = yticks.iter().map(|v| (*v, tick_label(*v, ystep))).collect();
    let ytw = yt.iter().map(|(_, l)| tw(l, 11.0)).fold(0.0, f64::max);
    let mut items: Vec<(Key, String)> = vec![(Key::ErrPoint(PALETTE[5], "#777777"), "mean CV error ± 1 SD".to_string())];
    for (_, n, col, d) in &lines {
        items.push((Key::Line(col, d), n.to_string()));
    }
    let leg_h = legend_height(&items, w - 20.0);
    let left = ytw + 32.0;
    let top = 30.0 + 12.0 * lines.len() as f64;
    let fr = Frame { left, top, w: w - left - 16.0, h: h - top - 44.0 - leg_h, x0, x1, y0, y1 };
    let mut o = String::new();
    svg_open(&mut o, w, h, &c.title, "Cross-validation curve: mean error against log(lambda) with one-SD error bars.");
    title_text(&mut o, &c.title, w / 2.0, 18.0);
    fr.axes(&mut o, &xt, &yt, "log(lambda)", &c.y_label, 14.0);
    for (k, (lx, n, col, d)) in lines.iter().enumerate() {
        let x = fr.sx(*lx);
        let ly = 30.0 + 12.0 * k as f64 + 4.0;
        w!(o, r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{col}" stroke-width="1.5" stroke-dasharray="{d}"/>"#, f(x), f(ly + 2.0), f(fr.top + fr.h));
        let lw = tw(n, 10.0);
        let (tx, anchor) = if x + 3.0 + lw > w - 4.0 { (x - 3.0, "end") } else { (x + 3.0, "start") };
        w!(o, r#"<text x="{}" y="{}" text-anchor="{anchor}" font-size="10" fill="{INK}">{n}</text>"#, f(tx), f(ly));
    }
    for &(lx, m, s) in &pts_v {
        let x = fr.sx(lx);
        if s.is_finite() {
            let (a, b) = (fr.sy(m - s.abs()), fr.sy(m + s.abs()));
            w!(
                o,
                r##"<path d="M{0} {1}V{2}M{3} {1}H{4}M{3} {2}H{4}" stroke="#777777" stroke-width="1" fill="none"/>"##,
                f(x),
                f(a),
                f(b),
                f(x - 2.5),
                f(x + 2.5)
            );
        }
        o.push_str(&marker(0, x, fr.sy(m), 3.0, PALETTE[5]));
    }
    let (lg, _) = legend(&items, 10.0, fr.top + fr.h + 38.0, w - 20.0);
    o.push_str(&lg);
    o.push_str("</svg>");
    o
}

// ---------------------------------------------------------------- 5. DAG

/// A pipeline stage. `name` must be unique (later duplicates are ignored);
/// `group` (e.g. "source", "clean", "statistics") picks colour and border dash
/// in order of first appearance.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DagNode {
    pub name: String,
    pub kind: String,
    pub group: String,
}

/// Pipeline DAG. Edges are (from, to) by node name; unknown names and
/// self-loops are ignored; cycles do not hang (layers are capped).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dag {
    pub title: String,
    pub nodes: Vec<DagNode>,
    pub edges: Vec<(String, String)>,
}

/// Layered left-to-right drawing; each node links to `#stage-NAME`.
pub fn dag(d: &Dag) -> String {
    // dedupe nodes by name, first wins
    let mut nodes: Vec<&DagNode> = Vec::new();
    for n in &d.nodes {
        if !nodes.iter().any(|m| m.name == n.name) {
            nodes.push(n);
        }
    }
    if nodes.is_empty() {
        return no_data_svg(&d.title, 480.0, 200.0);
    }
    let idx = |s: &str| nodes.iter().position(|n| n.name == s);
    let edges: Vec<(usize, usize)> =
        d.edges.iter().filter_map(|(a, b)| Some((idx(a)?, idx(b)?))).filter(|(a, b)| a != b).collect();
    let n = nodes.len();
    let mut layer = vec![0usize; n];
    for _ in 0..n {
        let mut changed = false;
        for &(a, b) in &edges {
            if layer[b] < layer[a] + 1 && layer[a] + 1 < n {
                layer[b] = layer[a] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let nl = layer.iter().max().copied().unwrap_or(0) + 1;
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); nl];
    for i in 0..n {
        layers[layer[i]].push(i);
    }
    for l in &mut layers {
        l.sort_by(|a, b| nodes[*a].name.cmp(&nodes[*b].name).then(a.cmp(b)));
    }
    let mut groups: Vec<&str> = Vec::new();
    for nd in &nodes {
        if !groups.contains(&nd.group.as_str()) {
            groups.push(&nd.group);
        }
    }
    let box_w = nodes.iter().map(|nd| tw(&nd.name, 12.0).max(tw(&nd.kind, 10.0)) + 20.0).fold(100.0, f64::max);
    let (box_h, hgap, vgap) = (40.0, 56.0, 14.0);
    let maxn = layers.iter().map(|l| l.len()).max().unwrap_or(1) as f64;
    let inner_h = maxn * (box_h + vgap) - vgap;
    let top = 34.0;
    let margin = 16.0;
    let w = (margin * 2.0 + nl as f64 * (box_w + hgap) - hgap).max(320.0);
    let items: Vec<(Key, String)> =
        groups.iter().enumerate().map(|(i, g)| (Key::Boxed(i), if g.is_empty() { "(no group)".to_string() } else { g.to_string() })).collect();
    let leg_h = legend_height(&items, w - 2.0 * margin);
    let h = top + inner_h + 16.0 + leg_h + 8.0;
    let mut pos = vec![(0.0, 0.0); n];
    for (li, l) in layers.iter().enumerate() {
        let lh = l.len() as f64 * (box_h + vgap) - vgap;
        let y0 = top + (inner_h - lh) / 2.0;
        for (k, &i) in l.iter().enumerate() {
            pos[i] = (margin + li as f64 * (box_w + hgap), y0 + k as f64 * (box_h + vgap));
        }
    }
    let pfx = idp("dag", &d.title);
    let mut o = String::new();
    svg_open(&mut o, w, h, &d.title, &format!("Pipeline graph with {} stages and {} dependencies, left to right.", n, edges.len()));
    w!(
        o,
        r##"<defs><marker id="{pfx}-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#555555"/></marker></defs>"##
    );
    title_text(&mut o, &d.title, w / 2.0, 20.0);
    for &(a, b) in &edges {
        let (x1, y1) = (pos[a].0 + box_w, pos[a].1 + box_h / 2.0);
        let (x2, y2) = (pos[b].0, pos[b].1 + box_h / 2.0);
        let dx = ((x2 - x1) / 2.0).max(30.0);
        w!(
            o,
            r##"<path d="M{} {}C{} {} {} {} {} {}" fill="none" stroke="#555555" stroke-width="1.3" marker-end="url(#{pfx}-arrow)"><title>{} to {}</title></path>"##,
            f(x1),
            f(y1),
            f(x1 + dx),
            f(y1),
            f(x2 - dx),
            f(y2),
            f(x2),
            f(y2),
            esc(&nodes[a].name),
            esc(&nodes[b].name)
        );
    }
    for l in &layers {
        for &i in l {
            let nd = nodes[i];
            let g = groups.iter().position(|g| *g == nd.group).unwrap_or(0);
            let col = PALETTE[g % 8];
            let (x, y) = pos[i];
            // Sources are described in the report's data section, stages in its appendix.
            let anchor = if nd.kind == "source" { "source" } else { "stage" };
            w!(o, r#"<a href="{}">"#, esc(&format!("#{anchor}-{}", nd.name)));
            w!(o, "<title>{} ({}, {})</title>", esc(&nd.name), esc(&nd.kind), esc(&nd.group));
            w!(
                o,
                r##"<rect x="{}" y="{}" width="{}" height="{}" rx="5" fill="#ffffff"/><rect x="{0}" y="{1}" width="{2}" height="{3}" rx="5" fill="{col}" fill-opacity="0.15" stroke="{col}" stroke-width="2"{4}/>"##,
                f(x),
                f(y),
                f(box_w),
                f(box_h),
                dash_attr(g)
            );
            w!(o, r#"<text x="{}" y="{}" text-anchor="middle" font-size="12" font-weight="bold">{}</text>"#, f(x + box_w / 2.0), f(y + 17.0), esc(&nd.name));
            w!(o, r##"<text x="{}" y="{}" text-anchor="middle" font-size="10" fill="#444444">{}</text>"##, f(x + box_w / 2.0), f(y + 31.0), esc(&nd.kind));
            o.push_str("</a>");
        }
    }
    let (lg, _) = legend(&items, margin, top + inner_h + 16.0, w - 2.0 * margin);
    o.push_str(&lg);
    o.push_str("</svg>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::Event;
    use quick_xml::reader::Reader;

    /// Parse fully; panic on any XML error. Returns element count.
    fn check_xml(s: &str) -> usize {
        let mut r = Reader::from_str(s);
        r.config_mut().check_end_names = true;
        let mut depth = 0i32;
        let mut elems = 0;
        let mut first = None;
        loop {
            match r.read_event() {
                Ok(Event::Start(e)) => {
                    first.get_or_insert_with(|| String::from_utf8_lossy(e.name().as_ref()).to_string());
                    for a in e.attributes() {
                        a.expect("attribute");
                    }
                    depth += 1;
                    elems += 1;
                }
                Ok(Event::Empty(e)) => {
                    for a in e.attributes() {
                        a.expect("attribute");
                    }
                    elems += 1;
                }
                Ok(Event::End(_)) => depth -= 1,
                Ok(Event::GeneralRef(g)) => {
                    let n = String::from_utf8_lossy(&g).to_string();
                    assert!(["amp", "lt", "gt", "quot", "apos"].contains(&n.as_str()), "entity {n}");
                }
                Ok(Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("XML error at {}: {e}\n{s}", r.buffer_position()),
            }
        }
        assert_eq!(depth, 0, "unbalanced");
        assert_eq!(first.as_deref(), Some("svg"));
        assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(s.ends_with("</svg>"));
        assert!(s.contains("<title>") && s.contains("role=\"img\"") && s.contains("viewBox="));
        assert!(s.contains("system-ui, sans-serif"));
        assert!(!s.to_lowercase().contains("<script"));
        assert!(!s.contains("NaN") && !s.contains("inf"), "non-finite number leaked");
        let rest = s.replace("http://www.w3.org/2000/svg", "");
        assert!(!rest.contains("http"), "external URL");
        elems
    }

    fn all_ok(s: &str, must: &[&str]) {
        check_xml(s);
        for m in must {
            assert!(s.contains(m), "missing {m:?}");
        }
    }

    pub(super) fn sample_trend(title: &str, k: usize) -> TrendChart {
        let names = ["Outstanding", "Good", "Requires improvement", "Inadequate"];
        let series = (0..k)
            .map(|s| TrendSeries {
                name: names[s % 4].to_string(),
                points: (2010..=2023)
                    .map(|y| {
                        let t = (y - 2010) as f64;
                        let m = 520.0 + 12.0 * t + 25.0 * s as f64 + 20.0 * (t * 0.7).sin();
                        let m = if s == 1 && y == 2016 { f64::NAN } else { m };
                        TrendPoint { year: y, median: m, q1: m - 80.0 - 4.0 * s as f64, q3: m + 95.0 }
                    })
                    .collect(),
            })
            .collect();
        TrendChart {
            title: title.to_string(),
            x_label: "Year ending 31 March".into(),
            y_label: "Referrals per 10,000 children".into(),
            series,
            breaks: vec![
                DefinitionBreak { year: 2013.5, label: "single assessment".into() },
                DefinitionBreak { year: 2020.5, label: "COVID-19 & lockdown".into() },
            ],
            width: 0.0,
            height: 0.0,
        }
    }

    pub(super) fn sample_heat(n: usize, ann: bool) -> Heatmap {
        let labels: Vec<String> = (0..n).map(|i| format!("Indicator {i} <rate>")).collect();
        let values = (0..n)
            .map(|i| (0..n).map(|j| if i == j { 1.0 } else { ((i * 7 + j * 7) as f64 * 0.37).sin() * 0.9 }).collect())
            .collect();
        let annotations = ann.then(|| (0..n).map(|i| (0..n).map(|j| ((i + j) % 9) as u32).collect()).collect());
        Heatmap {
            title: "Spearman correlations, 2014-2023".into(),
            labels,
            values,
            annotations,
            annotation_label: "years significant (p < 0.05)".into(),
            value_label: "Spearman rho".into(),
        }
    }

    pub(super) fn sample_bar() -> BarChart {
        let bars = [
            ("Children in need rate", 0.42),
            ("Child protection plans", 0.31),
            ("Agency social workers %", 0.12),
            ("Spend per child (£)", -0.08),
            ("Caseload per worker", f64::NAN),
            ("Ofsted grade", -0.27),
        ]
        .iter()
        .map(|(l, v)| Bar { label: l.to_string(), value: *v })
        .collect();
        BarChart {
            title: "Correlation with re-referrals".into(),
            x_label: "Spearman rho (unitless)".into(),
            bars,
            decimals: 2,
            plot_width: 0.0,
        }
    }

    pub(super) fn sample_cv() -> CvCurve {
        let lambdas: Vec<f64> = (0..40).map(|i| 0.3 * (0.85f64).powi(i)).collect();
        let cvm: Vec<f64> = lambdas.iter().map(|l| 1.2 + 0.6 * (l.ln() + 4.0).powi(2) / 10.0).collect();
        let cvsd = vec![0.04; 40];
        CvCurve {
            title: "Elastic net: 10-fold cross-validation".into(),
            lambda_min: lambdas[25],
            lambda_1se: lambdas[19],
            lambdas,
            cvm,
            cvsd,
            y_label: "Binomial deviance".into(),
        }
    }

    pub(super) fn sample_dag() -> Dag {
        let nd = |n: &str, k: &str, g: &str| DagNode { name: n.into(), kind: k.into(), group: g.into() };
        let e = |a: &str, b: &str| (a.to_string(), b.to_string());
        Dag {
            title: "canary pipeline".into(),
            nodes: vec![
                nd("dfe_cin", "download", "source"),
                nd("dfe_cla", "download", "source"),
                nd("ofsted", "download", "source"),
                nd("clean_dfe", "parse + tidy", "clean"),
                nd("clean_other", "parse + tidy", "clean"),
                nd("harmonise", "join LA codes", "clean"),
                nd("trends", "descriptives", "statistics"),
                nd("spearman", "correlation", "statistics"),
                nd("glmnet", "elastic net", "statistics"),
                nd("report", "HTML", "report"),
            ],
            edges: vec![
                e("dfe_cin", "clean_dfe"),
                e("dfe_cla", "clean_dfe"),
                e("ofsted", "clean_other"),
                e("clean_dfe", "harmonise"),
                e("clean_other", "harmonise"),
                e("harmonise", "trends"),
                e("harmonise", "spearman"),
                e("harmonise", "glmnet"),
                e("trends", "report"),
                e("spearman", "report"),
                e("glmnet", "report"),
                e("ofsted", "report"),
            ],
        }
    }

    #[test]
    fn nice_ticks_are_round() {
        let (_, _, t, s) = nice_ticks(0.13, 0.87, 5);
        assert_eq!(s, 0.2);
        assert_eq!(t.first().copied(), Some(0.0));
        assert!((t.last().unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(nice_step(10.0, 4), 2.5);
        assert_eq!(tick_label(2.5, 2.5), "2.5");
        assert_eq!(tick_label(-0.0000001, 0.2), "0.0");
        let (a, b, t, _) = nice_ticks(5.0, 5.0, 5);
        assert!(a < 5.0 && b > 5.0 && t.len() >= 2);
        let (a, b, _, _) = nice_ticks(f64::NAN, 1.0, 5);
        assert!(a < b);
    }

    #[test]
    fn escaping() {
        assert_eq!(esc(r#"a&b<c>"d'"#), "a&amp;b&lt;c&gt;&quot;d&apos;");
        assert_eq!(f(-0.0001), "0.00");
        assert_eq!(f(f64::NAN), "0.00");
    }

    #[test]
    fn trend_chart_realistic() {
        let c = sample_trend("Referrals <per> 10k & \"rate\"", 3);
        let s = trend_chart(&c);
        all_ok(&s, &["Referrals per 10,000 children", "Year ending 31 March", "Outstanding", "Requires improvement", "single assessment", "COVID-19 &amp; lockdown", "&lt;per&gt;", "stroke-dasharray"]);
        assert_eq!(s, trend_chart(&c));
        let one = sample_trend("Single", 1);
        all_ok(&trend_chart(&one), &["Outstanding (median)", "IQR"]);
    }

    #[test]
    fn trend_grid_realistic() {
        let charts: Vec<TrendChart> = (0..5).map(|i| sample_trend(&format!("Indicator {i}"), 1 + i % 2)).collect();
        let s = trend_grid(&charts, 3);
        all_ok(&s, &["Indicator 0", "Indicator 4", "translate("]);
        assert_eq!(s, trend_grid(&charts, 3));
        check_xml(&trend_grid(&charts, 0));
        check_xml(&trend_grid(&[], 2));
    }

    #[test]
    fn trend_degenerate() {
        let mut c = sample_trend("x", 2);
        c.series.clear();
        c.breaks.clear();
        all_ok(&trend_chart(&c), &["no data"]);
        c.series = vec![TrendSeries { name: "one".into(), points: vec![TrendPoint { year: 2015, median: 3.0, q1: 3.0, q3: 3.0 }] }];
        check_xml(&trend_chart(&c));
        c.series[0].points = vec![TrendPoint { year: 2015, median: f64::NAN, q1: f64::NAN, q3: f64::NAN }];
        all_ok(&trend_chart(&c), &["no data"]);
        c.series[0].points = (2010..2015).map(|y| TrendPoint { year: y, median: 7.0, q1: 7.0, q3: 7.0 }).collect();
        c.breaks = vec![DefinitionBreak { year: f64::NAN, label: "bad".into() }, DefinitionBreak { year: 2030.0, label: "late".into() }];
        check_xml(&trend_chart(&c));
        c.width = f64::NAN;
        c.height = -5.0;
        check_xml(&trend_chart(&c));
        c.series[0].points.push(TrendPoint { year: 2011, median: f64::INFINITY, q1: 1.0, q3: f64::NEG_INFINITY });
        check_xml(&trend_chart(&c));
    }

    #[test]
    fn heatmap_realistic() {
        let h = sample_heat(12, true);
        let s = heatmap(&h);
        all_ok(&s, &["Spearman rho", "Indicator 11 &lt;rate&gt;", "years significant", "rotate(-45", "1.0"]);
        assert_eq!(s, heatmap(&h));
        // big matrix: no printed values, dots for annotations
        let big = heatmap(&sample_heat(60, true));
        all_ok(&big, &["Dot in cell"]);
        check_xml(&heatmap(&sample_heat(8, false)));
        // the two chart ids differ when titles differ
        let mut h2 = h.clone();
        h2.title = "other".into();
        assert_ne!(idp("heat", &h.title), idp("heat", &h2.title));
    }

    #[test]
    fn heatmap_degenerate() {
        check_xml(&heatmap(&Heatmap::default()));
        let mut h = sample_heat(3, true);
        h.values = vec![vec![f64::NAN, 2.0], vec![]];
        h.annotations = Some(vec![]);
        check_xml(&heatmap(&h));
        let mut h = sample_heat(1, false);
        h.values = vec![vec![0.5]];
        check_xml(&heatmap(&h));
    }

    #[test]
    fn bar_realistic_and_degenerate() {
        let b = sample_bar();
        let s = bar_chart(&b);
        all_ok(&s, &["Spearman rho (unitless)", "Spend per child (£)", "-0.27", "0.42", "n/a"]);
        assert_eq!(s, bar_chart(&b));
        check_xml(&bar_chart(&BarChart::default()));
        let mut b2 = b.clone();
        b2.bars = vec![Bar { label: "only".into(), value: 0.0 }];
        check_xml(&bar_chart(&b2));
        b2.bars = vec![Bar { label: "nan".into(), value: f64::NAN }, Bar { label: "neg".into(), value: -3.0 }];
        check_xml(&bar_chart(&b2));
        b2.bars = vec![Bar { label: "a".into(), value: 5.0 }, Bar { label: "b".into(), value: 5.0 }];
        check_xml(&bar_chart(&b2));
    }

    #[test]
    fn cv_realistic_and_degenerate() {
        let c = sample_cv();
        let s = cv_curve(&c);
        all_ok(&s, &["log(lambda)", "Binomial deviance", "lambda.min", "lambda.1se", "± 1 SD"]);
        assert_eq!(s, cv_curve(&c));
        check_xml(&cv_curve(&CvCurve::default()));
        let mut c2 = c.clone();
        c2.lambdas = vec![0.1];
        c2.cvm = vec![1.0];
        c2.cvsd = vec![];
        c2.lambda_min = f64::NAN;
        c2.lambda_1se = -1.0;
        check_xml(&cv_curve(&c2));
        c2.lambdas = vec![0.1, 0.0, f64::NAN, 0.05];
        c2.cvm = vec![1.0, 1.0, 1.0, 1.0];
        c2.cvsd = vec![0.0, f64::NAN, 0.1, f64::NAN];
        check_xml(&cv_curve(&c2));
    }

    #[test]
    fn dag_realistic_and_degenerate() {
        let d = sample_dag();
        let s = dag(&d);
        all_ok(&s, &["href=\"#stage-harmonise\"", "elastic net", "<marker id=\"canary-dag-", "marker-end=\"url(#canary-dag-", "statistics", "source"]);
        assert_eq!(s, dag(&d));
        // layering: report is in the last layer (longest path 3 from sources)
        let pos = |n: &str| s.find(&format!("#stage-{n}\"")).unwrap();
        assert!(pos("clean_dfe") < pos("harmonise") && pos("harmonise") < pos("glmnet"));
        check_xml(&dag(&Dag::default()));
        let mut cyc = d.clone();
        cyc.edges.push(("report".into(), "dfe_cin".into()));
        cyc.edges.push(("glmnet".into(), "glmnet".into()));
        cyc.edges.push(("nope".into(), "glmnet".into()));
        cyc.nodes.push(DagNode { name: "glmnet".into(), kind: "dup".into(), group: "x".into() });
        check_xml(&dag(&cyc));
        let single = Dag { title: "t".into(), nodes: vec![DagNode { name: "a&b".into(), kind: String::new(), group: String::new() }], edges: vec![] };
        all_ok(&dag(&single), &["#stage-a&amp;b"]);
    }

    /// Writes a sample of each chart, well-formed, into CHARTS_SAMPLES_DIR when it is set
    /// (to look at them), else into a temporary folder.
    #[test]
    fn write_samples() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = std::env::var_os("CHARTS_SAMPLES_DIR").map_or_else(|| tmp.path().to_path_buf(), std::path::PathBuf::from);
        let dir = dir.as_path();
        std::fs::create_dir_all(dir).unwrap();
        let charts: Vec<TrendChart> = (0..4).map(|i| sample_trend(&format!("Indicator {i}"), 1 + i % 2)).collect();
        let files = [
            ("trend.svg", trend_chart(&sample_trend("Referrals per 10,000", 3))),
            ("trend_grid.svg", trend_grid(&charts, 2)),
            ("heatmap.svg", heatmap(&sample_heat(12, true))),
            ("heatmap_big.svg", heatmap(&sample_heat(40, true))),
            ("bar.svg", bar_chart(&sample_bar())),
            ("cv.svg", cv_curve(&sample_cv())),
            ("dag.svg", dag(&sample_dag())),
            ("empty.svg", trend_chart(&TrendChart::default())),
        ];
        for (n, s) in files {
            check_xml(&s);
            assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"), "{n}");
            std::fs::write(dir.join(n), &s).unwrap();
            assert_eq!(std::fs::read_to_string(dir.join(n)).unwrap(), s, "{n}");
        }
    }
}
