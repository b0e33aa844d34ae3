//! Reading and writing the Parquet tables stages exchange. Writing is where determinism is
//! made: rows sorted by every column, one batch, fixed writer settings, no timestamps — so the
//! same rows give the same bytes whatever the scheduling was.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::{
    concat_batches, lexsort_to_indices, take_record_batch, SortColumn, SortOptions,
};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};

use crate::error::{Error, Result};

/// Written into every file instead of the library's own string, so a dependency update that
/// only changes that string does not change the bytes.
const CREATED_BY: &str = "canary";

/// Put rows in one canonical order: every sortable column, left to right, nulls first.
pub fn canonical_sort(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<RecordBatch> {
    let batch = concat_batches(schema, batches)
        .map_err(|e| Error::data("<output>", format!("cannot combine output batches: {e}")))?;
    if batch.num_rows() < 2 {
        return Ok(batch);
    }
    let columns: Vec<SortColumn> = batch
        .columns()
        .iter()
        .filter(|c| sortable(c.data_type()))
        .map(|c: &ArrayRef| SortColumn {
            values: Arc::clone(c),
            options: Some(SortOptions {
                descending: false,
                nulls_first: true,
            }),
        })
        .collect();
    if columns.is_empty() {
        return Ok(batch);
    }
    let indices = lexsort_to_indices(&columns, None)
        .map_err(|e| Error::data("<output>", format!("cannot sort output rows: {e}")))?;
    take_record_batch(&batch, &indices)
        .map_err(|e| Error::data("<output>", format!("cannot reorder output rows: {e}")))
}

/// Whether rows can be put in order by a column of this type (lists and structs cannot).
pub fn sortable(t: &DataType) -> bool {
    t.is_primitive()
        || matches!(
            t,
            DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Utf8View
                | DataType::Boolean
                | DataType::Binary
                | DataType::LargeBinary
        )
}

fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_compression(Compression::SNAPPY)
        .set_created_by(CREATED_BY.to_string())
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_max_row_group_row_count(Some(1 << 20))
        .build()
}

