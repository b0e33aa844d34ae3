//! Arrow tables to and from Rust: a kind reads an input table as rows of a struct
//! ([`TableData::records`]) and writes an output from rows ([`from_rows`]), both by
//! `serde_arrow`, the struct's fields naming the columns in the order the table shows them.
//! The column builder and the by-name column reads remain for columns known only at run time
//! (a model's predictors, a param's column), and for the writers not yet moved to rows.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_arrow::schema::{SchemaLike, TracingOptions};

use super::OutputTable;
use crate::error::{Error, Result};

/// One column's values.
pub enum Column {
    Str(Vec<Option<String>>),
    F64(Vec<Option<f64>>),
    I32(Vec<Option<i32>>),
    I64(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
}

impl Column {
    fn data_type(&self) -> DataType {
        match self {
            Column::Str(_) => DataType::Utf8,
            Column::F64(_) => DataType::Float64,
            Column::I32(_) => DataType::Int32,
            Column::I64(_) => DataType::Int64,
            Column::Bool(_) => DataType::Boolean,
        }
    }

    fn len(&self) -> usize {
        match self {
            Column::Str(v) => v.len(),
            Column::F64(v) => v.len(),
            Column::I32(v) => v.len(),
            Column::I64(v) => v.len(),
            Column::Bool(v) => v.len(),
        }
    }

    fn array(self) -> ArrayRef {
        match self {
            Column::Str(v) => Arc::new(StringArray::from(v)),
            Column::F64(v) => Arc::new(Float64Array::from(v)),
            Column::I32(v) => Arc::new(Int32Array::from(v)),
            Column::I64(v) => Arc::new(Int64Array::from(v)),
            Column::Bool(v) => Arc::new(BooleanArray::from(v)),
        }
    }
}

/// A table under construction: named columns added in order.
#[derive(Default)]
pub struct TableBuilder {
    columns: Vec<(String, Column, bool)>,
}

impl TableBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a column; `nullable` says whether the schema allows nulls in it.
    pub fn col(mut self, name: &str, values: Column, nullable: bool) -> Self {
        self.columns.push((name.to_string(), values, nullable));
        self
    }

    pub fn str(self, name: &str, values: Vec<String>) -> Self {
        self.col(
            name,
            Column::Str(values.into_iter().map(Some).collect()),
            false,
        )
    }

    pub fn opt_str(self, name: &str, values: Vec<Option<String>>) -> Self {
        self.col(name, Column::Str(values), true)
    }

    pub fn f64(self, name: &str, values: Vec<Option<f64>>) -> Self {
        self.col(name, Column::F64(values), true)
    }

    pub fn i32(self, name: &str, values: Vec<i32>) -> Self {
        self.col(
            name,
            Column::I32(values.into_iter().map(Some).collect()),
            false,
        )
    }

    pub fn i64(self, name: &str, values: Vec<i64>) -> Self {
        self.col(
            name,
            Column::I64(values.into_iter().map(Some).collect()),
            false,
        )
    }

    pub fn bool(self, name: &str, values: Vec<Option<bool>>) -> Self {
        self.col(name, Column::Bool(values), true)
    }

    pub fn build(self, table: Option<&str>) -> Result<OutputTable> {
        let rows = self.columns.first().map(|(_, c, _)| c.len()).unwrap_or(0);
        if let Some((name, c, _)) = self.columns.iter().find(|(_, c, _)| c.len() != rows) {
            return Err(Error::data(
                "<output>",
                format!(
                    "column `{name}` has {} values but the table has {rows} rows",
                    c.len()
                ),
            ));
        }
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|(n, c, nullable)| Field::new(n, c.data_type(), *nullable))
            .collect();
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let arrays: Vec<ArrayRef> = self
            .columns
            .into_iter()
            .map(|(_, c, _)| c.array())
            .collect();
        let batch = if arrays.is_empty() {
            RecordBatch::new_empty(Arc::clone(&schema))
        } else {
            RecordBatch::try_new(Arc::clone(&schema), arrays).map_err(|e| {
                Error::data("<output>", format!("cannot build the output table: {e}"))
            })?
        };
        Ok(OutputTable {
            name: table.map(str::to_string),
            schema,
            batches: vec![batch],
            ordered: false,
            written: None,
        })
    }
}

