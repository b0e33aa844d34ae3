//! The canonical order of a query's result, and the cheapest way to ask DataFusion for it.
//!
//! Every SQL stage writes its rows in one order — every sortable column, left to right,
//! ascending, nulls first ([`order`]) — so that its bytes depend on the rows alone, not on the
//! partitions, the threads or the memory limit. DataFusion sorts by several columns through
//! its row format: at every merge of sorted runs (each partition's spills, then the partitions
//! together) each batch is converted into bytes that compare as its rows do. For a
//! record-level result of ten or more columns that conversion is most of the cost of the sort.
//!
//! When the first sortable column hardly ever repeats — a record's identifier — sorting by it
//! alone gives almost the canonical order, at a fraction of the cost: one column, compared as
//! itself. [`TieBreak`] finishes the work on the way to the writer: rows that share the first
//! column's value (they are next to each other) are sorted by the whole order, the others pass
//! through. The result is the full sort's rows in the full sort's order, so the same bytes:
//! the canonical order is the order by the first column with each group of equal first values
//! in canonical order, and "equal" is the sort's own equality (arrow's total order for floats,
//! nulls equal to each other), which is what `partition` finds.
//!
//! [`by_first_column`] chooses between the two: the first column alone only for a streaming
//! query (no aggregation, window or sort: those would run whole to be sampled) over inputs
//! large enough for the sort to matter, whose first rows hardly repeat their first value. If a
//! group of equals then turns out larger than its share of the memory limit, [`TieBreak`]
//! stops with [`TiesTooLong`] and the stage runs the query again with the full sort.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch};
use datafusion::arrow::compute::{concat, partition, sort, SortOptions};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::{Column, DFSchema};
use datafusion::dataframe::DataFrame;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::memory_pool::MemoryReservation;
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream};
use datafusion::logical_expr::{Expr, LogicalPlan, SortExpr};
use futures::{Stream, StreamExt};

use crate::table::{canonical_sort, sortable};

/// The canonical order of a result with this schema: every sortable column, left to right,
/// ascending, nulls first — the order `table::canonical_sort` gives collected rows.
pub fn order(schema: &DFSchema) -> Vec<SortExpr> {
    schema
        .iter()
        .filter(|(_, f)| sortable(f.data_type()))
        .map(|(q, f)| Expr::Column(Column::new(q.cloned(), f.name())).sort(true, true))
        .collect()
}

/// Inputs smaller than this are sorted by every column: the sort costs little, and a sample
/// would cost more than it saves.
pub const SAMPLE_FROM_BYTES: u64 = 16 << 20;
/// Rows read to judge the first column.
const SAMPLE_ROWS: usize = 1 << 16;
/// The share of distinct first values in the sample above which sorting by the first column
/// alone pays.
const MOSTLY_DISTINCT: f64 = 0.99;

/// Whether `df`, whose inputs hold `input_bytes`, is better sorted by the first column of
/// `order` alone, ties broken by [`TieBreak`] (the module documentation says when).
pub async fn by_first_column(df: &DataFrame, order: &[SortExpr], input_bytes: u64) -> Result<bool> {
    if order.len() < 2 || input_bytes < SAMPLE_FROM_BYTES || !streams(df.logical_plan()) {
        return Ok(false);
    }
    let sample = df
        .clone()
        .select(vec![order[0].expr.clone()])?
        .limit(0, Some(SAMPLE_ROWS))?
        .collect()
        .await?;
    let columns: Vec<&dyn Array> = sample.iter().map(|b| b.column(0).as_ref()).collect();
    if columns.is_empty() {
        return Ok(false);
    }
    let values = concat(&columns)?;
    if values.len() < 2 {
        return Ok(false);
    }
    let options = SortOptions {
        descending: false,
        nulls_first: true,
    };
    let sorted = sort(&values, Some(options))?;
    let distinct = partition(&[sorted])?.len();
    Ok(distinct as f64 >= MOSTLY_DISTINCT * values.len() as f64)
}

/// Whether a plan hands its rows on as it reads them, so that its first rows come cheaply.
fn streams(plan: &LogicalPlan) -> bool {
    matches!(
        plan,
        LogicalPlan::Projection(_)
            | LogicalPlan::Filter(_)
            | LogicalPlan::TableScan(_)
            | LogicalPlan::SubqueryAlias(_)
            | LogicalPlan::Join(_)
            | LogicalPlan::Union(_)
            | LogicalPlan::Values(_)
            | LogicalPlan::EmptyRelation(_)
    ) && plan.inputs().into_iter().all(streams)
}

/// A run of rows sharing the first column's value grew past what [`TieBreak`] may hold: the
/// query must be sorted by every column instead.
#[derive(Debug)]
pub struct TiesTooLong {
    pub rows: usize,
    pub limit: usize,
}

impl std::fmt::Display for TiesTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} rows share their first column's value, more than {} bytes can hold to order them",
            self.rows, self.limit
        )
    }
}

impl std::error::Error for TiesTooLong {}

/// Whether `e` is [`TiesTooLong`], however DataFusion wrapped it.
pub fn is_ties_too_long(e: &DataFusionError) -> bool {
    matches!(e.find_root(), DataFusionError::External(inner) if inner.is::<TiesTooLong>())
}

