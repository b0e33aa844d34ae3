//! Section 251 outturn, Table A1 (`spending/s251_outturn_<yy><yy>.csv`, 2008-09 … 2013-14):
//! long CSVs, one row per LA × budget line, one column per expenditure/income measure.
//!
//! Layouts handled (columns found by header name, never by position):
//! * 2008-09: `LEA Number:, LA Name:, S52 Line Reference:, PRIVATE (x), …` — no line-number
//!   column: the number leads the description (`17 LA functions in relation to child protection`).
//! * 2009-10: `LEA, LEA Name, Line, S52 Line Reference, Own Provision (y), …`.
//! * 2010-11: adds `ReturnStatus` after the name.
//! * 2011-12: `LA, LA Name, LineNumber, CYPServiceDescription, OwnProvision, …`; descriptions cut
//!   at 70 characters; empty cells printed `NULL`.
//! * 2012-13 and 2013-14: add `ReportGroup`; descriptions repeat the number (`17 Social work …`,
//!   once without a space: `11Short breaks`), and carry stray tabs/newlines.
//!
//! Files from 2010-11 on are Windows-1252 (`Children\x92s`); decoded accordingly.
//!
//! Units: **pounds (£)**, not £000s (Birmingham's 2008-09 total children's and young people's
//! services budget reads 158,191,559.1). Line numbering changes every year; `s251_crosswalk.yaml`
//! maps each year's lines to harmonised lines ([`load_crosswalk`], [`apply_crosswalk`]).
//! Year: the financial year's end (2008-09 → 2009), see [`year_from_file_name`].
//! Empty cells and `NULL` become `Status::Blank` (no value); anything else non-numeric is an error.

use super::tidy::{CleanError, GeographyLevel, Status, TidyRow};
use super::xlsheet::{self as xs, err};
use canary_yaml::Step;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One published cell.
#[derive(Debug, Clone, PartialEq)]
pub struct S251Cell {
    pub year: i32,
    pub la_code_old: String,
    pub la_name: String,
    pub return_status: Option<String>,
    pub line_no: u32,
    /// Published description, whitespace-collapsed, leading line number removed.
    pub description: String,
    pub report_group: Option<String>,
    /// Published column header (e.g. `NET Current Expenditure (m)`, `NetCurrentExpenditure`).
    pub column: String,
    pub value: Option<f64>,
    pub status: Status,
    /// 1-based CSV line.
    pub line: usize,
}

/// `s251_outturn_0809.csv` → 2009 (year the financial year ends).
pub fn year_from_file_name(name: &str) -> Option<i32> {
    let stem = name.rsplit('/').next()?;
    let i = stem.find("outturn_")? + 8;
    let d = stem.get(i..i + 4)?;
    let (a, b): (i32, i32) = (d[0..2].parse().ok()?, d[2..4].parse().ok()?);
    if (a + 1) % 100 != b {
        return None;
    }
    Some(2000 + b)
}

fn split_number(desc: &str) -> (Option<u32>, String) {
    let d = xs::norm_ws(desc);
    let digits: String = d.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return (None, d);
    }
    (digits.parse().ok(), d[digits.len()..].trim().to_string())
}

/// Parse one s251 outturn CSV. `year` is the financial year's end (see [`year_from_file_name`]).
pub fn parse_s251(
    _source_name: &str,
    file_label: &str,
    bytes: &[u8],
    year: i32,
) -> Result<Vec<S251Cell>, CleanError> {
    let (text, _) = xs::decode(bytes);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut recs = rdr.records();
    let header: Vec<String> = match recs.next() {
        Some(Ok(h)) => h.iter().map(xs::norm_header).collect(),
        _ => {
            return Err(err(
                file_label,
                Some(1),
                None,
                "no header line",
                "supply the published s251 outturn CSV",
            ))
        }
    };
    let layout = A1Layout::resolve(file_label, year, &header)?;
    let mut out = Vec::new();
    for (i, rec) in recs.enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| {
            err(
                file_label,
                Some(line),
                None,
                format!("bad CSV record: {e}"),
                "fix the quoting on this line",
            )
        })?;
        if rec.iter().all(|s| s.trim().is_empty()) {
            continue;
        }
        layout.read_row(&rec, line, &mut out)?;
    }
    Ok(out)
}

/// Where a year's Table A1 columns are: found by header name (the names differ by year).
struct A1Layout<'a> {
    file_label: &'a str,
    year: i32,
    header: &'a [String],
    la_code: usize,
    la_name: usize,
    description: usize,
    line_no: Option<usize>,
    return_status: Option<usize>,
    report_group: Option<usize>,
    /// The named columns after the description, line number and report group.
    values: Vec<usize>,
}

