//! Why a panel value is missing. Extends the clean stage's status vocabulary with the
//! reasons only the harmonise step can know (no definition that year, zero denominator).

use canary_clean::tidy::Status;

/// Ordered from best to worst: a formula's status is the worst of its operands', so that a
/// value missing because a whole source is absent is not reported as merely suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ValueStatus {
    Ok,
    /// EES `low` / `u`: rounds to zero or unreliable; no number under the contract.
    Low,
    Suppressed,
    Blank,
    NotApplicable,
    /// A denominator was published as 0 (e.g. an LA with no initial assessments).
    ZeroDenominator,
    /// Not collected, source absent that year, or LA absent from the source.
    NotAvailable,
    /// No dictionary definition covers the year.
    NoDefinition,
}

impl ValueStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueStatus::Ok => "ok",
            ValueStatus::Low => "low",
            ValueStatus::Suppressed => "suppressed",
            ValueStatus::Blank => "blank",
            ValueStatus::NotApplicable => "not_applicable",
            ValueStatus::ZeroDenominator => "zero_denominator",
            ValueStatus::NotAvailable => "not_available",
            ValueStatus::NoDefinition => "no_definition",
        }
    }
}

impl From<Status> for ValueStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Ok => ValueStatus::Ok,
            Status::Suppressed => ValueStatus::Suppressed,
            Status::NotAvailable => ValueStatus::NotAvailable,
            Status::NotApplicable => ValueStatus::NotApplicable,
            Status::Low => ValueStatus::Low,
            Status::Blank => ValueStatus::Blank,
        }
    }
}
