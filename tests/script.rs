//! `kind: script` end to end: a POSIX shell script (present on every machine the tests run on)
//! reads its input and params and writes a table that `canary sql` queries, the lock records
//! and `verify` re-derives; what changes its key; every bad input the contract names. The
//! Python and R examples of the README run where those interpreters are installed.

use crate::common;

use common::Project;

/// The engine fixture with script stages of the test's choosing after its own.
fn project(stages: &str) -> Project {
    let p = Project::from_fixture("engine");
    let yaml = p.read("pipeline.yaml");
    p.write("pipeline.yaml", &format!("{yaml}{stages}"));
    p
}

/// Counts the data lines of its CSV input and writes them with its `label` param.
const COUNT_SH: &str = r#"#!/bin/sh
set -e
n=$(($(wc -l < "$CANARY_IN_LA") - 1))
label=$(printf '%s' "$CANARY_PARAMS" | sed 's/.*"label":"\([^"]*\)".*/\1/')
printf 'label,rows\n%s,%s\n' "$label" "$n" > "$CANARY_OUT_COUNTS"
printf 'made by %s\n' "$CANARY_STAGE" > "$CANARY_SIDE/note.txt"
echo "counted $n rows"
"#;

const COUNTS: &str = r#"
  counts:
    kind: script
    inputs: [la]
    command: sh stages/count.sh
    outputs: [counts]
    input_format: csv
    side_outputs: [note.txt]
    params: {label: referrals}
"#;

fn counting() -> Project {
    let p = project(COUNTS);
    p.write("stages/count.sh", COUNT_SH);
    p
}

fn csv(p: &Project, q: &str) -> String {
    p.canary(&["sql", q, "--format", "csv"]).ok().stdout
}

#[test]
fn a_shell_script_stage_is_a_stage_like_any_other() {
    let p = counting();
    let run = p.canary(&["run"]).ok();
    assert!(
        run.stdout.contains("ran       counts (script)"),
        "{}",
        run.stdout
    );
    assert_eq!(
        csv(&p, "select label, rows from counts"),
        "label,rows\nreferrals,6\n"
    );
    // Its table is canonical Parquet under out/, its plain file kept beside, its log kept.
    assert!(p.path("out/counts.parquet").is_file());
    assert_eq!(p.read("out/counts/note.txt"), "made by counts\n");
    assert!(p.read(".canary/logs/counts.log").contains("counted 6 rows"));
    // The lock records its command, its script file and its interpreter.
    let lock = p.read("pipeline.lock");
    for want in [
        "stages/count.sh:",
        "command:",
        "interpreter sh:",
        "out/counts/note.txt",
    ] {
        assert!(lock.contains(want), "lock lacks `{want}`:\n{lock}");
    }
    // Nothing changed: it does not run again; verify re-derives it.
    let again = p.canary(&["run"]).ok();
    assert!(
        !again.stdout.contains("ran       counts"),
        "{}",
        again.stdout
    );
    let v = p.canary(&["verify"]).ok();
    assert!(
        v.stdout.contains("counts") && v.stdout.contains("verified: all"),
        "{}",
        v.stdout
    );
}

