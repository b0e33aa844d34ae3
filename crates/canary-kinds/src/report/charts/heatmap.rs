//! Figure 3: the square matrix of correlations between indicators, a diverging colour scale
//! with negative cells hatched, values printed in each cell and an optional count in a corner.

use super::core::*;

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
    let end = if v < 0.0 {
        (8.0, 69.0, 148.0)
    } else {
        (179.0, 88.0, 6.0)
    };
    let t = v.abs();
    let c = |a: f64, b: f64| (a + (b - a) * t).round().clamp(0.0, 255.0) as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        c(mid.0, end.0),
        c(mid.1, end.1),
        c(mid.2, end.2)
    )
}

/// Figure 3 heatmap with per-cell values (≤ 30 wide), optional annotation
/// counts, -45° column labels and a colour legend bar.
pub fn heatmap(hm: &Heatmap) -> String {
    let n = hm.labels.len();
    if n == 0 {
        return no_data_svg(&hm.title, 480.0, 200.0);
    }
    let l = Layout::new(hm);
    let mut o = String::new();
    let desc = format!(
        "{} matrix of {} indicators; colour from -1 (blue) to +1 (orange), negative cells hatched.",
        hm.value_label, n
    );
    svg_open(&mut o, l.w, l.h, &hm.title, &desc);
    let pfx = &l.pfx;
    w!(
        o,
        r##"<defs><pattern id="{pfx}-neg" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-opacity="0.45" stroke-width="1.5"/></pattern></defs>"##
    );
    title_text(&mut o, &hm.title, l.w / 2.0, 18.0, l.w - 20.0);
    l.cells(&mut o, hm);
    w!(
        o,
        r##"<rect x="{}" y="{}" width="{2}" height="{2}" fill="none" stroke="#555555"/>"##,
        f(l.left),
        f(l.top),
        f(l.side)
    );
    l.labels(&mut o, hm);
    l.colour_bar(&mut o, hm);
    l.footnotes(&mut o, hm);
    o.push_str("</svg>");
    o
}

/// The heatmap's geometry, worked out once from the matrix size and the labels.
struct Layout {
    n: usize,
    pfx: String,
    /// Whether cells are big enough to print their values.
    show_vals: bool,
    cell: f64,
    lab_fs: f64,
    left: f64,
    top: f64,
    /// The matrix's side in px.
    side: f64,
    bar_x: f64,
    w: f64,
    h: f64,
}

impl Layout {
    /// Cell size from the matrix size, margins from the longest label.
    fn new(hm: &Heatmap) -> Layout {
        let n = hm.labels.len();
        let show_vals = n <= 30;
        let cell = if show_vals {
            (600.0 / n as f64).clamp(24.0, 46.0)
        } else {
            (640.0 / n as f64).max(6.0)
        };
        let lab_fs = if cell >= 14.0 {
            11.0
        } else {
            (cell * 0.8).max(6.0)
        };
        let max_lab = widest(&hm.labels, lab_fs);
        let left = max_lab + 14.0;
        let side = cell * n as f64;
        let bar_x = left + side + 24.0;
        let right = (24.0 + 16.0 + 40.0 + 20.0f64).max(max_lab * 0.71 - 0.0 + 10.0);
        let foot = if hm.annotations.is_some() { 40.0 } else { 22.0 };
        let w = left + side + right;
        let extra = extra_title_height(title_lines(&hm.title, w - 20.0));
        let top = 34.0 + extra + max_lab * 0.71 + 10.0;
        Layout {
            n,
            pfx: idp("heat", &hm.title),
            show_vals,
            cell,
            lab_fs,
            left,
            top,
            side,
            bar_x,
            w,
            h: top + side + foot,
        }
    }

    /// Every cell, row by row: grey if missing, else coloured, hatched if negative, with its
    /// value and its annotation count.
    fn cells(&self, o: &mut String, hm: &Heatmap) {
        let (cell, pfx) = (self.cell, &self.pfx);
        for i in 0..self.n {
            for j in 0..self.n {
                let v = hm
                    .values
                    .get(i)
                    .and_then(|r| r.get(j))
                    .copied()
                    .unwrap_or(f64::NAN);
                let (x, y) = (self.left + j as f64 * cell, self.top + i as f64 * cell);
                if !v.is_finite() {
                    w!(
                        o,
                        r##"<rect x="{}" y="{}" width="{2}" height="{2}" fill="#d9d9d9" stroke="#ffffff" stroke-width="0.5"/>"##,
                        f(x),
                        f(y),
                        f(cell)
                    );
                    continue;
                }
                let v = v.clamp(-1.0, 1.0);
                w!(
                    o,
                    r##"<rect x="{}" y="{}" width="{2}" height="{2}" fill="{3}" stroke="#ffffff" stroke-width="0.5"/>"##,
                    f(x),
                    f(y),
                    f(cell),
                    diverging(v)
                );
                if v < 0.0 {
                    w!(
                        o,
                        r#"<rect x="{}" y="{}" width="{2}" height="{2}" fill="url(#{pfx}-neg)"/>"#,
                        f(x),
                        f(y),
                        f(cell)
                    );
                }
                let annotation = hm
                    .annotations
                    .as_ref()
                    .map(|ann| ann.get(i).and_then(|r| r.get(j)).copied().unwrap_or(0));
                self.cell_text(o, (x, y), v, annotation);
            }
        }
    }

