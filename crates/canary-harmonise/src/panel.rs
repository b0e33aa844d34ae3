//! Builds the LA × year × indicator panel from the tidy rows of every source, by evaluating
//! each indicator's definition for the year. Every LA-year gets a row per indicator even when
//! there is no value, so coverage and the reason for each gap stay visible downstream.

use super::codes::{is_combined, CodeMap, CodeMapEntry};
use super::dictionary::{Definition, Dictionary, Indicator};
use super::error::HarmoniseError;
use super::formula::{self, MeasureRef, Val};
use super::status::ValueStatus;
use canary_clean::tidy::{GeographyLevel, Status, TidyRow};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::RangeInclusive;

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// LA codes (ONS or old 3-digit) left out of the panel.
    pub exclude: Vec<String>,
    pub years: RangeInclusive<i32>,
    /// Fail on a year no definition covers, instead of writing `no_definition` rows.
    pub strict: bool,
}

impl Default for Options {
    /// The study's exclusions: City of London and the Isles of Scilly, too small for rates
    /// to mean much (their CIN counts are in single figures).
    fn default() -> Self {
        Options {
            exclude: ["E09000001", "201", "E06000053", "420"]
                .map(String::from)
                .to_vec(),
            years: 2010..=2025,
            strict: false,
        }
    }
}

/// A row of the panel: its fields are the `panel` table's columns, in order (serde).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PanelRow {
    pub la_code: String,
    pub la_code_old: Option<String>,
    pub la_name: String,
    pub year: i32,
    pub indicator: String,
    pub value: Option<f64>,
    pub status: String,
    /// `source:years` of the definition used (empty when none covers the year).
    pub definition: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WideRow {
    pub la_code: String,
    pub la_code_old: Option<String>,
    pub la_name: String,
    pub year: i32,
    /// One per `Wide::columns`, in that order.
    pub values: Vec<Option<f64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Wide {
    pub columns: Vec<String>,
    pub rows: Vec<WideRow>,
}

/// An LA row that could not be keyed by an ONS code, and was therefore left out: a row of the
/// `unmapped` table, its fields the columns in order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct UnmappedLa {
    pub source: String,
    pub year: i32,
    pub la_code_old: Option<String>,
    pub la_code: Option<String>,
    pub la_name: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Harmonised {
    pub panel: Vec<PanelRow>,
    pub wide: Wide,
    pub code_map: Vec<CodeMapEntry>,
    pub unmapped: Vec<UnmappedLa>,
    /// "no rows for source X in year Y" and similar, sorted, each once.
    pub notes: Vec<String>,
}

#[derive(Default)]
struct SourceYear {
    measures: HashSet<String>,
    by_la: HashMap<String, HashMap<String, (Option<f64>, Status)>>,
    la_info: HashMap<String, (Option<String>, String)>,
}

/// The sources indexed by (source, year) and LA, shared by the panel and the cross-checks.
struct Index<'a> {
    pub dict: &'a Dictionary,
    pub data: HashMap<(String, i32), SourceYear>,
    pub codes: CodeMap,
    pub unmapped: BTreeSet<UnmappedLa>,
    pub notes: BTreeSet<String>,
    /// One ONS code given to two old codes within one source-year.
    pub conflicts: Vec<HarmoniseError>,
}

