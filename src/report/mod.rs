//! The study report's parts that are not the stage kind itself (`kinds/report.rs`): the charts
//! it draws and the RO-Crate written beside it after each run.

pub mod charts;
pub mod rocrate;
