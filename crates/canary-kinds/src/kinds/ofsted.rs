//! `clean.ofsted`: every LA's Ofsted judgements 2009-2025, from the published workbooks and
//! the ILACS history, merged (the first input wins where files overlap), with codes filled
//! from the provider lookup and `geography.yaml`. Main table: one row per judgement;
//! `<stage>_skipped`: cells skipped by rule, with the reason.

use crate::pipeline::KindSpec;
use crate::stage::columns::TableBuilder;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::clean::ofsted::{self, Judgement};
use crate::error::{Error, Result};
use crate::params::{self, KindParams};
use crate::pipeline::Stage;
use crate::stage::TableDoc;
use crate::stage::{Input, OutputTable, StageContext, StageKind};

pub struct Ofsted;

/// The params of a `clean.ofsted` stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfstedParams {
    /// the input holding Ofsted's provider lookup (URN ↔ LA codes), e.g. `provider_lookup`
    pub lookup: String,
    /// the boundary changes (e.g. stages/geography.yaml), for predecessor authorities' codes
    pub geography: String,
}

/// Which parser reads a file, from its published name.
fn format_of(label: &str) -> Option<&'static str> {
    let l = label.to_ascii_lowercase();
    if l.ends_with(".csv") {
        Some("ilacs_csv")
    } else if l.contains("underlying_data") {
        Some("underlying_2023")
    } else if l.contains("inspection_outcomes") {
        Some("outcomes_2025")
    } else {
        None
    }
}

impl KindSpec for Ofsted {
    fn params(&self) -> &KindParams {
        static P: params::Lazy = params::Lazy::new(KindParams::of::<OfstedParams>);
        &P
    }

    fn tables(&self, _stage: &Stage) -> Vec<String> {
        vec![String::new(), "skipped".into()]
    }

    fn files(&self, stage: &Stage) -> Vec<String> {
        stage
            .params_as::<OfstedParams>()
            .map(|p| vec![p.geography])
            .unwrap_or_default()
    }

    fn check(&self, stage: &Stage) -> std::result::Result<(), String> {
        let p: OfstedParams = stage.params_as()?;
        let lookup = &p.lookup;
        if !stage.inputs.iter().any(|i| i == lookup) {
            return Err(format!(
                "param `lookup` names `{lookup}`, which is not one of the stage's inputs"
            ));
        }
        Ok(())
    }
}

