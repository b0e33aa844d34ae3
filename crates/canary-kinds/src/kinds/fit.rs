//! `fit`: the study's model — a binomial elastic net as R's glmnet fits it, its lambda chosen by
//! cv.glmnet on folds drawn from a `seed` and written out, so a reviewer can re-run R on
//! `model_design` with the same `foldid` and get the same numbers.
//!
//! The input is one table with an id column, the 0/1 outcome and the predictor columns (a SQL
//! stage assembles it from the panel and the Ofsted outcomes).
//!
//! Beside the cross-validated choice (lambda.min, lambda.1se) it describes the path itself:
//! the order in which predictors enter (`entry`), and the fit at the paper's sparsity — the
//! largest lambda with as many non-zero predictors as the paper's model has among the
//! predictors given here (`paper_terms`). That fit is *not* chosen by cross-validation; it is
//! what the data say at the paper's level of sparsity, and the stated fallback of Table 3.

use crate::pipeline::KindSpec;
use crate::stage::columns::{Column, TableBuilder, TableData};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::params::{self, int, KindParams};
use crate::pipeline::Stage;
use crate::stage::TableDoc;
use crate::stage::{OutputTable, StageContext, StageKind};
use crate::stats::classification::{mean_deviance, prevalence, Confusion};
use crate::stats::early_warning::auc;
use crate::stats::glmnet::{assign_folds, cv_binomial, BinomialParams, CvFit, CvMeasure, Matrix};

pub struct Fit;

const TABLES: [&str; 7] = [
    "design",
    "path",
    "coefficients",
    "predictions",
    "summary",
    "entry",
    "assessment",
];

/// The params of a `fit` stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FitParams {
    /// the 0/1 outcome column
    pub outcome: String,
    /// the predictor columns
    pub predictors: Vec<String>,
    /// the column naming each row
    #[serde(default = "params::la_code")]
    pub id: String,
    /// elastic-net mixing: 1 lasso, 0 ridge
    #[schemars(range(min = 0.0, max = 1.0))]
    pub alpha: f64,
    /// cross-validation folds, at least 3 as in cv.glmnet
    #[serde(default = "int::<10>")]
    #[schemars(range(min = 3))]
    pub nfolds: i64,
    /// seed for the fold assignment
    pub seed: u64,
    /// length of the lambda path
    #[serde(default = "int::<100>")]
    #[schemars(range(min = 1))]
    pub nlambda: i64,
    /// smallest lambda as a fraction of the largest (none: R's, 0.01 when there are fewer rows
    /// than predictors, else 1e-4)
    #[schemars(range(min = 0.0, max = 1.0))]
    pub lambda_min_ratio: Option<f64>,
    /// the loss cross-validation minimises
    #[serde(default)]
    pub measure: Measure,
    /// probability above which an LA is predicted positive
    #[serde(default = "params::half")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub threshold: f64,
    /// rows with a missing predictor
    #[serde(default)]
    pub missing: Missing,
    /// the published model's predictors: the fit at their number among `predictors` is
    /// reported as the paper's sparsity
    pub paper_terms: Option<Vec<String>>,
    /// which tables to write (none: all of design, path, coefficients, predictions, summary,
    /// entry, assessment)
    pub tables: Option<Vec<FitTable>>,
}

/// cv.glmnet's `type.measure`.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    /// binomial deviance
    #[default]
    Deviance,
    /// misclassification rate
    Class,
    /// mean squared error
    Mse,
    /// mean absolute error
    Mae,
    /// area under the ROC curve
    Auc,
}

impl From<Measure> for CvMeasure {
    fn from(m: Measure) -> CvMeasure {
        match m {
            Measure::Deviance => CvMeasure::Deviance,
            Measure::Class => CvMeasure::Class,
            Measure::Mse => CvMeasure::Mse,
            Measure::Mae => CvMeasure::Mae,
            Measure::Auc => CvMeasure::Auc,
        }
    }
}

/// What to do with a row that lacks a predictor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Missing {
    /// leave the row out, as R does
    #[default]
    Drop,
    /// impute the predictor's median and flag the row
    Median,
}

