//! Reading and writing the Parquet tables stages exchange. Writing is where determinism is
//! made: rows sorted by every column, one batch, fixed writer settings, no timestamps — so the
//! same rows give the same bytes whatever the scheduling was.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::{
    concat_batches, lexsort_to_indices, take_record_batch, SortColumn, SortOptions,
};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory,
};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::errors::{ParquetError, Result as ParquetResult};
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use datafusion::parquet::file::writer::SerializedFileWriter;

use crate::error::{Error, Result};
use crate::hash::HashingWriter;

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

/// A temporary file beside `dest` for its new content (the folder made if need be).
fn temp_beside(dest: &Path) -> Result<(File, PathBuf)> {
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
    tmp.keep()
        .map_err(|e| Error::io("create a temporary file in", dir, e.error))
}

/// Write one table to a temporary file beside `dest`, fsynced; `commit` renames it into place.
/// Nothing is visible at `dest` until then, so a failure leaves the old file untouched.
pub fn write_temp(
    dest: &Path,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    ordered: bool,
) -> Result<Written> {
    let sorted = if ordered {
        concat_batches(schema, batches)
            .map_err(|e| Error::data(dest, format!("cannot combine output batches: {e}")))?
    } else {
        canonical_sort(schema, batches)?
    };
    let (file, temp) = temp_beside(dest)?;
    let result = (|| -> Result<(usize, String, u64)> {
        let fail = |e: ParquetError| Error::data(dest, format!("cannot write Parquet: {e}"));
        let mut encoder =
            Encoder::new(&file, Arc::clone(schema), Writes::RowGroups, 1).map_err(fail)?;
        encoder.push(sorted).map_err(fail)?;
        let (rows, sha256, bytes) = encoder.finish().map_err(fail)?;
        file.sync_all().map_err(|e| Error::io("flush", &temp, e))?;
        Ok((rows, sha256, bytes))
    })();
    finished(temp, result)
}

/// The temporary file as written, or removed when writing failed.
fn finished(temp: PathBuf, result: Result<(usize, String, u64)>) -> Result<Written> {
    match result {
        Ok((rows, sha256, bytes)) => {
            crate::fsio::set_readable(&temp);
            Ok(Written {
                temp,
                rows,
                bytes,
                sha256,
            })
        }
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// Rows per write handed to a Parquet column writer. A multiple of the writer's mini-batch
/// (1,024 rows), so its pages fall where they would for the same rows in one batch: the bytes
/// depend on the rows, not on how a query happened to batch them.
const STREAM_CHUNK: usize = 8 * 1024;

/// Why writing a stream of batches failed.
#[derive(Debug)]
pub enum StreamError {
    /// The stream did: the query that produces the rows, with DataFusion's own error, so the
    /// caller can tell a query that ran out of memory from one that is wrong.
    Query(DataFusionError),
    /// Writing the file did.
    Write(Error),
}

/// Write a stream of batches — already in canonical order (a SQL stage sorts its result) —
/// to a temporary file beside `dest`, without holding more than a row group in memory.
/// The Parquet encoding runs on a thread of its own (`encode_chunks`), its columns on
/// `threads` threads ([`Encoder`]), so the query produces the next batches while the last are
/// compressed; a bounded channel between them keeps a slow disk from queueing the whole
/// result. Nothing is left behind when it fails.
pub async fn write_stream_temp(
    dest: &Path,
    mut stream: datafusion::execution::SendableRecordBatchStream,
    threads: usize,
) -> Result<Written, StreamError> {
    use futures::StreamExt;
    let schema = stream.schema();
    let (file, temp) = temp_beside(dest).map_err(StreamError::Write)?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<RecordBatch>(4);
    let (to, at) = (dest.to_path_buf(), temp.clone());
    let encoder = match std::thread::Builder::new()
        .name("canary-parquet".into())
        .spawn(move || encode_chunks(&to, &at, file, schema, rx, threads))
    {
        Ok(handle) => handle,
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            return Err(StreamError::Write(Error::io(
                "start the Parquet writer for",
                dest,
                e,
            )));
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
                failed = Some(e);
                break;
            }
        }
    }
    drop(tx);
    let encoded = encoder
        .join()
        .unwrap_or_else(|_| Err(Error::data(dest, "the Parquet writer stopped unexpectedly")));
    if let Some(e) = failed {
        let _ = std::fs::remove_file(&temp);
        return Err(StreamError::Query(e));
    }
    finished(temp, encoded).map_err(StreamError::Write)
}

