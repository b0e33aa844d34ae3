//! Every chart well-formed, deterministic and robust to degenerate input; samples to look at.

use super::core::*;
use super::*;
use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// Parse fully; panic on any XML error. Returns element count.
fn check_xml(s: &str) -> usize {
    let mut r = Reader::from_str(s);
    r.config_mut().check_end_names = true;
    let mut depth = 0i32;
    let mut elems = 0;
    let mut first = None;
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) => {
                first.get_or_insert_with(|| String::from_utf8_lossy(e.name().as_ref()).to_string());
                for a in e.attributes() {
                    a.expect("attribute");
                }
                depth += 1;
                elems += 1;
            }
            Ok(Event::Empty(e)) => {
                for a in e.attributes() {
                    a.expect("attribute");
                }
                elems += 1;
            }
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::GeneralRef(g)) => {
                let n = String::from_utf8_lossy(&g).to_string();
                assert!(
                    ["amp", "lt", "gt", "quot", "apos"].contains(&n.as_str()),
                    "entity {n}"
                );
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("XML error at {}: {e}\n{s}", r.buffer_position()),
        }
    }
    assert_eq!(depth, 0, "unbalanced");
    assert_eq!(first.as_deref(), Some("svg"));
    assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(s.ends_with("</svg>"));
    assert!(s.contains("<title>") && s.contains("role=\"img\"") && s.contains("viewBox="));
    assert!(s.contains("system-ui, sans-serif"));
    assert!(!s.to_lowercase().contains("<script"));
    assert!(
        !s.contains("NaN") && !s.contains("inf"),
        "non-finite number leaked"
    );
    let rest = s.replace("http://www.w3.org/2000/svg", "");
    assert!(!rest.contains("http"), "external URL");
    elems
}

fn all_ok(s: &str, must: &[&str]) {
    check_xml(s);
    for m in must {
        assert!(s.contains(m), "missing {m:?}");
    }
}

fn sample_trend(title: &str, k: usize) -> TrendChart {
    let names = ["Outstanding", "Good", "Requires improvement", "Inadequate"];
    let series = (0..k)
        .map(|s| TrendSeries {
            name: names[s % 4].to_string(),
            points: (2010..=2023)
                .map(|y| {
                    let t = (y - 2010) as f64;
                    let m = 520.0 + 12.0 * t + 25.0 * s as f64 + 20.0 * (t * 0.7).sin();
                    let m = if s == 1 && y == 2016 { f64::NAN } else { m };
                    TrendPoint {
                        year: y,
                        median: m,
                        q1: m - 80.0 - 4.0 * s as f64,
                        q3: m + 95.0,
                    }
                })
                .collect(),
        })
        .collect();
    TrendChart {
        title: title.to_string(),
        x_label: "Year ending 31 March".into(),
        y_label: "Referrals per 10,000 children".into(),
        series,
        breaks: vec![
            DefinitionBreak {
                year: 2013.5,
                label: "single assessment".into(),
            },
            DefinitionBreak {
                year: 2020.5,
                label: "COVID-19 & lockdown".into(),
            },
        ],
        width: 0.0,
        height: 0.0,
    }
}

fn sample_heat(n: usize, ann: bool) -> Heatmap {
    let labels: Vec<String> = (0..n).map(|i| format!("Indicator {i} <rate>")).collect();
    let values = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    if i == j {
                        1.0
                    } else {
                        ((i * 7 + j * 7) as f64 * 0.37).sin() * 0.9
                    }
                })
                .collect()
        })
        .collect();
    let annotations = ann.then(|| {
        (0..n)
            .map(|i| (0..n).map(|j| ((i + j) % 9) as u32).collect())
            .collect()
    });
    Heatmap {
        title: "Spearman correlations, 2014-2023".into(),
        labels,
        values,
        annotations,
        annotation_label: "years significant (p < 0.05)".into(),
        value_label: "Spearman rho".into(),
    }
}

