//! Parameter sweeps (`matrix:`) end to end: cells named by their values, cached one by one, a
//! changed list re-running only the new cells, the stacked table downstream stages and
//! `canary sql` read, `verify` re-deriving every cell, and the located errors.

use crate::common;

use common::Project;

const SWEEP: &str = r#"
  scaled:
    kind: sql
    inputs: [la]
    description: each LA's referrals times a factor, labelled
    sql: SELECT la_code, year, referrals * ${factor} AS scaled, '${label}' AS label FROM la
    matrix:
      label: [a, b]
      factor: [1, 2]
  totals:
    kind: sql
    inputs: [scaled]
    sql: SELECT factor, label, sum(scaled) AS total FROM scaled GROUP BY factor, label
"#;

fn project() -> Project {
    let p = Project::from_fixture("engine");
    let yaml = p.read("pipeline.yaml");
    p.write("pipeline.yaml", &format!("{yaml}{SWEEP}"));
    p
}

fn csv(p: &Project, q: &str) -> String {
    p.canary(&["sql", q, "--format", "csv"]).ok().stdout
}

#[test]
fn cells_are_stages_named_by_their_values_and_stacked_downstream() {
    let p = project();
    let run = p.canary(&["run"]).ok();
    // One line for the sweep, not one per cell.
    assert!(
        run.stdout.contains("ran       scaled (stack)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("4 cells: 4 ran, 0 up to date"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("scaled[factor"), "{}", run.stdout);
    // Each cell has its own lock entry and its own output file.
    let lock = p.read("pipeline.lock");
    for cell in ["scaled[factor=1,label=a]", "scaled[factor=2,label=b]"] {
        assert!(
            lock.contains(&format!("{cell}:")),
            "no lock entry for {cell}:\n{lock}"
        );
    }
    assert!(p
        .path("out/scaled.cells/factor=1,label=a.parquet")
        .is_file());
    // The stacked table: the swept params first, typed, one block of rows per cell.
    assert_eq!(
        csv(
            &p,
            "select * from scaled order by factor, label, la_code, year limit 1"
        ),
        "factor,label,la_code,year,scaled\n1,a,E06000005,2023,1211.0\n"
    );
    assert_eq!(csv(&p, "select count(*) n from scaled"), "n\n24\n");
    let types = csv(
        &p,
        "select arrow_typeof(factor) f, arrow_typeof(label) l from scaled limit 1",
    );
    assert!(types.starts_with("f,l\nInt64,Utf8"), "{types}");
    // The downstream stage reads the stacked table.
    assert_eq!(
        csv(
            &p,
            "select factor, label, total from totals order by factor, label"
        ),
        "factor,label,total\n1,a,12925.0\n1,b,12925.0\n2,a,25850.0\n2,b,25850.0\n"
    );
    // Cells are not tables of `canary sql`: the stacked table is.
    let r = p
        .canary(&["sql", "select * from \"scaled[factor=1,label=a]\""])
        .fails(2);
    assert!(r.stderr.contains("is not an output table"), "{}", r.stderr);
}

#[test]
fn status_summarises_a_sweep_and_verbose_lists_its_cells() {
    let p = project();
    let status = p.canary(&["status"]).ok();
    assert!(
        status.stdout.contains(
            "scaled: 4 cells, 0 up to date, 4 will run (4 because it has not run before)"
        ),
        "{}",
        status.stdout
    );
    p.canary(&["run"]).ok();
    let status = p.canary(&["status"]).ok();
    assert!(
        status.stdout.contains("scaled: 4 cells, 4 up to date\n"),
        "{}",
        status.stdout
    );
    let verbose = p.canary(&["status", "--verbose"]).ok();
    assert!(
        verbose
            .stdout
            .contains("scaled[factor=2,label=a]: up to date"),
        "{}",
        verbose.stdout
    );
}

#[test]
fn a_changed_list_runs_only_the_new_cells() {
    let p = project();
    p.canary(&["run"]).ok();
    p.edit("pipeline.yaml", "factor: [1, 2]", "factor: [1, 2, 3]");
    let status = p.canary(&["status"]).ok();
    assert!(status.stdout.contains("scaled: 6 cells, 4 up to date, 2 will run (2 because it has not run before); its stacked tables will run"), "{}", status.stdout);
    let run = p.canary(&["run", "--verbose"]).ok();
    let ran: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("ran       scaled["))
        .collect();
    assert_eq!(ran.len(), 2, "{}", run.stdout);
    assert!(ran.iter().all(|l| l.contains("factor=3")), "{}", run.stdout);
    assert!(
        run.stdout.contains("6 cells: 2 ran, 4 up to date"),
        "{}",
        run.stdout
    );
    assert_eq!(
        csv(&p, "select count(distinct factor) n from totals"),
        "n\n3\n"
    );
    // Back to two values: the stacked table is restored from the cache, no cell runs.
    p.edit("pipeline.yaml", "factor: [1, 2, 3]", "factor: [1, 2]");
    let back = p.canary(&["run", "--verbose"]).ok();
    assert!(
        !back.stdout.contains("ran       scaled["),
        "{}",
        back.stdout
    );
    assert_eq!(
        csv(&p, "select count(distinct factor) n from totals"),
        "n\n2\n"
    );
}

#[test]
fn verify_re_derives_every_cell() {
    let p = project();
    p.canary(&["run"]).ok();
    let v = p.canary(&["verify"]).ok();
    assert!(
        v.stdout.contains("scaled[factor=2,label=b]"),
        "{}",
        v.stdout
    );
    assert!(v.stdout.contains("verified: all"), "{}", v.stdout);
}

#[test]
fn a_matrix_over_the_cap_is_a_located_error() {
    let p = project();
    let yaml = p.read("pipeline.yaml");
    p.write(
        "pipeline.yaml",
        &yaml.replace("stages:\n", "settings:\n  max_matrix_cells: 3\nstages:\n"),
    );
    let r = p.canary(&["status"]).fails(2);
    assert!(
        r.stderr
            .contains("stage `scaled`: its matrix makes 2 × 2 = 4 cells, more than the cap of 3"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("pipeline.yaml:") && r.stderr.contains("matrix:"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("max_matrix_cells"), "{}", r.stderr);
}

#[test]
fn bad_matrices_are_located_errors() {
    for (from, to, says) in [
        (
            "factor: [1, 2]",
            "factor: []",
            "matrix param `factor`: its list of values is empty",
        ),
        (
            "factor: [1, 2]",
            "factor: 3..1",
            "`3..1` is not a range of integers",
        ),
        ("factor: [1, 2]", "factor: [1, 1]", "value 1 appears twice"),
    ] {
        let p = project();
        p.edit("pipeline.yaml", from, to);
        let r = p.canary(&["status"]).fails(2);
        assert!(r.stderr.contains(says), "{to}: {}", r.stderr);
        assert!(
            r.stderr.contains("——▶ ") && r.stderr.contains("factor:"),
            "{to}: {}",
            r.stderr
        );
    }
    // A kind with declared params: a name it does not take, with "did you mean".
    let p = Project::from_fixture("engine");
    let yaml = p.read("pipeline.yaml");
    p.write(
        "pipeline.yaml",
        &format!("{yaml}  model:\n    kind: fit\n    inputs: [la]\n    params: {{outcome: y, predictors: [referrals], alpha: 1}}\n    matrix:\n      sed: 1..3\n"),
    );
    let r = p.canary(&["status"]).fails(2);
    assert!(
        r.stderr
            .contains("`matrix:` sweeps `sed`, which kind `fit` has no param of"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("did you mean `seed`?"), "{}", r.stderr);
    assert!(r.stderr.contains("sed: 1..3"), "{}", r.stderr);
}