#[test]
fn the_script_its_params_and_its_environment_are_its_key() {
    let p = counting();
    let with = |var: &str| {
        let out = p
            .command(&["status"])
            .env("CANARY_TEST_LABEL", var)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    p.edit(
        "pipeline.yaml",
        "side_outputs: [note.txt]",
        "side_outputs: [note.txt]\n    env: [CANARY_TEST_LABEL]",
    );
    let out = p
        .command(&["run"])
        .env("CANARY_TEST_LABEL", "a")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(with("a").contains("counts: up to date"), "{}", with("a"));
    assert!(with("b").contains("counts: will run because its environment variable CANARY_TEST_LABEL changed from a to b"), "{}", with("b"));
    p.write("stages/count.sh", &COUNT_SH.replace("counted", "found"));
    assert!(
        with("a").contains("file `stages/count.sh` changed"),
        "{}",
        with("a")
    );
    p.edit("pipeline.yaml", "label: referrals", "label: other");
    assert!(with("a").contains("param `label` changed"), "{}", with("a"));
}

#[test]
fn a_deleted_side_output_is_restored() {
    let p = counting();
    p.canary(&["run"]).ok();
    std::fs::remove_file(p.path("out/counts/note.txt")).unwrap();
    let status = p.canary(&["status"]).ok();
    assert!(status.stdout.contains("counts: will be restored from the cache, because output `out/counts/note.txt` is missing"), "{}", status.stdout);
    p.canary(&["run"]).ok();
    assert_eq!(p.read("out/counts/note.txt"), "made by counts\n");
}

/// A stage whose command fails, and what the error must say.
fn fails_with(stage: &str, script: Option<&str>, code: i32, says: &[&str]) -> Project {
    let p = project(stage);
    if let Some(s) = script {
        p.write("stages/bad.sh", s);
    }
    p.canary(&["run", "la"]).ok();
    let before = p.bytes("out/la.parquet");
    let r = p.canary(&["run"]).fails(code);
    for s in says {
        assert!(r.stderr.contains(s), "stderr lacks `{s}`:\n{}", r.stderr);
    }
    // Earlier outputs are intact; nothing of the failed stage was written.
    assert_eq!(p.bytes("out/la.parquet"), before);
    assert!(!p.path("out/bad.parquet").exists());
    p
}

const BAD: &str = "\n  bad:\n    kind: script\n    inputs: [la]\n    command: sh stages/bad.sh\n    outputs: [bad]\n";

#[test]
fn a_command_that_is_not_installed() {
    fails_with(
        &BAD.replace("sh stages/bad.sh", "no-such-interpreter-xyz run.py"),
        None,
        1,
        &[
            "stage `bad` failed",
            "cannot start its command `no-such-interpreter-xyz`",
            "not on PATH",
        ],
    );
}

#[test]
fn a_script_that_exits_1_shows_the_tail_of_its_stderr() {
    fails_with(
        BAD,
        Some("echo first line >&2\necho 'Error: object not found' >&2\nexit 1\n"),
        1,
        &[
            "stage `bad` failed",
            "exit status 1",
            "Error: object not found",
            ".canary/logs/bad.log",
        ],
    );
}

#[test]
fn a_declared_output_that_is_missing() {
    fails_with(
        BAD,
        Some("exit 0\n"),
        1,
        &["did not write its output `bad`", "CANARY_OUT_BAD"],
    );
}

#[test]
fn an_output_that_is_not_a_table() {
    fails_with(
        &BAD.replace(
            "outputs: [bad]",
            "outputs: [bad]\n    output_format: parquet",
        ),
        Some("printf 'not parquet' > \"$CANARY_OUT_BAD\"\n"),
        1,
        &["output `bad` is not a readable parquet table"],
    );
}

#[test]
fn a_script_that_runs_past_its_timeout() {
    fails_with(
        &BAD.replace("outputs: [bad]", "outputs: [bad]\n    timeout: 1"),
        Some("sleep 30\n"),
        1,
        &["did not finish within its timeout of 1s"],
    );
}

#[test]
fn a_script_that_writes_into_the_project_is_refused() {
    // It runs in .canary/tmp/script-…/: three levels up is the project.
    let p = fails_with(
        BAD,
        Some("echo x > ../../../stages/new.sql\nprintf 'a\\n1\\n' > \"$CANARY_OUT_BAD\"\n"),
        1,
        &["wrote into the project", "`stages/new.sql` (added)"],
    );
    assert!(!p.path("out/bad.parquet").exists());
    // Its inputs are copies: a script that writes to one changes no published file.
    let q = project(&BAD.replace("inputs: [la]", "inputs: [referrals]"));
    q.write(
        "stages/bad.sh",
        "echo x >> \"$CANARY_IN_REFERRALS\"\nprintf 'a\\n1\\n' > \"$CANARY_OUT_BAD\"\n",
    );
    let before = q.bytes("data/referrals.csv");
    q.canary(&["run"]).ok();
    assert_eq!(q.bytes("data/referrals.csv"), before);
}

#[test]
fn a_param_json_cannot_hold_is_a_located_error() {
    let p = project(&BAD.replace(
        "outputs: [bad]",
        "outputs: [bad]\n    params: {scale: .nan}",
    ));
    let r = p.canary(&["status"]).fails(2);
    assert!(
        r.stderr
            .contains("param `scale` holds a number JSON cannot represent")
            && r.stderr.contains("pipeline.yaml:")
            && r.stderr.contains("——▶"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_required_tool_that_is_absent() {
    let stage = BAD.replace(
        "outputs: [bad]",
        "outputs: [bad]\n    requires: [no-such-tool-xyz]",
    );
    fails_with(
        &stage,
        Some("exit 0\n"),
        1,
        &[
            "needs `no-such-tool-xyz`, which is not on PATH",
            "optional: true",
        ],
    );
    // Optional: skipped with a note, its table says so, and the run succeeds.
    let p = project(&stage.replace("requires:", "optional: true\n    requires:"));
    p.write("stages/bad.sh", "exit 1\n");
    let run = p.canary(&["run"]).ok();
    assert!(
        run.stdout
            .contains("note: skipped: `no-such-tool-xyz` is not installed"),
        "{}",
        run.stdout
    );
    assert_eq!(
        csv(&p, "select skipped, reason from bad"),
        "skipped,reason\ntrue,`no-such-tool-xyz` is not installed\n"
    );
}

#[test]
fn script_keys_on_other_kinds_are_errors() {
    let p = project("\n  odd:\n    kind: sql\n    inputs: [la]\n    sql: select 1 as one\n    command: sh x.sh\n");
    let r = p.canary(&["status"]).fails(2);
    assert!(
        r.stderr.contains("`command` is for `script` stages"),
        "{}",
        r.stderr
    );
}

const PY: &str = r#"import csv, json, os
params = json.loads(os.environ["CANARY_PARAMS"])
with open(os.environ["CANARY_IN_LA"]) as f:
    rows = sorted(csv.DictReader(f), key=lambda r: -float(r["referrals"] or 0))[: params["top"]]
with open(os.environ["CANARY_OUT_RANKS"], "w") as f:
    w = csv.writer(f)
    w.writerow(["rank", "la_code", "year", "referrals"])
    for i, r in enumerate(rows, 1):
        w.writerow([i, r["la_code"], r["year"], r["referrals"]])
"#;

#[test]
#[ignore = "needs python3"]
fn the_readme_python_example() {
    let p = project("\n  ranks:\n    kind: script\n    inputs: [la]\n    command: python3 stages/ranks.py\n    outputs: [ranks]\n    input_format: csv\n    params: {top: 2}\n");
    p.write("stages/ranks.py", PY);
    p.canary(&["run"]).ok();
    assert_eq!(
        csv(&p, "select rank, la_code from ranks order by rank"),
        "rank,la_code\n1,E06000047\n2,E06000047\n"
    );
    assert!(p
        .read("pipeline.lock")
        .contains("interpreter python3: Python 3"));
    p.canary(&["verify"]).ok();
}

const R: &str = r#"la <- read.csv(Sys.getenv("CANARY_IN_LA"))
top <- jsonlite::fromJSON(Sys.getenv("CANARY_PARAMS"))$top
by <- aggregate(referrals ~ year, data = la, FUN = sum)
write.csv(head(by[order(by$year), ], top), Sys.getenv("CANARY_OUT_TOTALS"), row.names = FALSE)
"#;

#[test]
#[ignore = "needs Rscript with jsonlite (apt-get install r-base-core r-cran-jsonlite)"]
fn the_readme_r_example() {
    let p = project("\n  totals:\n    kind: script\n    inputs: [la]\n    command: Rscript stages/totals.R\n    outputs: [totals]\n    input_format: csv\n    params: {top: 5}\n");
    p.write("stages/totals.R", R);
    p.canary(&["run"]).ok();
    assert_eq!(
        csv(&p, "select year, referrals from totals order by year"),
        "year,referrals\n2023,6733\n2024,6192\n"
    );
    assert!(p.read("pipeline.lock").contains("interpreter Rscript: "));
}