/// Rows sorted by their first sortable column in, rows in canonical order out: each run of
/// rows with an equal first value is sorted by every column, the rest pass through untouched.
/// A run is held until a different value shows it complete; its memory is reserved from the
/// query's pool, up to `limit` bytes, past which the stream fails with [`TiesTooLong`].
pub struct TieBreak {
    input: SendableRecordBatchStream,
    schema: SchemaRef,
    /// The first sortable column's index.
    first: usize,
    /// The open run: rows with one first value, whose end has not been seen yet.
    run: Vec<RecordBatch>,
    run_rows: usize,
    run_bytes: usize,
    reservation: MemoryReservation,
    limit: usize,
    ready: VecDeque<RecordBatch>,
    done: bool,
}

impl TieBreak {
    pub fn new(
        input: SendableRecordBatchStream,
        reservation: MemoryReservation,
        limit: usize,
    ) -> Self {
        let schema = input.schema();
        let first = schema
            .fields()
            .iter()
            .position(|f| sortable(f.data_type()))
            .unwrap_or(0);
        TieBreak {
            input,
            schema,
            first,
            run: Vec::new(),
            run_rows: 0,
            run_bytes: 0,
            reservation,
            limit,
            ready: VecDeque::new(),
            done: false,
        }
    }

    fn push(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let ranges = partition(&[Arc::clone(batch.column(self.first))])?.ranges();
        let last = ranges.len() - 1;
        // A slice shares its batch's buffers: a run is counted at the batch's bytes a row.
        let row_bytes = batch.get_array_memory_size() / batch.num_rows();
        let mut out = Vec::new();
        let mut from = 0;
        if self.continues_run(&batch)? {
            self.extend_run(batch.slice(0, ranges[0].end), row_bytes)?;
            if last == 0 {
                return Ok(());
            }
            from = 1;
        }
        if let Some(run) = self.close_run()? {
            out.push(run);
        }
        // Complete runs: a single row passes through (with its neighbours, as one slice), a
        // longer run is put in canonical order.
        let mut singles: Option<usize> = None;
        for r in &ranges[from..last] {
            if r.len() == 1 {
                singles.get_or_insert(r.start);
                continue;
            }
            if let Some(s) = singles.take() {
                out.push(batch.slice(s, r.start - s));
            }
            out.push(ordered(&self.schema, &[batch.slice(r.start, r.len())])?);
        }
        if let Some(s) = singles {
            out.push(batch.slice(s, ranges[last].start - s));
        }
        self.extend_run(
            batch.slice(ranges[last].start, ranges[last].len()),
            row_bytes,
        )?;
        match out.len() {
            0 => {}
            1 => self.ready.extend(out),
            _ => self
                .ready
                .push_back(datafusion::arrow::compute::concat_batches(
                    &self.schema,
                    &out,
                )?),
        }
        Ok(())
    }

    /// Whether the batch's first row has the open run's value.
    fn continues_run(&self, batch: &RecordBatch) -> Result<bool> {
        let Some(tail) = self.run.last() else {
            return Ok(false);
        };
        let previous = tail.column(self.first).slice(tail.num_rows() - 1, 1);
        let next = batch.column(self.first).slice(0, 1);
        let pair: ArrayRef = concat(&[previous.as_ref(), next.as_ref()])?;
        Ok(partition(&[pair])?.len() == 1)
    }

    fn extend_run(&mut self, rows: RecordBatch, row_bytes: usize) -> Result<()> {
        let bytes = row_bytes * rows.num_rows();
        self.run_rows += rows.num_rows();
        self.run_bytes += bytes;
        if self.run_bytes > self.limit || self.reservation.try_grow(bytes).is_err() {
            return Err(DataFusionError::External(Box::new(TiesTooLong {
                rows: self.run_rows,
                limit: self.limit,
            })));
        }
        self.run.push(rows);
        Ok(())
    }

    /// The open run, in canonical order; None when there is none.
    fn close_run(&mut self) -> Result<Option<RecordBatch>> {
        let run = std::mem::take(&mut self.run);
        let rows = std::mem::take(&mut self.run_rows);
        self.run_bytes = 0;
        self.reservation.free();
        Ok(match rows {
            0 => None,
            1 => run.into_iter().next(),
            _ => Some(ordered(&self.schema, &run)?),
        })
    }
}

/// Rows in canonical order, the engine's own sort.
fn ordered(schema: &SchemaRef, rows: &[RecordBatch]) -> Result<RecordBatch> {
    canonical_sort(schema, rows).map_err(|e| DataFusionError::External(Box::new(e)))
}

impl Stream for TieBreak {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(b) = self.ready.pop_front() {
                return Poll::Ready(Some(Ok(b)));
            }
            if self.done {
                return Poll::Ready(None);
            }
            let step = match ready!(self.input.poll_next_unpin(cx)) {
                Some(Ok(batch)) => self.push(batch),
                Some(Err(e)) => Err(e),
                None => {
                    self.done = true;
                    self.close_run().map(|run| self.ready.extend(run))
                }
            };
            if let Err(e) = step {
                self.done = true;
                self.ready.clear();
                return Poll::Ready(Some(Err(e)));
            }
        }
    }
}

impl RecordBatchStream for TieBreak {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}
