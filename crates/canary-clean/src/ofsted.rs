//! Ofsted judgements of local authority children's services, 2009-2025.
//!
//! Three files, three parsers, one merge:
//!
//! * [`parse_underlying_2023`] — `Childrens_social_care_in_England_2023_underlying_data.ods`,
//!   sheet `LA_inspections_2009-2023` (found by name, else by content). Two tables: the current
//!   LAs (header row found by its content: a row holding both `Local authority name` and a
//!   `… publication date` cell — the fifth row in the 2023 file) and, lower down, "Table 11",
//!   LAs that existed before a restructure (Bournemouth, Poole, Dorset county,
//!   Northamptonshire), found the same way below the first table and flagged
//!   `predecessor = true`. Header names are whitespace-collapsed before use.
//!   Columns are read as *blocks*: a `… publication date` column opens a block (an optional
//!   `… inspection type` column just before it belongs to it), and the judgement columns to its
//!   right, up to the next block, are the block's judgements.
//! * [`parse_outcomes_2025`] — `LA_Inspection_Outcomes_as_at_31_March_2025.ods`, sheet
//!   `ILACS_inspection_history` (all ILACS standard/short inspections 2018-2025, incl. LAs that
//!   "No longer exist"). The sheets `Inspections_as_at_31_March` and `In-year_inspections`
//!   are subsets of it (focused visits/monitoring visits carry no judgement) and are not read.
//! * [`parse_ilacs_csv`] — `ofsted_csc_ilacs_history.csv`, judgements scraped from the
//!   published PDF reports (not an official statistics file; see SOURCES.csv).
//!
//! # Framework rule, per file
//! * 2023 ODS: by the block's date header — `(SLAC) Inspection`, `SLAC re-inspection of
//!   Safeguarding`, `SLAC re-inspection of services for Children Looked After` → `Slac`;
//!   `(CPI)` and `(CPRI)` → `Cpi`; `(TLAC)` → `Tlac` (targeted looked-after children
//!   inspections, 2013, kept as their own framework); `First SIF` and `SIF Re-inspection` → `Sif`;
//!   any `ILACS` → `Ilacs`. Any other date header is an error.
//! * 2025 ODS: every row is `Ilacs` (the sheet is the ILACS history).
//! * CSV: `Ilacs` when `inspection_framework` is `standard`, `short` or any other non-empty text;
//!   when it is empty the row is a pre-ILACS report or one the scraper could not read: it is
//!   skipped (counted in [`Parsed::skipped`]) unless a judgement was read *and* the report was
//!   published in 2019 or later (ILACS only; SIF re-inspections were still published in 2018).
//!
//! # Grade rule (all files; label compared case-insensitively after whitespace collapsing)
//! `Outstanding` → 1; `Good` → 2; `Requires improvement to be good` / `Requires improvement`
//! (CSV) / `Adequate` → 3 — the 2023 ODS prints SLAC's and CPI's old "adequate" as "Requires
//! improvement to be good", so both map to 3; `Inadequate` → 4. Cells that hold no judgement are
//! skipped by rule and counted with their reason: empty, `-` (not applicable, e.g. Isles of
//! Scilly's LAC judgements), and the CSV's `data_unreadable`, `inspection_pre_dates_judgement`,
//! `not_reported_post_reform`. Any other label is an error (extend [`grade_of`]).
//!
//! # Aspects
//! Each judgement carries an `aspect` (see the `ASPECT_*` constants) and `headline = true` for
//! the inspection's overall judgement(s): SLAC safeguarding OE and SLAC looked-after-children OE
//! (SLAC has two), CPI/CPRI OE, TLAC OE, SIF overall, ILACS overall effectiveness.
//!
//! # Deduplication ([`merge`])
//! Sets are given in priority order. The rule used by canary: official files newest first
//! (2025 ODS, published 2025-09-25, then the 2023 ODS), then the scraped CSV last — it is the
//! newest file but not an official one, so it only adds judgements the official files lack
//! (e.g. those published after 30 June 2025). Two judgements are the same when they have the
//! same LA key ([`la_key`] of the name + predecessor flag, or the same ONS code), framework,
//! aspect, and publication dates at most [`SAME_INSPECTION_DAYS`] apart; the higher-priority
//! one is kept, the others counted as merged, grade disagreements listed as conflicts. Nothing
//! that appears in one file only is lost.

use super::tidy::CleanError;
use super::xlsheet::{self as xs, err};
use calamine::{Data, Range, Reader};
use std::collections::{BTreeMap, BTreeSet};

/// Inspection framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Framework {
    /// Safeguarding and looked-after children inspections, 2009-12 (incl. re-inspections).
    Slac,
    /// Child protection inspections (and re-inspections), 2012-13.
    Cpi,
    /// Targeted looked-after children inspections, 2013.
    Tlac,
    /// Single inspection framework, 2013-17 (first inspections and re-inspections).
    Sif,
    /// Inspection of local authority children's services, 2018 on.
    Ilacs,
}

impl Framework {
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Slac => "SLAC",
            Framework::Cpi => "CPI",
            Framework::Tlac => "TLAC",
            Framework::Sif => "SIF",
            Framework::Ilacs => "ILACS",
        }
    }
}

pub const ASPECT_OVERALL: &str = "overall_effectiveness";
pub const ASPECT_SLAC_SAFEGUARDING: &str = "safeguarding_overall_effectiveness";
pub const ASPECT_SLAC_LAC: &str = "looked_after_children_overall_effectiveness";
pub const ASPECT_HELP_PROTECTION: &str = "help_and_protection";
pub const ASPECT_CLA_PERMANENCE: &str = "children_looked_after_and_permanence";
pub const ASPECT_ADOPTION: &str = "adoption";
pub const ASPECT_CARE_LEAVERS: &str = "care_leavers";
pub const ASPECT_LEADERSHIP: &str = "leadership_management_governance";
pub const ASPECT_LSCB: &str = "lscb";
pub const ASPECT_IMPACT_LEADERS: &str = "impact_of_leaders";
pub const ASPECT_IN_CARE_AND_LEAVERS: &str = "in_care_and_care_leavers";

