//! The run as an RO-Crate (`ro-crate-metadata.json` beside the report), Workflow Run Crate
//! profile 0.5: the workflow (`pipeline.yaml`), the run (one `CreateAction`, with one more per
//! stage), the published files it read and the tables and report files it made, each with its
//! SHA-256 — the research object an academic deposits with a paper.
//!
//! The crate's root is the report folder. The workflow, its inputs and the stage outputs live
//! beside it in the project, so they are referenced by paths relative to the crate
//! (`../pipeline.yaml`, `../raw/…`, `../out/…`), as a crate describing a project in place
//! does; the report files are inside it.
//!
//! Written from the lock after every run that includes a `report` stage, like the lock it
//! carries the run's dates; `canary verify --crate` reads its checksums back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::lockfile::Lock;
use crate::pipeline::Pipeline;

pub const FILE_NAME: &str = "ro-crate-metadata.json";

const OGL: &str = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/";

/// Write the crate for the report stage `report_stage` (its `out_dir` param names the folder).
pub fn write(pipeline: &Pipeline, lock: &Lock, report_stage: &str) -> Result<PathBuf> {
    let stage = &pipeline.stages[report_stage];
    let out_dir = stage
        .params
        .get("out_dir")
        .and_then(|v| v.as_str())
        .unwrap_or("reports");
    let dir = pipeline.root.join(out_dir);
    let crate_json = build(pipeline, lock, &dir)?;
    let mut text =
        serde_json::to_string_pretty(&crate_json).map_err(|e| Error::data(&dir, e.to_string()))?;
    text.push('\n');
    let path = dir.join(FILE_NAME);
    crate::fsio::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// A path of the project, as the crate (rooted at `dir`) refers to it.
fn crate_id(pipeline: &Pipeline, dir: &Path, rel: &str) -> String {
    let abs = pipeline.root.join(rel);
    if let Ok(inside) = abs.strip_prefix(dir) {
        return inside.to_string_lossy().replace('\\', "/");
    }
    let depth = dir
        .strip_prefix(&pipeline.root)
        .map(|p| p.components().count())
        .unwrap_or(1);
    format!("{}{}", "../".repeat(depth), rel.replace('\\', "/"))
}

fn end_time(started: &str, duration_ms: u64) -> Option<String> {
    let t = humantime::parse_rfc3339_weak(started).ok()?;
    let end = t + std::time::Duration::from_millis(duration_ms);
    Some(humantime::format_rfc3339_seconds(end).to_string())
}

pub fn build(pipeline: &Pipeline, lock: &Lock, dir: &Path) -> Result<Value> {
    let id = |rel: &str| crate_id(pipeline, dir, rel);
    let mut graph: Vec<Value> = Vec::new();
    let mut parts: Vec<Value> = Vec::new();
    let workflow_id = id(&pipeline.relative(&pipeline.file));

    // Inputs: the published files, with publisher, licence and landing page.
    let mut publishers: BTreeMap<String, String> = BTreeMap::new();
    let mut inputs: Vec<Value> = Vec::new();
    let mut file_ids: BTreeMap<String, String> = BTreeMap::new(); // source/stage name → ids
    for (name, src) in &pipeline.sources {
        let Some(rec) = lock.sources.get(name) else {
            continue;
        };
        let fid = id(&rec.path);
        let mut e = json!({
            "@id": fid, "@type": "File", "name": name,
            "sha256": rec.sha256, "contentSize": rec.bytes.to_string(),
        });
        if let Some(d) = &src.description {
            e["description"] = json!(d);
        }
        if let Some(p) = &src.publisher {
            let pid = format!("#publisher-{}", slug(p));
            publishers.insert(pid.clone(), p.clone());
            e["publisher"] = json!({"@id": pid});
        }
        if let Some(l) = &src.licence {
            e["license"] = if l.to_ascii_uppercase().starts_with("OGL") {
                json!({"@id": OGL})
            } else {
                json!(l)
            };
        }
        if let Some(u) = src.landing_page.as_ref().or(src.url.as_ref()) {
            e["url"] = json!(u);
        }
        file_ids.insert(name.clone(), fid.clone());
        inputs.push(json!({"@id": fid}));
        parts.push(json!({"@id": fid}));
        graph.push(e);
    }
    for (pid, name) in &publishers {
        graph.push(json!({"@id": pid, "@type": "Organization", "name": name}));
    }
    if pipeline.sources.values().any(|s| {
        s.licence
            .as_deref()
            .is_some_and(|l| l.to_ascii_uppercase().starts_with("OGL"))
    }) {
        graph.push(
            json!({"@id": OGL, "@type": "CreativeWork", "name": "Open Government Licence v3.0"}),
        );
    }

    // One action per stage, in pipeline order; the files each made.
    let mut outputs: Vec<Value> = Vec::new();
    let mut stage_actions: Vec<Value> = Vec::new();
    let mut kinds: BTreeMap<String, u32> = BTreeMap::new();
    let (mut first, mut last): (Option<String>, Option<String>) = (None, None);
    for name in &pipeline.order {
        let Some(rec) = lock.stages.get(name) else {
            continue;
        };
        kinds.insert(rec.kind.clone(), rec.kind_version);
        let mut results = Vec::new();
        for o in &rec.outputs {
            let oid = id(&o.path);
            graph.push(json!({
                "@id": oid, "@type": "File",
                "name": match &o.table { Some(t) => format!("{name}: {t}"), None => name.clone() },
                "encodingFormat": "application/vnd.apache.parquet",
                "sha256": o.sha256, "contentSize": o.bytes.to_string(),
                "description": format!("{} rows; columns {}", o.rows, o.schema.join(", ")),
            }));
            results.push(json!({"@id": oid}));
            outputs.push(json!({"@id": oid}));
            parts.push(json!({"@id": oid}));
        }
        let objects: Vec<Value> = rec
            .inputs
            .keys()
            .flat_map(|i| match file_ids.get(i) {
                Some(f) => vec![json!({"@id": f})],
                None => lock
                    .stages
                    .get(i)
                    .map(|r| {
                        r.outputs
                            .iter()
                            .map(|o| json!({"@id": id(&o.path)}))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .chain(rec.files.keys().map(|f| json!({"@id": id(f)})))
            .collect();
        let end = end_time(&rec.started, rec.duration_ms);
        if first.as_ref().is_none_or(|f| rec.started < *f) {
            first = Some(rec.started.clone());
        }
        if let Some(e) = &end {
            if last.as_ref().is_none_or(|l| e > l) {
                last = Some(e.clone());
            }
        }
        let aid = format!("#stage-{name}");
        let mut action = json!({
            "@id": aid, "@type": "CreateAction", "name": format!("stage `{name}` ({})", rec.kind),
            "instrument": {"@id": format!("#kind-{}", rec.kind)},
            "object": objects, "result": results,
            "startTime": rec.started, "identifier": rec.key,
            "actionStatus": {"@id": "http://schema.org/CompletedActionStatus"},
        });
        if let Some(e) = end {
            action["endTime"] = json!(e);
        }
        if let Some(d) = &pipeline.stages[name].description {
            action["description"] = json!(d);
        }
        stage_actions.push(json!({"@id": aid}));
        graph.push(action);
    }
    for (kind, version) in &kinds {
        graph.push(json!({
            "@id": format!("#kind-{kind}"), "@type": "SoftwareApplication",
            "name": format!("canary stage kind `{kind}`"), "version": version.to_string(),
            "isPartOf": {"@id": "#canary"},
        }));
    }

    // The project files stages read (SQL, YAML dictionaries, templates).
    let mut project_files: Vec<String> = lock
        .stages
        .values()
        .flat_map(|r| r.files.keys().cloned())
        .collect();
    project_files.extend(pipeline.stages.values().filter_map(|s| s.sql_file.clone()));
    project_files.sort();
    project_files.dedup();
    for f in &project_files {
        let path = pipeline.root.join(f);
        let sha = crate::hash::sha256_file(&path).ok();
        let mut e = json!({"@id": id(f), "@type": "File", "name": f});
        if let Some(s) = sha {
            e["sha256"] = json!(s);
        }
        graph.push(e);
    }

    // The report's own files, inside the crate.
    for rel in report_files(dir) {
        let bytes =
            std::fs::read(dir.join(&rel)).map_err(|e| Error::io("read", dir.join(&rel), e))?;
        let format = if rel.ends_with(".html") {
            "text/html"
        } else if rel.ends_with(".md") {
            "text/markdown"
        } else {
            "image/svg+xml"
        };
        graph.push(json!({
            "@id": rel, "@type": "File", "name": rel, "encodingFormat": format,
            "sha256": crate::hash::sha256_bytes(&bytes), "contentSize": bytes.len().to_string(),
        }));
        outputs.push(json!({"@id": rel}));
        parts.push(json!({"@id": rel}));
    }

    let wf_sha = crate::hash::sha256_file(&pipeline.file).ok();
    let mut workflow = json!({
        "@id": workflow_id, "@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow"],
        "name": pipeline.name, "programmingLanguage": {"@id": "#canary-pipeline"},
        "hasPart": project_files.iter().map(|f| json!({"@id": id(f)})).collect::<Vec<_>>(),
    });
    if let Some(s) = wf_sha {
        workflow["sha256"] = json!(s);
    }
    if let Some(d) = &pipeline.description {
        workflow["description"] = json!(d);
    }
    parts.insert(0, json!({"@id": workflow_id}));
    graph.push(workflow);
    graph.push(json!({
        "@id": "#canary-pipeline", "@type": "ComputerLanguage", "name": "canary pipeline.yaml",
        "version": lock.run.canary_version,
    }));
    graph.push(json!({
        "@id": "#canary", "@type": "SoftwareApplication", "name": "canary",
        "version": lock.run.canary_version,
        "description": format!("DataFusion {}, Arrow {}; {}/{}", lock.run.datafusion_version, lock.run.arrow_version, lock.run.host_os, lock.run.host_arch),
    }));
    let mut run = json!({
        "@id": "#run", "@type": "CreateAction", "name": format!("canary run of `{}`", pipeline.name),
        "instrument": {"@id": workflow_id}, "agent": {"@id": "#canary"},
        "object": inputs, "result": outputs,
        "actionStatus": {"@id": "http://schema.org/CompletedActionStatus"},
    });
    if let Some(f) = &first {
        run["startTime"] = json!(f);
    }
    if let Some(l) = &last {
        run["endTime"] = json!(l);
    }
    if let Some(c) = &lock.run.git_commit {
        run["description"] = json!(format!(
            "git commit {c}{}",
            if lock.run.git_dirty == Some(true) {
                " with uncommitted changes"
            } else {
                ""
            }
        ));
    }
    graph.push(run);

    let mut root = json!({
        "@id": "./", "@type": "Dataset",
        "name": format!("{}: a canary run", pipeline.name),
        "description": pipeline.description.clone().unwrap_or_else(|| format!("The outputs of the canary pipeline `{}`", pipeline.name)),
        "conformsTo": [
            {"@id": "https://w3id.org/ro/wfrun/process/0.5"},
            {"@id": "https://w3id.org/ro/wfrun/workflow/0.5"},
            {"@id": "https://w3id.org/workflowhub/workflow-ro-crate/1.0"},
        ],
        "mainEntity": {"@id": workflow_id},
        "hasPart": parts,
        "mentions": std::iter::once(json!({"@id": "#run"})).chain(stage_actions).collect::<Vec<_>>(),
        "license": {"@id": OGL},
    });
    if let Some(l) = &last {
        root["datePublished"] = json!(l);
    }
    for profile in ["process", "workflow"] {
        graph.push(json!({"@id": format!("https://w3id.org/ro/wfrun/{profile}/0.5"), "@type": "CreativeWork",
                          "name": format!("{} Run Crate", if profile == "process" { "Process" } else { "Workflow" }), "version": "0.5"}));
    }
    graph.push(json!({"@id": "https://w3id.org/workflowhub/workflow-ro-crate/1.0", "@type": "CreativeWork", "name": "Workflow RO-Crate", "version": "1.0"}));
    let mut all = vec![
        json!({"@id": FILE_NAME, "@type": "CreativeWork", "conformsTo": {"@id": "https://w3id.org/ro/crate/1.1"}, "about": {"@id": "./"}}),
        root,
    ];
    all.extend(graph);
    Ok(json!({
        "@context": ["https://w3id.org/ro/crate/1.1/context", "https://w3id.org/ro/terms/workflow-run/context"],
        "@graph": all,
    }))
}

/// The report's files: the rendered report and its figures, sorted.
fn report_files(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = ["report.html", "report.md"]
        .iter()
        .filter(|f| dir.join(f).is_file())
        .map(|f| f.to_string())
        .collect();
    if let Ok(rd) = std::fs::read_dir(dir.join("figures")) {
        let mut figs: Vec<String> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".svg"))
            .map(|n| format!("figures/{n}"))
            .collect();
        figs.sort();
        out.extend(figs);
    }
    out
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Every file the crate records with a checksum: `@id` (relative to the crate) → SHA-256.
pub fn checksums(crate_json: &Value) -> BTreeMap<String, String> {
    crate_json["@graph"]
        .as_array()
        .map(|g| g.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| {
            Some((
                e["@id"].as_str()?.to_string(),
                e["sha256"].as_str()?.to_string(),
            ))
        })
        .collect()
}
