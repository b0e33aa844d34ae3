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
        // DataFusion sort gives back its merge room while it spills and asks for it again
        // after, and the fair pool may have lent it to the other partitions' sorts meanwhile.
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

/// A record-level extract of 16 MB or more stored in the order of its identifier: canary finds
/// that order and merges the partitions' ranges of the file instead of sorting by the
/// identifier again (`session::input_order`). Its outputs are the bytes written for the same
/// rows stored in reverse, where no order is found and the sort puts them back, with any
/// partitions.
#[test]
fn an_extract_in_identifier_order_gives_the_bytes_of_one_in_no_order() {
    use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::parquet::arrow::ArrowWriter;
    use std::sync::Arc;

    let rows = 1_200_000usize;
    let extract = |reversed: bool| {
        let ids: Vec<i64> = match reversed {
            false => (0..rows as i64).collect(),
            true => (0..rows as i64).rev().collect(),
        };
        // Values that depend on the identifier alone, so that both files hold the same rows.
        let mix = |id: i64| (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
        let la = ids.iter().map(|&id| format!("E{:08}", mix(id) % 152));
        let x = ids.iter().map(|&id| mix(id) as f64 / (1u64 << 53) as f64);
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("la", DataType::Utf8, false),
            Field::new("x", DataType::Float64, false),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(ids.clone())),
            Arc::new(StringArray::from_iter_values(la)),
            Arc::new(Float64Array::from_iter_values(x)),
        ];
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns).unwrap();
        let mut bytes = Vec::new();
        let mut w = ArrowWriter::try_new(&mut bytes, schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        bytes
    };
    let mut trees = Vec::new();
    for (reversed, jobs) in [(false, "1"), (false, "3"), (true, "2")] {
        let bytes = extract(reversed);
        assert!(
            bytes.len() >= 16 << 20,
            "{} bytes: below the size canary looks for an order from",
            bytes.len()
        );
        let p = Project {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(p.path("data")).unwrap();
        std::fs::write(p.path("data/records.parquet"), &bytes).unwrap();
        let sha = canary::hash::sha256_bytes(&bytes);
        p.write(
            "pipeline.yaml",
            &format!(
                r#"name: in_order
sources:
  records:
    path: data/records.parquet
    sha256: {sha}
stages:
  per_la:
    kind: sql
    inputs: [records]
    sql: SELECT la, count(*) AS n FROM records GROUP BY la
  kept:
    kind: sql
    inputs: [records]
    sql: SELECT id, la, x * 2 AS y FROM records WHERE x > 0.25
  looked_up:
    kind: sql
    inputs: [records, per_la]
    sql: SELECT r.id, r.x, s.n FROM records r JOIN per_la s ON r.la = s.la
"#
            ),
        );
        p.canary(&["run", "-q", "--jobs", jobs]).ok();
        trees.push(((reversed, jobs), p.tree("out")));
    }
    assert_eq!(trees[0].1.len(), 3);
    for (args, tree) in &trees[1..] {
        assert!(tree == &trees[0].1, "the outputs with {args:?} differ");
    }
}
