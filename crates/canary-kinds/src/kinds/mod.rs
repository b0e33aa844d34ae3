//! Stage kinds: what a stage of `pipeline.yaml` can do. Each kind implements
//! [`crate::stage::StageKind`] (the contract, in `stage`) and is listed in [`builtin`]; the
//! engine knows nothing else about them.

use std::sync::Arc;

use crate::stage::Registry;

pub mod claims;
pub mod clean;
pub mod compare;
pub mod docs;
pub mod early_warning;
pub mod fit;
pub mod glm;
pub mod harmonise;
pub mod ofsted;
pub mod report;
pub mod scorecards;
pub mod script;
pub mod sql;
pub mod stack;
pub mod trend;

/// Every kind canary ships.
pub fn builtin() -> Registry {
    let mut r = Registry::empty();
    r.register(Arc::new(sql::Sql));
    r.register(Arc::new(clean::CinCensus));
    r.register(Arc::new(clean::Ees));
    r.register(Arc::new(clean::Nomis));
    r.register(Arc::new(clean::Deprivation));
    r.register(Arc::new(clean::S251));
    r.register(Arc::new(clean::Lait));
    r.register(Arc::new(ofsted::Ofsted));
    r.register(Arc::new(harmonise::Harmonise));
    r.register(Arc::new(trend::Trend));
    r.register(Arc::new(trend::Correlate));
    r.register(Arc::new(fit::Fit));
    r.register(Arc::new(glm::Glm));
    r.register(Arc::new(compare::Compare));
    r.register(Arc::new(claims::Claims));
    r.register(Arc::new(early_warning::EarlyWarning));
    r.register(Arc::new(report::Report));
    r.register(Arc::new(scorecards::Scorecards));
    r.register(Arc::new(stack::Stack));
    r.register(Arc::new(script::Script));
    r
}
