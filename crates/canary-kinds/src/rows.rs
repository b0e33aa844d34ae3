//! Rows of the study's tables that several readers read the same way (a kind and the report's
//! sections): one struct per table, every field optional, as a reader skips or blanks a row
//! with a gap rather than refusing the table. A reader with needs of its own keeps its own
//! struct beside it.

use serde::Deserialize;

/// A row of a model's `coefficients` table (`fit` and its sweep): one term at one choice of
/// lambda (`lambda.min`, `lambda.1se`, `paper_sparsity`).
#[derive(Deserialize)]
pub struct Coefficient {
    pub term: Option<String>,
    pub choice: Option<String>,
    pub coefficient: Option<f64>,
}