impl<'a> Index<'a> {
    pub fn build(dict: &'a Dictionary, sources: &BTreeMap<String, Vec<TidyRow>>) -> Index<'a> {
        // Population files date rows by the estimate's mid-year; learn their codes at the
        // reporting year they serve so boundary changes line up with the other sources.
        let mut shift: BTreeMap<&str, i32> = BTreeMap::new();
        for b in dict.populations.values().flatten() {
            if b.year_offset != 0 {
                shift.insert(&b.source, -b.year_offset);
            }
        }
        let mut codes = CodeMap::default();
        for (name, rows) in sources {
            codes.learn(name, rows, shift.get(name.as_str()).copied().unwrap_or(0));
        }
        let mut data: HashMap<(String, i32), SourceYear> = HashMap::new();
        let mut unmapped = BTreeSet::new();
        let mut conflicts: Vec<HarmoniseError> = Vec::new();
        for (name, rows) in sources {
            let s = shift.get(name.as_str()).copied().unwrap_or(0);
            for r in rows {
                let sy = data.entry((name.clone(), r.year)).or_default();
                if !sy.measures.contains(&r.measure) {
                    sy.measures.insert(r.measure.clone());
                }
                if r.geography_level != GeographyLevel::LocalAuthority {
                    continue;
                }
                let combined = r.la_code.as_deref().is_some_and(is_combined)
                    || r.la_code_old.as_deref().is_some_and(is_combined);
                // The old code decides the LA (see `codes`); a row with only an ONS code
                // (IMD) keeps it.
                let key = if combined {
                    None
                } else if let Some(o) = &r.la_code_old {
                    codes.resolve(o, r.year + s).map(String::from)
                } else {
                    r.la_code.clone()
                };
                let Some(key) = key else {
                    unmapped.insert(UnmappedLa {
                        source: name.clone(),
                        year: r.year,
                        la_code_old: r.la_code_old.clone(),
                        la_code: r.la_code.clone(),
                        la_name: r.la_name.clone(),
                        reason: if combined {
                            "combined return for two LAs; left out rather than merged".into()
                        } else {
                            "old code not found in any file that prints both codes".into()
                        },
                    });
                    continue;
                };
                let info = sy
                    .la_info
                    .entry(key.clone())
                    .or_insert_with(|| (r.la_code_old.clone(), r.la_name.clone()));
                if info.0.is_some() && r.la_code_old.is_some() && info.0 != r.la_code_old {
                    conflicts.push(HarmoniseError::CodeConflict {
                        year: r.year,
                        code: key.clone(),
                        first: format!("{} (old code {})", info.1, info.0.as_deref().unwrap_or("")),
                        second: format!(
                            "{} (old code {})",
                            r.la_name,
                            r.la_code_old.as_deref().unwrap_or("")
                        ),
                        sources: name.clone(),
                    });
                    continue;
                }
                sy.by_la
                    .entry(key)
                    .or_default()
                    .entry(r.measure.clone())
                    .or_insert((r.value, r.status));
            }
        }
        conflicts.dedup();
        Index {
            dict,
            data,
            codes,
            unmapped,
            notes: BTreeSet::new(),
            conflicts,
        }
    }

    /// Evaluates one definition for one LA and reporting year.
    pub fn evaluate(
        &mut self,
        ind: &Indicator,
        def: &Definition,
        la: &str,
        year: i32,
    ) -> Result<Val, HarmoniseError> {
        let src_year = def.fixed_year.unwrap_or(year);
        let family = self.dict.population_for(def).to_string();
        let dict = self.dict;
        let data = &self.data;
        let notes = std::cell::RefCell::new(&mut self.notes);
        let cell = |sy: &SourceYear, name: &str| match sy.by_la.get(la).and_then(|m| m.get(name)) {
            Some((v, st)) => Val {
                value: *v,
                status: (*st).into(),
            },
            None => Val::missing(ValueStatus::NotAvailable),
        };
        let mut lookup = |m: &MeasureRef| -> Result<Val, HarmoniseError> {
            let source = m.source.as_deref().unwrap_or(&def.source);
            let name = formula::expand(&m.template, src_year);
            match data.get(&(source.to_string(), src_year)) {
                None => {
                    notes.borrow_mut().insert(format!("no rows for source `{source}` in {src_year} (indicator `{}`): not_available", ind.id));
                    Ok(Val::missing(ValueStatus::NotAvailable))
                }
                Some(sy) if !sy.measures.contains(&name) => Err(HarmoniseError::MissingMeasure {
                    indicator: ind.id.clone(),
                    definition: def.years.to_string(),
                    source: source.to_string(),
                    year: src_year,
                    similar: similar(sy, &name).into_boxed_slice(),
                    measure: name,
                }),
                Some(sy) => Ok(cell(sy, &name)),
            }
        };
        let mut population = || -> Result<Val, HarmoniseError> {
            let Some(b) = dict
                .populations
                .get(&family)
                .and_then(|v| v.iter().find(|b| b.years.contains(year)))
            else {
                notes.borrow_mut().insert(format!(
                    "population `{family}` has no source for {year}: rates not_available"
                ));
                return Ok(Val::missing(ValueStatus::NotAvailable));
            };
            let name = formula::expand(&b.measure, year);
            let y = year + b.year_offset;
            match data.get(&(b.source.clone(), y)) {
                None => {
                    notes.borrow_mut().insert(format!(
                        "no rows for population source `{}` in {y}: rates for {year} not_available",
                        b.source
                    ));
                    Ok(Val::missing(ValueStatus::NotAvailable))
                }
                Some(sy) if !sy.measures.contains(&name) => {
                    Err(HarmoniseError::MissingPopulation {
                        population: family.clone(),
                        source: b.source.clone(),
                        year: y,
                        measure: name,
                    })
                }
                Some(sy) => Ok(cell(sy, &name)),
            }
        };
        formula::eval(&def.formula, &mut lookup, &mut population)
    }

    /// Sources whose rows say which LAs exist in a year: those read by the definitions in
    /// force that year, at that year (not snapshots such as IMD, nor population files).
    fn spine_sources(&self, year: i32) -> BTreeSet<String> {
        let mut s = BTreeSet::new();
        for ind in &self.dict.indicators {
            if let Some(d) = ind.definition_for(year) {
                if d.fixed_year.is_some() {
                    continue;
                }
                s.insert(d.source.clone());
                for m in d.formula.measures() {
                    if let Some(src) = &m.source {
                        s.insert(src.clone());
                    }
                }
            }
        }
        s
    }

    /// The LAs of a year: code → (old code, name), after exclusions. Errors if one code
    /// would stand for two LAs.
    pub fn universe(
        &self,
        year: i32,
        exclude: &[String],
    ) -> Result<BTreeMap<String, (Option<String>, String)>, HarmoniseError> {
        let mut out: BTreeMap<String, (Option<String>, String, String)> = BTreeMap::new();
        let mut by_old: BTreeMap<String, (String, String)> = BTreeMap::new();
        for src in self.spine_sources(year) {
            let Some(sy) = self.data.get(&(src.clone(), year)) else {
                continue;
            };
            let mut las: Vec<_> = sy.la_info.iter().collect();
            las.sort();
            for (code, (old, name)) in las {
                if exclude.iter().any(|e| e == code || Some(e) == old.as_ref()) {
                    continue;
                }
                let e = out
                    .entry(code.clone())
                    .or_insert_with(|| (old.clone(), name.clone(), src.clone()));
                if e.0.is_none() {
                    e.0 = old.clone();
                }
                if let (Some(a), Some(b)) = (&e.0, old) {
                    if a != b {
                        return Err(HarmoniseError::CodeConflict {
                            year,
                            code: code.clone(),
                            first: format!("old code {a} ({})", e.2),
                            second: format!("old code {b} ({src})"),
                            sources: format!("{}, {src}", e.2),
                        });
                    }
                }
                if let Some(old) = old {
                    let prev = by_old
                        .entry(old.clone())
                        .or_insert_with(|| (code.clone(), src.clone()));
                    if prev.0 != *code {
                        return Err(HarmoniseError::CodeConflict {
                            year,
                            code: old.clone(),
                            first: format!("{} ({})", prev.0, prev.1),
                            second: format!("{code} ({src})"),
                            sources: format!("{}, {src}", prev.1),
                        });
                    }
                }
            }
        }
        Ok(out.into_iter().map(|(k, (o, n, _))| (k, (o, n))).collect())
    }
}

/// Up to three measures of the same source-year that look like `name` (same start), to
/// point at the renamed column.
fn similar(sy: &SourceYear, name: &str) -> Vec<String> {
    let lower = name.to_ascii_lowercase();
    let mut scored: Vec<(usize, &String)> = sy
        .measures
        .iter()
        .map(|m| {
            let ml = m.to_ascii_lowercase();
            let prefix = ml
                .bytes()
                .zip(lower.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            (if ml == lower { 1000 } else { prefix }, m)
        })
        .filter(|(s, _)| *s >= 4)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, m)| m.clone()).collect()
}

