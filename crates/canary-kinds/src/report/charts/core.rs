//! What every chart shares: number and text formatting, escaping, ticks, the frame that maps
//! data onto pixels, axes, markers, the legend and the wrapped title.

use super::{DASHES, FONT, GRID, INK, PALETTE};

/// Fixed two-decimal float formatting; non-finite becomes 0, `-0.00` becomes `0.00`.
pub(super) fn f(x: f64) -> String {
    let v = if x.is_finite() { x } else { 0.0 };
    let s = format!("{v:.2}");
    if s == "-0.00" {
        "0.00".to_string()
    } else {
        s
    }
}

/// Escape text for XML content and attribute values.
pub(super) fn esc(s: &str) -> String {
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
pub(super) fn tw(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * 0.58
}

/// Deterministic id prefix from chart kind and title (FNV-1a).
pub(super) fn idp(kind: &str, title: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in kind.bytes().chain([0u8]).chain(title.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("canary-{kind}-{:08x}", (h ^ (h >> 32)) as u32)
}

pub(super) fn dash_attr(i: usize) -> String {
    let d = DASHES[i % DASHES.len()];
    if d.is_empty() {
        String::new()
    } else {
        format!(r#" stroke-dasharray="{d}""#)
    }
}

/// A step of 1, 2, 2.5 or 5 × 10^k giving about `target` intervals over `range`.
pub(super) fn nice_step(range: f64, target: usize) -> f64 {
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
pub(super) fn sane_range(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    if hi - lo > 1e-12 * (lo.abs().max(hi.abs())).max(1e-300) {
        (lo, hi)
    } else if lo == 0.0 {
        // All zeros: an axis from 0, never below it.
        (0.0, 1.0)
    } else {
        // Padded by a tenth on each side, which keeps a positive value's axis above 0.
        let pad = lo.abs() * 0.1;
        (lo - pad, hi + pad)
    }
}

/// Nice ticks covering `[lo, hi]`; returns (domain lo, domain hi, ticks, step). The first tick
/// is the last multiple of the step at or below `lo` and the last the first at or above `hi`,
/// so an axis of values that are never negative (a percentage, a rate) starts at 0 at the
/// lowest, never below it.
pub(super) fn nice_ticks(lo: f64, hi: f64, target: usize) -> (f64, f64, Vec<f64>, f64) {
    let (lo, hi) = sane_range(lo, hi);
    let step = nice_step(hi - lo, target);
    let k0 = (lo / step + 1e-9).floor();
    let k1 = (hi / step - 1e-9).ceil();
    let n = ((k1 - k0) as i64).clamp(1, 60);
    let ticks: Vec<f64> = (0..=n).map(|i| (k0 + i as f64) * step).collect();
    (ticks[0], ticks[ticks.len() - 1], ticks, step)
}

/// Label for a tick value with just enough decimals for `step`.
pub(super) fn tick_label(v: f64, step: f64) -> String {
    let mut dec = if step > 0.0 && step.is_finite() {
        (-step.log10().floor()).max(0.0) as usize
    } else {
        0
    };
    let m = step / 10f64.powf(step.log10().floor());
    if (m - 2.5).abs() < 1e-6 {
        dec += 1;
    }
    let dec = dec.min(8);
    let s = format!("{v:.dec$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

pub(super) fn finite_minmax<I: IntoIterator<Item = f64>>(it: I) -> Option<(f64, f64)> {
    let mut r: Option<(f64, f64)> = None;
    for v in it.into_iter().filter(|v| v.is_finite()) {
        r = Some(match r {
            None => (v, v),
            Some((a, b)) => (a.min(v), b.max(v)),
        });
    }
    r
}

pub(super) fn svg_open(out: &mut String, w: f64, h: f64, title: &str, desc: &str) {
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
    w!(
        out,
        r##"<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>"##,
        f(w),
        f(h)
    );
}

pub(super) fn no_data_svg(title: &str, w: f64, h: f64) -> String {
    let mut o = String::new();
    svg_open(&mut o, w, h, title, "no data");
    title_text(&mut o, title, w / 2.0, 20.0, w - 20.0);
    no_data_text(&mut o, w, h);
    o.push_str("</svg>");
    o
}

/// "no data" centred in a `w` × `h` area, for a chart or a panel with nothing to draw.
pub(super) fn no_data_text(o: &mut String, w: f64, h: f64) {
    w!(
        o,
        r##"<text x="{}" y="{}" text-anchor="middle" font-size="14" fill="#666666">no data</text>"##,
        f(w / 2.0),
        f(h / 2.0)
    );
}

/// "n/a" in small grey type at (x, y), where a bar has no value to draw.
pub(super) fn not_available(o: &mut String, x: f64, y: f64) {
    w!(
        o,
        r##"<text x="{}" y="{}" font-size="10" fill="#666666">n/a</text>"##,
        f(x),
        f(y)
    );
}

/// A row's label, right-aligned 6 px left of `x` and centred on `cy`.
pub(super) fn row_label(o: &mut String, x: f64, cy: f64, label: &str) {
    w!(
        o,
        r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
        f(x - 6.0),
        f(cy + 4.0),
        esc(label)
    );
}

/// Width in px of the widest of `texts` at `size` px (0 for none).
pub(super) fn widest<S: AsRef<str>>(texts: impl IntoIterator<Item = S>, size: f64) -> f64 {
    texts
        .into_iter()
        .map(|t| tw(t.as_ref(), size))
        .fold(0.0, f64::max)
}

/// Ticks paired with their labels, each with just enough decimals for `step`.
pub(super) fn labelled_ticks(ticks: &[f64], step: f64) -> Vec<(f64, String)> {
    ticks.iter().map(|v| (*v, tick_label(*v, step))).collect()
}

/// Where a label goes beside a vertical marker at `x`: to its right, unless a label `text_w`
/// px wide would pass `right`, then to its left. Returns (x, text-anchor).
pub(super) fn beside(x: f64, text_w: f64, right: f64) -> (f64, &'static str) {
    if x + 3.0 + text_w > right {
        (x - 3.0, "end")
    } else {
        (x + 3.0, "start")
    }
}

/// Height of one line of a chart title (13 px bold).
pub(super) const TITLE_LINE: f64 = 16.0;

/// `text` broken into lines at spaces so that each fits `max_w` px at `size` px: long titles
/// wrap, never cut. A single word wider than the line keeps a line of its own.
pub(super) fn wrap(text: &str, max_w: f64, size: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && tw(&candidate, size) > max_w {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// How many lines [`title_text`] draws for `title` in `max_w` px.
pub(super) fn title_lines(title: &str, max_w: f64) -> usize {
    wrap(title, max_w, 13.0).len()
}

/// How far a title of `lines` lines pushes the plot down, beyond its first line.
pub(super) fn extra_title_height(lines: usize) -> f64 {
    (lines.max(1) - 1) as f64 * TITLE_LINE
}

/// The title centred on `cx`, its first baseline at `y`, wrapped to `max_w` px; returns the
/// number of lines drawn (each [`TITLE_LINE`] px).
pub(super) fn title_text(o: &mut String, title: &str, cx: f64, y: f64, max_w: f64) -> usize {
    let lines = wrap(title, max_w, 13.0);
    for (i, line) in lines.iter().enumerate() {
        w!(
            o,
            r#"<text x="{}" y="{}" text-anchor="middle" font-size="13" font-weight="bold">{}</text>"#,
            f(cx),
            f(y + i as f64 * TITLE_LINE),
            esc(line)
        );
    }
    lines.len()
}

/// Marker shape `i` (mod 8) centred at (x, y) with radius r.
pub(super) fn marker(i: usize, x: f64, y: f64, r: f64, color: &str) -> String {
    let (x, y) = (f(x), f(y));
    let xf: f64 = x.parse().unwrap_or(0.0);
    let yf: f64 = y.parse().unwrap_or(0.0);
    let p = |pts: &[(f64, f64)]| -> String {
        pts.iter()
            .map(|(a, b)| format!("{},{}", f(xf + a * r), f(yf + b * r)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match i % 8 {
        0 => format!(r#"<circle cx="{x}" cy="{y}" r="{}" fill="{color}"/>"#, f(r)),
        1 => format!(
            r#"<rect x="{}" y="{}" width="{2}" height="{2}" fill="{color}"/>"#,
            f(xf - r * 0.85),
            f(yf - r * 0.85),
            f(r * 1.7)
        ),
        2 => format!(
            r#"<polygon points="{}" fill="{color}"/>"#,
            p(&[(0.0, -1.2), (1.1, 0.8), (-1.1, 0.8)])
        ),
        3 => format!(
            r#"<polygon points="{}" fill="{color}"/>"#,
            p(&[(0.0, -1.25), (1.25, 0.0), (0.0, 1.25), (-1.25, 0.0)])
        ),
        4 => format!(
            r#"<polygon points="{}" fill="{color}"/>"#,
            p(&[(0.0, 1.2), (1.1, -0.8), (-1.1, -0.8)])
        ),
        5 => format!(
            r#"<path d="M{} {}H{}M{} {}V{}" stroke="{color}" stroke-width="2.2" fill="none"/>"#,
            f(xf - r * 1.2),
            y,
            f(xf + r * 1.2),
            x,
            f(yf - r * 1.2),
            f(yf + r * 1.2)
        ),
        6 => format!(
            r#"<path d="M{} {}L{} {}M{} {}L{} {}" stroke="{color}" stroke-width="2.2" fill="none"/>"#,
            f(xf - r),
            f(yf - r),
            f(xf + r),
            f(yf + r),
            f(xf - r),
            f(yf + r),
            f(xf + r),
            f(yf - r)
        ),
        _ => format!(
            r##"<circle cx="{x}" cy="{y}" r="{}" fill="#ffffff" stroke="{color}" stroke-width="2"/>"##,
            f(r)
        ),
    }
}

/// What a legend entry shows before its label.
pub(super) enum Key {
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
    /// Solid swatch in the colour of series i (a bar chart's series).
    Swatch(usize),
}

/// Lay out legend entries left to right, wrapping at `max_w`. Returns (svg, height).
pub(super) fn legend(items: &[(Key, String)], x0: f64, y0: f64, max_w: f64) -> (String, f64) {
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
                w!(
                    o,
                    r#"<line x1="{}" y1="{2}" x2="{}" y2="{2}" stroke="{c}" stroke-width="2"{3}/>"#,
                    f(x),
                    f(x + 24.0),
                    f(cy),
                    dash_attr(*i)
                );
                o.push_str(&marker(*i, x + 12.0, cy, 3.5, c));
            }
            Key::Line(c, d) => {
                let da = if d.is_empty() {
                    String::new()
                } else {
                    format!(r#" stroke-dasharray="{d}""#)
                };
                w!(
                    o,
                    r#"<line x1="{}" y1="{2}" x2="{}" y2="{2}" stroke="{c}" stroke-width="1.6"{da}/>"#,
                    f(x),
                    f(x + 24.0),
                    f(cy)
                );
            }
            Key::Band(c, op) => {
                w!(
                    o,
                    r#"<rect x="{}" y="{}" width="24" height="10" fill="{c}" fill-opacity="{}"/>"#,
                    f(x),
                    f(cy - 5.0),
                    f(*op)
                );
            }
            Key::Boxed(i) => {
                let c = PALETTE[i % 8];
                w!(
                    o,
                    r#"<rect x="{}" y="{}" width="24" height="11" rx="2" fill="{c}" fill-opacity="0.15" stroke="{c}" stroke-width="2"{}/>"#,
                    f(x),
                    f(cy - 5.5),
                    dash_attr(*i)
                );
            }
            Key::Swatch(i) => {
                w!(
                    o,
                    r#"<rect x="{}" y="{}" width="24" height="10" fill="{}"/>"#,
                    f(x),
                    f(cy - 5.0),
                    PALETTE[i % 8]
                );
            }
            Key::ErrPoint(pc, bc) => {
                w!(
                    o,
                    r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{bc}" stroke-width="1.2"/>"#,
                    f(x + 12.0),
                    f(cy - 6.0),
                    f(cy + 6.0)
                );
                o.push_str(&marker(0, x + 12.0, cy, 3.0, pc));
            }
        }
        w!(
            o,
            r#"<text x="{}" y="{}">{}</text>"#,
            f(x + 30.0),
            f(cy + 4.0),
            esc(label)
        );
        x += iw;
    }
    (o, y - y0 + row_h)
}

/// Height a legend will take (same wrapping as [`legend`]).
pub(super) fn legend_height(items: &[(Key, String)], max_w: f64) -> f64 {
    legend(items, 0.0, 0.0, max_w).1
}

/// Linear mapping of a data frame onto a pixel rectangle.
pub(super) struct Frame {
    pub(super) left: f64,
    pub(super) top: f64,
    pub(super) w: f64,
    pub(super) h: f64,
    pub(super) x0: f64,
    pub(super) x1: f64,
    pub(super) y0: f64,
    pub(super) y1: f64,
}

impl Frame {
    pub(super) fn sx(&self, x: f64) -> f64 {
        let d = if self.x1 - self.x0 != 0.0 {
            self.x1 - self.x0
        } else {
            1.0
        };
        self.left + (x - self.x0) / d * self.w
    }
    pub(super) fn sy(&self, y: f64) -> f64 {
        let d = if self.y1 - self.y0 != 0.0 {
            self.y1 - self.y0
        } else {
            1.0
        };
        self.top + self.h - (y - self.y0) / d * self.h
    }
    /// Grid lines, axes, tick labels and axis titles.
    pub(super) fn axes(
        &self,
        o: &mut String,
        xt: &[(f64, String)],
        yt: &[(f64, String)],
        x_title: &str,
        y_title: &str,
        y_title_x: f64,
    ) {
        let (l, t, r, b) = (self.left, self.top, self.left + self.w, self.top + self.h);
        for (v, lab) in yt {
            let y = self.sy(*v);
            w!(
                o,
                r#"<line x1="{}" y1="{2}" x2="{}" y2="{2}" stroke="{GRID}" stroke-width="1"/>"#,
                f(l),
                f(r),
                f(y)
            );
            w!(
                o,
                r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
                f(l - 6.0),
                f(y + 4.0),
                esc(lab)
            );
        }
        for (v, lab) in xt {
            let x = self.sx(*v);
            w!(
                o,
                r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{INK}" stroke-width="1"/>"#,
                f(x),
                f(b),
                f(b + 4.0)
            );
            w!(
                o,
                r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
                f(x),
                f(b + 16.0),
                esc(lab)
            );
        }
        w!(
            o,
            r#"<path d="M{} {}V{}H{}" fill="none" stroke="{INK}" stroke-width="1"/>"#,
            f(l),
            f(t),
            f(b),
            f(r)
        );
        if !x_title.is_empty() {
            w!(
                o,
                r#"<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text>"#,
                f((l + r) / 2.0),
                f(b + 32.0),
                esc(x_title)
            );
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

    /// A horizontal-bar chart's value axis: a grid line up the plot, a tick below it and its
    /// label, at each of `ticks`.
    pub(super) fn value_ticks(&self, o: &mut String, ticks: &[(f64, String)]) {
        let (top, b_edge) = (self.top, self.top + self.h);
        for (t, lab) in ticks {
            let x = self.sx(*t);
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
                lab
            );
        }
    }

    /// A horizontal-bar chart's value axis title, centred under the ticks (none if empty).
    pub(super) fn value_title(&self, o: &mut String, title: &str) {
        if !title.is_empty() {
            w!(
                o,
                r#"<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text>"#,
                f(self.left + self.w / 2.0),
                f(self.top + self.h + 34.0),
                esc(title)
            );
        }
    }

    /// The legend below the plot, clear of its x-axis title, across a chart `w` px wide.
    pub(super) fn legend_under(&self, o: &mut String, items: &[(Key, String)], w: f64) {
        let (lg, _) = legend(items, 10.0, self.top + self.h + 38.0, w - 20.0);
        o.push_str(&lg);
    }
}

/// Split a sequence into runs of consecutive `Some` values.
pub(super) fn runs<T: Copy>(v: &[Option<T>]) -> Vec<Vec<T>> {
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

pub(super) fn pts(v: &[(f64, f64)]) -> String {
    v.iter()
        .map(|(x, y)| format!("{},{}", f(*x), f(*y)))
        .collect::<Vec<_>>()
        .join(" ")
}