/// The prefix of a table's temporary files: `.tmp-<file name>-`, so that the temps a killed
/// run left can be told apart per output while other stages write beside them.
pub fn temp_prefix(dest: &Path) -> String {
    format!(
        ".tmp-{}-",
        dest.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    )
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Written {
    pub temp: PathBuf,
    pub rows: usize,
    pub bytes: u64,
    pub sha256: String,
}

/// Write one table to a temporary file beside `dest`, fsynced; `commit` renames it into place.
/// Nothing is visible at `dest` until then, so a failure leaves the old file untouched.
pub fn write_temp(
    dest: &Path,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    ordered: bool,
) -> Result<Written> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::io("create the output folder", dir, e)
            .with_hint("check that the project folder is writable")
    })?;
    let sorted = if ordered {
        concat_batches(schema, batches)
            .map_err(|e| Error::data(dest, format!("cannot combine output batches: {e}")))?
    } else {
        canonical_sort(schema, batches)?
    };
    let tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(dest))
        .suffix(".parquet")
        .tempfile_in(dir)
        .map_err(|e| {
            Error::io("create a temporary file in", dir, e)
                .with_hint("check that the output folder is writable and the disk is not full")
        })?;
    let (file, temp) = tmp
        .keep()
        .map_err(|e| Error::io("create a temporary file in", dir, e.error))?;
    let result = (|| -> Result<()> {
        let mut w = ArrowWriter::try_new(&file, Arc::clone(schema), Some(writer_properties()))
            .map_err(|e| Error::data(dest, format!("cannot start writing Parquet: {e}")))?;
        w.write(&sorted)
            .map_err(|e| Error::data(dest, format!("cannot write Parquet: {e}")))?;
        w.close()
            .map_err(|e| Error::data(dest, format!("cannot finish Parquet file: {e}")))?;
        file.sync_all().map_err(|e| Error::io("flush", &temp, e))?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    crate::fsio::set_readable(&temp);
    let sha256 = crate::hash::sha256_file(&temp)?;
    let bytes = std::fs::metadata(&temp).map(|m| m.len()).unwrap_or(0);
    Ok(Written {
        temp,
        rows: sorted.num_rows(),
        bytes,
        sha256,
    })
}

/// Rows per batch handed to the Parquet writer when streaming. A multiple of the writer's
/// mini-batch (1,024 rows), so its pages fall where they would for the same rows in one
/// batch: the bytes depend on the rows, not on how a query happened to batch them.
const STREAM_CHUNK: usize = 8 * 1024;

/// Write a stream of batches — already in canonical order (a SQL stage sorts its result) —
/// to a temporary file beside `dest`, without holding more than a few row groups in memory.
/// The Parquet encoding runs on a thread of its own (`encode_chunks`), so the query produces
/// the next batches while the last are compressed; a bounded channel between them keeps a
/// slow disk from queueing the whole result.
pub async fn write_stream_temp(
    dest: &Path,
    mut stream: datafusion::execution::SendableRecordBatchStream,
) -> Result<Written> {
    use futures::StreamExt;
    let schema = stream.schema();
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::io("create the output folder", dir, e)
            .with_hint("check that the project folder is writable")
    })?;
    let tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(dest))
        .suffix(".parquet")
        .tempfile_in(dir)
        .map_err(|e| {
            Error::io("create a temporary file in", dir, e)
                .with_hint("check that the output folder is writable and the disk is not full")
        })?;
    let (file, temp) = tmp
        .keep()
        .map_err(|e| Error::io("create a temporary file in", dir, e.error))?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<RecordBatch>(4);
    let (to, at) = (dest.to_path_buf(), temp.clone());
    let encoder = match std::thread::Builder::new()
        .name("canary-parquet".into())
        .spawn(move || encode_chunks(&to, &at, file, schema, rx))
    {
        Ok(handle) => handle,
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            return Err(Error::io("start the Parquet writer for", dest, e));
        }
    };
    let mut failed = None;
    while let Some(next) = stream.next().await {
        match next {
            // A closed channel means the encoder stopped on an error, which `join` returns.
            Ok(b) => {
                if tx.send(b).is_err() {
                    break;
                }
            }
            Err(e) => {
                failed = Some(Error::data(
                    dest,
                    crate::session::strip_datafusion_noise(&e.to_string()).to_string(),
                ));
                break;
            }
        }
    }
    drop(tx);
    let encoded = encoder
        .join()
        .unwrap_or_else(|_| Err(Error::data(dest, "the Parquet writer stopped unexpectedly")));
    let rows = match (failed, encoded) {
        (None, Ok(rows)) => rows,
        (Some(e), _) | (None, Err(e)) => {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
    };
    crate::fsio::set_readable(&temp);
    let sha256 = crate::hash::sha256_file(&temp)?;
    let bytes = std::fs::metadata(&temp).map(|m| m.len()).unwrap_or(0);
    Ok(Written {
        temp,
        rows,
        bytes,
        sha256,
    })
}

/// The Parquet side of `write_stream_temp`: batches as they come, re-cut into row groups of
/// exactly `STREAM_CHUNK` rows (the last shorter), so the bytes depend on the rows alone and
/// not on how the query batched them; the file is closed and flushed to disk. Returns the rows.
fn encode_chunks(
    dest: &Path,
    temp: &Path,
    file: File,
    schema: SchemaRef,
    batches: std::sync::mpsc::Receiver<RecordBatch>,
) -> Result<usize> {
    let mut w = ArrowWriter::try_new(&file, Arc::clone(&schema), Some(writer_properties()))
        .map_err(|e| Error::data(dest, format!("cannot start writing Parquet: {e}")))?;
    let mut pending: Vec<RecordBatch> = Vec::new();
    let mut pending_rows = 0usize;
    let mut rows = 0usize;
    let flush =
        |pending: &mut Vec<RecordBatch>, all: bool, w: &mut ArrowWriter<&File>| -> Result<usize> {
            let batch = concat_batches(&schema, pending.iter())
                .map_err(|e| Error::data(dest, format!("cannot combine output batches: {e}")))?;
            pending.clear();
            let mut at = 0;
            while batch.num_rows() - at >= STREAM_CHUNK || (all && at < batch.num_rows()) {
                let len = STREAM_CHUNK.min(batch.num_rows() - at);
                w.write(&batch.slice(at, len))
                    .map_err(|e| Error::data(dest, format!("cannot write Parquet: {e}")))?;
                at += len;
            }
            if at < batch.num_rows() {
                pending.push(batch.slice(at, batch.num_rows() - at));
            }
            Ok(at)
        };
    for b in batches {
        pending_rows += b.num_rows();
        pending.push(b);
        if pending_rows >= STREAM_CHUNK {
            let written = flush(&mut pending, false, &mut w)?;
            rows += written;
            pending_rows -= written;
        }
    }
    rows += flush(&mut pending, true, &mut w)?;
    w.close()
        .map_err(|e| Error::data(dest, format!("cannot finish Parquet file: {e}")))?;
    file.sync_all().map_err(|e| Error::io("flush", temp, e))?;
    Ok(rows)
}

