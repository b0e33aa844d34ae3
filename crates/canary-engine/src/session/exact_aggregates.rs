//! Floating-point aggregates whose results do not depend on partitioning: `sum`, `avg`,
//! `var_*`, `stddev_*`, `covar_*` and `corr` computed from exact sums
//! ([`canary_stats::exact_sum::Expansion`]) and rounded once at the end.
//!
//! DataFusion's own float aggregates add values in the order rows reach each partition and
//! merge the partitions' partial states in the order they finish, so on more than one
//! partition their last bits change from run to run. These keep Σx (and Σx², Σy, Σy², Σxy)
//! exactly, as Shewchuk expansions; the partial state sent between partitions is the
//! expansions' partials, so merging is exact too, and the result is a function of the multiset
//! of input values alone.
//!
//! - `exact_sum(x)`: Σx correctly rounded.
//! - `exact_avg(x)` (alias `exact_mean`): Σx / n correctly rounded.
//! - `exact_var_samp(x)`, `exact_var_pop(x)` (aliases `exact_var`, `exact_variance`,
//!   `variance`): D / (n(n−1)) and D / n², D = n·Σx² − (Σx)² computed exactly (x² exactly, as a
//!   two-product), then one correctly rounded division: no cancellation whatever the data.
//! - `exact_stddev_samp(x)`, `exact_stddev_pop(x)` (alias `exact_stddev`): the square root of
//!   the correctly rounded variance (so within one ulp of the exact standard deviation).
//! - `exact_covar_samp(x, y)`, `exact_covar_pop(x, y)` (alias `exact_covar`): the same with
//!   n·Σxy − Σx·Σy; rows where either argument is NULL are skipped, as the builtins do.
//! - `exact_corr(x, y)`: D_xy / (√D_xx · √D_yy) from the exact co-moments (three roundings,
//!   no cancellation), clamped to [−1, 1].
//!
//! NULLs are ignored; a group without values gives NULL, as do the sample statistics of one
//! value and `corr` of fewer than two or of a constant; the population ones of one value give
//! 0, as the builtins do. Every result is `Float64`, as the builtins'. Inputs are converted to
//! `Float64` first, as the builtins do (integers beyond 2^53 are rounded then). Infinities and
//! NaN follow [`Expansion`]: NaN in, NaN out; `+inf` and `-inf` together give NaN; a NaN
//! result is always the same NaN. Squares or products beyond `f64::MAX` (|x| > ~1.3e154) make a
//! variance `+inf` (a covariance ±inf or NaN): still deterministic, but not the builtins'
//! values, which may be finite there. Below that, the moments are exact while n·|x| stays
//! under about `2^500` (n·Σx² under `2^1000`) and the squares do not underflow (|x| above
//! about `2^-480`), and `avg` is correctly rounded while |Σx| < `2^1000`; outside, the products
//! and quotients fall back as [`Expansion`] documents: no longer exact, still deterministic.
//!
//! [`register`] adds the functions to a session under those names and installs
//! [`ExactAggregateRewrite`], which replaces the builtin calls by them (see its documentation
//! for which calls it rewrites and which it leaves alone).

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, ListArray, UInt64Array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, UInt64Type};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{internal_err, not_impl_err, DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::registry::FunctionRegistry;
use datafusion::logical_expr::utils::{format_state_name, AggregateOrderSensitivity};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, Expr, ExprSchemable, GroupsAccumulator,
    ReversedUDAF, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

use canary_stats::exact_sum::{two_product, Expansion};

/// What an exact aggregate computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stat {
    Sum,
    Avg,
    VarSamp,
    VarPop,
    StddevSamp,
    StddevPop,
    CovarSamp,
    CovarPop,
    Corr,
}

impl Stat {
    pub const ALL: [Stat; 9] = [
        Stat::Sum,
        Stat::Avg,
        Stat::VarSamp,
        Stat::VarPop,
        Stat::StddevSamp,
        Stat::StddevPop,
        Stat::CovarSamp,
        Stat::CovarPop,
        Stat::Corr,
    ];

    /// The SQL name of the exact function.
    pub fn name(self) -> &'static str {
        match self {
            Stat::Sum => "exact_sum",
            Stat::Avg => "exact_avg",
            Stat::VarSamp => "exact_var_samp",
            Stat::VarPop => "exact_var_pop",
            Stat::StddevSamp => "exact_stddev_samp",
            Stat::StddevPop => "exact_stddev_pop",
            Stat::CovarSamp => "exact_covar_samp",
            Stat::CovarPop => "exact_covar_pop",
            Stat::Corr => "exact_corr",
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            Stat::Avg => &["exact_mean"],
            // DataFusion has no `variance`; with the exact functions registered it is one.
            Stat::VarSamp => &["exact_var", "exact_variance", "variance"],
            Stat::StddevSamp => &["exact_stddev"],
            Stat::CovarSamp => &["exact_covar"],
            _ => &[],
        }
    }

    /// The name of the DataFusion builtin it replaces (`AggregateUDF::name`, which every alias
    /// of the builtin resolves to: `var_samp`, `var_sample` → `var`; `stddev_samp` →
    /// `stddev`; `covar` → `covar_samp`; `mean` → `avg`).
    pub fn builtin(self) -> &'static str {
        match self {
            Stat::Sum => "sum",
            Stat::Avg => "avg",
            Stat::VarSamp => "var",
            Stat::VarPop => "var_pop",
            Stat::StddevSamp => "stddev",
            Stat::StddevPop => "stddev_pop",
            Stat::CovarSamp => "covar_samp",
            Stat::CovarPop => "covar_pop",
            Stat::Corr => "corr",
        }
    }

    fn arity(self) -> usize {
        match self {
            Stat::CovarSamp | Stat::CovarPop | Stat::Corr => 2,
            _ => 1,
        }
    }

    /// The exact sums kept, by state field name.
    fn sums(self) -> &'static [&'static str] {
        match self {
            Stat::Sum | Stat::Avg => &["sum_x"],
            Stat::VarSamp | Stat::VarPop | Stat::StddevSamp | Stat::StddevPop => {
                &["sum_x", "sum_xx"]
            }
            Stat::CovarSamp | Stat::CovarPop => &["sum_x", "sum_y", "sum_xy"],
            Stat::Corr => &["sum_x", "sum_y", "sum_xx", "sum_yy", "sum_xy"],
        }
    }
}

