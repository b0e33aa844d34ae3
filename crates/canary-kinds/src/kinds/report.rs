//! `report`: the study report, rendered from tera templates into `reports/report.html` (one
//! self-contained file, charts inline as SVG) and `reports/report.md` (charts as SVG files
//! beside it). The main table lists the files written with their hashes, so the lock records
//! them like any other output. The report itself — its sections, charts and templates'
//! context — is the subsystem in `report/`; this is the stage kind around it.

use crate::error::{Error, Result};
use crate::params::{self, KindParams};
use crate::pipeline::KindSpec;
use crate::pipeline::Stage;
use crate::report::input::REQUIRED;
pub use crate::report::ReportParams;
use crate::stage::TableDoc;
use crate::stage::{OutputTable, StageContext, StageKind};

pub use crate::report::format::unit_label;
pub use crate::report::{without_run_specific, RUN_SPECIFIC_END, RUN_SPECIFIC_START};

pub struct Report;

impl KindSpec for Report {
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
        lock: &crate::lockfile::Lock,
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

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        crate::report::run(ctx)
    }
}
