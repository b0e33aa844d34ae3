//! The parsers over the real published files (`raw/`, whole) and over small fixtures in their
//! formats (`tests/fixtures/`): one test binary, which links no DataFusion.

mod common;

mod dfe_fixtures;
mod dfe_real_files;
mod real_deprivation;
mod real_geography;
mod real_ofsted;
mod real_s251;
