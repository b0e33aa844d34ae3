//! The study report as a subsystem: what the `report` kind (`kinds/report.rs`, kept thin)
//! renders into `reports/report.html` (one self-contained file, charts inline as SVG) and
//! `reports/report.md` (charts as SVG files beside it), the charts it draws and the RO-Crate
//! written beside it after each run.
//!
//! One module per section, each building a typed context (`#[derive(Serialize)]`) from the
//! run's tables and params — every window, horizon, predictor year, outcome and data gap a
//! sentence states comes from them — and the templates (`reports/templates/report.*.tera`)
//! writing every word of HTML and Markdown. In the report's order, with the name a template
//! uses:
//!
//! | name | module | from |
//! | --- | --- | --- |
//! | `claims` | [`claims`] | the `claims` stage: the ledger, a count per verdict |
//! | `data` | [`data`] | sources, coverage, definition breaks |
//! | `figure2` | [`figure2`] | `trends`, the paper's trend statements |
//! | `figure3` | [`figure3`] | `correlations`, the pairs the paper found and did not find |
//! | `table2` | [`table2`] | `model` (coefficients, summary, CV curve) |
//! | `robustness` | [`robustness`] | `model_sweep`, and `model`'s path and paper-sparsity fit |
//! | `direct` | [`direct`] | `model_direct`: the paper's terms by glm |
//! | `table3` | [`table3`] | `cohorts` and its stated fallback |
//! | `early_warning` | [`early_warning`] | `early_warning` |
//! | `differences` | [`differences`] | where ours and the paper's cannot agree |
//! | `provenance` | [`provenance`] | the DAG, the run, each stage (a sweep as one entry) |
//!
//! `model_sweep`, `model_direct`, `early_warning` and `claims` are read when the report stage
//! lists them; a section whose stage it does not read says so. The paper's values come from
//! `reports/published_results.yaml` ([`published`]): an indicator it names that the panel does
//! not have is an error naming the item.

pub mod charts;
pub mod claims;
pub mod data;
pub mod differences;
pub mod direct;
pub mod early_warning;
pub mod figure2;
pub mod figure3;
pub mod format;
pub mod input;
pub mod provenance;
pub mod published;
pub mod render;
pub mod robustness;
pub mod rocrate;
pub mod table2;
pub mod table3;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::stage::columns::TableBuilder;
use crate::stage::{OutputTable, StageContext};
use input::{Indicators, Inputs};

pub use render::{without_run_specific, RUN_SPECIFIC_END, RUN_SPECIFIC_START};

/// The params of a `report` stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// the folder of tera templates (report.html.tera, report.md.tera)
    pub templates: String,
    /// the paper's published values (reports/published_results.yaml)
    pub published: String,
    /// where the report is written (reports)
    pub out_dir: String,
    /// the model's predictor year, stated beside its results
    pub predictor_year: Option<i64>,
    /// the model's outcome window (`2012..2013`), stated beside its results
    pub outcome_window: Option<String>,
    /// the cohorts' first year, when the cohorts table does not say (it does: `from_year`)
    pub cohorts_from: Option<i64>,
    /// the cohorts' last year, when the cohorts table does not say (it does: `to_year`)
    pub cohorts_to: Option<i64>,
}

impl ReportParams {
    /// `out_dir` without a trailing `/`.
    pub fn out_dir(&self) -> &str {
        self.out_dir.trim_end_matches('/')
    }
}

/// Everything the templates see.
#[derive(Serialize)]
pub struct Report {
    pub pipeline: String,
    pub claims: claims::ClaimsSection,
    pub data: data::DataSection,
    pub figure2: figure2::Figure2Section,
    pub figure3: figure3::Figure3Section,
    pub table2: table2::Table2Section,
    pub robustness: robustness::RobustnessSection,
    pub direct: direct::DirectSection,
    pub table3: table3::Table3Section,
    pub early_warning: Option<early_warning::EarlyWarningSection>,
    pub differences: differences::DifferencesSection,
    pub provenance: provenance::ProvenanceSection,
}

