//! Parsers (`clean.*` stages) for the published English children's-social-care files.
//!
//! Every parser is pure: it takes the source name, a label for the file (its path, used in
//! errors and notes) and the file's bytes, and returns the long [`tidy::TidyRow`]s (or typed
//! records, for Ofsted judgements and geography) plus [`Note`]s recording the publisher
//! errors it corrected and the quirks it met — or a [`tidy::CleanError`] naming file, line,
//! column and what to do.
//!
//! * [`cin_census`]: DfE CIN census underlying-data CSVs 2009-10 … 2016-17, and their
//!   Annex A metadata.
//! * [`ees`]: DfE "explore education statistics" tidy CSVs (CIN releases, workforce, ONS
//!   population as republished by the DfE, children looked after).
//! * [`nomis`]: ONS mid-year population estimates by age band downloaded from Nomis.
//! * [`ofsted`]: Ofsted judgements 2009-2025 (ODS workbooks and the ILACS history CSV).
//! * [`s251`]: section 251 outturn, with the line crosswalk in `stages/s251_crosswalk.yaml`.
//! * [`deprivation`]: English Indices of Deprivation upper-tier summaries (IMD, IDACI).
//! * [`geography`]: LA code lists, statistical neighbours, and the boundary changes in
//!   `stages/geography.yaml`.
//!
//! May depend on: canary-yaml (the crosswalk and geography files), csv, encoding_rs, calamine,
//! serde. Never on DataFusion or arrow: the kinds turn the rows into tables.

pub mod cin_census;
pub mod common;
pub mod deprivation;
pub mod ees;
pub mod geography;
pub mod nomis;
pub mod ofsted;
pub mod s251;
#[rustfmt::skip] // tidy.rs is the shared contract, kept verbatim
pub mod tidy;
pub mod xlsheet;

pub use cin_census::{parse_cin_census, parse_cin_metadata, VariableDefinition};
pub use common::{Note, NoteKind, Parsed};
pub use ees::{parse_ees, EesOptions};
pub use nomis::parse_nomis_popest;
