//! The `report` kind on a small pipeline (the statistics fixture plus a report stage using the
//! project's own templates): a snapshot of `report.md`, the HTML parsed by an HTML5 parser with
//! no network reference, the RO-Crate, and Chromium rendering the page.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{copy_dir, Project};

const REPORT_STAGE: &str = "
  report:
    kind: report
    inputs: [panel, trends, correlations, model, cohorts]
    description: The study report on the fixture's panels.
    params:
      templates: reports/templates
      published: reports/published_results.yaml
      out_dir: reports
";

/// The statistics fixture with a report stage and the project's templates and paper values.
pub fn report_project() -> Project {
    let p = Project::from_fixture("stats");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&root.join("reports/templates"), &p.path("reports/templates"));
    std::fs::copy(root.join("reports/published_results.yaml"), p.path("reports/published_results.yaml")).unwrap();
    let mut yaml = p.read("pipeline.yaml");
    yaml.push_str(REPORT_STAGE);
    p.write("pipeline.yaml", &yaml);
    p
}

/// The text with run-specific blocks emptied, as the report's content hash sees it.
fn masked(text: &str) -> String {
    canary::kinds::report::without_run_specific(text)
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
    let want = std::fs::read_to_string(&snap).expect("tests/fixtures/report/report.md.snap (CANARY_BLESS=1 writes it)");
    if md != want {
        let first = md.lines().zip(want.lines()).position(|(a, b)| a != b).unwrap_or(md.lines().count().min(want.lines().count()));
        panic!(
            "report.md differs from its snapshot from line {}:\n  got:  {:?}\n  want: {:?}\n(CANARY_BLESS=1 cargo test report_md rewrites the snapshot; review the diff)",
            first + 1,
            md.lines().nth(first),
            want.lines().nth(first)
        );
    }
    // The figures the Markdown shows sit beside it.
    for f in ["figures/figure2_1.svg", "figures/figure3.svg", "figures/cv_curve.svg", "figures/dag.svg"] {
        assert!(md.contains(&format!("]({f})")), "report.md does not show {f}");
        assert!(p.path(&format!("reports/{f}")).is_file(), "{f} is missing");
    }
}

#[test]
fn report_html_parses_and_is_self_contained() {
    let p = report_project();
    p.canary(&["run", "-q"]).ok();
    let html = p.read("reports/report.html");
    let doc = scraper::Html::parse_document(&html);
    assert!(doc.errors.is_empty(), "report.html has HTML parse errors: {:?}", doc.errors);

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
        let css = el.value().attr("style").map(str::to_string).unwrap_or_else(|| el.text().collect());
        refs.extend(css.match_indices("url(").map(|(i, _)| css[i..].chars().take(60).collect::<String>()));
    }
    assert!(doc.select(&sel("script")).next().is_none(), "report.html carries a script");
    for r in &refs {
        let external = r.contains("://") || r.starts_with("//") || r.starts_with("url(http") || r.starts_with("url(//");
        assert!(!external, "report.html refers outside itself: {r}");
    }
    // Every in-page link lands on an anchor.
    let ids: Vec<String> = doc.select(&sel("[id]")).filter_map(|e| e.value().attr("id").map(str::to_string)).collect();
    for r in refs.iter().filter(|r| r.starts_with('#')) {
        assert!(ids.contains(&r[1..].to_string()), "link {r} has no anchor");
    }
    // The sections, in the study's order, and a "how this was made" link beside each result.
    let order = ["data", "coverage", "breaks", "figure-2", "figure-3", "table-2", "table-3", "differences", "provenance"];
    let positions: Vec<usize> = order.iter().map(|id| html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no section {id}"))).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "sections out of order: {positions:?}");
    for stage in ["panel", "trends", "correlations", "model", "cohorts"] {
        assert!(html.contains(&format!("href=\"#stage-{stage}\"")), "no link to the {stage} stage");
    }
    // Provenance: each upstream stage's key and output hashes, as the lock records them.
    let lock = p.read("pipeline.lock");
    let lock: serde_yaml::Value = serde_yaml::from_str(&lock).unwrap();
    for stage in ["panel", "trends", "model"] {
        let key = lock["stages"][stage]["key"].as_str().unwrap();
        assert!(html.contains(key), "the appendix lacks {stage}'s key");
        let out = lock["stages"][stage]["outputs"][0]["sha256"].as_str().unwrap();
        assert!(html.contains(out), "the appendix lacks {stage}'s output hash");
    }
}