/// An ILACS "children in care" judgement without a care-leavers one predates the 1 Jan 2023
/// split: it is the old "in care and care leavers" judgement.
fn pre_split_aspect(aspect: &'static str, no_leavers_judgement: bool) -> &'static str {
    if aspect == ASPECT_IN_CARE && no_leavers_judgement {
        ASPECT_IN_CARE_AND_LEAVERS
    } else {
        aspect
    }
}
pub const ASPECT_IN_CARE: &str = "in_care";

/// Publication dates of the same inspection in two files may differ by this many days (the
/// 2023 ODS dates Nottingham's 2022 ILACS 2022-11-05, the 2025 ODS and the CSV 2022-09-05).
/// Inspections of one LA under one framework are always further apart than this.
pub const SAME_INSPECTION_DAYS: i64 = 92;

/// Names that a successor LA reuses for a different area: the old Dorset county (to 2019)
/// versus the Dorset unitary council (from 2019). For these, predecessor rows get a distinct
/// identity. (North Yorkshire and Somerset kept their names and are treated as continuing.)
pub const REUSED_NAMES: &[&str] = &["dorset"];

/// Identity of a judgement's LA for matching across files and years: [`la_key`] of the name,
/// plus ` (predecessor)` for a predecessor whose name was reused ([`REUSED_NAMES`]).
pub fn la_identity(j: &Judgement) -> String {
    let k = la_key(&j.la_name);
    if j.predecessor && REUSED_NAMES.contains(&k.as_str()) {
        format!("{k} (predecessor)")
    } else {
        k
    }
}

/// One published judgement.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub la_code_old: Option<String>,
    pub la_code: Option<String>,
    /// As published (the CSV's names are lower case).
    pub la_name: String,
    /// The LA no longer exists (2023 ODS "Table 11"; 2025 ODS status "No longer exists").
    pub predecessor: bool,
    /// Ofsted URN of the LA (CSV only).
    pub urn: Option<String>,
    pub framework: Framework,
    /// Which inspection: "SLAC", "SLAC re-inspection of safeguarding", "CPI", "CPRI", "TLAC",
    /// "SIF", "SIF re-inspection", "ILACS Standard Inspection", "ILACS Short Inspection", …
    pub inspection: String,
    /// What was judged (`ASPECT_*`).
    pub aspect: String,
    /// The inspection's overall judgement (see module docs).
    pub headline: bool,
    /// Publication date, ISO `yyyy-mm-dd`.
    pub published: String,
    pub inspection_start: Option<String>,
    pub inspection_end: Option<String>,
    /// As published, whitespace-collapsed.
    pub judgement_label: String,
    /// 1 outstanding, 2 good, 3 requires improvement / adequate, 4 inadequate.
    pub grade: Option<u8>,
    pub source_file: String,
    pub sheet: Option<String>,
    /// 1-based spreadsheet row or CSV line.
    pub row: usize,
}

/// A cell or row skipped by rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub file: String,
    pub row: usize,
    pub column: Option<String>,
    pub reason: String,
}

/// Output of one parser.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub judgements: Vec<Judgement>,
    pub skipped: Vec<Skipped>,
}

impl Parsed {
    /// Skips counted by reason.
    pub fn skip_counts(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for s in &self.skipped {
            *m.entry(s.reason.clone()).or_insert(0) += 1;
        }
        m
    }
}

/// Harmonised 4-point grade of a published label. `Ok(None)` = the cell holds no judgement
/// (reason given), `Err(UnknownLabel)` = a label this parser does not know.
pub fn grade_of(label: &str) -> Result<Result<u8, &'static str>, UnknownLabel> {
    let l = xs::norm_ws(label).to_lowercase();
    Ok(match l.as_str() {
        "outstanding" => Ok(1),
        "good" => Ok(2),
        "requires improvement to be good" | "requires improvement" | "adequate" => Ok(3),
        // CSV scraper artefact (Nottingham 2019-01-07, Southend-on-Sea 2019-08-27 help and
        // protection): both are "Requires improvement to be good" in the 2023 ODS.
        "to requires improvement" => Ok(3),
        "inadequate" => Ok(4),
        "" => Err("blank"),
        "-" | "–" | "n/a" => Err("not applicable (-)"),
        "data_unreadable" => Err("scraper: data_unreadable"),
        "inspection_pre_dates_judgement" => Err("scraper: inspection_pre_dates_judgement"),
        "not_reported_post_reform" => Err("scraper: not_reported_post_reform"),
        _ => return Err(UnknownLabel),
    })
}

/// A judgement label [`grade_of`] does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownLabel;

/// Comparable LA name: lower case, `&` → `and`, punctuation dropped, spaces collapsed, and the
/// known spelling variants of the three files mapped to one form.
pub fn la_key(name: &str) -> String {
    let s = name.to_lowercase().replace('&', " and ");
    let s: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                ' '
            }
        })
        .collect();
    let s = xs::norm_ws(&s);
    match s.as_str() {
        "london corporation" | "city of london corporation" => "city of london".into(),
        "bedford borough" => "bedford".into(),
        "bristol city of" | "city of bristol" => "bristol".into(),
        "kingston upon hull city of" | "hull" | "city of kingston upon hull" => {
            "kingston upon hull".into()
        }
        "county durham" => "durham".into(),
        "bcp" => "bournemouth christchurch and poole".into(),
        "herefordshire county of" => "herefordshire".into(),
        _ => s,
    }
}

fn grade_cell(
    file: &str,
    sheet: Option<&str>,
    row: usize,
    col: String,
    label: &str,
    skipped: &mut Vec<Skipped>,
) -> Result<Option<(String, u8)>, CleanError> {
    match grade_of(label) {
        Ok(Ok(g)) => Ok(Some((xs::norm_ws(label), g))),
        Ok(Err(reason)) => {
            if reason != "blank" {
                skipped.push(Skipped { file: file.into(), row, column: Some(col), reason: reason.into() });
            }
            Ok(None)
        }
        Err(UnknownLabel) => Err(err(file, Some(row), Some(col), format!("unknown judgement label `{label}`{}", sheet.map(|s| format!(" in sheet `{s}`")).unwrap_or_default()),
            "expected Outstanding / Good / Requires improvement (to be good) / Adequate / Inadequate; if Ofsted introduced a new label, add it to ofsted::grade_of with its grade")),
    }
}

// ---------------------------------------------------------------- 2023 underlying data (ODS)

