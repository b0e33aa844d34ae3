//! `clean.*` kinds: one per published format. Each reads its source files (the stage's
//! inputs), parses them with `crate::clean`, and writes the tidy long table
//! `(source, year, la_code_old, la_code, la_name, geography_level, measure, value, status)`
//! as the stage's main table, and what the parser noted (corrections of publisher errors,
//! codes mapped, quirks) as `<stage>_notes`.

use std::collections::BTreeMap;
use std::path::Path;

use rayon::prelude::*;

use crate::pipeline::KindSpec;
use crate::stage::columns::{Column, TableBuilder};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::clean::tidy::TidyRow;
use crate::clean::{Note, Parsed};
use crate::error::{Error, Result};
use crate::params::{self, KindParams};
use crate::pipeline::Stage;
use crate::stage::TableDoc;
use crate::stage::{Input, OutputTable, StageContext, StageKind};

/// The tables every clean kind writes: the rows (main) and the notes.
fn clean_tables() -> Vec<String> {
    vec![String::new(), "notes".to_string()]
}

/// The source files of a stage, in input order, with the label errors should use.
fn sources<'a>(ctx: &'a StageContext) -> Result<Vec<(&'a str, &'a Path, String)>> {
    ctx.inputs
        .iter()
        .map(|(name, input)| match input {
            Input::Source { path } => Ok((
                name.as_str(),
                path.as_path(),
                ctx.pipeline.relative(path).to_string(),
            )),
            Input::Stage { .. } => Err(ctx.fail(format!(
                "input `{name}` is a stage; kind `{}` reads published files (sources)",
                ctx.stage.kind
            ))),
        })
        .collect()
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        Error::io("read", path, e).with_hint("run `canary fetch` to restore the published file")
    })
}

/// Parse every input in parallel (rayon), keeping input order so the output does not depend
/// on scheduling.
fn parse_all(
    ctx: &StageContext,
    parse: impl Fn(&str, &str, &[u8]) -> Result<Parsed> + Sync,
) -> Result<Parsed> {
    let files = sources(ctx)?;
    let parsed: Vec<Result<Parsed>> = files
        .par_iter()
        .map(|(name, path, label)| {
            let bytes = read(path)?;
            parse(name, label, &bytes)
        })
        .collect();
    let mut all = Parsed::default();
    for p in parsed {
        let p = p?;
        all.rows.extend(p.rows);
        all.notes.extend(p.notes);
    }
    Ok(all)
}

pub fn tidy_table(rows: &[TidyRow], table: Option<&str>) -> Result<OutputTable> {
    TableBuilder::new()
        .str("source", rows.iter().map(|r| r.source.clone()).collect())
        .i32("year", rows.iter().map(|r| r.year).collect())
        .opt_str(
            "la_code_old",
            rows.iter().map(|r| r.la_code_old.clone()).collect(),
        )
        .opt_str("la_code", rows.iter().map(|r| r.la_code.clone()).collect())
        .str("la_name", rows.iter().map(|r| r.la_name.clone()).collect())
        .str(
            "geography_level",
            rows.iter()
                .map(|r| r.geography_level.as_str().to_string())
                .collect(),
        )
        .str("measure", rows.iter().map(|r| r.measure.clone()).collect())
        .f64("value", rows.iter().map(|r| r.value).collect())
        .str(
            "status",
            rows.iter().map(|r| r.status.as_str().to_string()).collect(),
        )
        .build(table)
}

fn notes_table(notes: &[Note]) -> Result<OutputTable> {
    TableBuilder::new()
        .str(
            "kind",
            notes.iter().map(|n| n.kind.as_str().to_string()).collect(),
        )
        .str("file", notes.iter().map(|n| n.file.clone()).collect())
        .col(
            "line",
            Column::I64(notes.iter().map(|n| n.line.map(|l| l as i64)).collect()),
            true,
        )
        .opt_str("column", notes.iter().map(|n| n.column.clone()).collect())
        .str("message", notes.iter().map(|n| n.message.clone()).collect())
        .build(Some("notes"))
}

fn outputs(p: Parsed) -> Result<Vec<OutputTable>> {
    // Rows come in input order, then file order (rayon's ordered collect keeps it): a
    // deterministic order, so the engine need not sort these large tables.
    let mut rows = tidy_table(&p.rows, None)?;
    rows.ordered = true;
    let mut notes = notes_table(&p.notes)?;
    notes.ordered = true;
    Ok(vec![rows, notes])
}