#[test]
fn report_is_the_same_whatever_the_jobs_and_rebuilt_when_deleted() {
    let a = report_project();
    a.canary(&["run", "-q", "--jobs", "1"]).ok();
    let b = report_project();
    b.canary(&["run", "-q", "--jobs", "4"]).ok();
    for f in ["reports/report.md", "reports/report.html"] {
        assert_eq!(masked(&a.read(f)), masked(&b.read(f)), "{f} depends on --jobs");
    }
    assert_eq!(a.tree("out"), b.tree("out"));
    // Deleting the rendered report runs the stage again, though its table is cached.
    std::fs::remove_file(a.path("reports/report.html")).unwrap();
    let run = a.canary(&["run"]).ok();
    assert!(run.stdout.contains("ran       report"), "{}", run.stdout);
    assert!(a.path("reports/report.html").is_file());
}

#[test]
fn ro_crate_describes_the_run_with_checksums() {
    let p = report_project();
    p.canary(&["run", "-q"]).ok();
    let text = p.read("reports/ro-crate-metadata.json");
    let crate_json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let graph = crate_json["@graph"].as_array().unwrap();
    let by_id = |id: &str| graph.iter().find(|e| e["@id"] == id).unwrap_or_else(|| panic!("no entity {id}"));
    let descriptor = by_id("ro-crate-metadata.json");
    assert_eq!(descriptor["about"]["@id"], "./");
    let root = by_id("./");
    let profiles: Vec<&str> = root["conformsTo"].as_array().unwrap().iter().filter_map(|c| c["@id"].as_str()).collect();
    assert!(profiles.contains(&"https://w3id.org/ro/wfrun/workflow/0.5"), "{profiles:?}");
    let workflow = by_id(root["mainEntity"]["@id"].as_str().unwrap());
    assert_eq!(workflow["@id"], "../pipeline.yaml");
    assert!(workflow["@type"].as_array().unwrap().iter().any(|t| t == "ComputationalWorkflow"));
    let run = by_id("#run");
    assert_eq!(run["@type"], "CreateAction");
    assert_eq!(run["instrument"]["@id"], "../pipeline.yaml");
    // Inputs and outputs carry the hashes of the files on disk.
    let object: Vec<&str> = run["object"].as_array().unwrap().iter().filter_map(|o| o["@id"].as_str()).collect();
    assert!(object.contains(&"../panel.csv"), "{object:?}");
    let result: Vec<&str> = run["result"].as_array().unwrap().iter().filter_map(|o| o["@id"].as_str()).collect();
    for id in ["../out/trends.parquet", "report.html", "report.md", "figures/figure3.svg"] {
        assert!(result.contains(&id), "{id} is not a result: {result:?}");
        let on_disk = canary::hash::sha256_file(&p.path("reports").join(id)).unwrap();
        assert_eq!(by_id(id)["sha256"], on_disk.as_str(), "{id}");
    }
    // One action per stage, with its key.
    let model = by_id("#stage-model");
    let lock: serde_yaml::Value = serde_yaml::from_str(&p.read("pipeline.lock")).unwrap();
    assert_eq!(model["identifier"].as_str(), lock["stages"]["model"]["key"].as_str());
}

/// Debian's chromium, or the browser CANARY_CHROMIUM names.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CANARY_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("sh").args(["-c", &format!("command -v {name}")]).output() {
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
    let dom = headless(&browser, profile.path()).arg("--dump-dom").arg(&page).output().unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    for h in ["The data", "Figure 2: national trends", "Figure 3: correlations", "Table 2: the model", "Table 3: the cohorts", "Provenance"] {
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
    assert!(shot.is_file(), "chromium wrote no screenshot: {}", String::from_utf8_lossy(&out.stderr));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let channels = info.color_type.samples();
    let pixels = bytes.len() / channels;
    let dark = bytes.chunks(channels).filter(|px| px.iter().take(3).map(|&c| c as u32).sum::<u32>() < 3 * 128).count();
    let colours: std::collections::BTreeSet<&[u8]> = bytes.chunks(channels).take(200_000).collect();
    assert!(info.width >= 1000 && info.height >= 2000, "{}x{}", info.width, info.height);
    assert!(dark * 1000 > pixels, "the page looks blank: {dark} dark pixels of {pixels}");
    assert!(colours.len() > 8, "the page has {} colours: no charts were drawn", colours.len());
}