/// The Parquet side of `write_stream_temp`: batches as they come, handed to an [`Encoder`];
/// the file is closed and flushed to disk. Returns the rows, the SHA-256 and the bytes.
fn encode_chunks(
    dest: &Path,
    temp: &Path,
    file: File,
    schema: SchemaRef,
    batches: std::sync::mpsc::Receiver<RecordBatch>,
    threads: usize,
) -> Result<(usize, String, u64)> {
    let fail = |e: ParquetError| Error::data(dest, format!("cannot write Parquet: {e}"));
    let mut encoder = Encoder::new(&file, schema, Writes::Chunks, threads).map_err(fail)?;
    for b in batches {
        encoder.push(b).map_err(fail)?;
    }
    let written = encoder.finish().map_err(fail)?;
    file.sync_all().map_err(|e| Error::io("flush", temp, e))?;
    Ok(written)
}

/// How many rows each column writer is handed at a time. The Parquet writer ends pages where
/// its writes end (for a column whose definition levels are all alike, only there or every
/// 20,000 rows), so the same rows written in other pieces can be paged, hence encoded,
/// differently. Each way of writing keeps its pieces fixed, so its bytes depend on the rows
/// alone; the two ways are kept as they have always been, so the outputs in `pipeline.lock`
/// keep their hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writes {
    /// `STREAM_CHUNK` rows at a time: a SQL stage's streamed result.
    Chunks,
    /// A row group at a time: a kind's collected table, as `ArrowWriter` writes one batch.
    RowGroups,
}

/// Rows encoded at a time: the columns of this many rows are encoded side by side, one task a
/// column. A multiple of `STREAM_CHUNK` that divides the row group's rows, so a row group is
/// always a whole number of them.
const ENCODE_ROWS: usize = 8 * STREAM_CHUNK;

/// Encodes batches into Parquet with the canonical writer settings, so that the bytes depend
/// on the rows alone, and encodes the columns in parallel.
///
/// The bytes are those `ArrowWriter` writes when handed the rows `STREAM_CHUNK` at a time —
/// the writer's own encoder, column writers and row-group layout, driven through its
/// lower-level API (`into_serialized_writer`, one `ArrowColumnWriter` per leaf column) so that
/// the columns of each block of `ENCODE_ROWS` rows are encoded on `threads` threads, while the
/// row group finished before them is appended to the file. Each column writer still sees its
/// column's values in order and in the same writes, and the finished column chunks are
/// appended in schema order, so neither the threads nor how the rows arrived can change a byte
/// (tested against `ArrowWriter` itself).
pub struct Encoder<W: Write + Send> {
    file: SerializedFileWriter<HashingWriter<W>>,
    row_groups: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    /// Rows a row group holds before the next begins.
    group_size: usize,
    /// Rows per write to a column writer (`Writes`), and per block encoded at once.
    write_rows: usize,
    block_rows: usize,
    /// Parquet leaf columns per field (more than one for a struct), known from the first rows.
    leaves: Option<Vec<usize>>,
    /// The open row group's column writers, by field.
    columns: Vec<Vec<ArrowColumnWriter>>,
    /// A finished row group's column chunks, not yet in the file.
    closed: Option<Vec<ArrowColumnChunk>>,
    group_rows: usize,
    groups: usize,
    rows: usize,
    /// Whole writes waiting for their block.
    chunks: Vec<RecordBatch>,
    /// Rows short of a whole write.
    partial: Vec<RecordBatch>,
    partial_rows: usize,
    threads: usize,
    /// Started at the first block that is encoded in parallel: small tables never start one.
    pool: Option<rayon::ThreadPool>,
}

