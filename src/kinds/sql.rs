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
        let limit = ctx.resources.memory;
        let fail = |e: datafusion::error::DataFusionError| {
            if matches!(
                e.find_root(),
                datafusion::error::DataFusionError::ResourcesExhausted(_)
            ) {
                return Error::stage(&ctx.stage.name, format!(
                    "its query needs more memory than its limit of {} and could not spill the rest to disk: {}",
                    human_bytes(limit),
                    strip_datafusion_noise(&e.to_string())
                ))
                .with_hint("raise the limit (`canary run --memory 2GB`, or `settings: {memory: 2GB}` in pipeline.yaml), or make the query hold less at once");
            }
            Error::stage(&ctx.stage.name, strip_datafusion_noise(&e.to_string()))
                .with_hint(format!("fix the SQL in {where_sql}; `canary sql` tries a query against the current outputs"))
        };
        let session = session_with(&ctx.resources)?;
        let dest = ctx
            .pipeline
            .output_paths(ctx.stage)
            .into_iter()
            .next()
            .map(|(_, p)| p)
            .ok_or_else(|| ctx.fail("has no output path"))?;
        runtime()?.block_on(async {
            for (name, input) in &ctx.inputs {
                register(&session, name, input).await.map_err(|e| e.in_stage(&ctx.stage.name))?;
            }
            // Validation refused anything but a query over the inputs; DataFusion's own
            // guard stands behind it.
            let df = session.sql_with_options(sql, crate::sandbox::options()).await.map_err(fail)?;
            // The canonical order — every sortable column, left to right, nulls first — by
            // DataFusion's own sort, which spills under the memory limit; the sorted result is
            // streamed to Parquet, never collected.
            let order: Vec<datafusion::logical_expr::SortExpr> = df
                .schema()
                .iter()
                .filter(|(_, f)| crate::table::sortable(f.data_type()))
                .map(|(q, f)| datafusion::prelude::Expr::Column(datafusion::common::Column::new(q.cloned(), f.name())).sort(true, true))
                .collect();
            let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
            let df = if order.is_empty() { df } else { df.sort(order).map_err(fail)? };
            let stream = df.execute_stream().await.map_err(fail)?;
            let written = crate::table::write_stream_temp(&dest, stream).await.map_err(|e| match e {
                Error::Data { message, .. } if message.contains("Resources exhausted") => Error::stage(&ctx.stage.name, format!(
                    "its query needs more memory than its limit of {} and could not spill the rest to disk: {message}",
                    human_bytes(limit)
                ))
                .with_hint("raise the limit (`canary run --memory 2GB`, or `settings: {memory: 2GB}` in pipeline.yaml)"),
                other => other.in_stage(&ctx.stage.name),
            })?;
            Ok(vec![OutputTable { name: None, schema, batches: Vec::new(), ordered: true, written: Some(written) }])
        })
    }
}

/// 536870912 → "512 MiB".
pub fn human_bytes(n: usize) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} bytes")
    } else {
        format!("{v:.0} {}", units[u])
    }
}

/// A session for `canary sql` and for reading a CSV source: one partition, the default memory.
pub fn session() -> SessionContext {
    let config = SessionConfig::new()
        .with_target_partitions(1)
        .with_information_schema(true);
    let ctx = SessionContext::new_with_config(config);
    super::exact_aggregates::register(&ctx);
    ctx
}

/// A SQL stage's session: its partitions (`--jobs`), a memory pool with its limit, shared
/// fairly by the query's operators, and a disk manager spilling to `.canary/tmp/spill`.
/// Float sums, means and second moments go through exact accumulators
/// (`kinds::exact_aggregates`), so their results do not depend on the order partitions meet:
/// the output bytes are the same whatever the partitions or the limit.
pub fn session_with(r: &super::Resources) -> Result<SessionContext> {
    std::fs::create_dir_all(&r.spill_dir)
        .map_err(|e| Error::io("create the spill folder", &r.spill_dir, e))?;
    let runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
        .with_memory_pool(std::sync::Arc::new(
            datafusion::execution::memory_pool::FairSpillPool::new(r.memory),
        ))
        .with_temp_file_path(&r.spill_dir)
        .build_arc()
        .map_err(|e| Error::stage("sql", format!("cannot set up the query runtime: {e}")))?;
    let mut config = SessionConfig::new()
        .with_target_partitions(r.partitions)
        .with_information_schema(true);
    // What each sort keeps back to sort and merge its buffered rows when it spills: as much
    // as the share it may buffer, so a spill never needs memory the pool no longer has
    // (with p sorts and a limit M, a reservation of M / 2p leaves each a share of M / 2p).
    let reserve = r.memory / (2 * r.partitions);
    config.options_mut().execution.sort_spill_reservation_bytes = reserve;
    // Batches small enough that a sort can always take one within its share of a tight limit
    // (a sixteenth of a partition's share, at ~128 bytes a row); DataFusion's 8,192 rows
    // otherwise. The bytes written do not depend on it (`table::write_stream_temp`).
    let rows = (r.memory / r.partitions / 16 / 128).clamp(256, 8192);
    config = config.with_batch_size(rows);
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    super::exact_aggregates::register(&ctx);
    Ok(ctx)
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
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let result = match ext.as_str() {
        "parquet" => {
            session
                .register_parquet(name, p.as_ref(), ParquetReadOptions::default())
                .await
        }
        "csv" => {
            // Read the whole file to infer types: published CSVs put `c` or `x` in numeric
            // columns far below the first rows.
            let opts = CsvReadOptions::new()
                .has_header(true)
                .schema_infer_max_records(10_000_000);
            session.register_csv(name, p.as_ref(), opts).await
        }
        _ => return Err(
            Error::data(path, format!("input `{name}` is neither .csv nor .parquet")).with_hint(
                "SQL stages read CSV and Parquet; parse other formats with a `clean.*` stage first",
            ),
        ),
    };
    result.map_err(|e| {
        Error::data(
            path,
            format!(
                "cannot register input `{name}`: {}",
                strip_datafusion_noise(&e.to_string())
            ),
        )
    })
}

