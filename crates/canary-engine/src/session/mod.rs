//! The DataFusion session every SQL reader shares — a `sql` stage, `canary sql`, a CSV source
//! read as a table — with the settings that keep its results deterministic: exact float
//! aggregates (`exact_aggregates`), a memory pool with a limit and a spill folder, the
//! partitions `--jobs` gives. Knows nothing of stages or pipelines.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::execution::context::{SessionConfig, SessionContext};
use datafusion::execution::disk_manager::DiskManagerBuilder;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions};

use crate::error::{Error, Result};

pub mod canonical;
pub mod exact_aggregates;
pub mod input_order;
pub mod sorted_aggregation;

/// What a stage may use while it runs. Never part of a cache key: outputs are the same
/// whatever these are (README, "What makes outputs byte-identical").
#[derive(Debug, Clone, PartialEq)]
pub struct Resources {
    /// DataFusion partitions for a SQL stage's query (`--jobs`).
    pub partitions: usize,
    /// The memory a query may hold before it spills, in bytes.
    pub memory: usize,
    /// Where queries spill (`.canary/tmp/spill`).
    pub spill_dir: PathBuf,
}

impl Resources {
    /// `memory` None: an eighth of the machine's memory, at most 512 MiB.
    pub fn new(partitions: usize, memory: Option<usize>, state_dir: &Path) -> Resources {
        let default = || {
            machine_memory()
                .map(|m| m / 8)
                .unwrap_or(usize::MAX)
                .min(512 << 20)
        };
        Resources {
            partitions: partitions.max(1),
            memory: memory.unwrap_or_else(default),
            spill_dir: state_dir.join("tmp").join("spill"),
        }
    }
}

/// Total memory from /proc/meminfo (Linux); None elsewhere.
fn machine_memory() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: usize = text
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb * 1024)
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
    exact_aggregates::register(&ctx);
    ctx
}

/// A SQL stage's session: its partitions (`--jobs`), a memory pool with its limit, shared
/// fairly by the query's operators, and a disk manager spilling to `.canary/tmp/spill`.
/// Float sums, means and second moments go through exact accumulators
/// (`session::exact_aggregates`), so their results do not depend on the order partitions meet:
/// the output bytes are the same whatever the partitions or the limit.
pub fn session_with(r: &Resources) -> Result<SessionContext> {
    std::fs::create_dir_all(&r.spill_dir)
        .map_err(|e| Error::io("create the spill folder", &r.spill_dir, e))?;
    let reserve = spill_reservation(r.memory, r.partitions);
    let rows = batch_rows(r.memory, r.partitions);
    let runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
        // The fair pool, named by the operators that hold most of it when a query fails.
        .with_memory_pool(Arc::new(TrackConsumersPool::new(
            FairSpillPool::new(r.memory),
            std::num::NonZeroUsize::new(3).expect("3 is not 0"),
        )))
        .with_disk_manager_builder(
            DiskManagerBuilder::default().with_max_spill_merge_fan_in(merge_fan_in(reserve, rows)),
        )
        .with_temp_file_path(&r.spill_dir)
        .build_arc()
        .map_err(|e| Error::stage("sql", format!("cannot set up the query runtime: {e}")))?;
    let mut config = SessionConfig::new()
        .with_target_partitions(r.partitions)
        .with_information_schema(true);
    // A plan of one sort a partition (the canonical order); `task_for` sizes it for the plan.
    config.options_mut().execution.sort_spill_reservation_bytes = reserve;
    config.options_mut().execution.sort_in_place_threshold_bytes =
        sort_in_place(r.memory, reserve, false);
    // The bytes written do not depend on the batch size (`table::write_stream_temp`).
    config = config.with_batch_size(rows);
    // Where in the SQL a planning error is, for an error at the user's line.
    config.options_mut().sql_parser.collect_spans = true;
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    exact_aggregates::register(&ctx);
    Ok(ctx)
}

/// What each of `sorters` sorts keeps back to sort and merge its buffered rows when it spills:
/// as much as the share it may buffer, so a spill never needs memory the pool no longer has
/// (with n sorts and a limit M, a reservation of M / 2n leaves each a share of M / 2n).
fn spill_reservation(memory: usize, sorters: usize) -> usize {
    memory / (2 * sorters.max(1))
}

/// What a row is taken to hold in memory when sizing batches and merges.
const ROW_BYTES: usize = 128;

/// Rows per batch: small enough that a sort can always take one within its share of a tight
/// limit (a sixteenth of a partition's share); DataFusion's 8,192 rows otherwise.
fn batch_rows(memory: usize, partitions: usize) -> usize {
    (memory / partitions.max(1) / 16 / ROW_BYTES).clamp(256, 8192)
}

/// How many spilled runs a sort merges at once, given what it keeps back to merge (`reserve`)
/// and the rows a batch holds. Each run being merged holds a batch in memory (twice, while the
/// next is read ahead) and its sort keys. A merge of more runs than its reservation covers
/// takes the rest from the pool first come, first served, and can leave another partition's
/// sort without room for the two runs it needs: a query that fits would fail or not by which
/// thread came first. Capped so the reservation covers the merge; more runs than that are
/// merged in more passes.
fn merge_fan_in(reserve: usize, rows: usize) -> usize {
    (reserve / (5 * rows * ROW_BYTES)).clamp(2, 64)
}

