//! LA code lists and boundary changes.
//!
//! Parsers (pure; bytes in, typed records out):
//! * [`parse_la_code_list`] — `la_code_list.xlsx`: `LA Number, LA Name, Region, Type`. Despite
//!   its description it holds **no ONS codes**, only the old 3-digit DfE numbers (plus 970
//!   England, 980-990 regions, 1000 "England (discontinued)"). Header row found by content.
//! * [`parse_ltla_utla`] — `ltla-utla-lookup.csv` (`LTLA21CD…`, April 2021) and
//!   `LTLA-UTLA_Apr23_Lookup_England-Wales.csv` (`LTLA23CD…`, April 2023, with Welsh names);
//!   both start with a UTF-8 BOM; the vintage is read from the header.
//! * [`parse_stat_neighbours`] — `New_Statistical_Neighbour_Groupings_April_2021.csv`: each LA's
//!   10 neighbours (3-digit codes) with closeness; header names repeat (`SNP` ×10) so columns
//!   are read by position; a blank row and an `Old SNs:` label introduce a second table of
//!   pre-reorganisation groupings (Dorset/Poole/Bournemouth "(Pre LG)", Northamptonshire),
//!   flagged `old_grouping`.
//! * [`parse_region_corrections`] — `ofsted_region_mapping_corrections.csv`.
//! * [`parse_provider_lookup`] — `Provider_data_lookup.csv` (compiled by the ILACS scrape project,
//!   not official): Ofsted URN ↔ old 3-digit ↔ ONS code; the only file here pairing both codes.
//!
//! Boundary changes live in `geography.yaml` (canary `stages/`), loaded by [`load_changes`]
//! (`deny_unknown_fields`, validated) and applied by [`Harmoniser`].

use super::tidy::{CleanError, GeographyLevel};
use super::xlsheet::{self as xs, err};
use calamine::Reader;
use canary_yaml::Step;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Is `s` an old DfE 3-digit LA code?
pub fn is_old_code(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Is `s` a 9-character ONS/GSS code (letter + 8 digits, e.g. `E06000055`)?
pub fn is_ons_code(s: &str) -> bool {
    s.len() == 9
        && s.as_bytes()[0].is_ascii_uppercase()
        && s.bytes().skip(1).all(|b| b.is_ascii_digit())
}

/// A CSV's header and its records, each with its line number.
type Rows = (Vec<String>, Vec<(usize, Vec<String>)>);

fn csv_rows(file: &str, bytes: &[u8]) -> Result<Rows, CleanError> {
    let (text, _) = xs::decode(bytes);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| {
            err(
                file,
                Some(i + 1),
                None,
                format!("bad CSV record: {e}"),
                "fix the quoting on this line",
            )
        })?;
        rows.push((
            i + 1,
            r.iter().map(|s| s.trim().to_string()).collect::<Vec<_>>(),
        ));
    }
    if rows.is_empty() {
        return Err(err(
            file,
            None,
            None,
            "empty file",
            "supply the published CSV",
        ));
    }
    let header = rows.remove(0).1;
    Ok((header, rows))
}

fn col(file: &str, header: &[String], name: &str) -> Result<usize, CleanError> {
    header
        .iter()
        .position(|h| h.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            err(
                file,
                Some(1),
                Some(name.into()),
                format!("missing column `{name}`"),
                format!("header is {header:?}; is this the right file?"),
            )
        })
}

// ------------------------------------------------------------------ la_code_list.xlsx

#[derive(Debug, Clone, PartialEq)]
pub struct LaCodeListRow {
    pub la_code_old: String,
    pub la_name: String,
    pub region: Option<String>,
    /// `OLB`, `ILB`, `MD`, `UA`, `SC` (None for England/regions, printed `NA`).
    pub la_type: Option<String>,
    pub geography_level: GeographyLevel,
    pub row: usize,
}