/// `e += a·b` exactly (when the product neither over- nor underflows).
#[inline]
fn add_product(e: &mut Expansion, a: f64, b: f64) {
    let (p, err) = two_product(a, b);
    e.add(p);
    if p.is_finite() {
        e.add(err);
    }
}

/// The state of one group: the count of rows taken and the exact sums of [`Stat::sums`].
#[derive(Debug, Clone)]
struct Moments {
    n: u64,
    sums: Vec<Expansion>,
}

impl Moments {
    fn new(stat: Stat) -> Self {
        Moments {
            n: 0,
            sums: vec![Expansion::new(); stat.sums().len()],
        }
    }

    #[inline]
    fn add_row(&mut self, stat: Stat, x: f64, y: f64) {
        self.n += 1;
        let s = &mut self.sums;
        match stat {
            Stat::Sum | Stat::Avg => s[0].add(x),
            Stat::VarSamp | Stat::VarPop | Stat::StddevSamp | Stat::StddevPop => {
                s[0].add(x);
                add_product(&mut s[1], x, x);
            }
            Stat::CovarSamp | Stat::CovarPop => {
                s[0].add(x);
                s[1].add(y);
                add_product(&mut s[2], x, y);
            }
            Stat::Corr => {
                s[0].add(x);
                s[1].add(y);
                add_product(&mut s[2], x, x);
                add_product(&mut s[3], y, y);
                add_product(&mut s[4], x, y);
            }
        }
    }

    /// Add another group's state exactly.
    fn merge(&mut self, other: &Moments) {
        self.n += other.n;
        for (a, b) in self.sums.iter_mut().zip(&other.sums) {
            a.add_expansion(b);
        }
    }

    fn bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self
                .sums
                .iter()
                .map(|e| std::mem::size_of::<Expansion>() + 8 * e.len())
                .sum::<usize>()
    }

    /// The aggregate's value: see the module documentation.
    fn evaluate(&self, stat: Stat) -> Option<f64> {
        let n = self.n;
        let s = &self.sums;
        match stat {
            Stat::Sum => (n > 0).then(|| s[0].value()),
            Stat::Avg => (n > 0).then(|| s[0].div_rounded(&Expansion::from_u64(n))),
            Stat::VarSamp | Stat::VarPop => {
                co_moment(n, &s[0], &s[0], &s[1], stat == Stat::VarSamp).map(non_negative)
            }
            Stat::StddevSamp | Stat::StddevPop => {
                co_moment(n, &s[0], &s[0], &s[1], stat == Stat::StddevSamp)
                    .map(|v| non_negative(v).sqrt())
            }
            Stat::CovarSamp | Stat::CovarPop => {
                co_moment(n, &s[0], &s[1], &s[2], stat == Stat::CovarSamp)
            }
            Stat::Corr => correlation(n, s),
        }
    }
}

fn non_negative(v: f64) -> f64 {
    // D ≥ 0 exactly; only the documented inexact ranges could give a negative.
    if v < 0.0 {
        0.0
    } else {
        v
    }
}

/// n·Σxy − Σx·Σy, exactly.
fn deviation(n: u64, sx: &Expansion, sy: &Expansion, sxy: &Expansion) -> Expansion {
    let mut d = Expansion::from_u64(n).mul(sxy);
    d.sub_expansion(&sx.mul(sy));
    d
}

/// The population (`sample` false) or sample co-moment of n values, rounded once.
fn co_moment(n: u64, sx: &Expansion, sy: &Expansion, sxy: &Expansion, sample: bool) -> Option<f64> {
    match (n, sample) {
        (0, _) | (1, true) => return None,
        (1, false) => return Some(0.0),
        _ => {}
    }
    if sx.has_special() || sy.has_special() {
        return Some(f64::NAN);
    }
    if sxy.has_special() {
        // Products beyond f64::MAX: ±inf, or NaN when both signs overflowed.
        return Some(sxy.value());
    }
    let nn = Expansion::from_u64(n);
    let den = nn.mul(&Expansion::from_u64(if sample { n - 1 } else { n }));
    Some(deviation(n, sx, sy, sxy).div_rounded(&den))
}

fn correlation(n: u64, s: &[Expansion]) -> Option<f64> {
    let [sx, sy, sxx, syy, sxy] = s else {
        return None;
    };
    if n < 2 {
        return None;
    }
    // As the builtin: NaN when both columns are NaN-valued, NULL when one is.
    let (mx, my) = (sx.value().is_nan(), sy.value().is_nan());
    if mx && my {
        return Some(f64::NAN);
    }
    if mx || my {
        return None;
    }
    if [sx, sy, sxx, syy, sxy].iter().any(|e| e.has_special()) {
        return Some(f64::NAN);
    }
    let dxx = deviation(n, sx, sx, sxx).value();
    let dyy = deviation(n, sy, sy, syy).value();
    if dxx <= 0.0 || dyy <= 0.0 {
        return None;
    }
    let r = deviation(n, sx, sy, sxy).value() / (dxx.sqrt() * dyy.sqrt());
    Some(r.clamp(-1.0, 1.0))
}

/// The list type of an expansion in the partial state.
fn words_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)))
}

/// One list row per item: the words `write` puts out for it.
fn words_list<T>(items: &[T], mut write: impl FnMut(&T, &mut Vec<f64>)) -> ListArray {
    let mut values = Vec::new();
    let mut offsets = Vec::with_capacity(items.len() + 1);
    offsets.push(0i32);
    for item in items {
        write(item, &mut values);
        offsets.push(i32::try_from(values.len()).expect("a partial state below 2^31 doubles"));
    }
    ListArray::new(
        Arc::new(Field::new_list_field(DataType::Float64, true)),
        OffsetBuffer::new(offsets.into()),
        Arc::new(Float64Array::from(values)),
        None,
    )
}

