//! Statistics that must agree with R to the digit: pure functions, no I/O, each documented
//! with the formula or published algorithm it implements and tested against R's numbers
//! (`tests/golden/`, made by `tests/r/*.R`).

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