/// A per-input override map param (`{input: value}`) names only the stage's inputs.
fn inputs_named<V>(
    stage: &Stage,
    param: &str,
    map: &BTreeMap<String, V>,
) -> std::result::Result<(), String> {
    match map.keys().find(|k| !stage.inputs.contains(k)) {
        Some(k) => Err(format!(
            "param `{param}` names `{k}`, which is not one of the stage's inputs"
        )),
        None => Ok(()),
    }
}

fn year_from_name(label: &str) -> Option<i32> {
    // The four-digit year in a file name such as `imd-2015.xlsx`.
    let name = Path::new(label).file_name()?.to_string_lossy().to_string();
    let b = name.as_bytes();
    (0..b.len().saturating_sub(3)).find_map(|i| {
        let s = &name[i..i + 4];
        let ok = s.bytes().all(|c| c.is_ascii_digit())
            && (i == 0 || !b[i - 1].is_ascii_digit())
            && b.get(i + 4).is_none_or(|c| !c.is_ascii_digit());
        ok.then(|| s.parse().ok())
            .flatten()
            .filter(|y: &i32| (1990..2100).contains(y))
    })
}

/// What every clean kind writes: tidy rows, and notes on what it met in the files.
const TIDY_TABLES: [TableDoc; 2] = [
    TableDoc {
        name: "",
        columns: &[
            "source",
            "year",
            "la_code_old",
            "la_code",
            "la_name",
            "geography_level",
            "measure",
            "value",
            "status",
        ],
    },
    TableDoc {
        name: "notes",
        columns: &["kind", "file", "line", "column", "message"],
    },
];

// ---- clean.cin_census ----

pub struct CinCensus;

/// The params of a `clean.cin_census` stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CinParams {
    /// the reporting year of an input, when its column names do not say it: `{input: 2013}`
    #[serde(default)]
    pub years: BTreeMap<String, i32>,
}

/// The year most column names' suffixes point at (`Referrals0910` → 2010).
fn cin_year(label: &str, bytes: &[u8]) -> Result<i32> {
    let (text, _) = crate::clean::common::decode_text(label, bytes);
    let header = text.lines().next().unwrap_or_default();
    let mut counts: BTreeMap<i32, usize> = BTreeMap::new();
    for col in header.split(',') {
        if let Some(y) = crate::clean::cin_census::detect_year_suffix(col.trim().trim_matches('"'))
        {
            *counts.entry(y).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(y, n)| (*n, *y))
        .map(|(y, _)| y)
        .ok_or_else(|| {
            Error::data(
                label,
                "no column name carries a year suffix (like `Referrals0910`)",
            )
            .with_hint("give the year in the stage's params: `years: {INPUT: 2010}`")
        })
}

impl KindSpec for CinCensus {
    fn params(&self) -> &KindParams {
        static P: params::Lazy = params::Lazy::new(KindParams::of::<CinParams>);
        &P
    }

    fn tables(&self, _stage: &Stage) -> Vec<String> {
        clean_tables()
    }

    fn check(&self, stage: &Stage) -> std::result::Result<(), String> {
        inputs_named(stage, "years", &stage.params_as::<CinParams>()?.years)
    }
}

impl StageKind for CinCensus {
    fn name(&self) -> &'static str {
        "clean.cin_census"
    }

    fn version(&self) -> u32 {
        1
    }

    fn describe(&self) -> &'static str {
        "DfE children-in-need census underlying data (wide CSVs, 2009-10 to 2016-17) to tidy rows"
    }

    fn outputs(&self) -> &'static [TableDoc] {
        &TIDY_TABLES
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let years = ctx.params::<CinParams>()?.years;
        outputs(parse_all(ctx, |name, label, bytes| {
            let year = match years.get(name) {
                Some(y) => *y,
                None => cin_year(label, bytes)?,
            };
            Ok(crate::clean::parse_cin_census(name, label, bytes, year)?)
        })?)
    }
}

// ---- clean.ees ----

pub struct Ees;

/// The params of a `clean.ees` stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EesParams {
    /// the filter columns of an input, when automatic detection gets them wrong:
    /// `{input: [category]}`
    #[serde(default)]
    pub filters: BTreeMap<String, Vec<String>>,
    /// columns to leave out of an input (free text): `{input: [notes]}`
    #[serde(default)]
    pub ignore: BTreeMap<String, Vec<String>>,
    /// years added to an input's `time_period`, e.g. `{csww: 1}` for the workforce census
    /// dated September of the year before
    #[serde(default)]
    pub year_offset: BTreeMap<String, i32>,
}