#[derive(Debug, Clone)]
struct Block {
    framework: Framework,
    inspection: String,
    type_col: Option<usize>,
    date_col: usize,
    /// (column, aspect, headline)
    grades: Vec<(usize, &'static str, bool)>,
}

fn classify_block(h: &str) -> Option<(Framework, &'static str)> {
    let l = h.to_lowercase();
    Some(if l.contains("slac re-inspection of safeguarding") {
        (Framework::Slac, "SLAC re-inspection of safeguarding")
    } else if l.contains("slac re-inspection of services for children looked after") {
        (
            Framework::Slac,
            "SLAC re-inspection of services for children looked after",
        )
    } else if l.contains("(slac)") {
        (Framework::Slac, "SLAC")
    } else if l.contains("(cpri)") {
        (Framework::Cpi, "CPRI")
    } else if l.contains("(cpi)") {
        (Framework::Cpi, "CPI")
    } else if l.contains("(tlac)") {
        (Framework::Tlac, "TLAC")
    } else if l.contains("sif re-inspection") {
        (Framework::Sif, "SIF re-inspection")
    } else if l.contains("first sif") || l.contains("(sif)") {
        (Framework::Sif, "SIF")
    } else if l.contains("ilacs") {
        (Framework::Ilacs, "ILACS")
    } else {
        return None;
    })
}

fn classify_aspect(
    framework: Framework,
    inspection: &str,
    h: &str,
) -> Option<(&'static str, bool)> {
    let l = h.to_lowercase();
    if framework == Framework::Slac {
        if l.contains("safeguarding") {
            return Some((ASPECT_SLAC_SAFEGUARDING, true));
        }
        if l.contains("looked after") {
            return Some((ASPECT_SLAC_LAC, true));
        }
        let _ = inspection;
        return None;
    }
    Some(if l.contains("lscb") {
        (ASPECT_LSCB, false)
    } else if l.contains("children in care and care leavers") {
        (ASPECT_IN_CARE_AND_LEAVERS, false)
    } else if l.contains("care leavers") {
        (ASPECT_CARE_LEAVERS, false)
    } else if l.contains("adoption") {
        (ASPECT_ADOPTION, false)
    } else if l.contains("help and protection") {
        (ASPECT_HELP_PROTECTION, false)
    } else if l.contains("looked after and achieving permanence") {
        (ASPECT_CLA_PERMANENCE, false)
    } else if l.contains("children in care") {
        (ASPECT_IN_CARE, false)
    } else if l.contains("impact of leaders") {
        (ASPECT_IMPACT_LEADERS, false)
    } else if l.contains("leadership") {
        (ASPECT_LEADERSHIP, false)
    } else if l.contains("overall") {
        (ASPECT_OVERALL, true)
    } else {
        return None;
    })
}

fn blocks_of(
    file: &str,
    sheet: &str,
    hdr_row: usize,
    headers: &[String],
) -> Result<(usize, Vec<Block>), CleanError> {
    let name_col = headers.iter().position(|h| h.eq_ignore_ascii_case("Local authority name")).ok_or_else(|| {
        err(file, Some(hdr_row), None, format!("sheet `{sheet}`: no `Local authority name` column in the header row"), "the header row was found by content but lacks the LA name column; check the sheet layout")
    })?;
    let mut blocks: Vec<Block> = Vec::new();
    let mut pending_type: Option<usize> = None;
    for (c, h) in headers.iter().enumerate() {
        let l = h.to_lowercase();
        if l.ends_with("inspection type") {
            pending_type = Some(c);
            continue;
        }
        if l.ends_with("publication date") {
            let (framework, insp) = classify_block(h).ok_or_else(|| {
                err(
                    file,
                    Some(hdr_row),
                    Some(format!("{} `{h}`", xs::col_letter(c))),
                    "unrecognised inspection in a `publication date` header",
                    "add the inspection to ofsted::classify_block with its framework",
                )
            })?;
            let ordinal = if l.starts_with("first ilacs") {
                "first "
            } else if l.starts_with("second ilacs") {
                "second "
            } else {
                ""
            };
            blocks.push(Block {
                framework,
                inspection: format!("{ordinal}{insp}").trim().to_string(),
                type_col: pending_type.take(),
                date_col: c,
                grades: vec![],
            });
            continue;
        }
        if let Some(b) = blocks.last_mut() {
            if h.is_empty() {
                continue;
            }
            let (aspect, headline) =
                classify_aspect(b.framework, &b.inspection, h).ok_or_else(|| {
                    err(
                        file,
                        Some(hdr_row),
                        Some(format!("{} `{h}`", xs::col_letter(c))),
                        "unrecognised judgement column",
                        "add the column's aspect to ofsted::classify_aspect",
                    )
                })?;
            b.grades.push((c, aspect, headline));
        }
    }
    if blocks.is_empty() {
        return Err(err(
            file,
            Some(hdr_row),
            None,
            format!("sheet `{sheet}`: no `… publication date` columns"),
            "check the sheet layout",
        ));
    }
    Ok((name_col, blocks))
}

/// A data row of an LA table: its cells, 1-based sheet row and LA name.
struct LaRow<'r> {
    cells: &'r [Data],
    rn: usize,
    name: String,
}

impl LaRow<'_> {
    /// A cell as text (empty if the row is shorter).
    fn text(&self, c: usize) -> String {
        self.cells.get(c).map(xs::text).unwrap_or_default()
    }
}

/// Reads the LA rows under a header (row `hdr` of `range`, 0-based) until a blank row ends
/// the table; returns the index of that row (or the sheet's end).
fn read_table_rows(
    file: &str,
    range: &Range<Data>,
    hdr: usize,
    name_col: usize,
    mut read: impl FnMut(&LaRow) -> Result<(), CleanError>,
) -> Result<usize, CleanError> {
    let rows: Vec<&[Data]> = range.rows().collect();
    let mut i = hdr + 1;
    while i < rows.len() {
        let row = LaRow {
            cells: rows[i],
            rn: xs::abs_row(range, i),
            name: rows[i].get(name_col).map(xs::text).unwrap_or_default(),
        };
        if row.name.is_empty() {
            if row.cells.iter().all(|c| xs::text(c).is_empty()) {
                break;
            } // blank row ends the table
            return Err(err(
                file,
                Some(row.rn),
                Some(xs::col_letter(name_col)),
                "row with data but no LA name",
                "fill in the LA name or remove the row",
            ));
        }
        read(&row)?;
        i += 1;
    }
    Ok(i)
}

/// A column named for an error or skip: its letter and header, `D (… publication date)`.
fn column_label(headers: &[String], c: usize) -> String {
    format!("{} ({})", xs::col_letter(c), headers[c])
}

/// One table of the 2023 sheet: its header, inspection blocks, and whether it is "Table 11"
/// (LAs that no longer exist).
struct Table2023<'a> {
    file: &'a str,
    sheet: &'a str,
    headers: Vec<String>,
    blocks: Vec<Block>,
    predecessor: bool,
}

/// Reads one table of the 2023 sheet (its header row `hdr`, 0-based, found by content) into
/// `out`; returns the index of the blank row that ends it (or of the sheet's end).
fn read_table_2023(
    file: &str,
    sheet: &str,
    range: &Range<Data>,
    hdr: usize,
    predecessor: bool,
    out: &mut Parsed,
) -> Result<usize, CleanError> {
    let headers = xs::row_headers(
        range
            .rows()
            .nth(hdr)
            .expect("find_row gives a row of the range"),
    );
    let hdr_abs = xs::abs_row(range, hdr);
    let (name_col, blocks) = blocks_of(file, sheet, hdr_abs, &headers)?;
    let table = Table2023 {
        file,
        sheet,
        headers,
        blocks,
        predecessor,
    };
    read_table_rows(file, range, hdr, name_col, |row| {
        table
            .blocks
            .iter()
            .try_for_each(|b| table.read_block(b, row, out))
    })
}

