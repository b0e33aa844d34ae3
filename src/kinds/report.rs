//! `report`: the study report, rendered from tera templates into `reports/report.html` (one
//! self-contained file, charts inline as SVG) and `reports/report.md` (charts as SVG files
//! beside it). The main table lists the files written with their hashes, so the lock records
//! them like any other output. The report itself — its sections, charts and templates'
//! context — is the subsystem in `src/report/`; this is the stage kind around it.

use super::{OutputTable, ParamSpec, ParamType, StageContext, StageKind};
use crate::error::Result;
use crate::pipeline::Stage;
use crate::report::input::REQUIRED;

pub use crate::report::format::unit_label;
pub use crate::report::{without_run_specific, RUN_SPECIFIC_END, RUN_SPECIFIC_START};

pub struct Report;

const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "templates",
        ty: ParamType::String,
        required: true,
        help: "the folder of tera templates (report.html.tera, report.md.tera)",
    },
    ParamSpec {
        name: "published",
        ty: ParamType::String,
        required: true,
        help: "the paper's published values (reports/published_results.yaml)",
    },
    ParamSpec {
        name: "out_dir",
        ty: ParamType::String,
        required: true,
        help: "where the report is written (reports)",
    },
    ParamSpec {
        name: "predictor_year",
        ty: ParamType::Integer,
        required: false,
        help: "the model's predictor year, stated beside its results",
    },
    ParamSpec {
        name: "outcome_window",
        ty: ParamType::String,
        required: false,
        help: "the model's outcome window (`2012..2013`), stated beside its results",
    },
    ParamSpec {
        name: "cohorts_from",
        ty: ParamType::Integer,
        required: false,
        help: "the cohorts' first year, when the cohorts table does not say (it does: `from_year`)",
    },
    ParamSpec {
        name: "cohorts_to",
        ty: ParamType::Integer,
        required: false,
        help: "the cohorts' last year, when the cohorts table does not say (it does: `to_year`)",
    },
];

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
    fn params(&self) -> &'static [ParamSpec] {
        PARAMS
    }
    fn files(&self, stage: &Stage) -> Vec<String> {
        let mut f = Vec::new();
        if let Some(t) = stage.params.get("templates").and_then(|v| v.as_str()) {
            f.extend(
                crate::report::render::TEMPLATES
                    .iter()
                    .map(|(name, _)| format!("{t}/{name}")),
            );
        }
        if let Some(p) = stage.params.get("published").and_then(|v| v.as_str()) {
            f.push(p.to_string());
        }
        f
    }
    fn side_outputs(&self, stage: &Stage) -> Vec<String> {
        let dir = stage
            .params
            .get("out_dir")
            .and_then(|v| v.as_str())
            .unwrap_or("reports")
            .trim_end_matches('/');
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
        let dir = stage
            .params
            .get("out_dir")
            .and_then(|v| v.as_str())
            .unwrap_or("reports");
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
