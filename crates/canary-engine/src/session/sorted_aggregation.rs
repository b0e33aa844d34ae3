//! Aggregation in the order of its keys, for a `GROUP BY` whose hash table cannot fit the
//! memory limit.
//!
//! DataFusion aggregates by hashing: every group's state stays in memory until the input
//! ends. For sums, counts and means that state is a few numbers a group. For a median (or an
//! `array_agg`, a `string_agg`, a `count(DISTINCT …)`) it is every value of the group, so at
//! 100 million rows the table needs 800 MB for one `median` whatever the number of groups, and
//! DataFusion's spilling of such states does not fit the limit it is given (it sorts a spilled
//! state at twice the size it reserved for it).
//!
//! The same aggregation over input sorted by its keys holds few groups at a time: DataFusion
//! sees the order and finishes groups as the keys move on, and the sort spills to disk under
//! the limit. [`in_key_order`] rewrites a physical plan into that form: the rows are
//! hash-partitioned by the keys (so each partition holds whole groups, and `--jobs` cores
//! still share the work), each partition is sorted, and one aggregation per partition
//! (`SinglePartitioned`) replaces the partial and final pair. Sorted by the first key alone
//! ([`Keys::First`]) the sort compares one column as itself and the aggregation holds the
//! groups of one first-key value (`InputOrderMode::PartiallySorted`): an LA's years, say. When
//! one first-key value has too many groups for that, sorted by every key ([`Keys::All`]) it
//! holds one group. Both are slower than hashing when the table fits, so a SQL stage uses them
//! only when hashing cannot fit ([`outgrows`], or a hash table that ran out of memory;
//! `kinds::sql`). The result is the same rows: the aggregates are the same functions, which do
//! not depend on the order they are fed (canary's exact sums and means included; not
//! `array_agg` or `string_agg` without an `ORDER BY` of their own, whose order no plan fixes),
//! and the stage's canonical sort above them puts the rows in the same order.

use std::sync::Arc;

use datafusion::arrow::compute::SortOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::Result;
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_expr::{LexOrdering, PhysicalSortExpr};
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::{
    ExecutionPlan, ExecutionPlanProperties, InputOrderMode, Partitioning, StatisticsArgs,
    StatisticsContext,
};

/// What an aggregation's input is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// The first key: one column, and the groups of one value at a time.
    First,
    /// Every key: one group at a time.
    All,
}

/// `plan` with every hash aggregation that has keys done in the order of its `keys`, over
/// `partitions` partitions; None when it has none to rewrite (no `GROUP BY`, or grouping sets,
/// or an aggregation already fed in that order), so the caller knows a retry would not help.
pub fn in_key_order(
    plan: Arc<dyn ExecutionPlan>,
    partitions: usize,
    keys: Keys,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let rewritten = plan.transform_up(|node| rewrite(node, partitions.max(1), keys))?;
    Ok(rewritten.transformed.then_some(rewritten.data))
}

fn rewrite(
    node: Arc<dyn ExecutionPlan>,
    partitions: usize,
    by: Keys,
) -> Result<Transformed<Arc<dyn ExecutionPlan>>> {
    let Some(top) = node.downcast_ref::<AggregateExec>() else {
        return Ok(Transformed::no(node));
    };
    // The aggregation whose input is the rows: the partial half of a partial/final pair, or a
    // single-phase aggregation itself.
    let first = match top.mode() {
        AggregateMode::Final | AggregateMode::FinalPartitioned => partial_below(top.input()),
        AggregateMode::Single | AggregateMode::SinglePartitioned => Some(top),
        _ => None,
    };
    let Some(first) = first else {
        return Ok(Transformed::no(node));
    };
    let group_by = first.group_expr();
    if group_by.expr().is_empty() || !group_by.is_single() || fed_in_order(first, by) {
        return Ok(Transformed::no(node));
    }
    let keys: Vec<_> = group_by.expr().iter().map(|(e, _)| Arc::clone(e)).collect();
    let ascending = SortOptions {
        descending: false,
        nulls_first: true,
    };
    let sorted_by = match by {
        Keys::First => 1,
        Keys::All => keys.len(),
    };
    let Some(ordering) = LexOrdering::new(
        keys.iter()
            .take(sorted_by)
            .map(|k| PhysicalSortExpr::new(Arc::clone(k), ascending)),
    ) else {
        return Ok(Transformed::no(node));
    };
    let rows = Arc::clone(first.input());
    let (input, mode): (Arc<dyn ExecutionPlan>, _) = if partitions > 1 {
        let by_keys = RepartitionExec::try_new(rows, Partitioning::Hash(keys, partitions))?;
        (Arc::new(by_keys), AggregateMode::SinglePartitioned)
    } else if rows.output_partitioning().partition_count() > 1 {
        (
            Arc::new(CoalescePartitionsExec::new(rows)),
            AggregateMode::Single,
        )
    } else {
        (rows, AggregateMode::Single)
    };
    let sorted = Arc::new(SortExec::new(ordering, input).with_preserve_partitioning(true));
    let aggregate = AggregateExec::try_new(
        mode,
        group_by.clone(),
        first.aggr_expr().to_vec(),
        first.filter_expr().to_vec(),
        sorted,
        first.input_schema(),
    )?;
    // Only a rewrite DataFusion runs in that order, and that hands the plan above the columns
    // it had, is one: anything else keeps the plan as it was.
    if !fed_in_order(&aggregate, by) || aggregate.schema() != top.schema() {
        return Ok(Transformed::no(node));
    }
    Ok(Transformed::yes(Arc::new(aggregate)))
}