pub fn parse_la_code_list(
    _source_name: &str,
    file_label: &str,
    bytes: &[u8],
) -> Result<Vec<LaCodeListRow>, CleanError> {
    let mut wb = xs::open(file_label, bytes)?;
    for sheet in wb.sheet_names().to_vec() {
        let range = xs::sheet(file_label, &mut wb, &sheet)?;
        let Some(h) = xs::find_row(&range, &["LA Number", "LA Name"], 0) else {
            continue;
        };
        let rows: Vec<_> = range.rows().collect();
        let hd = xs::row_headers(rows[h]);
        let f = |n: &str| hd.iter().position(|x| x.eq_ignore_ascii_case(n));
        let (cn, cm) = (f("LA Number").unwrap(), f("LA Name").unwrap());
        let (cr, ct) = (f("Region"), f("Type"));
        let mut out = Vec::new();
        for (i, row) in rows.iter().enumerate().skip(h + 1) {
            let rn = xs::abs_row(&range, i);
            let get = |c: usize| row.get(c).map(xs::text).unwrap_or_default();
            if row.iter().all(|c| xs::text(c).is_empty()) {
                continue;
            }
            let code = get(cn);
            let num: u32 = code.parse().map_err(|_| {
                err(
                    file_label,
                    Some(rn),
                    Some(format!("{} (LA Number)", xs::col_letter(cn))),
                    format!("`{code}` is not an LA number"),
                    "LA numbers are integers (3-digit LAs, 970 England, 980-990 regions)",
                )
            })?;
            let na = |s: String| {
                if s.is_empty() || s == "NA" {
                    None
                } else {
                    Some(s)
                }
            };
            let level = match num {
                100..=969 => GeographyLevel::LocalAuthority,
                970 => GeographyLevel::National,
                980..=990 => GeographyLevel::Regional,
                _ => GeographyLevel::Other,
            };
            out.push(LaCodeListRow {
                la_code_old: code,
                la_name: get(cm),
                region: cr.map(get).and_then(na),
                la_type: ct.map(get).and_then(na),
                geography_level: level,
                row: rn,
            });
        }
        return Ok(out);
    }
    Err(err(
        file_label,
        None,
        None,
        "no sheet with an `LA Number` / `LA Name` header",
        "is this la_code_list.xlsx?",
    ))
}

// ------------------------------------------------------------------ LTLA → UTLA

#[derive(Debug, Clone, PartialEq)]
pub struct LtlaUtla {
    /// Boundary vintage from the header (`LTLA21CD` → 2021).
    pub vintage: i32,
    pub ltla_code: String,
    pub ltla_name: String,
    pub utla_code: String,
    pub utla_name: String,
    pub line: usize,
}

pub fn parse_ltla_utla(
    _source_name: &str,
    file_label: &str,
    bytes: &[u8],
) -> Result<Vec<LtlaUtla>, CleanError> {
    let (header, rows) = csv_rows(file_label, bytes)?;
    let lt = header
        .iter()
        .position(|h| h.starts_with("LTLA") && h.ends_with("CD"))
        .ok_or_else(|| {
            err(
                file_label,
                Some(1),
                None,
                "no `LTLAyyCD` column",
                "expected an ONS LTLA→UTLA lookup",
            )
        })?;
    let yy: i32 = header[lt][4..6].parse().map_err(|_| {
        err(
            file_label,
            Some(1),
            Some(header[lt].clone()),
            "cannot read the vintage year",
            "expected LTLAyyCD",
        )
    })?;
    let p = |s: &str| format!("{s}{yy:02}");
    let (c_lt, c_ltn, c_ut, c_utn) = (
        lt,
        col(file_label, &header, &format!("{}NM", p("LTLA")))?,
        col(file_label, &header, &format!("{}CD", p("UTLA")))?,
        col(file_label, &header, &format!("{}NM", p("UTLA")))?,
    );
    let mut out = Vec::new();
    for (line, r) in rows {
        if r.iter().all(|s| s.is_empty()) {
            continue;
        }
        let g = |c: usize| r.get(c).cloned().unwrap_or_default();
        for (c, v) in [(c_lt, g(c_lt)), (c_ut, g(c_ut))] {
            if !is_ons_code(&v) {
                return Err(err(
                    file_label,
                    Some(line),
                    Some(header[c].clone()),
                    format!("`{v}` is not a 9-character ONS code"),
                    "fix the code",
                ));
            }
        }
        out.push(LtlaUtla {
            vintage: 2000 + yy,
            ltla_code: g(c_lt),
            ltla_name: g(c_ltn),
            utla_code: g(c_ut),
            utla_name: g(c_utn),
            line,
        });
    }
    Ok(out)
}

// ------------------------------------------------------------------ statistical neighbours

#[derive(Debug, Clone, PartialEq)]
pub struct StatNeighbours {
    pub la_code_old: String,
    pub la_name: String,
    pub region_index: Option<u32>,
    pub region_name: String,
    /// 10 neighbours in rank order: (old 3-digit code, closeness label).
    pub neighbours: Vec<(String, String)>,
    /// From the "Old SNs:" table (pre-reorganisation LAs).
    pub old_grouping: bool,
    pub line: usize,
}

