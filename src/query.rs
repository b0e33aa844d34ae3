//! `canary sql`: ad-hoc SQL over the current outputs. Every output table that exists is
//! registered under its stage name (a multi-table stage's tables as `<stage>_<table>`).
//! Numbers print in full precision, so what a reviewer copies is what the file holds.

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::cli::SqlFormat;
use crate::error::{Error, Result};
use crate::kinds::sql::{register_file, runtime, session, strip_datafusion_noise};
use crate::kinds::Registry;
use crate::pipeline::Pipeline;

pub fn run(p: &Pipeline, registry: &Registry, query: &str, format: SqlFormat) -> Result<()> {
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
    let rendered = match format {
        SqlFormat::Table => render_table(&schema, &batches),
        SqlFormat::Csv => render_csv(&schema, &batches),
        SqlFormat::Json => render_json(&schema, &batches),
    }?;
    crate::console::out(&rendered)
}

fn cells(batches: &[RecordBatch]) -> Result<Vec<Vec<Option<String>>>> {
    let opts = FormatOptions::default().with_null("");
    let mut rows = Vec::new();
    for b in batches {
        let fmts = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::usage(format!("cannot format result: {e}")))?;
        for r in 0..b.num_rows() {
            rows.push(
                b.columns()
                    .iter()
                    .zip(&fmts)
                    .map(|(c, f)| {
                        if c.is_null(r) {
                            None
                        } else {
                            Some(f.value(r).to_string())
                        }
                    })
                    .collect(),
            );
        }
    }
    Ok(rows)
}

fn render_table(
    schema: &datafusion::arrow::datatypes::Schema,
    batches: &[RecordBatch],
) -> Result<String> {
    let header: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let rows = cells(batches)?;
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.as_deref().unwrap_or("NULL").chars().count());
        }
    }
    let line = |s: &mut String| {
        s.push('+');
        for w in &width {
            s.push_str(&"-".repeat(w + 2));
            s.push('+');
        }
        s.push('\n');
    };
    let mut s = String::new();
    line(&mut s);
    s.push('|');
    for (h, w) in header.iter().zip(&width) {
        s.push_str(&format!(" {h:<w$} |"));
    }
    s.push('\n');
    line(&mut s);
    for r in &rows {
        s.push('|');
        for (c, w) in r.iter().zip(&width) {
            s.push_str(&format!(" {:<w$} |", c.as_deref().unwrap_or("NULL")));
        }
        s.push('\n');
    }
    line(&mut s);
    s.push_str(&format!(
        "{} row{}\n",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    ));
    Ok(s)
}

fn render_csv(
    schema: &datafusion::arrow::datatypes::Schema,
    batches: &[RecordBatch],
) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    w.write_record(&header)
        .map_err(|e| Error::usage(e.to_string()))?;
    for r in cells(batches)? {
        w.write_record(r.iter().map(|c| c.as_deref().unwrap_or("")))
            .map_err(|e| Error::usage(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| Error::usage(e.to_string()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn render_json(
    schema: &datafusion::arrow::datatypes::Schema,
    batches: &[RecordBatch],
) -> Result<String> {
    use datafusion::arrow::datatypes::DataType;
    let rows = cells(batches)?;
    let mut out = Vec::new();
    for r in rows {
        let mut obj = serde_json::Map::new();
        for (f, c) in schema.fields().iter().zip(r) {
            let v = match c {
                None => serde_json::Value::Null,
                Some(s) if f.data_type().is_numeric() => {
                    // Keep the digits exactly as formatted (shortest round-trip).
                    serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s))
                }
                Some(s) if *f.data_type() == DataType::Boolean => {
                    serde_json::Value::Bool(s == "true")
                }
                Some(s) => serde_json::Value::String(s),
            };
            obj.insert(f.name().clone(), v);
        }
        out.push(serde_json::Value::Object(obj));
    }
    Ok(serde_json::to_string_pretty(&out).unwrap_or_default() + "\n")
}