/// Builds the panel. See the module docs; `sources` maps the source names the dictionary
/// uses to their tidy rows (a source the dictionary names but that is absent yields
/// `not_available`, so parsers can arrive one at a time).
pub fn harmonise(
    dict: &Dictionary,
    sources: &BTreeMap<String, Vec<TidyRow>>,
    options: &Options,
) -> Result<Harmonised, HarmoniseError> {
    if options.years.is_empty() {
        return Err(HarmoniseError::Options {
            message: format!("empty year range {:?}", options.years),
        });
    }
    let mut idx = Index::build(dict, sources);
    panel_from_index(dict, &mut idx, options)
}

/// The panel and the cross-checks from one index: building it is the costly part.
pub fn harmonise_with_crosscheck(
    dict: &Dictionary,
    sources: &BTreeMap<String, Vec<TidyRow>>,
    options: &Options,
) -> Result<(Harmonised, Vec<CrosscheckRow>), HarmoniseError> {
    if options.years.is_empty() {
        return Err(HarmoniseError::Options {
            message: format!("empty year range {:?}", options.years),
        });
    }
    let mut idx = Index::build(dict, sources);
    let h = panel_from_index(dict, &mut idx, options)?;
    let cross = crosscheck_index(dict, &mut idx, options, &h)?;
    Ok((h, cross))
}

