//! canary's integration tests, linked into one test binary.
//!
//! Each file beside this one is a module of it. One binary instead of one per file because
//! every binary links the whole of DataFusion: sixteen of them filled the CI machine's disk
//! and spent most of its time linking.

mod common;

mod bad_input;
mod build;
mod early_warning;
mod engine_cli;
mod engine_lib;
mod fetch;
mod kinds;
mod layout;
mod r_live;
mod raw_files;
mod report;
mod scale;
mod script;
mod stats_kinds;
mod study;
mod sweep;
mod tools;
mod verify;
