//! `sql`: a DataFusion query over the stage's inputs, each registered as a table under its
//! input name (a multi-table stage's tables as `<input>_<table>`).

use std::path::Path;

use datafusion::execution::context::{SessionConfig, SessionContext};
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions};

use super::{Input, OutputTable, StageContext, StageKind};
use crate::error::{Error, Result};

pub struct Sql;

impl StageKind for Sql {
    fn name(&self) -> &'static str {
        "sql"
    }

    fn version(&self) -> u32 {
        1
    }

    fn describe(&self) -> &'static str {
        "a DataFusion SQL query over the inputs, written as one Parquet table"
    }

    fn open_params(&self) -> bool {
        true
    }

    fn uses_sql(&self) -> bool {
        true
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let sql = ctx.stage.sql.as_deref().unwrap_or_default();
        let where_sql = match &ctx.stage.sql_file {
            Some(f) => format!("`{f}`"),
            None => "its `sql` in pipeline.yaml".to_string(),
        };
        let fail = |e: datafusion::error::DataFusionError| {
            Error::stage(&ctx.stage.name, format!("{}", strip_datafusion_noise(&e.to_string())))
                .with_hint(format!("fix the SQL in {where_sql}; `canary sql` tries a query against the current outputs"))
        };
        let session = session();
        let runtime = runtime()?;
        runtime.block_on(async {
            for (name, input) in &ctx.inputs {
                register(&session, name, input).await.map_err(|e| e.in_stage(&ctx.stage.name))?;
            }
            // Validation refused anything but a query over the inputs; DataFusion's own
            // guard stands behind it.
            let df = session.sql_with_options(sql, crate::sandbox::options()).await.map_err(fail)?;
            let schema = df.schema().as_arrow().clone();
            let batches = df.collect().await.map_err(fail)?;
            Ok(vec![OutputTable {
                name: None,
                schema: std::sync::Arc::new(schema),
                batches,
                ordered: false,
            }])
        })
    }
}

/// One partition: DataFusion then combines partial results (float sums included) in a fixed
/// order, which keeps outputs byte-identical from run to run. The inputs here are small.
pub fn session() -> SessionContext {
    let config = SessionConfig::new()
        .with_target_partitions(1)
        .with_information_schema(true);
    SessionContext::new_with_config(config)
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::stage("sql", format!("cannot start the query runtime: {e}")))
}

/// Register an input under `name`: CSV or Parquet sources by extension, stage outputs as Parquet.
pub async fn register(session: &SessionContext, name: &str, input: &Input) -> Result<()> {
    match input {
        Input::Source { path } => register_file(session, name, path).await,
        Input::Stage { tables } => {
            for (table, path) in tables {
                let table_name = crate::pipeline::Pipeline::sql_table_name(name, table.as_deref());
                register_file(session, &table_name, path).await?;
            }
            Ok(())
        }
    }
}

pub async fn register_file(session: &SessionContext, name: &str, path: &Path) -> Result<()> {
    // An empty file has no header and no schema: DataFusion would register it with no columns
    // and the first column the SQL names would be blamed on the SQL.
    if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
        return Err(Error::data(path, format!("input `{name}` is an empty file (0 bytes): it has no header row and no data"))
            .with_hint("the file is not the published one: replace it (`canary fetch` brings a source again once it is deleted), or check the stage that wrote it"));
    }
    let p = path.to_string_lossy();
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let result = match ext.as_str() {
        "parquet" => session.register_parquet(name, p.as_ref(), ParquetReadOptions::default()).await,
        "csv" => {
            // Read the whole file to infer types: published CSVs put `c` or `x` in numeric
            // columns far below the first rows.
            let opts = CsvReadOptions::new().has_header(true).schema_infer_max_records(10_000_000);
            session.register_csv(name, p.as_ref(), opts).await
        }
        _ => {
            return Err(Error::data(path, format!("input `{name}` is neither .csv nor .parquet"))
                .with_hint("SQL stages read CSV and Parquet; parse other formats with a `clean.*` stage first"))
        }
    };
    result.map_err(|e| Error::data(path, format!("cannot register input `{name}`: {}", strip_datafusion_noise(&e.to_string()))))
}

/// DataFusion wraps messages in layers ("Error during planning: ..."); keep them, drop the
/// Rust debug quoting that makes them hard to read.
pub fn strip_datafusion_noise(s: &str) -> String {
    s.replace("ParserError(\"", "").replace("\")", "").replace("\\\"", "\"")
}
