//! Statistics that must agree with R to the digit: pure functions, no I/O, each documented
//! with the formula or published algorithm it implements and tested against R's numbers
//! (`tests/golden/`, made by `tests/r/*.R`).
//!
//! May depend on: the standard library only (serde_json for its tests' golden files). Never on
//! DataFusion, arrow or anything that does I/O: a reviewer checks the numbers here alone.

pub mod classification;
pub mod distributions;
pub mod early_warning;
pub mod exact_sum;
pub mod glm;
pub mod glmnet;
pub mod quantile;
pub mod rank;
pub mod spearman;
pub mod wilcoxon;
