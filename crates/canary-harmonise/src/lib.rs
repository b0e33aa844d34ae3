//! The harmonise step: published measures (tidy rows from the clean stage) → one panel of
//! study indicators by LA and year, with the definition used and the reason for every gap.
//!
//! The mapping from measures to indicators is data (`indicators.yaml`, see [`dictionary`]),
//! because definitions change between census years and an analyst must be able to add a year
//! without touching Rust. [`harmonise`] builds the long panel and its wide form; [`quality`]
//! gives the evidence that the result can be trusted (coverage, statuses, LA sums against
//! England rows, overlap years from two sources).
//!
//! May depend on: canary-clean (its tidy rows), canary-yaml (the dictionary), serde. Never on
//! DataFusion or arrow.

pub mod boundaries;
pub mod codes;
pub mod dictionary;
pub mod error;
pub mod formula;
mod locate;
pub mod panel;
pub mod quality;
pub mod status;

pub use dictionary::{load as load_dictionary, Dictionary};
pub use error::HarmoniseError;
pub use panel::{harmonise, Harmonised, Options, PanelRow, Wide, WideRow};
pub use status::ValueStatus;