pub fn parse_stat_neighbours(
    _source_name: &str,
    file_label: &str,
    bytes: &[u8],
) -> Result<Vec<StatNeighbours>, CleanError> {
    let (header, rows) = csv_rows(file_label, bytes)?;
    let sn1 = col(file_label, &header, "SN1")?;
    let c_name = col(file_label, &header, "LA Name")?;
    let c_num = 0;
    let (c_go, c_reg) = (
        col(file_label, &header, "GOInd")?,
        col(file_label, &header, "GOReg")?,
    );
    let mut old = false;
    let mut out = Vec::new();
    for (line, r) in rows {
        if r.iter().all(|s| s.is_empty()) {
            continue;
        }
        if r.iter().any(|s| s.to_lowercase().starts_with("old sns")) {
            old = true;
            continue;
        }
        let g = |c: usize| r.get(c).cloned().unwrap_or_default();
        let code = g(c_num);
        if !is_old_code(&code) {
            return Err(err(
                file_label,
                Some(line),
                Some(header[c_num].clone()),
                format!("`{code}` is not a 3-digit LA code"),
                "fix the row",
            ));
        }
        let mut nb = Vec::new();
        for k in 0..10 {
            let (c, cl) = (sn1 + 2 * k, sn1 + 2 * k + 1);
            let n = g(c);
            if !is_old_code(&n) {
                return Err(err(
                    file_label,
                    Some(line),
                    Some(format!("SN{} (column {})", k + 1, xs::col_letter(c))),
                    format!("`{n}` is not a 3-digit LA code"),
                    "each LA must have 10 neighbours",
                ));
            }
            nb.push((n, g(cl)));
        }
        out.push(StatNeighbours {
            la_code_old: code,
            la_name: g(c_name),
            region_index: g(c_go).parse().ok(),
            region_name: g(c_reg),
            neighbours: nb,
            old_grouping: old,
            line,
        });
    }
    Ok(out)
}

// ------------------------------------------------------------------ region corrections

#[derive(Debug, Clone, PartialEq)]
pub struct RegionCorrection {
    pub la_name: String,
    pub region: String,
    pub line: usize,
}

pub fn parse_region_corrections(
    _source_name: &str,
    file_label: &str,
    bytes: &[u8],
) -> Result<Vec<RegionCorrection>, CleanError> {
    let (header, rows) = csv_rows(file_label, bytes)?;
    let (a, b) = (
        col(file_label, &header, "la_name")?,
        col(file_label, &header, "region_name_correct")?,
    );
    Ok(rows
        .into_iter()
        .filter(|(_, r)| !r.iter().all(|s| s.is_empty()))
        .map(|(line, r)| RegionCorrection {
            la_name: r.get(a).cloned().unwrap_or_default(),
            region: r.get(b).cloned().unwrap_or_default(),
            line,
        })
        .collect())
}

// ------------------------------------------------------------------ provider lookup

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderLookup {
    pub urn: String,
    pub la_code_old: String,
    pub la_code: String,
    pub la_name: String,
    pub also_known_as: Vec<String>,
    pub ons_la_type: Option<String>,
    pub line: usize,
}

pub fn parse_provider_lookup(
    _source_name: &str,
    file_label: &str,
    bytes: &[u8],
) -> Result<Vec<ProviderLookup>, CleanError> {
    let (header, rows) = csv_rows(file_label, bytes)?;
    let c = |n: &str| col(file_label, &header, n);
    let (cu, co, cn, cm, ca, ct) = (
        c("urn")?,
        c("la_code")?,
        c("la_code_new")?,
        c("local_authority_ons_name")?,
        c("also_known_as")?,
        c("ons_la_type")?,
    );
    let mut out = Vec::new();
    for (line, r) in rows {
        if r.iter().all(|s| s.is_empty()) {
            continue;
        }
        let g = |i: usize| r.get(i).cloned().unwrap_or_default();
        if !is_old_code(&g(co)) {
            return Err(err(
                file_label,
                Some(line),
                Some("la_code".into()),
                format!("`{}` is not a 3-digit code", g(co)),
                "fix the row",
            ));
        }
        if !is_ons_code(&g(cn)) {
            return Err(err(
                file_label,
                Some(line),
                Some("la_code_new".into()),
                format!("`{}` is not an ONS code", g(cn)),
                "fix the row",
            ));
        }
        let aka = g(ca)
            .trim_matches(|ch| ch == '[' || ch == ']')
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        out.push(ProviderLookup {
            urn: g(cu),
            la_code_old: g(co),
            la_code: g(cn),
            la_name: g(cm),
            also_known_as: aka,
            ons_la_type: Some(g(ct)).filter(|s| !s.is_empty()),
            line,
        });
    }
    Ok(out)
}

