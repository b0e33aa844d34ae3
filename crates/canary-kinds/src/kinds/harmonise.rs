//! `harmonise`: the tidy rows of the clean stages → the study's panel of indicators by LA and
//! year, driven by the indicator dictionary (`stages/indicators.yaml`). Tables: the long panel
//! (main), `wide` (one row per LA-year, one column per indicator), `definitions` (the
//! dictionary as a table, with its breaks), and the data-quality evidence: `coverage`,
//! `status_counts`, `reconciliation` (LA sums against each file's England row — a mismatch
//! beyond the publisher's rounding fails the stage), `crosscheck` (overlap years from two
//! sources), `unmapped` (rows that could not be keyed to an LA).

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::pipeline::KindSpec;
use crate::stage::columns::{from_rows, Column, TableBuilder, TableData};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::clean::tidy::{GeographyLevel, Status, TidyRow};
use crate::error::{Error, Result};
use crate::harmonise::{self, quality, Dictionary, Options};
use crate::params::{self, KindParams};
use crate::pipeline::Stage;
use crate::stage::TableDoc;
use crate::stage::{OutputTable, StageContext, StageKind};

pub struct Harmonise;

/// The params of a `harmonise` stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HarmoniseParams {
    /// the indicator dictionary (e.g. stages/indicators.yaml)
    pub dictionary: String,
    /// which pipeline sources make each source name of the dictionary, e.g.
    /// `{cin_census: [cin_2010, cin_2011]}`
    #[serde(default)]
    pub bind: BTreeMap<String, Vec<String>>,
    /// LA codes (ONS or old 3-digit) left out; the study leaves out City of London and the
    /// Isles of Scilly
    #[serde(default = "exclude")]
    pub exclude: Vec<String>,
    /// where each row goes
    #[serde(default)]
    pub geography: Geography,
    /// the LA boundary changes (e.g. stages/geography.yaml), needed with `geography: boundaries`
    pub geography_changes: Option<String>,
    /// first year of the panel
    #[serde(default = "from_year")]
    pub from_year: i32,
    /// last year of the panel
    #[serde(default = "to_year")]
    pub to_year: i32,
    /// fail on a year no definition covers, instead of writing `no_definition` rows
    #[serde(default)]
    pub strict: bool,
}

/// Which LA a row of the panel is under.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Geography {
    /// the LA that published it
    #[default]
    AsPublished,
    /// the canonical year's LA, by `geography_changes`
    Boundaries,
}

// The defaults are the panel's own (`harmonise::Options`).
fn exclude() -> Vec<String> {
    Options::default().exclude
}

fn from_year() -> i32 {
    *Options::default().years.start()
}

fn to_year() -> i32 {
    *Options::default().years.end()
}

impl KindSpec for Harmonise {
    fn params(&self) -> &KindParams {
        static P: params::Lazy = params::Lazy::new(KindParams::of::<HarmoniseParams>);
        &P
    }

    fn tables(&self, _stage: &Stage) -> Vec<String> {
        [
            "",
            "wide",
            "definitions",
            "coverage",
            "status_counts",
            "reconciliation",
            "crosscheck",
            "unmapped",
        ]
        .map(String::from)
        .to_vec()
    }

    fn files(&self, stage: &Stage) -> Vec<String> {
        let Ok(p) = stage.params_as::<HarmoniseParams>() else {
            return Vec::new();
        };
        std::iter::once(p.dictionary)
            .chain(p.geography_changes)
            .collect()
    }

    fn check(&self, stage: &Stage) -> std::result::Result<(), String> {
        let p: HarmoniseParams = stage.params_as()?;
        if p.geography == Geography::Boundaries && p.geography_changes.is_none() {
            return Err(
                "`geography: boundaries` needs `geography_changes` (e.g. stages/geography.yaml)"
                    .into(),
            );
        }
        Ok(())
    }
}