/// The Arrow fields of a row struct: `String` is `Utf8` (as DataFusion writes text), `Option<_>`
/// nullable, everything else not.
fn row_fields<T: DeserializeOwned>() -> Result<Vec<FieldRef>> {
    Vec::<FieldRef>::from_type::<T>(TracingOptions::default().strings_as_large_utf8(false)).map_err(
        |e| {
            Error::data(
                "<rows>",
                format!(
                    "the row type `{}` has no Arrow schema: {e}",
                    std::any::type_name::<T>()
                ),
            )
        },
    )
}

/// An output table written from rows: one column per field of `T`, in the struct's order.
pub fn from_rows<T: Serialize + DeserializeOwned>(
    table: Option<&str>,
    rows: &[T],
) -> Result<OutputTable> {
    let fields = row_fields::<T>()?;
    let batch = serde_arrow::to_record_batch(&fields, &rows)
        .map_err(|e| Error::data("<output>", format!("cannot build the output table: {e}")))?;
    Ok(OutputTable {
        name: table.map(str::to_string),
        schema: batch.schema(),
        batches: vec![batch],
        ordered: false,
        written: None,
    })
}

/// An input table read back into Rust, as rows of a struct or as columns by name, with a clear
/// error naming the table and the columns it does have when one is missing.
pub struct TableData {
    pub label: String,
    pub schema: SchemaRef,
    pub batch: RecordBatch,
}

impl TableData {
    pub fn new(label: &str, schema: SchemaRef, batches: &[RecordBatch]) -> Result<Self> {
        let batch = datafusion::arrow::compute::concat_batches(&schema, batches)
            .map_err(|e| Error::data(label, format!("cannot read the table: {e}")))?;
        Ok(TableData {
            label: label.to_string(),
            schema,
            batch,
        })
    }

    pub fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// The table's rows as `T`s. Each field of `T` is read from the column of its name, cast
    /// to the field's type first (an integer column reads into `f64`, a CSV's `true`/`false`
    /// into `bool`); a column the table lacks, or a null where `T` holds no `Option`, is an
    /// error naming the table.
    pub fn records<T: DeserializeOwned>(&self) -> Result<Vec<T>> {
        self.records_or_null(&[])
    }