fn panel_from_index(
    dict: &Dictionary,
    idx: &mut Index,
    options: &Options,
) -> Result<Harmonised, HarmoniseError> {
    if let Some(e) = idx.conflicts.iter().find(
        |e| matches!(e, HarmoniseError::CodeConflict { year, .. } if options.years.contains(year)),
    ) {
        return Err(e.clone());
    }
    let mut panel = Vec::new();
    let mut wide_rows = Vec::new();
    for year in options.years.clone() {
        let universe = idx.universe(year, &options.exclude)?;
        if universe.is_empty() {
            idx.notes.insert(format!(
                "no LA rows in any source for {year}: no panel rows"
            ));
        }
        for (la, (old, name)) in &universe {
            let mut values = Vec::with_capacity(dict.indicators.len());
            for ind in &dict.indicators {
                let (val, definition) = match ind.definition_for(year) {
                    Some(def) => (idx.evaluate(ind, def, la, year)?, def.label()),
                    None if options.strict => {
                        return Err(HarmoniseError::NoDefinition {
                            indicator: ind.id.clone(),
                            year,
                            covered: ind
                                .definitions
                                .iter()
                                .map(|d| d.years.to_string())
                                .collect(),
                        })
                    }
                    None => (Val::missing(ValueStatus::NoDefinition), String::new()),
                };
                // A computed value can be non-finite only through a publisher error; keep it out.
                let val = match val.value {
                    Some(v) if !v.is_finite() => Val::missing(ValueStatus::ZeroDenominator),
                    _ => val,
                };
                values.push(val.value);
                panel.push(PanelRow {
                    la_code: la.clone(),
                    la_code_old: old.clone(),
                    la_name: name.clone(),
                    year,
                    indicator: ind.id.clone(),
                    value: val.value,
                    status: val.status.as_str().to_string(),
                    definition,
                });
            }
            wide_rows.push(WideRow {
                la_code: la.clone(),
                la_code_old: old.clone(),
                la_name: name.clone(),
                year,
                values,
            });
        }
    }
    for d in idx.codes.disagreements() {
        idx.notes.insert(d);
    }
    let mut unmapped: Vec<UnmappedLa> = idx.unmapped.iter().cloned().collect();
    unmapped.sort();
    Ok(Harmonised {
        panel,
        wide: Wide {
            columns: dict.indicators.iter().map(|i| i.id.clone()).collect(),
            rows: wide_rows,
        },
        code_map: idx.codes.entries(),
        unmapped,
        notes: std::mem::take(&mut idx.notes).into_iter().collect(),
    })
}

/// A row of the `crosscheck` table: its fields are the columns, in order (serde).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CrosscheckRow {
    pub indicator: String,
    pub year: i32,
    pub la_code: String,
    pub panel_definition: String,
    pub panel_value: Option<f64>,
    pub crosscheck_definition: String,
    pub crosscheck_value: Option<f64>,
    /// panel − crosscheck, when both have a value.
    pub difference: Option<f64>,
}

/// Evaluates every `crosschecks` definition over the panel's LAs and years it covers, beside
/// the panel's value: the evidence for which source wins in overlap years.
pub fn crosscheck(
    dict: &Dictionary,
    sources: &BTreeMap<String, Vec<TidyRow>>,
    options: &Options,
    h: &Harmonised,
) -> Result<Vec<CrosscheckRow>, HarmoniseError> {
    let mut idx = Index::build(dict, sources);
    crosscheck_index(dict, &mut idx, options, h)
}

