//! What order-independent float aggregates cost (`session::exact_aggregates`): 10M floats of
//! very different magnitudes in 2,280 groups, on 2 partitions, DataFusion's builtin `sum`,
//! `avg`, `var_samp` against canary's exact ones; best of 3 per query.
//!
//! `cargo bench --bench exact_aggregates`

use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};

fn main() {
    let rows = 10_000_000usize;
    let mut state: u64 = 3;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("g", DataType::Int64, false),
        Field::new("x", DataType::Float64, false),
    ]));
    let mut parts = vec![Vec::new(), Vec::new()];
    let mut start = 0;
    while start < rows {
        let len = 8192.min(rows - start);
        let g: Vec<i64> = (0..len).map(|_| (next() % 2280) as i64).collect();
        let x: Vec<f64> = (0..len)
            .map(|_| {
                ((next() >> 11) as f64 / (1u64 << 53) as f64 - 0.3)
                    * 10f64.powi((next() % 13) as i32 - 6)
            })
            .collect();
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(g)),
            Arc::new(Float64Array::from(x)),
        ];
        parts[(start / 8192) % 2].push(RecordBatch::try_new(Arc::clone(&schema), cols).unwrap());
        start += len;
    }
    let table = Arc::new(MemTable::try_new(schema, parts).unwrap());
    let rt = canary::session::runtime().unwrap();
    for sql in [
        "SELECT g, sum(x) FROM t GROUP BY g",
        "SELECT g, avg(x), var_samp(x) FROM t GROUP BY g",
        "SELECT sum(x) FROM t",
    ] {
        let mut line = format!("{sql:<50}");
        for exact in [false, true] {
            let ctx =
                SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
            if exact {
                canary::session::exact_aggregates::register(&ctx);
            }
            ctx.register_table("t", Arc::clone(&table) as _).unwrap();
            let best = (0..3)
                .map(|_| {
                    let t = Instant::now();
                    rt.block_on(async { ctx.sql(sql).await.unwrap().collect().await.unwrap() });
                    t.elapsed()
                })
                .min()
                .unwrap();
            line.push_str(&format!(
                "  {}: {:>8.1} ms",
                if exact { "exact" } else { "builtin" },
                best.as_secs_f64() * 1e3
            ));
        }
        println!("{line}");
    }
}