impl KindSpec for Ees {
    fn params(&self) -> &KindParams {
        static P: params::Lazy = params::Lazy::new(KindParams::of::<EesParams>);
        &P
    }

    fn tables(&self, _stage: &Stage) -> Vec<String> {
        clean_tables()
    }

    fn check(&self, stage: &Stage) -> std::result::Result<(), String> {
        let p: EesParams = stage.params_as()?;
        inputs_named(stage, "filters", &p.filters)?;
        inputs_named(stage, "ignore", &p.ignore)?;
        inputs_named(stage, "year_offset", &p.year_offset)
    }
}

impl StageKind for Ees {
    fn name(&self) -> &'static str {
        "clean.ees"
    }

    fn version(&self) -> u32 {
        1
    }

    fn describe(&self) -> &'static str {
        "DfE explore-education-statistics tidy CSVs (CIN, workforce, population) to tidy rows"
    }

    fn outputs(&self) -> &'static [TableDoc] {
        &TIDY_TABLES
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let p: EesParams = ctx.params()?;
        outputs(parse_all(ctx, |name, label, bytes| {
            let opts = crate::clean::EesOptions {
                filters: p.filters.get(name).cloned(),
                ignore: p.ignore.get(name).cloned().unwrap_or_default(),
                year_offset: p.year_offset.get(name).copied().unwrap_or(0),
            };
            Ok(crate::clean::parse_ees(name, label, bytes, &opts)?)
        })?)
    }
}

// ---- clean.nomis ----

pub struct Nomis;

impl KindSpec for Nomis {
    fn tables(&self, _stage: &Stage) -> Vec<String> {
        clean_tables()
    }
}

impl StageKind for Nomis {
    fn name(&self) -> &'static str {
        "clean.nomis"
    }

    fn version(&self) -> u32 {
        1
    }

    fn describe(&self) -> &'static str {
        "ONS mid-year population estimates by age band, as downloaded from Nomis"
    }

    fn outputs(&self) -> &'static [TableDoc] {
        &TIDY_TABLES
    }

    fn example(&self) -> Option<&'static str> {
        Some("population:\n  kind: clean.nomis\n  inputs: [nomis_popest_2010_2016]  # sources: Nomis CSV downloads\n")
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        outputs(parse_all(ctx, |name, label, bytes| {
            Ok(crate::clean::parse_nomis_popest(name, label, bytes)?)
        })?)
    }
}

// ---- clean.deprivation ----

pub struct Deprivation;

/// The params of a `clean.deprivation` stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeprivationParams {
    /// the year of an input, when its file name does not say it: `{input: 2015}`
    #[serde(default)]
    pub years: BTreeMap<String, i32>,
}

impl KindSpec for Deprivation {
    fn params(&self) -> &KindParams {
        static P: params::Lazy = params::Lazy::new(KindParams::of::<DeprivationParams>);
        &P
    }

    fn tables(&self, _stage: &Stage) -> Vec<String> {
        clean_tables()
    }

    fn check(&self, stage: &Stage) -> std::result::Result<(), String> {
        inputs_named(
            stage,
            "years",
            &stage.params_as::<DeprivationParams>()?.years,
        )
    }
}

impl StageKind for Deprivation {
    fn name(&self) -> &'static str {
        "clean.deprivation"
    }

    fn version(&self) -> u32 {
        1
    }

    fn describe(&self) -> &'static str {
        "English Indices of Deprivation, upper-tier LA summaries (IMD, IDACI) from the XLSX workbooks"
    }

    fn outputs(&self) -> &'static [TableDoc] {
        &TIDY_TABLES
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let years = ctx.params::<DeprivationParams>()?.years;
        outputs(parse_all(ctx, |name, label, bytes| {
            let year = years
                .get(name)
                .copied()
                .or_else(|| year_from_name(label))
                .ok_or_else(|| {
                    Error::data(label, "the file name carries no year")
                        .with_hint(format!("give it: `years: {{{name}: 2015}}`"))
                })?;
            Ok(Parsed {
                rows: crate::clean::deprivation::parse_iod_upper_tier(name, label, bytes, year)?,
                notes: Vec::new(),
            })
        })?)
    }
}

// ---- clean.s251 ----

pub struct S251;

/// The params of a `clean.s251` stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct S251Params {
    /// the YAML mapping each year's s251 lines to harmonised spending lines (e.g.
    /// stages/s251_crosswalk.yaml)
    pub crosswalk: String,
}

