//! The catalogue of bad input: every way a user, a disk or a crash can hand canary something
//! wrong, each run against the engine fixture through the real binary. Every case asserts the
//! exit code, that the message names the file and line (or the stage, source or stream), that
//! no panic or hang happened, that the published files (`data/`) and the earlier outputs are
//! unchanged, that nothing was written outside the project, and that the next good run
//! succeeds with the same outputs. Then the environment (a full disk, a read-only output
//! folder, kill -9 at random moments, two runs at once) and a property: the pipeline parser and
//! the formula language never panic, whatever the bytes.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{copy_dir, Project};

// ---- the harness ----

/// Where a case's message must point.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Loc {
    /// `file:line` of a YAML, SQL, lock or JSON file.
    Line,
    /// A stage, a source or a param by name.
    Named,
    /// A stream or a path (standard output, the state folder).
    Path,
    /// Nothing to read: stderr itself is what fails.
    Silent,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Io {
    Normal,
    StdoutFull,
    StderrFull,
}

struct Ctx<'a> {
    p: &'a Project,
    /// A folder outside the project that SQL tries to write into or read from.
    outside: &'a Path,
}

impl Ctx<'_> {
    fn edit(&self, file: &str, from: &str, to: &str) {
        self.p.edit(
            file,
            from,
            &to.replace("{outside}", &self.outside.display().to_string()),
        );
    }

    fn add_stages(&self, yaml: &str) {
        let text = self.p.read("pipeline.yaml");
        self.p.write(
            "pipeline.yaml",
            &format!(
                "{text}{}",
                yaml.replace("{outside}", &self.outside.display().to_string())
            ),
        );
    }

    /// Put `text` in `data/referrals.csv` and its sha256 in pipeline.yaml.
    fn replace_source(&self, bytes: &[u8]) {
        let path = self.p.path("data/referrals.csv");
        let _ = std::fs::remove_file(&path);
        std::fs::write(&path, bytes).unwrap();
        let sha = canary::hash::sha256_bytes(bytes);
        self.p.edit("pipeline.yaml", FIXTURE_SHA, &sha);
    }
}

const FIXTURE_SHA: &str = "4284b9902335e2538a55c33debb4471fe5c5512496ce1ede407095e3380faef8";

struct Case {
    name: &'static str,
    group: &'static str,
    setup: fn(&Ctx),
    args: &'static [&'static str],
    code: i32,
    /// Substrings the message must hold (`{outside}` stands for the outside folder).
    says: &'static [&'static str],
    loc: Loc,
    io: Io,
}

const fn case(
    name: &'static str,
    group: &'static str,
    setup: fn(&Ctx),
    args: &'static [&'static str],
    code: i32,
    says: &'static [&'static str],
    loc: Loc,
) -> Case {
    Case {
        name,
        group,
        setup,
        args,
        code,
        says,
        loc,
        io: Io::Normal,
    }
}

fn nothing(_: &Ctx) {}

/// The fixture after one good run: copied for every case instead of run again.
fn template() -> &'static Path {
    static T: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &T.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("project");
        copy_dir(&common::fixture("engine"), &root);
        let p = Project {
            dir: tempfile::tempdir().unwrap(),
        };
        copy_dir(&root, p.dir.path());
        p.canary(&["run", "-q"]).ok();
        std::fs::remove_dir_all(&root).unwrap();
        copy_dir(p.dir.path(), &root);
        (dir, root)
    })
    .1
}

fn fresh() -> Project {
    let p = Project {
        dir: tempfile::tempdir().unwrap(),
    };
    copy_dir(template(), p.dir.path());
    p
}

/// Run with a deadline: a hang is a failure, not a stuck test.
fn run_bounded(mut cmd: Command, io: Io, limit: Duration) -> common::Run {
    cmd.stdin(Stdio::null());
    let devfull = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    match io {
        Io::StdoutFull => {
            cmd.stdout(devfull())
                .stderr(std::fs::File::create(&err_path).unwrap());
        }
        Io::StderrFull => {
            cmd.stdout(std::fs::File::create(&out_path).unwrap())
                .stderr(devfull());
        }
        Io::Normal => {
            cmd.stdout(std::fs::File::create(&out_path).unwrap())
                .stderr(std::fs::File::create(&err_path).unwrap());
        }
    }
    let mut child = cmd.spawn().unwrap();
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("HANG: the command did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let read =
        |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    common::Run {
        code: status.code().unwrap_or(-1),
        stdout: read(&out_path),
        stderr: read(&err_path),
    }
}

fn located(stderr: &str, loc: Loc) -> bool {
    let line_ref = [".yaml:", ".sql:", ".lock:", ".json:", ".csv:"]
        .iter()
        .any(|ext| {
            stderr
                .match_indices(ext)
                .any(|(i, m)| stderr[i + m.len()..].starts_with(|c: char| c.is_ascii_digit()))
        });
    match loc {
        Loc::Line => line_ref,
        Loc::Named => {
            line_ref
                || [
                    "stage `",
                    "source `",
                    "param `",
                    "`--set ",
                    "`--",
                    "there is no stage",
                    "profile",
                ]
                .iter()
                .any(|n| stderr.contains(n))
        }
        Loc::Path => stderr.contains('`'),
        Loc::Silent => true,
    }
}

/// Put the project's own files back as the fixture has them (outputs, cache and lock are left
/// as the bad run left them: the next run must cope).
fn restore(p: &Project) {
    for d in ["data", "stages"] {
        let path = p.path(d);
        if path.is_dir() {
            std::fs::remove_dir_all(&path).unwrap();
        } else if path.exists() || path.is_symlink() {
            std::fs::remove_file(&path).unwrap();
        }
        copy_dir(&common::fixture("engine").join(d), &path);
    }
    std::fs::copy(
        common::fixture("engine/pipeline.yaml"),
        p.path("pipeline.yaml"),
    )
    .unwrap();
    let state = p.path(".canary");
    if state.is_file() {
        std::fs::remove_file(&state).unwrap();
    }
}

/// One case, start to end; Err says what went wrong.
fn check(c: &Case) -> Result<(), String> {
    let p = fresh();
    let outside = tempfile::tempdir().unwrap();
    let ctx = Ctx {
        p: &p,
        outside: outside.path(),
    };
    let out_before = p.tree("out");
    (c.setup)(&ctx);
    let data_before = tree(&p.path("data"));
    let outside_before = listing(outside.path());
    let args: Vec<String> = c
        .args
        .iter()
        .map(|a| a.replace("{outside}", &outside.path().display().to_string()))
        .collect();
    let r = run_bounded(
        p.command(&args.iter().map(String::as_str).collect::<Vec<_>>()),
        c.io,
        Duration::from_secs(60),
    );
    let all = format!("{}{}", r.stdout, r.stderr);
    let mut problems = Vec::new();
    if r.code != c.code {
        problems.push(format!("exit {} (expected {})", r.code, c.code));
    }
    if all.contains("panicked")
        || all.contains("RUST_BACKTRACE")
        || all.contains("internal error")
        || r.code == 101
    {
        problems.push("PANIC".into());
    }
    for s in c.says {
        let s = s.replace("{outside}", &outside.path().display().to_string());
        if !r.stderr.contains(&s) {
            problems.push(format!("the message lacks `{s}`"));
        }
    }
    if !located(&r.stderr, c.loc) {
        problems.push(format!("the message is not located ({:?})", c.loc));
    }
    if r.stderr.len() > 20_000 {
        problems.push(format!("the message is {} bytes long", r.stderr.len()));
    }
    if p.path("data").is_dir() && tree(&p.path("data")) != data_before {
        problems.push("data/ changed".into());
    }
    if p.path("out").is_dir() && !kept(&p.tree("out"), &out_before) {
        problems.push("earlier outputs in out/ changed".into());
    }
    if listing(outside.path()) != outside_before {
        problems.push("WROTE OUTSIDE the project".into());
    }
    if problems.is_empty() {
        restore(&p);
        let next = run_bounded(p.command(&["run"]), Io::Normal, Duration::from_secs(60));
        if next.code != 0 {
            problems.push(format!(
                "the next good run failed (exit {}): {}",
                next.code, next.stderr
            ));
        } else if !kept(&p.tree("out"), &out_before) {
            problems.push("the next good run made different outputs".into());
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} [{}]: {}\n--- stderr:\n{}",
            c.name,
            c.group,
            problems.join("; "),
            common_excerpt(&r.stderr)
        ))
    }
}

