//! End-to-end tests of the engine through the real binary (issue 2): caching, why-text,
//! determinism, atomicity, concurrency and every bad input the README lists.

use crate::common;

use std::time::{Duration, Instant, SystemTime};

use common::Project;

fn project() -> Project {
    Project::from_fixture("engine")
}

fn ran(stdout: &str) -> Vec<String> {
    let mut v: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("ran "))
        .map(|l| l.trim().split(' ').next().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn second_run_is_all_cache_hits() {
    let p = project();
    let first = p.canary(&["run"]).ok();
    assert_eq!(
        ran(&first.stdout),
        ["counter", "la", "national", "recent", "summary"]
    );
    assert!(
        first.stdout.contains("done: 5 ran, 0 up to date"),
        "{}",
        first.stdout
    );
    let second = p.canary(&["run"]).ok();
    assert!(ran(&second.stdout).is_empty(), "{}", second.stdout);
    assert!(
        second.stdout.contains("done: 0 ran, 5 up to date"),
        "{}",
        second.stdout
    );
    let status = p.canary(&["status"]).ok();
    assert!(
        status.stdout.contains("everything is up to date"),
        "{}",
        status.stdout
    );
}

#[test]
fn outputs_and_lock_are_written() {
    let p = project();
    p.canary(&["run"]).ok();
    let lock = p.read("pipeline.lock");
    for needle in [
        "pipeline: engine_fixture",
        "datafusion_version:",
        "arrow_version:",
        "path: out/summary.parquet",
        "rows: 2",
        "sql_sha256:",
        "referrals: ",
        "year: Int32",
        "duration_ms:",
    ] {
        assert!(lock.contains(needle), "lock lacks `{needle}`:\n{lock}");
    }
    let q = p
        .canary(&[
            "sql",
            "select year, authorities, la_referrals from summary order by year",
            "--format",
            "csv",
        ])
        .ok();
    assert_eq!(
        q.stdout,
        "year,authorities,la_referrals\n2023,3,6733.0\n2024,3,6192.0\n"
    );
}

#[test]
fn param_change_reruns_only_downstream_stages_and_status_says_why() {
    let p = project();
    p.canary(&["run"]).ok();
    p.edit("pipeline.yaml", "min_year: 2023", "min_year: 2024");
    let status = p.canary(&["status"]).ok();
    assert!(
        status
            .stdout
            .contains("recent: will run because param `since` changed from 2023 to 2024"),
        "{}",
        status.stdout
    );
    assert!(
        status
            .stdout
            .contains("summary: will run because upstream stage `recent` will run"),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("la: up to date"),
        "{}",
        status.stdout
    );
    let run = p.canary(&["run"]).ok();
    assert_eq!(ran(&run.stdout), ["recent", "summary"]);
}

#[test]
fn sql_file_change_is_named_in_status() {
    let p = project();
    p.canary(&["run"]).ok();
    p.edit("stages/la.sql", "la_name,", "upper(la_name) AS la_name,");
    let status = p.canary(&["status"]).ok();
    assert!(
        status
            .stdout
            .contains("la: will run because its SQL file `stages/la.sql` changed"),
        "{}",
        status.stdout
    );
    let run = p.canary(&["run"]).ok();
    assert_eq!(ran(&run.stdout), ["la", "recent", "summary"]);
}

#[test]
fn source_change_is_named_in_status() {
    let p = project();
    p.canary(&["run"]).ok();
    p.edit("data/referrals.csv", "5102,940,18.4", "5103,940,18.4");
    let sha = canary::hash::sha256_file(&p.path("data/referrals.csv")).unwrap();
    let old = canary::hash::sha256_file(&common::fixture("engine/data/referrals.csv")).unwrap();
    p.edit("pipeline.yaml", &old, &sha);
    let status = p.canary(&["status"]).ok();
    assert!(
        status.stdout.contains(
            "la: will run because input file `data/referrals.csv` (source `referrals`) changed"
        ),
        "{}",
        status.stdout
    );
    let run = p.canary(&["run"]).ok();
    // `national` re-runs but writes the same bytes; `summary` then still re-runs for `recent`.
    assert_eq!(ran(&run.stdout), ["la", "national", "recent", "summary"]);
}

#[test]
fn unchanged_upstream_output_stops_the_rerun_there() {
    let p = project();
    p.canary(&["run"]).ok();
    // A comment changes the SQL text but not the result: `la` re-runs, its output bytes are
    // identical, so nothing downstream runs.
    p.edit("stages/la.sql", "SELECT", "-- a comment\nSELECT");
    let run = p.canary(&["run"]).ok();
    assert_eq!(ran(&run.stdout), ["la"]);
}

#[test]
fn restored_mtime_does_not_hide_a_content_change_and_touch_runs_nothing() {
    let p = project();
    p.canary(&["run"]).ok();
    // A bare touch of a source and an output: nothing runs.
    let now = SystemTime::now();
    for f in ["data/referrals.csv", "out/la.parquet"] {
        std::fs::File::options()
            .write(true)
            .open(p.path(f))
            .unwrap()
            .set_modified(now)
            .unwrap();
    }
    let run = p.canary(&["run"]).ok();
    assert!(
        run.stdout.contains("done: 0 ran, 5 up to date"),
        "{}",
        run.stdout
    );

    // Change an output's content, same size, and put its mtime back.
    let path = p.path("out/national.parquet");
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let original = bytes.clone();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&path, &bytes).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let status = p.canary(&["status"]).ok();
    assert!(
        status
            .stdout
            .contains("output `out/national.parquet` was modified"),
        "{}",
        status.stdout
    );
    let run = p.canary(&["run"]).ok();
    assert!(run.stdout.contains("restored  national"), "{}", run.stdout);
    assert_eq!(std::fs::read(&path).unwrap(), original);
}

