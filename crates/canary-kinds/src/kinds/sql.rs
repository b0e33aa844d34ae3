//! `sql`: a DataFusion query over the stage's inputs, each registered as a table under its
//! input name (a multi-table stage's tables as `<input>_<table>`).

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::error::ArrowError;
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::execution::context::SessionContext;
use datafusion::execution::memory_pool::MemoryConsumer;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::execute_stream;

use crate::error::{Error, Result};
use crate::pipeline::KindSpec;
use crate::session::canonical::{self, TieBreak};
use crate::session::sorted_aggregation::{in_key_order, most_keys, outgrows, Keys};
use crate::session::{
    declare_order, human_bytes, register_file, runtime_for, session_with, strip_datafusion_noise,
    task_for, Resources, UNREADABLE_INPUT,
};
use crate::stage::{Input, OutputTable, StageContext, StageKind};
use crate::table::{write_stream_temp, StreamError, Written};

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
        let fail = |e: DataFusionError| {
            if out_of_memory(&e) {
                return Error::stage(&ctx.stage.name, format!(
                    "its query needs more memory than its limit of {} and could not spill the rest to disk: {}",
                    human_bytes(limit),
                    strip_datafusion_noise(&e.to_string())
                ))
                .with_hint("raise the limit (`canary run --memory 2GB`, or `settings: {memory: 2GB}` in pipeline.yaml), or make the query hold less at once: a median or `array_agg` over a whole table, with no GROUP BY, holds all its values");
            }
            let error = Error::stage(&ctx.stage.name, strip_datafusion_noise(&e.to_string()));
            if undecodable(&e) {
                let files: Vec<String> = ctx
                    .inputs
                    .iter()
                    .flat_map(|(name, input)| tables(name, input))
                    .map(|(_, path)| format!("`{}`", ctx.pipeline.relative(path)))
                    .collect();
                return error.with_hint(format!(
                    "one of its input files ({}) is {UNREADABLE_INPUT}",
                    files.join(", ")
                ));
            }
            error
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
                register(&session, name, input)
                    .await
                    .map_err(|e| e.in_stage(&ctx.stage.name))?;
            }
            // Validation refused anything but a query over the inputs; DataFusion's own
            // guard stands behind it.
            let plan = || session.sql_with_options(sql, crate::sandbox::options());
            let mut df = plan().await.map_err(fail)?;
            let schema = Arc::new(df.schema().as_arrow().clone());
            let by_first = canonical::by_first_column(
                &df,
                &canonical::order(df.schema()),
                input_bytes(&ctx.inputs),
            )
            .await
            .map_err(fail)?;
            // Only a query sorted by its first column can use an input's order: for the others
            // the column would be read for nothing.
            if by_first
                && declare_orders(&session, &ctx.inputs)
                    .await
                    .map_err(|e| e.in_stage(&ctx.stage.name))?
            {
                df = plan().await.map_err(fail)?;
            }
            let written = write_ordered(&session, df, &dest, &ctx.resources, by_first)
                .await
                .map_err(|e| match e {
                    StreamError::Query(e) => fail(e),
                    StreamError::Write(e) => e.in_stage(&ctx.stage.name),
                })?;
            Ok(vec![OutputTable {
                name: None,
                schema,
                batches: Vec::new(),
                ordered: true,
                written: Some(written),
            }])
        })
    }
}

/// How a query is run: sorted by every column, or by its first with the ties broken on the
/// way out (`session::canonical`); its aggregations hashed, or done in the order of their keys
/// (`session::sorted_aggregation`).
#[derive(Debug, Clone, Copy)]
struct Attempt {
    by_first: bool,
    /// None: aggregations hashed.
    key_order: Option<Keys>,
}