fn sample_bar() -> BarChart {
    let bars = [
        ("Children in need rate", 0.42),
        ("Child protection plans", 0.31),
        ("Agency social workers %", 0.12),
        ("Spend per child (£)", -0.08),
        ("Caseload per worker", f64::NAN),
        ("Ofsted grade", -0.27),
    ]
    .iter()
    .map(|(l, v)| Bar {
        label: l.to_string(),
        value: *v,
    })
    .collect();
    BarChart {
        title: "Correlation with re-referrals".into(),
        x_label: "Spearman rho (unitless)".into(),
        bars,
        decimals: 2,
        plot_width: 0.0,
    }
}

fn sample_cv() -> CvCurve {
    let lambdas: Vec<f64> = (0..40).map(|i| 0.3 * (0.85f64).powi(i)).collect();
    let cvm: Vec<f64> = lambdas
        .iter()
        .map(|l| 1.2 + 0.6 * (l.ln() + 4.0).powi(2) / 10.0)
        .collect();
    let cvsd = vec![0.04; 40];
    CvCurve {
        title: "Elastic net: 10-fold cross-validation".into(),
        lambda_min: lambdas[25],
        lambda_1se: lambdas[19],
        lambdas,
        cvm,
        cvsd,
        y_label: "Binomial deviance".into(),
    }
}

fn sample_dag() -> Dag {
    let nd = |n: &str, k: &str, g: &str| DagNode {
        name: n.into(),
        kind: k.into(),
        group: g.into(),
    };
    let e = |a: &str, b: &str| (a.to_string(), b.to_string());
    Dag {
        title: "canary pipeline".into(),
        nodes: vec![
            nd("dfe_cin", "download", "source"),
            nd("dfe_cla", "download", "source"),
            nd("ofsted", "download", "source"),
            nd("clean_dfe", "parse + tidy", "clean"),
            nd("clean_other", "parse + tidy", "clean"),
            nd("harmonise", "join LA codes", "clean"),
            nd("trends", "descriptives", "statistics"),
            nd("spearman", "correlation", "statistics"),
            nd("glmnet", "elastic net", "statistics"),
            nd("report", "HTML", "report"),
        ],
        edges: vec![
            e("dfe_cin", "clean_dfe"),
            e("dfe_cla", "clean_dfe"),
            e("ofsted", "clean_other"),
            e("clean_dfe", "harmonise"),
            e("clean_other", "harmonise"),
            e("harmonise", "trends"),
            e("harmonise", "spearman"),
            e("harmonise", "glmnet"),
            e("trends", "report"),
            e("spearman", "report"),
            e("glmnet", "report"),
            e("ofsted", "report"),
        ],
    }
}

#[test]
fn nice_ticks_are_round() {
    let (_, _, t, s) = nice_ticks(0.13, 0.87, 5);
    assert_eq!(s, 0.2);
    assert_eq!(t.first().copied(), Some(0.0));
    assert!((t.last().unwrap() - 1.0).abs() < 1e-9);
    assert_eq!(nice_step(10.0, 4), 2.5);
    assert_eq!(tick_label(2.5, 2.5), "2.5");
    assert_eq!(tick_label(-0.0000001, 0.2), "0.0");
    let (a, b, t, _) = nice_ticks(5.0, 5.0, 5);
    assert!(a < 5.0 && b > 5.0 && t.len() >= 2);
    let (a, b, _, _) = nice_ticks(f64::NAN, 1.0, 5);
    assert!(a < b);
}