#[test]
fn jobs_do_not_change_a_byte() {
    let a = project();
    let b = project();
    a.canary(&["run", "--jobs", "1"]).ok();
    b.canary(&["run", "--jobs", "4"]).ok();
    let (ta, tb) = (a.tree("out"), b.tree("out"));
    assert_eq!(ta.len(), 5);
    assert_eq!(ta, tb);
}

#[test]
fn run_of_named_stage_runs_only_what_it_needs() {
    let p = project();
    let run = p.canary(&["run", "recent"]).ok();
    assert_eq!(ran(&run.stdout), ["la", "recent"]);
    let dry = p.canary(&["run", "--dry-run"]).ok();
    assert!(
        dry.stdout
            .contains("summary: would run because it has not run before"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("la: up to date"), "{}", dry.stdout);
    assert!(!p.path("out/summary.parquet").exists());
}

#[test]
fn force_reruns_everything() {
    let p = project();
    p.canary(&["run"]).ok();
    let run = p.canary(&["run", "--force"]).ok();
    assert_eq!(ran(&run.stdout).len(), 5);
}

#[test]
fn dag_renders_three_ways() {
    let p = project();
    let text = p.canary(&["dag"]).ok().stdout;
    assert!(text.contains("summary (sql) ← recent, national"), "{text}");
    let dot = p.canary(&["dag", "--format", "dot"]).ok().stdout;
    assert!(dot.contains("\"recent\" -> \"summary\";"), "{dot}");
    let mermaid = p.canary(&["dag", "--format", "mermaid"]).ok().stdout;
    assert!(mermaid.contains("la --> recent"), "{mermaid}");
}

#[test]
fn sql_reaches_every_output_and_prints_full_precision() {
    let p = project();
    p.canary(&["run"]).ok();
    let out = p
        .canary(&[
            "sql",
            "select 1.0/3 AS third, (select count(*) from la) AS la_rows",
            "--format",
            "json",
        ])
        .ok()
        .stdout;
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows[0]["third"].to_string(), "0.3333333333333333", "{out}");
    assert_eq!(rows[0]["la_rows"], 6, "{out}");
    // Every digit the file holds, in every format: the shortest text that reads back the same.
    let csv = p
        .canary(&[
            "sql",
            "select 0.1 + 0.2 AS x, 1e-300 AS tiny, CAST(NULL AS DOUBLE) AS nothing",
            "--format",
            "csv",
        ])
        .ok()
        .stdout;
    assert_eq!(
        csv, "x,tiny,nothing\n0.30000000000000004,1e-300,\n",
        "{csv}"
    );
    let json = p
        .canary(&[
            "sql",
            "select 0.1 + 0.2 AS x, CAST(NULL AS DOUBLE) AS nothing",
            "--format",
            "json",
        ])
        .ok()
        .stdout;
    assert_eq!(
        json, "[{\"x\":0.30000000000000004,\"nothing\":null}]\n",
        "{json}"
    );
    let table = p
        .canary(&[
            "sql",
            "select la_name from la where year = 2024 order by la_name",
        ])
        .ok()
        .stdout;
    assert!(table.contains("| City of London |"), "{table}");
    assert!(table.contains("3 rows"), "{table}");
    let bad = p.canary(&["sql", "select nope from la"]).fails(2);
    assert!(bad.stderr.contains("nope"), "{}", bad.stderr);
}

