//! Times all-pairs Spearman tests for 60 indicators x 150 local authorities
//! x 15 years (the canary workload), on deterministic synthetic data with
//! ties and some missing values. Run with `cargo bench --bench spearman_all_pairs`.

use canary::stats::spearman::{spearman_all_pairs, Alternative};
use std::time::Instant;

const INDICATORS: usize = 60;
const LAS: usize = 150;
const YEARS: usize = 15;

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unif(state: &mut u64) -> f64 {
    (splitmix(state) >> 11) as f64 / (1u64 << 53) as f64
}

/// data[year][indicator][la]; a shared latent factor gives real correlations,
/// every 5th indicator is rounded (ties) and every 7th has ~5% missing.
fn make_data() -> Vec<Vec<Vec<f64>>> {
    let mut st = 2024u64;
    (0..YEARS)
        .map(|_| {
            let latent: Vec<f64> = (0..LAS).map(|_| unif(&mut st)).collect();
            (0..INDICATORS)
                .map(|k| {
                    let load = (k as f64 / INDICATORS as f64) * 2.0 - 1.0;
                    (0..LAS)
                        .map(|i| {
                            let v = load * latent[i] + 0.5 * unif(&mut st);
                            if k % 7 == 3 && splitmix(&mut st).is_multiple_of(20) {
                                f64::NAN
                            } else if k % 5 == 0 {
                                (v * 10.0).round()
                            } else {
                                v
                            }
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

fn main() {
    let data = make_data();
    let mut best = f64::INFINITY;
    let mut checksum = 0.0;
    let mut pairs = 0;
    for _ in 0..5 {
        let start = Instant::now();
        checksum = 0.0;
        pairs = 0;
        for year in &data {
            let cols: Vec<&[f64]> = year.iter().map(|c| c.as_slice()).collect();
            for t in spearman_all_pairs(&cols, Alternative::TwoSided)
                .into_iter()
                .flatten()
            {
                checksum += t.rho + t.p_value;
                pairs += 1;
            }
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "all-pairs Spearman: {INDICATORS} indicators x {LAS} LAs x {YEARS} years = {pairs} tests, best of 5: {:.1} ms (checksum {checksum:.6})",
        best * 1e3
    );
}
