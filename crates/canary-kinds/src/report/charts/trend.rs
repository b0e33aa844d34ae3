//! Figure 2's small multiples: the median of LAs over the years with its inter-quartile band,
//! one line per series, dashed markers at definition breaks; and a grid of them in one SVG.

use super::core::*;
use super::PALETTE;

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
        items.push((
            Key::Band("#777777", 0.3),
            "shaded: IQR (q1 to q3)".to_string(),
        ));
    } else {
        let name = c
            .series
            .first()
            .map(|s| s.name.as_str())
            .filter(|n| !n.is_empty())
            .unwrap_or("median");
        items.push((Key::Series(0), format!("{name} (median)")));
        items.push((Key::Band(PALETTE[0], 0.2), "IQR (q1 to q3)".to_string()));
    }
    items
}

/// Body of a trend chart in local coordinates (0,0)-(w,h), without `<svg>`.
fn trend_body(c: &TrendChart, w: f64, h: f64) -> String {
    let mut o = String::new();
    // Long titles wrap onto more lines, and the plot moves down to make room.
    let extra = extra_title_height(title_text(&mut o, &c.title, w / 2.0, 17.0, w - 16.0));
    let Some(p) = Panel::new(c, w, h, extra) else {
        no_data_text(&mut o, w, h);
        return o;
    };
    p.fr.axes(
        &mut o,
        &p.xt,
        &p.yt,
        if c.x_label.is_empty() {
            "Year"
        } else {
            &c.x_label
        },
        &c.y_label,
        14.0,
    );
    p.breaks(&mut o, c);
    // bands first (under all lines), then lines and markers
    bands(&mut o, c, &p.fr);
    medians(&mut o, c, &p.fr);
    p.fr.legend_under(&mut o, &p.items, w);
    o
}

/// A trend panel's scales and plot area, worked out once from its data.
struct Panel {
    fr: Frame,
    xt: Vec<(f64, String)>,
    yt: Vec<(f64, String)>,
    items: Vec<(Key, String)>,
    /// The title's height beyond one line.
    extra: f64,
    w: f64,
}

impl Panel {
    /// The panel of `c` in `w` × `h` px; `None` when it has no finite value to draw.
    fn new(c: &TrendChart, w: f64, h: f64, extra: f64) -> Option<Panel> {
        let finite_pt =
            |p: &TrendPoint| p.median.is_finite() || p.q1.is_finite() || p.q3.is_finite();
        let years = finite_minmax(c.series.iter().flat_map(|s| {
            s.points
                .iter()
                .filter(|p| finite_pt(p))
                .map(|p| p.year as f64)
        }));
        let vals = finite_minmax(
            c.series
                .iter()
                .flat_map(|s| s.points.iter().flat_map(|p| [p.median, p.q1, p.q3])),
        );
        let (Some((ya, yb)), Some((va, vb))) = (years, vals) else {
            return None;
        };
        let (ya, yb) = finite_minmax([ya, yb].into_iter().chain(c.breaks.iter().map(|b| b.year)))
            .unwrap_or((ya, yb));
        let (x0, x1, xt) = year_ticks(ya, yb);
        // y: values (include 0 when close, so rates don't look exaggerated)
        let va2 = if va > 0.0 && va < (vb - va) * 0.5 {
            0.0
        } else {
            va
        };
        let (y0, y1, yticks, ystep) = nice_ticks(va2, vb, 5);
        let yt = labelled_ticks(&yticks, ystep);
        let ytw = widest(yt.iter().map(|(_, l)| l), 11.0);
        let items = trend_legend_items(c);
        let left = ytw + 30.0;
        let right = 14.0;
        let plot_w = (w - left - right).max(40.0);
        let leg_h = legend_height(&items, w - 20.0);
        let nb_rows = c.breaks.len().min(3) as f64;
        let top = 28.0 + extra + nb_rows * 12.0;
        let bottom = 40.0 + leg_h + 4.0;
        let fr = Frame {
            left,
            top,
            w: plot_w,
            h: (h - top - bottom).max(30.0),
            x0,
            x1,
            y0,
            y1,
        };
        Some(Panel {
            fr,
            xt,
            yt,
            items,
            extra,
            w,
        })
    }

    /// A dashed vertical line at each definition break, its label above the plot in up to
    /// three staggered rows.
    fn breaks(&self, o: &mut String, c: &TrendChart) {
        let (fr, extra, w) = (&self.fr, self.extra, self.w);
        for (i, b) in c.breaks.iter().enumerate() {
            if !b.year.is_finite() {
                continue;
            }
            let x = fr.sx(b.year);
            let ly = 28.0 + extra + (i % 3) as f64 * 12.0 + 6.0;
            w!(
                o,
                r##"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#555555" stroke-width="1.2" stroke-dasharray="4 3"/>"##,
                f(x),
                f(ly + 2.0),
                f(fr.top + fr.h)
            );
            // keep the label inside the panel
            let (lx, anchor) = beside(x, tw(&b.label, 10.0), w - 2.0);
            w!(
                o,
                r##"<text x="{}" y="{}" text-anchor="{anchor}" font-size="10" fill="#444444">{}</text>"##,
                f(lx),
                f(ly),
                esc(&b.label)
            );
        }
    }
}