impl StageKind for Harmonise {
    fn name(&self) -> &'static str {
        "harmonise"
    }

    fn version(&self) -> u32 {
        1
    }

    fn describe(&self) -> &'static str {
        "tidy rows → the LA × year panel of study indicators, defined in a YAML dictionary, with quality evidence"
    }

    fn outputs(&self) -> &'static [TableDoc] {
        &[
            TableDoc {
                name: "",
                columns: &[
                    "la_code",
                    "la_code_old",
                    "la_name",
                    "year",
                    "indicator",
                    "value",
                    "status",
                    "definition",
                ],
            },
            TableDoc {
                name: "coverage",
                columns: &["indicator", "year", "n_las", "n_values", "share"],
            },
            TableDoc {
                name: "crosscheck",
                columns: &[
                    "indicator",
                    "year",
                    "la_code",
                    "panel_definition",
                    "panel_value",
                    "crosscheck_definition",
                    "crosscheck_value",
                    "difference",
                ],
            },
            TableDoc {
                name: "definitions",
                columns: &[
                    "indicator",
                    "label",
                    "unit",
                    "quadrant",
                    "role",
                    "years",
                    "first_year",
                    "last_year",
                    "source",
                    "formula",
                    "break",
                ],
            },
            TableDoc {
                name: "reconciliation",
                columns: &[
                    "file",
                    "year",
                    "measure",
                    "england",
                    "la_sum",
                    "n_las",
                    "n_suppressed",
                    "difference",
                    "tolerance",
                    "ok",
                ],
            },
            TableDoc {
                name: "status_counts",
                columns: &["indicator", "status", "n"],
            },
            TableDoc {
                name: "unmapped",
                columns: &[
                    "source",
                    "year",
                    "la_code_old",
                    "la_code",
                    "la_name",
                    "reason",
                ],
            },
            TableDoc {
                name: "wide",
                columns: &[
                    "la_code",
                    "la_code_old",
                    "la_name",
                    "year",
                    "<one per indicator>",
                ],
            },
        ]
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let p: HarmoniseParams = ctx.params()?;
        let dict_path = p.dictionary.as_str();
        let dict = read_dictionary(ctx, dict_path)?;
        let mut sources = read_sources(ctx, &p)?;
        let (mut recon_published, moved) = to_boundaries(ctx, &p, &dict, &mut sources)?;

        let options = Options {
            exclude: p.exclude.clone(),
            years: p.from_year..=p.to_year,
            strict: p.strict,
        };

        // The reconciliation is independent of the panel: computed alongside it.
        let (panel_and_cross, recon) = rayon::join(
            || harmonise::panel::harmonise_with_crosscheck(&dict, &sources, &options),
            || match recon_published.take() {
                Some(r) => r,
                None => quality::reconcile(&dict, &sources),
            },
        );
        let (mut h, cross) = panel_and_cross.map_err(|e| {
            ctx.fail(e.to_string())
                .with_hint(format!("the dictionary is `{dict_path}`"))
        })?;
        if let Some(m) = &moved {
            mark_moved(&mut h, m);
        }
        quality::check_reconciliation(&recon).map_err(|e| {
            ctx.fail(e.to_string())
                .with_hint("the LA rows do not add up to the file's England row beyond the publisher's rounding: check the file and the dictionary's `reconcile` entries")
        })?;

        years_have_data(&h.panel, p.from_year..=p.to_year).map_err(|e| {
            ctx.fail(e).with_hint(format!(
                "add the published files that cover those years (README, \"Adding a year of data\"), or end the panel earlier: `to_year` is {}",
                p.to_year
            ))
        })?;

        let panel = panel_table(&h.panel)?;
        let wide = wide_table(&h.wide);
        let coverage = coverage_table(&h)?;
        let status_counts = status_counts_table(&h)?;
        let reconciliation = reconciliation_table(&recon)?;
        let crosscheck = crosscheck_table(&cross)?;
        let unmapped = unmapped_table(&h.unmapped)?;
        Ok(vec![
            panel,
            wide.build(Some("wide"))?,
            definitions_table(&dict)?,
            coverage,
            status_counts,
            reconciliation,
            crosscheck,
            unmapped,
        ])
    }
}