/// DataFusion wraps messages in layers ("Error during planning: ..."); keep them, drop the
/// Rust debug quoting that makes them hard to read.
pub fn strip_datafusion_noise(s: &str) -> String {
    s.replace("ParserError(\"", "")
        .replace("\")", "")
        .replace("\\\"", "\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{BooleanArray, Float64Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::datasource::MemTable;
    use std::sync::Arc;

    /// Rows with every awkward value the canonical order must place alike: nulls, NaN, ±0,
    /// infinities, ties broken by later columns, repeated strings.
    fn table(parts: usize) -> (Arc<Schema>, Vec<Vec<RecordBatch>>) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("x", DataType::Float64, true),
            Field::new("n", DataType::Int64, true),
            Field::new("b", DataType::Boolean, true),
        ]));
        let specials = [
            f64::NAN,
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-300,
            -1e300,
        ];
        let mut state = 7u64;
        let mut rows = Vec::new();
        for i in 0..5_000u64 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = state >> 33;
            let k = (!r.is_multiple_of(13))
                .then(|| ["a", "b", "c", "ä", ""][(r % 5) as usize].to_string());
            let x = if r.is_multiple_of(11) {
                None
            } else if r.is_multiple_of(7) {
                Some(specials[(r % 7) as usize])
            } else {
                Some((r % 100) as f64 / 8.0)
            };
            let n = (!r.is_multiple_of(17)).then_some((r % 9) as i64 - 4);
            let b = (!r.is_multiple_of(19)).then_some(r.is_multiple_of(2));
            rows.push((k, x, n, b, i));
        }
        let per = rows.len().div_ceil(parts);
        let batches = rows
            .chunks(per)
            .map(|p| {
                p.chunks(256)
                    .map(|c| {
                        RecordBatch::try_new(
                            Arc::clone(&schema),
                            vec![
                                Arc::new(StringArray::from(
                                    c.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
                                )),
                                Arc::new(Float64Array::from(
                                    c.iter().map(|r| r.1).collect::<Vec<_>>(),
                                )),
                                Arc::new(Int64Array::from(
                                    c.iter().map(|r| r.2).collect::<Vec<_>>(),
                                )),
                                Arc::new(BooleanArray::from(
                                    c.iter().map(|r| r.3).collect::<Vec<_>>(),
                                )),
                            ],
                        )
                        .unwrap()
                    })
                    .collect()
            })
            .collect();
        (schema, batches)
    }

    /// The SQL stage's path (DataFusion's sort on N partitions, streamed to Parquet) writes the
    /// bytes the engine's canonical sort of the collected rows writes, for any partitions and
    /// memory limit: the study's outputs are the same bytes as before SQL stages streamed.
    #[test]
    fn the_streamed_sort_writes_the_canonical_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let rt = runtime().unwrap();
        let query = "SELECT k, x, n, b, x * 2 AS y FROM t";
        let mut hashes = std::collections::BTreeSet::new();
        // The engine's own canonical order of the same rows, collected in one partition.
        let (schema, parts) = table(1);
        let canonical = rt.block_on(async {
            let ctx = session();
            ctx.register_table(
                "t",
                Arc::new(MemTable::try_new(Arc::clone(&schema), parts).unwrap()),
            )
            .unwrap();
            let df = ctx.sql(query).await.unwrap();
            let s = Arc::new(df.schema().as_arrow().clone());
            let b = df.collect().await.unwrap();
            crate::table::write_temp(&dir.path().join("c.parquet"), &s, &b, false).unwrap()
        });
        for (partitions, memory) in [
            (1, 64usize << 20),
            (2, 64 << 20),
            (8, 64 << 20),
            (3, 1 << 20),
        ] {
            let (schema, parts) = table(partitions);
            let r = super::super::Resources {
                partitions,
                memory,
                spill_dir: dir.path().join("spill"),
            };
            let w = rt.block_on(async {
                let ctx = session_with(&r).unwrap();
                ctx.register_table(
                    "t",
                    Arc::new(MemTable::try_new(Arc::clone(&schema), parts).unwrap()),
                )
                .unwrap();
                let df = ctx.sql(query).await.unwrap();
                let order: Vec<_> = df
                    .schema()
                    .iter()
                    .filter(|(_, f)| crate::table::sortable(f.data_type()))
                    .map(|(q, f)| {
                        datafusion::prelude::Expr::Column(datafusion::common::Column::new(
                            q.cloned(),
                            f.name(),
                        ))
                        .sort(true, true)
                    })
                    .collect();
                let stream = df.sort(order).unwrap().execute_stream().await.unwrap();
                crate::table::write_stream_temp(&dir.path().join("s.parquet"), stream)
                    .await
                    .unwrap()
            });
            assert_eq!(w.rows, canonical.rows);
            assert_eq!(
                w.sha256, canonical.sha256,
                "{partitions} partitions, {memory} bytes"
            );
            hashes.insert(w.sha256);
        }
        assert_eq!(hashes.len(), 1);
    }
}