/// A table `fit` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FitTable {
    Design,
    Path,
    Coefficients,
    Predictions,
    Summary,
    Entry,
    Assessment,
}

impl FitTable {
    fn name(self) -> &'static str {
        TABLES[self as usize]
    }
}

impl KindSpec for Fit {
    fn params(&self) -> &KindParams {
        static P: params::Lazy = params::Lazy::new(KindParams::of::<FitParams>);
        &P
    }

    fn tables(&self, stage: &Stage) -> Vec<String> {
        let chosen = stage.params_as::<FitParams>().ok().and_then(|p| p.tables);
        match chosen {
            Some(list) => TABLES
                .iter()
                .filter(|t| list.iter().any(|c| c.name() == **t))
                .map(|t| t.to_string())
                .collect(),
            None => TABLES.map(String::from).to_vec(),
        }
    }
}

impl StageKind for Fit {
    fn name(&self) -> &'static str {
        "fit"
    }

    fn version(&self) -> u32 {
        3
    }

    fn describe(&self) -> &'static str {
        "binomial elastic net with cross-validated lambda, matching R glmnet / cv.glmnet"
    }

    fn outputs(&self) -> &'static [TableDoc] {
        &[
            TableDoc {
                name: "assessment",
                columns: &[
                    "fit",
                    "rule",
                    "sample",
                    "threshold",
                    "tp",
                    "fp",
                    "tn",
                    "fn",
                    "sensitivity",
                    "specificity",
                ],
            },
            TableDoc {
                name: "coefficients",
                columns: &["term", "choice", "coefficient"],
            },
            TableDoc {
                name: "design",
                columns: &[
                    "la_code",
                    "fold",
                    "outcome",
                    "<one per predictor>",
                    "imputed",
                ],
            },
            TableDoc {
                name: "entry",
                columns: &[
                    "term",
                    "entry_order",
                    "entry_step",
                    "entry_lambda",
                    "sign_at_entry",
                ],
            },
            TableDoc {
                name: "path",
                columns: &["step", "lambda", "df", "dev_ratio", "cvm", "cvsd"],
            },
            TableDoc {
                name: "predictions",
                columns: &[
                    "la_code",
                    "fold",
                    "observed",
                    "probability",
                    "oof_probability",
                    "sparse_probability",
                    "sparse_oof_probability",
                ],
            },
            TableDoc {
                name: "summary",
                columns: &[
                    "alpha",
                    "n",
                    "n_dropped",
                    "n_imputed",
                    "n_positive",
                    "nfolds",
                    "seed",
                    "measure",
                    "lambda_min",
                    "lambda_1se",
                    "nonzero",
                    "terms",
                    "intercept_only",
                    "dev_ratio",
                    "dev_ratio_1se",
                    "null_deviance",
                    "cv_deviance",
                    "cv_auc",
                    "threshold",
                    "tp",
                    "fp",
                    "tn",
                    "fn",
                    "sensitivity",
                    "specificity",
                    "cv_tp",
                    "cv_fp",
                    "cv_tn",
                    "cv_fn",
                    "cv_sensitivity",
                    "cv_specificity",
                    "sparsity_target",
                    "sparse_lambda",
                    "sparse_df",
                    "sparse_terms",
                    "sparse_dev_ratio",
                ],
            },
        ]
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let p: FitParams = ctx.params()?;
        let data = ModelData::read(ctx, &p)?;
        let fitted = Fitted::fit(ctx, &p, &data)?;
        let wanted = self.tables(ctx.stage);
        let mut out = Vec::new();
        for t in &wanted {
            out.push(match t.as_str() {
                "design" => fitted.design(&data)?,
                "path" => fitted.path_table()?,
                "coefficients" => fitted.coefficients(&data)?,
                "predictions" => fitted.predictions(&data)?,
                "summary" => fitted.summary(&data)?,
                "entry" => fitted.entry(&data)?,
                _ => fitted.assessment(&data)?,
            });
        }
        Ok(out)
    }
}

/// The model's rows as fitted: ids in order, the outcome, the design matrix's columns.
struct ModelData {
    input: String,
    predictors: Vec<String>,
    ids: Vec<String>,
    y: Vec<f64>,
    x_cols: Vec<Vec<f64>>,
    imputed: Vec<bool>,
    dropped: usize,
}

