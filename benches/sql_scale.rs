//! SQL stages at record level, side by side with DuckDB: a deterministic synthetic table of
//! children's social care records (10 columns; 152 LAs × 15 years), at 1M, 10M and 100M rows,
//! and three queries run as canary SQL stages (`canary run <stage>`, the whole process) and by
//! DuckDB in one process on the same machine — wall time (the median of three runs up to 10M
//! rows, after one untimed run) and peak RSS of each, their ratio, and canary's fitted exponent
//! of time against rows. canary's first run of each stage is printed too: it also stores the
//! output in the cache, and the first stage's also hashes the new source.
//!
//! The table is generated in the order of its identifier, `child_id`, as extracts keyed by one
//! usually come, and canary finds that order and does not sort by it again
//! (`session::input_order`); the same rows with their identifiers scattered (a permutation of
//! them, so no order to find) are measured too, at 10M rows by default: what the canonical
//! sort costs an input in no order.
//!
//! `cargo bench --bench sql_scale` (`-- 1000000 10000000s` for chosen sizes, `s` for scattered
//! identifiers). DuckDB is the
//! Python `duckdb` package in a virtual environment the bench makes under `target/` (or the
//! `duckdb` CLI when it is on PATH); the bench prints which, and its version. The generated
//! tables are kept under `target/sql-scale/` between runs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use canary::hash::sha256_file;
use datafusion::arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;

const LAS: usize = 152;
const YEARS: i64 = 15;

const QUERIES: [(&str, &str); 3] = [
    (
        "group_by",
        "SELECT la_code, year, count(*) AS n, avg(days_to_assessment) AS mean_days, avg(cost) AS mean_cost, median(score) AS median_score FROM records GROUP BY la_code, year",
    ),
    (
        "case_when",
        "SELECT *, CASE WHEN days_to_assessment <= 10 THEN 'timely' WHEN days_to_assessment <= 45 THEN 'late' ELSE 'very late' END AS timeliness FROM records",
    ),
    (
        "join",
        "SELECT r.*, l.population FROM records r JOIN la_years l ON r.la_code = l.la_code AND r.year = l.year",
    ),
];

/// The records table's columns, in schema order.
type Columns = (
    Vec<i64>,
    Vec<String>,
    Vec<i64>,
    Vec<i64>,
    Vec<i64>,
    Vec<Option<f64>>,
    Vec<bool>,
    Vec<f64>,
    Vec<&'static str>,
    Vec<f64>,
);

/// SplitMix64: the same table on every machine.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn la_code(i: usize) -> String {
    format!("E{:08}", 6_000_000 + i)
}

fn records_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("child_id", DataType::Int64, false),
        Field::new("la_code", DataType::Utf8, false),
        Field::new("year", DataType::Int64, false),
        Field::new("age", DataType::Int64, false),
        Field::new("referrals", DataType::Int64, false),
        Field::new("days_to_assessment", DataType::Float64, true),
        Field::new("cp_plan", DataType::Boolean, false),
        Field::new("cost", DataType::Float64, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("score", DataType::Float64, false),
    ]))
}

/// The order of the records' identifiers.
#[derive(Clone, Copy, PartialEq)]
enum Ids {
    /// 0, 1, 2, …: the table in the order of `child_id`.
    Rising,
    /// A permutation of them: the table in no order canary can use.
    Scattered,
}

impl Ids {
    fn label(self) -> &'static str {
        match self {
            Ids::Rising => "rising",
            Ids::Scattered => "scattered",
        }
    }

    /// The `i`th row's identifier: for `Scattered`, `i` times an odd number that is no multiple
    /// of 5, modulo `rows` — a permutation when `rows` is a power of ten, as the sizes are.
    fn id(self, i: usize, rows: usize) -> i64 {
        match self {
            Ids::Rising => i as i64,
            Ids::Scattered => ((i as u128 * 2_654_435_761) % rows as u128) as i64,
        }
    }
}