/// The doubles of row `row` of a state list.
fn list_row(list: &ListArray, row: usize) -> &[f64] {
    let offsets = list.value_offsets();
    let values = list.values().as_primitive::<Float64Type>().values();
    &values[offsets[row] as usize..offsets[row + 1] as usize]
}

fn as_f64(array: &ArrayRef) -> Result<ArrayRef> {
    if array.data_type() == &DataType::Float64 {
        Ok(Arc::clone(array))
    } else {
        Ok(cast(array, &DataType::Float64)?)
    }
}

/// A state list that could not have come from this module.
fn bad_state<T>() -> Result<T> {
    internal_err!("exact aggregate: malformed partial state")
}

/// Merge state rows into `groups`: `group_of(row)` gives the group of each row.
fn merge_states(
    stat: Stat,
    states: &[ArrayRef],
    rows: usize,
    mut group_of: impl FnMut(usize) -> usize,
    groups: &mut [Moments],
) -> Result<()> {
    let k = stat.sums().len();
    if states.len() != 1 + k {
        return bad_state();
    }
    let counts = states[0].as_primitive::<UInt64Type>();
    let lists: Vec<&ListArray> = states[1..].iter().map(|a| a.as_list::<i32>()).collect();
    for row in 0..rows {
        if counts.is_null(row) {
            continue;
        }
        let g = &mut groups[group_of(row)];
        g.n += counts.value(row);
        for (sum, list) in g.sums.iter_mut().zip(&lists) {
            if !sum.add_words(list_row(list, row)) {
                return bad_state();
            }
        }
    }
    Ok(())
}

/// The state arrays of `groups`: the counts, then one list per exact sum.
fn state_arrays(stat: Stat, groups: &[Moments]) -> Vec<ArrayRef> {
    let mut out: Vec<ArrayRef> = vec![Arc::new(UInt64Array::from_iter_values(
        groups.iter().map(|g| g.n),
    ))];
    for m in 0..stat.sums().len() {
        out.push(Arc::new(words_list(groups, |g, w| g.sums[m].to_words(w))));
    }
    out
}

/// An exact aggregate function (one per [`Stat`]).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ExactAggregate {
    stat: Stat,
    signature: Signature,
    aliases: Vec<String>,
}

impl ExactAggregate {
    pub fn new(stat: Stat) -> Self {
        ExactAggregate {
            stat,
            // As the builtins: any numeric argument, converted to Float64 by type coercion.
            signature: Signature::exact(
                vec![DataType::Float64; stat.arity()],
                Volatility::Immutable,
            ),
            aliases: stat.aliases().iter().map(|a| a.to_string()).collect(),
        }
    }
}

/// The exact aggregate for `stat` as a DataFusion function.
pub fn udaf(stat: Stat) -> AggregateUDF {
    AggregateUDF::new_from_impl(ExactAggregate::new(stat))
}

impl AggregateUDFImpl for ExactAggregate {
    fn name(&self) -> &str {
        self.stat.name()
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        if args.is_distinct {
            return Ok(vec![Arc::new(Field::new(
                format_state_name(args.name, "distinct_x"),
                words_type(),
                true,
            ))]);
        }
        let mut fields = vec![Arc::new(Field::new(
            format_state_name(args.name, "count"),
            DataType::UInt64,
            true,
        ))];
        for s in self.stat.sums() {
            fields.push(Arc::new(Field::new(
                format_state_name(args.name, s),
                words_type(),
                true,
            )));
        }
        Ok(fields)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if args.is_distinct {
            if self.stat.arity() != 1 {
                return not_impl_err!("{}(DISTINCT ...) is not available", self.stat.name());
            }
            return Ok(Box::new(DistinctAccumulator {
                stat: self.stat,
                seen: HashSet::new(),
            }));
        }
        Ok(Box::new(ExactAccumulator {
            stat: self.stat,
            m: Moments::new(self.stat),
        }))
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        !args.is_distinct
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(ExactGroups {
            stat: self.stat,
            groups: Vec::new(),
        }))
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        AggregateOrderSensitivity::Insensitive
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        ReversedUDAF::Identical
    }
}

/// For one group (no GROUP BY, or DataFusion's fallback path).
#[derive(Debug)]
struct ExactAccumulator {
    stat: Stat,
    m: Moments,
}

impl Accumulator for ExactAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let x = as_f64(&values[0])?;
        let x = x.as_primitive::<Float64Type>();
        if self.stat.arity() == 2 {
            let y = as_f64(&values[1])?;
            let y = y.as_primitive::<Float64Type>();
            for row in 0..x.len() {
                if x.is_valid(row) && y.is_valid(row) {
                    self.m.add_row(self.stat, x.value(row), y.value(row));
                }
            }
        } else if x.null_count() == 0 {
            // Four independent expansions, merged exactly at the end: one long dependency
            // chain through a single expansion would leave the CPU waiting.
            let mut lanes: [Moments; 4] = std::array::from_fn(|_| Moments::new(self.stat));
            let chunks = x.values().chunks_exact(4);
            for &v in chunks.remainder() {
                self.m.add_row(self.stat, v, 0.0);
            }
            for c in chunks {
                for (lane, &v) in lanes.iter_mut().zip(c) {
                    lane.add_row(self.stat, v, 0.0);
                }
            }
            for lane in &lanes {
                self.m.merge(lane);
            }
        } else {
            for v in x.iter().flatten() {
                self.m.add_row(self.stat, v, 0.0);
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(self.m.evaluate(self.stat)))
    }

    fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.m.bytes()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let arrays = state_arrays(self.stat, std::slice::from_ref(&self.m));
        arrays
            .iter()
            .map(|a| ScalarValue::try_from_array(a, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let rows = states.first().map_or(0, |a| a.len());
        merge_states(
            self.stat,
            states,
            rows,
            |_| 0,
            std::slice::from_mut(&mut self.m),
        )
    }
}

/// `DISTINCT`: the set of distinct values (`-0.0` taken as `0.0`, every NaN as one), summed
/// exactly when evaluated.
#[derive(Debug)]
struct DistinctAccumulator {
    stat: Stat,
    seen: HashSet<u64>,
}