impl<W: Write + Send> Encoder<W> {
    pub fn new(out: W, schema: SchemaRef, writes: Writes, threads: usize) -> ParquetResult<Self> {
        let props = writer_properties();
        let group_size = props.max_row_group_row_count().unwrap_or(usize::MAX);
        debug_assert!(group_size.is_multiple_of(ENCODE_ROWS));
        let (write_rows, block_rows) = match writes {
            Writes::Chunks => (STREAM_CHUNK, ENCODE_ROWS),
            Writes::RowGroups => (group_size, group_size),
        };
        let writer =
            ArrowWriter::try_new(HashingWriter::new(out), Arc::clone(&schema), Some(props))?;
        let (file, row_groups) = writer.into_serialized_writer()?;
        Ok(Encoder {
            file,
            row_groups,
            schema,
            group_size,
            write_rows,
            block_rows,
            leaves: None,
            columns: Vec::new(),
            closed: None,
            group_rows: 0,
            groups: 0,
            rows: 0,
            chunks: Vec::new(),
            partial: Vec::new(),
            partial_rows: 0,
            threads: threads.max(1),
            pool: None,
        })
    }

    /// Take rows, cut into whole writes (copied only where a write spans two batches); they
    /// are encoded once a block is complete.
    pub fn push(&mut self, batch: RecordBatch) -> ParquetResult<()> {
        let (n, size) = (batch.num_rows(), self.write_rows);
        let mut at = 0;
        if self.partial_rows > 0 {
            let take = (size - self.partial_rows).min(n);
            self.partial.push(batch.slice(0, take));
            self.partial_rows += take;
            at = take;
            if self.partial_rows == size {
                let chunk = self.take_partial()?;
                self.add_chunk(chunk)?;
            }
        }
        while n - at >= size {
            self.add_chunk(batch.slice(at, size))?;
            at += size;
        }
        if at < n {
            self.partial.push(batch.slice(at, n - at));
            self.partial_rows += n - at;
        }
        Ok(())
    }

    /// Encode what is left and write the footer: the rows, the SHA-256 of the bytes written
    /// and their number.
    pub fn finish(mut self) -> ParquetResult<(usize, String, u64)> {
        if self.partial_rows > 0 {
            let chunk = self.take_partial()?;
            self.chunks.push(chunk);
        }
        if !self.chunks.is_empty() {
            self.encode()?;
        }
        self.close_group()?;
        if let Some(closed) = self.closed.take() {
            append_group(&mut self.file, closed)?;
        }
        let (_, sha256, bytes) = self.file.into_inner()?.finish();
        Ok((self.rows, sha256, bytes))
    }

    fn take_partial(&mut self) -> ParquetResult<RecordBatch> {
        let mut pieces = std::mem::take(&mut self.partial);
        self.partial_rows = 0;
        Ok(match pieces.len() {
            1 => pieces.pop().expect("one piece"),
            _ => concat_batches(&self.schema, pieces.iter())?,
        })
    }

    fn add_chunk(&mut self, chunk: RecordBatch) -> ParquetResult<()> {
        self.chunks.push(chunk);
        if self.chunks.len() * self.write_rows >= self.block_rows {
            self.encode()?;
        }
        Ok(())
    }

