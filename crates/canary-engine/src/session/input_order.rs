//! The order a Parquet input is already in, so that DataFusion need not sort it again.
//!
//! A record-level extract usually comes ordered by its identifier, and every table canary
//! writes is in the canonical order (`canonical::order`), which begins with its first column.
//! When a stage keeps that column first — a filter, a projection, a join that looks its rows
//! up in a smaller table — its result is then already in the order by the first column, and
//! the stage's sort by it (`canonical::by_first_column`) becomes a merge of the partitions'
//! streams, each read in order from its own range of the file.
//!
//! DataFusion trusts a declared order: a file declared ordered that is not would be written
//! out of order, and a `GROUP BY` over it would split groups. So the order is not taken from
//! the file's name, its metadata or its producer: the first column is read, and declared only
//! if every value is greater than the one before — strictly, so that no two rows tie and the
//! order by the first column is the whole canonical order. Reading one column costs a small
//! part of a sort of the whole table and stops at the first value out of order; it is done
//! only for inputs large enough for a sort to matter.

use std::fs::File;
use std::path::Path;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::compute::kernels::cmp::lt;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Column;
use datafusion::error::Result;
use datafusion::logical_expr::SortExpr;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::arrow::ProjectionMask;

/// Rows decoded at a time.
const BATCH_ROWS: usize = 1 << 16;

/// The order by the file's first column, ascending, if its values rise strictly from each row
/// to the next with no nulls, and the file holds at least `from_bytes` bytes; otherwise none.
///
/// Only integers, strings and dates and times qualify: their order in arrow's comparison is
/// the order DataFusion sorts them in. Floats are left out (NaN and -0.0 would need the sort's
/// total order to be checked alike), and so is any other type.
pub fn rising_first_column(path: &Path, from_bytes: u64) -> Result<Option<Vec<SortExpr>>> {
    let file = File::open(path)?;
    if file.metadata()?.len() < from_bytes {
        return Ok(None);
    }
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
    let Some(first) = builder.schema().fields().first().cloned() else {
        return Ok(None);
    };
    if !comparable(first.data_type()) || builder.parquet_schema().num_columns() == 0 {
        return Ok(None);
    }
    // A nested first field has no leaf 0 of its own; `comparable` let only flat types through.
    let mask = ProjectionMask::leaves(builder.parquet_schema(), [0]);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()?;
    let mut last: Option<ArrayRef> = None;
    for batch in reader {
        let values = batch?.column(0).clone();
        if values.is_empty() {
            continue;
        }
        if values.null_count() > 0 {
            return Ok(None);
        }
        let n = values.len();
        let rises = lt(&values.slice(0, n - 1), &values.slice(1, n - 1))?;
        if rises.true_count() != n - 1 {
            return Ok(None);
        }
        if let Some(before) = &last {
            if !lt(before, &values.slice(0, 1))?.value(0) {
                return Ok(None);
            }
        }
        last = Some(values.slice(n - 1, 1));
    }
    Ok(last.map(|_| {
        let column = Column::new_unqualified(first.name());
        vec![datafusion::prelude::Expr::Column(column).sort(true, true)]
    }))
}

fn comparable(t: &DataType) -> bool {
    t.is_integer()
        || matches!(
            t,
            DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Utf8View
                | DataType::Date32
                | DataType::Date64
                | DataType::Timestamp(_, _)
                | DataType::Time32(_)
                | DataType::Time64(_)
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::file::properties::WriterProperties;
    use std::sync::Arc;

    /// A Parquet file of `first` and a second column, in row groups of 1,000 rows written a
    /// batch of 700 rows at a time, so that a break in the order can fall inside a batch, at a
    /// batch's edge or at a row group's.
    fn file(dir: &Path, first: ArrayRef) -> std::path::PathBuf {
        let n = first.len();
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", first.data_type().clone(), true),
            Field::new("x", DataType::Float64, false),
        ]));
        let x: ArrayRef = Arc::new(Float64Array::from_iter_values((0..n).map(|i| i as f64)));
        let batch = RecordBatch::try_new(Arc::clone(&schema), vec![first, x]).unwrap();
        let path = dir.join("t.parquet");
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(1_000))
            .build();
        let mut w =
            ArrowWriter::try_new(File::create(&path).unwrap(), schema, Some(props)).unwrap();
        for at in (0..n).step_by(700) {
            w.write(&batch.slice(at, 700.min(n - at))).unwrap();
        }
        w.close().unwrap();
        path
    }

    fn ints(values: impl IntoIterator<Item = Option<i64>>) -> ArrayRef {
        Arc::new(Int64Array::from_iter(values))
    }

    fn rising(first: ArrayRef) -> bool {
        let dir = tempfile::tempdir().unwrap();
        rising_first_column(&file(dir.path(), first), 0)
            .unwrap()
            .is_some()
    }

    #[test]
    fn a_first_column_that_always_rises_is_declared_as_the_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(dir.path(), ints((0..5_000).map(|i| Some(i * 3 - 7))));
        let order = rising_first_column(&path, 0).unwrap().unwrap();
        assert_eq!(order.len(), 1);
        assert_eq!(order[0].to_string(), "id ASC NULLS FIRST");
        let names = (0..3_000).map(|i| format!("E{i:08}"));
        assert!(rising(Arc::new(StringArray::from_iter_values(names))));
    }

    #[test]
    fn one_value_out_of_order_anywhere_is_no_order() {
        // Inside a batch, at a batch's edge (700) and at a row group's (1,000), and the last.
        for at in [350, 700, 1_000, 2_100, 4_999] {
            let mut v: Vec<Option<i64>> = (0..5_000).map(Some).collect();
            v[at] = Some(v[at].unwrap() - 2);
            assert!(!rising(ints(v)), "a fall at row {at} was not seen");
        }
        // Two equal values are a tie, not a rise: the first column would not be the whole order.
        let mut v: Vec<Option<i64>> = (0..5_000).map(Some).collect();
        v[700] = Some(699);
        assert!(!rising(ints(v)));
    }

    #[test]
    fn nulls_floats_small_files_and_empty_files_are_no_order() {
        let mut v: Vec<Option<i64>> = (0..5_000).map(Some).collect();
        v[0] = None;
        assert!(!rising(ints(v)));
        let floats = Float64Array::from_iter_values((0..5_000).map(f64::from));
        assert!(!rising(Arc::new(floats)));
        assert!(!rising(ints([])));
        let dir = tempfile::tempdir().unwrap();
        let path = file(dir.path(), ints((0..5_000).map(Some)));
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(rising_first_column(&path, size).unwrap().is_some());
        assert!(rising_first_column(&path, size + 1).unwrap().is_none());
    }
}
