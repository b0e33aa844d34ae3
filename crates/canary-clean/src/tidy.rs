//! The tidy long record every `clean.*` parser emits (contract shared by all parsers).
//! Copy this file verbatim into your crate as `src/tidy.rs`; do not change field names or the
//! status vocabulary without asking — the harmonise stage and Parquet schema rely on them.

/// Why a value is (or is not) present. Serialised as the lowercase snake_case string below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// A number was published.
    Ok,
    /// Suppressed to protect individuals (CIN census `x`; EES `c`).
    Suppressed,
    /// Not available / not collected (`..`, EES `x`, `:`).
    NotAvailable,
    /// Not applicable (`.`, EES `z`).
    NotApplicable,
    /// Low or unreliable (EES `low` = rounds to zero, `u` = low reliability).
    Low,
    /// The cell was empty.
    Blank,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Suppressed => "suppressed",
            Status::NotAvailable => "not_available",
            Status::NotApplicable => "not_applicable",
            Status::Low => "low",
            Status::Blank => "blank",
        }
    }
}

/// Where a row sits in the geography: England, a region, an LA, or something else the file
/// holds (e.g. "Inner London"). Serialised lowercase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GeographyLevel {
    National,
    Regional,
    LocalAuthority,
    Other,
}

impl GeographyLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            GeographyLevel::National => "national",
            GeographyLevel::Regional => "regional",
            GeographyLevel::LocalAuthority => "local_authority",
            GeographyLevel::Other => "other",
        }
    }
}

/// One published cell, in long form.
#[derive(Debug, Clone, PartialEq)]
pub struct TidyRow {
    /// The source's name as given by the caller (the `sources:` key in pipeline.yaml).
    pub source: String,
    /// Calendar year in which the reporting year ends (2013 = 2012-13; workforce at 30
    /// September of year-1 gets the year it is published for, e.g. Sept 2016 → 2017).
    pub year: i32,
    /// Old 3-digit DfE LA code ("201"), None for rows without one.
    pub la_code_old: Option<String>,
    /// ONS 9-character code ("E09000001"); for England "E92000001", regions "E12…".
    pub la_code: Option<String>,
    pub la_name: String,
    pub geography_level: GeographyLevel,
    /// The measure's name as published (column header or EES indicator name), trimmed;
    /// for files with filter columns (EES `category`, durations, …) the filter values are
    /// appended as `measure[filter=value,...]` so every row stays distinct.
    pub measure: String,
    /// Parsed number (thousands separators removed); None unless status is Ok.
    pub value: Option<f64>,
    pub status: Status,
}

/// A parse error pointing at the user's file.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanError {
    pub file: String,
    /// 1-based line (CSV) or row (spreadsheet), if known.
    pub line: Option<usize>,
    /// Column name or letter, if known.
    pub column: Option<String>,
    pub message: String,
    /// What the user should do about it.
    pub hint: String,
    /// In a YAML file the user edits (geography, crosswalk): the line and column of the entry
    /// at fault and the line's text, for a caret under it.
    pub place: Option<Box<Place>>,
}

/// Where an error points in a YAML file the user edits.
pub use canary_yaml::Place;

impl CleanError {
    /// The error pointed at the entry that ends `path` in `yaml` (its line too), when the entry
    /// is in the text.
    pub fn at(self, yaml: &str, path: &[canary_yaml::Step]) -> Self {
        let place = canary_yaml::SourceMap::new(yaml).place(path).map(Box::new);
        CleanError {
            line: place.as_ref().map_or(self.line, |p| Some(p.line)),
            place,
            ..self
        }
    }
}

impl std::fmt::Display for CleanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line { write!(f, ":{l}")?; }
        if let Some(c) = &self.column { write!(f, " (column `{c}`)")?; }
        write!(f, ": {}\n  hint: {}", self.message, self.hint)
    }
}

impl std::error::Error for CleanError {}