/// The records table of `rows` rows, written once and kept.
fn records(dir: &Path, rows: usize, ids: Ids) -> PathBuf {
    let suffix = if ids == Ids::Scattered {
        "_scattered"
    } else {
        ""
    };
    let path = dir.join(format!("records_{rows}{suffix}.parquet"));
    if path.is_file() {
        return path;
    }
    eprintln!("generating {rows} rows…");
    let schema = records_schema();
    let tmp = path.with_extension("tmp");
    let file = std::fs::File::create(&tmp).unwrap();
    let mut w = ArrowWriter::try_new(file, Arc::clone(&schema), None).unwrap();
    let mut rng = Rng(2016);
    let categories = [
        "abuse",
        "neglect",
        "emotional",
        "family",
        "disability",
        "absent",
        "low_income",
        "socially",
        "dysfunction",
        "other",
    ];
    let chunk = 1 << 16;
    let mut done = 0;
    while done < rows {
        let n = chunk.min(rows - done);
        let mut cols: Columns = Default::default();
        for i in 0..n {
            let la = (rng.next() % LAS as u64) as usize;
            cols.0.push(ids.id(done + i, rows));
            cols.1.push(la_code(la));
            cols.2.push(2010 + (rng.next() % YEARS as u64) as i64);
            cols.3.push((rng.next() % 18) as i64);
            cols.4.push(1 + (rng.next() % 5) as i64);
            cols.5.push(if rng.next().is_multiple_of(20) {
                None
            } else {
                Some((rng.unit() * 60.0 * 100.0).round() / 100.0)
            });
            cols.6.push(rng.next().is_multiple_of(9));
            cols.7.push(rng.unit() * 10_000.0);
            cols.8.push(categories[(rng.next() % 10) as usize]);
            cols.9.push(rng.unit());
        }
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(cols.0)),
            Arc::new(StringArray::from(cols.1)),
            Arc::new(Int64Array::from(cols.2)),
            Arc::new(Int64Array::from(cols.3)),
            Arc::new(Int64Array::from(cols.4)),
            Arc::new(Float64Array::from(cols.5)),
            Arc::new(BooleanArray::from(cols.6)),
            Arc::new(Float64Array::from(cols.7)),
            Arc::new(StringArray::from(cols.8)),
            Arc::new(Float64Array::from(cols.9)),
        ];
        w.write(&RecordBatch::try_new(Arc::clone(&schema), arrays).unwrap())
            .unwrap();
        done += n;
    }
    w.close().unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    path
}

/// 2,280 LA-years with a population each.
fn la_years(dir: &Path) -> PathBuf {
    let path = dir.join("la_years.parquet");
    if path.is_file() {
        return path;
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("la_code", DataType::Utf8, false),
        Field::new("year", DataType::Int64, false),
        Field::new("population", DataType::Int64, false),
    ]));
    let (mut c, mut y, mut p) = (Vec::new(), Vec::new(), Vec::new());
    for la in 0..LAS {
        for year in 2010..2010 + YEARS {
            c.push(la_code(la));
            y.push(year);
            p.push(20_000 + ((la as i64 * 7919 + year * 104_729) % 200_000));
        }
    }
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(StringArray::from(c)),
            Arc::new(Int64Array::from(y)),
            Arc::new(Int64Array::from(p)),
        ],
    )
    .unwrap();
    let mut w = ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    path
}

/// Wall seconds and peak RSS (MB) of a whole process, from GNU time.
fn timed(cmd: Command) -> (f64, f64) {
    try_timed(cmd).unwrap_or_else(|e| panic!("{e}"))
}

/// As [`timed`], or the command's stderr when it failed.
fn try_timed(cmd: Command) -> Result<(f64, f64), String> {
    let report = tempfile::NamedTempFile::new().unwrap();
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let mut t = Command::new("/usr/bin/time");
    t.arg("-f")
        .arg("%e %M")
        .arg("-o")
        .arg(report.path())
        .arg(program)
        .args(args);
    if let Some(d) = cmd.get_current_dir() {
        t.current_dir(d);
    }
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            t.env(k, v);
        }
    }
    let out = t.output().expect("GNU time at /usr/bin/time");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = std::fs::read_to_string(report.path()).unwrap();
    let mut it = text.split_whitespace();
    let secs: f64 = it.next().unwrap().parse().unwrap();
    let kb: f64 = it.next().unwrap().parse().unwrap();
    Ok((secs, kb / 1024.0))
}

/// A canary project whose sources are the two tables and whose stages are the queries.
fn project(dir: &Path, records: &Path, la_years: &Path) -> tempfile::TempDir {
    let p = tempfile::tempdir_in(dir).unwrap();
    std::fs::create_dir_all(p.path().join("raw")).unwrap();
    std::fs::copy(records, p.path().join("raw/records.parquet")).unwrap();
    std::fs::copy(la_years, p.path().join("raw/la_years.parquet")).unwrap();
    let mut y = String::from("name: sql_scale\nsources:\n");
    for s in ["records", "la_years"] {
        let sha = sha256_file(&p.path().join(format!("raw/{s}.parquet"))).unwrap();
        y.push_str(&format!(
            "  {s}:\n    path: raw/{s}.parquet\n    sha256: {sha}\n"
        ));
    }
    y.push_str("stages:\n");
    for (name, sql) in QUERIES {
        y.push_str(&format!(
            "  {name}:\n    kind: sql\n    inputs: [records, la_years]\n    sql: \"{sql}\"\n"
        ));
    }
    std::fs::write(p.path().join("pipeline.yaml"), y).unwrap();
    p
}

