//! `sql`: a DataFusion query over the stage's inputs, each registered as a table under its
//! input name (a multi-table stage's tables as `<input>_<table>`).

use datafusion::execution::context::SessionContext;

use crate::error::{Error, Result};
use crate::pipeline::KindSpec;
use crate::session::{
    human_bytes, register_file, runtime_for, session_with, strip_datafusion_noise,
};
use crate::stage::{Input, OutputTable, StageContext, StageKind};

pub struct Sql;

impl KindSpec for Sql {
    fn open_params(&self) -> bool {
        true
    }

    fn uses_sql(&self) -> bool {
        true
    }
}

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
                .at(located(ctx, sql, &e))
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
        runtime_for(&ctx.resources)?.block_on(async {
            for (name, input) in &ctx.inputs {
                register(&session, name, input).await.map_err(|e| e.in_stage(&ctx.stage.name))?;
            }
            // Validation refused anything but a query over the inputs; DataFusion's own
            // guard stands behind it.
            let df = session.sql_with_options(sql, crate::sandbox::options()).await.map_err(fail)?;
            // The canonical order — every sortable column, left to right, nulls first — by
            // DataFusion's own sort, which spills under the memory limit; the sorted result is
            // streamed to Parquet, never collected.
            let order = canonical_order(&df);
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

/// The canonical order of a query's result: every sortable column, left to right, ascending,
/// nulls first — the order `table::write_temp` gives collected rows, so a streamed SQL output
/// has the bytes a collected one would.
fn canonical_order(
    df: &datafusion::dataframe::DataFrame,
) -> Vec<datafusion::logical_expr::SortExpr> {
    df.schema()
        .iter()
        .filter(|(_, f)| crate::table::sortable(f.data_type()))
        .map(|(q, f)| {
            datafusion::prelude::Expr::Column(datafusion::common::Column::new(q.cloned(), f.name()))
                .sort(true, true)
        })
        .collect()
}

/// Where in the file the user wrote a DataFusion error is, when DataFusion knows its place in
/// the SQL (a column or table it cannot resolve): the SQL file's line, or pipeline.yaml's.
fn located(
    ctx: &StageContext,
    sql: &str,
    e: &datafusion::error::DataFusionError,
) -> Option<crate::error::Location> {
    let span = e.diagnostic()?.span?;
    let (line, column) = (span.start.line as usize, span.start.column as usize);
    if line == 0 || column == 0 {
        return None;
    }
    let width = if span.end.line == span.start.line {
        (span.end.column.saturating_sub(span.start.column) as usize).max(1)
    } else {
        1
    };
    let origin = ctx.stage.sql_origin.as_ref()?;
    let file_text = origin
        .in_yaml
        .then(|| std::fs::read_to_string(&ctx.pipeline.file).ok())
        .flatten();
    Some(origin.locate(sql, file_text.as_deref(), (line, column, width)))
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
        let rt = crate::session::runtime().unwrap();
        let query = "SELECT k, x, n, b, x * 2 AS y FROM t";
        let mut hashes = std::collections::BTreeSet::new();
        // The engine's own canonical order of the same rows, collected in one partition.
        let (schema, parts) = table(1);
        let canonical = rt.block_on(async {
            let ctx = crate::session::session();
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
            let r = crate::session::Resources {
                partitions,
                memory,
                spill_dir: dir.path().join("spill"),
            };
            // On the stage's own runtime: a worker thread per partition, as in `run`.
            let w = runtime_for(&r).unwrap().block_on(async {
                let ctx = session_with(&r).unwrap();
                ctx.register_table(
                    "t",
                    Arc::new(MemTable::try_new(Arc::clone(&schema), parts).unwrap()),
                )
                .unwrap();
                let df = ctx.sql(query).await.unwrap();
                let order = canonical_order(&df);
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