fn distinct_key(x: f64) -> u64 {
    if x.is_nan() {
        f64::NAN.to_bits()
    } else if x == 0.0 {
        0
    } else {
        x.to_bits()
    }
}

impl Accumulator for DistinctAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let x = as_f64(&values[0])?;
        self.seen.extend(
            x.as_primitive::<Float64Type>()
                .iter()
                .flatten()
                .map(distinct_key),
        );
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let mut m = Moments::new(self.stat);
        for &b in &self.seen {
            m.add_row(self.stat, f64::from_bits(b), 0.0);
        }
        Ok(ScalarValue::Float64(m.evaluate(self.stat)))
    }

    fn size(&self) -> usize {
        std::mem::size_of::<Self>() + 16 * self.seen.capacity()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let list = words_list(&[()], |_, w| {
            w.extend(self.seen.iter().map(|&b| f64::from_bits(b)))
        });
        Ok(vec![ScalarValue::List(Arc::new(list))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(list) = states.first() else {
            return bad_state();
        };
        let list = list.as_list::<i32>();
        for row in 0..list.len() {
            self.seen
                .extend(list_row(list, row).iter().map(|&x| distinct_key(x)));
        }
        Ok(())
    }
}

/// Many groups at once (GROUP BY).
struct ExactGroups {
    stat: Stat,
    groups: Vec<Moments>,
}

impl GroupsAccumulator for ExactGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        let stat = self.stat;
        if self.groups.len() < total_num_groups {
            self.groups.resize(total_num_groups, Moments::new(stat));
        }
        let x = as_f64(&values[0])?;
        let x = x.as_primitive::<Float64Type>();
        let y = if stat.arity() == 2 {
            Some(as_f64(&values[1])?)
        } else {
            None
        };
        let y = y.as_ref().map(|y| y.as_primitive::<Float64Type>());
        let keep = |row: usize| opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row));
        match y {
            None if x.null_count() == 0 && opt_filter.is_none() => {
                for (&g, &v) in group_indices.iter().zip(x.values()) {
                    self.groups[g].add_row(stat, v, 0.0);
                }
            }
            None => {
                for (row, &g) in group_indices.iter().enumerate() {
                    if keep(row) && x.is_valid(row) {
                        self.groups[g].add_row(stat, x.value(row), 0.0);
                    }
                }
            }
            Some(y) => {
                for (row, &g) in group_indices.iter().enumerate() {
                    if keep(row) && x.is_valid(row) && y.is_valid(row) {
                        self.groups[g].add_row(stat, x.value(row), y.value(row));
                    }
                }
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = emit_to.take_needed(&mut self.groups);
        Ok(Arc::new(Float64Array::from_iter(
            groups.iter().map(|g| g.evaluate(self.stat)),
        )))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = emit_to.take_needed(&mut self.groups);
        Ok(state_arrays(self.stat, &groups))
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        if self.groups.len() < total_num_groups {
            self.groups
                .resize(total_num_groups, Moments::new(self.stat));
        }
        merge_states(
            self.stat,
            values,
            group_indices.len(),
            |row| group_indices[row],
            &mut self.groups,
        )
    }

    /// Each row as a group of its own (DataFusion skips the partial aggregation this way when
    /// it finds it does not reduce the rows).
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let stat = self.stat;
        let x = as_f64(&values[0])?;
        let x = x.as_primitive::<Float64Type>();
        let y = if stat.arity() == 2 {
            Some(as_f64(&values[1])?)
        } else {
            None
        };
        let y = y.as_ref().map(|y| y.as_primitive::<Float64Type>());
        let groups: Vec<Moments> = (0..x.len())
            .map(|row| {
                let mut m = Moments::new(stat);
                let keep = opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row))
                    && x.is_valid(row)
                    && y.is_none_or(|y| y.is_valid(row));
                if keep {
                    m.add_row(stat, x.value(row), y.map_or(0.0, |y| y.value(row)));
                }
                m
            })
            .collect();
        Ok(state_arrays(stat, &groups))
    }

    fn size(&self) -> usize {
        // An estimate: walking every group's partials on each call would cost more than the
        // aggregation. Each exact sum holds a handful of partials on real data.
        let per_group = std::mem::size_of::<Moments>()
            + self.stat.sums().len() * (std::mem::size_of::<Expansion>() + 4 * 8);
        std::mem::size_of::<Self>() + self.groups.capacity() * per_group
    }
}

/// Replaces the builtin float aggregates by the exact ones, in the analyzer (before type
/// coercion, so it sees the arguments' own types):
///
/// - `sum(x)` when `x` is Float16/32/64 (integer and decimal sums are exact already; interval
///   and duration sums are integers);
/// - `avg(x)` (alias `mean`) when `x` is a float or an integer: DataFusion averages integers as
///   Float64 sums too (decimal averages are left alone);
/// - `var`/`var_samp`/`var_sample`, `var_pop`/`var_population`, `stddev`/`stddev_samp`,
///   `stddev_pop`, `covar_samp`/`covar`, `covar_pop`, `corr` of numeric arguments (all of which
///   DataFusion computes in Float64).
///
/// `FILTER (WHERE …)` is kept and applies as before. `DISTINCT` is kept for the one-argument
/// functions (the exact distinct values are summed); `ORDER BY` inside the call is kept but
/// means nothing (the results do not depend on order; the builtins ignore it too).
///
/// Left alone: `covar*`/`corr` with `DISTINCT` (not supported by the builtins either); calls
/// with `IGNORE/RESPECT NULLS`; calls whose argument types cannot be resolved; window calls
/// (`sum(x) OVER (…)`), which are `Expr::WindowFunction` and evaluated per window partition
/// in the window's own order; and aggregates over other types (dictionary-encoded floats
/// included).
#[derive(Debug)]
pub struct ExactAggregateRewrite {
    udafs: Vec<(Stat, Arc<AggregateUDF>)>,
}

impl Default for ExactAggregateRewrite {
    fn default() -> Self {
        Self::new()
    }
}