impl Table2023<'_> {
    /// An LA's judgements in one inspection block (publication date, optional inspection
    /// type, judgement columns).
    fn read_block(&self, b: &Block, row: &LaRow, out: &mut Parsed) -> Result<(), CleanError> {
        let (file, rn) = (self.file, row.rn);
        let date =
            xs::cell_date(row.cells.get(b.date_col).unwrap_or(&Data::Empty)).map_err(|t| {
                err(
                    file,
                    Some(rn),
                    Some(column_label(&self.headers, b.date_col)),
                    format!("`{t}` is not a date"),
                    "publication dates must be dates (or empty)",
                )
            })?;
        let inspection = match b.type_col.map(|c| row.text(c)) {
            Some(t) if !t.is_empty() => t,
            _ => b.inspection.clone(),
        };
        let mut any = false;
        let leavers_blank = b
            .grades
            .iter()
            .filter(|g| g.1 == ASPECT_CARE_LEAVERS)
            .all(|g| row.text(g.0).is_empty());
        for &(c, aspect, headline) in &b.grades {
            let label = row.text(c);
            let aspect = if b.framework == Framework::Ilacs {
                pre_split_aspect(aspect, leavers_blank)
            } else {
                aspect
            };
            let colname = column_label(&self.headers, c);
            let Some((label, g)) = grade_cell(
                file,
                Some(self.sheet),
                rn,
                colname.clone(),
                &label,
                &mut out.skipped,
            )?
            else {
                continue;
            };
            any = true;
            let Some(published) = date.clone() else {
                out.skipped.push(Skipped {
                    file: file.into(),
                    row: rn,
                    column: Some(colname),
                    reason: "judgement without a publication date".into(),
                });
                continue;
            };
            out.judgements.push(Judgement {
                la_code_old: None,
                la_code: None,
                la_name: row.name.clone(),
                predecessor: self.predecessor,
                urn: None,
                framework: b.framework,
                inspection: inspection.clone(),
                aspect: aspect.into(),
                headline,
                published,
                inspection_start: None,
                inspection_end: None,
                judgement_label: label,
                grade: Some(g),
                source_file: file.into(),
                sheet: Some(self.sheet.into()),
                row: rn,
            });
        }
        if !any && date.is_some() {
            out.skipped.push(Skipped {
                file: file.into(),
                row: rn,
                column: Some(column_label(&self.headers, b.date_col)),
                reason: "publication date without any judgement".into(),
            });
        }
        Ok(())
    }
}

/// The workbook's sheet names, those `first` picks ahead of the rest (each in workbook order).
fn sheets_first(names: &[String], first: impl Fn(&str) -> bool) -> Vec<String> {
    let mut order: Vec<String> = names.iter().filter(|n| first(n)).cloned().collect();
    order.extend(names.iter().filter(|n| !first(n)).cloned());
    order
}

/// Parse `Childrens_social_care_in_England_2023_underlying_data.ods` (both tables of sheet
/// `LA_inspections_2009-2023`).
pub fn parse_underlying_2023(
    _source_name: &str,
    file_label: &str,
    bytes: &[u8],
) -> Result<Parsed, CleanError> {
    let mut wb = xs::open(file_label, bytes)?;
    let order = sheets_first(&wb.sheet_names(), |n| {
        n.to_lowercase().starts_with("la_inspections")
    });
    for sheet in order {
        let range = xs::sheet(file_label, &mut wb, &sheet)?;
        let Some(hdr) = xs::find_row(
            &range,
            &[
                "Local authority name",
                "Safeguarding & Looked After Children (SLAC)",
            ],
            0,
        ) else {
            continue;
        };
        let mut out = Parsed::default();
        let end = read_table_2023(file_label, &sheet, &range, hdr, false, &mut out)?;
        if let Some(hdr2) = xs::find_row(&range, &["Local authority name"], end) {
            read_table_2023(file_label, &sheet, &range, hdr2, true, &mut out)?;
        }
        if out.judgements.is_empty() {
            return Err(err(
                file_label,
                Some(xs::abs_row(&range, hdr)),
                None,
                format!("sheet `{sheet}`: header found but no judgements"),
                "check the file",
            ));
        }
        return Ok(out);
    }
    Err(err(file_label, None, None, "no sheet with a `Local authority name` + `… (SLAC) … publication date` header row", "is this the Ofsted 'Children's social care in England 2023' underlying data ODS? Its LA_inspections_2009-2023 sheet is needed"))
}

// ---------------------------------------------------------------- 2025 outcomes (ODS)

/// Parse `LA_Inspection_Outcomes_as_at_31_March_2025.ods`, sheet `ILACS_inspection_history`.
pub fn parse_outcomes_2025(
    _source_name: &str,
    file_label: &str,
    bytes: &[u8],
) -> Result<Parsed, CleanError> {
    let mut wb = xs::open(file_label, bytes)?;
    let order = sheets_first(&wb.sheet_names(), |n| n.to_lowercase().contains("history"));
    for sheet in order {
        let range = xs::sheet(file_label, &mut wb, &sheet)?;
        let Some(hdr) = xs::find_row(
            &range,
            &[
                "Local authority name",
                "Publication date",
                "Inspection type",
                "Overall effectiveness",
            ],
            0,
        ) else {
            continue;
        };
        let headers = xs::row_headers(
            range
                .rows()
                .nth(hdr)
                .expect("find_row gives a row of the range"),
        );
        let history = History2025::resolve(file_label, &sheet, headers, xs::abs_row(&range, hdr))?;
        let mut out = Parsed::default();
        read_table_rows(file_label, &range, hdr, history.c_name, |row| {
            history.read_inspection(row, &mut out)
        })?;
        return Ok(out);
    }
    Err(err(file_label, None, None, "no sheet with a `Local authority name` / `Publication date` / `Inspection type` / `Overall effectiveness` header", "is this Ofsted's 'LA inspection outcomes as at 31 March 2025' ODS? Its ILACS_inspection_history sheet is needed"))
}

/// The columns of the 2025 ILACS history sheet, found by header name; the judgement columns
/// are those after `Inspection type`.
struct History2025<'a> {
    file: &'a str,
    sheet: &'a str,
    headers: Vec<String>,
    c_code: Option<usize>,
    c_name: usize,
    c_status: Option<usize>,
    c_insp: Option<usize>,
    c_pub: usize,
    c_type: usize,
    /// (column, aspect, headline)
    grade_cols: Vec<(usize, &'static str, bool)>,
    c_leavers: Option<usize>,
}

