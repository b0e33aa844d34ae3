//! Integration tests over the real IoD upper-tier workbooks the study reads (`raw/deprivation/`).
use canary_clean::deprivation::*;
use canary_clean::tidy::Status;
use std::collections::BTreeSet;

use crate::common::raw;

#[test]
fn iod_2015_and_2019() {
    for (rel, year, n_la) in [
        ("deprivation/imd-2015.xlsx", 2015, 152),
        ("deprivation/imd-2019.xlsx", 2019, 151),
    ] {
        let (f, b) = raw(rel);
        let rows = parse_iod_upper_tier("iod", &f, &b, year).unwrap();
        let las: BTreeSet<_> = rows.iter().map(|r| r.la_code.clone().unwrap()).collect();
        let measures: BTreeSet<_> = rows.iter().map(|r| r.measure.clone()).collect();
        eprintln!(
            "{rel}: {} rows, {} LAs, {} measures",
            rows.len(),
            las.len(),
            measures.len()
        );
        assert_eq!(las.len(), n_la);
        assert!(rows.iter().all(|r| r.status == Status::Ok));
        for m in [
            "idaci_average_score",
            "idaci_rank_of_average_score",
            "imd_average_score",
            "imd_rank_of_average_score",
            "income_scale",
            "income_rank_of_scale",
            "imd_local_concentration",
        ] {
            assert!(measures.contains(m), "{rel}: {m} missing from {measures:?}");
        }
        let v = |code: &str, m: &str| {
            rows.iter()
                .find(|r| r.la_code.as_deref() == Some(code) && r.measure == m)
                .unwrap()
                .value
                .unwrap()
        };
        // Middlesbrough (E06000002): hand-read from the workbooks
        if year == 2015 {
            assert_eq!(v("E06000002", "idaci_average_score"), 0.357);
            assert_eq!(v("E06000002", "imd_average_score"), 40.216);
        } else {
            assert_eq!(v("E06000002", "idaci_average_score"), 0.327);
            assert_eq!(v("E06000002", "idaci_rank_of_average_score"), 1.0);
        }
        assert_eq!(measures.len(), 10 + 8 + 8 + 7 * 6);
    }
}