/// The indicator dictionary the `dictionary` param names.
fn read_dictionary(ctx: &StageContext, dict_path: &str) -> Result<Dictionary> {
    let text = std::fs::read_to_string(ctx.pipeline.root.join(dict_path))
        .map_err(|e| Error::io("read", dict_path, e))?;
    harmonise::load_dictionary(dict_path, &text).map_err(|e| dictionary_error(ctx, dict_path, e))
}

/// A dictionary that does not load, as the stage's error: a formula that does not parse, or
/// an indicator's entry that says something impossible, is pointed at its line of the file
/// (the line shown, a caret under the column).
fn dictionary_error(ctx: &StageContext, dict_path: &str, e: harmonise::HarmoniseError) -> Error {
    use harmonise::HarmoniseError::{Formula, Invalid};
    let (message, at, hint) = match e {
        Formula {
            entry,
            message,
            at: Some(at),
            ..
        } => {
            let hint = format!(
                "fix the formula on line {} of {}: formulas use + - * /, parentheses, numbers, `measure names` in backticks, `source::measure`, and rate(x), pct(a, b), sum(a, ...), zna(x)",
                at.line, at.file
            );
            (
                format!("`{entry}`: formula does not parse: {message}"),
                at,
                hint,
            )
        }
        Invalid {
            entry,
            message,
            hint,
            at: Some(at),
            ..
        } => (format!("`{entry}`: {message}"), at, hint),
        other => {
            return ctx
                .fail(other.to_string())
                .with_hint(format!("fix `{dict_path}`; the error says which entry"))
        }
    };
    let mut loc = crate::error::Location::new(&at.file, at.line, at.column);
    loc.text = Some(at.source_line.clone());
    ctx.fail(message).at(Some(loc)).with_hint(hint)
}

/// Every input's tidy rows, under the dictionary's name of the source they come from.
fn read_sources(ctx: &StageContext, p: &HarmoniseParams) -> Result<BTreeMap<String, Vec<TidyRow>>> {
    // Pipeline source name → dictionary source name.
    let mut alias: BTreeMap<String, String> = BTreeMap::new();
    for (dict_name, list) in &p.bind {
        for s in list {
            alias.insert(s.clone(), dict_name.clone());
        }
    }
    // Inputs read in parallel; merged in input order, so the result does not depend on it.
    let tables: Vec<Result<Vec<TidyRow>>> = ctx
        .stage
        .inputs
        .par_iter()
        .map(|input| read_tidy(ctx, input))
        .collect();
    let mut sources: BTreeMap<String, Vec<TidyRow>> = BTreeMap::new();
    for table in tables {
        for row in table? {
            let key = alias
                .get(&row.source)
                .cloned()
                .unwrap_or_else(|| row.source.clone());
            sources.entry(key).or_default().push(row);
        }
    }
    Ok(sources)
}

/// With `geography: boundaries`, every row moved onto the canonical year's LAs; the
/// reconciliation of the files as published is returned beside what moved.
fn to_boundaries(
    ctx: &StageContext,
    p: &HarmoniseParams,
    dict: &Dictionary,
    sources: &mut BTreeMap<String, Vec<TidyRow>>,
) -> Result<(
    Option<Vec<quality::ReconRow>>,
    Option<harmonise::boundaries::Moved>,
)> {
    // The reconciliation checks the files as published, before any row moves.
    let mut recon_published = None;
    let moved = match (p.geography, &p.geography_changes) {
        (Geography::Boundaries, Some(path)) => {
            recon_published = Some(quality::reconcile(dict, sources));
            let text = std::fs::read_to_string(ctx.pipeline.root.join(path))
                .map_err(|e| Error::io("read", path, e))?;
            let changes = crate::clean::geography::load_changes(path, &text)?;
            Some(harmonise::boundaries::move_to_boundaries(&changes, sources))
        }
        _ => None,
    };
    Ok((recon_published, moved))
}