impl<'a> History2025<'a> {
    /// Finds the columns in the header row (`hdr_abs`, 1-based).
    fn resolve(
        file: &'a str,
        sheet: &'a str,
        headers: Vec<String>,
        hdr_abs: usize,
    ) -> Result<History2025<'a>, CleanError> {
        let find = |n: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(n));
        let need = |n: &str| {
            find(n).ok_or_else(|| {
                err(
                    file,
                    Some(hdr_abs),
                    None,
                    format!("sheet `{sheet}`: no `{n}` column"),
                    "check the sheet layout",
                )
            })
        };
        let c_code = find("Local authority area code");
        let c_name = need("Local authority name")?;
        let c_status = find("Local authority status");
        let c_insp = find("Inspection date");
        let c_pub = need("Publication date")?;
        let c_type = need("Inspection type")?;
        let mut grade_cols: Vec<(usize, &'static str, bool)> = Vec::new();
        for (c, h) in headers.iter().enumerate() {
            if c <= c_type || h.is_empty() {
                continue;
            }
            let a = classify_aspect(Framework::Ilacs, "ILACS", h).ok_or_else(|| {
                err(
                    file,
                    Some(hdr_abs),
                    Some(format!("{} `{h}`", xs::col_letter(c))),
                    "unrecognised judgement column",
                    "add it to ofsted::classify_aspect",
                )
            })?;
            grade_cols.push((c, a.0, a.1));
        }
        let c_leavers = grade_cols
            .iter()
            .find(|g| g.1 == ASPECT_CARE_LEAVERS)
            .map(|g| g.0);
        Ok(History2025 {
            file,
            sheet,
            headers,
            c_code,
            c_name,
            c_status,
            c_insp,
            c_pub,
            c_type,
            grade_cols,
            c_leavers,
        })
    }

    /// A date cell of the row (empty → None).
    fn date_at(&self, row: &LaRow, c: usize) -> Result<Option<String>, CleanError> {
        xs::cell_date(row.cells.get(c).unwrap_or(&Data::Empty)).map_err(|t| {
            err(
                self.file,
                Some(row.rn),
                Some(column_label(&self.headers, c)),
                format!("`{t}` is not a date"),
                "dates must be dates",
            )
        })
    }

    /// The judgements of one inspection (one row of the history).
    fn read_inspection(&self, row: &LaRow, out: &mut Parsed) -> Result<(), CleanError> {
        let (file, rn) = (self.file, row.rn);
        let published = self.date_at(row, self.c_pub)?.ok_or_else(|| {
            err(
                file,
                Some(rn),
                Some(format!("{} (Publication date)", xs::col_letter(self.c_pub))),
                "missing publication date",
                "every inspection in the history has a publication date; check the row",
            )
        })?;
        let start = match self.c_insp {
            Some(c) => self.date_at(row, c)?,
            None => None,
        };
        let code = self.c_code.map(|c| row.text(c)).filter(|s| !s.is_empty());
        let predecessor = self
            .c_status
            .map(|c| row.text(c))
            .map(|s| s.to_lowercase().contains("no longer"))
            .unwrap_or(false);
        let inspection = row.text(self.c_type);
        // Before 1 Jan 2023 the in-care judgement covered care leavers too (module notes).
        let leavers_blank = self
            .c_leavers
            .map(|c| row.text(c).is_empty())
            .unwrap_or(true);
        for &(c, aspect, headline) in &self.grade_cols {
            let colname = column_label(&self.headers, c);
            let Some((label, g)) = grade_cell(
                file,
                Some(self.sheet),
                rn,
                colname,
                &row.text(c),
                &mut out.skipped,
            )?
            else {
                continue;
            };
            let aspect = pre_split_aspect(aspect, leavers_blank);
            out.judgements.push(Judgement {
                la_code_old: None,
                la_code: code.clone(),
                la_name: row.name.clone(),
                predecessor,
                urn: None,
                framework: Framework::Ilacs,
                inspection: inspection.clone(),
                aspect: aspect.into(),
                headline,
                published: published.clone(),
                inspection_start: start.clone(),
                inspection_end: None,
                judgement_label: label,
                grade: Some(g),
                source_file: file.into(),
                sheet: Some(self.sheet.into()),
                row: rn,
            });
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- scraped CSV

/// Parse `ofsted_csc_ilacs_history.csv` (scraped ILACS judgements).
pub fn parse_ilacs_csv(
    _source_name: &str,
    file_label: &str,
    bytes: &[u8],
) -> Result<Parsed, CleanError> {
    let (text, _) = xs::decode(bytes);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| {
            err(
                file_label,
                Some(1),
                None,
                format!("cannot read the header: {e}"),
                "is this a CSV file?",
            )
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let columns = ScrapeColumns::resolve(file_label, headers)?;
    let mut out = Parsed::default();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| {
            err(
                file_label,
                Some(line),
                None,
                format!("bad CSV record: {e}"),
                "fix the quoting or the number of fields on this line",
            )
        })?;
        columns.read_report(&rec, line, &mut out)?;
    }
    Ok(out)
}

/// The scrape tool's columns, by name; `grades` lists the five `…_grade` columns in the
/// order overall, impact of leaders, help and protection, in care, care leavers.
struct ScrapeColumns<'a> {
    file: &'a str,
    headers: Vec<String>,
    c_urn: usize,
    c_la: usize,
    c_pub: usize,
    c_fw: usize,
    c_start: usize,
    c_end: usize,
    /// (column, aspect, headline)
    grades: [(usize, &'static str, bool); 5],
}

impl<'a> ScrapeColumns<'a> {
    /// Finds every column the scraper writes; each is required.
    fn resolve(file: &'a str, headers: Vec<String>) -> Result<ScrapeColumns<'a>, CleanError> {
        let col = |n: &str| {
            headers.iter().position(|h| h == n).ok_or_else(|| err(file, Some(1), Some(n.into()), format!("missing column `{n}`"), "expected the ofsted-ilacs-scrape-tool output columns (urn, local_authority, publication_date, inspection_framework, …_grade)"))
        };
        Ok(ScrapeColumns {
            c_urn: col("urn")?,
            c_la: col("local_authority")?,
            c_pub: col("publication_date")?,
            c_fw: col("inspection_framework")?,
            c_start: col("inspection_start_date")?,
            c_end: col("inspection_end_date")?,
            grades: [
                (col("overall_effectiveness_grade")?, ASPECT_OVERALL, true),
                (
                    col("impact_of_leaders_grade")?,
                    ASPECT_IMPACT_LEADERS,
                    false,
                ),
                (
                    col("help_and_protection_grade")?,
                    ASPECT_HELP_PROTECTION,
                    false,
                ),
                (col("in_care_grade")?, ASPECT_IN_CARE, false),
                (col("care_leavers_grade")?, ASPECT_CARE_LEAVERS, false),
            ],
            file,
            headers,
        })
    }

    /// The judgements of one scraped report (one line), or a skip when it has no framework
    /// and is not recognisably ILACS (see the module docs).
    fn read_report(
        &self,
        rec: &csv::StringRecord,
        line: usize,
        out: &mut Parsed,
    ) -> Result<(), CleanError> {
        let report = ReportLine { rec, line };
        let published = self.date(&report, self.c_pub)?.ok_or_else(|| {
            err(
                self.file,
                Some(line),
                Some("publication_date".into()),
                "missing publication date",
                "every scraped report has one; check the line",
            )
        })?;
        let fw = report.get(self.c_fw);
        let any_grade = self
            .grades
            .iter()
            .any(|g| matches!(grade_of(&report.get(g.0)), Ok(Ok(_))));
        if fw.is_empty() && !(any_grade && published.as_str() >= "2019-01-01") {
            out.skipped.push(Skipped {
                file: self.file.into(),
                row: line,
                column: Some("inspection_framework".into()),
                reason: if any_grade {
                    "no framework, published before 2019 (may be SIF)".into()
                } else {
                    "no framework and no judgement read (pre-ILACS or unreadable report)".into()
                },
            });
            return Ok(());
        }
        let inspection = match fw.to_lowercase().as_str() {
            "standard" => "ILACS Standard Inspection".to_string(),
            "short" => "ILACS Short Inspection".to_string(),
            "" => "ILACS (type not read)".to_string(),
            other => format!("ILACS ({other})"),
        };
        self.push_judgements(&report, &published, &inspection, out)
    }

    /// A date cell of the line (empty → None).
    fn date(&self, report: &ReportLine, c: usize) -> Result<Option<String>, CleanError> {
        let t = report.get(c);
        if t.is_empty() {
            return Ok(None);
        }
        xs::text_to_iso(&t).map(Some).ok_or_else(|| {
            err(
                self.file,
                Some(report.line),
                Some(self.headers[c].clone()),
                format!("`{t}` is not a dd/mm/yy(yy) date"),
                "fix the date",
            )
        })
    }

    /// One judgement per graded `…_grade` cell of an ILACS report.
    fn push_judgements(
        &self,
        report: &ReportLine,
        published: &str,
        inspection: &str,
        out: &mut Parsed,
    ) -> Result<(), CleanError> {
        let (file, line) = (self.file, report.line);
        // The care-leavers judgement exists from 1 Jan 2023: a value scraped for a report
        // published earlier is a mis-read (Nottingham and Redcar and Cleveland 2022) and skipped.
        let pre_split = published < "2023-01-01";
        let leavers_pre = pre_split
            || report
                .get(self.grades[4].0)
                .eq_ignore_ascii_case("inspection_pre_dates_judgement");
        for &(c, aspect, headline) in &self.grades {
            let label = report.get(c);
            if aspect == ASPECT_CARE_LEAVERS && pre_split && matches!(grade_of(&label), Ok(Ok(_))) {
                out.skipped.push(Skipped { file: file.into(), row: line, column: Some(self.headers[c].clone()), reason: "care-leavers grade on a report published before the judgement existed (2023-01-01)".into() });
                continue;
            }
            let Some((label, g)) = grade_cell(
                file,
                None,
                line,
                self.headers[c].clone(),
                &label,
                &mut out.skipped,
            )?
            else {
                continue;
            };
            let aspect = pre_split_aspect(aspect, leavers_pre);
            out.judgements.push(Judgement {
                la_code_old: None,
                la_code: None,
                la_name: report.get(self.c_la),
                predecessor: false,
                urn: Some(report.get(self.c_urn)).filter(|s| !s.is_empty()),
                framework: Framework::Ilacs,
                inspection: inspection.to_string(),
                aspect: aspect.into(),
                headline,
                published: published.to_string(),
                inspection_start: self.date(report, self.c_start)?,
                inspection_end: self.date(report, self.c_end)?,
                judgement_label: label,
                grade: Some(g),
                source_file: file.into(),
                sheet: None,
                row: line,
            });
        }
        Ok(())
    }
}

/// One line of the scraped CSV: its record and 1-based line number.
struct ReportLine<'r> {
    rec: &'r csv::StringRecord,
    line: usize,
}

impl ReportLine<'_> {
    /// A cell, trimmed (empty if the record is shorter).
    fn get(&self, c: usize) -> String {
        self.rec.get(c).unwrap_or("").trim().to_string()
    }
}

// ---------------------------------------------------------------- merge & codes

/// What [`merge`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergeReport {
    /// Judgements read, per source file.
    pub read: BTreeMap<String, usize>,
    /// Judgements kept, per source file.
    pub kept: BTreeMap<String, usize>,
    /// Judgements dropped as duplicates of a higher-priority file's.
    pub merged: usize,
    /// Duplicates whose grade differs: (kept, dropped) descriptions.
    pub conflicts: Vec<(String, String)>,
    /// Duplicates whose publication dates differ: (kept, dropped) descriptions.
    pub date_mismatches: Vec<(String, String)>,
}

