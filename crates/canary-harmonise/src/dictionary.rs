//! The indicator dictionary (`stages/indicators.yaml`): which published measures make each
//! study indicator in each year. Read into a raw serde mirror (`deny_unknown_fields`, so a
//! misspelt key fails instead of being ignored), then validated into [`Dictionary`].

use super::error::{FileLocation, HarmoniseError};
use super::formula::{self, Expr};
use super::locate::{self, DefinitionAt};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Pct,
    #[serde(rename = "rate_per_10k")]
    RatePer10k,
    Count,
    Ratio,
    Score,
    GbpPerChild,
}

/// Friedman's performance-based accountability quadrants (the study's Figure 1), plus
/// `context` for covariates such as deprivation that measure neither effort nor effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quadrant {
    QuantityOfEffort,
    QualityOfEffort,
    QuantityOfEffect,
    QualityOfEffect,
    Context,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Lead,
    Lag,
}

/// Inclusive reporting years; `last` None = open-ended (`2014..`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearRange {
    pub first: i32,
    pub last: Option<i32>,
}

impl YearRange {
    pub fn contains(&self, y: i32) -> bool {
        y >= self.first && self.last.is_none_or(|l| y <= l)
    }
    pub fn overlaps(&self, o: &YearRange) -> bool {
        self.first <= o.last.unwrap_or(i32::MAX) && o.first <= self.last.unwrap_or(i32::MAX)
    }
    pub fn parse(s: &str) -> Option<YearRange> {
        let s = s.trim();
        let year = |t: &str| {
            t.trim()
                .parse::<i32>()
                .ok()
                .filter(|y| (1900..=2200).contains(y))
        };
        match s.split_once("..") {
            None => year(s).map(|y| YearRange {
                first: y,
                last: Some(y),
            }),
            Some((a, b)) if b.trim().is_empty() => year(a).map(|y| YearRange {
                first: y,
                last: None,
            }),
            Some((a, b)) => {
                let (a, b) = (year(a)?, year(b)?);
                (a <= b).then_some(YearRange {
                    first: a,
                    last: Some(b),
                })
            }
        }
    }
}

impl std::fmt::Display for YearRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.last {
            Some(l) if l == self.first => write!(f, "{l}"),
            Some(l) => write!(f, "{}..{l}", self.first),
            None => write!(f, "{}..", self.first),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub years: YearRange,
    pub source: String,
    pub formula_text: String,
    pub formula: Expr,
    /// What changed at the start of this definition, for the report.
    pub break_note: Option<String>,
    /// Population family for `rate()`; None → by source, then the default.
    pub population: Option<String>,
    /// Read the source at this year whatever the panel year (IMD: one snapshot).
    pub fixed_year: Option<i32>,
}