pub fn read_parquet(path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let file = File::open(path).map_err(|e| {
        Error::io("open the table", path, e)
            .with_hint("run the stage that writes it (`canary run`)")
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| Error::data(path, format!("not a readable Parquet file: {e}")))?;
    let schema = Arc::clone(builder.schema());
    let reader = builder
        .with_batch_size(65536)
        .build()
        .map_err(|e| Error::data(path, format!("cannot read Parquet: {e}")))?;
    let batches = reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::data(path, format!("cannot read Parquet: {e}")))?;
    Ok((schema, batches))
}

/// A schema as the lock records it: `name: type` per column, nullable marked with `?`.
pub fn describe_schema(schema: &SchemaRef) -> Vec<String> {
    schema
        .fields()
        .iter()
        .map(|f| {
            format!(
                "{}: {}{}",
                f.name(),
                f.data_type(),
                if f.is_nullable() { "?" } else { "" }
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    fn batch(ids: Vec<i64>, names: Vec<Option<&str>>, v: Vec<f64>) -> (SchemaRef, RecordBatch) {
        let schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
            Field::new("v", DataType::Float64, false),
        ]));
        let b = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from(ids)),
                Arc::new(StringArray::from(names)),
                Arc::new(Float64Array::from(v)),
            ],
        )
        .unwrap();
        (schema, b)
    }

    /// The same rows streamed in any batching are the bytes of one sorted batch.
    #[test]
    fn a_stream_in_any_batching_writes_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let n = 20_000;
        let ids: Vec<i64> = (0..n).collect();
        let names: Vec<Option<&str>> = (0..n)
            .map(|i| {
                if i % 7 == 0 {
                    None
                } else {
                    Some(["a", "b", "c"][i as usize % 3])
                }
            })
            .collect();
        let v: Vec<f64> = (0..n).map(|i| i as f64 / 3.0).collect();
        let (schema, whole) = batch(ids, names, v);
        let one = write_temp(
            &dir.path().join("one.parquet"),
            &schema,
            std::slice::from_ref(&whole),
            true,
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for cuts in [vec![n as usize], vec![7, 12_000, 7_993], vec![1000; 20]] {
            let mut at = 0;
            let parts: Vec<RecordBatch> = cuts
                .iter()
                .map(|c| {
                    let b = whole.slice(at, *c);
                    at += c;
                    b
                })
                .collect();
            let stream = datafusion::physical_plan::memory::MemoryStream::try_new(
                parts,
                Arc::clone(&schema),
                None,
            )
            .unwrap();
            let w = rt
                .block_on(write_stream_temp(
                    &dir.path().join("s.parquet"),
                    Box::pin(stream),
                ))
                .unwrap();
            assert_eq!(
                (w.sha256.as_str(), w.rows),
                (one.sha256.as_str(), n as usize),
                "batching {cuts:?}"
            );
        }
    }

    #[test]
    fn same_rows_in_any_order_give_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (schema, a) = batch(
            vec![2, 1, 3],
            vec![Some("b"), None, Some("c")],
            vec![0.5, 1.5, 2.5],
        );
        let (_, b1) = batch(vec![3], vec![Some("c")], vec![2.5]);
        let (_, b2) = batch(vec![1, 2], vec![None, Some("b")], vec![1.5, 0.5]);
        let w1 = write_temp(&dir.path().join("a.parquet"), &schema, &[a], false).unwrap();
        let w2 = write_temp(&dir.path().join("b.parquet"), &schema, &[b1, b2], false).unwrap();
        assert_eq!(w1.sha256, w2.sha256);
        assert_eq!(w1.rows, 3);
        crate::fsio::commit(&w1.temp, &dir.path().join("a.parquet")).unwrap();
        let (_, back) = read_parquet(&dir.path().join("a.parquet")).unwrap();
        let ids: Vec<i64> = back[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .values()
            .to_vec();
        assert_eq!(ids, vec![1, 2, 3]);
    }
}
