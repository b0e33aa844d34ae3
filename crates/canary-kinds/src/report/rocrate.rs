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
use crate::lockfile::{Lock, SourceRecord, StageRecord};
use crate::pipeline::{Pipeline, Source};

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

/// The crate's JSON-LD: the metadata descriptor and the root dataset, then the inputs, the
/// stages' actions and outputs, the project files, the report files, the software and the run.
pub fn build(pipeline: &Pipeline, lock: &Lock, dir: &Path) -> Result<Value> {
    let cx = Ctx {
        pipeline,
        lock,
        dir,
    };
    let mut g = Graph::default();
    let workflow_id = cx.id(&pipeline.relative(&pipeline.file));
    let file_ids = cx.sources(&mut g);
    let span = cx.stages(&mut g, &file_ids);
    let project_files = cx.project_files(&mut g);
    cx.report_outputs(&mut g)?;
    cx.software(&mut g, &workflow_id, &project_files);
    let run = cx.run(&workflow_id, &span, &mut g);
    g.entities.push(run);
    let root = cx.root(&workflow_id, &span, &mut g);
    profiles(&mut g.entities);
    let mut all = vec![
        json!({"@id": FILE_NAME, "@type": "CreativeWork", "conformsTo": {"@id": "https://w3id.org/ro/crate/1.1"}, "about": {"@id": "./"}}),
        root,
    ];
    all.extend(g.entities);
    Ok(json!({
        "@context": ["https://w3id.org/ro/crate/1.1/context", "https://w3id.org/ro/terms/workflow-run/context"],
        "@graph": all,
    }))
}

/// What the crate is built from; `id` turns a project path into the crate's reference to it.
struct Ctx<'a> {
    pipeline: &'a Pipeline,
    lock: &'a Lock,
    dir: &'a Path,
}

/// The entities in the order they are written, and the references gathered on the way for
/// the root dataset and the run, which are written after the entities they point at.
#[derive(Default)]
struct Graph {
    entities: Vec<Value>,
    /// The root dataset's `hasPart`.
    parts: Vec<Value>,
    /// The run's `object`: the published files.
    inputs: Vec<Value>,
    /// The run's `result`: the stages' outputs and the report files.
    outputs: Vec<Value>,
    /// The root dataset's `mentions` after the run.
    stage_actions: Vec<Value>,
}

/// The run's start and end: the earliest stage start and the latest stage end.
#[derive(Default)]
struct Span {
    first: Option<String>,
    last: Option<String>,
}

impl Span {
    /// Widen the span to a stage that started at `started` and ended at `end`.
    fn include(&mut self, started: &str, end: Option<&String>) {
        if self.first.as_ref().is_none_or(|f| started < f.as_str()) {
            self.first = Some(started.to_string());
        }
        if let Some(e) = end {
            if self.last.as_ref().is_none_or(|l| e > l) {
                self.last = Some(e.clone());
            }
        }
    }
}

/// Whether a licence, as the pipeline names it, is the Open Government Licence.
fn is_ogl(licence: &str) -> bool {
    licence.to_ascii_uppercase().starts_with("OGL")
}

