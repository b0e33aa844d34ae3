//! The cross-validation curve of a glmnet-style fit: mean error against log(lambda) with
//! one-SD error bars, dashed lines at lambda.min and lambda.1se.

use super::core::*;
use super::{INK, PALETTE};

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
    let pts_v = points(c);
    if pts_v.is_empty() {
        return no_data_svg(&c.title, w, h);
    }
    let p = Plot::new(c, &pts_v, w, h);
    let mut o = String::new();
    svg_open(
        &mut o,
        w,
        h,
        &c.title,
        "Cross-validation curve: mean error against log(lambda) with one-SD error bars.",
    );
    title_text(&mut o, &c.title, w / 2.0, 18.0, w - 20.0);
    p.fr.axes(&mut o, &p.xt, &p.yt, "log(lambda)", &c.y_label, 14.0);
    p.lambda_marks(&mut o, w);
    for &(lx, m, s) in &pts_v {
        let x = p.fr.sx(lx);
        if s.is_finite() {
            let (a, b) = (p.fr.sy(m - s.abs()), p.fr.sy(m + s.abs()));
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
        o.push_str(&marker(0, x, p.fr.sy(m), 3.0, PALETTE[5]));
    }
    p.fr.legend_under(&mut o, &p.items, w);
    o.push_str("</svg>");
    o
}

/// The drawable points as (ln lambda, mean error, SD); the SD is NaN where missing.
fn points(c: &CvCurve) -> Vec<(f64, f64, f64)> {
    c.lambdas
        .iter()
        .zip(&c.cvm)
        .enumerate()
        .filter(|(_, (l, m))| l.is_finite() && **l > 0.0 && m.is_finite())
        .map(|(i, (l, m))| (l.ln(), *m, c.cvsd.get(i).copied().unwrap_or(f64::NAN)))
        .collect()
}

/// A marked lambda: (ln lambda, name, colour, dash).
type LambdaLine = (f64, &'static str, &'static str, &'static str);

/// The curve's scales, plot area and legend, worked out once from its points and marked
/// lambdas.
struct Plot {
    fr: Frame,
    xt: Vec<(f64, String)>,
    yt: Vec<(f64, String)>,
    items: Vec<(Key, String)>,
    lines: Vec<LambdaLine>,
    /// The title's height beyond one line.
    extra: f64,
}

impl Plot {
    /// The plot of `pts_v` and the valid ones of lambda.min and lambda.1se in `w` × `h` px.
    fn new(c: &CvCurve, pts_v: &[(f64, f64, f64)], w: f64, h: f64) -> Plot {
        let lines: Vec<LambdaLine> = [
            (c.lambda_min, "lambda.min", PALETTE[0], "6 3"),
            (c.lambda_1se, "lambda.1se", PALETTE[2], "2 3"),
        ]
        .into_iter()
        .filter(|(l, ..)| l.is_finite() && *l > 0.0)
        .map(|(l, n, col, d)| (l.ln(), n, col, d))
        .collect();
        let (xa, xb) = finite_minmax(pts_v.iter().map(|p| p.0).chain(lines.iter().map(|l| l.0)))
            .unwrap_or((0.0, 1.0));
        let (ya, yb) = finite_minmax(pts_v.iter().flat_map(|&(_, m, s)| {
            let s = if s.is_finite() { s.abs() } else { 0.0 };
            [m - s, m + s]
        }))
        .unwrap_or((0.0, 1.0));
        let (x0, x1, xticks, xstep) = nice_ticks(xa, xb, 6);
        let (y0, y1, yticks, ystep) = nice_ticks(ya, yb, 5);
        let xt = labelled_ticks(&xticks, xstep);
        let yt = labelled_ticks(&yticks, ystep);
        let ytw = widest(yt.iter().map(|(_, l)| l), 11.0);
        let mut items: Vec<(Key, String)> = vec![(
            Key::ErrPoint(PALETTE[5], "#777777"),
            "mean CV error ± 1 SD".to_string(),
        )];
        for (_, n, col, d) in &lines {
            items.push((Key::Line(col, d), n.to_string()));
        }
        let leg_h = legend_height(&items, w - 20.0);
        let left = ytw + 32.0;
        let extra = extra_title_height(title_lines(&c.title, w - 20.0));
        let top = 30.0 + extra + 12.0 * lines.len() as f64;
        let fr = Frame {
            left,
            top,
            w: w - left - 16.0,
            h: h - top - 44.0 - leg_h,
            x0,
            x1,
            y0,
            y1,
        };
        Plot {
            fr,
            xt,
            yt,
            items,
            lines,
            extra,
        }
    }

    /// A dashed vertical line at each marked lambda, named above the plot, kept inside the
    /// chart's `w` px.
    fn lambda_marks(&self, o: &mut String, w: f64) {
        let fr = &self.fr;
        for (k, (lx, n, col, d)) in self.lines.iter().enumerate() {
            let x = fr.sx(*lx);
            let ly = 30.0 + self.extra + 12.0 * k as f64 + 4.0;
            w!(
                o,
                r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{col}" stroke-width="1.5" stroke-dasharray="{d}"/>"#,
                f(x),
                f(ly + 2.0),
                f(fr.top + fr.h)
            );
            let (tx, anchor) = beside(x, tw(n, 10.0), w - 4.0);
            w!(
                o,
                r#"<text x="{}" y="{}" text-anchor="{anchor}" font-size="10" fill="{INK}">{n}</text>"#,
                f(tx),
                f(ly)
            );
        }
    }
}