#[test]
fn escaping() {
    assert_eq!(esc(r#"a&b<c>"d'"#), "a&amp;b&lt;c&gt;&quot;d&apos;");
    assert_eq!(f(-0.0001), "0.00");
    assert_eq!(f(f64::NAN), "0.00");
}

#[test]
fn trend_chart_realistic() {
    let c = sample_trend("Referrals <per> 10k & \"rate\"", 3);
    let s = trend_chart(&c);
    all_ok(
        &s,
        &[
            "Referrals per 10,000 children",
            "Year ending 31 March",
            "Outstanding",
            "Requires improvement",
            "single assessment",
            "COVID-19 &amp; lockdown",
            "&lt;per&gt;",
            "stroke-dasharray",
        ],
    );
    assert_eq!(s, trend_chart(&c));
    let one = sample_trend("Single", 1);
    all_ok(&trend_chart(&one), &["Outstanding (median)", "IQR"]);
}

#[test]
fn trend_grid_realistic() {
    let charts: Vec<TrendChart> = (0..5)
        .map(|i| sample_trend(&format!("Indicator {i}"), 1 + i % 2))
        .collect();
    let s = trend_grid(&charts, 3);
    all_ok(&s, &["Indicator 0", "Indicator 4", "translate("]);
    assert_eq!(s, trend_grid(&charts, 3));
    check_xml(&trend_grid(&charts, 0));
    check_xml(&trend_grid(&[], 2));
}

#[test]
fn trend_degenerate() {
    let mut c = sample_trend("x", 2);
    c.series.clear();
    c.breaks.clear();
    all_ok(&trend_chart(&c), &["no data"]);
    c.series = vec![TrendSeries {
        name: "one".into(),
        points: vec![TrendPoint {
            year: 2015,
            median: 3.0,
            q1: 3.0,
            q3: 3.0,
        }],
    }];
    check_xml(&trend_chart(&c));
    c.series[0].points = vec![TrendPoint {
        year: 2015,
        median: f64::NAN,
        q1: f64::NAN,
        q3: f64::NAN,
    }];
    all_ok(&trend_chart(&c), &["no data"]);
    c.series[0].points = (2010..2015)
        .map(|y| TrendPoint {
            year: y,
            median: 7.0,
            q1: 7.0,
            q3: 7.0,
        })
        .collect();
    c.breaks = vec![
        DefinitionBreak {
            year: f64::NAN,
            label: "bad".into(),
        },
        DefinitionBreak {
            year: 2030.0,
            label: "late".into(),
        },
    ];
    check_xml(&trend_chart(&c));
    c.width = f64::NAN;
    c.height = -5.0;
    check_xml(&trend_chart(&c));
    c.series[0].points.push(TrendPoint {
        year: 2011,
        median: f64::INFINITY,
        q1: 1.0,
        q3: f64::NEG_INFINITY,
    });
    check_xml(&trend_chart(&c));
}

#[test]
fn heatmap_realistic() {
    let h = sample_heat(12, true);
    let s = heatmap(&h);
    all_ok(
        &s,
        &[
            "Spearman rho",
            "Indicator 11 &lt;rate&gt;",
            "years significant",
            "rotate(-45",
            "1.0",
        ],
    );
    assert_eq!(s, heatmap(&h));
    // big matrix: no printed values, dots for annotations
    let big = heatmap(&sample_heat(60, true));
    all_ok(&big, &["Dot in cell"]);
    check_xml(&heatmap(&sample_heat(8, false)));
    // the two chart ids differ when titles differ
    let mut h2 = h.clone();
    h2.title = "other".into();
    assert_ne!(idp("heat", &h.title), idp("heat", &h2.title));
}

#[test]
fn heatmap_degenerate() {
    check_xml(&heatmap(&Heatmap::default()));
    let mut h = sample_heat(3, true);
    h.values = vec![vec![f64::NAN, 2.0], vec![]];
    h.annotations = Some(vec![]);
    check_xml(&heatmap(&h));
    let mut h = sample_heat(1, false);
    h.values = vec![vec![0.5]];
    check_xml(&heatmap(&h));
}

#[test]
fn bar_realistic_and_degenerate() {
    let b = sample_bar();
    let s = bar_chart(&b);
    all_ok(
        &s,
        &[
            "Spearman rho (unitless)",
            "Spend per child (£)",
            "-0.27",
            "0.42",
            "n/a",
        ],
    );
    assert_eq!(s, bar_chart(&b));
    check_xml(&bar_chart(&BarChart::default()));
    let mut b2 = b.clone();
    b2.bars = vec![Bar {
        label: "only".into(),
        value: 0.0,
    }];
    check_xml(&bar_chart(&b2));
    b2.bars = vec![
        Bar {
            label: "nan".into(),
            value: f64::NAN,
        },
        Bar {
            label: "neg".into(),
            value: -3.0,
        },
    ];
    check_xml(&bar_chart(&b2));
    b2.bars = vec![
        Bar {
            label: "a".into(),
            value: 5.0,
        },
        Bar {
            label: "b".into(),
            value: 5.0,
        },
    ];
    check_xml(&bar_chart(&b2));
}

#[test]
fn cv_realistic_and_degenerate() {
    let c = sample_cv();
    let s = cv_curve(&c);
    all_ok(
        &s,
        &[
            "log(lambda)",
            "Binomial deviance",
            "lambda.min",
            "lambda.1se",
            "± 1 SD",
        ],
    );
    assert_eq!(s, cv_curve(&c));
    check_xml(&cv_curve(&CvCurve::default()));
    let mut c2 = c.clone();
    c2.lambdas = vec![0.1];
    c2.cvm = vec![1.0];
    c2.cvsd = vec![];
    c2.lambda_min = f64::NAN;
    c2.lambda_1se = -1.0;
    check_xml(&cv_curve(&c2));
    c2.lambdas = vec![0.1, 0.0, f64::NAN, 0.05];
    c2.cvm = vec![1.0, 1.0, 1.0, 1.0];
    c2.cvsd = vec![0.0, f64::NAN, 0.1, f64::NAN];
    check_xml(&cv_curve(&c2));
}

#[test]
fn dag_realistic_and_degenerate() {
    let d = sample_dag();
    let s = dag(&d);
    all_ok(
        &s,
        &[
            "href=\"#stage-harmonise\"",
            "elastic net",
            "<marker id=\"canary-dag-",
            "marker-end=\"url(#canary-dag-",
            "statistics",
            "source",
        ],
    );
    assert_eq!(s, dag(&d));
    // layering: report is in the last layer (longest path 3 from sources)
    let pos = |n: &str| s.find(&format!("#stage-{n}\"")).unwrap();
    assert!(pos("clean_dfe") < pos("harmonise") && pos("harmonise") < pos("glmnet"));
    check_xml(&dag(&Dag::default()));
    let mut cyc = d.clone();
    cyc.edges.push(("report".into(), "dfe_cin".into()));
    cyc.edges.push(("glmnet".into(), "glmnet".into()));
    cyc.edges.push(("nope".into(), "glmnet".into()));
    cyc.nodes.push(DagNode {
        name: "glmnet".into(),
        kind: "dup".into(),
        group: "x".into(),
    });
    check_xml(&dag(&cyc));
    let single = Dag {
        title: "t".into(),
        nodes: vec![DagNode {
            name: "a&b".into(),
            kind: String::new(),
            group: String::new(),
        }],
        edges: vec![],
    };
    all_ok(&dag(&single), &["#stage-a&amp;b"]);
}

/// Writes a sample of each chart, well-formed, into CHARTS_SAMPLES_DIR when it is set
/// (to look at them), else into a temporary folder.
#[test]
fn write_samples() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("CHARTS_SAMPLES_DIR")
        .map_or_else(|| tmp.path().to_path_buf(), std::path::PathBuf::from);
    let dir = dir.as_path();
    std::fs::create_dir_all(dir).unwrap();
    let charts: Vec<TrendChart> = (0..4)
        .map(|i| sample_trend(&format!("Indicator {i}"), 1 + i % 2))
        .collect();
    let files = [
        (
            "trend.svg",
            trend_chart(&sample_trend("Referrals per 10,000", 3)),
        ),
        ("trend_grid.svg", trend_grid(&charts, 2)),
        ("heatmap.svg", heatmap(&sample_heat(12, true))),
        ("heatmap_big.svg", heatmap(&sample_heat(40, true))),
        ("bar.svg", bar_chart(&sample_bar())),
        ("cv.svg", cv_curve(&sample_cv())),
        ("dag.svg", dag(&sample_dag())),
        ("shares.svg", share_chart(&sample_shares())),
        ("empty.svg", trend_chart(&TrendChart::default())),
    ];
    for (n, s) in files {
        check_xml(&s);
        assert!(
            s.starts_with("<svg") && s.trim_end().ends_with("</svg>"),
            "{n}"
        );
        std::fs::write(dir.join(n), &s).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join(n)).unwrap(), s, "{n}");
    }
}