    /// A cell's printed value (when cells are big enough) and its annotation count: a number in
    /// the corner, or a dot when the cell is too small for one.
    fn cell_text(&self, o: &mut String, (x, y): (f64, f64), v: f64, annotation: Option<u32>) {
        let cell = self.cell;
        let txt = if v.abs() > 0.5 { "#ffffff" } else { "#111111" };
        if self.show_vals {
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
        let Some(a) = annotation else {
            return;
        };
        if cell >= 14.0 {
            if a > 0 {
                w!(
                    o,
                    r#"<text x="{}" y="{}" text-anchor="end" font-size="{}" fill="{txt}">{a}</text>"#,
                    f(x + cell - 2.0),
                    f(y + cell - 2.5),
                    f((cell * 0.24).max(6.0))
                );
            }
        } else if a > 0 {
            w!(
                o,
                r#"<circle cx="{}" cy="{}" r="{}" fill="{txt}"/>"#,
                f(x + cell / 2.0),
                f(y + cell / 2.0),
                f(cell * 0.15)
            );
        }
    }

    /// Row labels on the left and the same labels at -45° over the columns.
    fn labels(&self, o: &mut String, hm: &Heatmap) {
        let (left, top, cell, lab_fs) = (self.left, self.top, self.cell, self.lab_fs);
        for (i, l) in hm.labels.iter().enumerate() {
            let c = i as f64 * cell + cell / 2.0;
            w!(
                o,
                r#"<text x="{}" y="{}" text-anchor="end" font-size="{}">{}</text>"#,
                f(left - 5.0),
                f(top + c + lab_fs * 0.35),
                f(lab_fs),
                esc(l)
            );
            let (x, y) = (left + c + lab_fs * 0.3, top - 5.0);
            w!(
                o,
                r#"<text x="{0}" y="{1}" font-size="{2}" transform="rotate(-45 {0} {1})">{3}</text>"#,
                f(x),
                f(y),
                f(lab_fs),
                esc(l)
            );
        }
    }

    /// The colour scale: a bar from +1 down to -1, its lower half hatched, ticks every 0.5 and
    /// the scale's name.
    fn colour_bar(&self, o: &mut String, hm: &Heatmap) {
        let (top, bar_x, pfx) = (self.top, self.bar_x, &self.pfx);
        let bar_h = self.side.clamp(80.0, 240.0);
        let steps = 40;
        for k in 0..steps {
            let v = 1.0 - 2.0 * (k as f64 + 0.5) / steps as f64;
            let y = top + bar_h * k as f64 / steps as f64;
            w!(
                o,
                r#"<rect x="{}" y="{}" width="16" height="{}" fill="{}"/>"#,
                f(bar_x),
                f(y),
                f(bar_h / steps as f64 + 0.3),
                diverging(v)
            );
        }
        w!(
            o,
            r#"<rect x="{}" y="{}" width="16" height="{}" fill="url(#{pfx}-neg)"/>"#,
            f(bar_x),
            f(top + bar_h / 2.0),
            f(bar_h / 2.0)
        );
        w!(
            o,
            r##"<rect x="{}" y="{}" width="16" height="{}" fill="none" stroke="#555555"/>"##,
            f(bar_x),
            f(top),
            f(bar_h)
        );
        for v in [1.0, 0.5, 0.0, -0.5, -1.0] {
            let y = top + bar_h * (1.0 - v) / 2.0;
            w!(
                o,
                r##"<line x1="{}" y1="{2}" x2="{}" y2="{2}" stroke="#555555"/>"##,
                f(bar_x + 16.0),
                f(bar_x + 20.0),
                f(y)
            );
            w!(
                o,
                r#"<text x="{}" y="{}">{}</text>"#,
                f(bar_x + 22.0),
                f(y + 4.0),
                tick_label(v, 0.5)
            );
        }
        let lt = if hm.value_label.is_empty() {
            "value"
        } else {
            &hm.value_label
        };
        let (tx, ty) = (bar_x + 64.0, top + bar_h / 2.0);
        w!(
            o,
            r#"<text x="{0}" y="{1}" text-anchor="middle" font-size="12" transform="rotate(-90 {0} {1})">{2}</text>"#,
            f(tx),
            f(ty),
            esc(lt)
        );
    }

    /// What hatching and grey mean, and what the annotations count, under the matrix.
    fn footnotes(&self, o: &mut String, hm: &Heatmap) {
        let mut fy = self.top + self.side + 16.0;
        w!(
            o,
            r##"<text x="{}" y="{}" font-size="10" fill="#444444">Hatched = negative; grey = missing.</text>"##,
            f(self.left),
            f(fy)
        );
        if hm.annotations.is_some() {
            fy += 14.0;
            let what = if self.cell >= 14.0 {
                "Small number in cell corner"
            } else {
                "Dot in cell"
            };
            let al = if hm.annotation_label.is_empty() {
                "annotation count"
            } else {
                &hm.annotation_label
            };
            w!(
                o,
                r##"<text x="{}" y="{}" font-size="10" fill="#444444">{what}: {}</text>"##,
                f(self.left),
                f(fy),
                esc(al)
            );
        }
    }
}
