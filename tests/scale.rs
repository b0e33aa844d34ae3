//! SQL stages on every core and in bounded memory, still byte-identical: the same stages run
//! with 1, 2 and 8 partitions and with a memory limit small enough to make the sorts spill,
//! and every output file is compared byte for byte. The data are floats of wildly different
//! magnitudes, so a sum whose partial results met in another order would differ.

use crate::common;

use common::Project;

fn project() -> Project {
    let p = Project {
        dir: tempfile::tempdir().unwrap(),
    };
    let mut csv = String::from("la,year,x,w\n");
    let mut state: u64 = 11;
    for i in 0..60_000u64 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let r = state >> 11;
        let magnitude = [1e-8, 1.0, 1e8, 1e16][(r % 4) as usize];
        let x = ((r % 100_003) as f64 / 7.0 - 7000.0) * magnitude;
        csv.push_str(&format!(
            "E{:08},{},{x:e},{}\n",
            r % 152,
            2010 + i % 15,
            (r % 9) as f64 / 3.0
        ));
    }
    p.write("data/records.csv", &csv);
    let sha = canary::hash::sha256_bytes(csv.as_bytes());
    p.write(
        "pipeline.yaml",
        &format!(
            r#"name: scale
sources:
  records:
    path: data/records.csv
    sha256: {sha}
stages:
  by_la_year:
    kind: sql
    inputs: [records]
    sql: SELECT la, year, count(*) AS n, sum(x) AS total, avg(x) AS mean, stddev(x) AS sd, var_pop(w) AS vw, min(x) AS lo, median(x) AS mid FROM records GROUP BY la, year
  overall:
    kind: sql
    inputs: [records]
    sql: SELECT sum(x) AS total, avg(w) AS mean_w, corr(x, w) AS r FROM records
  joined:
    kind: sql
    inputs: [records, by_la_year]
    sql: SELECT r.la, r.year, r.x - b.mean AS centred, r.w FROM records r JOIN by_la_year b ON r.la = b.la AND r.year = b.year
  every_row:
    kind: sql
    inputs: [records]
    sql: SELECT *, CASE WHEN w < 1 THEN 'low' ELSE 'high' END AS band FROM records
"#
        ),
    );
    p
}

#[test]
fn outputs_are_the_same_bytes_whatever_the_partitions_and_the_memory() {
    let mut trees = Vec::new();
    for args in [
        vec!["--jobs", "1"],
        vec!["--jobs", "2"],
        vec!["--jobs", "8"],
        // 6 MB is far below the data. At 3 MB a run fails now and then under load: a
        // DataFusion sort asks the pool for its merge room only when its first batch comes,
        // and the fair pool may by then have lent it to the other partitions' sorts.
        vec!["--jobs", "3", "--memory", "6MB"],
    ] {
        let p = project();
        let mut all = vec!["run", "-q"];
        all.extend(&args);
        p.canary(&all).ok();
        trees.push((args, p.tree("out")));
    }
    assert_eq!(trees[0].1.len(), 4);
    for (args, tree) in &trees[1..] {
        assert!(
            tree == &trees[0].1,
            "the outputs with {args:?} differ from those with --jobs 1"
        );
    }
}

#[test]
fn a_limit_too_small_to_spill_is_a_clear_error() {
    let p = project();
    let r = p.canary(&["run", "every_row", "--memory", "16k"]).fails(1);
    assert!(
        r.stderr.contains("stage `every_row` failed") && r.stderr.contains("its limit of 16 KiB"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--memory"), "{}", r.stderr);
    assert!(!p.path("out/every_row.parquet").exists());
    let bad = p.canary(&["run", "--memory", "lots"]).fails(2);
    assert!(
        bad.stderr.contains("`--memory lots` is not a size"),
        "{}",
        bad.stderr
    );
}