impl ModelData {
    fn read(ctx: &StageContext, p: &FitParams) -> Result<ModelData> {
        let input = ctx
            .stage
            .inputs
            .first()
            .ok_or_else(|| ctx.fail("needs the model's data as its input"))?
            .clone();
        let (schema, batches) = ctx.read_table(&input, None)?;
        let t = TableData::new(&format!("input `{input}`"), schema, &batches)?;
        let (id_col, outcome_col, missing) = (p.id.as_str(), p.outcome.as_str(), p.missing);
        let predictors = p.predictors.clone();

        let ids = t.strings(id_col)?;
        let outcome = t.f64s(outcome_col)?;
        let columns: Vec<Vec<Option<f64>>> = predictors
            .iter()
            .map(|p| t.f64s(p))
            .collect::<Result<_>>()?;
        // A predictor with no value at all cannot be imputed or fitted: say which.
        for (p, c) in predictors.iter().zip(&columns) {
            if !c.iter().any(|v| v.is_some_and(f64::is_finite)) {
                return Err(ctx
                    .fail(format!("predictor `{p}` has no value in any row of `{input}`"))
                    .with_hint("remove it from the stage's `predictors`, or choose a year the indicator is published for"));
            }
        }
        let medians: Vec<f64> = columns
            .iter()
            .map(|c| {
                crate::stats::quantile::median(
                    &c.iter()
                        .flatten()
                        .copied()
                        .filter(|v| v.is_finite())
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        // Rows in id order, so the design (and the folds drawn over it) do not depend on the
        // order the input happened to have.
        let mut order: Vec<usize> = (0..t.rows()).collect();
        order.sort_by(|a, b| ids[*a].cmp(&ids[*b]));
        let mut d = ModelData {
            input,
            predictors,
            ids: Vec::new(),
            y: Vec::new(),
            x_cols: vec![Vec::new(); columns.len()],
            imputed: Vec::new(),
            dropped: 0,
        };
        for i in order {
            let Some(y) = outcome[i] else {
                d.dropped += 1;
                continue;
            };
            if y != 0.0 && y != 1.0 {
                return Err(ctx.fail(format!(
                    "outcome `{outcome_col}` must be 0 or 1, but row `{}` has {y}",
                    ids[i].as_deref().unwrap_or("?")
                )));
            }
            let any_missing = columns.iter().any(|c| c[i].is_none_or(|v| !v.is_finite()));
            if any_missing && missing == Missing::Drop {
                d.dropped += 1;
                continue;
            }
            d.ids.push(ids[i].clone().unwrap_or_default());
            d.y.push(y);
            d.imputed.push(any_missing);
            for (j, c) in columns.iter().enumerate() {
                d.x_cols[j].push(c[i].filter(|v| v.is_finite()).unwrap_or(medians[j]));
            }
        }
        Ok(d)
    }

    fn n(&self) -> usize {
        self.y.len()
    }
}

/// The cross-validated path and what the tables report of it.
struct Fitted {
    x: Matrix,
    alpha: f64,
    nfolds: usize,
    seed: u64,
    threshold: f64,
    measure: CvMeasure,
    folds: Vec<usize>,
    cv: CvFit,
    /// In-sample probabilities at lambda.min and the paper's sparsity.
    prob_min: Vec<f64>,
    /// The paper's predictors among ours: how many, and the step of the fit with that many.
    sparsity_target: Option<usize>,
    sparse: Option<usize>,
    prob_sparse: Option<Vec<f64>>,
}

impl Fitted {
    fn fit(ctx: &StageContext, p: &FitParams, d: &ModelData) -> Result<Fitted> {
        let x = Matrix::from_columns(&d.x_cols).map_err(|e| ctx.fail(e.to_string()))?;
        let nfolds = p.nfolds as usize;
        if d.n() < nfolds {
            return Err(ctx.fail(format!("has {} rows to fit, fewer than its {nfolds} folds", d.n())).with_hint(format!(
                "lower `nfolds`, or use `missing: median` instead of dropping rows with a missing predictor (input `{}`)",
                d.input
            )));
        }
        let seed = p.seed;
        let folds = assign_folds(d.n(), nfolds, seed);
        let params = BinomialParams {
            alpha: p.alpha,
            nlambda: p.nlambda as usize,
            lambda_min_ratio: p.lambda_min_ratio,
            ..BinomialParams::default()
        };
        let m = CvMeasure::from(p.measure);
        let cv = cv_binomial(&x, &d.y, &folds, &params, m).map_err(|e| {
            ctx.fail(format!("the elastic net could not be fitted: {e}"))
                .with_hint("check the model's input rows and predictors; `canary sql \"select * from model_design\"` shows what was used")
        })?;
        let prob_min = cv
            .path
            .predict_prob(&x, cv.index_min)
            .map_err(|e| ctx.fail(e.to_string()))?;
        let sparsity_target = p
            .paper_terms
            .as_ref()
            .map(|paper| d.predictors.iter().filter(|t| paper.contains(t)).count());
        let sparse = sparsity_target.and_then(|k| cv.path.sparsest_with(k));
        let prob_sparse = match sparse {
            Some(s) => Some(
                cv.path
                    .predict_prob(&x, s)
                    .map_err(|e| ctx.fail(e.to_string()))?,
            ),
            None => None,
        };
        Ok(Fitted {
            x,
            alpha: params.alpha,
            nfolds,
            seed,
            threshold: p.threshold,
            measure: m,
            folds,
            cv,
            prob_min,
            sparsity_target,
            sparse,
            prob_sparse,
        })
    }

    fn oof(&self, step: usize) -> Vec<f64> {
        (0..self.folds.len())
            .map(|i| self.cv.oof_prob.get(i, step))
            .collect()
    }

    /// The fits the tables describe: label and path step.
    fn choices(&self) -> Vec<(&'static str, usize)> {
        let mut c = vec![
            ("lambda.min", self.cv.index_min),
            ("lambda.1se", self.cv.index_1se),
        ];
        if let Some(s) = self.sparse {
            c.push(("paper_sparsity", s));
        }
        c
    }

    fn nonzero<'d>(&self, d: &'d ModelData, step: usize) -> Vec<&'d str> {
        d.predictors
            .iter()
            .zip(&self.cv.path.beta[step])
            .filter(|(_, b)| **b != 0.0)
            .map(|(p, _)| p.as_str())
            .collect()
    }

    fn design(&self, d: &ModelData) -> Result<OutputTable> {
        let mut t = TableBuilder::new()
            .str("la_code", d.ids.clone())
            .i64("fold", self.folds.iter().map(|f| *f as i64 + 1).collect())
            .i64("outcome", d.y.iter().map(|v| *v as i64).collect());
        for (p, col) in d.predictors.iter().zip(&d.x_cols) {
            t = t.f64(p, col.iter().map(|v| Some(*v)).collect());
        }
        t.bool("imputed", d.imputed.iter().map(|b| Some(*b)).collect())
            .build(Some("design"))
    }

    /// cv numbers at every lambda of the full-data path.
    fn path_table(&self) -> Result<OutputTable> {
        let (cv, path) = (&self.cv, &self.cv.path);
        TableBuilder::new()
            .i64("step", (1..=cv.lambda.len() as i64).collect())
            .f64("lambda", cv.lambda.iter().map(|v| Some(*v)).collect())
            .i64("df", path.df.iter().map(|d| *d as i64).collect())
            .f64(
                "dev_ratio",
                path.dev_ratio.iter().map(|v| Some(*v)).collect(),
            )
            .f64("cvm", cv.cvm.iter().map(|v| Some(*v)).collect())
            .f64("cvsd", cv.cvsd.iter().map(|v| Some(*v)).collect())
            .build(Some("path"))
    }

    /// Coefficients of every fit in `choices`, every predictor listed.
    fn coefficients(&self, d: &ModelData) -> Result<OutputTable> {
        let path = &self.cv.path;
        let (mut terms, mut choice, mut coef) = (Vec::new(), Vec::new(), Vec::new());
        for (label, idx) in self.choices() {
            terms.push("(Intercept)".to_string());
            choice.push(label.to_string());
            coef.push(Some(path.a0[idx]));
            for (j, p) in d.predictors.iter().enumerate() {
                terms.push(p.clone());
                choice.push(label.to_string());
                coef.push(Some(path.beta[idx][j]));
            }
        }
        TableBuilder::new()
            .str("term", terms)
            .str("choice", choice)
            .f64("coefficient", coef)
            .build(Some("coefficients"))
    }

    /// Probabilities at lambda.min (in sample and out of fold) and at the paper's sparsity.
    fn predictions(&self, d: &ModelData) -> Result<OutputTable> {
        let some = |v: &[f64]| v.iter().map(|p| Some(*p)).collect::<Vec<_>>();
        let none = || vec![None; d.n()];
        TableBuilder::new()
            .str("la_code", d.ids.clone())
            .i64("fold", self.folds.iter().map(|f| *f as i64 + 1).collect())
            .i64("observed", d.y.iter().map(|v| *v as i64).collect())
            .f64("probability", some(&self.prob_min))
            .f64("oof_probability", some(&self.oof(self.cv.index_min)))
            .f64(
                "sparse_probability",
                self.prob_sparse.as_deref().map(some).unwrap_or_else(none),
            )
            .f64(
                "sparse_oof_probability",
                self.sparse.map(|s| some(&self.oof(s))).unwrap_or_else(none),
            )
            .build(Some("predictions"))
    }

    /// The predictors in the order the path lets them in.
    fn entry(&self, d: &ModelData) -> Result<OutputTable> {
        let steps = self.cv.path.entry_steps();
        let mut order: Vec<usize> = (0..d.predictors.len())
            .filter(|j| steps[*j].is_some())
            .collect();
        order.sort_by_key(|j| (steps[*j], *j));
        let rank = |j: usize| order.iter().position(|o| *o == j).map(|r| r as i64 + 1);
        let at = |j: usize, f: &dyn Fn(usize) -> f64| steps[j].map(&f);
        let lambda = |s: usize| self.cv.lambda[s];
        TableBuilder::new()
            .str("term", d.predictors.clone())
            .col(
                "entry_order",
                Column::I64((0..d.predictors.len()).map(rank).collect()),
                true,
            )
            .col(
                "entry_step",
                Column::I64(steps.iter().map(|s| s.map(|s| s as i64 + 1)).collect()),
                true,
            )
            .f64(
                "entry_lambda",
                (0..d.predictors.len()).map(|j| at(j, &lambda)).collect(),
            )
            .f64(
                "sign_at_entry",
                (0..d.predictors.len())
                    .map(|j| at(j, &|s| self.cv.path.beta[s][j].signum()))
                    .collect(),
            )
            .build(Some("entry"))
    }

    /// Sensitivity and specificity of each fit, in sample and out of fold, at the model's
    /// threshold and at the prevalence.
    fn assessment(&self, d: &ModelData) -> Result<OutputTable> {
        let prev = prevalence(&d.y).unwrap_or(0.0);
        let mut rows: Vec<(String, &str, &str, f64, Confusion)> = Vec::new();
        for (label, step) in self.choices() {
            let insample = match (label, &self.prob_sparse) {
                ("paper_sparsity", Some(p)) => p.clone(),
                ("lambda.min", _) => self.prob_min.clone(),
                _ => self
                    .cv
                    .path
                    .predict_prob(&self.x, step)
                    .map_err(|e| Error::stage("fit", e.to_string()))?,
            };
            let oof = self.oof(step);
            for (rule, t) in [("threshold", self.threshold), ("prevalence", prev)] {
                rows.push((
                    label.to_string(),
                    rule,
                    "in_sample",
                    t,
                    Confusion::of(&d.y, &insample, t),
                ));
                rows.push((
                    label.to_string(),
                    rule,
                    "cross_validated",
                    t,
                    Confusion::of(&d.y, &oof, t),
                ));
            }
        }
        let ints = |f: &dyn Fn(&Confusion) -> i64| {
            Column::I64(rows.iter().map(|r| Some(f(&r.4))).collect())
        };
        TableBuilder::new()
            .str("fit", rows.iter().map(|r| r.0.clone()).collect())
            .str("rule", rows.iter().map(|r| r.1.to_string()).collect())
            .str("sample", rows.iter().map(|r| r.2.to_string()).collect())
            .f64("threshold", rows.iter().map(|r| Some(r.3)).collect())
            .col("tp", ints(&|c| c.tp), false)
            .col("fp", ints(&|c| c.fp), false)
            .col("tn", ints(&|c| c.tn), false)
            .col("fn", ints(&|c| c.fn_), false)
            .f64(
                "sensitivity",
                rows.iter().map(|r| r.4.sensitivity()).collect(),
            )
            .f64(
                "specificity",
                rows.iter().map(|r| r.4.specificity()).collect(),
            )
            .build(Some("assessment"))
    }

    fn summary(&self, d: &ModelData) -> Result<OutputTable> {
        let (cv, path) = (&self.cv, &self.cv.path);
        let oof = self.oof(cv.index_min);
        let ins = Confusion::of(&d.y, &self.prob_min, self.threshold);
        let cvc = Confusion::of(&d.y, &oof, self.threshold);
        let terms = self.nonzero(d, cv.index_min);
        let positive: Vec<bool> = d.y.iter().map(|v| *v == 1.0).collect();
        let one_i = |v: i64| Column::I64(vec![Some(v)]);
        let one_f = |v: f64| vec![Some(v)];
        let sparse = self.sparse;
        TableBuilder::new()
            .f64("alpha", one_f(self.alpha))
            .i64("n", vec![d.n() as i64])
            .i64("n_dropped", vec![d.dropped as i64])
            .i64(
                "n_imputed",
                vec![d.imputed.iter().filter(|b| **b).count() as i64],
            )
            .i64(
                "n_positive",
                vec![positive.iter().filter(|b| **b).count() as i64],
            )
            .i64("nfolds", vec![self.nfolds as i64])
            .i64("seed", vec![self.seed as i64])
            .str(
                "measure",
                vec![format!("{:?}", self.measure).to_lowercase()],
            )
            .f64("lambda_min", one_f(cv.lambda_min))
            .f64("lambda_1se", one_f(cv.lambda_1se))
            .i64("nonzero", vec![terms.len() as i64])
            .str("terms", vec![terms.join(", ")])
            .bool("intercept_only", vec![Some(terms.is_empty())])
            .f64("dev_ratio", one_f(path.dev_ratio[cv.index_min]))
            .f64("dev_ratio_1se", one_f(path.dev_ratio[cv.index_1se]))
            .f64("null_deviance", one_f(path.nulldev))
            .f64("cv_deviance", vec![mean_deviance(&d.y, &oof)])
            .f64("cv_auc", vec![auc(&oof, &positive)])
            .f64("threshold", one_f(self.threshold))
            .col("tp", one_i(ins.tp), false)
            .col("fp", one_i(ins.fp), false)
            .col("tn", one_i(ins.tn), false)
            .col("fn", one_i(ins.fn_), false)
            .f64("sensitivity", vec![ins.sensitivity()])
            .f64("specificity", vec![ins.specificity()])
            .col("cv_tp", one_i(cvc.tp), false)
            .col("cv_fp", one_i(cvc.fp), false)
            .col("cv_tn", one_i(cvc.tn), false)
            .col("cv_fn", one_i(cvc.fn_), false)
            .f64("cv_sensitivity", vec![cvc.sensitivity()])
            .f64("cv_specificity", vec![cvc.specificity()])
            .col(
                "sparsity_target",
                Column::I64(vec![self.sparsity_target.map(|k| k as i64)]),
                true,
            )
            .f64("sparse_lambda", vec![sparse.map(|s| cv.lambda[s])])
            .col(
                "sparse_df",
                Column::I64(vec![sparse.map(|s| path.df[s] as i64)]),
                true,
            )
            .opt_str(
                "sparse_terms",
                vec![sparse.map(|s| self.nonzero(d, s).join(", "))],
            )
            .f64("sparse_dev_ratio", vec![sparse.map(|s| path.dev_ratio[s])])
            .build(Some("summary"))
    }
}