/// Every entry under a folder with its bytes, sorted; a named pipe, a device or a symlink is
/// named, never opened (reading a FIFO would block the test).
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    fn go(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
        {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                out.push((
                    rel,
                    format!("-> {}", std::fs::read_link(&p).unwrap().display()).into_bytes(),
                ));
            } else if meta.is_dir() {
                go(root, &p, out);
            } else if meta.is_file() {
                out.push((rel, std::fs::read(&p).unwrap()));
            } else {
                out.push((rel, b"<not a regular file>".to_vec()));
            }
        }
    }
    go(dir, dir, &mut out);
    out.sort();
    out
}

/// Every file of `before` is in `now` with the same bytes (a new stage's new file aside).
fn kept(now: &[(String, Vec<u8>)], before: &[(String, Vec<u8>)]) -> bool {
    before.iter().all(|b| now.contains(b))
}

fn common_excerpt(s: &str) -> String {
    s.chars().take(3000).collect()
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn run_group(cases: &[Case]) {
    let failures: Vec<String> = cases.iter().filter_map(|c| check(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

// ---- the pipeline file ----

const PIPELINE_FILE: &[Case] = &[
    case(
        "malformed YAML",
        "pipeline file",
        |c| {
            c.edit(
                "pipeline.yaml",
                "  la:\n    kind: sql",
                "  la:\n    kind: [sql",
            )
        },
        &["run"],
        2,
        &["pipeline.yaml:"],
        Loc::Line,
    ),
    case(
        "unclosed quote, at its line",
        "pipeline file",
        |c| {
            c.edit(
                "pipeline.yaml",
                "publisher: test fixture",
                "publisher: \"test fixture",
            )
        },
        &["status"],
        2,
        &["never closed", "pipeline.yaml:10:16"],
        Loc::Line,
    ),
    case(
        "a top-level key twice, at the second",
        "pipeline file",
        |c| c.add_stages("params:\n  x: 1\n"),
        &["dag"],
        2,
        &["duplicate", "key \"params\"", "pipeline.yaml:39:1"],
        Loc::Line,
    ),
    case(
        "a stage twice",
        "pipeline file",
        |c| c.add_stages("  la:\n    kind: sql\n    sql: select 1\n"),
        &["dag"],
        2,
        &["duplicate entry with key \"la\"", "pipeline.yaml:39:3"],
        Loc::Line,
    ),
    case(
        "a YAML alias bomb",
        "pipeline file",
        |c| {
            let mut s = String::from("  a0: &a0 [x,x,x,x,x,x,x,x,x]\n");
            for i in 1..9 {
                s.push_str(&format!(
                    "  a{i}: &a{i} [{}]\n",
                    vec![format!("*a{}", i - 1); 9].join(",")
                ));
            }
            c.edit("pipeline.yaml", "params:\n", &format!("params:\n{s}"));
        },
        &["run"],
        2,
        &["alias", "pipeline.yaml:"],
        Loc::Line,
    ),
    case(
        "a byte that is not UTF-8",
        "pipeline file",
        |c| {
            let mut b = c.p.bytes("pipeline.yaml");
            let at = c.p.read("pipeline.yaml").find("test fixture").unwrap() + 4;
            b[at] = 0xe9;
            std::fs::write(c.p.path("pipeline.yaml"), b).unwrap();
        },
        &["run"],
        2,
        &["not UTF-8", "pipeline.yaml:10:"],
        Loc::Line,
    ),
    case(
        "an unknown key",
        "pipeline file",
        |c| {
            c.edit(
                "pipeline.yaml",
                "    sql_file: stages/la.sql",
                "    sql_fle: stages/la.sql",
            )
        },
        &["run"],
        2,
        &["unknown field `sql_fle`"],
        Loc::Line,
    ),
    case(
        "an unknown input",
        "pipeline file",
        |c| {
            c.edit(
                "pipeline.yaml",
                "inputs: [recent, national]",
                "inputs: [recnt, national]",
            )
        },
        &["run"],
        2,
        &["did you mean `recent`?"],
        Loc::Line,
    ),
    case(
        "an unknown kind",
        "pipeline file",
        |c| {
            c.edit(
                "pipeline.yaml",
                "  national:\n    kind: sql",
                "  national:\n    kind: sqll",
            )
        },
        &["run"],
        2,
        &["unknown kind `sqll`"],
        Loc::Line,
    ),
    case(
        "a cycle",
        "pipeline file",
        |c| {
            c.edit(
                "pipeline.yaml",
                "    inputs: [referrals]\n    sql_file",
                "    inputs: [referrals, summary]\n    sql_file",
            )
        },
        &["run"],
        2,
        &["cycle", "→"],
        Loc::Line,
    ),
    case(
        "a stage named like a source",
        "pipeline file",
        |c| c.add_stages("  referrals:\n    kind: sql\n    sql: select 1\n"),
        &["run"],
        2,
        &["both a source and a stage"],
        Loc::Line,
    ),
    case(
        "a stage named like another stage's table",
        "pipeline file",
        |c| {
            c.add_stages("  corr:\n    kind: correlate\n    inputs: [la]\n  corr_summary:\n    kind: sql\n    sql: select 1\n")
        },
        &["run"],
        2,
        &["`corr_summary` is also the SQL name of table `summary` of stage `corr`"],
        Loc::Line,
    ),
    case(
        "a stage named like a kind's alias",
        "pipeline file",
        |c| {
            c.add_stages("  cohorts:\n    kind: compare\n    inputs: [la]\n    params: {model: la, panel: la, ofsted: la, from_year: 2023, to_year: 2024}\n  cohort_members:\n    kind: sql\n    sql: select 1\n")
        },
        &["run"],
        2,
        &["`cohort_members` is also"],
        Loc::Line,
    ),
    case(
        "a stage name over 200 bytes",
        "pipeline file",
        |c| {
            c.add_stages(&format!(
                "  {}:\n    kind: sql\n    sql: select 1\n",
                "s".repeat(240)
            ))
        },
        &["run"],
        2,
        &["240 bytes long"],
        Loc::Line,
    ),
    case(
        "a name that is not an identifier",
        "pipeline file",
        |c| c.add_stages("  Bad-Name:\n    kind: sql\n    sql: select 1\n"),
        &["run"],
        2,
        &["`Bad-Name` is not a valid name"],
        Loc::Line,
    ),
    case(
        "a list for a SQL param",
        "pipeline file",
        |c| {
            c.edit(
                "pipeline.yaml",
                "      since: ${min_year}",
                "      since: [2023, 2024]",
            )
        },
        &["run"],
        2,
        &["param `since` must be a string, number or boolean"],
        Loc::Line,
    ),
    case(
        "an unknown ${param} in params",
        "pipeline file",
        |c| {
            c.edit(
                "pipeline.yaml",
                "      since: ${min_year}",
                "      since: ${min_yera}",
            )
        },
        &["run"],
        2,
        &["did you mean `min_year`?"],
        Loc::Line,
    ),
    case(
        "an unknown ${param} in SQL",
        "pipeline file",
        |c| c.edit("pipeline.yaml", "range(${size})", "range(${sise})"),
        &["run"],
        2,
        &["`${sise}`", "did you mean `size`?"],
        Loc::Line,
    ),
    case(
        "a mapping substituted into SQL",
        "pipeline file",
        |c| {
            c.edit(
                "pipeline.yaml",
                "  size: 10\n",
                "  size: 10\n  limits: {low: 1, high: 2}\n",
            );
            c.edit("pipeline.yaml", "range(${size})", "range(${limits})");
        },
        &["run"],
        2,
        &[
            "`${limits}` in its SQL is {\"high\":2,\"low\":1}",
            "a mapping",
            "pipeline.yaml:39:",
        ],
        Loc::Line,
    ),
    case(
        "a list substituted into a SQL file",
        "pipeline file",
        |c| {
            c.edit(
                "pipeline.yaml",
                "  size: 10\n",
                "  size: 10\n  years: [2023, 2024]\n",
            );
            c.edit(
                "stages/la.sql",
                "WHERE geographic_level",
                "WHERE CAST(time_period AS INT) IN (${years}) AND geographic_level",
            );
        },
        &["run"],
        2,
        &["`${years}`", "[2023,2024]", "stages/la.sql:7:"],
        Loc::Line,
    ),
    case(
        "sql and sql_file both",
        "pipeline file",
        |c| {
            c.edit(
                "pipeline.yaml",
                "    sql_file: stages/la.sql",
                "    sql_file: stages/la.sql\n    sql: select 1",
            )
        },
        &["run"],
        2,
        &["both `sql` and `sql_file`"],
        Loc::Line,
    ),
    case(
        "a missing sql_file",
        "pipeline file",
        |c| {
            c.edit(
                "pipeline.yaml",
                "sql_file: stages/la.sql",
                "sql_file: stages/nope.sql",
            )
        },
        &["run"],
        2,
        &["stages/nope.sql"],
        Loc::Line,
    ),
    case(
        "a column the SQL file names that its input lacks",
        "stage SQL",
        |c| c.edit("stages/la.sql", "       la_name,", "       la_nme,"),
        &["run"],
        1,
        // DataFusion's place of the error, as the file's line and column, with a caret.
        &["stages/la.sql:3:8", "3 |        la_nme,", "^^^^^^"],
        Loc::Line,
    ),
    case(
        "an absolute sql_file",
        "pipeline file",
        |c| {
            c.edit(
                "pipeline.yaml",
                "sql_file: stages/la.sql",
                "sql_file: /etc/passwd",
            )
        },
        &["run"],
        2,
        &["`sql_file` `/etc/passwd` is an absolute path"],
        Loc::Line,
    ),
    case(
        "a sql_file climbing out",
        "pipeline file",
        |c| {
            c.edit(
                "pipeline.yaml",
                "sql_file: stages/la.sql",
                "sql_file: ../../../etc/passwd",
            )
        },
        &["run"],
        2,
        &["climbs out of the project"],
        Loc::Line,
    ),
    case(
        "a sql_file through a symlink out",
        "pipeline file",
        |c| {
            std::fs::remove_file(c.p.path("stages/la.sql")).unwrap();
            std::os::unix::fs::symlink("/etc/passwd", c.p.path("stages/la.sql")).unwrap();
        },
        &["run"],
        2,
        &["symlink `stages/la.sql`"],
        Loc::Line,
    ),
    case(
        "a 10 MB document with an error",
        "pipeline file",
        |c| {
            c.edit(
                "pipeline.yaml",
                "publisher: test fixture",
                &format!("publisher: [{}", "x".repeat(10_000_000)),
            )
        },
        &["run"],
        2,
        &["pipeline.yaml:"],
        Loc::Line,
    ),
    case(
        "the pipeline file is a named pipe",
        "pipeline file",
        |c| mkfifo(&c.p.path("fifo.yaml")),
        &["-f", "fifo.yaml", "status"],
        2,
        &["named pipe"],
        Loc::Path,
    ),
    case(
        "the pipeline file is missing",
        "pipeline file",
        nothing,
        &["-f", "missing.yaml", "run"],
        2,
        &["missing.yaml"],
        Loc::Path,
    ),
    case(
        "a sweep over the cap",
        "pipeline file",
        |c| {
            c.add_stages(
                "  big:\n    kind: sql\n    sql: select ${n} n\n    matrix:\n      n: 1..100000\n",
            )
        },
        &["run"],
        2,
        &["more than the cap"],
        Loc::Line,
    ),
    case(
        "an unknown param of a kind",
        "pipeline file",
        |c| c.add_stages("  tr:\n    kind: trend\n    inputs: [la]\n    params: {nope: 1}\n"),
        &["run"],
        2,
        &["kind `trend` has no param `nope`"],
        Loc::Line,
    ),
];

#[test]
fn the_pipeline_file() {
    run_group(PIPELINE_FILE);
}

// ---- the command line ----

const COMMAND_LINE: &[Case] = &[
    case(
        "a param of the wrong type",
        "command line",
        nothing,
        &["run", "--set", "size=abc"],
        2,
        &[
            "`--set size=abc`",
            "param `size` is an integer",
            "`abc` is a string",
        ],
        Loc::Named,
    ),
    case(
        "an empty value for a param that is not nullable",
        "command line",
        nothing,
        &["run", "--set", "size="],
        2,
        &["`--set size=`", "an empty value is null", "nullable"],
        Loc::Named,
    ),
    case(
        "a list for a number",
        "command line",
        nothing,
        &["run", "--set", "min_year=[2023, 2024]"],
        2,
        &["param `min_year` is an integer", "a list"],
        Loc::Named,
    ),
    case(
        "a word for a boolean param",
        "command line",
        |c| {
            c.edit(
                "pipeline.yaml",
                "  size: 10\n",
                "  size: 10\n  flag: true\n",
            )
        },
        &["run", "--set", "flag=maybe"],
        2,
        &["`--set flag=maybe`", "true` or `false"],
        Loc::Named,
    ),
    case(
        "an unknown param",
        "command line",
        nothing,
        &["run", "--set", "min_yaer=1"],
        2,
        &["there is no param `min_yaer`", "did you mean `min_year`?"],
        Loc::Named,
    ),
    case(
        "not KEY=VALUE",
        "command line",
        nothing,
        &["run", "--set", "size"],
        2,
        &["`--set size` is not KEY=VALUE"],
        Loc::Named,
    ),
    case(
        "a value that is not YAML",
        "command line",
        nothing,
        &["run", "--set", "size=[1"],
        2,
        &["`--set size=[1`", "not valid YAML"],
        Loc::Named,
    ),
    case(
        "an unknown profile",
        "command line",
        nothing,
        &["run", "--profile", "latter"],
        2,
        &["no such profile"],
        Loc::Named,
    ),
    case(
        "an unknown stage",
        "command line",
        nothing,
        &["run", "recnt"],
        2,
        &["there is no stage `recnt`", "did you mean `recent`?"],
        Loc::Named,
    ),
    case(
        "--jobs 0",
        "command line",
        nothing,
        &["run", "--jobs", "0"],
        2,
        &["`--jobs` must be at least 1"],
        Loc::Named,
    ),
    case(
        "a negative tolerance",
        "command line",
        nothing,
        &["verify", "--tolerance=-1"],
        2,
        &["`--tolerance"],
        Loc::Named,
    ),
    case(
        "an unknown command",
        "command line",
        nothing,
        &["frobnicate"],
        2,
        &["frobnicate"],
        Loc::Silent,
    ),
    case(
        "a SQL syntax error in canary sql",
        "command line",
        nothing,
        &["sql", "selec * from la"],
        2,
        &["query failed"],
        Loc::Silent,
    ),
    case(
        "an unknown table in canary sql",
        "command line",
        nothing,
        &["sql", "select * from lq"],
        2,
        &["`lq` is not an output table", "did you mean `la`?"],
        Loc::Silent,
    ),
];

#[test]
fn the_command_line() {
    run_group(COMMAND_LINE);
}

// ---- sources ----

const SOURCES: &[Case] = &[
    case(
        "an absolute source path",
        "sources",
        |c| {
            c.edit(
                "pipeline.yaml",
                "path: data/referrals.csv",
                "path: /etc/passwd",
            )
        },
        &["run"],
        2,
        &[
            "source `referrals`: its path `/etc/passwd` is an absolute path",
            "external: true",
            "pipeline.yaml:8:",
        ],
        Loc::Line,
    ),
    case(
        "a source path climbing out",
        "sources",
        |c| {
            c.edit(
                "pipeline.yaml",
                "path: data/referrals.csv",
                "path: ../../x.csv",
            )
        },
        &["run"],
        2,
        &["climbs out of the project", "pipeline.yaml:8:"],
        Loc::Line,
    ),
    case(
        "a symlink in data/ pointing out",
        "sources",
        |c| {
            let target = c.outside.join("referrals.csv");
            std::fs::copy(c.p.path("data/referrals.csv"), &target).unwrap();
            std::fs::remove_file(c.p.path("data/referrals.csv")).unwrap();
            std::os::unix::fs::symlink(&target, c.p.path("data/referrals.csv")).unwrap();
        },
        &["run"],
        2,
        &[
            "resolves through the symlink `data/referrals.csv`",
            "pipeline.yaml:8:",
        ],
        Loc::Line,
    ),
    case(
        "a source folder that is a symlink out",
        "sources",
        |c| {
            copy_dir(&c.p.path("data"), &c.outside.join("data"));
            std::fs::remove_dir_all(c.p.path("data")).unwrap();
            std::os::unix::fs::symlink(c.outside.join("data"), c.p.path("data")).unwrap();
        },
        &["status"],
        2,
        &["symlink `data`"],
        Loc::Line,
    ),
    case(
        "a source that is a named pipe (run)",
        "sources",
        |c| {
            std::fs::remove_file(c.p.path("data/referrals.csv")).unwrap();
            mkfifo(&c.p.path("data/referrals.csv"));
        },
        &["run"],
        2,
        &[
            "a named pipe (FIFO), not a regular file",
            "pipeline.yaml:8:",
        ],
        Loc::Line,
    ),
    case(
        "a source that is a named pipe (status)",
        "sources",
        |c| {
            std::fs::remove_file(c.p.path("data/referrals.csv")).unwrap();
            mkfifo(&c.p.path("data/referrals.csv"));
        },
        &["status"],
        2,
        &["named pipe"],
        Loc::Line,
    ),
    case(
        "a source that is a directory",
        "sources",
        |c| {
            std::fs::remove_file(c.p.path("data/referrals.csv")).unwrap();
            std::fs::create_dir(c.p.path("data/referrals.csv")).unwrap();
        },
        &["run"],
        2,
        &["is a directory, not a regular file"],
        Loc::Line,
    ),
    case(
        "a source that is a device",
        "sources",
        |c| {
            c.edit(
                "pipeline.yaml",
                "path: data/referrals.csv",
                "path: /dev/zero\n    external: true",
            )
        },
        &["run"],
        2,
        &["`/dev/zero` is a device, not a regular file"],
        Loc::Line,
    ),
    case(
        "a malformed sha256",
        "sources",
        |c| c.edit("pipeline.yaml", FIXTURE_SHA, "abc"),
        &["run"],
        2,
        &["`sha256` must be 64 hexadecimal digits"],
        Loc::Line,
    ),
    case(
        "a source whose content changed",
        "sources",
        |c| c.edit("data/referrals.csv", "5102", "5104"),
        &["run"],
        1,
        &["source `referrals`", FIXTURE_SHA],
        Loc::Named,
    ),
    case(
        "a missing source",
        "sources",
        |c| std::fs::remove_file(c.p.path("data/referrals.csv")).unwrap(),
        &["run"],
        1,
        &["source `referrals` is missing", "canary fetch"],
        Loc::Named,
    ),
    case(
        "an empty CSV",
        "sources",
        |c| c.replace_source(b""),
        &["run"],
        1,
        &[
            "stage `la` failed",
            "data/referrals.csv",
            "is an empty file",
        ],
        Loc::Named,
    ),
    case(
        "a CSV that is not the expected table",
        "sources",
        |c| c.replace_source(b"a,b\n1,2\n"),
        &["run"],
        1,
        &["stage `la` failed", "geographic_level"],
        Loc::Named,
    ),
    case(
        "fetch with no mirror for a missing source",
        "sources",
        |c| std::fs::remove_file(c.p.path("data/referrals.csv")).unwrap(),
        &["fetch"],
        1,
        &["source `referrals` is missing and no mirror holds it"],
        Loc::Named,
    ),
];

#[test]
fn sources() {
    run_group(SOURCES);
}

// ---- SQL ----

const SQL: &[Case] = &[
    case(
        "a damaged Parquet input",
        "sql",
        |c| {
            // A stage's own output with its first page's header overwritten: the footer still
            // reads, so the table registers and the query fails on the data.
            let mut bytes = std::fs::read(c.p.path("out/national.parquet")).unwrap();
            bytes[4..64].fill(0x13);
            std::fs::write(c.p.path("data/damaged.parquet"), &bytes).unwrap();
            let sha = canary::hash::sha256_bytes(&bytes);
            c.edit(
                "pipeline.yaml",
                "sources:\n",
                &format!("sources:\n  damaged:\n    path: data/damaged.parquet\n    sha256: {sha}\n"),
            );
            c.add_stages("  read_damaged:\n    kind: sql\n    inputs: [damaged]\n    sql: SELECT * FROM damaged\n");
        },
        &["run", "read_damaged"],
        1,
        &[
            "stage `read_damaged` failed",
            "one of its input files (`data/damaged.parquet`) is damaged or not the format its name says",
        ],
        Loc::Named,
    ),
    case(
        "COPY over a published source",
        "sql",
        |c| {
            c.p.write("stages/la.sql", "-- overwrite the published file\nCOPY (SELECT 'x') TO 'data/referrals.csv' STORED AS CSV\n")
        },
        &["run"],
        2,
        &[
            "stage `la`: its SQL is refused: `COPY … TO 'data/referrals.csv'` writes a file",
            "stages/la.sql:2:1",
        ],
        Loc::Line,
    ),
    case(
        "COPY forging another stage's output",
        "sql",
        |c| {
            c.edit(
                "pipeline.yaml",
                "    sql: SELECT count(*) AS n FROM range(${size})",
                "    sql: COPY (SELECT 1 AS year) TO 'out/la.parquet' STORED AS PARQUET",
            )
        },
        &["run"],
        2,
        &["`COPY … TO 'out/la.parquet'`", "pipeline.yaml:38:10"],
        Loc::Line,
    ),
    case(
        "COPY outside the project from a stage",
        "sql",
        |c| {
            c.edit(
                "pipeline.yaml",
                "    sql: SELECT count(*) AS n FROM range(${size})",
                "    sql: COPY (SELECT 1) TO '{outside}/x.csv' STORED AS CSV",
            )
        },
        &["run"],
        2,
        &["writes a file"],
        Loc::Line,
    ),
    case(
        "COPY outside the project from canary sql",
        "sql",
        nothing,
        &["sql", "COPY (SELECT 1) TO '{outside}/x.csv' STORED AS CSV"],
        2,
        &["the query is refused", "writes a file"],
        Loc::Silent,
    ),
    case(
        "CREATE EXTERNAL TABLE reading /etc/passwd (stage)",
        "sql",
        |c| {
            c.p.write(
                "stages/la.sql",
                "CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '/etc/passwd'\n",
            )
        },
        &["run"],
        2,
        &["LOCATION ('/etc/passwd')", "stages/la.sql:1:1"],
        Loc::Line,
    ),
    case(
        "CREATE EXTERNAL TABLE from canary sql",
        "sql",
        nothing,
        &[
            "sql",
            "CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '/etc/passwd'",
        ],
        2,
        &["reads a file by its LOCATION"],
        Loc::Silent,
    ),
    case(
        "INSERT",
        "sql",
        |c| {
            c.p.write("stages/la.sql", "INSERT INTO referrals VALUES (1)\n")
        },
        &["run"],
        2,
        &["`INSERT` changes a table", "stages/la.sql:1:1"],
        Loc::Line,
    ),
    case(
        "CREATE TABLE AS",
        "sql",
        |c| {
            c.p.write(
                "stages/la.sql",
                "CREATE TABLE t AS SELECT * FROM referrals\n",
            )
        },
        &["run"],
        2,
        &["`CREATE TABLE`"],
        Loc::Line,
    ),
    case(
        "CREATE VIEW from canary sql",
        "sql",
        nothing,
        &["sql", "CREATE VIEW v AS SELECT 1"],
        2,
        &["`CREATE VIEW`"],
        Loc::Silent,
    ),
    case(
        "DROP TABLE from canary sql",
        "sql",
        nothing,
        &["sql", "DROP TABLE la"],
        2,
        &["`DROP TABLE` removes a table"],
        Loc::Silent,
    ),
    case(
        "SET",
        "sql",
        |c| {
            c.p.write(
                "stages/la.sql",
                "SET datafusion.execution.target_partitions = 8\n",
            )
        },
        &["run"],
        2,
        &["`SET` changes the session's settings"],
        Loc::Line,
    ),
    case(
        "two statements",
        "sql",
        |c| {
            c.p.write("stages/la.sql", "SELECT 1 AS a;\nSELECT 2 AS b\n")
        },
        &["run"],
        2,
        &["holds 2 statements", "stages/la.sql:2:1"],
        Loc::Line,
    ),
    case(
        "a table function that reads a file",
        "sql",
        |c| {
            c.p.write("stages/la.sql", "SELECT *\nFROM read_csv('/etc/passwd')\n")
        },
        &["run"],
        2,
        &[
            "table function `read_csv` is not allowed",
            "stages/la.sql:2:6",
        ],
        Loc::Line,
    ),
    case(
        "a table that is not an input",
        "sql",
        |c| {
            c.edit(
                "pipeline.yaml",
                "FROM recent r JOIN national n",
                "FROM recent r JOIN nationl n",
            )
        },
        &["run"],
        2,
        &[
            "`nationl` is not one of the stage's inputs",
            "did you mean `national`?",
        ],
        Loc::Line,
    ),
    case(
        "a quoted path as a table",
        "sql",
        |c| {
            c.p.write("stages/la.sql", "SELECT * FROM \"/etc/passwd\"\n")
        },
        &["run"],
        2,
        &["`\"/etc/passwd\"` is not one of the stage's inputs"],
        Loc::Line,
    ),
    case(
        "a string for a number param",
        "sql",
        nothing,
        &[
            "run",
            "--set",
            "min_year=x'; COPY (SELECT 1) TO '{outside}/x.csv' --",
        ],
        2,
        &["param `min_year` is an integer"],
        Loc::Named,
    ),
    case(
        "a SQL syntax error",
        "sql",
        |c| c.edit("stages/la.sql", "SELECT CAST", "SELEC CAST"),
        &["run"],
        1,
        &["stage `la` failed", "stages/la.sql"],
        Loc::Named,
    ),
    case(
        "a missing column",
        "sql",
        |c| c.edit("stages/la.sql", "la_name,", "la_nmae,"),
        &["run"],
        1,
        &["stage `la` failed", "la_nmae"],
        Loc::Named,
    ),
    case(
        "a failure while executing",
        "sql",
        |c| {
            c.edit(
                "pipeline.yaml",
                "SELECT CAST(time_period AS INT) AS year, referral_count",
                "SELECT CAST(la_name AS INT) AS year, referral_count",
            );
            c.edit(
                "pipeline.yaml",
                "WHERE geographic_level = 'National'",
                "WHERE geographic_level = 'Local authority'",
            );
        },
        &["run"],
        1,
        &["stage `national` failed"],
        Loc::Named,
    ),
    case(
        "a misspelt indicator",
        "sql",
        |c| {
            c.add_stages("  long:\n    kind: sql\n    inputs: [la]\n    sql: SELECT la_code, year, 'referrals' AS indicator, referrals AS value FROM la\n  tr:\n    kind: trend\n    inputs: [long]\n    params: {indicators: [referals]}\n")
        },
        &["run", "tr"],
        1,
        &[
            "stage `tr` failed",
            "`referals`",
            "did you mean `referrals`?",
        ],
        Loc::Named,
    ),
];

#[test]
fn sql() {
    run_group(SQL);
}

// ---- the cache and the lock ----

fn noise(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8 | 0x80
        })
        .collect()
}

/// hashes.json with every hash replaced; `consistent` recomputes its checksum as canary would.
fn forge_hashes(p: &Project, consistent: bool) {
    let text = p.read(".canary/hashes.json");
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for e in v["entries"].as_object_mut().unwrap().values_mut() {
        e["sha256"] = serde_json::Value::String("0".repeat(64));
    }
    if consistent {
        let sum = canary::hash::sha256_bytes(&serde_json::to_vec(&v["entries"]).unwrap());
        v["checksum"] = serde_json::Value::String(sum);
    }
    // The stat fields are untouched: only the hashes lie.
    p.write(".canary/hashes.json", &serde_json::to_string(&v).unwrap());
}

const CACHE_AND_LOCK: &[Case] = &[
    case(
        "a lock of random bytes (run)",
        "cache and lock",
        |c| std::fs::write(c.p.path("pipeline.lock"), noise(3000)).unwrap(),
        &["run"],
        0,
        &[
            "pipeline.lock:1",
            "not UTF-8",
            "treating it as absent",
            "delete it, or run `canary run --force`",
        ],
        Loc::Line,
    ),
    case(
        "a lock of random bytes (status)",
        "cache and lock",
        |c| std::fs::write(c.p.path("pipeline.lock"), noise(3000)).unwrap(),
        &["status"],
        0,
        &["pipeline.lock:1", "treating it as absent"],
        Loc::Line,
    ),
    case(
        "a lock of random bytes (gc)",
        "cache and lock",
        |c| std::fs::write(c.p.path("pipeline.lock"), noise(3000)).unwrap(),
        &["gc"],
        0,
        &["pipeline.lock:1"],
        Loc::Line,
    ),
    case(
        "a lock that is YAML but not a lock",
        "cache and lock",
        |c| {
            let t = c.p.read("pipeline.lock");
            c.p.write(
                "pipeline.lock",
                &t.replacen("\nversion: 1\n", "\nversion: 1\nbogus: true\n", 1),
            );
        },
        &["run"],
        0,
        &["pipeline.lock:3", "unknown field `bogus`"],
        Loc::Line,
    ),
    case(
        "a lock cut in half",
        "cache and lock",
        |c| {
            let t = c.p.read("pipeline.lock");
            c.p.write("pipeline.lock", &format!("{}\n  cut: [", &t[..t.len() / 2]));
        },
        &["status"],
        0,
        &["pipeline.lock", "treating it as absent"],
        Loc::Path,
    ),
    case(
        "verify against a damaged lock",
        "cache and lock",
        |c| std::fs::write(c.p.path("pipeline.lock"), noise(100)).unwrap(),
        &["verify"],
        1,
        &["pipeline.lock:1", "delete it, or run `canary run --force`"],
        Loc::Line,
    ),
    case(
        "hashes.json with wrong hashes and matching stats",
        "cache and lock",
        |c| forge_hashes(c.p, false),
        &["run"],
        0,
        &[],
        Loc::Silent,
    ),
    case(
        "hashes.json with wrong hashes and a valid checksum",
        "cache and lock",
        |c| forge_hashes(c.p, true),
        &["run"],
        0,
        &[],
        Loc::Silent,
    ),
    case(
        "hashes.json of random bytes",
        "cache and lock",
        |c| std::fs::write(c.p.path(".canary/hashes.json"), noise(500)).unwrap(),
        &["status"],
        0,
        &[],
        Loc::Silent,
    ),
    case(
        "a damaged cache entry",
        "cache and lock",
        |c| {
            for e in std::fs::read_dir(c.p.path(".canary/cache/entries")).unwrap() {
                std::fs::write(e.unwrap().path(), b"{not json").unwrap();
            }
        },
        &["run"],
        0,
        &[],
        Loc::Silent,
    ),
    case(
        "a damaged cached object and a deleted output",
        "cache and lock",
        |c| {
            for sub in std::fs::read_dir(c.p.path(".canary/cache/objects")).unwrap() {
                for o in std::fs::read_dir(sub.unwrap().path()).unwrap() {
                    let path = o.unwrap().path();
                    let _ = std::fs::remove_file(&path);
                    std::fs::write(&path, b"garbage").unwrap();
                }
            }
            std::fs::remove_file(c.p.path("out/la.parquet")).unwrap();
        },
        &["run"],
        0,
        &[],
        Loc::Silent,
    ),
    case(
        "the state folder is a file",
        "cache and lock",
        |c| {
            std::fs::remove_dir_all(c.p.path(".canary")).unwrap();
            c.p.write(".canary", "not a folder");
        },
        &["run"],
        1,
        &["create the state folder", ".canary"],
        Loc::Path,
    ),
];

#[test]
fn the_cache_and_the_lock() {
    run_group(CACHE_AND_LOCK);
}

#[test]
fn forged_hashes_never_blame_an_intact_source() {
    for consistent in [false, true] {
        let p = fresh();
        forge_hashes(&p, consistent);
        let r = p.canary(&["run"]).ok();
        assert!(!r.stderr.contains("has sha256"), "{}", r.stderr);
        assert!(
            r.stdout.contains("done: 0 ran, 5 up to date"),
            "{}",
            r.stdout
        );
        p.canary(&["verify"]).ok();
    }
}

// ---- streams ----

const STREAMS: &[Case] = &[
    Case {
        io: Io::StdoutFull,
        ..case(
            "status > /dev/full",
            "environment",
            nothing,
            &["status"],
            1,
            &["could not write to `standard output`", "No space left"],
            Loc::Path,
        )
    },
    Case {
        io: Io::StdoutFull,
        ..case(
            "sql > /dev/full",
            "environment",
            nothing,
            &["sql", "select * from la"],
            1,
            &["standard output"],
            Loc::Path,
        )
    },
    Case {
        io: Io::StdoutFull,
        ..case(
            "dag > /dev/full",
            "environment",
            nothing,
            &["dag"],
            1,
            &["standard output"],
            Loc::Path,
        )
    },
    Case {
        io: Io::StdoutFull,
        ..case(
            "run > /dev/full",
            "environment",
            nothing,
            &["run", "--force"],
            1,
            &["standard output"],
            Loc::Path,
        )
    },
    Case {
        io: Io::StdoutFull,
        ..case(
            "--help > /dev/full",
            "environment",
            nothing,
            &["--help"],
            1,
            &[],
            Loc::Silent,
        )
    },
    Case {
        io: Io::StderrFull,
        ..case(
            "an error with stderr full",
            "environment",
            nothing,
            &["run", "nosuch"],
            2,
            &[],
            Loc::Silent,
        )
    },
    Case {
        io: Io::StderrFull,
        ..case(
            "a warning with stderr full",
            "environment",
            |c| std::fs::write(c.p.path("pipeline.lock"), noise(10)).unwrap(),
            &["status"],
            1,
            &[],
            Loc::Silent,
        )
    },
];

#[test]
fn full_streams() {
    run_group(STREAMS);
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let p = fresh();
    let mut child = p
        .command(&["sql", "select * from range(2000000)", "--format", "csv"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(141),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

// ---- the environment: disks, crashes, concurrency ----

/// A small tmpfs (root only). None, with the reason printed, where mounting is not allowed.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, options: &str) -> Option<Mount> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!(
                "skipped: `mount -t tmpfs` is not allowed here (needs root and a mount namespace)"
            );
            return None;
        }
        Some(Mount(at.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_the_stage_and_the_next_run_recovers() {
    let holder = tempfile::tempdir().unwrap();
    let root = holder.path().join("disk");
    let Some(_m) = Mount::tmpfs(&root, "size=3m") else {
        return;
    };
    copy_dir(template(), &root);
    let out_before = Project {
        dir: tempfile::tempdir().unwrap(),
    };
    copy_dir(&root.join("out"), out_before.dir.path());
    let before = out_before.tree(".");
    // A stage whose output cannot fit.
    let text = std::fs::read_to_string(root.join("pipeline.yaml")).unwrap();
    std::fs::write(root.join("pipeline.yaml"), format!("{text}  big:\n    kind: sql\n    sql: SELECT value, value * 2 AS twice, CAST(value AS VARCHAR) AS s FROM range(3000000)\n")).unwrap();
    let r = run_in(&root, &["run"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("No space left on device") && r.stderr.contains("big"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    let now = Project {
        dir: tempfile::tempdir().unwrap(),
    };
    copy_dir(&root.join("out"), now.dir.path());
    assert_eq!(now.tree("."), before, "earlier outputs changed");
    // The fixture's own pipeline runs again on the same disk.
    std::fs::write(root.join("pipeline.yaml"), text).unwrap();
    let r = run_in(&root, &["run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !walk(&root.join("out"))
            .iter()
            .any(|p| p.to_string_lossy().contains(".tmp-")),
        "a temp file was left"
    );
}

#[test]
fn a_read_only_output_folder_fails_with_its_path_and_the_next_run_recovers() {
    let p = fresh();
    std::fs::remove_dir_all(p.path("out")).unwrap();
    let Some(m) = Mount::tmpfs(&p.path("out"), "ro,size=1m") else {
        return;
    };
    let r = p.canary(&["run", "--force"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("Read-only file system") && r.stderr.contains("out/"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    drop(m);
    let r = p.canary(&["run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        p.tree("out"),
        Project {
            dir: tempfile::tempdir().unwrap()
        }
        .tree_of(&template().join("out"))
    );
}

#[test]
fn kill_9_at_random_moments_never_leaves_a_broken_state() {
    let reference = Project {
        dir: tempfile::tempdir().unwrap(),
    }
    .tree_of(&template().join("out"));
    let p = Project::from_fixture("engine");
    let data_before = tree(&p.path("data"));
    // A seeded sequence of delays from 0 to 400 ms into a cold run (the fixture runs in ~300 ms).
    let mut x: u64 = 2016;
    for _ in 0..10 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = (x >> 33) % 400;
        let _ = std::fs::remove_dir_all(p.path(".canary/cache"));
        let mut child = p
            .command(&["run", "--force"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        child.wait().unwrap();
        // Whatever is in out/ is whole: every Parquet file there is one a good run writes.
        for (path, bytes) in tree(&p.path("out")) {
            if path.contains(".tmp-") {
                continue;
            }
            let good = reference.iter().find(|(r, _)| *r == path).map(|(_, b)| b);
            assert_eq!(
                good,
                Some(&bytes),
                "out/{path} is not what a good run writes (killed after {delay} ms)"
            );
        }
        let r = p.canary(&["run"]);
        assert_eq!(r.code, 0, "after a kill at {delay} ms: {}", r.stderr);
        assert_eq!(p.tree("out"), reference, "after a kill at {delay} ms");
        assert_eq!(tree(&p.path("data")), data_before);
    }
}

#[test]
fn two_runs_at_once_both_finish_whole() {
    let reference = Project {
        dir: tempfile::tempdir().unwrap(),
    }
    .tree_of(&template().join("out"));
    let p = Project::from_fixture("engine");
    let a = p
        .command(&["run"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let b = p
        .command(&["run", "--force"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(p.tree("out"), reference);
    p.canary(&["status"]).ok();
}

fn run_in(root: &Path, args: &[&str]) -> common::Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_canary"));
    c.args(args).current_dir(root).env_remove("CANARY_MIRROR");
    run_bounded(c, Io::Normal, Duration::from_secs(120))
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
    {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(ok.success(), "mkfifo {}", path.display());
}

trait TreeOf {
    fn tree_of(&self, dir: &Path) -> Vec<(String, Vec<u8>)>;
}

impl TreeOf for Project {
    /// The tree of any folder, as [`Project::tree`] gives it for one of the project's.
    fn tree_of(&self, dir: &Path) -> Vec<(String, Vec<u8>)> {
        copy_dir(dir, &self.path("copy"));
        self.tree("copy")
    }
}

// ---- what a good run of the same inputs leaves ----

#[test]
fn an_external_source_is_accepted_when_declared_and_recorded_in_the_lock() {
    let p = fresh();
    let outside = tempfile::tempdir().unwrap();
    let file = outside.path().join("referrals.csv");
    std::fs::copy(p.path("data/referrals.csv"), &file).unwrap();
    p.edit(
        "pipeline.yaml",
        "path: data/referrals.csv",
        &format!("path: {}\n    external: true", file.display()),
    );
    p.canary(&["run"]).ok();
    assert!(
        p.read("pipeline.lock").contains("external: true"),
        "{}",
        p.read("pipeline.lock")
    );
    // canary writes nothing there, fetch included.
    std::fs::remove_file(&file).unwrap();
    let r = p.canary(&["fetch"]).fails(1);
    assert!(
        r.stderr
            .contains("is external (`external: true`) and missing"),
        "{}",
        r.stderr
    );
    assert!(!file.exists());
}

#[test]
fn a_quote_in_a_string_param_stays_inside_the_string() {
    let p = fresh();
    let outside = tempfile::tempdir().unwrap();
    p.edit(
        "pipeline.yaml",
        "  size: 10\n",
        "  size: 10\n  label: plain\n",
    );
    p.edit("pipeline.yaml", "    sql: SELECT count(*) AS n FROM range(${size})", "    sql: SELECT count(*) AS n, '${label}' AS quoted, ${label} AS typed FROM range(${size})");
    let evil = format!(
        "x'; COPY (SELECT 1) TO '{}/x.csv' --",
        outside.path().display()
    );
    p.canary(&["run", "-q", "--set", &format!("label={evil}")])
        .ok();
    assert!(
        listing(outside.path()).is_empty(),
        "wrote outside the project"
    );
    let row = p
        .canary(&[
            "sql",
            "select quoted, typed from counter",
            "--format",
            "json",
        ])
        .ok()
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&row).unwrap();
    assert_eq!(v[0]["quoted"], evil.as_str());
    assert_eq!(v[0]["typed"], evil.as_str());
}

#[test]
fn a_nullable_param_takes_an_empty_value() {
    let p = fresh();
    p.edit(
        "pipeline.yaml",
        "  size: 10\n",
        "  size: 10\n  note: null\n",
    );
    p.edit(
        "pipeline.yaml",
        "    sql: SELECT count(*) AS n FROM range(${size})",
        "    sql: SELECT count(*) AS n, COALESCE(${note}, 'none') AS note FROM range(${size})",
    );
    p.canary(&["run", "-q", "--set", "note="]).ok();
    let n = p
        .canary(&["sql", "select note from counter", "--format", "csv"])
        .ok()
        .stdout;
    assert_eq!(n, "note\nnone\n");
    p.canary(&["run", "-q", "--set", "note=hello"]).ok();
    let n = p
        .canary(&["sql", "select note from counter", "--format", "csv"])
        .ok()
        .stdout;
    assert_eq!(n, "note\nhello\n");
}

#[test]
fn a_run_that_changes_nothing_leaves_the_lock_byte_identical() {
    let p = fresh();
    let lock = p.bytes("pipeline.lock");
    let mtime = std::fs::metadata(p.path("pipeline.lock"))
        .unwrap()
        .modified()
        .unwrap();
    p.canary(&["run"]).ok();
    assert_eq!(p.bytes("pipeline.lock"), lock);
    assert_eq!(
        std::fs::metadata(p.path("pipeline.lock"))
            .unwrap()
            .modified()
            .unwrap(),
        mtime,
        "the lock was rewritten"
    );
    // A fresh clone has no cache: every stage runs again, makes the same bytes, and the lock
    // (with the times of the run that first made them) does not move.
    std::fs::remove_dir_all(p.path(".canary")).unwrap();
    let r = p.canary(&["run"]).ok();
    assert!(r.stdout.contains("done: 5 ran"), "{}", r.stdout);
    assert_eq!(
        String::from_utf8_lossy(&p.bytes("pipeline.lock")),
        String::from_utf8_lossy(&lock)
    );
    // The run's own times, host and commit are in the run log.
    let log = p.read(".canary/runs.jsonl");
    assert!(
        log.contains("\"action\":\"ran\"") && log.contains("\"host_os\""),
        "{log}"
    );
    assert!(!p.read("pipeline.lock").contains("host_os"));
}

#[test]
fn the_study_sql_is_substituted_byte_for_byte_as_before() {
    // The committed lock records each SQL stage's text hash: the typed substitution must give
    // the same text, or every study stage would run again (and its outputs could move).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let registry = canary::kinds::builtin();
    let pipeline = canary::pipeline::load(&root.join("pipeline.yaml"), &registry, &[]).unwrap();
    let lock = canary::lockfile::Lock::read(&root.join("pipeline.lock"))
        .unwrap()
        .unwrap();
    let mut checked = 0;
    for (name, stage) in &pipeline.stages {
        let (Some(sql), Some(rec)) = (&stage.sql, lock.stages.get(name)) else {
            continue;
        };
        assert_eq!(
            Some(canary::hash::sha256_bytes(sql.as_bytes())),
            rec.sql_sha256,
            "stage `{name}`'s SQL text changed"
        );
        checked += 1;
    }
    assert!(checked >= 2, "{checked}");
}

// ---- counts ----

#[test]
fn the_catalogue_has_at_least_sixty_cases_in_every_group() {
    let all: Vec<&Case> = [
        PIPELINE_FILE,
        COMMAND_LINE,
        SOURCES,
        SQL,
        CACHE_AND_LOCK,
        STREAMS,
    ]
    .iter()
    .flat_map(|g| g.iter())
    .collect();
    // The table-driven cases, and the environment tests written out above (a full disk, a
    // read-only output folder, kill -9, two runs at once, a closed pipe).
    let environment = 5;
    assert!(
        all.len() + environment >= 60,
        "{} cases",
        all.len() + environment
    );
    let located = all.iter().filter(|c| c.loc != Loc::Silent).count();
    let mut names: Vec<&str> = all.iter().map(|c| c.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), all.len(), "two cases share a name");
    eprintln!("bad-input catalogue: {} table cases + {environment} environment tests; {located} with a located message", all.len());
}

// ---- properties: no panic on arbitrary bytes ----

/// SplitMix64: a small, fully specified generator, so a failing input can be re-made from its
/// seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A mutation of `seed`: bytes flipped, spliced, cut or doubled, and pieces of the grammar's
/// own punctuation inserted — or, one time in eight, bytes from nowhere.
fn mutate(seed: &[u8], pieces: &[&str], rng: &mut Rng) -> Vec<u8> {
    if rng.below(8) == 0 {
        return (0..rng.below(300)).map(|_| rng.next() as u8).collect();
    }
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(b.len() + 1);
        match rng.below(6) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
            1 => {
                let end = (at + rng.below(40)).min(b.len());
                b.drain(at..end);
            }
            2 => {
                let p = pieces[rng.below(pieces.len())].as_bytes();
                b.splice(at..at, p.iter().copied());
            }
            3 if !b.is_empty() => {
                let from = rng.below(b.len());
                let end = (from + rng.below(60)).min(b.len());
                let chunk = b[from..end].to_vec();
                b.splice(at..at, chunk);
            }
            4 => b.truncate(at),
            _ => b.insert(
                at.min(b.len()),
                [b'\n', b' ', b'\t', b':', b'-', b'"', b'\''][rng.below(7)],
            ),
        }
    }
    b
}

#[test]
fn the_pipeline_parser_never_panics() {
    let seeds: Vec<Vec<u8>> = vec![
        std::fs::read(common::fixture("engine/pipeline.yaml")).unwrap(),
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("pipeline.yaml")).unwrap()[..6000]
            .to_vec(),
        b"name: x\nparams: &p {a: *p}\n".to_vec(),
    ];
    let pieces = [
        "${",
        "}",
        ": ",
        "- ",
        "[",
        "]",
        "{",
        "}",
        "&a ",
        "*a",
        "!!binary ",
        "? ",
        "|\n",
        ">-\n",
        "\"",
        "'",
        "#",
        "---\n",
        "...\n",
        "\\u0000",
        "kind: sql\n",
        "sql: COPY (SELECT 1) TO 'x'\n",
        "${model}",
        "external: true\n",
    ];
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("stages")).unwrap();
    std::fs::copy(
        common::fixture("engine/stages/la.sql"),
        dir.path().join("stages/la.sql"),
    )
    .unwrap();
    let file = dir.path().join("pipeline.yaml");
    let registry = canary::kinds::builtin();
    let mut rng = Rng(2016);
    for i in 0..1500 {
        let seed = &seeds[i % seeds.len()];
        let bytes = mutate(seed, &pieces, &mut rng);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let parsed = std::panic::catch_unwind(|| {
            let _ = canary::pipeline::spec::parse(&file, &text);
        });
        assert!(parsed.is_ok(), "spec::parse panicked on case {i}: {text:?}");
        if i % 3 == 0 {
            std::fs::write(&file, &bytes).unwrap();
            let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if let Err(e) = canary::pipeline::load(&file, &registry, &[]) {
                    let _ = e.to_string();
                }
            }));
            assert!(
                loaded.is_ok(),
                "pipeline::load panicked on case {i}: {text:?}"
            );
        }
    }
}

#[test]
fn the_formula_language_never_panics() {
    use canary::harmonise::formula;
    let seeds = [
        "pct(`ia_within_10_days{yy}`, `initial_assessments{yy}`)",
        "rate(sum(a, b, c::x) - zna(`d[category=A and B]`)) / 2",
        "-(-(1.5e3)) * population_0_17 + {mid}",
        "`rereferral_percent[category=Referrals and Re-referrals]`",
    ];
    let pieces = [
        "(", ")", "`", "::", ",", "+", "-", "*", "/", "{yy}", "{", "}", "rate(", "pct(", "sum(",
        "zna(", "1e999", ".", "é", "\u{0}",
    ];
    let mut rng = Rng(2026);
    for i in 0..20_000 {
        let bytes = mutate(seeds[i % seeds.len()].as_bytes(), &pieces, &mut rng);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let r = std::panic::catch_unwind(|| {
            let _ = formula::parse("fuzz", &text);
            let _ = formula::expand(&text, 2000 + (i % 30) as i32);
            let _ = formula::unknown_placeholders(&text);
        });
        assert!(
            r.is_ok(),
            "the formula language panicked on case {i}: {text:?}"
        );
    }
}

/// A project of the study's own files: the pipeline, `raw/`, `stages/`, the report's templates
/// and the paper's values (no outputs).
fn the_study_s_files() -> Project {
    let p = Project {
        dir: tempfile::tempdir().unwrap(),
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(root.join("pipeline.yaml"), p.path("pipeline.yaml")).unwrap();
    copy_dir(&root.join("raw"), &p.path("raw"));
    copy_dir(&root.join("stages"), &p.path("stages"));
    copy_dir(
        &root.join("reports/templates"),
        &p.path("reports/templates"),
    );
    std::fs::copy(
        root.join("reports/published_results.yaml"),
        p.path("reports/published_results.yaml"),
    )
    .unwrap();
    p
}

#[test]
fn new_years_params_without_the_new_files_name_the_source_that_lacks_the_year() {
    // The study's own files, which end in 2025 (the workforce census in 2026): the README's
    // "Adding a year of data" params set before the files are in.
    let p = the_study_s_files();
    let r = p
        .canary(&["run", "panel", "--set", "panel.to_year=2026"])
        .fails(1);
    assert!(
        r.stderr
            .contains("stage `panel` failed: the panel's years 2010..2026 reach past the data"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("source `c1_referrals` has no rows for 2026 (indicators re_referrals_pct"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("Adding a year of data"), "{}", r.stderr);
    assert!(!p.path("out/panel.parquet").exists());
}

/// A geography change that says something impossible stops the stage that reads the file at
/// the change's line of `stages/geography.yaml`, with the line and a caret.
#[test]
fn an_impossible_geography_change_is_shown_at_its_line() {
    let p = the_study_s_files();
    let text = p.read("stages/geography.yaml");
    let line = text
        .lines()
        .position(|l| l == "  - id: cheshire_2009")
        .expect("the real file has cheshire_2009")
        + 1;
    p.edit(
        "stages/geography.yaml",
        "  - id: cheshire_2009\n    effective: 2009-04-01\n    kind: split",
        "  - id: cheshire_2009\n    effective: 2009-04-01\n    kind: recode",
    );
    let r = p.canary(&["run", "ofsted"]).fails(1);
    for want in [
        format!("stages/geography.yaml:{line}:5"),
        format!("{line} |   - id: cheshire_2009"),
        "^".to_string(),
    ] {
        assert!(r.stderr.contains(&want), "lacks `{want}`:\n{}", r.stderr);
    }
}