/// How DuckDB is run: the CLI on PATH, or the Python package in a venv under target/.
enum Duck {
    Cli(String),
    Python(PathBuf, String),
}

fn duckdb(dir: &Path) -> Option<Duck> {
    if let Ok(o) = Command::new("duckdb").arg("-version").output() {
        if o.status.success() {
            return Some(Duck::Cli(
                String::from_utf8_lossy(&o.stdout).trim().to_string(),
            ));
        }
    }
    let venv = dir.join("venv");
    let python = venv.join("bin/python");
    if !python.is_file() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "duckdb"])
                .status()
                .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("DuckDB could not be installed (python3 -m venv; pip install duckdb): canary is measured alone");
            return None;
        }
    }
    let v = Command::new(&python)
        .args(["-c", "import duckdb; print(duckdb.__version__)"])
        .output()
        .ok()?;
    Some(Duck::Python(
        python,
        String::from_utf8_lossy(&v.stdout).trim().to_string(),
    ))
}

/// DuckDB runs the query over the same files and writes its result to Parquet, as canary does.
fn duck_command(duck: &Duck, dir: &Path, records: &Path, la_years: &Path, sql: &str) -> Command {
    let script = format!(
        "CREATE VIEW records AS SELECT * FROM read_parquet('{}'); CREATE VIEW la_years AS SELECT * FROM read_parquet('{}'); COPY ({sql}) TO '{}' (FORMAT PARQUET);",
        records.display(),
        la_years.display(),
        dir.join("duck_out.parquet").display()
    );
    match duck {
        Duck::Cli(_) => {
            let mut c = Command::new("duckdb");
            c.arg(":memory:").arg(script);
            c
        }
        Duck::Python(python, _) => {
            let mut c = Command::new(python);
            c.arg("-c").arg(format!(
                "import duckdb; duckdb.connect().execute({script:?})"
            ));
            c
        }
    }
}