impl Ctx<'_> {
    /// The crate's `@id` for the project path `rel`.
    fn id(&self, rel: &str) -> String {
        crate_id(self.pipeline, self.dir, rel)
    }

    /// The published files, their publishers and the OGL; returns each source's file `@id`.
    fn sources(&self, g: &mut Graph) -> BTreeMap<String, String> {
        let mut publishers: BTreeMap<String, String> = BTreeMap::new();
        let mut file_ids: BTreeMap<String, String> = BTreeMap::new();
        for (name, src) in &self.pipeline.sources {
            let Some(rec) = self.lock.sources.get(name) else {
                continue;
            };
            let fid = self.id(&rec.path);
            let e = source_file(name, src, rec, &fid, &mut publishers);
            file_ids.insert(name.clone(), fid.clone());
            g.inputs.push(json!({"@id": fid}));
            g.parts.push(json!({"@id": fid}));
            g.entities.push(e);
        }
        for (pid, name) in &publishers {
            g.entities
                .push(json!({"@id": pid, "@type": "Organization", "name": name}));
        }
        if self
            .pipeline
            .sources
            .values()
            .any(|s| s.licence.as_deref().is_some_and(is_ogl))
        {
            g.entities.push(
                json!({"@id": OGL, "@type": "CreativeWork", "name": "Open Government Licence v3.0"}),
            );
        }
        file_ids
    }

    /// One action per stage, in pipeline order, each after the files it made; then the stage
    /// kinds as software. Returns the span of the stages' times.
    fn stages(&self, g: &mut Graph, file_ids: &BTreeMap<String, String>) -> Span {
        let mut kinds: BTreeMap<String, u32> = BTreeMap::new();
        let mut span = Span::default();
        for name in &self.pipeline.order {
            let Some(rec) = self.lock.stages.get(name) else {
                continue;
            };
            kinds.insert(rec.kind.clone(), rec.kind_version);
            let results = self.stage_outputs(g, name, rec);
            let objects = self.stage_objects(rec, file_ids);
            let end = end_time(&rec.started, rec.duration_ms);
            span.include(&rec.started, end.as_ref());
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
            if let Some(d) = &self.pipeline.stages[name].description {
                action["description"] = json!(d);
            }
            g.stage_actions.push(json!({"@id": aid}));
            g.entities.push(action);
        }
        for (kind, version) in &kinds {
            g.entities.push(json!({
                "@id": format!("#kind-{kind}"), "@type": "SoftwareApplication",
                "name": format!("canary stage kind `{kind}`"), "version": version.to_string(),
                "isPartOf": {"@id": "#canary"},
            }));
        }
        span
    }

    /// The files stage `name` made, as entities; returns the action's `result`.
    fn stage_outputs(&self, g: &mut Graph, name: &str, rec: &StageRecord) -> Vec<Value> {
        let mut results = Vec::new();
        for o in &rec.outputs {
            let oid = self.id(&o.path);
            g.entities.push(json!({
                "@id": oid, "@type": "File",
                "name": match &o.table { Some(t) => format!("{name}: {t}"), None => name.to_string() },
                "encodingFormat": "application/vnd.apache.parquet",
                "sha256": o.sha256, "contentSize": o.bytes.to_string(),
                "description": format!("{} rows; columns {}", o.rows, o.schema.join(", ")),
            }));
            results.push(json!({"@id": oid}));
            g.outputs.push(json!({"@id": oid}));
            g.parts.push(json!({"@id": oid}));
        }
        results
    }

    /// A stage action's `object`: the published files or earlier stages' outputs it read, then
    /// the project files it read.
    fn stage_objects(&self, rec: &StageRecord, file_ids: &BTreeMap<String, String>) -> Vec<Value> {
        rec.inputs
            .keys()
            .flat_map(|i| match file_ids.get(i) {
                Some(f) => vec![json!({"@id": f})],
                None => self
                    .lock
                    .stages
                    .get(i)
                    .map(|r| {
                        r.outputs
                            .iter()
                            .map(|o| json!({"@id": self.id(&o.path)}))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .chain(rec.files.keys().map(|f| json!({"@id": self.id(f)})))
            .collect()
    }

    /// The project files stages read (SQL, YAML dictionaries, templates), sorted; returns them.
    fn project_files(&self, g: &mut Graph) -> Vec<String> {
        let mut project_files: Vec<String> = self
            .lock
            .stages
            .values()
            .flat_map(|r| r.files.keys().cloned())
            .collect();
        project_files.extend(
            self.pipeline
                .stages
                .values()
                .filter_map(|s| s.sql_file.clone()),
        );
        project_files.sort();
        project_files.dedup();
        for f in &project_files {
            let path = self.pipeline.root.join(f);
            let sha = crate::hash::sha256_file(&path).ok();
            let mut e = json!({"@id": self.id(f), "@type": "File", "name": f});
            if let Some(s) = sha {
                e["sha256"] = json!(s);
            }
            g.entities.push(e);
        }
        project_files
    }

    /// The report's own files, inside the crate, as results of the run.
    fn report_outputs(&self, g: &mut Graph) -> Result<()> {
        let dir = self.dir;
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
            g.entities.push(json!({
                "@id": rel, "@type": "File", "name": rel, "encodingFormat": format,
                "sha256": crate::hash::sha256_bytes(&bytes), "contentSize": bytes.len().to_string(),
            }));
            g.outputs.push(json!({"@id": rel}));
            g.parts.push(json!({"@id": rel}));
        }
        Ok(())
    }

    /// The workflow (first of the root's parts), its language and canary itself.
    fn software(&self, g: &mut Graph, workflow_id: &str, project_files: &[String]) {
        let (pipeline, lock) = (self.pipeline, self.lock);
        let wf_sha = crate::hash::sha256_file(&pipeline.file).ok();
        let mut workflow = json!({
            "@id": workflow_id, "@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow"],
            "name": pipeline.name, "programmingLanguage": {"@id": "#canary-pipeline"},
            "hasPart": project_files.iter().map(|f| json!({"@id": self.id(f)})).collect::<Vec<_>>(),
        });
        if let Some(s) = wf_sha {
            workflow["sha256"] = json!(s);
        }
        if let Some(d) = &pipeline.description {
            workflow["description"] = json!(d);
        }
        g.parts.insert(0, json!({"@id": workflow_id}));
        g.entities.push(workflow);
        g.entities.push(json!({
            "@id": "#canary-pipeline", "@type": "ComputerLanguage", "name": "canary pipeline.yaml",
            "version": lock.run.canary_version,
        }));
        g.entities.push(json!({
            "@id": "#canary", "@type": "SoftwareApplication", "name": "canary",
            "version": lock.run.canary_version,
            "description": format!("DataFusion {}, Arrow {}; {}/{}", lock.run.datafusion_version, lock.run.arrow_version, lock.run.host_os, lock.run.host_arch),
        }));
    }

    /// The run's `CreateAction`: the workflow applied to the inputs, making the outputs.
    fn run(&self, workflow_id: &str, span: &Span, g: &mut Graph) -> Value {
        let lock = self.lock;
        let mut run = json!({
            "@id": "#run", "@type": "CreateAction", "name": format!("canary run of `{}`", self.pipeline.name),
            "instrument": {"@id": workflow_id}, "agent": {"@id": "#canary"},
            "object": std::mem::take(&mut g.inputs), "result": std::mem::take(&mut g.outputs),
            "actionStatus": {"@id": "http://schema.org/CompletedActionStatus"},
        });
        if let Some(f) = &span.first {
            run["startTime"] = json!(f);
        }
        if let Some(l) = &span.last {
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
        run
    }

    /// The root dataset: the workflow as its main entity, every file as a part, the run and
    /// the stages' actions as mentions.
    fn root(&self, workflow_id: &str, span: &Span, g: &mut Graph) -> Value {
        let pipeline = self.pipeline;
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
            "hasPart": std::mem::take(&mut g.parts),
            "mentions": std::iter::once(json!({"@id": "#run"})).chain(std::mem::take(&mut g.stage_actions)).collect::<Vec<_>>(),
            "license": {"@id": OGL},
        });
        if let Some(l) = &span.last {
            root["datePublished"] = json!(l);
        }
        root
    }
}

/// A published file's entity, its publisher recorded in `publishers` (`@id` → name).
fn source_file(
    name: &str,
    src: &Source,
    rec: &SourceRecord,
    fid: &str,
    publishers: &mut BTreeMap<String, String>,
) -> Value {
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
        e["license"] = if is_ogl(l) {
            json!({"@id": OGL})
        } else {
            json!(l)
        };
    }
    if let Some(u) = src.landing_page.as_ref().or(src.url.as_ref()) {
        e["url"] = json!(u);
    }
    e
}

/// The profiles the crate conforms to, as entities.
fn profiles(entities: &mut Vec<Value>) {
    for profile in ["process", "workflow"] {
        entities.push(json!({"@id": format!("https://w3id.org/ro/wfrun/{profile}/0.5"), "@type": "CreativeWork",
                          "name": format!("{} Run Crate", if profile == "process" { "Process" } else { "Workflow" }), "version": "0.5"}));
    }
    entities.push(json!({"@id": "https://w3id.org/workflowhub/workflow-ro-crate/1.0", "@type": "CreativeWork", "name": "Workflow RO-Crate", "version": "1.0"}));
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