fn sample_shares() -> ShareChart {
    let row = |l: &str, a: usize, b: usize| ShareRow {
        label: l.into(),
        shares: vec![Share { count: a, of: 50 }, Share { count: b, of: 40 }],
    };
    ShareChart {
        title: "How often each predictor is selected at lambda.min, across the sweep's fits".into(),
        x_label: "% of fits".into(),
        series: vec!["missing: median".into(), "missing: drop".into()],
        rows: vec![
            row("re_referrals_pct", 30, 10),
            row("s47_rate <x>", 5, 0),
            row("agency_rate_pct", 0, 0),
        ],
    }
}

#[test]
fn shares_realistic_and_degenerate() {
    let c = sample_shares();
    let s = share_chart(&c);
    all_ok(
        &s,
        &[
            "60% (30/50)",
            "25% (10/40)",
            "0% (0/40)",
            "100%",
            "missing: drop",
            "s47_rate &lt;x&gt;",
            "-p1)",
        ],
    );
    assert_eq!(s, share_chart(&c));
    check_xml(&share_chart(&ShareChart::default()));
    let mut one = c.clone();
    one.series = vec![];
    one.rows = vec![ShareRow {
        label: "x".into(),
        shares: vec![Share { count: 0, of: 0 }],
    }];
    all_ok(&share_chart(&one), &["n/a"]);
}