/// Below this reservation a merge's sort keys and batches are too large a part of what a sort
/// holds to be left to the pool (`sort_in_place`).
const TIGHT_RESERVE: usize = 32 << 20;

/// Up to how many bytes a sort puts the rows it holds in order in one piece (a sort of their
/// concatenation, in the memory it already holds) rather than sorting each batch and merging
/// them. DataFusion's merge of a spilling sort gives its reservation back and then asks the
/// pool again for the sort keys it converts — memory another partition's merge may have taken
/// meanwhile, so that a query that fits failed or not by which thread came first (tests/scale.rs
/// at 6 MB on 3 partitions, one run in four under load). Sorting in place asks for nothing. It
/// is also the faster way by one column, so a plan whose sorts are all by one column (the
/// canonical order's by the first column, key order by the first key) always sorts in place,
/// and one that sorts by several only under a `TIGHT_RESERVE` limit; otherwise DataFusion's
/// merge of its row format, faster by several columns.
fn sort_in_place(memory: usize, reserve: usize, one_column: bool) -> usize {
    if one_column || reserve < TIGHT_RESERVE {
        memory
    } else {
        SessionConfig::new()
            .options()
            .execution
            .sort_in_place_threshold_bytes
    }
}

/// The context `plan` runs in: the session's, with each sort's spill reservation (and so its
/// merges' fan-in and whether it sorts in place) sized for the sorts the plan holds — a sort
/// per partition per `SortExec` that keeps its partitions — so that a plan of more sorts than
/// the canonical order's (an aggregation in key order under it, a window's) still leaves
/// every sort a share of the limit to buffer in.
pub fn task_for(
    session: &SessionContext,
    plan: &Arc<dyn ExecutionPlan>,
    memory: usize,
) -> Arc<TaskContext> {
    let reserve = spill_reservation(memory, sorters(plan));
    let mut state = session.state();
    let execution = &mut state.config_mut().options_mut().execution;
    execution.sort_spill_reservation_bytes = reserve;
    execution.sort_in_place_threshold_bytes =
        sort_in_place(memory, reserve, sorts_by_one_column(plan));
    let rows = state.config().batch_size();
    state
        .runtime_env()
        .disk_manager
        .set_max_spill_merge_fan_in(merge_fan_in(reserve, rows));
    state.task_ctx()
}

/// Whether every sort of the plan is by one column.
fn sorts_by_one_column(plan: &Arc<dyn ExecutionPlan>) -> bool {
    let own = plan
        .downcast_ref::<SortExec>()
        .is_none_or(|sort| sort.expr().len() == 1);
    own && plan.children().into_iter().all(sorts_by_one_column)
}

fn sorters(plan: &Arc<dyn ExecutionPlan>) -> usize {
    let own = if plan.is::<SortExec>() {
        plan.output_partitioning().partition_count()
    } else {
        0
    };
    own + plan.children().into_iter().map(sorters).sum::<usize>()
}

/// A runtime on the calling thread alone: for `canary sql`, CSV sources and tests, whose
/// sessions run one partition.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::stage("sql", format!("cannot start the query runtime: {e}")))
}

/// The runtime a SQL stage's session runs on: one worker thread per partition, so `--jobs`
/// partitions are scanned, filtered, joined and aggregated on as many cores (DataFusion
/// spawns a task per partition; on a current-thread runtime they would take turns on one).
/// One partition needs no worker: the calling thread does the work.
pub fn runtime_for(r: &Resources) -> Result<tokio::runtime::Runtime> {
    if r.partitions <= 1 {
        return runtime();
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(r.partitions)
        .thread_name("canary-sql")
        .enable_all()
        .build()
        .map_err(|e| Error::stage("sql", format!("cannot start the query runtime: {e}")))
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
        .with_hint(format!("the file is {UNREADABLE_INPUT}"))
    })
}

/// What is wrong with an input file DataFusion cannot read, and what to do.
pub const UNREADABLE_INPUT: &str = "damaged or not the format its name says: replace it (`canary fetch` brings a source again once it is deleted), or check the stage that wrote it";

/// Registers the Parquet input `name` again, declared in order by its first column, if it holds
/// at least `from_bytes` bytes and is found in that order (`input_order`); whether it was.
pub async fn declare_order(
    session: &SessionContext,
    name: &str,
    path: &Path,
    from_bytes: u64,
) -> Result<bool> {
    let is_parquet = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let cannot = |e: datafusion::error::DataFusionError| {
        Error::data(
            path,
            format!(
                "cannot read input `{name}`: {}",
                strip_datafusion_noise(&e.to_string())
            ),
        )
        .with_hint(format!("the file is {UNREADABLE_INPUT}"))
    };
    let order = match is_parquet {
        true => input_order::rising_first_column(path, from_bytes).map_err(cannot)?,
        false => None,
    };
    let Some(order) = order else {
        return Ok(false);
    };
    session.deregister_table(name).map_err(cannot)?;
    let options = ParquetReadOptions::default().file_sort_order(vec![order]);
    session
        .register_parquet(name, path.to_string_lossy().as_ref(), options)
        .await
        .map_err(cannot)?;
    Ok(true)
}

/// DataFusion wraps messages in layers ("Error during planning: ..."); keep them, drop the
/// Rust debug quoting that makes them hard to read.
pub fn strip_datafusion_noise(s: &str) -> String {
    s.replace("ParserError(\"", "")
        .replace("\")", "")
        .replace("\\\"", "\"")
}