/// The x axis over the years `ya`..`yb`: the domain half a year beyond each, and ticks on
/// whole years. Returns (domain lo, domain hi, labelled ticks).
fn year_ticks(ya: f64, yb: f64) -> (f64, f64, Vec<(f64, String)>) {
    let (x0, x1) = (ya - 0.5, yb + 0.5);
    let mut step = nice_step(yb - ya, 6).max(1.0);
    if step.fract() != 0.0 {
        step = step.ceil();
    }
    let k0 = (ya / step).ceil() as i64;
    let k1 = (yb / step).floor() as i64;
    let xt = (k0..=k1.min(k0 + 60))
        .map(|k| (k as f64 * step, format!("{}", k as f64 * step)))
        .collect();
    (x0, x1, xt)
}

/// A series' points in year order (stable, so equal years keep their given order).
fn by_year(s: &TrendSeries) -> Vec<TrendPoint> {
    let mut p = s.points.clone();
    p.sort_by_key(|p| p.year);
    p
}

/// Each series' inter-quartile band: a polygon over each run of years with both quartiles,
/// a narrow bar for a run of one year.
fn bands(o: &mut String, c: &TrendChart, fr: &Frame) {
    for (i, s) in c.series.iter().enumerate() {
        let col = PALETTE[i % 8];
        let band: Vec<Option<(f64, f64, f64)>> = by_year(s)
            .iter()
            .map(|p| {
                (p.q1.is_finite() && p.q3.is_finite())
                    .then(|| (fr.sx(p.year as f64), fr.sy(p.q1), fr.sy(p.q3)))
            })
            .collect();
        for run in runs(&band) {
            if run.len() == 1 {
                let (x, a, b) = run[0];
                w!(
                    o,
                    r#"<rect x="{}" y="{}" width="8" height="{}" fill="{col}" fill-opacity="0.2"/>"#,
                    f(x - 4.0),
                    f(a.min(b)),
                    f((a - b).abs())
                );
            } else {
                let mut poly: Vec<(f64, f64)> = run.iter().map(|(x, _, b)| (*x, *b)).collect();
                poly.extend(run.iter().rev().map(|(x, a, _)| (*x, *a)));
                w!(
                    o,
                    r#"<polygon points="{}" fill="{col}" fill-opacity="0.18" stroke="{col}" stroke-opacity="0.5" stroke-width="0.8"{}/>"#,
                    pts(&poly),
                    dash_attr(i)
                );
            }
        }
    }
}

/// Each series' median: a line over each run of years with a value, a marker on every year.
fn medians(o: &mut String, c: &TrendChart, fr: &Frame) {
    for (i, s) in c.series.iter().enumerate() {
        let col = PALETTE[i % 8];
        let line: Vec<Option<(f64, f64)>> = by_year(s)
            .iter()
            .map(|p| {
                p.median
                    .is_finite()
                    .then(|| (fr.sx(p.year as f64), fr.sy(p.median)))
            })
            .collect();
        w!(o, r#"<g><title>{}</title>"#, esc(&s.name));
        for run in runs(&line) {
            if run.len() > 1 {
                w!(
                    o,
                    r#"<polyline points="{}" fill="none" stroke="{col}" stroke-width="2"{}/>"#,
                    pts(&run),
                    dash_attr(i)
                );
            }
            for (x, y) in run {
                o.push_str(&marker(i, x, y, 3.5, col));
            }
        }
        o.push_str("</g>");
    }
}

pub(super) fn size_or(w: f64, h: f64, dw: f64, dh: f64) -> (f64, f64) {
    let w = if w.is_finite() && w > 0.0 { w } else { dw };
    let h = if h.is_finite() && h > 0.0 { h } else { dh };
    (w, h)
}

/// Figure 2 panel: median line with markers and shaded IQR band per series,
/// dashed vertical markers at definition breaks.
pub fn trend_chart(c: &TrendChart) -> String {
    let (w, h) = size_or(c.width, c.height, 480.0, 320.0);
    let mut o = String::new();
    let desc = format!(
        "Trend of {} by year; median with inter-quartile band.",
        c.title
    );
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
        format!(
            "Indicator trends: {}",
            charts
                .iter()
                .map(|c| c.title.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        )
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
    let (w, h) = (
        cols as f64 * (cw + gap) + gap,
        rows as f64 * (ch + gap) + gap,
    );
    let mut o = String::new();
    svg_open(
        &mut o,
        w,
        h,
        &title,
        "Small multiples of indicator trends; median line with inter-quartile band.",
    );
    for (k, c) in charts.iter().enumerate() {
        let (x, y) = (
            gap + (k % cols) as f64 * (cw + gap),
            gap + (k / cols) as f64 * (ch + gap),
        );
        w!(o, r#"<g transform="translate({},{})">"#, f(x), f(y));
        w!(
            o,
            r##"<rect x="0" y="0" width="{}" height="{}" fill="none" stroke="#cccccc"/>"##,
            f(cw),
            f(ch)
        );
        o.push_str(&trend_body(c, cw, ch));
        o.push_str("</g>");
    }
    o.push_str("</svg>");
    o
}