fn describe(j: &Judgement) -> String {
    format!(
        "{} {} {} {} {} = {} ({}:{})",
        j.la_name,
        j.framework.as_str(),
        j.inspection,
        j.aspect,
        j.published,
        j.judgement_label,
        j.source_file,
        j.row
    )
}

fn same_la(a: &Judgement, b: &Judgement) -> bool {
    if let (Some(x), Some(y)) = (&a.la_code, &b.la_code) {
        return x == y;
    }
    la_identity(a) == la_identity(b)
}

/// Deduplicate judgements from several files given in priority order (see module docs).
/// Within one file nothing is merged. Codes are then shared: a judgement without an ONS code
/// takes the one carried by another judgement of the same LA (same key, same predecessor flag).
pub fn merge(sets: Vec<Parsed>) -> (Vec<Judgement>, MergeReport) {
    let mut rep = MergeReport::default();
    let mut kept: Vec<Judgement> = Vec::new();
    // index: (la identity, framework, aspect) → positions in kept
    let mut idx: BTreeMap<(String, Framework, String), Vec<usize>> = BTreeMap::new();
    for set in sets {
        let start = kept.len();
        for j in set.judgements {
            *rep.read.entry(j.source_file.clone()).or_insert(0) += 1;
            let k = (la_identity(&j), j.framework, j.aspect.clone());
            let d = xs::iso_days(&j.published).unwrap_or(0);
            let dup = idx.get(&k).and_then(|v| {
                v.iter()
                    .copied()
                    .filter(|&p| p < start && same_la(&kept[p], &j))
                    .map(|p| ((xs::iso_days(&kept[p].published).unwrap_or(0) - d).abs(), p))
                    .filter(|&(dd, _)| dd <= SAME_INSPECTION_DAYS)
                    .min()
                    .map(|(_, p)| p)
            });
            match dup {
                Some(p) => {
                    rep.merged += 1;
                    if kept[p].grade != j.grade {
                        rep.conflicts.push((describe(&kept[p]), describe(&j)));
                    }
                    if kept[p].published != j.published {
                        rep.date_mismatches.push((describe(&kept[p]), describe(&j)));
                    }
                    let kp = &mut kept[p];
                    if kp.inspection_start.is_none() {
                        kp.inspection_start = j.inspection_start.clone();
                    }
                    if kp.inspection_end.is_none() {
                        kp.inspection_end = j.inspection_end.clone();
                    }
                    if kp.urn.is_none() {
                        kp.urn = j.urn.clone();
                    }
                }
                None => {
                    idx.entry(k).or_default().push(kept.len());
                    kept.push(j);
                }
            }
        }
    }
    // share codes within an LA
    let mut codes: BTreeMap<String, String> = BTreeMap::new();
    for j in &kept {
        if let Some(c) = &j.la_code {
            codes.entry(la_identity(j)).or_insert(c.clone());
        }
    }
    for j in &mut kept {
        if j.la_code.is_none() {
            j.la_code = codes.get(&la_identity(j)).cloned();
        }
        *rep.kept.entry(j.source_file.clone()).or_insert(0) += 1;
    }
    kept.sort_by(|a, b| {
        (la_identity(a), &a.published, a.framework, &a.aspect).cmp(&(
            la_identity(b),
            &b.published,
            b.framework,
            &b.aspect,
        ))
    });
    (kept, rep)
}