impl ExactAggregateRewrite {
    pub fn new() -> Self {
        ExactAggregateRewrite {
            udafs: Stat::ALL.iter().map(|&s| (s, Arc::new(udaf(s)))).collect(),
        }
    }

    /// The exact function to use instead of `agg`, if any.
    fn replacement(&self, agg: &AggregateFunction, schema: &DFSchema) -> Option<Arc<AggregateUDF>> {
        let (stat, udaf) = self
            .udafs
            .iter()
            .find(|(s, _)| s.builtin() == agg.func.name())?;
        let p = &agg.params;
        if p.args.len() != stat.arity()
            || p.null_treatment.is_some()
            || (p.distinct && stat.arity() != 1)
        {
            return None;
        }
        for arg in &p.args {
            let t = arg.get_type(schema).ok()?;
            let ok = match stat {
                Stat::Sum => t.is_floating(),
                Stat::Avg => t.is_floating() || t.is_integer(),
                _ => t.is_numeric(),
            };
            if !ok {
                return None;
            }
        }
        Some(Arc::clone(udaf))
    }
}

impl FunctionRewrite for ExactAggregateRewrite {
    fn name(&self) -> &str {
        "exact_aggregates"
    }

    fn rewrite(
        &self,
        expr: Expr,
        schema: &DFSchema,
        _config: &ConfigOptions,
    ) -> Result<Transformed<Expr>> {
        let Expr::AggregateFunction(agg) = &expr else {
            return Ok(Transformed::no(expr));
        };
        match self.replacement(agg, schema) {
            Some(func) => Ok(Transformed::yes(Expr::AggregateFunction(
                AggregateFunction {
                    func,
                    params: agg.params.clone(),
                },
            ))),
            None => Ok(Transformed::no(expr)),
        }
    }
}

