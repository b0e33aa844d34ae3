//! `stack`: the engine's own kind for a sweep (a stage with `matrix:`). It reads each cell's
//! tables and writes them as one table per table name, with the swept params as leading
//! columns, so that downstream stages, `canary sql` and the report see one table — as DVC's
//! `matrix` or targets' `tar_map` + `tar_combine` give their users.
//!
//! A swept param's column is Int64 when every value is an integer, Float64 when every value is
//! a number, Boolean for booleans, and text otherwise.

use std::sync::Arc;

use datafusion::arrow::array::{
    new_null_array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::pipeline::KindSpec;
use crate::pipeline::{matrix, Stage, Sweep, STACK_KIND};
use crate::stage::{Input, OutputTable, StageContext, StageKind};

pub struct Stack;

/// A cell's name, its swept values and its tables' paths.
type CellTables<'a> = (
    &'a str,
    &'a Vec<(String, serde_json::Value)>,
    &'a Vec<(Option<String>, std::path::PathBuf)>,
);

impl KindSpec for Stack {
    fn open_params(&self) -> bool {
        true
    }

    fn tables(&self, stage: &Stage) -> Vec<String> {
        stage.tables.clone()
    }
}

impl StageKind for Stack {
    fn name(&self) -> &'static str {
        STACK_KIND
    }

    fn version(&self) -> u32 {
        1
    }

    fn describe(&self) -> &'static str {
        "the cells of a sweep (`matrix:`) stacked into one table per table, the swept params first"
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let Some(Sweep::Stack { params, .. }) = &ctx.stage.sweep else {
            return Err(ctx.fail("is not the stacking stage of a sweep"));
        };
        // Each cell's swept values, in the stage's input order (the cells' order).
        let mut cells: Vec<CellTables> = Vec::new();
        for (name, input) in &ctx.inputs {
            let Some(Sweep::Cell { values, .. }) =
                ctx.pipeline.stages.get(name).and_then(|s| s.sweep.as_ref())
            else {
                return Err(ctx.fail(format!("input `{name}` is not a cell of this sweep")));
            };
            let Input::Stage { tables } = input else {
                return Err(ctx.fail(format!("input `{name}` is not a stage")));
            };
            cells.push((name, values, tables));
        }
        let types: Vec<DataType> = (0..params.len())
            .map(|j| column_type(cells.iter().map(|(_, v, _)| &v[j].1)))
            .collect();
        let table_names: Vec<Option<String>> = match cells.first() {
            Some((_, _, tables)) => tables.iter().map(|(t, _)| t.clone()).collect(),
            None => vec![None],
        };
        let mut out = Vec::new();
        for table in table_names {
            let mut schema: Option<SchemaRef> = None;
            let mut batches = Vec::new();
            for (cell, values, tables) in &cells {
                let path = tables
                    .iter()
                    .find(|(t, _)| *t == table)
                    .map(|(_, p)| p)
                    .ok_or_else(|| {
                        ctx.fail(format!(
                            "cell `{cell}` has no table `{}`",
                            table.as_deref().unwrap_or("(main)")
                        ))
                    })?;
                let (cell_schema, cell_batches) = crate::table::read_parquet(path)?;
                let stacked_schema = with_params(params, &types, &cell_schema);
                match &schema {
                    None => schema = Some(Arc::clone(&stacked_schema)),
                    Some(s) if s.fields() != stacked_schema.fields() => {
                        return Err(ctx.fail(format!(
                            "cell `{cell}` wrote table `{}` with columns {} but the first cell wrote {}",
                            table.as_deref().unwrap_or("(main)"),
                            crate::table::describe_schema(&cell_schema).join(", "),
                            crate::table::describe_schema(s).into_iter().skip(params.len()).collect::<Vec<_>>().join(", "),
                        ))
                        .with_hint("every cell of a sweep must write the same columns: make the types independent of the swept params"));
                    }
                    _ => {}
                }
                for b in cell_batches {
                    let mut columns: Vec<ArrayRef> = values
                        .iter()
                        .zip(&types)
                        .map(|((_, v), t)| constant(v, t, b.num_rows()))
                        .collect();
                    columns.extend(b.columns().iter().cloned());
                    let stacked = RecordBatch::try_new(Arc::clone(&stacked_schema), columns)
                        .map_err(|e| ctx.fail(format!("cannot stack cell `{cell}`: {e}")))?;
                    batches.push(stacked);
                }
            }
            let schema = schema.unwrap_or_else(|| Arc::new(Schema::empty()));
            out.push(OutputTable {
                name: table,
                schema,
                batches,
                ordered: false,
                written: None,
            });
        }
        Ok(out)
    }
}

fn column_type<'a>(values: impl Iterator<Item = &'a serde_json::Value> + Clone) -> DataType {
    if values.clone().all(|v| v.is_i64() || v.is_u64()) {
        DataType::Int64
    } else if values.clone().all(serde_json::Value::is_number) {
        DataType::Float64
    } else if values.clone().all(serde_json::Value::is_boolean) {
        DataType::Boolean
    } else {
        DataType::Utf8
    }
}

fn with_params(params: &[String], types: &[DataType], cell: &SchemaRef) -> SchemaRef {
    let mut fields: Vec<Field> = params
        .iter()
        .zip(types)
        .map(|(p, t)| Field::new(p, t.clone(), false))
        .collect();
    fields.extend(cell.fields().iter().map(|f| f.as_ref().clone()));
    Arc::new(Schema::new(fields))
}

fn constant(v: &serde_json::Value, t: &DataType, rows: usize) -> ArrayRef {
    match t {
        DataType::Int64 => Arc::new(Int64Array::from(vec![v.as_i64().unwrap_or_default(); rows])),
        DataType::Float64 => Arc::new(Float64Array::from(vec![
            v.as_f64().unwrap_or(f64::NAN);
            rows
        ])),
        DataType::Boolean => Arc::new(BooleanArray::from(vec![
            v.as_bool().unwrap_or_default();
            rows
        ])),
        DataType::Utf8 => {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => matrix::render(other),
            };
            Arc::new(StringArray::from(vec![text; rows]))
        }
        other => new_null_array(other, rows),
    }
}