impl KindSpec for S251 {
    fn params(&self) -> &KindParams {
        static P: params::Lazy = params::Lazy::new(KindParams::of::<S251Params>);
        &P
    }

    fn tables(&self, _stage: &Stage) -> Vec<String> {
        clean_tables()
    }

    fn files(&self, stage: &Stage) -> Vec<String> {
        stage
            .params_as::<S251Params>()
            .map(|p| vec![p.crosswalk])
            .unwrap_or_default()
    }
}

impl StageKind for S251 {
    fn name(&self) -> &'static str {
        "clean.s251"
    }

    fn version(&self) -> u32 {
        1
    }

    fn describe(&self) -> &'static str {
        "section 251 outturn (Table A1 CSVs), lines harmonised across years by a YAML crosswalk"
    }

    fn outputs(&self) -> &'static [TableDoc] {
        &TIDY_TABLES
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let cw_path = &ctx.params::<S251Params>()?.crosswalk;
        let text = std::fs::read_to_string(ctx.pipeline.root.join(cw_path))
            .map_err(|e| Error::io("read the crosswalk", cw_path, e))?;
        let cw = crate::clean::s251::load_crosswalk(cw_path, &text)?;
        outputs(parse_all(ctx, |name, label, bytes| {
            let year = crate::clean::s251::year_from_file_name(label).ok_or_else(|| {
                Error::data(label, "cannot tell the year from the file name")
                    .with_hint("name s251 files as published: `s251_outturn_<yy><yy>.csv`")
            })?;
            let cells = crate::clean::s251::parse_s251(name, label, bytes, year)?;
            let mut rows = crate::clean::s251::to_tidy(name, &cells);
            rows.extend(crate::clean::s251::apply_crosswalk(
                name, label, &cw, &cells,
            )?);
            Ok(Parsed {
                rows,
                notes: Vec::new(),
            })
        })?)
    }
}

// ---- clean.lait ----

pub struct Lait;

/// The params of a `clean.lait` stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LaitParams {
    /// years added to the `Years` of a measure, e.g. `{Work_Force_Vac_Rate: 1}`: LAIT dates
    /// the workforce census by its September, the panel by the March after
    #[serde(default)]
    pub year_offset: BTreeMap<String, i64>,
}

/// A LAIT value cell: a number (some print long binary tails, `8.3000000000000007`, which
/// parse to the same double as `8.3`), or a code.
/// LAIT uses the DfE's EES codes; `known` is false for a cell that is neither a number nor one
/// of them (kept as not_available and counted in the notes).
fn lait_value(s: Option<&str>) -> (Option<f64>, crate::clean::tidy::Status, bool) {
    use crate::clean::common::{classify, Cell};
    use crate::clean::tidy::Status;
    match classify(s.unwrap_or("").trim(), crate::clean::ees::EES_CODES) {
        Cell::Value(v) => (Some(v), Status::Ok, true),
        Cell::Code(st) => (None, st, true),
        Cell::Unknown => (None, Status::NotAvailable, false),
    }
}

/// The year a LAIT period ends: `2016` → 2016, `2014/15` and `2014-15` → 2015, `2013-15` →
/// 2015, `2012/13-14/15` → 2015, `2018 (Revised)` → 2018. None for `0` or no year.
fn lait_year(label: &str) -> Option<i32> {
    let runs: Vec<&str> = label
        .split(|c: char| !c.is_ascii_digit())
        .filter(|r| !r.is_empty())
        .collect();
    let first: i32 = runs.iter().find(|r| r.len() == 4)?.parse().ok()?;
    let last = runs.last()?;
    let year = match last.len() {
        4 => last.parse().ok()?,
        2 => {
            let yy: i32 = last.parse().ok()?;
            let y = first / 100 * 100 + yy;
            if y < first {
                y + 100
            } else {
                y
            }
        }
        _ => return None,
    };
    (1990..2100).contains(&year).then_some(year)
}

impl KindSpec for Lait {
    fn params(&self) -> &KindParams {
        static P: params::Lazy = params::Lazy::new(KindParams::of::<LaitParams>);
        &P
    }

    fn tables(&self, _stage: &Stage) -> Vec<String> {
        clean_tables()
    }
}