/// Whether DataFusion runs `aggregate` in the order of its `keys`.
fn fed_in_order(aggregate: &AggregateExec, keys: Keys) -> bool {
    match keys {
        Keys::First => *aggregate.input_order_mode() != InputOrderMode::Linear,
        Keys::All => *aggregate.input_order_mode() == InputOrderMode::Sorted,
    }
}

/// The most keys any aggregation of the plan groups by: with one, sorting by every key is
/// sorting by the first.
pub fn most_keys(plan: &Arc<dyn ExecutionPlan>) -> usize {
    let mut most = 0;
    let _ = plan.apply(|node| {
        if let Some(a) = node.downcast_ref::<AggregateExec>() {
            most = most.max(a.group_expr().expr().len());
        }
        Ok(TreeNodeRecursion::Continue)
    });
    most
}

/// Whether an aggregate function's state is every value of its group, so that its memory
/// grows with the rows rather than the groups.
fn holds_every_value(e: &AggregateFunctionExpr) -> bool {
    e.is_distinct()
        || matches!(
            e.fun().name(),
            "median" | "array_agg" | "string_agg" | "percentile_cont"
        )
}

/// Whether hashing the plan's aggregations plainly cannot fit `memory`: the rows going into an
/// aggregation, as the plan's statistics know them (a Parquet file's row count), times 8 bytes
/// for each aggregate that holds every value, against half the limit. A SQL stage then
/// aggregates in key order from the start instead of running out of memory first; when the
/// rows are not known it says no, and the stage still falls back once a hash table runs out.
pub fn outgrows(plan: &Arc<dyn ExecutionPlan>, memory: usize) -> bool {
    let mut outgrown = false;
    let _ = plan.apply(|node| {
        if let Some(a) = node.downcast_ref::<AggregateExec>() {
            let first = matches!(
                a.mode(),
                AggregateMode::Partial | AggregateMode::Single | AggregateMode::SinglePartitioned
            );
            let holding = a
                .aggr_expr()
                .iter()
                .filter(|e| holds_every_value(e))
                .count();
            if first && holding > 0 {
                let rows = StatisticsContext::new()
                    .compute(a.input().as_ref(), &StatisticsArgs::new())
                    .ok()
                    .and_then(|s| s.num_rows.get_value().copied());
                if let Some(rows) = rows {
                    outgrown |= rows.saturating_mul(8 * holding) > memory / 2;
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    outgrown
}

/// The partial aggregation under a final one, through the exchange between them.
fn partial_below(plan: &Arc<dyn ExecutionPlan>) -> Option<&AggregateExec> {
    if let Some(a) = plan.downcast_ref::<AggregateExec>() {
        return (*a.mode() == AggregateMode::Partial).then_some(a);
    }
    let through = plan.is::<RepartitionExec>() || plan.is::<CoalescePartitionsExec>();
    match plan.children().as_slice() {
        [child] if through => partial_below(child),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{runtime_for, session_with, Resources};
    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::datasource::MemTable;
    use datafusion::physical_plan::{collect, displayable};

    /// 40,000 rows in 30 groups (some keys null), split over `parts` batches.
    fn records(parts: usize) -> (Arc<Schema>, Vec<Vec<RecordBatch>>) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("la", DataType::Utf8, true),
            Field::new("year", DataType::Int64, false),
            Field::new("x", DataType::Float64, true),
        ]));
        let n = 40_000usize;
        let la: Vec<Option<String>> = (0..n)
            .map(|i| (i % 7 != 3).then(|| format!("E{:02}", (i * 31) % 10)))
            .collect();
        let year: Vec<i64> = (0..n).map(|i| 2010 + ((i * 17) % 3) as i64).collect();
        let x: Vec<Option<f64>> = (0..n)
            .map(|i| (i % 11 != 0).then(|| ((i * 7919) % 1000) as f64 / 7.0))
            .collect();
        let per = n.div_ceil(parts);
        let batches = (0..parts)
            .map(|p| {
                let r = p * per..((p + 1) * per).min(n);
                vec![RecordBatch::try_new(
                    Arc::clone(&schema),
                    vec![
                        Arc::new(StringArray::from(la[r.clone()].to_vec())),
                        Arc::new(Int64Array::from(year[r.clone()].to_vec())),
                        Arc::new(Float64Array::from(x[r].to_vec())),
                    ],
                )
                .unwrap()]
            })
            .collect();
        (schema, batches)
    }

    const QUERY: &str = "SELECT la, year, count(*) AS n, avg(x) AS mean, median(x) AS median, \
        count(DISTINCT x) AS distinct_x FROM t GROUP BY la, year ORDER BY la, year";

    /// The query's rows (pretty-printed) by the hashed plan and by the rewritten one, and the
    /// rewritten plan's text.
    fn both(partitions: usize, keys: Keys) -> (String, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let r = Resources::new(partitions, Some(256 << 20), dir.path());
        runtime_for(&r).unwrap().block_on(async {
            let ctx = session_with(&r).unwrap();
            let (schema, parts) = records(partitions);
            let table = MemTable::try_new(schema, parts).unwrap();
            ctx.register_table("t", Arc::new(table)).unwrap();
            let df = ctx.sql(QUERY).await.unwrap();
            let plan = df.create_physical_plan().await.unwrap();
            let hashed = collect(Arc::clone(&plan), ctx.task_ctx()).await.unwrap();
            let sorted_plan = in_key_order(plan, partitions, keys)
                .unwrap()
                .expect("rewritten");
            let text = displayable(sorted_plan.as_ref()).indent(false).to_string();
            let sorted = collect(sorted_plan, ctx.task_ctx()).await.unwrap();
            let show = |b: &[RecordBatch]| pretty_format_batches(b).unwrap().to_string();
            (show(&hashed), show(&sorted), text)
        })
    }

    #[test]
    fn aggregating_in_key_order_gives_the_rows_hashing_gives() {
        for (keys, mode) in [
            (Keys::First, "ordering_mode=PartiallySorted([0])"),
            (Keys::All, "ordering_mode=Sorted"),
        ] {
            for partitions in [1, 2, 8] {
                let (hashed, sorted, plan) = both(partitions, keys);
                assert_eq!(hashed, sorted, "{keys:?}, {partitions} partitions:\n{plan}");
                assert!(plan.contains(mode), "{plan}");
                assert!(!plan.contains("mode=Partial,"), "{plan}");
                assert_eq!(hashed.lines().count(), 4 + 33, "{hashed}");
            }
        }
    }

    /// The values an aggregation would hold, against half the limit, from the rows the plan
    /// knows it reads.
    #[test]
    fn a_median_over_more_rows_than_the_limit_holds_outgrows_it() {
        let dir = tempfile::tempdir().unwrap();
        let r = Resources::new(2, None, dir.path());
        runtime_for(&r).unwrap().block_on(async {
            let ctx = session_with(&r).unwrap();
            let (schema, parts) = records(2);
            ctx.register_table("t", Arc::new(MemTable::try_new(schema, parts).unwrap()))
                .unwrap();
            let plan = |sql: &'static str| {
                let ctx = ctx.clone();
                async move {
                    ctx.sql(sql)
                        .await
                        .unwrap()
                        .create_physical_plan()
                        .await
                        .unwrap()
                }
            };
            // 40,000 values of 8 bytes: 320,000 bytes.
            let median = plan("SELECT la, median(x) FROM t GROUP BY la").await;
            assert!(outgrows(&median, 600_000));
            assert!(!outgrows(&median, 700_000));
            let sum = plan("SELECT la, year, sum(x) FROM t GROUP BY la, year").await;
            assert!(!outgrows(&sum, 1000));
            assert_eq!((most_keys(&median), most_keys(&sum)), (1, 2));
        });
    }

    #[test]
    fn a_plan_without_keys_is_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let r = Resources::new(2, None, dir.path());
        runtime_for(&r).unwrap().block_on(async {
            let ctx = session_with(&r).unwrap();
            let (schema, parts) = records(2);
            let table = MemTable::try_new(schema, parts).unwrap();
            ctx.register_table("t", Arc::new(table)).unwrap();
            for sql in [
                "SELECT median(x) FROM t",
                "SELECT la, x * 2 FROM t WHERE x > 3",
            ] {
                let plan = ctx
                    .sql(sql)
                    .await
                    .unwrap()
                    .create_physical_plan()
                    .await
                    .unwrap();
                for keys in [Keys::First, Keys::All] {
                    let rewritten = in_key_order(Arc::clone(&plan), 2, keys).unwrap();
                    assert!(rewritten.is_none(), "{sql}");
                }
            }
        });
    }
}
