//! `canary sql`: ad-hoc SQL over the current outputs. Every output table that exists is
//! registered under its stage name (a multi-table stage's tables as `<stage>_<table>`).
//! Numbers print in full precision, so what a reviewer copies is what the file holds.

use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::FormatOptions;
use datafusion::arrow::util::pretty::pretty_format_batches_with_options;
use datafusion::arrow::{csv, json};

use crate::error::{Error, Result};
use crate::pipeline::Pipeline;
use crate::session::{register_file, runtime, session, strip_datafusion_noise};
use crate::stage::Registry;

pub fn run(p: &Pipeline, registry: &Registry, query: &str, format: Format) -> Result<()> {
    let ctx = session();
    let rt = runtime()?;
    let batches = rt.block_on(async {
        let mut registered = 0;
        let mut names: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for name in &p.order {
            let stage = &p.stages[name];
            // A sweep's cells are seen through its stacked tables.
            if stage.parent().is_some() {
                continue;
            }
            let aliases = registry
                .get(&stage.kind)
                .map(|k| k.sql_aliases())
                .unwrap_or_default();
            for (table, path) in p.output_paths(stage) {
                if path.is_file() {
                    let table_name = Pipeline::sql_table_name(name, table.as_deref());
                    register_file(&ctx, &table_name, &path).await?;
                    names.insert(table_name);
                    for (t, alias) in &aliases {
                        if table.as_deref() == Some(t.as_str()) {
                            register_file(&ctx, alias, &path).await?;
                            names.insert(alias.clone());
                        }
                    }
                    registered += 1;
                }
            }
        }
        if let Err(r) = crate::sandbox::check(query, crate::sandbox::Mode::Adhoc, &names) {
            let at = if query.lines().nth(1).is_some() {
                format!(" (line {}, column {})", r.line, r.column)
            } else {
                String::new()
            };
            let statement = crate::error::excerpt(
                query
                    .lines()
                    .nth(r.line.saturating_sub(1))
                    .unwrap_or(query)
                    .trim(),
                120,
            );
            return Err(Error::usage(format!(
                "the query is refused{at}: {}\n  in: {statement}",
                r.message
            ))
            .with_hint(r.hint));
        }
        let df = ctx
            .sql_with_options(query, crate::sandbox::options())
            .await
            .map_err(|e| {
                let hint = if registered == 0 {
                    "no outputs exist yet: run `canary run` first".to_string()
                } else {
                    "`canary sql \"show tables\"` lists the tables; `canary dag` the stages"
                        .to_string()
                };
                Error::usage(format!(
                    "query failed: {}",
                    strip_datafusion_noise(&e.to_string())
                ))
                .with_hint(hint)
            })?;
        let schema = df.schema().as_arrow().clone();
        let batches = df.collect().await.map_err(|e| {
            Error::usage(format!(
                "query failed: {}",
                strip_datafusion_noise(&e.to_string())
            ))
        })?;
        Ok::<_, Error>((schema, batches))
    })?;
    let (schema, batches) = batches;
    let rendered = render(&schema, &batches, format)?;
    crate::console::out(&rendered)
}

/// How `canary sql` prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Arrow's pretty table, with a row count below it.
    Table,
    Csv,
    /// An array of objects, one per row; nulls are `null`.
    Json,
}

/// The result in `format`, by arrow's own printer and writers: every float in its shortest
/// representation that reads back to the same value, so what a reviewer copies is what the
/// file holds.
pub fn render(schema: &Schema, batches: &[RecordBatch], format: Format) -> Result<String> {
    let fail = |e: ArrowError| Error::usage(format!("cannot format the result: {e}"));
    // With no batches the printers print nothing, not even the header.
    let empty = [RecordBatch::new_empty(std::sync::Arc::new(schema.clone()))];
    let batches = if batches.is_empty() {
        &empty[..]
    } else {
        batches
    };
    let mut out = Vec::new();
    match format {
        Format::Table => {
            let options = FormatOptions::default().with_null("NULL");
            let table = pretty_format_batches_with_options(batches, &options).map_err(fail)?;
            let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
            let plural = if rows == 1 { "" } else { "s" };
            return Ok(format!("{table}\n{rows} row{plural}\n"));
        }
        Format::Csv => {
            let mut w = csv::WriterBuilder::new().with_header(true).build(&mut out);
            for b in batches {
                w.write(b).map_err(fail)?;
            }
        }
        Format::Json => {
            let mut w = json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, json::writer::JsonArray>(&mut out);
            for b in batches {
                w.write(b).map_err(fail)?;
            }
            w.finish().map_err(fail)?;
            out.push(b'\n');
        }
    }
    String::from_utf8(out).map_err(|e| Error::usage(format!("cannot format the result: {e}")))
}