/// The query `df` streamed, in canonical order, to a temporary Parquet file beside `dest` —
/// never collected. First the cheapest way: sorted by the first column alone when `by_first`
/// (`canonical::by_first_column` said so), aggregations hashed unless their values plainly
/// outgrow the limit (`sorted_aggregation::outgrows`). Then, each time from a fresh plan:
/// sorted by every column if the first column's ties outgrew their share of the limit; with
/// the aggregations in the order of their first key, then of every key, while a hash table or
/// a first key's groups run out of memory (a median holds every value of its groups). Every
/// way gives the same rows in the same order, so the same bytes: only the time and the memory
/// differ.
async fn write_ordered(
    session: &SessionContext,
    df: DataFrame,
    dest: &Path,
    resources: &Resources,
    by_first: bool,
) -> Result<Written, StreamError> {
    let outgrown = has_aggregate(df.logical_plan()) && {
        let plan = df
            .clone()
            .create_physical_plan()
            .await
            .map_err(StreamError::Query)?;
        outgrows(&plan, resources.memory)
    };
    let mut attempt = Attempt {
        by_first,
        key_order: outgrown.then_some(Keys::First),
    };
    loop {
        let result = run_once(session, df.clone(), attempt, dest, resources).await;
        let Err(StreamError::Query(e)) = &result else {
            return result;
        };
        let next = match attempt.key_order {
            None => Some(Keys::First),
            Some(Keys::First) => Some(Keys::All),
            Some(Keys::All) => None,
        };
        if attempt.by_first && canonical::is_ties_too_long(e) {
            attempt.by_first = false;
        } else if let Some(keys) = next.filter(|_| out_of_memory(e)) {
            if !aggregates_in_key_order(&df, resources, keys).await {
                return result;
            }
            attempt.key_order = Some(keys);
        } else {
            return result;
        }
    }
}

async fn run_once(
    session: &SessionContext,
    df: DataFrame,
    attempt: Attempt,
    dest: &Path,
    resources: &Resources,
) -> Result<Written, StreamError> {
    let query = StreamError::Query;
    let order = canonical::order(df.schema());
    let sorted = match (order.as_slice(), attempt.by_first) {
        ([], _) => df,
        (_, true) => df.sort(order[..1].to_vec()).map_err(query)?,
        (_, false) => df.sort(order.to_vec()).map_err(query)?,
    };
    let mut plan = sorted.create_physical_plan().await.map_err(query)?;
    if let Some(keys) = attempt.key_order {
        if let Some(rewritten) =
            in_key_order(Arc::clone(&plan), resources.partitions, keys).map_err(query)?
        {
            plan = rewritten;
        }
    }
    let task = task_for(session, &plan, resources.memory);
    let mut stream = execute_stream(plan, Arc::clone(&task)).map_err(query)?;
    if attempt.by_first {
        let reservation = MemoryConsumer::new("canonical order: ties").register(task.memory_pool());
        stream = Box::pin(TieBreak::new(stream, reservation, resources.memory / 4));
    }
    write_stream_temp(dest, stream, resources.partitions).await
}

/// Whether the query has an aggregation that can run in the order of its `keys` instead, and
/// differently from the order of its first (an aggregation by one key has only one).
async fn aggregates_in_key_order(df: &DataFrame, resources: &Resources, keys: Keys) -> bool {
    let Ok(plan) = df.clone().create_physical_plan().await else {
        return false;
    };
    (keys == Keys::First || most_keys(&plan) > 1)
        && matches!(in_key_order(plan, resources.partitions, keys), Ok(Some(_)))
}

/// Whether a logical plan aggregates anywhere.
fn has_aggregate(plan: &LogicalPlan) -> bool {
    matches!(plan, LogicalPlan::Aggregate(_)) || plan.inputs().into_iter().any(has_aggregate)
}

/// An input's bytes that Parquet could not decode, however DataFusion wrapped the error: the
/// file is at fault, not the SQL.
fn undecodable(e: &DataFusionError) -> bool {
    match e.find_root() {
        DataFusionError::ParquetError(_) => true,
        DataFusionError::ArrowError(e, _) => matches!(**e, ArrowError::ParquetError(_)),
        _ => false,
    }
}

/// DataFusion's "resources exhausted", however it was wrapped.
fn out_of_memory(e: &DataFusionError) -> bool {
    matches!(e.find_root(), DataFusionError::ResourcesExhausted(_))
}

/// Declares every large Parquet input that is in order by its first column so
/// (`session::declare_order`); whether any was.
async fn declare_orders(session: &SessionContext, inputs: &[(String, Input)]) -> Result<bool> {
    let mut any = false;
    for (name, input) in inputs {
        for (table, path) in tables(name, input) {
            any |= declare_order(session, &table, path, canonical::SAMPLE_FROM_BYTES).await?;
        }
    }
    Ok(any)
}

/// The SQL tables an input is read as, and their files: a source is one table under its own
/// name; a stage's output tables are named after the stage (`Pipeline::sql_table_name`).
fn tables<'a>(name: &str, input: &'a Input) -> Vec<(String, &'a Path)> {
    match input {
        Input::Source { path } => vec![(name.to_string(), path.as_path())],
        Input::Stage { tables } => tables
            .iter()
            .map(|(table, path)| {
                let table = crate::pipeline::Pipeline::sql_table_name(name, table.as_deref());
                (table, path.as_path())
            })
            .collect(),
    }
}