    /// The waiting writes (one block, inside one row group), each column's on a thread of the
    /// pool when there is more than one thread and more than a write's worth of rows, beside
    /// the append of the row group finished before.
    fn encode(&mut self) -> ParquetResult<()> {
        let chunks = std::mem::take(&mut self.chunks);
        let fields = self.schema.fields().clone();
        if self.leaves.is_none() {
            let counts = fields
                .iter()
                .zip(chunks[0].columns())
                .map(|(f, c)| Ok(compute_leaves(f, &c.slice(0, 0))?.len()))
                .collect::<ParquetResult<Vec<usize>>>()?;
            self.leaves = Some(counts);
        }
        if self.columns.is_empty() {
            self.open_group()?;
        }
        let write_field = |(i, writers): (usize, &mut Vec<ArrowColumnWriter>)| {
            for chunk in &chunks {
                let leaves = compute_leaves(&fields[i], chunk.column(i))?;
                for (w, leaf) in writers.iter_mut().zip(&leaves) {
                    w.write(leaf)?;
                }
            }
            Ok::<(), ParquetError>(())
        };
        let closed = self.closed.take();
        let file = &mut self.file;
        let append = move || match closed {
            Some(closed) => append_group(file, closed),
            None => Ok(()),
        };
        let columns = &mut self.columns;
        let rows: usize = chunks.iter().map(|c| c.num_rows()).sum();
        if self.threads > 1 && rows > STREAM_CHUNK {
            let pool = pool(&mut self.pool, self.threads)?;
            pool.install(|| {
                use rayon::prelude::*;
                let (appended, encoded) = rayon::join(append, || {
                    columns.par_iter_mut().enumerate().try_for_each(write_field)
                });
                appended.and(encoded)
            })?;
        } else {
            append()?;
            columns.iter_mut().enumerate().try_for_each(write_field)?;
        }
        self.rows += rows;
        self.group_rows += rows;
        if self.group_rows >= self.group_size {
            self.close_group()?;
        }
        Ok(())
    }

    fn open_group(&mut self) -> ParquetResult<()> {
        let mut all = self
            .row_groups
            .create_column_writers(self.groups)?
            .into_iter();
        let leaves = self.leaves.as_deref().unwrap_or_default();
        self.columns = leaves
            .iter()
            .map(|&n| all.by_ref().take(n).collect())
            .collect();
        Ok(())
    }

    /// The open row group's column chunks, finished; the next block's encoding appends them.
    fn close_group(&mut self) -> ParquetResult<()> {
        if self.group_rows == 0 {
            return Ok(());
        }
        if let Some(earlier) = self.closed.take() {
            append_group(&mut self.file, earlier)?;
        }
        let writers: Vec<ArrowColumnWriter> = std::mem::take(&mut self.columns)
            .into_iter()
            .flatten()
            .collect();
        let close = |w: ArrowColumnWriter| w.close();
        let chunks: Vec<ArrowColumnChunk> = match &self.pool {
            Some(pool) => pool.install(|| {
                use rayon::prelude::*;
                writers
                    .into_par_iter()
                    .map(close)
                    .collect::<ParquetResult<_>>()
            })?,
            None => writers
                .into_iter()
                .map(close)
                .collect::<ParquetResult<_>>()?,
        };
        self.closed = Some(chunks);
        self.groups += 1;
        self.group_rows = 0;
        Ok(())
    }
}

/// A row group's column chunks appended to the file, in schema order.
fn append_group<W: Write + Send>(
    file: &mut SerializedFileWriter<W>,
    chunks: Vec<ArrowColumnChunk>,
) -> ParquetResult<()> {
    let mut group = file.next_row_group()?;
    for chunk in chunks {
        chunk.append_to_row_group(&mut group)?;
    }
    group.close()?;
    Ok(())
}