/// Fill missing codes with a caller-supplied lookup `(la_identity, urn) → (old 3-digit, ONS)`;
/// existing codes are kept. Returns how many judgements still lack an ONS code.
pub fn fill_codes(
    js: &mut [Judgement],
    lookup: impl Fn(&str, Option<&str>) -> Option<(Option<String>, Option<String>)>,
) -> usize {
    let mut missing = 0;
    for j in js.iter_mut() {
        if let Some((old, new)) = lookup(&la_identity(j), j.urn.as_deref()) {
            if j.la_code_old.is_none() {
                j.la_code_old = old;
            }
            if j.la_code.is_none() {
                j.la_code = new;
            }
        }
        if j.la_code.is_none() {
            missing += 1;
        }
    }
    missing
}

// ---------------------------------------------------------------- study outcome

/// An inclusive window of publication dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub from: String,
    pub to: String,
}

impl Window {
    /// Calendar years `from..=to` (1 Jan `from` to 31 Dec `to`).
    pub fn years(from: i32, to: i32) -> Window {
        Window {
            from: format!("{from:04}-01-01"),
            to: format!("{to:04}-12-31"),
        }
    }
    /// Explicit ISO dates, inclusive.
    pub fn dates(from: &str, to: &str) -> Window {
        Window {
            from: from.into(),
            to: to.into(),
        }
    }
    pub fn contains(&self, iso_date: &str) -> bool {
        iso_date >= self.from.as_str() && iso_date <= self.to.as_str()
    }
}

/// Which headline judgements count as "judged inadequate".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Any headline judgement (SLAC safeguarding or LAC OE, CPI/CPRI, TLAC, SIF overall, ILACS OE).
    AnyHeadline,
    /// Headline judgements about safeguarding / the whole service only: drops SLAC LAC OE,
    /// the SLAC re-inspection of LAC services and TLAC.
    Safeguarding,
}

fn in_scope(j: &Judgement, scope: Scope) -> bool {
    j.headline
        && match scope {
            Scope::AnyHeadline => true,
            Scope::Safeguarding => j.aspect != ASPECT_SLAC_LAC && j.framework != Framework::Tlac,
        }
}

/// How an LA is named when asking about it.
#[derive(Debug, Clone, Copy)]
pub enum LaRef<'a> {
    /// ONS 9-character code.
    Code(&'a str),
    /// Old 3-digit DfE code.
    OldCode(&'a str),
    /// Name, compared with [`la_identity`] (the old Dorset county is `"dorset (predecessor)"`).
    Name(&'a str),
}

fn matches_la(j: &Judgement, la: LaRef) -> bool {
    match la {
        LaRef::Code(c) => j.la_code.as_deref() == Some(c),
        LaRef::OldCode(c) => j.la_code_old.as_deref() == Some(c),
        LaRef::Name(n) => la_identity(j) == la_key(n) || la_identity(j) == n,
    }
}

/// The in-scope judgements of `la` graded inadequate and published within `window`.
pub fn inadequate_judgements<'a>(
    js: &'a [Judgement],
    la: LaRef,
    window: &Window,
    scope: Scope,
) -> Vec<&'a Judgement> {
    js.iter()
        .filter(|j| {
            matches_la(j, la)
                && in_scope(j, scope)
                && j.grade == Some(4)
                && window.contains(&j.published)
        })
        .collect()
}

/// Was `la` judged inadequate (headline judgement in `scope`) in a judgement published within `window`?
pub fn inadequate_within(js: &[Judgement], la: LaRef, window: &Window, scope: Scope) -> bool {
    !inadequate_judgements(js, la, window, scope).is_empty()
}

/// Study outcome: judged inadequate (any headline judgement) with a judgement published in
/// calendar 2012 or 2013.
pub fn inadequate_2012_13(js: &[Judgement], la: LaRef) -> bool {
    inadequate_within(js, la, &Window::years(2012, 2013), Scope::AnyHeadline)
}