/// Register the exact aggregates (`exact_sum`, `exact_avg`, `exact_var_samp`, `exact_var_pop`,
/// `exact_stddev_samp`, `exact_stddev_pop`, `exact_covar_samp`, `exact_covar_pop`,
/// `exact_corr`, and the aliases listed in the module documentation) and the rewrite that puts
/// them in place of the builtins.
pub fn register(ctx: &SessionContext) {
    for stat in Stat::ALL {
        ctx.register_udaf(udaf(stat));
    }
    ctx.state_ref()
        .write()
        .register_function_rewrite(Arc::new(ExactAggregateRewrite::new()))
        .expect("SessionState::register_function_rewrite cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float32Array, Int64Array};
    use datafusion::arrow::datatypes::Schema;
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::common::tree_node::TreeNode;
    use datafusion::datasource::MemTable;
    use datafusion::execution::context::SessionConfig;

    /// SplitMix64, as in `stats::exact_sum`'s tests.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
        fn shuffle<T>(&mut self, v: &mut [T]) {
            for i in (1..v.len()).rev() {
                let j = self.below(i as u64 + 1) as usize;
                v.swap(i, j);
            }
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    fn session(partitions: usize, exact: bool) -> SessionContext {
        let ctx = SessionContext::new_with_config(
            SessionConfig::new().with_target_partitions(partitions),
        );
        if exact {
            register(&ctx);
        }
        ctx
    }

    /// Rows of (g, x, y, f): `x` of wildly different magnitudes (1e-12 .. 1e12, both signs,
    /// 2% NULL), group 0 made of values that cancel (1e20, −1e20, 1, 0.1, …), `y` correlated
    /// with `x`, `f` a Float32 column.
    struct Data {
        g: Vec<i64>,
        x: Vec<Option<f64>>,
        y: Vec<Option<f64>>,
        f: Vec<Option<f32>>,
    }

    fn data(rows: usize, groups: u64, seed: u64) -> Data {
        let mut r = Rng(seed);
        let mut d = Data {
            g: Vec::new(),
            x: Vec::new(),
            y: Vec::new(),
            f: Vec::new(),
        };
        for _ in 0..rows {
            let g = r.below(groups) as i64;
            let x = if r.below(50) == 0 {
                None
            } else if g == 0 {
                Some([1e20, -1e20, 1.0, 0.1, -3e-5, 7e15][r.below(6) as usize])
            } else {
                let mag = 10f64.powi(r.below(25) as i32 - 12);
                let sign = if r.next() & 1 == 0 { 1.0 } else { -1.0 };
                Some(sign * (1.0 + 9.0 * r.unit()) * mag)
            };
            let y = x
                .map(|x| 0.5 * x + r.unit() - 0.5)
                .filter(|_| r.below(40) != 0);
            d.g.push(g);
            d.x.push(x);
            d.y.push(y);
            d.f.push(x.map(|x| x as f32));
        }
        d
    }

    fn schema() -> Arc<Schema> {
        Arc::new(Schema::new(vec![
            Field::new("g", DataType::Int64, false),
            Field::new("x", DataType::Float64, true),
            Field::new("y", DataType::Float64, true),
            Field::new("f", DataType::Float32, true),
        ]))
    }

    /// The rows cut into batches of 1 to 5,000 rows.
    fn batches(d: &Data, r: &mut Rng) -> Vec<RecordBatch> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < d.g.len() {
            let end = (start + 1 + r.below(5000) as usize).min(d.g.len());
            let columns: Vec<ArrayRef> = vec![
                Arc::new(Int64Array::from(d.g[start..end].to_vec())),
                Arc::new(Float64Array::from(d.x[start..end].to_vec())),
                Arc::new(Float64Array::from(d.y[start..end].to_vec())),
                Arc::new(Float32Array::from(d.f[start..end].to_vec())),
            ];
            out.push(RecordBatch::try_new(schema(), columns).unwrap());
            start = end;
        }
        out
    }

    /// The batches in a shuffled order, dealt into `parts` table partitions.
    fn table(batches: &[RecordBatch], parts: usize, r: &mut Rng) -> Arc<MemTable> {
        let mut b = batches.to_vec();
        r.shuffle(&mut b);
        let mut partitions = vec![Vec::new(); parts];
        for (i, batch) in b.into_iter().enumerate() {
            partitions[i % parts].push(batch);
        }
        Arc::new(MemTable::try_new(schema(), partitions).unwrap())
    }

    /// A query's result as the bits of every value (NULL as None), rows in the query's order.
    async fn bits(ctx: &SessionContext, sql: &str) -> Vec<Vec<Option<u64>>> {
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let mut rows = Vec::new();
        for b in &batches {
            for row in 0..b.num_rows() {
                let cells = b
                    .columns()
                    .iter()
                    .map(|c| {
                        if c.is_null(row) {
                            return None;
                        }
                        Some(match c.data_type() {
                            DataType::Float64 => {
                                c.as_primitive::<Float64Type>().value(row).to_bits()
                            }
                            DataType::Int64 => c
                                .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                                .value(row) as u64,
                            DataType::UInt64 => c.as_primitive::<UInt64Type>().value(row),
                            other => panic!("unexpected column type {other}"),
                        })
                    })
                    .collect();
                rows.push(cells);
            }
        }
        rows
    }

    const STATS: &str = "sum(x), avg(x), var_samp(x), stddev_pop(x), var_pop(x), stddev(x), \
                         covar_samp(x, y), covar_pop(x, y), corr(x, y), sum(f), count(x)";

    fn grouped() -> String {
        format!("SELECT g, {STATS} FROM t GROUP BY g ORDER BY g")
    }

    fn ungrouped() -> String {
        format!("SELECT {STATS} FROM t")
    }

    /// The expected row of one group, computed directly with `Expansion`.
    fn expected(xs: &[(f64, Option<f64>, f32)]) -> Vec<Option<u64>> {
        let n = xs.len() as u64;
        let (mut sx, mut sxx, mut sf) = (Expansion::new(), Expansion::new(), Expansion::new());
        let pairs: Vec<(f64, f64)> = xs
            .iter()
            .filter_map(|&(x, y, _)| y.map(|y| (x, y)))
            .collect();
        for &(x, _, f) in xs {
            sx.add(x);
            let (p, e) = two_product(x, x);
            sxx.extend([p, e]);
            sf.add(f64::from(f));
        }
        let nn = Expansion::from_u64(n);
        let moment = |n: u64, sx: &Expansion, sy: &Expansion, sxy: &Expansion, sample: bool| {
            let nn = Expansion::from_u64(n);
            let mut d = nn.mul(sxy);
            d.sub_expansion(&sx.mul(sy));
            let den = nn.mul(&Expansion::from_u64(if sample { n - 1 } else { n }));
            (d.div_rounded(&den), d.value())
        };
        let var_samp = moment(n, &sx, &sx, &sxx, true).0;
        let var_pop = moment(n, &sx, &sx, &sxx, false).0;
        let (mut px, mut py, mut pxx, mut pyy, mut pxy) = (
            Expansion::new(),
            Expansion::new(),
            Expansion::new(),
            Expansion::new(),
            Expansion::new(),
        );
        for &(x, y) in &pairs {
            px.add(x);
            py.add(y);
            for (e, a, b) in [(&mut pxx, x, x), (&mut pyy, y, y), (&mut pxy, x, y)] {
                let (p, err) = two_product(a, b);
                e.extend([p, err]);
            }
        }
        let m = pairs.len() as u64;
        let (covar_samp, dxy) = moment(m, &px, &py, &pxy, true);
        let covar_pop = moment(m, &px, &py, &pxy, false).0;
        let (dxx, dyy) = (
            moment(m, &px, &px, &pxx, true).1,
            moment(m, &py, &py, &pyy, true).1,
        );
        let corr = (dxy / (dxx.sqrt() * dyy.sqrt())).clamp(-1.0, 1.0);
        [
            sx.value(),
            sx.div_rounded(&nn),
            var_samp,
            var_pop.sqrt(),
            var_pop,
            var_samp.sqrt(),
            covar_samp,
            covar_pop,
            corr,
            sf.value(),
        ]
        .into_iter()
        .map(|v| Some(v.to_bits()))
        .chain([Some(n)])
        .collect()
    }

    fn rows_of(d: &Data, group: Option<i64>) -> Vec<(f64, Option<f64>, f32)> {
        (0..d.g.len())
            .filter(|&i| group.is_none_or(|g| d.g[i] == g))
            .filter_map(|i| d.x[i].map(|x| (x, d.y[i], d.f[i].unwrap())))
            .collect()
    }

    /// The heart of it: the same answer, to the bit, on 1, 2, 3 and 8 partitions with the
    /// batches in different orders, equal to the exact values rounded once, and close to
    /// DataFusion's own results; while DataFusion's own `sum` changes with the partitioning.
    #[test]
    fn results_do_not_depend_on_partitions_or_batch_order() {
        let d = data(300_000, 29, 1);
        let mut r = Rng(2);
        let cut = batches(&d, &mut r);
        assert!(cut.len() > 100);
        let rt = runtime();
        let mut exact_runs = Vec::new();
        let mut builtin_sums = Vec::new();
        for partitions in [1, 2, 3, 8] {
            for order in 0..3 {
                for exact in [true, false] {
                    let ctx = session(partitions, exact);
                    ctx.register_table("t", table(&cut, 1 + order * 3, &mut r))
                        .unwrap();
                    let g = rt.block_on(bits(&ctx, &grouped()));
                    let u = rt.block_on(bits(&ctx, &ungrouped()));
                    if exact {
                        exact_runs.push((partitions, order, g, u));
                    } else {
                        // The builtin sums of every group, and of everything.
                        let sums: Vec<Option<u64>> =
                            g.iter().map(|row| row[1]).chain([u[0][0]]).collect();
                        builtin_sums.push(((partitions, order), sums, g));
                    }
                }
            }
        }
        let (_, _, g0, u0) = &exact_runs[0];
        for (p, o, g, u) in &exact_runs {
            assert_eq!(g, g0, "grouped results on {p} partitions, order {o}");
            assert_eq!(u, u0, "ungrouped results on {p} partitions, order {o}");
        }
        // Equal to the exact values rounded once.
        assert_eq!(g0.len(), 29);
        for row in g0 {
            let g = row[0].unwrap() as i64;
            assert_eq!(row[1..], expected(&rows_of(&d, Some(g)))[..], "group {g}");
        }
        assert_eq!(u0[0], expected(&rows_of(&d, None)), "ungrouped");
        // Close to the builtin where it is accurate (not group 0, where it cancels badly).
        let builtin = &builtin_sums[0].2;
        let mut compared = 0;
        for (e, b) in g0.iter().zip(builtin).skip(1) {
            for c in 1..=10 {
                let (e, b) = (f64::from_bits(e[c].unwrap()), f64::from_bits(b[c].unwrap()));
                let scale = if c == 1 || c == 2 { 1e-9 } else { 1e-12 };
                assert!(
                    (e - b).abs() <= scale * e.abs().max(1e-300),
                    "column {c}: exact {e} builtin {b}"
                );
                compared += 1;
            }
        }
        assert!(compared > 200);
        // Group 0: 1e20 − 1e20 + small values: the builtin loses the small ones its own way.
        let e0 = f64::from_bits(g0[0][1].unwrap());
        let want0: f64 =
            canary_stats::exact_sum::exact_sum(rows_of(&d, Some(0)).iter().map(|r| r.0));
        assert_eq!(e0, want0);
        // And the builtin sum does change with partitions and batch order.
        let distinct: HashSet<&Vec<Option<u64>>> = builtin_sums.iter().map(|(_, s, _)| s).collect();
        assert!(
            distinct.len() > 1,
            "the builtin sum gave the same bits in every run: the test data cannot tell"
        );
        eprintln!(
            "builtin sum: {} different results in {} runs; exact: 1",
            distinct.len(),
            builtin_sums.len()
        );
    }

    async fn one_table(ctx: &SessionContext, xs: &[&[Option<f64>]]) {
        let s = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]));
        let parts: Vec<Vec<RecordBatch>> = xs
            .iter()
            .map(|b| {
                let col: ArrayRef = Arc::new(Float64Array::from(b.to_vec()));
                vec![RecordBatch::try_new(Arc::clone(&s), vec![col]).unwrap()]
            })
            .collect();
        ctx.register_table("t", Arc::new(MemTable::try_new(s, parts).unwrap()))
            .unwrap();
    }

    fn floats(rows: &[Vec<Option<u64>>]) -> Vec<Option<f64>> {
        rows[0].iter().map(|c| c.map(f64::from_bits)).collect()
    }

    #[test]
    fn cancellation_is_exact_on_any_partitioning() {
        let rt = runtime();
        let mut builtin = HashSet::new();
        for partitions in [1, 2, 3] {
            for parts in [
                vec![&[Some(1e100)][..], &[Some(1.0)], &[Some(-1e100)]],
                vec![&[Some(1e100), Some(-1e100)][..], &[Some(1.0)]],
                vec![&[Some(1.0), Some(1e100)][..], &[Some(-1e100)]],
            ] {
                let ctx = session(partitions, true);
                rt.block_on(one_table(&ctx, &parts));
                let got = floats(
                    &rt.block_on(bits(&ctx, "SELECT sum(x), avg(x) * 3, exact_sum(x) FROM t")),
                );
                assert_eq!(got, vec![Some(1.0), Some(1.0), Some(1.0)]);
                let ctx = session(partitions, false);
                rt.block_on(one_table(&ctx, &parts));
                builtin.insert(rt.block_on(bits(&ctx, "SELECT sum(x) FROM t"))[0][0]);
            }
        }
        eprintln!(
            "builtin sum of [1e100, 1, -1e100]: {:?}",
            builtin
                .iter()
                .map(|b| b.map(f64::from_bits))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn sql_semantics_match_the_builtins() {
        let rt = runtime();
        let ctx = session(2, true);
        let x = [
            Some(1.5),
            None,
            Some(-2.0),
            Some(1.5),
            Some(0.25),
            Some(-0.0),
        ];
        rt.block_on(one_table(&ctx, &[&x[..3], &x[3..]]));
        let q = |sql: &str| floats(&rt.block_on(bits(&ctx, sql)));
        // NULLs ignored; DISTINCT (1.5 once; -0.0 and 0.25 and -2.0).
        assert_eq!(
            q("SELECT sum(x), avg(x), count(x) FROM t")[..2],
            [Some(1.25), Some(0.25)]
        );
        assert_eq!(
            q("SELECT sum(DISTINCT x), avg(DISTINCT x) FROM t"),
            [Some(-0.25), Some(-0.0625)]
        );
        // FILTER.
        assert_eq!(
            q("SELECT sum(x) FILTER (WHERE x > 0), var_pop(x) FILTER (WHERE x > 1) FROM t"),
            [Some(3.25), Some(0.0)]
        );
        // Empty input: NULL; one value: sample statistics NULL, population ones 0.
        assert_eq!(
            q("SELECT sum(x), avg(x), var_samp(x), stddev(x), covar_samp(x, x), corr(x, x) FROM t WHERE x > 100"),
            [None; 6]
        );
        assert_eq!(
            q("SELECT var_samp(x), var_pop(x), stddev_pop(x), covar_pop(x, x), corr(x, x) FROM t WHERE x < -1"),
            [None, Some(0.0), Some(0.0), Some(0.0), None]
        );
        // A constant column: variance exactly 0, corr NULL.
        assert_eq!(
            q("SELECT var_samp(x), corr(x, x) FROM t WHERE x = 1.5"),
            [Some(0.0), None]
        );
        // Exact variance of [1.5, -2, 1.5, 0.25, 0]: n = 5, Σx = 1.25, Σx² = 8.5625.
        let d = 5.0 * 8.5625 - 1.25 * 1.25;
        assert_eq!(
            q("SELECT var_samp(x), variance(x), var_pop(x) FROM t"),
            [Some(d / 20.0), Some(d / 20.0), Some(d / 25.0)]
        );
        assert_eq!(
            q("SELECT corr(x, x), corr(x, -x) FROM t"),
            [Some(1.0), Some(-1.0)]
        );
    }

    #[test]
    fn special_values_names_and_plan_shapes_are_the_builtins() {
        let rt = runtime();
        // Infinities of both signs make NaN; a sum that overflows midway does not.
        let ctx = session(2, true);
        rt.block_on(one_table(
            &ctx,
            &[
                &[Some(f64::INFINITY), Some(1.0)],
                &[Some(f64::NEG_INFINITY)],
            ],
        ));
        let got = floats(&rt.block_on(bits(&ctx, "SELECT sum(x), avg(x), var_pop(x) FROM t")));
        assert!(
            got.iter()
                .all(|v| v.unwrap().to_bits() == f64::NAN.to_bits()),
            "{got:?}"
        );
        let ctx = session(2, true);
        rt.block_on(one_table(
            &ctx,
            &[&[Some(1e308), Some(1e308)], &[Some(-1e308)]],
        ));
        assert_eq!(
            floats(&rt.block_on(bits(&ctx, "SELECT sum(x) FROM t"))),
            [Some(1e308)]
        );
        // Names and types are the builtins'.
        let df = rt
            .block_on(ctx.sql("SELECT sum(x), avg(x), var_samp(x), stddev_pop(x) FROM t"))
            .unwrap();
        let fields: Vec<(String, DataType)> = df
            .schema()
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect();
        assert_eq!(
            fields,
            ["sum(t.x)", "avg(t.x)", "var_samp(t.x)", "stddev_pop(t.x)"]
                .map(|n| (n.to_string(), DataType::Float64))
        );
        // Aggregates referred to from HAVING, ORDER BY, an expression and a subquery.
        let got = floats(&rt.block_on(bits(
            &ctx,
            "SELECT sum(x) / 2, (SELECT avg(x) FROM t) FROM t HAVING sum(x) > 0 ORDER BY sum(x)",
        )));
        assert_eq!(got, [Some(1e308 / 2.0), Some(1e308 / 3.0)]);
        // Window calls are left to DataFusion, and still work.
        let ctx = session(2, true);
        rt.block_on(one_table(&ctx, &[&[Some(1.0), Some(2.0)], &[Some(4.0)]]));
        let got = floats(&rt.block_on(bits(&ctx, "SELECT sum(x) OVER () FROM t LIMIT 1")));
        assert_eq!(got, [Some(7.0)]);
    }

    #[test]
    fn explain_shows_the_rewrite() {
        let rt = runtime();
        let ctx = session(2, true);
        let s = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, true),
            Field::new("f", DataType::Float32, true),
            Field::new("i", DataType::Int64, true),
            Field::new("k", DataType::Int32, true),
        ]));
        let batch = RecordBatch::new_empty(Arc::clone(&s));
        ctx.register_table(
            "t",
            Arc::new(MemTable::try_new(s, vec![vec![batch]]).unwrap()),
        )
        .unwrap();
        let sql =
            "EXPLAIN SELECT k, sum(x), sum(f), sum(i), avg(i), mean(x), var_samp(i), stddev(x), \
                   stddev_pop(f), var_pop(x), covar(x, i), corr(x, f), sum(DISTINCT x), \
                   sum(x) FILTER (WHERE i > 0), count(x), min(x) FROM t GROUP BY k";
        let batches = rt.block_on(async { ctx.sql(sql).await.unwrap().collect().await.unwrap() });
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        for want in [
            "exact_sum(t.x) AS sum(t.x)",
            "exact_sum(t.x) as sum(t.x)",
            "exact_sum(DISTINCT t.x) AS sum(DISTINCT t.x)",
            "exact_sum(t.x) FILTER (WHERE t.i > Int64(0)) AS sum(t.x) FILTER (WHERE t.i > Int64(0))",
        ] {
            assert!(text.contains(want), "{want} not in\n{text}");
        }
        // Every aggregate of the optimized plan, as (function, output name).
        let plan = rt.block_on(async {
            ctx.sql(&sql["EXPLAIN ".len()..])
                .await
                .unwrap()
                .into_optimized_plan()
                .unwrap()
        });
        let mut calls = Vec::new();
        plan.apply(|node| {
            if let datafusion::logical_expr::LogicalPlan::Aggregate(a) = node {
                for e in &a.aggr_expr {
                    let (inner, name) = match e {
                        Expr::Alias(al) => (al.expr.as_ref(), al.name.clone()),
                        other => (other, other.schema_name().to_string()),
                    };
                    let Expr::AggregateFunction(f) = inner else {
                        panic!("{inner}")
                    };
                    calls.push((f.func.name().to_string(), name));
                }
            }
            Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
        })
        .unwrap();
        let calls: Vec<(&str, &str)> = calls
            .iter()
            .map(|(f, n)| (f.as_str(), n.as_str()))
            .collect();
        assert_eq!(
            calls,
            [
                ("exact_sum", "sum(t.x)"),
                ("exact_sum", "sum(t.f)"),
                ("sum", "sum(t.i)"),
                ("exact_avg", "avg(t.i)"),
                ("exact_avg", "avg(t.x)"),
                ("exact_var_samp", "var(t.i)"),
                ("exact_stddev_samp", "stddev(t.x)"),
                ("exact_stddev_pop", "stddev_pop(t.f)"),
                ("exact_var_pop", "var_pop(t.x)"),
                ("exact_covar_samp", "covar_samp(t.x,t.i)"),
                ("exact_corr", "corr(t.x,t.f)"),
                ("exact_sum", "sum(DISTINCT t.x)"),
                ("exact_sum", "sum(t.x) FILTER (WHERE t.i > Int64(0))"),
                ("count", "count(t.x)"),
                ("min", "min(t.x)"),
            ]
        );
        // Explicit calls work too, and integer sums stay integer.
        let ctx = session(1, true);
        rt.block_on(one_table(&ctx, &[&[Some(0.1), Some(0.2)], &[Some(0.3)]]));
        let got = floats(&rt.block_on(bits(
            &ctx,
            "SELECT exact_sum(x), exact_mean(x), exact_stddev(x) FROM t",
        )));
        assert_eq!(
            got[0],
            Some(canary_stats::exact_sum::exact_sum([0.1, 0.2, 0.3]))
        );
    }
}