/// The bytes of a stage's input files: what decides whether a sample of the result is worth
/// taking (`canonical::by_first_column`).
fn input_bytes(inputs: &[(String, Input)]) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    inputs
        .iter()
        .flat_map(|(name, input)| tables(name, input))
        .map(|(_, path)| size(path))
        .sum()
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
    for (table, path) in tables(name, input) {
        register_file(session, &table, path).await?;
    }
    Ok(())
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
        // Sorted by every column, and by the first (`k`: five values and nulls, so nearly every
        // row has ties for `TieBreak` to order) with the ties broken on the way out; with a
        // limit too small for a run of ties, the first way gives up and the second takes over.
        for (partitions, memory, by_first) in [
            (1, 64usize << 20, false),
            (2, 64 << 20, false),
            (8, 64 << 20, false),
            (3, 1 << 20, false),
            (1, 64 << 20, true),
            (2, 64 << 20, true),
            (8, 64 << 20, true),
            (3, 1 << 20, true),
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
                write_ordered(&ctx, df, &dir.path().join("s.parquet"), &r, by_first)
                    .await
                    .unwrap()
            });
            assert_eq!(w.rows, canonical.rows);
            assert_eq!(
                w.sha256, canonical.sha256,
                "{partitions} partitions, {memory} bytes, by the first column: {by_first}"
            );
            hashes.insert(w.sha256);
        }
        assert_eq!(hashes.len(), 1);
    }

    /// A first column that repeats past the ties' share of the limit: the cheap way stops with
    /// `TiesTooLong` and leaves no file, and the stage's way falls back to the full sort, with
    /// the full sort's bytes.
    #[test]
    fn ties_past_their_share_of_the_limit_fall_back_to_the_full_sort() {
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, false),
            Field::new("x", DataType::Float64, false),
            Field::new("n", DataType::Int64, false),
        ]));
        let batch = |from: usize| {
            let rows = from..from + 1024;
            RecordBatch::try_new(
                Arc::clone(&schema),
                vec![
                    Arc::new(StringArray::from_iter_values(rows.clone().map(|_| "same"))),
                    Arc::new(Float64Array::from_iter_values(
                        rows.clone().map(|i| ((i * 7919) % 10_007) as f64),
                    )),
                    Arc::new(Int64Array::from_iter_values(rows.map(|i| (i % 13) as i64))),
                ],
            )
            .unwrap()
        };
        let r = crate::session::Resources {
            partitions: 2,
            memory: 1 << 20,
            spill_dir: dir.path().join("spill"),
        };
        let dest = dir.path().join("t.parquet");
        let run = |cheap_only: bool, by_first: bool| {
            runtime_for(&r).unwrap().block_on(async {
                let ctx = session_with(&r).unwrap();
                let parts = vec![
                    (0..20).map(|b| batch(b * 1024)).collect(),
                    (20..40).map(|b| batch(b * 1024)).collect(),
                ];
                ctx.register_table(
                    "t",
                    Arc::new(MemTable::try_new(Arc::clone(&schema), parts).unwrap()),
                )
                .unwrap();
                let df = ctx.sql("SELECT k, x, n FROM t").await.unwrap();
                if cheap_only {
                    let attempt = Attempt {
                        by_first: true,
                        key_order: None,
                    };
                    run_once(&ctx, df, attempt, &dest, &r).await
                } else {
                    write_ordered(&ctx, df, &dest, &r, by_first).await
                }
            })
        };
        match run(true, true) {
            Err(StreamError::Query(e)) => assert!(canonical::is_ties_too_long(&e), "{e}"),
            other => panic!("expected TiesTooLong, got {other:?}"),
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "parquet"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        let fell_back = run(false, true).unwrap();
        let full = run(false, false).unwrap();
        assert_eq!((fell_back.rows, &fell_back.sha256), (40_960, &full.sha256));
    }

    /// An input whose first column rises from row to row is declared in that order
    /// (`session::declare_order`): a query that keeps the column first — a filter, a
    /// projection, a join looking its rows up in a small table — is written without a sort, the
    /// partitions' ranges of the file merged, and its bytes are those of the full sort over the
    /// same file read without the declaration, for any partitions and memory limit.
    #[test]
    fn an_input_in_order_is_not_sorted_again_and_gives_the_same_bytes() {
        use datafusion::parquet::arrow::ArrowWriter;
        use datafusion::parquet::file::properties::WriterProperties;
        use datafusion::physical_plan::displayable;
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("la", DataType::Utf8, false),
            Field::new("x", DataType::Float64, true),
        ]));
        let rows = 60_000usize;
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from_iter_values(
                    (0..rows).map(|i| 3 * i as i64),
                )),
                Arc::new(StringArray::from_iter_values(
                    (0..rows).map(|i| format!("E{:08}", (i * 7919) % 150)),
                )),
                Arc::new(Float64Array::from_iter((0..rows).map(|i| {
                    (i % 17 != 0).then(|| ((i * 104_729) % 1_000) as f64 / 8.0)
                }))),
            ],
        )
        .unwrap();
        let path = dir.path().join("records.parquet");
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(4_096))
            .build();
        let file = std::fs::File::create(&path).unwrap();
        let mut w = ArrowWriter::try_new(file, Arc::clone(&schema), Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let queries = [
            "SELECT id, la, x * 2 AS y FROM t WHERE x > 10",
            "SELECT t.id, t.x, l.n FROM t JOIN l ON t.la = l.la",
        ];
        let run = |query: &str, partitions: usize, memory: usize, declared: bool| {
            let r = crate::session::Resources {
                partitions,
                memory,
                spill_dir: dir.path().join("spill"),
            };
            runtime_for(&r).unwrap().block_on(async {
                let ctx = session_with(&r).unwrap();
                // Split even a small file into a range per partition, as a large one is.
                ctx.sql("SET datafusion.optimizer.repartition_file_min_size = 1024")
                    .await
                    .unwrap();
                ctx.register_parquet("t", path.to_str().unwrap(), Default::default())
                    .await
                    .unwrap();
                if declared {
                    assert!(declare_order(&ctx, "t", &path, 0).await.unwrap());
                }
                ctx.sql("CREATE TABLE l AS SELECT DISTINCT la, length(la) + 1 AS n FROM t")
                    .await
                    .unwrap()
                    .collect()
                    .await
                    .unwrap();
                let df = ctx.sql(query).await.unwrap();
                let order = canonical::order(df.schema());
                let first = df.clone().sort(order[..1].to_vec()).unwrap();
                let plan = first.create_physical_plan().await.unwrap();
                let shown = displayable(plan.as_ref()).indent(true).to_string();
                let dest = dir.path().join(format!("{partitions}-{declared}.parquet"));
                let w = write_ordered(&ctx, df, &dest, &r, declared).await.unwrap();
                (w, shown)
            })
        };
        for query in queries {
            let (full, _) = run(query, 2, 64 << 20, false);
            assert!(full.rows > 1_000, "{query}: {} rows", full.rows);
            for (partitions, memory) in [
                (1, 64usize << 20),
                (2, 64 << 20),
                (3, 64 << 20),
                (3, 1 << 20),
            ] {
                let (w, plan) = run(query, partitions, memory, true);
                assert!(
                    !plan.contains("SortExec:"),
                    "{query}: sorted again:\n{plan}"
                );
                if partitions > 1 {
                    assert!(plan.contains("SortPreservingMergeExec"), "{query}:\n{plan}");
                }
                assert_eq!(
                    (w.rows, &w.sha256),
                    (full.rows, &full.sha256),
                    "{query}: {partitions} partitions, {memory} bytes"
                );
            }
        }
    }

    /// `count` rows in 600 groups (LA × year), as `parts` partitions of small batches.
    fn grouped(count: usize, parts: usize) -> (Arc<Schema>, Vec<Vec<RecordBatch>>) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("la", DataType::Utf8, false),
            Field::new("year", DataType::Int64, false),
            Field::new("x", DataType::Float64, true),
        ]));
        let batch = |from: usize, to: usize| {
            let rows = from..to;
            RecordBatch::try_new(
                Arc::clone(&schema),
                vec![
                    Arc::new(StringArray::from_iter_values(
                        rows.clone().map(|i| format!("E{:03}", (i * 7) % 200)),
                    )),
                    Arc::new(Int64Array::from_iter_values(
                        rows.clone().map(|i| 2010 + (i % 3) as i64),
                    )),
                    Arc::new(Float64Array::from_iter(rows.map(|i| {
                        (i % 13 != 0).then(|| ((i * 7919) % 10_007) as f64 / 3.0)
                    }))),
                ],
            )
            .unwrap()
        };
        let per = count.div_ceil(parts);
        let partitions = (0..parts)
            .map(|p| {
                let (from, to) = (p * per, ((p + 1) * per).min(count));
                (from..to)
                    .step_by(1024)
                    .map(|b| batch(b, (b + 1024).min(to)))
                    .collect()
            })
            .collect();
        (schema, partitions)
    }

    /// A median's GROUP BY that cannot be hashed within the limit is aggregated in key order
    /// instead, and writes the bytes an unconstrained run writes, whatever the partitions.
    #[test]
    fn a_group_by_too_big_to_hash_is_aggregated_in_key_order_to_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let query = "SELECT la, year, count(*) AS n, avg(x) AS mean, median(x) AS med FROM t GROUP BY la, year";
        let rows = 1_500_000;
        let run = |partitions: usize, memory: usize, hashed_only: bool| {
            let r = crate::session::Resources {
                partitions,
                memory,
                spill_dir: dir.path().join("spill"),
            };
            runtime_for(&r).unwrap().block_on(async {
                let ctx = session_with(&r).unwrap();
                let (schema, parts) = grouped(rows, partitions);
                ctx.register_table("t", Arc::new(MemTable::try_new(schema, parts).unwrap()))
                    .unwrap();
                let df = ctx.sql(query).await.unwrap();
                let dest = dir.path().join("g.parquet");
                if hashed_only {
                    let attempt = Attempt {
                        by_first: false,
                        key_order: None,
                    };
                    run_once(&ctx, df, attempt, &dest, &r).await
                } else {
                    write_ordered(&ctx, df, &dest, &r, false).await
                }
            })
        };
        let unconstrained = run(1, 1 << 30, false).unwrap();
        assert_eq!(unconstrained.rows, 600);
        // Below 16 MB the sorts' own merges do not fit beside each other on 2 partitions.
        let tight = 16 << 20;
        for partitions in [1, 2, 8] {
            let hashed = run(partitions, tight, true);
            assert!(
                matches!(&hashed, Err(StreamError::Query(e)) if out_of_memory(e)),
                "{partitions} partitions: the hashed plan was meant not to fit {tight} bytes: {hashed:?}"
            );
            let w = run(partitions, tight, false)
                .unwrap_or_else(|e| panic!("{partitions} partitions: {e:?}"));
            assert_eq!(w.rows, 600, "{partitions} partitions");
            assert_eq!(w.sha256, unconstrained.sha256, "{partitions} partitions");
        }
    }

    /// A GROUP BY over rows the plan cannot count (a generated series) is hashed first and runs
    /// out of memory; then it is aggregated in the order of its first key, and where one
    /// first-key value has too many groups for that, of every key — each time the bytes an
    /// unconstrained run writes.
    #[test]
    fn a_group_by_falls_back_to_its_first_key_then_every_key() {
        let dir = tempfile::tempdir().unwrap();
        let run = |sql: &str, memory: usize, key_order: Option<Option<Keys>>| {
            let r = crate::session::Resources {
                partitions: 2,
                memory,
                spill_dir: dir.path().join("spill"),
            };
            runtime_for(&r).unwrap().block_on(async {
                let ctx = session_with(&r).unwrap();
                let df = ctx.sql(sql).await.unwrap();
                let dest = dir.path().join("g.parquet");
                match key_order {
                    Some(key_order) => {
                        let attempt = Attempt {
                            by_first: false,
                            key_order,
                        };
                        run_once(&ctx, df, attempt, &dest, &r).await
                    }
                    None => write_ordered(&ctx, df, &dest, &r, false).await,
                }
            })
        };
        let oom = |w: &Result<Written, StreamError>| matches!(w, Err(StreamError::Query(e)) if out_of_memory(e));
        let tight = 16 << 20;
        // 200 LAs of 3 years: an LA's groups fit, the hash table of all does not.
        let by_la =
            "SELECT v % 200 AS la, v % 3 AS year, count(*) AS n, median(CAST(v AS DOUBLE)) AS m \
            FROM generate_series(1, 1500000) t(v) GROUP BY 1, 2";
        // 2 halves of 300 groups: neither the hash table nor a half's groups fit.
        let by_half =
            "SELECT v % 2 AS half, v % 300 AS k, count(*) AS n, median(CAST(v AS DOUBLE)) AS m \
            FROM generate_series(1, 1500000) t(v) GROUP BY 1, 2";
        for (sql, groups, first_fits) in [(by_la, 600, true), (by_half, 300, false)] {
            assert!(
                oom(&run(sql, tight, Some(None))),
                "{sql}: hashing was meant not to fit"
            );
            let first = run(sql, tight, Some(Some(Keys::First)));
            assert_eq!(first.is_ok(), first_fits, "{sql}: {first:?}");
            let unconstrained = run(sql, 1 << 30, None).unwrap();
            let fell_back = run(sql, tight, None).unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            assert_eq!(
                (fell_back.rows, &fell_back.sha256),
                (groups, &unconstrained.sha256),
                "{sql}"
            );
        }
    }
}
