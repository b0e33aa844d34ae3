//! The study report: charts now; the tera context, the `report` stage kind and the RO-Crate
//! follow (issue 5).

pub mod charts;
