//! The one error type of the harmonise step. Every message names the file or dictionary
//! entry at fault and ends with what to do, because the person reading it is usually an
//! analyst editing `indicators.yaml`, not the author of this code.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum HarmoniseError {
    /// `indicators.yaml` is not valid YAML or does not match the schema.
    Yaml {
        file: String,
        line: Option<usize>,
        message: String,
    },
    /// The dictionary parsed but says something impossible.
    Invalid {
        file: String,
        entry: String,
        message: String,
        hint: String,
    },
    /// A formula does not parse.
    Formula {
        entry: String,
        formula: String,
        position: usize,
        message: String,
    },
    /// `strict` was asked for and an indicator has no definition for a year in range.
    NoDefinition {
        indicator: String,
        year: i32,
        covered: Vec<String>,
    },
    /// The source has rows that year but not this measure: the publisher renamed a column.
    MissingMeasure {
        indicator: String,
        definition: String,
        source: String,
        year: i32,
        measure: String,
        /// Boxed slice, not Vec: one word less keeps the whole error under clippy's 128-byte
        /// `result_large_err` threshold (it is returned by value everywhere).
        similar: Box<[String]>,
    },
    /// The population a rate needs is not in its source for that year.
    MissingPopulation {
        population: String,
        source: String,
        year: i32,
        measure: String,
    },
    /// Two LAs would be merged: one code maps to two LAs in one year.
    CodeConflict {
        year: i32,
        code: String,
        first: String,
        second: String,
        sources: String,
    },
    /// Options make no sense (empty year range, …).
    Options { message: String },
    /// LA sums and England rows disagree beyond the publisher's rounding.
    Reconciliation { failures: Vec<String> },
}

impl fmt::Display for HarmoniseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use HarmoniseError::*;
        match self {
            Yaml { file, line, message } => {
                write!(f, "{file}")?;
                if let Some(l) = line {
                    write!(f, ":{l}")?;
                }
                write!(f, ": {message}\n  hint: fix the YAML; every indicator needs `id`, `label`, `unit`, `quadrant`, `role`, `definitions` and nothing else")
            }
            Invalid { file, entry, message, hint } => {
                write!(f, "{file}: `{entry}`: {message}\n  hint: {hint}")
            }
            Formula { entry, formula, position, message } => write!(
                f,
                "`{entry}`: formula does not parse: {message}\n    {formula}\n    {caret:>width$}\n  hint: formulas use + - * /, parentheses, numbers, `measure names` in backticks (or plain names of letters, digits, _ and {{placeholders}}), `source::measure` for another source, and rate(x), pct(a, b), sum(a, ...), zna(x)",
                caret = "^",
                width = position + 1
            ),
            NoDefinition { indicator, year, covered } => write!(
                f,
                "indicator `{indicator}` has no definition for {year} (covered: {})\n  hint: add a definition with `years` covering {year} to `{indicator}` in indicators.yaml, narrow the `years` option, or run without `strict`",
                if covered.is_empty() { "none".to_string() } else { covered.join(", ") }
            ),
            MissingMeasure { indicator, definition, source, year, measure, similar } => {
                write!(
                    f,
                    "indicator `{indicator}` (definition `{definition}`): source `{source}` has rows for {year} but no measure `{measure}`"
                )?;
                if !similar.is_empty() {
                    write!(f, "; similar measures there: `{}`", similar.join("`, `"))?;
                }
                write!(f, "\n  hint: the publisher probably renamed the column; edit the formula of `{indicator}` for years `{definition}` in indicators.yaml (or split its `years` at {year})")
            }
            MissingPopulation { population, source, year, measure } => write!(
                f,
                "population `{population}`: source `{source}` has no measure `{measure}` for {year}\n  hint: edit `populations.{population}` in indicators.yaml"
            ),
            CodeConflict { year, code, first, second, sources } => write!(
                f,
                "LA code `{code}` maps to two LAs in {year}: {first} and {second} (sources: {sources})\n  hint: a boundary change or a publisher slip; add the mapping to the geography crosswalk rather than merging them here"
            ),
            Options { message } => write!(f, "harmonise options: {message}"),
            Reconciliation { failures } => write!(
                f,
                "{} reconciliation check(s) failed (LA sum vs England row):\n  {}\n  hint: a file is truncated or an LA row is duplicated; compare the file with the publisher's",
                failures.len(),
                failures.join("\n  ")
            ),
        }
    }
}

impl std::error::Error for HarmoniseError {}

#[cfg(test)]
mod tests {
    use super::HarmoniseError;

    #[test]
    fn the_error_stays_small_enough_to_return_by_value() {
        // clippy's `result_large_err` fires at 128 bytes or more.
        assert!(std::mem::size_of::<HarmoniseError>() < 128);
    }
}