/// A merged LA's missing values marked as not harmonised, and the split LAs' rows set aside.
fn mark_moved(h: &mut harmonise::Harmonised, m: &harmonise::boundaries::Moved) {
    // Say why a merged LA's value is missing: a measure it needs did not add up.
    let partial: std::collections::BTreeSet<(&str, i32)> =
        m.partial.iter().map(|(c, y)| (c.as_str(), *y)).collect();
    for r in &mut h.panel {
        if r.value.is_none()
            && r.status == "not_available"
            && partial.contains(&(r.la_code.as_str(), r.year))
        {
            r.status = harmonise::boundaries::NOT_HARMONISED.to_string();
        }
    }
    h.unmapped.extend(m.set_aside.iter().cloned());
}

/// The panel: one row per LA, year and indicator.
fn panel_table(p: &[harmonise::PanelRow]) -> Result<OutputTable> {
    from_rows(None, p)
}

/// The `wide` table's columns: one row per LA and year, a column per indicator.
fn wide_table(w: &harmonise::Wide) -> TableBuilder {
    let mut wide = TableBuilder::new()
        .str(
            "la_code",
            w.rows.iter().map(|r| r.la_code.clone()).collect(),
        )
        .opt_str(
            "la_code_old",
            w.rows.iter().map(|r| r.la_code_old.clone()).collect(),
        )
        .str(
            "la_name",
            w.rows.iter().map(|r| r.la_name.clone()).collect(),
        )
        .i32("year", w.rows.iter().map(|r| r.year).collect());
    for (j, c) in w.columns.iter().enumerate() {
        wide = wide.f64(
            c,
            w.rows
                .iter()
                .map(|r| r.values.get(j).copied().flatten())
                .collect(),
        );
    }
    wide
}

/// `coverage`: how many LAs have a value of each indicator in each year.
fn coverage_table(h: &harmonise::Harmonised) -> Result<OutputTable> {
    let cov = quality::coverage(h);
    TableBuilder::new()
        .str(
            "indicator",
            cov.iter().map(|r| r.indicator.clone()).collect(),
        )
        .i32("year", cov.iter().map(|r| r.year).collect())
        .i64("n_las", cov.iter().map(|r| r.n_las as i64).collect())
        .i64("n_values", cov.iter().map(|r| r.n_values as i64).collect())
        .f64("share", cov.iter().map(|r| Some(r.share)).collect())
        .build(Some("coverage"))
}

/// `status_counts`: the panel's rows of each indicator by status.
fn status_counts_table(h: &harmonise::Harmonised) -> Result<OutputTable> {
    let sc = quality::status_counts(h);
    TableBuilder::new()
        .str(
            "indicator",
            sc.iter().map(|r| r.indicator.clone()).collect(),
        )
        .str("status", sc.iter().map(|r| r.status.clone()).collect())
        .i64("n", sc.iter().map(|r| r.n as i64).collect())
        .build(Some("status_counts"))
}

/// `reconciliation`: each file's LA rows against its England row.
fn reconciliation_table(recon: &[quality::ReconRow]) -> Result<OutputTable> {
    TableBuilder::new()
        .str("file", recon.iter().map(|r| r.file.clone()).collect())
        .i32("year", recon.iter().map(|r| r.year).collect())
        .str("measure", recon.iter().map(|r| r.measure.clone()).collect())
        .f64("england", recon.iter().map(|r| Some(r.england)).collect())
        .f64("la_sum", recon.iter().map(|r| Some(r.la_sum)).collect())
        .i64("n_las", recon.iter().map(|r| r.n_las as i64).collect())
        .i64(
            "n_suppressed",
            recon.iter().map(|r| r.n_suppressed as i64).collect(),
        )
        .f64(
            "difference",
            recon.iter().map(|r| Some(r.difference)).collect(),
        )
        .f64(
            "tolerance",
            recon.iter().map(|r| Some(r.tolerance)).collect(),
        )
        .bool("ok", recon.iter().map(|r| Some(r.ok)).collect())
        .build(Some("reconciliation"))
}

/// `crosscheck`: the panel's values against another definition of the same indicator.
fn crosscheck_table(cross: &[quality::CrosscheckRow]) -> Result<OutputTable> {
    from_rows(Some("crosscheck"), cross)
}