#[test]
fn gc_removes_unreferenced_cache_objects() {
    let p = project();
    p.canary(&["run"]).ok();
    p.edit("pipeline.yaml", "min_year: 2023", "min_year: 2024");
    p.canary(&["run"]).ok();
    let out = p.canary(&["gc"]).ok().stdout;
    assert!(out.contains("removed 2 cache entries"), "{out}");
    // Everything current is still cached.
    let run = p.canary(&["run"]).ok();
    assert!(
        run.stdout.contains("done: 0 ran, 5 up to date"),
        "{}",
        run.stdout
    );
}

#[test]
fn gc_removes_stray_outputs_and_links_but_never_follows_a_link_out_of_out() {
    let p = project();
    p.canary(&["run"]).ok();
    p.write("out/stray.parquet", "left by a stage since removed");
    let elsewhere = tempfile::tempdir().unwrap();
    let precious = elsewhere.path().join("precious.txt");
    std::fs::write(&precious, "not canary's").unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), p.path("out/link")).unwrap();
    let out = p.canary(&["gc"]).ok().stdout;
    // The stray file and the link itself.
    assert!(out.contains("and 2 stray files under out/"), "{out}");
    assert!(!p.path("out/stray.parquet").exists());
    assert!(std::fs::symlink_metadata(p.path("out/link")).is_err());
    assert!(precious.is_file(), "gc deleted a file outside the project");
}

#[test]
fn switching_a_param_back_restores_instead_of_rerunning() {
    let p = project();
    p.canary(&["run"]).ok();
    p.canary(&["run", "--set", "min_year=2024"]).ok();
    let back = p.canary(&["run"]).ok();
    assert!(ran(&back.stdout).is_empty(), "{}", back.stdout);
    assert!(back.stdout.contains("restored  recent"), "{}", back.stdout);
}

