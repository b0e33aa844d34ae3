//! Pure-Rust, dependency-free SVG charts for the canary report, one module per chart type
//! over a shared core (`core`: formatting, ticks, frame and axes, markers, legend, wrapped
//! titles).
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
//! Series are told apart by the Okabe-Ito palette *and* by dash pattern, marker
//! shape or fill pattern, so charts stay readable in greyscale and for colour-blind
//! readers. Titles too long for a chart wrap onto further lines, never cut. An axis
//! of values that are never negative starts at 0 at the lowest. Degenerate inputs
//! (empty, one point, NaN, all-equal values) never panic; an empty chart shows
//! "no data".

/// `write!` into a `String`, ignoring the (impossible) error.
macro_rules! w {
    ($dst:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = write!($dst, $($arg)*);
    }};
}

mod bar;
mod core;
mod cv;
mod dag;
mod heatmap;
mod shares;
mod trend;

#[cfg(test)]
mod tests;

pub use bar::{bar_chart, Bar, BarChart};
pub use cv::{cv_curve, CvCurve};
pub use dag::{dag, Dag, DagNode};
pub use heatmap::{heatmap, Heatmap};
pub use shares::{share_chart, Share, ShareChart, ShareRow};
pub use trend::{trend_chart, trend_grid, DefinitionBreak, TrendChart, TrendPoint, TrendSeries};

/// Okabe-Ito palette, in the order series are coloured.
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];
/// Dash patterns, one per series index (first is solid).
pub const DASHES: [&str; 8] = [
    "",
    "7 3",
    "2 2",
    "9 3 2 3",
    "1 3",
    "12 4",
    "5 2 1 2 1 2",
    "3 5",
];
const FONT: &str = "system-ui, sans-serif";
const GRID: &str = "#e3e3e3";
const INK: &str = "#222222";
