//! `report`: the study report, rendered from tera templates into `reports/report.html` (one
//! self-contained file, charts inline as SVG) and `reports/report.md` (charts as SVG files
//! beside it). The main table lists the files written with their hashes, so the lock records
//! them like any other output. The report itself — its sections, charts and templates'
//! context — is the subsystem in `src/report/`; this is the stage kind around it.

use schemars::JsonSchema;
use serde::Deserialize;

use super::docs::TableDoc;
use super::params::{self, KindParams};
use super::{OutputTable, StageContext, StageKind};
use crate::error::{Error, Result};
use crate::pipeline::Stage;
use crate::report::input::REQUIRED;

pub use crate::report::format::unit_label;
pub use crate::report::{without_run_specific, RUN_SPECIFIC_END, RUN_SPECIFIC_START};

pub struct Report;

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

impl StageKind for Report {
    fn name(&self) -> &'static str {
        "report"
    }
    fn needs_upstream(&self) -> bool {
        true
    }
    fn version(&self) -> u32 {
        5
    }
    fn describe(&self) -> &'static str {
        "the study report in HTML and Markdown, the paper's values beside ours"
    }
    fn outputs(&self) -> &'static [TableDoc] {
        &[TableDoc {
            name: "",
            columns: &["path", "content_sha256", "content_bytes"],
        }]
    }
    fn params(&self) -> &KindParams {
        static P: params::Lazy = params::Lazy::new(KindParams::of::<ReportParams>);
        &P
    }
    fn files(&self, stage: &Stage) -> Vec<String> {
        let Ok(p) = stage.params_as::<ReportParams>() else {
            return Vec::new();
        };
        let templates = p.templates.trim_end_matches('/');
        crate::report::render::TEMPLATES
            .iter()
            .map(|(name, _)| format!("{templates}/{name}"))
            .chain([p.published])
            .collect()
    }
    fn side_outputs(&self, stage: &Stage) -> Vec<String> {
        let Ok(p) = stage.params_as::<ReportParams>() else {
            return Vec::new();
        };
        let dir = p.out_dir();
        vec![
            format!("{dir}/report.html"),
            format!("{dir}/report.md"),
            format!("{dir}/figures/"),
        ]
    }
    /// The run as an RO-Crate beside the report: written from the lock, like the lock a record
    /// of the run rather than a cached output — again only when the run changed something, or
    /// the crate is missing.
    fn after_run(
        &self,
        pipeline: &crate::pipeline::Pipeline,
        stage: &Stage,
        lock: &crate::engine::lock::Lock,
        changed: bool,
    ) -> Result<()> {
        let p: ReportParams = stage
            .params_as()
            .map_err(|e| Error::stage(&stage.name, e))?;
        let dir = p.out_dir();
        if !changed
            && pipeline
                .root
                .join(dir)
                .join(crate::report::rocrate::FILE_NAME)
                .is_file()
        {
            return Ok(());
        }
        crate::report::rocrate::write(pipeline, lock, &stage.name).map(|_| ())
    }
    fn check(&self, stage: &Stage) -> std::result::Result<(), String> {
        for i in REQUIRED {
            if !stage.inputs.iter().any(|x| x == i) {
                return Err(format!(
                    "a `report` stage reads the stages {}; `{i}` is missing from its inputs",
                    REQUIRED.join(", ")
                ));
            }
        }
        Ok(())
    }
    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        crate::report::run(ctx)
    }
}