impl<'a> A1Layout<'a> {
    /// Finds the LA code, LA name and description columns (required) and the optional ones.
    fn resolve(
        file_label: &'a str,
        year: i32,
        header: &'a [String],
    ) -> Result<A1Layout<'a>, CleanError> {
        let find = |names: &[&str]| {
            header
                .iter()
                .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
        };
        let hint = "expected an s251 Table A1 outturn CSV (LA code, LA name, [line], description, value columns)";
        let la_code = find(&["LEA Number:", "LEA", "LA"]).ok_or_else(|| {
            err(
                file_label,
                Some(1),
                None,
                format!("no LA code column in {header:?}"),
                hint,
            )
        })?;
        let la_name = find(&["LA Name:", "LEA Name", "LA Name"])
            .ok_or_else(|| err(file_label, Some(1), None, "no LA name column", hint))?;
        let description = find(&[
            "S52 Line Reference:",
            "S52 Line Reference",
            "CYPServiceDescription",
        ])
        .ok_or_else(|| {
            err(
                file_label,
                Some(1),
                None,
                "no line description column",
                hint,
            )
        })?;
        let line_no = find(&["Line", "LineNumber"]);
        let report_group = find(&["ReportGroup"]);
        let first_value = [Some(description), report_group, line_no]
            .iter()
            .flatten()
            .max()
            .unwrap()
            + 1;
        let values: Vec<usize> = (first_value..header.len())
            .filter(|&c| !header[c].is_empty())
            .collect();
        if values.is_empty() {
            return Err(err(
                file_label,
                Some(1),
                None,
                "no value columns after the description",
                hint,
            ));
        }
        Ok(A1Layout {
            file_label,
            year,
            header,
            la_code,
            la_name,
            description,
            line_no,
            return_status: find(&["ReturnStatus"]),
            report_group,
            values,
        })
    }

    /// One cell per value column of an LA × budget-line row.
    fn read_row(
        &self,
        rec: &csv::StringRecord,
        line: usize,
        out: &mut Vec<S251Cell>,
    ) -> Result<(), CleanError> {
        let file_label = self.file_label;
        let g = |c: usize| rec.get(c).map(xs::norm_ws).unwrap_or_default();
        let code = g(self.la_code);
        if !(code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit())) {
            return Err(err(
                file_label,
                Some(line),
                Some(self.header[self.la_code].clone()),
                format!("`{code}` is not a 3-digit LA code"),
                "Table A1 rows are LAs; remove totals or fix the code",
            ));
        }
        let (line_no, description) = self.budget_line(&g, line)?;
        for &c in &self.values {
            let raw = g(c);
            let (value, status) = if raw.is_empty() || raw.eq_ignore_ascii_case("NULL") {
                (None, Status::Blank)
            } else {
                let v = raw.replace(',', "").parse::<f64>().map_err(|_| {
                    err(
                        file_label,
                        Some(line),
                        Some(self.header[c].clone()),
                        format!("`{raw}` is not a number"),
                        "values are pounds; empty or NULL means no value",
                    )
                })?;
                (Some(v), Status::Ok)
            };
            out.push(S251Cell {
                year: self.year,
                la_code_old: code.clone(),
                la_name: g(self.la_name),
                return_status: self.return_status.map(g).filter(|s| !s.is_empty()),
                line_no,
                description: description.clone(),
                report_group: self.report_group.map(g).filter(|s| !s.is_empty()),
                column: self.header[c].clone(),
                value,
                status,
                line,
            });
        }
        Ok(())
    }

    /// The row's budget line number (its own column, or 2008-09's leading number of the
    /// description) and the description without it.
    fn budget_line(
        &self,
        g: &dyn Fn(usize) -> String,
        line: usize,
    ) -> Result<(u32, String), CleanError> {
        let file_label = self.file_label;
        let (lead, description) = split_number(&g(self.description));
        let line_no = match self.line_no {
            Some(c) => g(c).parse::<u32>().map_err(|_| {
                err(
                    file_label,
                    Some(line),
                    Some(self.header[c].clone()),
                    format!("`{}` is not a line number", g(c)),
                    "fix the line number",
                )
            })?,
            None => lead.ok_or_else(|| {
                err(
                    file_label,
                    Some(line),
                    Some(self.header[self.description].clone()),
                    "description does not start with its line number",
                    "2008-09 descriptions read `17 LA functions …`; fix the row",
                )
            })?,
        };
        // a leading number that is not this line's number is part of the text: put it back
        let description = match (lead, self.line_no) {
            (Some(n), Some(_)) if n != line_no => format!("{n} {description}"),
            _ => description,
        };
        Ok((line_no, description))
    }
}