// ------------------------------------------------------------------ geography.yaml

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// One LA became several.
    Split,
    /// Several LAs (or parts) became one.
    Merge,
    /// Same area (or nearly: see `note`), new code(s).
    Recode,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoLa {
    pub name: String,
    /// Old DfE 3-digit code.
    pub old_code: String,
    /// ONS 9-character code; None only for predecessors abolished before GSS codes (2011).
    pub ons_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundaryChange {
    pub id: String,
    /// ISO date the successors took over.
    pub effective: String,
    pub kind: ChangeKind,
    pub predecessors: Vec<GeoLa>,
    pub successors: Vec<GeoLa>,
    #[serde(default)]
    pub note: Option<String>,
    /// Where the codes were found.
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeographyChanges {
    pub version: u32,
    /// The year the canonical codes refer to.
    pub canonical_year: i32,
    pub changes: Vec<BoundaryChange>,
}

/// Parse and validate `geography.yaml`.
pub fn load_changes(file_label: &str, yaml: &str) -> Result<GeographyChanges, CleanError> {
    let g: GeographyChanges = canary_yaml::from_str(yaml).map_err(|e| {
        let line = e.line;
        err(file_label, line, None, format!("invalid geography.yaml: {e}"), "fields allowed: version, canonical_year, changes[].{id, effective, kind (split|merge|recode), predecessors, successors, note, evidence}, LA {name, old_code, ons_code}")
    })?;
    validate(file_label, yaml, &g)?;
    Ok(g)
}

fn validate(file: &str, yaml: &str, g: &GeographyChanges) -> Result<(), CleanError> {
    // The change at fault, at its `id:` line of the file (a caret under the key).
    let bad = |id: &str, m: String| {
        err(
            file,
            None,
            Some(format!("changes[{id}]")),
            m,
            "fix geography.yaml",
        )
        .at(
            yaml,
            &[
                Step::Key("changes"),
                Step::ItemWith("id", id),
                Step::Key("id"),
            ],
        )
    };
    let mut ids = BTreeSet::new();
    for c in &g.changes {
        if !ids.insert(c.id.clone()) {
            return Err(bad(&c.id, "duplicate id".into()));
        }
        if xs::iso_days(&c.effective).is_none() || c.effective.len() != 10 {
            return Err(bad(
                &c.id,
                format!("effective `{}` is not a yyyy-mm-dd date", c.effective),
            ));
        }
        for (role, las) in [
            ("predecessor", &c.predecessors),
            ("successor", &c.successors),
        ] {
            if las.is_empty() {
                return Err(bad(&c.id, format!("no {role}s")));
            }
            for la in las.iter() {
                if !is_old_code(&la.old_code) {
                    return Err(bad(
                        &c.id,
                        format!(
                            "{role} {}: old_code `{}` is not 3 digits",
                            la.name, la.old_code
                        ),
                    ));
                }
                match &la.ons_code {
                    Some(o) if !is_ons_code(o) => {
                        return Err(bad(
                            &c.id,
                            format!(
                                "{role} {}: ons_code `{o}` is not a 9-character ONS code",
                                la.name
                            ),
                        ))
                    }
                    None if role == "successor" => {
                        return Err(bad(&c.id, format!("successor {} has no ons_code", la.name)))
                    }
                    _ => {}
                }
            }
        }
        let (np, ns) = (c.predecessors.len(), c.successors.len());
        let ok = match c.kind {
            ChangeKind::Split => np == 1 && ns >= 2,
            ChangeKind::Merge => np >= 2 && ns == 1,
            ChangeKind::Recode => np == 1 && ns == 1,
        };
        if !ok {
            return Err(bad(
                &c.id,
                format!(
                    "{:?} with {np} predecessor(s) and {ns} successor(s)",
                    c.kind
                ),
            ));
        }
        if c.kind == ChangeKind::Recode
            && c.predecessors[0].old_code == c.successors[0].old_code
            && c.predecessors[0].ons_code == c.successors[0].ons_code
        {
            return Err(bad(&c.id, "recode that changes no code".into()));
        }
    }
    Ok(())
}

/// Result of harmonising a code to the canonical (current) geography.
#[derive(Debug, Clone, PartialEq)]
pub enum Harmonised {
    /// Maps one-to-one (unchanged, or recoded).
    One {
        ons_code: Option<String>,
        old_code: Option<String>,
        via: Vec<String>,
    },
    /// The area is now part of a larger LA (merge): values must be summed with the other
    /// predecessors before comparing; `with` lists them.
    PartOf {
        ons_code: String,
        old_code: String,
        with: Vec<String>,
        via: Vec<String>,
    },
    /// The area was split: cannot be harmonised one-to-one.
    Split {
        successors: Vec<(String, String)>,
        via: Vec<String>,
    },
}

/// Maps old or new codes to canonical codes using the boundary changes plus a list of known
/// (old 3-digit, ONS) pairs for unchanged LAs (e.g. from [`parse_provider_lookup`]).
#[derive(Debug, Clone)]
pub struct Harmoniser {
    changes: Vec<BoundaryChange>,
    pairs_old: BTreeMap<String, String>,
    pairs_ons: BTreeMap<String, String>,
}

impl Harmoniser {
    pub fn new(
        g: &GeographyChanges,
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Harmoniser {
        let mut changes = g.changes.clone();
        changes.sort_by(|a, b| a.effective.cmp(&b.effective));
        let (mut pairs_old, mut pairs_ons) = (BTreeMap::new(), BTreeMap::new());
        for (o, n) in pairs {
            pairs_old.insert(o.clone(), n.clone());
            pairs_ons.insert(n, o);
        }
        for c in &changes {
            for la in c.predecessors.iter().chain(&c.successors) {
                if let Some(o) = &la.ons_code {
                    pairs_ons.insert(o.clone(), la.old_code.clone());
                }
            }
        }
        Harmoniser {
            changes,
            pairs_old,
            pairs_ons,
        }
    }

    /// Harmonise `code` (3-digit or ONS) published for `year` (reporting year; used to note a
    /// code still in use after its abolition, which DfE does — e.g. Northamptonshire 928 to 2025).
    /// All later changes are followed in date order.
    pub fn harmonise(&self, code: &str, year: i32) -> Result<Harmonised, String> {
        let _ = year;
        if !is_old_code(code) && !is_ons_code(code) {
            return Err(format!(
                "`{code}` is neither a 3-digit nor a 9-character code"
            ));
        }
        let mut cur: GeoLa = GeoLa {
            name: String::new(),
            old_code: String::new(),
            ons_code: None,
        };
        // A 3-digit query is matched by 3-digit code only (its ONS code may be a later one).
        if is_old_code(code) {
            cur.old_code = code.into();
        } else {
            cur.ons_code = Some(code.into());
            cur.old_code = self.pairs_ons.get(code).cloned().unwrap_or_default();
        }
        let mut via = Vec::new();
        let mut part_of: Option<Vec<String>> = None;
        for c in &self.changes {
            // Compare ONS codes when both sides have one (North Yorkshire keeps 3-digit 815 across
            // its recode, so E06000065 must not match the E10000023 predecessor), else 3-digit codes.
            let hit = c
                .predecessors
                .iter()
                .find(|p| match (&p.ons_code, &cur.ons_code) {
                    (Some(a), Some(b)) => a == b,
                    _ => !cur.old_code.is_empty() && p.old_code == cur.old_code,
                });
            let Some(p) = hit else { continue };
            via.push(c.id.clone());
            match c.kind {
                ChangeKind::Split => {
                    return Ok(Harmonised::Split {
                        successors: c
                            .successors
                            .iter()
                            .map(|s| (s.ons_code.clone().unwrap_or_default(), s.old_code.clone()))
                            .collect(),
                        via,
                    });
                }
                ChangeKind::Merge => {
                    part_of = Some(
                        c.predecessors
                            .iter()
                            .filter(|q| q.old_code != p.old_code)
                            .map(|q| q.old_code.clone())
                            .collect(),
                    );
                    cur = c.successors[0].clone();
                }
                ChangeKind::Recode => cur = c.successors[0].clone(),
            }
        }
        if cur.ons_code.is_none() {
            cur.ons_code = self.pairs_old.get(&cur.old_code).cloned();
        }
        let old = Some(cur.old_code.clone()).filter(|s| !s.is_empty());
        Ok(match part_of {
            Some(with) => Harmonised::PartOf {
                ons_code: cur.ons_code.unwrap_or_default(),
                old_code: cur.old_code,
                with,
                via,
            },
            None => Harmonised::One {
                ons_code: cur.ons_code,
                old_code: old,
                via,
            },
        })
    }

    /// Codes (3-digit) that cannot be harmonised one-to-one (predecessors of splits).
    pub fn not_one_to_one(&self) -> Vec<(String, String)> {
        self.changes
            .iter()
            .filter(|c| c.kind == ChangeKind::Split)
            .flat_map(|c| {
                c.predecessors.iter().map(move |p| {
                    (
                        p.old_code.clone(),
                        format!("{} split {} ({})", p.name, c.effective, c.id),
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"
version: 1
canonical_year: 2024
changes:
  - id: northants_2021
    effective: 2021-04-01
    kind: split
    predecessors: [{name: Northamptonshire, old_code: "928", ons_code: E10000021}]
    successors:
      - {name: North Northamptonshire, old_code: "940", ons_code: E06000061}
      - {name: West Northamptonshire, old_code: "941", ons_code: E06000062}
    evidence: test
  - id: bcp_2019
    effective: 2019-04-01
    kind: merge
    predecessors:
      - {name: Bournemouth, old_code: "837", ons_code: E06000028}
      - {name: Poole, old_code: "836", ons_code: E06000029}
    successors: [{name: "Bournemouth, Christchurch and Poole", old_code: "839", ons_code: E06000058}]
    evidence: test
  - id: nyorks_2023
    effective: 2023-04-01
    kind: recode
    predecessors: [{name: North Yorkshire, old_code: "815", ons_code: E10000023}]
    successors: [{name: North Yorkshire, old_code: "815", ons_code: E06000065}]
    evidence: test
"#;

    #[test]
    fn loads_and_harmonises() {
        let g = load_changes("geography.yaml", YAML).unwrap();
        let h = Harmoniser::new(&g, vec![("202".to_string(), "E09000007".to_string())]);
        assert!(
            matches!(h.harmonise("928", 2015).unwrap(), Harmonised::Split { ref successors, .. } if successors.len() == 2)
        );
        assert!(
            matches!(h.harmonise("E06000028", 2015).unwrap(), Harmonised::PartOf { ref ons_code, .. } if ons_code == "E06000058")
        );
        assert_eq!(
            h.harmonise("E10000023", 2015).unwrap(),
            Harmonised::One {
                ons_code: Some("E06000065".into()),
                old_code: Some("815".into()),
                via: vec!["nyorks_2023".into()]
            }
        );
        assert_eq!(
            h.harmonise("815", 2015).unwrap(),
            Harmonised::One {
                ons_code: Some("E06000065".into()),
                old_code: Some("815".into()),
                via: vec!["nyorks_2023".into()]
            }
        );
        assert_eq!(
            h.harmonise("E06000065", 2024).unwrap(),
            Harmonised::One {
                ons_code: Some("E06000065".into()),
                old_code: Some("815".into()),
                via: vec![]
            }
        );
        assert_eq!(
            h.harmonise("202", 2015).unwrap(),
            Harmonised::One {
                ons_code: Some("E09000007".into()),
                old_code: Some("202".into()),
                via: vec![]
            }
        );
        assert!(h.harmonise("XX", 2015).is_err());
        assert_eq!(h.not_one_to_one().len(), 1);
    }

    #[test]
    fn rejects_bad_yaml() {
        let unknown = YAML.replace(
            "evidence: test\n  - id: bcp",
            "evidence: test\n    colour: red\n  - id: bcp",
        );
        assert!(load_changes("g.yaml", &unknown).is_err());
        let badcode = YAML.replace("E06000061", "E0600061");
        assert!(load_changes("g.yaml", &badcode)
            .unwrap_err()
            .message
            .contains("ons_code"));
        let missing = YAML.replace(
            "{name: West Northamptonshire, old_code: \"941\", ons_code: E06000062}",
            "{name: West Northamptonshire, old_code: \"941\", ons_code: null}",
        );
        assert!(load_changes("g.yaml", &missing)
            .unwrap_err()
            .message
            .contains("no ons_code"));
        let kind = YAML.replace("kind: merge", "kind: split");
        assert!(load_changes("g.yaml", &kind).is_err());
    }

    #[test]
    fn code_shapes() {
        assert!(is_old_code("201") && !is_old_code("20") && !is_old_code("2O1"));
        assert!(is_ons_code("E06000055") && !is_ons_code("E0600005") && !is_ons_code("e06000055"));
    }
}
