//! English Indices of Deprivation, upper-tier LA summaries: `deprivation/imd-2015.xlsx`
//! (152 upper-tier LAs, 2013 codes) and `imd-2019.xlsx` (151, 2019 codes: Bournemouth +
//! Poole → BCP, Dorset recoded). Every domain sheet (IMD, Income, Employment, Education,
//! Health, Crime, Barriers, Living, IDACI, IDAOPI) whose header row holds an
//! `Upper Tier Local Authority District code` cell is read (sheet and header row found by
//! content; the empty `Notes` sheet is skipped).
//!
//! Measure names: `<domain>_<measure>` in snake case, from the published header
//! `<Domain> - <measure>`: the domain is its parenthesised acronym when it has one
//! (`Income Deprivation Affecting Children Index (IDACI)` → `idaci`), else its words without
//! years (`IMD 2019` → `imd`, `Education, Skills and Training` → `education_skills_and_training`).
//! Headers without ` - ` (2019's `Income scale`, `Rank of Income Scale`) take the sheet's domain
//! and drop its word from the text (`income_scale`, `income_rank_of_scale`), so 2015 and 2019
//! names agree. E.g. `idaci_average_score`, `idaci_rank_of_average_score`, `imd_average_score`,
//! `imd_rank_of_proportion_of_lsoas_in_most_deprived_10_nationally`.
//! Year = the index's year (2015, 2019). Codes are ONS (`la_code`); `la_code_old` is None.

use super::tidy::{CleanError, GeographyLevel, Status, TidyRow};
use super::xlsheet::{self as xs, err};
use calamine::{Data, Reader};

fn domain_of(d: &str) -> String {
    if let (Some(a), Some(b)) = (d.find('('), d.find(')')) {
        if b > a + 1 {
            return xs::snake(&d[a + 1..b]);
        }
    }
    let words: Vec<&str> = d
        .split_whitespace()
        .filter(|w| !(w.len() == 4 && w.chars().all(|c| c.is_ascii_digit())))
        .collect();
    xs::snake(&words.join(" "))
}

/// Measure name of a published header, given the sheet's domain (from its first ` - ` header).
pub fn measure_name(header: &str, sheet_domain: &str) -> String {
    let h = xs::norm_ws(header);
    if let Some((d, m)) = h.split_once(" - ") {
        return format!("{}_{}", domain_of(d), xs::snake(m));
    }
    // no " - ": drop the domain's own word(s) from the text
    let dom_words: Vec<String> = sheet_domain.split('_').map(|s| s.to_string()).collect();
    let rest: Vec<&str> = h
        .split_whitespace()
        .filter(|w| !dom_words.contains(&w.to_lowercase()))
        .collect();
    format!("{}_{}", sheet_domain, xs::snake(&rest.join(" ")))
}

/// Parse an IoD upper-tier summary workbook; `year` is the index year (2015, 2019).
pub fn parse_iod_upper_tier(
    source_name: &str,
    file_label: &str,
    bytes: &[u8],
    year: i32,
) -> Result<Vec<TidyRow>, CleanError> {
    let mut wb = xs::open(file_label, bytes)?;
    let mut out = Vec::new();
    let mut sheets_read = 0;
    for sheet in wb.sheet_names().to_vec() {
        let range = xs::sheet(file_label, &mut wb, &sheet)?;
        let Some(h) = xs::find_row(&range, &["Upper Tier Local Authority District code"], 0) else {
            continue;
        };
        sheets_read += 1;
        let rows: Vec<&[Data]> = range.rows().collect();
        let headers = xs::row_headers(rows[h]);
        let file = IodFile {
            source_name,
            file_label,
            year,
        };
        let layout = DomainSheet::resolve(file, &sheet, &headers, xs::abs_row(&range, h))?;
        for (i, row) in rows.iter().enumerate().skip(h + 1) {
            if row.iter().all(|c| xs::text(c).is_empty()) {
                continue;
            }
            let rn = xs::abs_row(&range, i);
            layout.read_la(row, rn, &mut out)?;
        }
    }
    if sheets_read == 0 {
        return Err(err(
            file_label,
            None,
            None,
            "no sheet with an `Upper Tier Local Authority District code` header",
            "is this an English Indices of Deprivation upper-tier summary workbook?",
        ));
    }
    Ok(out)
}

/// The workbook being read: what every row and error is labelled with.
#[derive(Clone, Copy)]
struct IodFile<'a> {
    source_name: &'a str,
    file_label: &'a str,
    year: i32,
}

/// The columns of one domain sheet: LA code and name, and each measure with its name.
struct DomainSheet<'a> {
    file: IodFile<'a>,
    headers: &'a [String],
    la_code: usize,
    la_name: usize,
    measures: Vec<(usize, String)>,
}