impl StageKind for Lait {
    fn name(&self) -> &'static str {
        "clean.lait"
    }

    fn version(&self) -> u32 {
        1
    }

    fn describe(&self) -> &'static str {
        "the DfE Local Authority Interactive Tool long table (Parquet) to tidy rows"
    }

    fn outputs(&self) -> &'static [TableDoc] {
        &TIDY_TABLES
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        use crate::clean::tidy::GeographyLevel;
        let offsets = ctx.params::<LaitParams>()?.year_offset;
        let mut rows = Vec::new();
        let mut notes = Vec::new();
        for (name, path, label) in sources(ctx)? {
            let (schema, batches) = crate::table::read_parquet(path)?;
            let t = crate::stage::columns::TableData::new(&label, schema, &batches)?;
            let measure = t.strings("Short Desc")?;
            let years = t.strings("Years")?;
            let la_name = t.strings("LA and Regions")?;
            let values = t.strings("Values")?;
            let la_number = t.f64s("LA Number")?;
            let mut codes_mapped = 0usize;
            let mut undated: BTreeMap<String, usize> = BTreeMap::new();
            for i in 0..t.rows() {
                let line = i + 1;
                let m = measure[i].clone().ok_or_else(|| {
                    Error::data(&label, format!("row {line} has no `Short Desc`"))
                        .with_hint("the file is not the LAIT long table")
                })?;
                let years_label = years[i].as_deref().unwrap_or("").trim();
                let Some(year) = lait_year(years_label) else {
                    // LAIT writes `0` for a measure with no period; such rows are counted in
                    // the notes rather than given a year they do not have.
                    *undated.entry(m.clone()).or_insert(0usize) += 1;
                    continue;
                };
                // A period other than a plain year (`2014/15`, `2018 (Revised)`, `2015-16 (OT)`)
                // is kept in the measure name, so revised and original figures stay apart.
                let m = if years_label.len() == 4 {
                    m
                } else {
                    format!("{m}[years={years_label}]")
                };
                let name_i = la_name[i].clone().unwrap_or_default();
                let (level, old) = match la_number[i] {
                    Some(n) if n.fract() == 0.0 && (100.0..1000.0).contains(&n) => (
                        GeographyLevel::LocalAuthority,
                        Some(format!("{}", n as i64)),
                    ),
                    _ if name_i.eq_ignore_ascii_case("England") => (GeographyLevel::National, None),
                    _ => (GeographyLevel::Regional, None),
                };
                let (value, status, known) = lait_value(values[i].as_deref());
                if !known {
                    codes_mapped += 1;
                }
                rows.push(TidyRow {
                    source: name.to_string(),
                    year: year + offsets.get(&m).copied().unwrap_or(0) as i32,
                    la_code_old: old,
                    la_code: None,
                    la_name: name_i,
                    geography_level: level,
                    measure: m,
                    value,
                    status,
                });
            }
            for (m, n) in &undated {
                notes.push(Note {
                    kind: crate::clean::NoteKind::Structure,
                    file: label.clone(),
                    line: None,
                    column: Some("Years".into()),
                    message: format!("{n} rows of `{m}` have no period (`Years` = 0) and are left out of the tidy rows"),
                });
            }
            if codes_mapped > 0 {
                notes.push(Note {
                    kind: crate::clean::NoteKind::CodeMapped,
                    file: label.clone(),
                    line: None,
                    column: Some("Values".into()),
                    message: format!("{codes_mapped} values were neither numbers nor known codes; kept as not_available"),
                });
            }
        }
        outputs(Parsed { rows, notes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lait_periods_end_years() {
        assert_eq!(lait_year("2016"), Some(2016));
        assert_eq!(lait_year("2014/15"), Some(2015));
        assert_eq!(lait_year("2013-15"), Some(2015));
        assert_eq!(lait_year("2012/13-14/15"), Some(2015));
        assert_eq!(lait_year("2018 (Revised)"), Some(2018));
        assert_eq!(lait_year("2015-16 (OT)"), Some(2016));
        assert_eq!(lait_year("0"), None);
        assert_eq!(lait_value(Some("8.3000000000000007")).0, Some(8.3));
        assert_eq!(
            lait_value(Some("c")).1,
            crate::clean::tidy::Status::Suppressed
        );
    }

    #[test]
    fn years_from_file_names() {
        assert_eq!(year_from_name("raw/deprivation/imd-2015.xlsx"), Some(2015));
        assert_eq!(year_from_name("raw/x/file_12345.csv"), None);
    }

    #[test]
    fn cin_year_is_the_most_common_suffix() {
        let csv = b"geog_l,geog_c,geog_n,Referrals0910,IAs0910,CINAt310316,Mid2009Pop0-17\n";
        assert_eq!(cin_year("f.csv", csv).unwrap(), 2010);
        assert!(cin_year("f.csv", b"a,b,c\n").is_err());
    }
}