/// The encoder's pool, started on first use.
fn pool(pool: &mut Option<rayon::ThreadPool>, threads: usize) -> ParquetResult<&rayon::ThreadPool> {
    if pool.is_none() {
        let started = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("canary-parquet-{i}"))
            .build()
            .map_err(|e| {
                ParquetError::General(format!("cannot start the encoder's threads: {e}"))
            })?;
        *pool = Some(started);
    }
    Ok(pool.as_ref().expect("started above"))
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

    /// The same rows streamed in any batching are the same bytes (and, for these columns —
    /// no nullable one without nulls — those of the rows collected in one batch).
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
                    2,
                ))
                .unwrap();
            assert_eq!(
                (w.sha256.as_str(), w.rows),
                (one.sha256.as_str(), n as usize),
                "batching {cuts:?}"
            );
        }
    }

    /// The parallel encoder writes the bytes `ArrowWriter` itself writes for the same rows
    /// handed over `STREAM_CHUNK` at a time — over several row groups (the last one short),
    /// with a struct of two leaf columns and a list among the columns, whatever the threads and
    /// however the rows arrive.
    #[test]
    fn the_parallel_encoder_writes_the_bytes_arrow_writer_writes() {
        use datafusion::arrow::array::{BooleanArray, Int32Array, ListArray, StructArray};
        use datafusion::arrow::datatypes::{Fields, Int32Type};
        let n = 2 * (1 << 20) + 12_345;
        let inner = Fields::from(vec![
            Field::new("a", DataType::Int32, false),
            Field::new("b", DataType::Utf8, true),
        ]);
        let schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
            Field::new("v", DataType::Float64, false),
            Field::new("flag", DataType::Boolean, true),
            Field::new("score", DataType::Float64, true),
            Field::new("pair", DataType::Struct(inner.clone()), false),
            Field::new_list("codes", Field::new_list_field(DataType::Int32, true), true),
        ]));
        let whole = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from_iter_values(0..n as i64)),
                Arc::new(StringArray::from_iter((0..n).map(|i| {
                    (i % 11 != 0).then(|| ["north", "south", "east", "west"][i % 4])
                }))),
                Arc::new(Float64Array::from_iter_values(
                    (0..n).map(|i| (i * 7919 % 10_007) as f64 / 3.0),
                )),
                Arc::new(BooleanArray::from_iter(
                    (0..n).map(|i| (i % 5 != 0).then_some(i % 3 == 0)),
                )),
                Arc::new(Float64Array::from_iter(
                    (0..n).map(|i| Some(i as f64 / 7.0)),
                )),
                Arc::new(StructArray::new(
                    inner,
                    vec![
                        Arc::new(Int32Array::from_iter_values(
                            (0..n).map(|i| (i % 1000) as i32),
                        )),
                        Arc::new(StringArray::from_iter(
                            (0..n).map(|i| (i % 7 != 0).then(|| format!("b{}", i % 50))),
                        )),
                    ],
                    None,
                )),
                Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(
                    (0..n).map(|i| {
                        (i % 9 != 0).then(|| (0..(i % 4) as i32).map(Some).collect::<Vec<_>>())
                    }),
                )),
            ],
        )
        .unwrap();
        let reference = |writes: Writes| {
            let props = Some(writer_properties());
            let mut w = ArrowWriter::try_new(Vec::new(), Arc::clone(&schema), props).unwrap();
            match writes {
                Writes::Chunks => {
                    for at in (0..n).step_by(STREAM_CHUNK) {
                        w.write(&whole.slice(at, STREAM_CHUNK.min(n - at))).unwrap();
                    }
                }
                Writes::RowGroups => w.write(&whole).unwrap(),
            }
            crate::hash::sha256_bytes(&w.into_inner().unwrap())
        };
        let (chunks, groups) = (reference(Writes::Chunks), reference(Writes::RowGroups));
        // `score` is nullable without a null: its pages end where the writes do, so the two
        // ways of writing differ — which is why each keeps its own.
        assert_ne!(chunks, groups);
        for (writes, expected) in [(Writes::Chunks, &chunks), (Writes::RowGroups, &groups)] {
            for (threads, cuts) in [
                (1, vec![n]),
                (3, vec![n]),
                (3, vec![1000, 7777, 1 << 20, 3]),
                (2, vec![8192; 3]),
            ] {
                let mut encoder =
                    Encoder::new(Vec::new(), Arc::clone(&schema), writes, threads).unwrap();
                let mut at = 0;
                for cut in cuts.iter().cycle() {
                    if at == n {
                        break;
                    }
                    let len = (*cut).min(n - at);
                    encoder.push(whole.slice(at, len)).unwrap();
                    at += len;
                }
                let (rows, sha256, _) = encoder.finish().unwrap();
                assert_eq!(
                    (rows, &sha256),
                    (n, expected),
                    "{writes:?}, {threads} threads, cut {cuts:?}"
                );
            }
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