/// `unmapped`: the published rows the panel could not place under an LA, and why.
fn unmapped_table(u: &[harmonise::panel::UnmappedLa]) -> Result<OutputTable> {
    from_rows(Some("unmapped"), u)
}

/// Every year of the panel has data: a year with no LA rows at all, or a year whose definition
/// of an indicator names a source with no rows for it (every value `not_available`), means the
/// panel's years reach past the files — `to_year: 2026` before the 2026 files are in. Err says
/// which source lacks which year, and for which indicators.
fn years_have_data(
    panel: &[harmonise::panel::PanelRow],
    years: std::ops::RangeInclusive<i32>,
) -> std::result::Result<(), String> {
    use std::collections::{BTreeMap, BTreeSet};
    // (indicator, year) → (definition, any value, every row not_available)
    let mut cells: BTreeMap<(&str, i32), (&str, bool, bool)> = BTreeMap::new();
    let mut seen_years: BTreeSet<i32> = BTreeSet::new();
    for r in panel {
        seen_years.insert(r.year);
        let c = cells.entry((r.indicator.as_str(), r.year)).or_insert((
            r.definition.as_str(),
            false,
            true,
        ));
        c.1 |= r.value.is_some();
        c.2 &= r.status == "not_available";
    }
    let empty_years: Vec<String> = years
        .clone()
        .filter(|y| !seen_years.contains(y))
        .map(|y| y.to_string())
        .collect();
    // source → year → indicators
    let mut lacking: BTreeMap<&str, BTreeMap<i32, Vec<&str>>> = BTreeMap::new();
    for ((ind, year), (definition, any, all_na)) in &cells {
        if !definition.is_empty() && !any && *all_na {
            let source = definition.split(':').next().unwrap_or(definition);
            lacking
                .entry(source)
                .or_default()
                .entry(*year)
                .or_default()
                .push(ind);
        }
    }
    if empty_years.is_empty() && lacking.is_empty() {
        return Ok(());
    }
    let mut parts = Vec::new();
    if !empty_years.is_empty() {
        parts.push(format!(
            "no source has rows for any LA in {}",
            empty_years.join(", ")
        ));
    }
    for (source, by_year) in &lacking {
        let ys: Vec<String> = by_year.keys().map(|y| y.to_string()).collect();
        let mut inds: Vec<&str> = by_year.values().flatten().copied().collect();
        inds.sort();
        inds.dedup();
        let shown = crate::error::excerpt(&inds.join(", "), 200);
        parts.push(format!(
            "source `{source}` has no rows for {} (indicator{} {shown})",
            ys.join(", "),
            if inds.len() == 1 { "" } else { "s" }
        ));
    }
    Err(format!(
        "the panel's years {}..{} reach past the data: {}",
        years.start(),
        years.end(),
        parts.join("; ")
    ))
}

fn definitions_table(dict: &Dictionary) -> Result<OutputTable> {
    let mut rows: Vec<[Option<String>; 9]> = Vec::new();
    let mut firsts: Vec<i32> = Vec::new();
    let mut lasts: Vec<Option<i32>> = Vec::new();
    for ind in &dict.indicators {
        for d in &ind.definitions {
            rows.push([
                Some(ind.id.clone()),
                Some(ind.label.clone()),
                Some(format!("{:?}", ind.unit).to_lowercase()),
                Some(snake(&format!("{:?}", ind.quadrant))),
                Some(format!("{:?}", ind.role).to_lowercase()),
                Some(d.years.to_string()),
                Some(d.source.clone()),
                Some(d.formula_text.clone()),
                d.break_note.clone(),
            ]);
            firsts.push(d.years.first);
            lasts.push(d.years.last);
        }
    }
    let col = |i: usize| rows.iter().map(|r| r[i].clone()).collect::<Vec<_>>();
    TableBuilder::new()
        .opt_str("indicator", col(0))
        .opt_str("label", col(1))
        .opt_str("unit", col(2))
        .opt_str("quadrant", col(3))
        .opt_str("role", col(4))
        .opt_str("years", col(5))
        .i32("first_year", firsts)
        .col("last_year", Column::I32(lasts), true)
        .opt_str("source", col(6))
        .opt_str("formula", col(7))
        .opt_str("break", col(8))
        .build(Some("definitions"))
}