/// Cells as TidyRows; measure = `"<line> <description>[column=<published column>]"`.
pub fn to_tidy(source_name: &str, cells: &[S251Cell]) -> Vec<TidyRow> {
    cells
        .iter()
        .map(|c| TidyRow {
            source: source_name.into(),
            year: c.year,
            la_code_old: Some(c.la_code_old.clone()),
            la_code: None,
            la_name: c.la_name.clone(),
            geography_level: GeographyLevel::LocalAuthority,
            measure: format!("{} {}[column={}]", c.line_no, c.description, c.column),
            value: c.value,
            status: c.status,
        })
        .collect()
}

// ------------------------------------------------------------------ crosswalk

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearLines {
    /// Line numbers summed for this year.
    pub lines: Vec<u32>,
    /// Expected published descriptions (prefix match after normalisation), one per line.
    pub expect: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HarmonisedLine {
    pub description: String,
    pub years: BTreeMap<i32, YearLines>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Crosswalk {
    pub version: u32,
    /// Unit of the values (documentation; must be `GBP`).
    pub unit: String,
    /// Harmonised column name → the published headers that mean it.
    pub columns: BTreeMap<String, Vec<String>>,
    pub lines: BTreeMap<String, HarmonisedLine>,
}

/// Parse `s251_crosswalk.yaml` (deny_unknown_fields; checked: unit, one expectation per line).
pub fn load_crosswalk(file_label: &str, yaml: &str) -> Result<Crosswalk, CleanError> {
    let cw: Crosswalk = canary_yaml::from_str(yaml).map_err(|e| err(file_label, e.line, None, format!("invalid crosswalk: {e}"), "fields: version, unit, columns{name: [headers]}, lines{name: {description, years{yyyy: {lines, expect, note}}}}"))?;
    if cw.unit != "GBP" {
        return Err(err(
            file_label,
            None,
            Some("unit".into()),
            format!("unit `{}`", cw.unit),
            "values are pounds: unit must be GBP",
        )
        .at(yaml, &[Step::Key("unit")]));
    }
    for (name, l) in &cw.lines {
        for (y, yl) in &l.years {
            if yl.lines.is_empty() || yl.lines.len() != yl.expect.len() {
                let year = y.to_string();
                return Err(err(
                    file_label,
                    None,
                    Some(format!("lines.{name}.years.{y}")),
                    "`lines` and `expect` must be non-empty and of equal length",
                    "give one expected description per line number",
                )
                .at(
                    yaml,
                    &[
                        Step::Key("lines"),
                        Step::Key(name),
                        Step::Key("years"),
                        Step::Key(&year),
                    ],
                ));
            }
        }
    }
    Ok(cw)
}

fn norm_desc(s: &str) -> String {
    xs::norm_ws(&s.to_lowercase().replace(['\'', '\u{2019}', '\u{92}'], "")).replace(" (", "(")
}

/// Apply the crosswalk: for each harmonised line with an entry for the cells' year, each LA and
/// each harmonised column, sum the mapped lines. Measure = `"<line>[column=<column>]"`. A blank
/// line counts as 0 when another line of the sum has a value; all blank → `Status::Blank`.
/// Errors when a mapped line is missing from the file or its description does not match.
pub fn apply_crosswalk(
    source_name: &str,
    file_label: &str,
    cw: &Crosswalk,
    cells: &[S251Cell],
) -> Result<Vec<TidyRow>, CleanError> {
    let Some(year) = cells.first().map(|c| c.year) else {
        return Ok(vec![]);
    };
    let col_of = |h: &str| {
        cw.columns
            .iter()
            .find(|(_, hs)| hs.iter().any(|x| x.eq_ignore_ascii_case(h)))
            .map(|(k, _)| k.clone())
    };
    // (la, column) → line → cell
    let mut by: BTreeMap<(String, String), BTreeMap<u32, &S251Cell>> = BTreeMap::new();
    let mut descs: BTreeMap<u32, (String, usize)> = BTreeMap::new();
    for c in cells {
        descs
            .entry(c.line_no)
            .or_insert((c.description.clone(), c.line));
        if let Some(k) = col_of(&c.column) {
            by.entry((c.la_code_old.clone(), k))
                .or_default()
                .insert(c.line_no, c);
        }
    }
    let mut out = Vec::new();
    for (name, hl) in &cw.lines {
        let Some(yl) = hl.years.get(&year) else {
            continue;
        };
        for (n, exp) in yl.lines.iter().zip(&yl.expect) {
            let (d, line) = descs.get(n).ok_or_else(|| {
                err(
                    file_label,
                    None,
                    None,
                    format!("crosswalk line `{name}` {year} needs line {n}, absent from the file"),
                    "fix s251_crosswalk.yaml for this year",
                )
            })?;
            if !norm_desc(d).starts_with(&norm_desc(exp)) {
                return Err(err(
                    file_label,
                    Some(*line),
                    Some("description".into()),
                    format!("crosswalk `{name}` {year}: line {n} is `{d}`, expected `{exp}`"),
                    "line numbering changed: fix s251_crosswalk.yaml",
                ));
            }
        }
        for ((la, col), lines) in &by {
            let parts: Vec<&S251Cell> = yl
                .lines
                .iter()
                .filter_map(|n| lines.get(n).copied())
                .collect();
            if parts.len() != yl.lines.len() {
                return Err(err(
                    file_label,
                    None,
                    None,
                    format!(
                        "LA {la}: only {} of lines {:?} present",
                        parts.len(),
                        yl.lines
                    ),
                    "the file lacks rows for this LA",
                ));
            }
            let oks: Vec<f64> = parts.iter().filter_map(|c| c.value).collect();
            let (value, status) = if oks.is_empty() {
                (None, Status::Blank)
            } else {
                (Some(oks.iter().sum()), Status::Ok)
            };
            out.push(TidyRow {
                source: source_name.into(),
                year,
                la_code_old: Some(la.clone()),
                la_code: None,
                la_name: parts[0].la_name.clone(),
                geography_level: GeographyLevel::LocalAuthority,
                measure: format!("{name}[column={col}]"),
                value,
                status,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV_0809: &str = "LEA Number:,LA Name:,S52 Line Reference:,PRIVATE (x),NET Current Expenditure (m)\n201,City of London  ,17 LA functions in relation to child protection,0,\"1,000\"\n201,City of London  ,18 Local safeguarding childrens board,,5\n";
    const CSV_1213: &[u8] = b"LA,LA Name,LineNumber,CYPServiceDescription,ReportGroup,NetCurrentExpenditure\n202,Camden,17,17 Social work (includes LA functions in relation to child protection,SAFEGUARDING\t,NULL\n202,Camden,19,19 Local safeguarding childrens board\t,X,7\n202,Camden,2,2 Spend through Sure Start Children\x92s Centres,X,1\n";

    #[test]
    fn years() {
        assert_eq!(
            year_from_file_name("spending/s251_outturn_0809.csv"),
            Some(2009)
        );
        assert_eq!(year_from_file_name("s251_outturn_1314.csv"), Some(2014));
        assert_eq!(year_from_file_name("s251_outturn_1315.csv"), None);
    }

    #[test]
    fn parses_layouts() {
        let c = parse_s251("s", "a.csv", CSV_0809.as_bytes(), 2009).unwrap();
        assert_eq!(c.len(), 4);
        assert_eq!(
            (
                c[1].line_no,
                c[1].description.as_str(),
                c[1].value,
                c[1].la_name.as_str()
            ),
            (
                17,
                "LA functions in relation to child protection",
                Some(1000.0),
                "City of London"
            )
        );
        assert_eq!(c[2].status, Status::Blank);
        let c = parse_s251("s", "b.csv", CSV_1213, 2013).unwrap();
        assert_eq!(c[0].status, Status::Blank);
        assert_eq!(c[0].report_group.as_deref(), Some("SAFEGUARDING"));
        assert_eq!(
            c[2].description,
            "Spend through Sure Start Children\u{2019}s Centres"
        );
        let t = to_tidy("s", &c);
        assert_eq!(
            t[1].measure,
            "19 Local safeguarding childrens board[column=NetCurrentExpenditure]"
        );
        assert!(parse_s251(
            "s",
            "c.csv",
            b"LA,LA Name,LineNumber,CYPServiceDescription,Net\n202,Camden,1,x,abc\n",
            2012
        )
        .unwrap_err()
        .message
        .contains("not a number"));
    }

    #[test]
    fn crosswalk() {
        let y = r#"
version: 1
unit: GBP
columns: {net_current_expenditure: ["NET Current Expenditure (m)", "NetCurrentExpenditure"]}
lines:
  cp_and_lscb:
    description: test
    years:
      2013: {lines: [17, 19], expect: ["Social work (includes LA functions", "Local safeguarding childrens board"]}
"#;
        let cw = load_crosswalk("x.yaml", y).unwrap();
        let c = parse_s251("s", "b.csv", CSV_1213, 2013).unwrap();
        let t = apply_crosswalk("s", "b.csv", &cw, &c).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(
            (t[0].measure.as_str(), t[0].value),
            ("cp_and_lscb[column=net_current_expenditure]", Some(7.0))
        );
        let bad = y.replace("Local safeguarding", "Youth justice");
        assert!(apply_crosswalk("s", "b.csv", &load_crosswalk("x", &bad).unwrap(), &c).is_err());
        assert!(load_crosswalk("x", &y.replace("unit: GBP", "unit: GBP\ncolour: red")).is_err());
    }
}