impl StageKind for Ofsted {
    fn name(&self) -> &'static str {
        "clean.ofsted"
    }

    fn version(&self) -> u32 {
        1
    }

    fn describe(&self) -> &'static str {
        "Ofsted judgements of LA children's services (SLAC, CPI, SIF, ILACS), merged across files"
    }

    fn outputs(&self) -> &'static [TableDoc] {
        &[
            TableDoc {
                name: "",
                columns: &[
                    "la_code",
                    "la_code_old",
                    "la_name",
                    "predecessor",
                    "framework",
                    "inspection",
                    "aspect",
                    "headline",
                    "published",
                    "inspection_start",
                    "inspection_end",
                    "judgement",
                    "grade",
                    "source_file",
                    "row",
                ],
            },
            TableDoc {
                name: "skipped",
                columns: &["file", "row", "column", "reason"],
            },
        ]
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let p: OfstedParams = ctx.params()?;
        let (lookup_name, geo_path) = (p.lookup.as_str(), p.geography.as_str());
        let geo_text = std::fs::read_to_string(ctx.pipeline.root.join(geo_path))
            .map_err(|e| Error::io("read", geo_path, e))?;
        let changes = crate::clean::geography::load_changes(geo_path, &geo_text)?;
        let lookup_path = ctx.source_path(lookup_name)?;
        let lookup_label = ctx.pipeline.relative(lookup_path).to_string();
        let bytes = std::fs::read(lookup_path).map_err(|e| Error::io("read", lookup_path, e))?;
        let providers =
            crate::clean::geography::parse_provider_lookup(lookup_name, &lookup_label, &bytes)?;

        let mut sets = Vec::new();
        for (name, input) in &ctx.inputs {
            if name == lookup_name {
                continue;
            }
            let Input::Source { path } = input else {
                return Err(ctx.fail(format!(
                    "input `{name}` must be a published Ofsted file (a source)"
                )));
            };
            let label = ctx.pipeline.relative(path).to_string();
            let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
            let parsed = match format_of(&label) {
                Some("ilacs_csv") => ofsted::parse_ilacs_csv(name, &label, &bytes)?,
                Some("underlying_2023") => ofsted::parse_underlying_2023(name, &label, &bytes)?,
                Some(_) => ofsted::parse_outcomes_2025(name, &label, &bytes)?,
                None => {
                    return Err(Error::data(&label, "not a known Ofsted file")
                        .with_hint("the kind reads the 2023 underlying-data ODS, the 2025 outcomes ODS and the ILACS history CSV"))
                }
            };
            sets.push(parsed);
        }
        let skipped: Vec<ofsted::Skipped> = sets.iter().flat_map(|s| s.skipped.clone()).collect();
        let (mut js, _report) = ofsted::merge(sets);
        let missing = ofsted::fill_codes_from_lookups(&mut js, &providers, &changes);
        if missing > 0 {
            let names: std::collections::BTreeSet<&str> = js
                .iter()
                .filter(|j| j.la_code.is_none())
                .map(|j| j.la_name.as_str())
                .collect();
            return Err(ctx
                .fail(format!(
                    "{missing} judgements have no LA code after the lookups: {}",
                    names.into_iter().collect::<Vec<_>>().join(", ")
                ))
                .with_hint(format!(
                    "add the authority to `{geo_path}` or check the provider lookup"
                )));
        }
        Ok(vec![judgements_table(&js)?, skipped_table(&skipped)?])
    }
}

fn judgements_table(js: &[Judgement]) -> Result<OutputTable> {
    let s = |f: fn(&Judgement) -> String| js.iter().map(f).collect::<Vec<_>>();
    let o = |f: fn(&Judgement) -> Option<String>| js.iter().map(f).collect::<Vec<_>>();
    TableBuilder::new()
        .opt_str("la_code", o(|j| j.la_code.clone()))
        .opt_str("la_code_old", o(|j| j.la_code_old.clone()))
        .str("la_name", s(|j| j.la_name.clone()))
        .bool(
            "predecessor",
            js.iter().map(|j| Some(j.predecessor)).collect(),
        )
        .str("framework", s(|j| j.framework.as_str().to_string()))
        .str("inspection", s(|j| j.inspection.clone()))
        .str("aspect", s(|j| j.aspect.clone()))
        .bool("headline", js.iter().map(|j| Some(j.headline)).collect())
        .str("published", s(|j| j.published.clone()))
        .opt_str("inspection_start", o(|j| j.inspection_start.clone()))
        .opt_str("inspection_end", o(|j| j.inspection_end.clone()))
        .str("judgement", s(|j| j.judgement_label.clone()))
        .col(
            "grade",
            crate::stage::columns::Column::I32(js.iter().map(|j| j.grade.map(i32::from)).collect()),
            true,
        )
        .str("source_file", s(|j| j.source_file.clone()))
        .i64("row", js.iter().map(|j| j.row as i64).collect())
        .build(None)
}

fn skipped_table(sk: &[ofsted::Skipped]) -> Result<OutputTable> {
    TableBuilder::new()
        .str("file", sk.iter().map(|s| s.file.clone()).collect())
        .i64("row", sk.iter().map(|s| s.row as i64).collect())
        .opt_str("column", sk.iter().map(|s| s.column.clone()).collect())
        .str("reason", sk.iter().map(|s| s.reason.clone()).collect())
        .build(Some("skipped"))
}
