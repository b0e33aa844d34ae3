//! Building Arrow tables from rows in Rust: a small column builder so each kind states its
//! output schema once, in the order the table shows it.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;

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

/// Columns of an input table read back into Rust vectors, by name, with a clear error naming
/// the table and the columns it does have when one is missing.
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