/// Long titles wrap onto further lines instead of being cut, and the plot moves down.
#[test]
fn long_titles_wrap() {
    let long =
        "Referrals with no further action or not found to be a child in need, % of referrals";
    assert!(wrap(long, 300.0, 13.0).len() >= 2);
    assert_eq!(
        wrap(long, 300.0, 13.0).join(" "),
        long,
        "every word kept, in order"
    );
    assert_eq!(wrap("", 100.0, 13.0), Vec::<String>::new());
    assert_eq!(
        wrap("supercalifragilistic", 10.0, 13.0),
        vec!["supercalifragilistic"]
    );
    let mut c = sample_trend(long, 1);
    c.width = 360.0;
    c.height = 260.0;
    let s = trend_chart(&c);
    check_xml(&s);
    assert!(!s.contains('…'));
    let title_lines = s.matches(r#"font-size="13" font-weight="bold""#).count();
    assert!(title_lines >= 2, "{title_lines} title lines");
    let short = trend_chart(&sample_trend("Short", 1));
    assert_eq!(
        short
            .matches(r#"font-size="13" font-weight="bold""#)
            .count(),
        1
    );
}

/// An axis of values that are never negative does not reach below 0.
#[test]
fn axes_of_non_negative_values_start_at_zero_at_the_lowest() {
    for (lo, hi) in [
        (0.0, 30.0),
        (0.0, 0.9),
        (0.0, 0.0),
        (2.0, 2.0),
        (0.13, 0.87),
        (0.0, 100.0),
        (1e-9, 5.0),
    ] {
        let (a, _, ticks, _) = nice_ticks(lo, hi, 5);
        assert!(
            a >= 0.0 && ticks.iter().all(|t| *t >= 0.0),
            "{lo}..{hi}: {ticks:?}"
        );
    }
    let (a, _, _, _) = nice_ticks(-3.0, 10.0, 5);
    assert!(a < 0.0, "negative data keep a negative axis");
    // A trend of percentages from 0: no tick label below 0.
    let c = TrendChart {
        title: "pct".into(),
        series: vec![TrendSeries {
            name: "all".into(),
            points: (2010..2015)
                .map(|y| TrendPoint {
                    year: y,
                    median: (y - 2010) as f64 * 5.0,
                    q1: 0.0,
                    q3: 30.0,
                })
                .collect(),
        }],
        ..Default::default()
    };
    let s = trend_chart(&c);
    assert!(!s.contains(">-"), "a tick below 0: {s}");
    let b = bar_chart(&BarChart {
        title: "b".into(),
        bars: vec![Bar {
            label: "a".into(),
            value: 0.4,
        }],
        ..Default::default()
    });
    assert!(!b.contains(">-0"), "{b}");
}