    /// As [`TableData::records`], but the columns named in `optional` may be absent from the
    /// table, and then read as null in every row (their fields must be `Option`s).
    pub fn records_or_null<T: DeserializeOwned>(&self, optional: &[&str]) -> Result<Vec<T>> {
        let wanted = row_fields::<T>()?;
        let mut fields = Vec::with_capacity(wanted.len());
        let mut arrays = Vec::with_capacity(wanted.len());
        for f in &wanted {
            if optional.contains(&f.name().as_str()) && !self.has(f.name()) {
                arrays.push(datafusion::arrow::array::new_null_array(
                    f.data_type(),
                    self.rows(),
                ));
            } else {
                arrays.push(self.cast(f.name(), f.data_type())?);
            }
            // Nullable whatever `T` says, so that a null is the deserialiser's error at its row.
            fields.push(Field::new(f.name(), f.data_type().clone(), true));
        }
        let options = RecordBatchOptions::new().with_row_count(Some(self.rows()));
        let batch =
            RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), arrays, &options)
                .map_err(|e| Error::data(&self.label, format!("cannot read the table: {e}")))?;
        serde_arrow::from_record_batch(&batch).map_err(|e| {
            Error::data(&self.label, format!("cannot read its rows: {e}"))
                .with_hint("a column holds an empty value where this kind needs one")
        })
    }

    pub fn has(&self, name: &str) -> bool {
        self.schema.index_of(name).is_ok()
    }

    fn cast(&self, name: &str, to: &DataType) -> Result<ArrayRef> {
        let idx = self.schema.index_of(name).map_err(|_| {
            let have: Vec<&str> = self
                .schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            Error::data(
                &self.label,
                format!("has no column `{name}`; it has: {}", have.join(", ")),
            )
            .with_hint(
                "check the stage's inputs in pipeline.yaml: this kind expects a different table",
            )
        })?;
        datafusion::arrow::compute::cast(self.batch.column(idx), to).map_err(|e| {
            Error::data(
                &self.label,
                format!("column `{name}` cannot be read as {to}: {e}"),
            )
        })
    }

    pub fn strings(&self, name: &str) -> Result<Vec<Option<String>>> {
        let a = self.cast(name, &DataType::Utf8)?;
        let a = a
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("cast to Utf8");
        Ok(a.iter().map(|v| v.map(str::to_string)).collect())
    }

    pub fn f64s(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let a = self.cast(name, &DataType::Float64)?;
        let a = a
            .as_any()
            .downcast_ref::<Float64Array>()
            .expect("cast to Float64");
        Ok(a.iter().collect())
    }

    /// A Boolean column (a text column of `true`/`false` too, as a CSV source holds it).
    pub fn bools(&self, name: &str) -> Result<Vec<Option<bool>>> {
        let a = self.cast(name, &DataType::Boolean)?;
        let a = a
            .as_any()
            .downcast_ref::<BooleanArray>()
            .expect("cast to Boolean");
        Ok(a.iter().collect())
    }

    pub fn i64s(&self, name: &str) -> Result<Vec<Option<i64>>> {
        let a = self.cast(name, &DataType::Int64)?;
        let a = a
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("cast to Int64");
        Ok(a.iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Row {
        la: String,
        year: i32,
        rate: Option<f64>,
        flagged: Option<bool>,
    }

    fn rows() -> Vec<Row> {
        vec![
            Row {
                la: "E09000001".into(),
                year: 2016,
                rate: Some(0.1),
                flagged: Some(true),
            },
            Row {
                la: "E09000002".into(),
                year: 2017,
                rate: None,
                flagged: None,
            },
        ]
    }

    fn data(t: &OutputTable) -> TableData {
        TableData::new("`t`", Arc::clone(&t.schema), &t.batches).unwrap()
    }

    #[test]
    fn rows_write_the_schema_the_column_builder_writes() {
        // The study's Parquet bytes depend on the schema: rows must not change it.
        let from_rows = from_rows(Some("t"), &rows()).unwrap();
        let built = TableBuilder::new()
            .str("la", vec!["E09000001".into(), "E09000002".into()])
            .i32("year", vec![2016, 2017])
            .f64("rate", vec![Some(0.1), None])
            .bool("flagged", vec![Some(true), None])
            .build(Some("t"))
            .unwrap();
        assert_eq!(from_rows.schema, built.schema);
        assert_eq!(from_rows.batches, built.batches);
    }

    #[test]
    fn rows_read_back_what_was_written() {
        let t = from_rows(None, &rows()).unwrap();
        assert_eq!(data(&t).records::<Row>().unwrap(), rows());
    }

    #[test]
    fn a_row_reads_its_columns_cast_and_by_name() {
        // Text booleans (a CSV source) and integer years read as the struct's types.
        let t = TableBuilder::new()
            .str("flagged", vec!["true".into(), "false".into()])
            .i64("year", vec![2016, 2017])
            .str("ignored", vec!["x".into(), "y".into()])
            .build(None)
            .unwrap();
        #[derive(Deserialize, Debug, PartialEq)]
        struct Few {
            year: f64,
            flagged: bool,
        }
        assert_eq!(
            data(&t).records::<Few>().unwrap(),
            vec![
                Few {
                    year: 2016.0,
                    flagged: true
                },
                Few {
                    year: 2017.0,
                    flagged: false
                }
            ]
        );
    }

    #[test]
    fn a_missing_column_or_a_null_is_an_error_naming_the_table() {
        let t = from_rows(None, &rows()).unwrap();
        #[derive(Deserialize, Debug)]
        struct Other {
            #[allow(dead_code)]
            median: f64,
        }
        let e = data(&t).records::<Other>().unwrap_err().to_string();
        assert!(e.contains("`t`") && e.contains("no column `median`"), "{e}");
        #[derive(Deserialize, Debug)]
        struct Strict {
            #[allow(dead_code)]
            rate: f64,
        }
        let e = data(&t).records::<Strict>().unwrap_err().to_string();
        assert!(
            e.contains("`t`") && e.contains("cannot read its rows"),
            "{e}"
        );
    }

    #[test]
    fn an_optional_column_absent_reads_as_null_and_present_reads_as_itself() {
        let t = from_rows(None, &rows()).unwrap();
        #[derive(Deserialize, Debug, PartialEq)]
        struct Maybe {
            la: String,
            median: Option<f64>,
            rate: Option<f64>,
        }
        let got = data(&t)
            .records_or_null::<Maybe>(&["median", "rate"])
            .unwrap();
        assert_eq!(got[0].median, None);
        assert_eq!(got[0].rate, Some(0.1));
        assert_eq!(got[1].la, "E09000002");
    }
}