fn crosscheck_index(
    dict: &Dictionary,
    idx: &mut Index,
    options: &Options,
    h: &Harmonised,
) -> Result<Vec<CrosscheckRow>, HarmoniseError> {
    let mut out = Vec::new();
    for r in &h.panel {
        if !options.years.contains(&r.year) {
            continue;
        }
        let Some(ind) = dict.indicator(&r.indicator) else {
            continue;
        };
        for def in ind.crosschecks.iter().filter(|d| d.years.contains(r.year)) {
            let v = idx.evaluate(ind, def, &r.la_code, r.year)?;
            out.push(CrosscheckRow {
                indicator: r.indicator.clone(),
                year: r.year,
                la_code: r.la_code.clone(),
                panel_definition: r.definition.clone(),
                panel_value: r.value,
                crosscheck_definition: def.label(),
                crosscheck_value: v.value,
                difference: r.value.zip(v.value).map(|(a, b)| a - b),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::dictionary::load;
    use super::*;

    const DICT: &str = r#"
version: 1
default_population: pop
populations:
  pop:
    - {years: 2012.., source: census, measure: 'Pop{mid}'}
indicators:
  - id: ia_pct
    label: IAs within 10 days
    unit: pct
    quadrant: quality_of_effort
    role: lead
    definitions:
      - {years: 2012..2013, source: census, formula: 'pct(sum(`IAs1-5days{yy}`, `IAs6-10days{yy}`), IAs{yy})'}
  - id: ia_rate
    label: IA rate
    unit: rate_per_10k
    quadrant: quantity_of_effort
    role: lead
    definitions:
      - {years: 2012, source: census, formula: 'rate(IAs{yy})'}
  - id: workforce
    label: vacancy
    unit: pct
    quadrant: quality_of_effort
    role: lead
    definitions:
      - {years: 2012.., source: lait, formula: 'vac'}
"#;

    fn row(
        year: i32,
        old: &str,
        new: Option<&str>,
        measure: &str,
        value: Option<f64>,
        status: Status,
    ) -> TidyRow {
        TidyRow {
            source: "census".into(),
            year,
            la_code_old: Some(old.into()),
            la_code: new.map(String::from),
            la_name: format!("LA {old}"),
            geography_level: GeographyLevel::LocalAuthority,
            measure: measure.into(),
            value,
            status,
        }
    }

    fn sources() -> BTreeMap<String, Vec<TidyRow>> {
        let ok = |y, o, n, m, v| row(y, o, n, m, Some(v), Status::Ok);
        let rows = vec![
            // 2011-12: old codes only, as in the CIN census files before 2012-13.
            ok(2012, "801", None, "IAs1112", 200.0),
            ok(2012, "801", None, "IAs1-5days1112", 50.0),
            ok(2012, "801", None, "IAs6-10days1112", 100.0),
            ok(2012, "801", None, "Pop2011", 40_000.0),
            ok(2012, "802", None, "IAs1112", 10.0),
            row(
                2012,
                "802",
                None,
                "IAs1-5days1112",
                None,
                Status::Suppressed,
            ),
            row(
                2012,
                "802",
                None,
                "IAs6-10days1112",
                None,
                Status::NotAvailable,
            ),
            ok(2012, "802", None, "Pop2011", 1_000.0),
            ok(2012, "201", None, "IAs1112", 1.0),
            // 2012-13 carries both codes: the map is learnt here.
            ok(2013, "801", Some("E06000801"), "IAs1213", 0.0),
            ok(2013, "801", Some("E06000801"), "IAs1-5days1213", 0.0),
            ok(2013, "801", Some("E06000801"), "IAs6-10days1213", 0.0),
            ok(2013, "802", Some("E06000802"), "IAs1213", 0.0),
            ok(2013, "802", Some("E06000802"), "IAs1-5days1213", 0.0),
            ok(2013, "802", Some("E06000802"), "IAs6-10days1213", 0.0),
            ok(2013, "201", Some("E09000001"), "IAs1213", 0.0),
        ];
        BTreeMap::from([("census".to_string(), rows)])
    }

    fn get<'a>(h: &'a Harmonised, ind: &str, year: i32, code: &str) -> &'a PanelRow {
        h.panel
            .iter()
            .find(|r| r.indicator == ind && r.year == year && r.la_code == code)
            .unwrap()
    }

    #[test]
    fn formulas_statuses_and_codes() {
        let dict = load("t.yaml", DICT).unwrap();
        let opts = Options {
            years: 2012..=2014,
            ..Options::default()
        };
        let h = harmonise(&dict, &sources(), &opts).unwrap();
        // City of London (201) excluded; 2012 rows keyed by the code learnt from 2013.
        assert_eq!(h.wide.rows.iter().filter(|r| r.year == 2012).count(), 2);
        let r = get(&h, "ia_pct", 2012, "E06000801");
        assert_eq!(
            (
                r.value,
                r.status.as_str(),
                r.la_code_old.as_deref(),
                r.definition.as_str()
            ),
            (Some(75.0), "ok", Some("801"), "census:2012..2013")
        );
        assert_eq!(get(&h, "ia_rate", 2012, "E06000801").value, Some(50.0));
        // Worst status of the operands: not_available beats suppressed.
        let r = get(&h, "ia_pct", 2012, "E06000802");
        assert_eq!((r.value, r.status.as_str()), (None, "not_available"));
        assert_eq!(
            get(&h, "ia_pct", 2013, "E06000801").status,
            "zero_denominator"
        );
        // No definition for 2013 → a row saying so; absent source → not_available + a note.
        let r = get(&h, "ia_rate", 2013, "E06000801");
        assert_eq!(
            (r.status.as_str(), r.definition.as_str()),
            ("no_definition", "")
        );
        assert_eq!(
            get(&h, "workforce", 2012, "E06000801").status,
            "not_available"
        );
        assert!(
            h.notes
                .iter()
                .any(|n| n.starts_with("no rows for source `lait` in 2012")),
            "{:?}",
            h.notes
        );
        // No LA rows at all in 2014: no panel rows, and a note.
        assert!(h.panel.iter().all(|r| r.year != 2014));
        assert_eq!(h.wide.columns, vec!["ia_pct", "ia_rate", "workforce"]);
        assert_eq!(h.wide.rows[0].values.len(), 3);
    }

    #[test]
    fn strict_names_indicator_and_year() {
        let dict = load("t.yaml", DICT).unwrap();
        let opts = Options {
            years: 2012..=2013,
            strict: true,
            ..Options::default()
        };
        let e = harmonise(&dict, &sources(), &opts).unwrap_err().to_string();
        assert!(
            e.starts_with("indicator `ia_rate` has no definition for 2013 (covered: 2012)"),
            "{e}"
        );
    }

    #[test]
    fn renamed_column_names_measure_and_entry() {
        let dict = load("t.yaml", DICT).unwrap();
        let mut s = sources();
        for r in s.get_mut("census").unwrap() {
            if r.measure == "IAs6-10days1213" {
                r.measure = "IAs6-10wd1213".into();
            }
        }
        let opts = Options {
            years: 2013..=2013,
            ..Options::default()
        };
        let e = harmonise(&dict, &s, &opts).unwrap_err().to_string();
        assert!(e.contains("indicator `ia_pct` (definition `2012..2013`): source `census` has rows for 2013 but no measure `IAs6-10days1213`"), "{e}");
        assert!(
            e.contains("similar measures there: `IAs6-10wd1213`")
                && e.contains("edit the formula of `ia_pct` for years `2012..2013`"),
            "{e}"
        );
    }

    #[test]
    fn one_code_two_las_is_refused() {
        let dict = load("t.yaml", DICT).unwrap();
        let mut s = sources();
        // A second source printing E06000801 for another LA (803) in 2013.
        let mut other = row(
            2013,
            "803",
            Some("E06000801"),
            "IAs1213",
            Some(1.0),
            Status::Ok,
        );
        other.source = "census".into();
        s.get_mut("census").unwrap().push(other);
        let opts = Options {
            years: 2013..=2013,
            ..Options::default()
        };
        let e = harmonise(&dict, &s, &opts).unwrap_err().to_string();
        assert!(e.contains("maps to two LAs in 2013"), "{e}");
    }
}
