//! The `report` kind on its own test project (`tests/fixtures/report/project`, written by
//! `make_fixture.py` beside it: every stage the report reads, on 40 made-up LAs with the
//! study's indicator names) using the project's own templates and paper values: a snapshot of
//! `report.md`, the HTML parsed by an HTML5 parser with no network reference, the claims
//! ledger, Table 3's fallback, sentences that follow the params, a misnamed published item,
//! a sweep in the appendix, the RO-Crate — and the study itself, where the model is the
//! intercept alone — and Chromium rendering the page.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{copy_dir, Project};

/// The report's test project with the project's templates and paper values.
pub fn report_project() -> Project {
    let p = Project::from_fixture("report/project");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
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

/// Replace a source file of the project and its sha256 in pipeline.yaml.
fn rewrite_source(p: &Project, rel: &str, text: &str) {
    let old = canary::hash::sha256_file(&p.path(rel)).unwrap();
    p.write(rel, text);
    p.edit(
        "pipeline.yaml",
        &old,
        &canary::hash::sha256_bytes(text.as_bytes()),
    );
}

/// The text with run-specific blocks emptied, as the report's content hash sees it.
fn masked(text: &str) -> String {
    canary::kinds::report::without_run_specific(text)
}

/// The HTML parses as a browser would, with no error, no script, no reference outside itself,
/// and every in-page link landing on an anchor.
fn assert_self_contained(html: &str) {
    let doc = scraper::Html::parse_document(html);
    assert!(
        doc.errors.is_empty(),
        "report.html has HTML parse errors: {:?}",
        doc.errors
    );
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    let mut refs: Vec<String> = Vec::new();
    for el in doc.select(&sel("[src], [href], [xlink\\:href]")) {
        for attr in ["src", "href", "xlink:href"] {
            if let Some(v) = el.value().attr(attr) {
                refs.push(v.to_string());
            }
        }
    }
    for el in doc.select(&sel("style, [style]")) {
        let css = el
            .value()
            .attr("style")
            .map(str::to_string)
            .unwrap_or_else(|| el.text().collect());
        refs.extend(
            css.match_indices("url(")
                .map(|(i, _)| css[i..].chars().take(60).collect::<String>()),
        );
    }
    assert!(
        doc.select(&sel("script")).next().is_none(),
        "report.html carries a script"
    );
    for r in &refs {
        let external = r.contains("://")
            || r.starts_with("//")
            || r.starts_with("url(http")
            || r.starts_with("url(//");
        assert!(!external, "report.html refers outside itself: {r}");
    }
    let ids: Vec<String> = doc
        .select(&sel("[id]"))
        .filter_map(|e| e.value().attr("id").map(str::to_string))
        .collect();
    for r in refs.iter().filter(|r| r.starts_with('#')) {
        assert!(ids.contains(&r[1..].to_string()), "link {r} has no anchor");
    }
}

/// The text of the HTML (tags removed, whitespace runs as one space), for asserting sentences.
fn text_of(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let body = scraper::Selector::parse("body").unwrap();
    let text: String = doc.select(&body).flat_map(|b| b.text()).collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Markdown with line breaks as spaces, for asserting sentences that wrap.
fn flat(md: &str) -> String {
    md.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn report_md_matches_its_snapshot() {
    let p = report_project();
    p.canary(&["run", "-q"]).ok();
    let md = masked(&p.read("reports/report.md"));
    let snap = common::fixture("report/report.md.snap");
    if std::env::var_os("CANARY_BLESS").is_some() {
        std::fs::create_dir_all(snap.parent().unwrap()).unwrap();
        std::fs::write(&snap, &md).unwrap();
    }
    let want = std::fs::read_to_string(&snap)
        .expect("tests/fixtures/report/report.md.snap (CANARY_BLESS=1 writes it)");
    if md != want {
        let first = md
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(md.lines().count().min(want.lines().count()));
        panic!(
            "report.md differs from its snapshot from line {}:\n  got:  {:?}\n  want: {:?}\n(CANARY_BLESS=1 cargo test report_md rewrites the snapshot; review the diff)",
            first + 1,
            md.lines().nth(first),
            want.lines().nth(first)
        );
    }
    // The figures the Markdown shows sit beside it.
    for f in [
        "figures/figure2_1.svg",
        "figures/figure3.svg",
        "figures/cv_curve.svg",
        "figures/robustness_selection.svg",
        "figures/dag.svg",
    ] {
        assert!(
            md.contains(&format!("]({f})")),
            "report.md does not show {f}"
        );
        assert!(p.path(&format!("reports/{f}")).is_file(), "{f} is missing");
    }
}

#[test]
fn report_html_parses_and_is_self_contained() {
    let p = report_project();
    p.canary(&["run", "-q"]).ok();
    let html = p.read("reports/report.html");
    assert_self_contained(&html);
    // The sections, in the study's order, and a "how this was made" link beside each result.
    let order = [
        "claims",
        "data",
        "coverage",
        "breaks",
        "figure-2",
        "figure-3",
        "table-2",
        "robustness",
        "path",
        "direct",
        "table-3",
        "early-warning",
        "differences",
        "provenance",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|id| {
            html.find(&format!("id=\"{id}\""))
                .unwrap_or_else(|| panic!("no section {id}"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "sections out of order: {positions:?}"
    );
    for stage in [
        "panel",
        "trends",
        "correlations",
        "model",
        "model_sweep",
        "model_direct",
        "cohorts",
        "early_warning",
        "claims",
    ] {
        assert!(
            html.contains(&format!("href=\"#stage-{stage}\"")),
            "no link to the {stage} stage"
        );
    }
    // Provenance: each upstream stage's key and output hashes, as the lock records them.
    let lock = p.read("pipeline.lock");
    let lock: canary_yaml::Value = canary_yaml::from_str(&lock).unwrap();
    for stage in ["panel", "trends", "model", "model_sweep"] {
        let key = lock["stages"][stage]["key"].as_str().unwrap();
        assert!(html.contains(key), "the appendix lacks {stage}'s key");
        let out = lock["stages"][stage]["outputs"][0]["sha256"]
            .as_str()
            .unwrap();
        assert!(
            html.contains(out),
            "the appendix lacks {stage}'s output hash"
        );
    }
    // No chart title is cut short: long ones wrap.
    for title in html.split(r#"font-weight="bold">"#).skip(1) {
        let t = &title[..title.find("</text>").unwrap_or(0)];
        assert!(!t.ends_with('…'), "a chart title was cut: {t}");
    }
}

#[test]
fn report_is_the_same_whatever_the_jobs_and_rebuilt_when_deleted() {
    let a = report_project();
    a.canary(&["run", "-q", "--jobs", "1"]).ok();
    let b = report_project();
    b.canary(&["run", "-q", "--jobs", "4"]).ok();
    for f in ["reports/report.md", "reports/report.html"] {
        assert_eq!(
            masked(&a.read(f)),
            masked(&b.read(f)),
            "{f} depends on --jobs"
        );
    }
    assert_eq!(a.tree("out"), b.tree("out"));
    // The pages are byte for byte the same (nothing run-specific is on them).
    // (The RO-Crate beside them is the record of each run, with its dates.)
    let pages = |p: &Project| {
        p.tree("reports")
            .into_iter()
            .filter(|(f, _)| f != "ro-crate-metadata.json")
            .collect::<Vec<_>>()
    };
    assert_eq!(pages(&a), pages(&b));
}

/// The pages are outputs like the tables: a deleted or edited page is named by `status` and
/// restored from the cache; a switch of params and back restores the pages that match the
/// tables; `verify` names an edited page with the lines that differ.
#[test]
fn the_report_pages_are_checked_cached_and_restored() {
    let p = report_project();
    p.canary(&["run", "-q"]).ok();
    let page = p.read("reports/report.md");
    std::fs::remove_file(p.path("reports/report.html")).unwrap();
    let status = p.canary(&["status"]).ok();
    assert!(status.stdout.contains("report: will be restored from the cache, because output `reports/report.html` is missing"), "{}", status.stdout);
    let run = p.canary(&["run"]).ok();
    assert!(run.stdout.contains("restored  report"), "{}", run.stdout);
    assert!(p.path("reports/report.html").is_file());
    // A fabricated row: seen by status, by verify (with the line), and put right by run.
    p.write(
        "reports/report.md",
        &format!("{page}| fabricated | row |\n"),
    );
    let status = p.canary(&["status"]).ok();
    assert!(
        status
            .stdout
            .contains("output `reports/report.md` was modified"),
        "{}",
        status.stdout
    );
    let v = p.canary(&["verify"]).fails(1);
    assert!(
        v.stdout.contains("reports/report.md") && v.stdout.contains("fabricated"),
        "{}",
        v.stdout
    );
    // A stray figure in the report's folder is not one of its outputs.
    p.write("reports/figures/stray.svg", "<svg/>");
    assert!(p
        .canary(&["status"])
        .ok()
        .stdout
        .contains("`reports/figures/stray.svg` is not one of its outputs"));
    p.canary(&["run", "-q"]).ok();
    assert_eq!(p.read("reports/report.md"), page);
    assert!(!p.path("reports/figures/stray.svg").exists());
    // Other params, then back: the pages that match the study's tables come back.
    p.canary(&["run", "-q", "--set", "cohort_threshold=0.99"])
        .ok();
    assert_ne!(p.read("reports/report.md"), page);
    p.canary(&["run", "-q"]).ok();
    assert_eq!(p.read("reports/report.md"), page);
    assert!(p
        .canary(&["status"])
        .ok()
        .stdout
        .contains("everything is up to date"));
}

/// Every row of the claims table is in the ledger — claim, verdict (its mark and class),
/// evidence, rule, a link to the section and to the stage — and the counts per verdict.
#[test]
fn the_ledger_lists_every_claim_with_its_verdict_and_the_counts() {
    let p = report_project();
    p.canary(&["run", "-q"]).ok();
    let html = p.read("reports/report.html");
    let doc = scraper::Html::parse_document(&html);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    let mut claims = csv::Reader::from_path(p.path("claims.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = claims.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 6);
    let classes = [
        ("reproduced", "v-reproduced", "✓"),
        ("partly reproduced", "v-partly", "◐"),
        ("not reproduced", "v-not", "✗"),
        (
            "cannot be tested with the published data",
            "v-untestable",
            "?",
        ),
    ];
    for r in &rows {
        let (id, claim, verdict, evidence, rule, stage, anchor) =
            (&r[1], &r[3], &r[4], &r[5], &r[6], &r[7], &r[8]);
        let tr = doc
            .select(&sel(&format!("tr#claim-{id}")))
            .next()
            .unwrap_or_else(|| panic!("no ledger row for {id}"));
        let text: String = tr
            .text()
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let one_line = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        for want in [claim, evidence, rule, stage] {
            assert!(
                text.contains(&one_line(want)),
                "row {id} lacks {want:?}: {text}"
            );
        }
        let (_, class, mark) = classes.iter().find(|(v, ..)| *v == verdict).unwrap();
        let badge = tr
            .select(&sel(&format!("span.verdict.{class}")))
            .next()
            .unwrap_or_else(|| panic!("row {id}: no {class} badge"));
        assert_eq!(
            badge.text().collect::<String>(),
            format!("{mark} {verdict}"),
            "row {id}: the verdict is not readable without colour"
        );
        let links: Vec<&str> = tr
            .select(&sel("a"))
            .filter_map(|a| a.value().attr("href"))
            .collect();
        assert!(
            links.contains(&format!("#{anchor}").as_str())
                && links.contains(&format!("#stage-{stage}").as_str()),
            "row {id}: {links:?}"
        );
    }
    // Rows in their display order; one count per verdict, in words and marks.
    let order: Vec<String> = doc
        .select(&sel("table.ledger tr[id]"))
        .map(|e| e.value().attr("id").unwrap().to_string())
        .collect();
    assert_eq!(
        order,
        rows.iter()
            .map(|r| format!("claim-{}", &r[1]))
            .collect::<Vec<_>>()
    );
    let text = text_of(&html);
    assert!(text.contains("6 claims: ✓ 2 reproduced · ◐ 2 partly reproduced · ✗ 1 not reproduced · ? 1 cannot be tested with the published data"), "{}", &text[..600]);
    // The Markdown ledger: a table row per claim, a `|` in the evidence escaped, line breaks gone.
    let md = p.read("reports/report.md");
    assert!(md.contains("6 claims: **✓ 2 reproduced** · **◐ 2 partly reproduced** · **✗ 1 not reproduced** · **? 1 cannot be tested with the published data**"));
    assert!(md.contains("| **✗ not reproduced** | in-sample sensitivity \\| 0.50 against 0.68 (two lines in the source) |"), "{md}");
    assert_eq!(md.lines().filter(|l| l.contains("; stage [`")).count(), 6);
}

/// Without a `claims` stage the report says the ledger was not computed; a verdict outside the
/// four, or an anchor the report does not have, is an error naming the claim.
#[test]
fn the_ledger_says_when_it_was_not_computed_and_rejects_bad_rows() {
    let p = report_project();
    p.edit(
        "pipeline.yaml",
        "cohorts, early_warning, claims]",
        "cohorts, early_warning]",
    );
    p.canary(&["run", "-q"]).ok();
    let text = text_of(&p.read("reports/report.html"));
    assert!(
        text.contains(
            "The claims ledger was not computed: this report's stage does not read a claims stage"
        ),
        "{}",
        &text[..800]
    );
    assert!(flat(&p.read("reports/report.md")).contains("> The claims ledger was not computed"));
    assert_self_contained(&p.read("reports/report.html"));

    let p = report_project();
    let claims = p.read("claims.csv");
    rewrite_source(
        &p,
        "claims.csv",
        &claims.replacen(",partly reproduced,", ",maybe,", 1),
    );
    let run = p.canary(&["run", "-q"]).fails(1);
    assert!(run.stderr.contains("stage `report` failed: claim `table2_robust` (position 4) of `claims`: verdict `maybe` is not one of `reproduced`"), "{}", run.stderr);
    rewrite_source(
        &p,
        "claims.csv",
        &claims.replacen(",table-3\n", ",tabel-3\n", 1),
    );
    let run = p.canary(&["run", "-q"]).fails(1);
    assert!(
        run.stderr
            .contains("anchor `tabel-3` is not a section of this report (did you mean `table-3`?)"),
        "{}",
        run.stderr
    );
    rewrite_source(
        &p,
        "claims.csv",
        &claims.replacen(",cohorts,table-3\n", ",cohort,table-3\n", 1),
    );
    let run = p.canary(&["run", "-q"]).fails(1);
    assert!(run.stderr.contains("claim `protective_interventions` (position 5) of `claims`: stage `cohort` is not a stage or source of the pipeline"), "{}", run.stderr);
    // Evidence held by a source links to its row of the data section.
    rewrite_source(
        &p,
        "claims.csv",
        &claims.replacen(",trends,figure-2\n", ",panel_csv,coverage\n", 1),
    );
    p.canary(&["run", "-q"]).ok();
    let html = p.read("reports/report.html");
    assert!(html.contains(r##"<a href="#coverage">Coverage</a>; stage <a href="#source-panel_csv"><code>panel_csv</code></a>"##), "{html}");
    assert_self_contained(&html);
}

/// When the study's rule predicts no LA, Table 3 is the stated fallback's, saying which rule
/// made it and n per group; a group still empty is a sentence, not a table of dashes.
#[test]
fn table3_shows_the_fallback_when_the_study_rule_predicts_no_la() {
    let p = report_project();
    p.canary(&["run", "-q"]).ok();
    let text = text_of(&p.read("reports/report.html"));
    assert!(
        text.contains("Made by the study's rule, lambda.min, probability > 0.3."),
        "{text}"
    );
    assert!(!text.contains("predicts no LA"));

    p.canary(&["run", "-q", "--set", "cohort_threshold=0.99"])
        .ok();
    let rule = p
        .canary(&[
            "sql",
            "select distinct rule, a_members, b_members from cohorts_fallback",
            "--format",
            "csv",
        ])
        .ok()
        .stdout;
    let fallback: Vec<&str> = rule.lines().nth(1).unwrap().rsplitn(3, ',').collect(); // b, a, rule
    let html = p.read("reports/report.html");
    assert_self_contained(&html);
    let text = text_of(&html);
    assert!(text.contains("The study's rule predicts no LA inadequate in 2010–2012 (lambda.min, probability > 0.99): both its groups are empty."), "{text}");
    assert!(
        text.contains(&format!(
            "The table below is made by the stated fallback rule, {}.",
            fallback[2].trim_matches('"')
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("(n = {}; the paper's 16)", fallback[1]))
            && text.contains(&format!("(n = {}; the paper's 12)", fallback[0])),
        "{text}"
    );
    let md = flat(&p.read("reports/report.md"));
    assert!(
        md.contains("**The study's rule predicts no LA inadequate in 2010–2012**"),
        "{md}"
    );

    // No LA judged inadequate in the window: group B is empty under both rules, and says so.
    let ofsted = p.read("ofsted.csv");
    let judged_later: String = ofsted.lines().map(|l| if l.ends_with(",4,true") && !l.contains(",2013-") { l.replace(",4,true", ",3,true") } else { l.to_string() } + "\n").collect();
    rewrite_source(&p, "ofsted.csv", &judged_later);
    p.canary(&["run", "-q"]).ok();
    let html = p.read("reports/report.html");
    let text = text_of(&html);
    assert!(
        text.contains(
            "Group B is empty: no LA this rule predicts was judged inadequate in 2010–2012."
        ),
        "{text}"
    );
    let table3 =
        &html[html.find("id=\"table-3\"").unwrap()..html.find("id=\"early-warning\"").unwrap()];
    assert!(
        !table3.contains(">B: n<") && table3.contains(">A: n<"),
        "an empty group's columns are shown, or the other group's are not"
    );
    assert_self_contained(&html);
}

/// Windows, horizons, predictor years and outcomes are written from the params.
#[test]
fn sentences_follow_the_params() {
    let p = report_project();
    p.canary(&["run", "-q"]).ok();
    let text = text_of(&p.read("reports/report.html"));
    assert!(
        text.contains("outcome: judged inadequate in the two calendar years after"),
        "{text}"
    );
    assert!(
        text.contains("Predictors of 2012; outcome: judged inadequate in 2012 or 2013."),
        "{text}"
    );
    assert!(text.contains("Inadequate in 2012 or 2013"));

    p.canary(&[
        "run",
        "-q",
        "--set",
        "horizon=3",
        "--set",
        "origins=2017..2019",
        "--set",
        "predictor_year=2013",
        "--set",
        "outcome_window=2013..2015",
    ])
    .ok();
    let text = text_of(&p.read("reports/report.html"));
    assert!(
        text.contains("outcome: judged inadequate in the three calendar years after"),
        "{text}"
    );
    assert!(!text.contains("two calendar years"), "{text}");
    assert!(
        text.contains("Predictors of 2013; outcome: judged inadequate in 2013–2015."),
        "{text}"
    );
    assert!(
        text.contains("Our model's predictors are of 2013, the paper's of 2012."),
        "{text}"
    );
    assert!(
        text.contains("\"Inadequate in 2013–2015\" is taken from Ofsted's published judgements"),
        "{text}"
    );
    assert!(!text.contains("2012 or 2013\" is taken"), "{text}");
    let md = flat(&p.read("reports/report.md"));
    assert!(md.contains("outcome: judged inadequate in the three calendar years after"));
}

/// A published item naming an indicator the panel does not have fails the report stage,
/// naming the item, where it is, and the closest name.
#[test]
fn a_misnamed_published_item_is_a_located_error() {
    let p = report_project();
    p.edit(
        "reports/published_results.yaml",
        "  - indicators: [ia_within_10_days_pct,",
        "  - indicators: [ia_within_10_day_pct,",
    );
    let line = p
        .read("reports/published_results.yaml")
        .lines()
        .position(|l| l.contains("ia_within_10_day_pct"))
        .unwrap()
        + 1;
    let run = p.canary(&["run", "-q"]).fails(1);
    let want = format!("reports/published_results.yaml:{line}:18: trends[1].indicators[0] names `ia_within_10_day_pct`, which is not an indicator of the panel (`panel_definitions`); did you mean `ia_within_10_days_pct`?");
    assert!(
        run.stderr.contains("stage `report` failed") && run.stderr.contains(&want),
        "{}",
        run.stderr
    );
    assert!(
        !p.path("reports/report.html").exists(),
        "a report was written"
    );
}

/// A sweep is one entry of the appendix and one node of the graph, however many cells it has.
#[test]
fn a_sweep_is_one_entry_of_the_appendix() {
    let p = report_project();
    p.canary(&["run", "-q"]).ok();
    let html = p.read("reports/report.html");
    assert!(
        !html.contains("id=\"stage-model_sweep["),
        "a cell has its own entry"
    );
    assert!(
        !html.contains("#stage-model_sweep["),
        "a cell is drawn in the graph"
    );
    let text = text_of(&html);
    assert!(
        text.contains("model_sweep (fit, a sweep of 12 cells)"),
        "{text}"
    );
    assert!(text.contains("Swept: alpha over 0.5, 1 (2 values); missing over median, drop (2 values); seed over 1, 2, 3 (3 values)."), "{text}");
    assert!(text.contains("12 of 12 cells recorded"));
    // Up to twelve cells, each is listed with its key.
    let lock: canary_yaml::Value = canary_yaml::from_str(&p.read("pipeline.lock")).unwrap();
    let cell = lock["stages"]["model_sweep[alpha=0.5,missing=drop,seed=2]"]["key"]
        .as_str()
        .unwrap();
    assert!(html.contains(cell), "the cell's key is not listed");

    // More cells: a summary, not a table of them.
    p.canary(&["run", "-q", "--set", "seeds=1..5"]).ok();
    let html = p.read("reports/report.html");
    let text = text_of(&html);
    assert!(
        text.contains("model_sweep (fit, a sweep of 20 cells)")
            && text.contains("seed over 1..5 (5 values)")
            && text.contains("20 of 20 cells recorded"),
        "{text}"
    );
    let lock: canary_yaml::Value = canary_yaml::from_str(&p.read("pipeline.lock")).unwrap();
    let cell = lock["stages"]["model_sweep[alpha=0.5,missing=drop,seed=2]"]["key"]
        .as_str()
        .unwrap();
    assert!(!html.contains(cell), "twenty cells are listed one by one");
    assert_eq!(html.matches("id=\"stage-model_sweep\"").count(), 1);
}

/// Intercept-only fits are labelled so and kept out of the figures they would distort.
#[test]
fn intercept_only_fits_are_reported_apart() {
    let p = report_project();
    p.canary(&["run", "-q"]).ok();
    let text = text_of(&p.read("reports/report.html"));
    let sweep = p
        .canary(&[
            "sql",
            "select count(*) n from model_sweep_summary where intercept_only",
            "--format",
            "csv",
        ])
        .ok()
        .stdout;
    let alone: usize = sweep.lines().nth(1).unwrap().parse().unwrap();
    assert!(
        alone > 0 && alone < 12,
        "the fixture's sweep mixes intercept-only fits and others: {alone}"
    );
    assert!(
        text.contains(&format!("the intercept alone in {alone} of 12 fits")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "over the {} fits that kept at least one predictor",
            12 - alone
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Intercept-only fits, apart: {alone}, each with dev.ratio 0"
        )),
        "{text}"
    );
    // The early-warning origin whose model is the intercept alone.
    assert!(text.contains("canary (intercept only)"), "{text}");
    assert!(
        text.contains("Intercept only: at 2016 (AUC 0.50, interval 0.50–0.50)"),
        "{text}"
    );
    assert!(text.contains("Tested out of time at 3 origins whose model kept a lead indicator (2017, 2018 and 2019; the intercept-only origin left out)"), "{text}");
    // The fit at the paper's sparsity is labelled as not the cross-validated choice.
    assert!(text.contains("The fit at the paper's sparsity — not the cross-validated choice."));
}

#[test]
fn ro_crate_describes_the_run_with_checksums() {
    let p = report_project();
    p.canary(&["run", "-q"]).ok();
    let text = p.read("reports/ro-crate-metadata.json");
    let crate_json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let graph = crate_json["@graph"].as_array().unwrap();
    let by_id = |id: &str| {
        graph
            .iter()
            .find(|e| e["@id"] == id)
            .unwrap_or_else(|| panic!("no entity {id}"))
    };
    let descriptor = by_id("ro-crate-metadata.json");
    assert_eq!(descriptor["about"]["@id"], "./");
    let root = by_id("./");
    let profiles: Vec<&str> = root["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["@id"].as_str())
        .collect();
    assert!(
        profiles.contains(&"https://w3id.org/ro/wfrun/workflow/0.5"),
        "{profiles:?}"
    );
    let workflow = by_id(root["mainEntity"]["@id"].as_str().unwrap());
    assert_eq!(workflow["@id"], "../pipeline.yaml");
    assert!(workflow["@type"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "ComputationalWorkflow"));
    let run = by_id("#run");
    assert_eq!(run["@type"], "CreateAction");
    assert_eq!(run["instrument"]["@id"], "../pipeline.yaml");
    // Inputs and outputs carry the hashes of the files on disk.
    let object: Vec<&str> = run["object"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["@id"].as_str())
        .collect();
    assert!(object.contains(&"../panel.csv"), "{object:?}");
    let result: Vec<&str> = run["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["@id"].as_str())
        .collect();
    for id in [
        "../out/trends.parquet",
        "report.html",
        "report.md",
        "figures/figure3.svg",
    ] {
        assert!(result.contains(&id), "{id} is not a result: {result:?}");
        let on_disk = canary::hash::sha256_file(&p.path("reports").join(id)).unwrap();
        assert_eq!(by_id(id)["sha256"], on_disk.as_str(), "{id}");
    }
    // One action per stage, with its key.
    let model = by_id("#stage-model");
    let lock: canary_yaml::Value = canary_yaml::from_str(&p.read("pipeline.lock")).unwrap();
    assert_eq!(
        model["identifier"].as_str(),
        lock["stages"]["model"]["key"].as_str()
    );
}

/// The study on the published files (its sweep cut to two fold seeds): cross-validation keeps
/// the intercept alone, so Table 3 is the fallback's and says so; the 2018 origin is labelled
/// intercept-only; a sweep of 20 cells is one appendix entry; and the sentences follow
/// `--set early_warning.horizon=3` and `--profile new_years`.
#[test]
fn the_study_report_follows_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(root.join("pipeline.yaml"), dir.path().join("pipeline.yaml")).unwrap();
    for d in ["raw", "stages", "reports/templates"] {
        copy_dir(&root.join(d), &dir.path().join(d));
    }
    std::fs::copy(
        root.join("reports/published_results.yaml"),
        dir.path().join("reports/published_results.yaml"),
    )
    .unwrap();
    let p = Project { dir };
    let small = ["--set", "sweep.seeds=1..2"];
    let run = |extra: &[&str]| {
        p.canary(&[&["run", "-q"][..], &small[..], extra].concat())
            .ok()
    };

    run(&[]);
    let html = p.read("reports/report.html");
    assert_self_contained(&html);
    let text = text_of(&html);
    assert!(
        text.contains("Cross-validation chose the intercept alone"),
        "{text}"
    );
    assert!(text.contains("The study's rule predicts no LA inadequate in 2010–2012 (lambda.min, probability > 0.5): both its groups are empty, since cross-validation kept the intercept alone"), "{text}");
    assert!(text.contains("The table below is made by the stated fallback rule, paper_sparsity, probability > prevalence 0.1400."), "{text}");
    assert!(
        text.contains("Intercept only: at 2018 (AUC 0.50, interval 0.50–0.50)"),
        "{text}"
    );
    assert!(
        text.contains("the intercept alone in 20 of 20 fits (100%)"),
        "{text}"
    );
    assert!(
        text.contains("outcome: judged inadequate in the two calendar years after"),
        "{text}"
    );
    assert!(text.contains("Agency social worker rate (FTE %) (agency_rate_pct): not in the model's design: the panel holds it by LA only from 2016"), "{text}");
    assert!(
        text.contains("model_sweep (fit, a sweep of 20 cells)")
            && !html.contains("id=\"stage-model_sweep["),
        "{text}"
    );
    assert!(
        text.contains("The claims ledger was not computed") || text.contains(" claims: "),
        "{text}"
    );

    run(&[
        "--set",
        "early_warning.horizon=3",
        "--set",
        "early_warning.origins=2019..2022",
    ]);
    let text = text_of(&p.read("reports/report.html"));
    assert!(
        text.contains("outcome: judged inadequate in the three calendar years after"),
        "{text}"
    );
    assert!(!text.contains("two calendar years"), "{text}");

    run(&["--profile", "new_years"]);
    let text = text_of(&p.read("reports/report.html"));
    assert!(
        text.contains("Predictors of 2019; outcome: judged inadequate in 2020 or 2021."),
        "{text}"
    );
    assert!(
        text.contains("\"Inadequate in 2020 or 2021\" is taken from Ofsted's published judgements"),
        "{text}"
    );
    assert!(!text.contains("\"Inadequate in 2012 or 2013\""), "{text}");
    // That model has the workforce rates: the report does not say they are absent.
    assert!(
        text.contains(
            "Social worker vacancy rate (FTE %); Agency social worker rate (FTE %) are among ours"
        ),
        "{text}"
    );
    assert!(
        !text.contains("(agency_rate_pct): not in the model's design"),
        "{text}"
    );
    assert!(text.contains("Initial assessments completed within 10 working days (%) (ia_within_10_days_pct): not in the model's design: the panel holds it by LA only to 2014, before the predictor year 2019"), "{text}");
    assert!(
        text.contains("LAs first predicted inadequate in 2019–2021"),
        "{text}"
    );
}

/// Debian's chromium, or the browser CANARY_CHROMIUM names.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CANARY_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
        {
            let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if out.status.success() && !path.is_empty() {
                return Some(PathBuf::from(path));
            }
        }
    }
    None
}

fn headless(browser: &Path, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
    ]);
    c.arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[test]
#[ignore = "needs chromium (apt-get install chromium)"]
fn chromium_renders_the_report() {
    let browser = chromium().unwrap_or_else(|| panic!("needs chromium (apt-get install chromium): none on PATH, and CANARY_CHROMIUM is not set"));
    let p = report_project();
    p.canary(&["run", "-q"]).ok();
    let page = format!("file://{}", p.path("reports/report.html").display());
    let profile = tempfile::tempdir().unwrap();

    // The DOM after rendering: the study's headings are there.
    let dom = headless(&browser, profile.path())
        .arg("--dump-dom")
        .arg(&page)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    for h in [
        "Claims ledger",
        "The data",
        "Figure 2: national trends",
        "Figure 3: correlations",
        "Table 2: the model",
        "How robust Table 2 is",
        "The paper's terms tested directly",
        "Table 3: the cohorts",
        "Provenance",
    ] {
        assert!(dom.contains(h), "the rendered page lacks the heading {h:?}");
    }

    // A screenshot: a real page is not one colour.
    let shot = p.path("report.png");
    let out = headless(&browser, profile.path())
        .args(["--hide-scrollbars", "--window-size=1200,3000"])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        shot.is_file(),
        "chromium wrote no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let channels = info.color_type.samples();
    let pixels = bytes.len() / channels;
    let dark = bytes
        .chunks(channels)
        .filter(|px| px.iter().take(3).map(|&c| c as u32).sum::<u32>() < 3 * 128)
        .count();
    let colours: std::collections::BTreeSet<&[u8]> = bytes.chunks(channels).take(200_000).collect();
    assert!(
        info.width >= 1000 && info.height >= 2000,
        "{}x{}",
        info.width,
        info.height
    );
    assert!(
        dark * 1000 > pixels,
        "the page looks blank: {dark} dark pixels of {pixels}"
    );
    assert!(
        colours.len() > 8,
        "the page has {} colours: no charts were drawn",
        colours.len()
    );
}

/// A template that does not parse stops the report at its line and column of the template,
/// with the line and a caret, and writes no report.
#[test]
fn a_template_that_does_not_parse_is_shown_at_its_line() {
    let p = report_project();
    p.edit(
        "reports/templates/report.md.tera",
        "{% if claims.computed -%}",
        "{% if claims.computed -%",
    );
    let run = p.canary(&["run", "-q"]).fails(1);
    for want in [
        "stage `report` failed: template `reports/templates/report.md.tera` does not parse",
        "reports/templates/report.md.tera:10:",
        "10 | {% if claims.computed -%",
        "^",
    ] {
        assert!(run.stderr.contains(want), "lacks `{want}`:\n{}", run.stderr);
    }
    assert!(
        !p.path("reports/report.md").exists(),
        "a report was written"
    );
}

/// A template that parses but names what the report's context lacks stops the report at that
/// name's line and column, and writes no report.
#[test]
fn a_template_naming_what_the_context_lacks_is_shown_at_its_line() {
    let p = report_project();
    p.edit(
        "reports/templates/report.md.tera",
        "{% if claims.computed -%}",
        "{{ claims.nonexistent }}{% if claims.computed -%}",
    );
    let run = p.canary(&["run", "-q"]).fails(1);
    for want in [
        "stage `report` failed: template `reports/templates/report.md.tera`",
        "`claims.nonexistent` not found",
        "reports/templates/report.md.tera:10:4",
        "10 | {{ claims.nonexistent }}",
        "^",
    ] {
        assert!(run.stderr.contains(want), "lacks `{want}`:\n{}", run.stderr);
    }
    assert!(
        !p.path("reports/report.md").exists(),
        "a report was written"
    );
}