/// Build the report's context from the stage's inputs, render and write it; the table of the
/// files written with their content hashes.
pub fn run(ctx: &StageContext) -> Result<Vec<OutputTable>> {
    let inp = Inputs {
        ctx,
        params: ctx.params()?,
    };
    let indicators = Indicators::read(&inp)?;
    let published = read_published(&inp, &indicators)?;
    let data = data::build(&inp, &indicators)?;
    let table2 = table2::build(&inp, &indicators, &published)?;
    let early_warning = early_warning::build(&inp, &indicators, &published)?;
    let claims = claims::build(&inp, &anchors(early_warning.is_some()))?;
    let report = Report {
        pipeline: ctx.pipeline.name.clone(),
        claims,
        figure2: figure2::build(&inp, &indicators, &published)?,
        figure3: figure3::build(&inp, &indicators, &published)?,
        robustness: robustness::build(&inp, &indicators)?,
        direct: direct::build(&inp, &indicators)?,
        table3: table3::build(&inp, &indicators, &published)?,
        differences: differences::build(&inp, &indicators, &published, &data, &table2.alpha)?,
        provenance: provenance::build(ctx),
        data,
        table2,
        early_warning,
    };
    let context = tera::Context::from_serialize(&report)
        .map_err(|e| ctx.fail(format!("report context: {e}")))?;
    let written = render::write_all(ctx, &context, &figures(&report))?;
    // Hashed without their run-specific blocks (durations, host, commit), so the table — and
    // the lock — stay byte-identical from run to run and machine to machine.
    Ok(vec![TableBuilder::new()
        .str("path", written.iter().map(|w| w.0.clone()).collect())
        .str(
            "content_sha256",
            written.iter().map(|w| w.1.clone()).collect(),
        )
        .i64(
            "content_bytes",
            written.iter().map(|w| w.2 as i64).collect(),
        )
        .build(None)?])
}

fn read_published(inp: &Inputs, indicators: &Indicators) -> Result<published::Published> {
    let (ctx, path) = (inp.ctx, inp.params.published.as_str());
    let text = std::fs::read_to_string(ctx.pipeline.root.join(path))
        .map_err(|e| Error::io("read", path, e))?;
    published::read(path, &text, indicators, &ctx.stage.name)
}

/// The report's section ids with their titles, as this run renders them: what a claim's
/// `anchor` may name.
pub fn anchors(early_warning: bool) -> Vec<(String, String)> {
    let mut a = vec![
        ("claims", "Claims ledger"),
        ("data", "The data"),
        ("coverage", "Coverage"),
        ("breaks", "Definition breaks"),
        ("figure-2", "Figure 2"),
        ("figure-3", "Figure 3"),
        ("table-2", "Table 2"),
        ("robustness", "How robust Table 2 is"),
        ("path", "The study's own fit along its path"),
        ("direct", "The paper's terms tested directly"),
        ("table-3", "Table 3"),
    ];
    if early_warning {
        a.extend([
            ("early-warning", "New years: early warning"),
            ("beside-2016", "Beside the 2016 result"),
        ]);
    }
    a.extend([
        ("differences", "Where ours and the paper's cannot agree"),
        ("provenance", "Provenance"),
    ]);
    a.into_iter()
        .map(|(id, t)| (id.to_string(), t.to_string()))
        .collect()
}

/// The figures the Markdown report shows as files beside it.
fn figures(r: &Report) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = r
        .figure2
        .quadrants
        .iter()
        .map(|q| (q.file.clone(), q.svg.clone()))
        .collect();
    f.push(("figures/figure3.svg".into(), r.figure3.heatmap.clone()));
    if let Some(focus) = &r.figure3.focus {
        f.push(("figures/figure3_rereferrals.svg".into(), focus.svg.clone()));
    }
    f.push(("figures/cv_curve.svg".into(), r.table2.cv_curve.clone()));
    if let Some(s) = &r.robustness.sweep {
        f.push((
            "figures/robustness_selection.svg".into(),
            s.selection_svg.clone(),
        ));
    }
    f.push(("figures/dag.svg".into(), r.provenance.dag.clone()));
    f
}