/// Every LA (by [`la_identity`]) judged inadequate within `window`.
pub fn inadequate_las(js: &[Judgement], window: &Window, scope: Scope) -> BTreeSet<String> {
    js.iter()
        .filter(|j| in_scope(j, scope) && j.grade == Some(4) && window.contains(&j.published))
        .map(la_identity)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(
        name: &str,
        fw: Framework,
        aspect: &str,
        published: &str,
        label: &str,
        file: &str,
    ) -> Judgement {
        Judgement {
            la_code_old: None,
            la_code: None,
            la_name: name.into(),
            predecessor: false,
            urn: None,
            framework: fw,
            inspection: fw.as_str().into(),
            aspect: aspect.into(),
            headline: aspect == ASPECT_OVERALL || aspect.contains("overall"),
            published: published.into(),
            inspection_start: None,
            inspection_end: None,
            judgement_label: label.into(),
            grade: grade_of(label).unwrap().ok(),
            source_file: file.into(),
            sheet: None,
            row: 1,
        }
    }

    #[test]
    fn grades() {
        assert_eq!(grade_of("Requires improvement to be good"), Ok(Ok(3)));
        assert_eq!(grade_of(" requires  improvement"), Ok(Ok(3)));
        assert_eq!(grade_of("INADEQUATE"), Ok(Ok(4)));
        assert_eq!(grade_of("Outstanding"), Ok(Ok(1)));
        assert!(matches!(grade_of(" -"), Ok(Err(_))));
        assert!(grade_of("Excellent").is_err());
    }

    #[test]
    fn keys() {
        assert_eq!(
            la_key("Bournemouth, Christchurch & Poole"),
            la_key("Bournemouth, Christchurch and Poole")
        );
        assert_eq!(la_key("telford & wrekin"), la_key("Telford and Wrekin"));
        assert_eq!(la_key("london corporation"), la_key("City of London"));
        assert_eq!(
            la_key("Kingston Upon Hull"),
            la_key("Kingston upon Hull, City of")
        );
        assert_eq!(la_key("St. Helens"), la_key("St Helens"));
        assert_eq!(la_key("Bedford Borough"), la_key("Bedford"));
    }

    #[test]
    fn merge_rule() {
        let a = Parsed {
            judgements: vec![j(
                "Barnet",
                Framework::Ilacs,
                ASPECT_OVERALL,
                "2019-07-01",
                "Good",
                "new",
            )],
            skipped: vec![],
        };
        let b = Parsed {
            judgements: vec![
                j(
                    "barnet",
                    Framework::Ilacs,
                    ASPECT_OVERALL,
                    "2019-07-03",
                    "good",
                    "old",
                ),
                j(
                    "barnet",
                    Framework::Ilacs,
                    ASPECT_OVERALL,
                    "2024-07-23",
                    "Inadequate",
                    "old",
                ),
            ],
            skipped: vec![],
        };
        let (m, rep) = merge(vec![a, b]);
        assert_eq!(m.len(), 2);
        assert_eq!(rep.merged, 1);
        assert!(rep.conflicts.is_empty());
        assert_eq!(m[0].source_file, "new");
        assert_eq!(m[1].published, "2024-07-23");
    }

    #[test]
    fn windows() {
        let js = vec![
            j(
                "Birmingham",
                Framework::Cpi,
                ASPECT_OVERALL,
                "2012-10-19",
                "Inadequate",
                "f",
            ),
            j(
                "Barnet",
                Framework::Sif,
                ASPECT_OVERALL,
                "2017-07-07",
                "Inadequate",
                "f",
            ),
            j(
                "Bolton",
                Framework::Slac,
                ASPECT_SLAC_LAC,
                "2012-03-23",
                "Inadequate",
                "f",
            ),
        ];
        assert!(inadequate_2012_13(&js, LaRef::Name("Birmingham")));
        assert!(!inadequate_2012_13(&js, LaRef::Name("Barnet")));
        assert!(inadequate_within(
            &js,
            LaRef::Name("Barnet"),
            &Window::years(2017, 2017),
            Scope::AnyHeadline
        ));
        assert!(inadequate_2012_13(&js, LaRef::Name("Bolton")));
        assert!(!inadequate_within(
            &js,
            LaRef::Name("Bolton"),
            &Window::years(2012, 2013),
            Scope::Safeguarding
        ));
        assert!(Window::dates("2012-04-01", "2013-03-31").contains("2013-03-31"));
    }
}

#[cfg(test)]
mod fixture_tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/clean")
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}; regenerate it with `python3 tests/fixtures/clean/make_fixtures.py`", p.display()))
    }

    #[test]
    fn ods_2023_layout() {
        let b = fixture("ofsted_2023_tiny.ods");
        let p = parse_underlying_2023("o", "ofsted_2023_tiny.ods", &b).unwrap();
        let js = &p.judgements;
        assert_eq!(js.len(), 8, "{js:#?}");
        let slac = js
            .iter()
            .find(|j| j.aspect == ASPECT_SLAC_SAFEGUARDING && !j.predecessor)
            .unwrap();
        assert_eq!(
            (slac.grade, slac.published.as_str(), slac.row),
            (Some(4), "2012-07-27", 6)
        );
        let ilacs = js
            .iter()
            .find(|j| j.framework == Framework::Ilacs && j.aspect == ASPECT_IN_CARE_AND_LEAVERS)
            .unwrap();
        assert_eq!(
            (ilacs.inspection.as_str(), ilacs.grade),
            ("ILACS Short Inspection", Some(2))
        );
        assert!(js
            .iter()
            .any(|j| j.la_name == "Oldshire" && j.predecessor && j.row == 10));
        assert_eq!(p.skip_counts().get("not applicable (-)"), Some(&1));
        assert!(inadequate_2012_13(js, LaRef::Name("Testshire")));
    }

    #[test]
    fn csv_layout() {
        let b = fixture("ofsted_ilacs_tiny.csv");
        let p = parse_ilacs_csv("o", "ofsted_ilacs_tiny.csv", &b).unwrap();
        assert_eq!(p.judgements.len(), 9);
        let c = p.skip_counts();
        assert_eq!(
            c.get("no framework and no judgement read (pre-ILACS or unreadable report)"),
            Some(&1)
        );
        assert_eq!(c.get("scraper: inspection_pre_dates_judgement"), Some(&1));
        let ic = p
            .judgements
            .iter()
            .find(|j| j.urn.as_deref() == Some("1") && j.aspect == ASPECT_IN_CARE_AND_LEAVERS)
            .unwrap();
        assert_eq!(
            (
                ic.grade,
                ic.inspection_end.as_deref(),
                ic.published.as_str()
            ),
            (Some(3), Some("2019-02-05"), "2019-04-02")
        );
        assert!(p.judgements.iter().any(|j| j.urn.as_deref() == Some("2")
            && j.aspect == ASPECT_IMPACT_LEADERS
            && j.grade == Some(3)));
        let bad = String::from_utf8(b)
            .unwrap()
            .replace("outstanding,good", "excellent,good");
        let e = parse_ilacs_csv("o", "t.csv", bad.as_bytes()).unwrap_err();
        assert_eq!(
            (e.line, e.column.as_deref()),
            (Some(2), Some("overall_effectiveness_grade"))
        );
    }
}

/// Fill every judgement's codes from the Ofsted provider lookup (by URN, then by name or an
/// alias) and, for predecessor authorities, from the boundary changes of `geography.yaml`.
/// Returns how many judgements still lack an ONS code.
pub fn fill_codes_from_lookups(
    js: &mut [Judgement],
    providers: &[super::geography::ProviderLookup],
    changes: &super::geography::GeographyChanges,
) -> usize {
    fill_codes(js, |ident, urn| {
        if let Some(p) = urn.and_then(|u| providers.iter().find(|p| p.urn == u)) {
            return Some((Some(p.la_code_old.clone()), Some(p.la_code.clone())));
        }
        // Predecessors by name; "dorset (predecessor)" is the old county (835), not the new
        // Dorset council that reuses its name.
        for c in &changes.changes {
            for p in &c.predecessors {
                let k = la_key(&p.name.replace(" (county)", ""));
                if (ident == "dorset (predecessor)" && p.old_code == "835")
                    || (ident != "dorset" && ident == k)
                {
                    return Some((Some(p.old_code.clone()), p.ons_code.clone()));
                }
            }
        }
        providers
            .iter()
            .find(|p| {
                la_key(&p.la_name) == ident || p.also_known_as.iter().any(|a| la_key(a) == ident)
            })
            .map(|p| (Some(p.la_code_old.clone()), Some(p.la_code.clone())))
    })
}