impl Definition {
    /// The label written to `PanelRow.definition`: stable, and names the entry to edit.
    pub fn label(&self) -> String {
        format!("{}:{}", self.source, self.years)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub id: String,
    pub label: String,
    pub unit: Unit,
    pub quadrant: Quadrant,
    pub role: Role,
    pub definitions: Vec<Definition>,
    /// Second definitions for overlap years, used only to cross-check the panel.
    pub crosschecks: Vec<Definition>,
}

impl Indicator {
    pub fn definition_for(&self, year: i32) -> Option<&Definition> {
        self.definitions.iter().find(|d| d.years.contains(year))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PopulationBinding {
    pub years: YearRange,
    pub source: String,
    pub measure: String,
    /// Added to the reporting year to get the source row's year (ONS file: mid-year, -1).
    pub year_offset: i32,
}

/// A count whose LA rows should add up to the file's England row.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconcileSpec {
    pub source: String,
    pub measure: String,
    pub years: YearRange,
    /// England-row rounding unit by year (the LA rows are unrounded in these files).
    pub rounding: Vec<(YearRange, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dictionary {
    pub indicators: Vec<Indicator>,
    pub populations: BTreeMap<String, Vec<PopulationBinding>>,
    pub population_by_source: BTreeMap<String, String>,
    pub default_population: String,
    pub reconcile: Vec<ReconcileSpec>,
}

impl Dictionary {
    pub fn indicator(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }
    pub fn population_for<'a>(&'a self, def: &'a Definition) -> &'a str {
        def.population
            .as_deref()
            .or(self
                .population_by_source
                .get(&def.source)
                .map(String::as_str))
            .unwrap_or(&self.default_population)
    }
}

// ---- raw mirror ----

#[derive(Deserialize)]
#[serde(untagged)]
enum RawYears {
    One(i32),
    Span(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDictionary {
    version: u32,
    default_population: String,
    #[serde(default)]
    population_by_source: BTreeMap<String, String>,
    populations: BTreeMap<String, Vec<RawPopulation>>,
    indicators: Vec<RawIndicator>,
    #[serde(default)]
    reconcile: Vec<RawReconcile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPopulation {
    years: RawYears,
    source: String,
    measure: String,
    #[serde(default)]
    year_offset: i32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    id: String,
    label: String,
    unit: Unit,
    quadrant: Quadrant,
    role: Role,
    definitions: Vec<RawDefinition>,
    #[serde(default)]
    crosschecks: Vec<RawDefinition>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefinition {
    years: RawYears,
    source: String,
    formula: String,
    #[serde(default, rename = "break")]
    break_note: Option<String>,
    #[serde(default)]
    population: Option<String>,
    #[serde(default)]
    fixed_year: Option<i32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReconcile {
    source: String,
    measure: String,
    years: RawYears,
    rounding: Vec<RawRounding>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRounding {
    years: RawYears,
    to: f64,
}

/// Parses and validates the dictionary text; `file` names it in errors.
pub fn load(file: &str, text: &str) -> Result<Dictionary, HarmoniseError> {
    let raw: RawDictionary = canary_yaml::from_str(text).map_err(|e| HarmoniseError::Yaml {
        file: file.to_string(),
        line: e.line,
        message: e.message,
    })?;
    let v = Validate { file, text };
    if raw.version != 1 {
        return Err(v.invalid(
            "version",
            format!("version {} is not supported", raw.version),
            "this code reads version 1",
        ));
    }
    let populations = v.populations(&raw.populations)?;
    v.known_population(&populations, "default_population", &raw.default_population)?;
    for (s, p) in &raw.population_by_source {
        v.known_population(&populations, &format!("population_by_source.{s}"), p)?;
    }
    let mut indicators: Vec<Indicator> = Vec::new();
    for ri in &raw.indicators {
        let indicator = v.indicator(ri, &indicators, &populations)?;
        indicators.push(indicator);
    }
    let reconcile = v.reconcile(&raw.reconcile)?;
    Ok(Dictionary {
        indicators,
        populations,
        population_by_source: raw.population_by_source,
        default_population: raw.default_population,
        reconcile,
    })
}

/// The population families by name: each year of a family read from one source.
type Populations = BTreeMap<String, Vec<PopulationBinding>>;

/// Validation of the raw dictionary, its errors naming the file and the entry at fault.
struct Validate<'a> {
    file: &'a str,
    /// The file's text, to point at the line of a formula that does not parse.
    text: &'a str,
}

impl Validate<'_> {
    /// An entry that parsed but says something impossible, with what to do about it.
    fn invalid(&self, entry: &str, message: String, hint: &str) -> HarmoniseError {
        let at = locate::entry_place(self.text, entry).map(|p| {
            Box::new(FileLocation {
                file: self.file.to_string(),
                line: p.line,
                column: p.column,
                source_line: p.text,
            })
        });
        HarmoniseError::Invalid {
            file: self.file.to_string(),
            entry: entry.to_string(),
            message,
            hint: hint.to_string(),
            at,
        }
    }

    /// The reporting years of an entry: one year, an inclusive range or an open-ended one.
    fn years(&self, entry: &str, y: &RawYears) -> Result<YearRange, HarmoniseError> {
        let written = match y {
            RawYears::One(y) => y.to_string(),
            RawYears::Span(s) => s.clone(),
        };
        YearRange::parse(&written).ok_or_else(|| {
            self.invalid(
                entry,
                format!("cannot read `years: {written}`"),
                "write `2012`, `2010..2011` (inclusive) or `2014..` (open-ended)",
            )
        })
    }

    /// The population families: for each, one source per year, with known placeholders.
    fn populations(
        &self,
        raw: &BTreeMap<String, Vec<RawPopulation>>,
    ) -> Result<Populations, HarmoniseError> {
        let mut populations = BTreeMap::new();
        for (name, binds) in raw {
            let mut out: Vec<PopulationBinding> = Vec::new();
            for (i, b) in binds.iter().enumerate() {
                let entry = format!("populations.{name}[{i}]");
                let yr = self.years(&entry, &b.years)?;
                if let Some(prev) = out.iter().find(|p| p.years.overlaps(&yr)) {
                    return Err(self.invalid(
                        &entry,
                        format!("years {yr} overlap {}", prev.years),
                        "give each year one population source",
                    ));
                }
                let bad = formula::unknown_placeholders(&b.measure);
                if !bad.is_empty() {
                    return Err(self.invalid(
                        &entry,
                        format!("unknown placeholder {}", bad.join(", ")),
                        "placeholders are {yy}, {ys}, {ye}, {year}, {mid}",
                    ));
                }
                out.push(PopulationBinding {
                    years: yr,
                    source: b.source.clone(),
                    measure: b.measure.clone(),
                    year_offset: b.year_offset,
                });
            }
            populations.insert(name.clone(), out);
        }
        Ok(populations)
    }

    /// A population an entry names must be one of the families defined.
    fn known_population(
        &self,
        populations: &Populations,
        entry: &str,
        p: &str,
    ) -> Result<(), HarmoniseError> {
        if populations.contains_key(p) {
            return Ok(());
        }
        Err(self.invalid(
            entry,
            format!("unknown population `{p}`"),
            &format!(
                "known: {}",
                populations.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        ))
    }

    /// One indicator: an id usable as a column name, defined once, with its definitions
    /// and cross-checks.
    fn indicator(
        &self,
        ri: &RawIndicator,
        earlier: &[Indicator],
        populations: &Populations,
    ) -> Result<Indicator, HarmoniseError> {
        if ri.id.is_empty()
            || !ri
                .id
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        {
            return Err(self.invalid(
                &ri.id,
                "indicator ids are lower-case letters, digits and _".into(),
                "they become column names of panel_wide",
            ));
        }
        if earlier.iter().any(|i| i.id == ri.id) {
            return Err(self.invalid(
                &ri.id,
                "indicator defined twice".into(),
                "merge the two entries' definitions",
            ));
        }
        if ri.definitions.is_empty() {
            return Err(self.invalid(
                &ri.id,
                "no definitions".into(),
                "add at least one definition with years, source and formula",
            ));
        }
        let definitions = self.definitions(&ri.id, "definitions", &ri.definitions, populations)?;
        let crosschecks = self.definitions(&ri.id, "crosschecks", &ri.crosschecks, populations)?;
        Ok(Indicator {
            id: ri.id.clone(),
            label: ri.label.clone(),
            unit: ri.unit,
            quadrant: ri.quadrant,
            role: ri.role,
            definitions,
            crosschecks,
        })
    }

    /// An indicator's `definitions` (or `crosschecks`), sorted by year: at most one per
    /// year, each formula parsed and each population known.
    fn definitions(
        &self,
        id: &str,
        kind: &str,
        list: &[RawDefinition],
        populations: &Populations,
    ) -> Result<Vec<Definition>, HarmoniseError> {
        let mut out: Vec<Definition> = Vec::new();
        for (i, d) in list.iter().enumerate() {
            let entry = format!("{id}.{kind}[{i}]");
            let yr = self.years(&entry, &d.years)?;
            if let Some(prev) = out.iter().find(|p| p.years.overlaps(&yr)) {
                return Err(self.invalid(
                    &entry,
                    format!("years {yr} overlap those of the definition for {} (source `{}`)", prev.years, prev.source),
                    "each year must have exactly one definition; put a second source for overlap years under `crosschecks`",
                ));
            }
            let expr = formula::parse(&entry, &d.formula)
                .map_err(|e| self.locate(e, &DefinitionAt { id, kind, index: i }))?;
            if let Some(p) = &d.population {
                self.known_population(populations, &entry, p)?;
            }
            out.push(Definition {
                years: yr,
                source: d.source.clone(),
                formula_text: d.formula.clone(),
                formula: expr,
                break_note: d.break_note.clone(),
                population: d.population.clone(),
                fixed_year: d.fixed_year,
            });
        }
        out.sort_by_key(|d| d.years.first);
        Ok(out)
    }

    /// A formula error with the place in the file of the character at fault, when the
    /// definition's lines can be found.
    fn locate(&self, mut e: HarmoniseError, def: &DefinitionAt) -> HarmoniseError {
        if let HarmoniseError::Formula {
            formula,
            position,
            at,
            ..
        } = &mut e
        {
            *at = locate::formula_place(self.text, def, formula, *position).map(|p| {
                Box::new(FileLocation {
                    file: self.file.to_string(),
                    line: p.line,
                    column: p.column,
                    source_line: p.text,
                })
            });
        }
        e
    }

    /// The LA-sum checks: a measure, its years and the England row's rounding by year.
    fn reconcile(&self, raw: &[RawReconcile]) -> Result<Vec<ReconcileSpec>, HarmoniseError> {
        let mut reconcile = Vec::new();
        for (i, r) in raw.iter().enumerate() {
            let entry = format!("reconcile[{i}]");
            let mut rounding = Vec::new();
            for rr in &r.rounding {
                rounding.push((self.years(&entry, &rr.years)?, rr.to));
            }
            reconcile.push(ReconcileSpec {
                source: r.source.clone(),
                measure: r.measure.clone(),
                years: self.years(&entry, &r.years)?,
                rounding,
            });
        }
        Ok(reconcile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "version: 1\ndefault_population: p\npopulations:\n  p:\n    - {years: 2010.., source: s, measure: pop}\nindicators:\n";

    fn ind(defs: &str) -> String {
        format!("{HEAD}  - id: x\n    label: X\n    unit: pct\n    quadrant: quality_of_effort\n    role: lead\n    definitions:\n{defs}")
    }

    #[test]
    fn year_ranges() {
        assert_eq!(
            YearRange::parse("2010..2011"),
            Some(YearRange {
                first: 2010,
                last: Some(2011)
            })
        );
        assert_eq!(
            YearRange::parse("2014.."),
            Some(YearRange {
                first: 2014,
                last: None
            })
        );
        assert_eq!(
            YearRange::parse("2012"),
            Some(YearRange {
                first: 2012,
                last: Some(2012)
            })
        );
        assert_eq!(YearRange::parse("2012..2010"), None);
        assert!(YearRange::parse("2014..")
            .unwrap()
            .overlaps(&YearRange::parse("2020..2021").unwrap()));
    }

    #[test]
    fn loads_a_valid_entry() {
        let d = load("t.yaml", &ind("      - {years: 2010..2011, source: s, formula: 'pct(a, b)', break: 'new'}\n      - {years: 2012.., source: s, formula: c}\n")).unwrap();
        let i = d.indicator("x").unwrap();
        assert_eq!(
            i.definition_for(2011).unwrap().break_note.as_deref(),
            Some("new")
        );
        assert_eq!(i.definition_for(2030).unwrap().label(), "s:2012..");
        assert!(i.definition_for(2009).is_none());
    }

    #[test]
    fn overlapping_years_are_refused() {
        let e = load("t.yaml", &ind("      - {years: 2010..2012, source: s, formula: a}\n      - {years: 2012.., source: s, formula: b}\n")).unwrap_err().to_string();
        assert!(
            e.contains(
                "`x.definitions[1]`: years 2012.. overlap those of the definition for 2010..2012"
            ),
            "{e}"
        );
    }

    #[test]
    fn bad_formula_names_the_entry() {
        let e = load(
            "t.yaml",
            &ind("      - {years: 2010, source: s, formula: 'pct(a'}\n"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("`x.definitions[0]`: formula does not parse"),
            "{e}"
        );
    }

    #[test]
    fn unknown_quadrant_and_keys_are_refused() {
        let text = ind("      - {years: 2010, source: s, formula: a}\n")
            .replace("quality_of_effort", "quality_of_life");
        let e = load("t.yaml", &text).unwrap_err().to_string();
        assert!(
            e.contains("unknown variant `quality_of_life`") && e.contains("t.yaml:"),
            "{e}"
        );
        let text = ind("      - {years: 2010, source: s, formula: a, note: hi}\n");
        let e = load("t.yaml", &text).unwrap_err().to_string();
        assert!(e.contains("unknown field `note`"), "{e}");
    }
}