impl<'a> DomainSheet<'a> {
    /// Reads the sheet's header row (`hrow`, 1-based): code and name columns, the domain from
    /// the first `<Domain> - <measure>` header, and the measure names.
    fn resolve(
        file: IodFile<'a>,
        sheet: &str,
        headers: &'a [String],
        hrow: usize,
    ) -> Result<DomainSheet<'a>, CleanError> {
        let file_label = file.file_label;
        let starting = |prefix: &str| {
            headers
                .iter()
                .position(|x| x.to_lowercase().starts_with(prefix))
        };
        let la_code = starting("upper tier local authority district code").unwrap();
        let la_name = starting("upper tier local authority district name").ok_or_else(|| {
            err(
                file_label,
                Some(hrow),
                None,
                format!("sheet `{sheet}`: no LA name column"),
                "check the sheet",
            )
        })?;
        let domain = headers
            .iter()
            .find_map(|x| x.split_once(" - ").map(|(d, _)| domain_of(d)))
            .ok_or_else(|| {
                err(
                    file_label,
                    Some(hrow),
                    None,
                    format!("sheet `{sheet}`: no `<Domain> - <measure>` header"),
                    "check the sheet's header row",
                )
            })?;
        let measures = headers
            .iter()
            .enumerate()
            .filter(|(c, x)| *c != la_code && *c != la_name && !x.is_empty())
            .map(|(c, x)| (c, measure_name(x, &domain)))
            .collect();
        Ok(DomainSheet {
            file,
            headers,
            la_code,
            la_name,
            measures,
        })
    }

    /// One tidy row per measure of an LA's row (`rn`, 1-based).
    fn read_la(&self, row: &[Data], rn: usize, out: &mut Vec<TidyRow>) -> Result<(), CleanError> {
        let file_label = self.file.file_label;
        let column = |c: usize| format!("{} ({})", xs::col_letter(c), self.headers[c]);
        let code = row.get(self.la_code).map(xs::text).unwrap_or_default();
        if !(code.len() == 9 && code.starts_with('E')) {
            return Err(err(
                file_label,
                Some(rn),
                Some(column(self.la_code)),
                format!("`{code}` is not an ONS LA code"),
                "rows below the header must be LAs",
            ));
        }
        let name = row.get(self.la_name).map(xs::text).unwrap_or_default();
        for (c, m) in &self.measures {
            let v = xs::cell_number(row.get(*c).unwrap_or(&Data::Empty)).map_err(|t| {
                err(
                    file_label,
                    Some(rn),
                    Some(column(*c)),
                    format!("`{t}` is not a number"),
                    "IoD summaries are all numeric",
                )
            })?;
            out.push(TidyRow {
                source: self.file.source_name.into(),
                year: self.file.year,
                la_code_old: None,
                la_code: Some(code.clone()),
                la_name: name.clone(),
                geography_level: GeographyLevel::LocalAuthority,
                measure: m.clone(),
                value: v,
                status: if v.is_some() {
                    Status::Ok
                } else {
                    Status::Blank
                },
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let d = domain_of("Income Deprivation Affecting Children Index (IDACI)");
        assert_eq!(d, "idaci");
        assert_eq!(
            measure_name(
                "Income Deprivation Affecting Children Index (IDACI) - Rank of average score",
                &d
            ),
            "idaci_rank_of_average_score"
        );
        assert_eq!(
            measure_name("IDACI - Average score ", "idaci"),
            "idaci_average_score"
        );
        assert_eq!(
            measure_name("IMD 2019 - Rank of extent ", "imd"),
            "imd_rank_of_extent"
        );
        assert_eq!(measure_name("Income scale", "income"), "income_scale");
        assert_eq!(
            measure_name("Rank of Income Scale", "income"),
            "income_rank_of_scale"
        );
        assert_eq!(
            measure_name("Income - Rank of scale", "income"),
            "income_rank_of_scale"
        );
        assert_eq!(
            measure_name(
                "Income - Proportion  of LSOAs in most deprived 10% nationally ",
                "income"
            ),
            "income_proportion_of_lsoas_in_most_deprived_10_nationally"
        );
        assert_eq!(
            domain_of("Education, Skills and Training"),
            "education_skills_and_training"
        );
    }

    #[test]
    fn fixture_xlsx() {
        let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/clean/iod_tiny.xlsx");
        let b = std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}; regenerate it with `python3 tests/fixtures/clean/make_fixtures.py`", p.display()));
        let rows = parse_iod_upper_tier("iod", "iod_tiny.xlsx", &b, 2019).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].measure, "idaci_average_score");
        assert_eq!(
            (rows[0].la_code.as_deref(), rows[0].value),
            (Some("E06000001"), Some(0.283))
        );
        assert_eq!(rows[3].status, Status::Blank);
    }
}