fn main() {
    let sizes: Vec<(usize, Ids)> = std::env::args()
        .skip(1)
        .filter_map(|a| match a.strip_suffix('s') {
            Some(n) => Some((n.parse().ok()?, Ids::Scattered)),
            None => Some((a.parse().ok()?, Ids::Rising)),
        })
        .collect();
    let sizes = if sizes.is_empty() {
        vec![
            (1_000_000, Ids::Rising),
            (10_000_000, Ids::Rising),
            (100_000_000, Ids::Rising),
            (10_000_000, Ids::Scattered),
        ]
    } else {
        sizes
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/sql-scale");
    std::fs::create_dir_all(&dir).unwrap();
    let la = la_years(&dir);
    let duck = duckdb(&dir);
    match &duck {
        Some(Duck::Cli(v)) => println!("DuckDB: the duckdb CLI, {v}"),
        Some(Duck::Python(_, v)) => {
            println!("DuckDB: the Python duckdb package {v} (venv under target/sql-scale/)")
        }
        None => println!("DuckDB: not available"),
    }
    println!(
        "times: the median of {REPEATS} runs up to 10M rows (one above), each a whole process; canary's first run of a stage (`first`) also stores its output in the cache, and the first stage's hashes the new source"
    );
    println!(
        "{:<10} {:>12} {:>9} {:>9} {:>9} {:>10} {:>9} {:>10} {:>7} {:>12} {:>7}",
        "query",
        "rows",
        "ids",
        "canary s",
        "first s",
        "canary MB",
        "duckdb s",
        "duckdb MB",
        "ratio",
        "duck sorted",
        "ratio"
    );
    let mut times: Vec<(&str, usize, f64)> = Vec::new();
    for &(rows, ids) in &sizes {
        let rec = records(&dir, rows, ids);
        let p = project(&dir, &rec, &la);
        let repeats = if rows <= 10_000_000 { REPEATS } else { 1 };
        for (name, sql) in QUERIES {
            let Some(canary) = run_canary(p.path(), name, rows, repeats) else {
                continue;
            };
            if ids == Ids::Rising {
                times.push((name, rows, canary.median));
            }
            // DuckDB as it comes, and DuckDB asked for what canary guarantees: the result in
            // one order whatever the threads (every column, left to right, nulls first). One
            // run first, untimed, so that both read the file from the page cache.
            let duck_run = |sql: &str| match &duck {
                Some(d) => {
                    timed(duck_command(d, &dir, &rec, &la, sql));
                    let (s, m) =
                        median_of(repeats, || timed(duck_command(d, &dir, &rec, &la, sql)));
                    (format!("{s:.2}"), format!("{m:.0}"))
                }
                None => ("—".into(), "—".into()),
            };
            let (ds, dm) = duck_run(sql);
            let (dss, _) = duck_run(&format!("{sql} ORDER BY ALL NULLS FIRST"));
            let ratio = |d: &str| {
                d.parse::<f64>()
                    .map(|d| format!("{:.2}", canary.median / d))
                    .unwrap_or_else(|_| "—".into())
            };
            println!(
                "{name:<10} {rows:>12} {:>9} {:>9.2} {:>9.2} {:>10.0} {ds:>9} {dm:>10} {:>7} {dss:>12} {:>7}",
                ids.label(),
                canary.median,
                canary.first,
                canary.peak_mb,
                ratio(&ds),
                ratio(&dss)
            );
            let _ = std::io::stdout().flush();
        }
    }
    fitted_exponents(&times);
}

/// Timed runs of each command.
const REPEATS: usize = 3;

/// The median time of `n` runs, and the largest peak RSS among them.
fn median_of(n: usize, mut run: impl FnMut() -> (f64, f64)) -> (f64, f64) {
    median((0..n.max(1)).map(|_| run()).collect())
}

/// The median time of (seconds, MB) runs, and the largest peak RSS among them.
fn median(mut runs: Vec<(f64, f64)>) -> (f64, f64) {
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let peak = runs.iter().map(|r| r.1).fold(0.0, f64::max);
    (runs[runs.len() / 2].0, peak)
}

/// A stage's figures: its first run, then the median of the re-runs (`--force`), and the
/// largest peak RSS of all.
struct Canary {
    first: f64,
    median: f64,
    peak_mb: f64,
}

/// The stage timed with the default memory limit — its first run, then `repeats` re-runs — and
/// if a query cannot fit the limit said so and timed again with `--memory 4GB`; None if that
/// fails too.
fn run_canary(project: &Path, name: &str, rows: usize, repeats: usize) -> Option<Canary> {
    let run = |memory: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_canary"));
        c.args(["run", name, "-q", "--force"]).current_dir(project);
        if let Some(m) = memory {
            c.args(["--memory", m]);
        }
        try_timed(c)
    };
    let measure = |memory: Option<&str>| -> Result<Canary, String> {
        let (first, first_mb) = run(memory)?;
        let runs = (0..repeats.max(1))
            .map(|_| run(memory))
            .collect::<Result<Vec<_>, String>>()?;
        let (median, peak) = median(runs);
        Ok(Canary {
            first,
            median,
            peak_mb: peak.max(first_mb),
        })
    };
    let first_line = |e: String| e.lines().next().unwrap_or_default().to_string();
    match measure(None) {
        Ok(c) => Some(c),
        Err(e) => {
            println!(
                "{name:<10} {rows:>12} failed with the default limit: {}",
                first_line(e)
            );
            match measure(Some("4GB")) {
                Ok(c) => {
                    println!("{name:<10} {rows:>12} (the row below: with --memory 4GB)");
                    Some(c)
                }
                Err(e) => {
                    println!(
                        "{name:<10} {rows:>12} failed with --memory 4GB too: {}",
                        first_line(e)
                    );
                    None
                }
            }
        }
    }
}

/// Time against rows: the least-squares slope of log(time) on log(rows), per query, over the
/// tables in `child_id` order.
fn fitted_exponents(times: &[(&str, usize, f64)]) {
    for (name, _) in QUERIES {
        let pts: Vec<(f64, f64)> = times
            .iter()
            .filter(|t| t.0 == name)
            .map(|t| ((t.1 as f64).ln(), t.2.ln()))
            .collect();
        if pts.len() >= 2 {
            let n = pts.len() as f64;
            let (mx, my) = (
                pts.iter().map(|p| p.0).sum::<f64>() / n,
                pts.iter().map(|p| p.1).sum::<f64>() / n,
            );
            let slope = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>()
                / pts.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
            println!("{name}: canary's time grows as rows^{slope:.2}");
        }
    }
}
