//! The engine's cost in stages: synthetic pipelines of 20 to 10,000 one-line SQL stages over
//! one small CSV, run once, then timed (the whole `canary run` process, start-up included, as
//! a user sees it) re-running with everything up to date, and re-running after one changed
//! byte of the raw file, which makes every stage run again. Per-stage figures beside each.
//! Goals: the no-op of 1,000 stages under 100 ms, of 10,000 under 1 s; a re-run SQL stage
//! over a small input under 5 ms beyond DataFusion's own work (the same chain run by DataFusion
//! alone, in one process, is printed beside it).
//!
//! `cargo bench --bench noop_rerun` (`-- 20 200` for chosen sizes)

use std::process::Command;
use std::time::{Duration, Instant};

fn csv(change: usize) -> String {
    let mut csv = String::from("la,year,value\n");
    for la in 0..150 {
        for year in 2010..2025 {
            csv.push_str(&format!(
                "E{la:08},{year},{}\n",
                (la * 31 + year * 7 + change) % 97
            ));
        }
    }
    csv
}

fn write_source(dir: &std::path::Path, change: usize) {
    let body = csv(change);
    std::fs::write(dir.join("data.csv"), &body).unwrap();
    let sha = canary::hash::sha256_bytes(body.as_bytes());
    let yaml = std::fs::read_to_string(dir.join("pipeline.yaml")).unwrap();
    let start = yaml.find("sha256: ").unwrap() + 8;
    std::fs::write(
        dir.join("pipeline.yaml"),
        format!("{}{sha}{}", &yaml[..start], &yaml[start + 64..]),
    )
    .unwrap();
}

fn make_project(dir: &std::path::Path, stages: usize) {
    let mut y = format!(
        "name: bench{stages}\nsources:\n  data:\n    path: data.csv\n    sha256: {}\nstages:\n",
        "0".repeat(64)
    );
    // A layered graph: each stage reads the source or one or two earlier stages.
    for i in 0..stages {
        let inputs = match i {
            0 => "[data]".to_string(),
            1 => "[s0]".to_string(),
            _ if i / 2 == i - 1 => format!("[s{}]", i - 1),
            _ => format!("[s{}, s{}]", i - 1, i / 2),
        };
        let from = if i == 0 {
            "data".to_string()
        } else {
            format!("s{}", i - 1)
        };
        y.push_str(&format!(
            "  s{i}:\n    kind: sql\n    inputs: {inputs}\n    sql: SELECT la, year, value + {i} AS value FROM {from} WHERE year > 2009\n"
        ));
    }
    std::fs::write(dir.join("pipeline.yaml"), y).unwrap();
    write_source(dir, 0);
}

fn canary(dir: &std::path::Path) -> Duration {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(["run", "-q"])
        .current_dir(dir)
        .output()
        .unwrap();
    let d = t.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    d
}

/// The same chain by DataFusion alone, in one process: per stage a new session, the input
/// registered, the stage's SQL run in the canonical order (every column sorted), collected and
/// written to Parquet with an fsync — what any engine must do for a re-run stage. canary's
/// re-run minus this, per stage, is the engine's own overhead (planning, cache, hashing, lock).
fn datafusion_alone(dir: &std::path::Path, stages: usize) -> Duration {
    use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};
    let out = dir.join("alone");
    std::fs::create_dir_all(&out).unwrap();
    let rt = canary::session::runtime().unwrap();
    let t = Instant::now();
    rt.block_on(async {
        for i in 0..stages {
            let ctx = SessionContext::new();
            let from = if i == 0 {
                let csv = dir.join("data.csv");
                ctx.register_csv("data", csv.to_str().unwrap(), CsvReadOptions::new())
                    .await
                    .unwrap();
                "data".to_string()
            } else {
                let prev = out.join(format!("s{}.parquet", i - 1));
                let name = format!("s{}", i - 1);
                ctx.register_parquet(&name, prev.to_str().unwrap(), ParquetReadOptions::default())
                    .await
                    .unwrap();
                name
            };
            let sql = format!(
                "SELECT la, year, value + {i} AS value FROM {from} WHERE year > 2009 ORDER BY la, year, value"
            );
            let df = ctx.sql(&sql).await.unwrap();
            let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
            let batches = df.collect().await.unwrap();
            let file = std::fs::File::create(out.join(format!("s{i}.parquet"))).unwrap();
            let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(&file, schema, None).unwrap();
            for b in &batches {
                w.write(b).unwrap();
            }
            w.close().unwrap();
            file.sync_all().unwrap();
        }
    });
    t.elapsed()
}

fn stats(mut v: Vec<Duration>) -> (f64, f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    (ms(v[v.len() / 2]), ms(v[0]), ms(v[v.len() - 1]))
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![20, 200, 1_000, 10_000]
    } else {
        sizes
    };
    for stages in sizes {
        let dir = tempfile::tempdir().unwrap();
        make_project(dir.path(), stages);
        let cold = canary(dir.path());
        let runs = if stages >= 10_000 { 5 } else { 15 };
        let (m, lo, hi) = stats((0..runs).map(|_| canary(dir.path())).collect());
        println!(
            "{stages:>6} stages: first run {:>9.1} ms ({:.2} ms/stage); no-op re-run median {m:>7.1} ms (min {lo:.1}, max {hi:.1}, {runs} runs; {:.3} ms/stage)",
            cold.as_secs_f64() * 1e3,
            cold.as_secs_f64() * 1e3 / stages as f64,
            m / stages as f64
        );
        // One changed byte of the raw file: every stage runs again.
        let reruns = if stages >= 1_000 { 1 } else { 3 };
        let (r, _, _) = stats(
            (0..reruns)
                .map(|k| {
                    write_source(dir.path(), k + 1);
                    canary(dir.path())
                })
                .collect(),
        );
        println!("{stages:>6} stages: re-run after one raw change median {r:>9.1} ms ({:.2} ms/stage, {reruns} runs)", r / stages as f64);
        if stages <= 1_000 {
            let alone = stats(
                (0..reruns)
                    .map(|_| datafusion_alone(dir.path(), stages))
                    .collect(),
            )
            .0;
            println!(
                "{stages:>6} stages: DataFusion alone {:.2} ms/stage; canary's own overhead per re-run SQL stage {:.2} ms",
                alone / stages as f64,
                (r - alone) / stages as f64
            );
        }
    }
}