/// `QualityOfEffort` → `quality_of_effort`.
fn snake(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// A row of a clean stage's main table as read: every field optional, so that a gap is an
/// error naming its row and column rather than serde's.
#[derive(serde::Deserialize)]
struct Tidy {
    source: Option<String>,
    year: Option<i64>,
    la_code_old: Option<String>,
    la_code: Option<String>,
    la_name: Option<String>,
    geography_level: Option<String>,
    measure: Option<String>,
    value: Option<f64>,
    status: Option<String>,
}

/// The main table of a clean stage, back as tidy rows.
pub fn read_tidy(ctx: &StageContext, input: &str) -> Result<Vec<TidyRow>> {
    let (schema, batches) = ctx.read_table(input, None)?;
    let t = TableData::new(&format!("input `{input}`"), schema, &batches)?;
    let tidy = t.records::<Tidy>()?;
    let mut rows = Vec::with_capacity(tidy.len());
    for (i, r) in tidy.into_iter().enumerate() {
        let bad = |what: &str| {
            ctx.fail(format!(
                "input `{input}` row {} has no valid `{what}`",
                i + 1
            ))
            .with_hint("the input must be a `clean.*` stage")
        };
        rows.push(TidyRow {
            source: r.source.ok_or_else(|| bad("source"))?,
            year: r.year.ok_or_else(|| bad("year"))? as i32,
            la_code_old: r.la_code_old,
            la_code: r.la_code,
            la_name: r.la_name.unwrap_or_default(),
            geography_level: match r.geography_level.as_deref() {
                Some("national") => GeographyLevel::National,
                Some("regional") => GeographyLevel::Regional,
                Some("local_authority") => GeographyLevel::LocalAuthority,
                Some("other") => GeographyLevel::Other,
                _ => return Err(bad("geography_level")),
            },
            measure: r.measure.ok_or_else(|| bad("measure"))?,
            value: r.value,
            status: match r.status.as_deref() {
                Some("ok") => Status::Ok,
                Some("suppressed") => Status::Suppressed,
                Some("not_available") => Status::NotAvailable,
                Some("not_applicable") => Status::NotApplicable,
                Some("low") => Status::Low,
                Some("blank") => Status::Blank,
                _ => return Err(bad("status")),
            },
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harmonise::panel::PanelRow;

    fn row(
        year: i32,
        indicator: &str,
        value: Option<f64>,
        status: &str,
        definition: &str,
    ) -> PanelRow {
        PanelRow {
            la_code: "E06000001".into(),
            la_code_old: None,
            la_name: "Hartlepool".into(),
            year,
            indicator: indicator.into(),
            value,
            status: status.into(),
            definition: definition.into(),
        }
    }

    #[test]
    fn years_past_the_data_name_the_source_that_lacks_them() {
        let mut panel = vec![
            row(
                2025,
                "referrals_rate",
                Some(1.0),
                "ok",
                "c1_referrals:2013..",
            ),
            row(2025, "vacancy_rate_pct", Some(2.0), "ok", "csww:2018.."),
            row(2026, "vacancy_rate_pct", Some(2.0), "ok", "csww:2018.."),
            // Suppressed or out of definition is not missing data.
            row(2026, "spending", None, "no_definition", ""),
        ];
        assert_eq!(years_have_data(&panel, 2025..=2026), Ok(()));
        panel.push(row(
            2026,
            "referrals_rate",
            None,
            "not_available",
            "c1_referrals:2013..",
        ));
        let e = years_have_data(&panel, 2025..=2026).unwrap_err();
        assert!(
            e.contains("source `c1_referrals` has no rows for 2026 (indicator referrals_rate)"),
            "{e}"
        );
        let e = years_have_data(&panel, 2025..=2027).unwrap_err();
        assert!(e.contains("no source has rows for any LA in 2027"), "{e}");
    }
}