#[test]
fn killed_stage_leaves_a_consistent_state_and_the_next_run_completes() {
    use std::process::Stdio;
    let p = project();
    // `counter` over 10^12 rows runs for minutes: it is killed mid-way.
    let mut child = p
        .command(&["run", "counter", "--set", "size=1000000000000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !p.path(".canary/run.lock").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the slow stage ended too early to be killed"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!p.path("out/counter.parquet").exists());
    let run = p.canary(&["run"]).ok();
    assert!(
        run.stderr.contains("taking over the run lock left by pid"),
        "{}",
        run.stderr
    );
    assert_eq!(
        ran(&run.stdout),
        ["counter", "la", "national", "recent", "summary"]
    );
    let n = p
        .canary(&["sql", "select n from counter", "--format", "csv"])
        .ok()
        .stdout;
    assert_eq!(n, "n\n10\n");
}

#[test]
fn concurrent_runs_wait_for_each_other() {
    use std::process::Stdio;
    let p = project();
    let slow = p
        .command(&["run", "counter", "--set", "size=3000000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !p.path(".canary/run.lock").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    let second = p.canary(&["run"]).ok();
    let first = slow.wait_with_output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        second
            .stderr
            .contains("waiting for another canary run (pid"),
        "{}",
        second.stderr
    );
    // Both finished, one after the other; the second's outputs are whole and current.
    let status = p.canary(&["status"]).ok();
    assert!(
        status.stdout.contains("everything is up to date"),
        "{}",
        status.stdout
    );
    let n = p
        .canary(&["sql", "select n from counter", "--format", "csv"])
        .ok()
        .stdout;
    assert_eq!(n, "n\n10\n");
}

// ---- bad input: each gets a clear error, a non-zero exit, and leaves outputs intact ----

fn assert_outputs_intact(p: &Project, before: &[(String, Vec<u8>)]) {
    assert_eq!(
        &p.tree("out")[..],
        before,
        "outputs changed after a failed run"
    );
}

#[test]
fn malformed_yaml_points_at_the_line() {
    let p = project();
    p.canary(&["run"]).ok();
    let before = p.tree("out");
    p.edit(
        "pipeline.yaml",
        "  la:\n    kind: sql",
        "  la:\n    kind: [sql",
    );
    let r = p.canary(&["run"]).fails(2);
    assert!(r.stderr.contains("pipeline.yaml"), "{}", r.stderr);
    assert!(r.stderr.contains("——▶"), "{}", r.stderr);
    assert!(r.stderr.contains("help:"), "{}", r.stderr);
    assert_outputs_intact(&p, &before);
}

#[test]
fn unknown_key_is_rejected() {
    let p = project();
    p.edit(
        "pipeline.yaml",
        "    sql_file: stages/la.sql",
        "    sql_fle: stages/la.sql",
    );
    let r = p.canary(&["run"]).fails(2);
    assert!(r.stderr.contains("unknown field `sql_fle`"), "{}", r.stderr);
    assert!(r.stderr.contains("pipeline.yaml:"), "{}", r.stderr);
}

#[test]
fn cycle_is_printed() {
    let p = project();
    p.edit(
        "pipeline.yaml",
        "    inputs: [referrals]\n    sql_file",
        "    inputs: [referrals, summary]\n    sql_file",
    );
    let r = p.canary(&["run"]).fails(2);
    assert!(
        r.stderr.contains("the stages form a cycle: "),
        "{}",
        r.stderr
    );
    for s in ["la", "recent", "summary"] {
        assert!(r.stderr.contains(s), "{}", r.stderr);
    }
    assert!(r.stderr.contains("→"), "{}", r.stderr);
}

#[test]
fn unknown_input_suggests_the_nearest_name() {
    let p = project();
    p.edit(
        "pipeline.yaml",
        "inputs: [recent, national]",
        "inputs: [recnt, national]",
    );
    let r = p.canary(&["status"]).fails(2);
    assert!(
        r.stderr
            .contains("stage `summary` has unknown input `recnt`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("did you mean `recent`?"), "{}", r.stderr);
    assert!(r.stderr.contains("pipeline.yaml:"), "{}", r.stderr);
    assert!(r.stderr.contains("^^^^^"), "{}", r.stderr);
}

#[test]
fn unknown_kind_and_duplicate_names_and_wrong_param_types() {
    let p = project();
    p.edit(
        "pipeline.yaml",
        "  national:\n    kind: sql",
        "  national:\n    kind: sqll",
    );
    let r = p.canary(&["dag"]).fails(2);
    assert!(
        r.stderr.contains("unknown kind `sqll`") && r.stderr.contains("did you mean `sql`?"),
        "{}",
        r.stderr
    );

    let p = project();
    p.edit(
        "pipeline.yaml",
        "  national:\n",
        "  referrals:\n    kind: sql\n    sql: select 1\n  national:\n",
    );
    let r = p.canary(&["dag"]).fails(2);
    assert!(
        r.stderr
            .contains("`referrals` is both a source and a stage"),
        "{}",
        r.stderr
    );

    let p = project();
    p.edit(
        "pipeline.yaml",
        "  la:\n    kind: sql",
        "  la:\n    kind: sql\n  la:\n    kind: sql",
    );
    let r = p.canary(&["dag"]).fails(2);
    assert!(r.stderr.contains("duplicate"), "{}", r.stderr);

    let p = project();
    p.edit(
        "pipeline.yaml",
        "      since: ${min_year}",
        "      since: [2023, 2024]",
    );
    let r = p.canary(&["dag"]).fails(2);
    assert!(
        r.stderr
            .contains("param `since` must be a string, number or boolean, but it is a list"),
        "{}",
        r.stderr
    );

    let p = project();
    p.edit(
        "pipeline.yaml",
        "      since: ${min_year}",
        "      since: ${min_yera}",
    );
    let r = p.canary(&["dag"]).fails(2);
    assert!(
        r.stderr.contains("did you mean `min_year`?"),
        "{}",
        r.stderr
    );
}

#[test]
fn sql_syntax_error_names_the_stage() {
    let p = project();
    p.canary(&["run"]).ok();
    let before = p.tree("out");
    p.edit("stages/la.sql", "SELECT CAST", "SELEC CAST");
    let r = p.canary(&["run"]).fails(1);
    assert!(r.stderr.contains("stage `la` failed"), "{}", r.stderr);
    assert!(r.stderr.contains("stages/la.sql"), "{}", r.stderr);
    assert_outputs_intact(&p, &before);
    // The failed stage has no cache entry: fixing the SQL back makes everything current again.
    p.edit("stages/la.sql", "SELEC CAST", "SELECT CAST");
    let run = p.canary(&["run"]).ok();
    assert!(
        run.stdout.contains("done: 0 ran, 5 up to date"),
        "{}",
        run.stdout
    );
}

#[test]
fn sql_missing_column_names_the_column() {
    let p = project();
    p.edit("stages/la.sql", "la_name,", "la_nmae,");
    let r = p.canary(&["run"]).fails(1);
    assert!(
        r.stderr.contains("stage `la` failed") && r.stderr.contains("la_nmae"),
        "{}",
        r.stderr
    );
    // Independent stages that were already running or ready may have finished; `la` wrote nothing.
    assert!(!p.path("out/la.parquet").exists());
}

#[test]
fn checksum_mismatch_names_both_hashes() {
    let p = project();
    p.canary(&["run"]).ok();
    let before = p.tree("out");
    p.edit("data/referrals.csv", "5102", "5104");
    let r = p.canary(&["run"]).fails(1);
    let actual = canary::hash::sha256_file(&p.path("data/referrals.csv")).unwrap();
    let expected =
        canary::hash::sha256_file(&common::fixture("engine/data/referrals.csv")).unwrap();
    assert!(
        r.stderr.contains(&actual) && r.stderr.contains(&expected),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("source `referrals`"), "{}", r.stderr);
    assert_outputs_intact(&p, &before);
}

#[test]
fn unwritable_output_folder_is_reported() {
    let p = project();
    // A file where the output folder should be: nothing can be written under it.
    p.write("out", "not a folder");
    let r = p.canary(&["run"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("`") && r.stderr.contains("out"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("help:"), "{}", r.stderr);
    assert_eq!(p.read("out"), "not a folder");
}

#[test]
fn runtime_failure_midway_keeps_earlier_outputs() {
    let p = project();
    p.canary(&["run"]).ok();
    let before = p.tree("out");
    // Fails while executing (not planning): a cast of a non-number.
    p.edit(
        "pipeline.yaml",
        "SELECT CAST(time_period AS INT) AS year, referral_count",
        "SELECT CAST(la_name AS INT) AS year, referral_count",
    );
    p.edit(
        "pipeline.yaml",
        "WHERE geographic_level = 'National'",
        "WHERE geographic_level = 'Local authority'",
    );
    let r = p.canary(&["run"]).fails(1);
    assert!(r.stderr.contains("stage `national` failed"), "{}", r.stderr);
    assert_outputs_intact(&p, &before);
}

#[test]
fn usage_errors_exit_2() {
    let p = project();
    p.canary(&["run", "nosuch"]).fails(2);
    p.canary(&["run", "--set", "nokey=1"]).fails(2);
    p.canary(&["frobnicate"]).fails(2);
    let r = p.canary(&["-f", "missing.yaml", "run"]).fails(2);
    assert!(r.stderr.contains("missing.yaml"), "{}", r.stderr);
}

#[test]
fn a_profile_applies_its_params_before_set() {
    let p = Project::from_fixture("engine");
    p.edit(
        "pipeline.yaml",
        "sources:",
        "profiles:\n  later:\n    min_year: 2024\n    size: 3\nsources:",
    );
    p.canary(&["run", "-q", "--profile", "later"]).ok();
    let n = p
        .canary(&["sql", "select n from counter", "--format", "csv"])
        .ok()
        .stdout;
    assert_eq!(n, "n\n3\n");
    let years = p
        .canary(&["sql", "select min(year) y from recent", "--format", "csv"])
        .ok()
        .stdout;
    assert_eq!(years, "y\n2024\n");
    // `--set` wins over the profile; the lock records the values used.
    p.canary(&["run", "-q", "--profile", "later", "--set", "size=5"])
        .ok();
    assert!(
        p.read("pipeline.lock").contains("since: 2024"),
        "{}",
        p.read("pipeline.lock")
    );
    let n = p
        .canary(&["sql", "select n from counter", "--format", "csv"])
        .ok()
        .stdout;
    assert_eq!(n, "n\n5\n");
    let bad = p.canary(&["run", "--profile", "latter"]).fails(2);
    assert!(
        bad.stderr.contains("no such profile") && bad.stderr.contains("did you mean `later`?"),
        "{}",
        bad.stderr
    );
}
