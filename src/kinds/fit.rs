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

use super::columns::{Column, TableBuilder, TableData};
use super::{OutputTable, ParamSpec, ParamType, StageContext, StageKind};
use crate::error::{Error, Result};
use crate::pipeline::Stage;
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

const PARAMS: &[ParamSpec] = &[
    ParamSpec { name: "outcome", ty: ParamType::String, required: true, help: "the 0/1 outcome column" },
    ParamSpec { name: "predictors", ty: ParamType::StringList, required: true, help: "the predictor columns" },
    ParamSpec { name: "id", ty: ParamType::String, required: false, help: "the column naming each row (default `la_code`)" },
    ParamSpec { name: "alpha", ty: ParamType::Number, required: true, help: "elastic-net mixing: 1 lasso, 0 ridge" },
    ParamSpec { name: "nfolds", ty: ParamType::Integer, required: false, help: "cross-validation folds, at least 3 as in cv.glmnet (default 10)" },
    ParamSpec { name: "seed", ty: ParamType::Integer, required: true, help: "seed for the fold assignment" },
    ParamSpec { name: "nlambda", ty: ParamType::Integer, required: false, help: "length of the lambda path (default 100)" },
    ParamSpec { name: "lambda_min_ratio", ty: ParamType::Number, required: false, help: "smallest lambda as a fraction of the largest (default: R's)" },
    ParamSpec { name: "measure", ty: ParamType::String, required: false, help: "cv loss: deviance (default), class, mse, mae or auc" },
    ParamSpec { name: "threshold", ty: ParamType::Number, required: false, help: "probability above which an LA is predicted positive (default 0.5)" },
    ParamSpec { name: "missing", ty: ParamType::String, required: false, help: "rows with a missing predictor: `drop` (default, as R) or `median` (impute and flag)" },
    ParamSpec { name: "paper_terms", ty: ParamType::StringList, required: false, help: "the published model's predictors: the fit at their number among `predictors` is reported as the paper's sparsity" },
    ParamSpec { name: "tables", ty: ParamType::StringList, required: false, help: "which tables to write (default all: design, path, coefficients, predictions, summary, entry, assessment)" },
];

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
    fn params(&self) -> &'static [ParamSpec] {
        PARAMS
    }
    fn tables(&self, stage: &Stage) -> Vec<String> {
        match stage.params.get("tables").and_then(|v| v.as_array()) {
            Some(list) => TABLES
                .iter()
                .filter(|t| list.iter().any(|v| v.as_str() == Some(t)))
                .map(|t| t.to_string())
                .collect(),
            None => TABLES.map(String::from).to_vec(),
        }
    }
    fn check(&self, stage: &Stage) -> std::result::Result<(), String> {
        if let Some(m) = stage.params.get("measure").and_then(|v| v.as_str()) {
            measure(m)?;
        }
        if let Some(m) = stage.params.get("missing").and_then(|v| v.as_str()) {
            if m != "drop" && m != "median" {
                return Err(format!(
                    "param `missing` must be `drop` or `median`, not `{m}`"
                ));
            }
        }
        if let Some(a) = stage.params.get("alpha").and_then(|v| v.as_f64()) {
            if !(0.0..=1.0).contains(&a) {
                return Err(format!("param `alpha` must be between 0 and 1, not {a}"));
            }
        }
        if let Some(k) = stage.params.get("nfolds").and_then(|v| v.as_i64()) {
            if k < 3 {
                return Err(format!(
                    "param `nfolds` must be at least 3 (as in cv.glmnet), not {k}"
                ));
            }
        }
        if let Some(list) = stage.params.get("tables").and_then(|v| v.as_array()) {
            for t in list.iter().filter_map(|v| v.as_str()) {
                if !TABLES.contains(&t) {
                    let hint = crate::error::did_you_mean(t, TABLES)
                        .map(|h| format!(" ({h})"))
                        .unwrap_or_default();
                    return Err(format!("param `tables` names `{t}`, which is not a table of `fit`{hint}; its tables are {}", TABLES.join(", ")));
                }
            }
        }
        Ok(())
    }
    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let data = ModelData::read(ctx)?;
        let fitted = Fitted::fit(ctx, &data)?;
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

fn measure(name: &str) -> std::result::Result<CvMeasure, String> {
    Ok(match name {
        "deviance" => CvMeasure::Deviance,
        "class" => CvMeasure::Class,
        "mse" => CvMeasure::Mse,
        "mae" => CvMeasure::Mae,
        "auc" => CvMeasure::Auc,
        other => {
            return Err(format!(
                "param `measure` must be deviance, class, mse, mae or auc, not `{other}`"
            ))
        }
    })
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
    fn read(ctx: &StageContext) -> Result<ModelData> {
        let input = ctx
            .stage
            .inputs
            .first()
            .ok_or_else(|| ctx.fail("needs the model's data as its input"))?
            .clone();
        let (schema, batches) = ctx.read_table(&input, None)?;
        let t = TableData::new(&format!("input `{input}`"), schema, &batches)?;
        let id_col = ctx.param_str("id").unwrap_or("la_code");
        let outcome_col = ctx.param_str("outcome").unwrap_or_default();
        let predictors = string_list(ctx, "predictors");
        let missing = ctx.param_str("missing").unwrap_or("drop");

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
            if any_missing && missing == "drop" {
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

fn string_list(ctx: &StageContext, name: &str) -> Vec<String> {
    ctx.param(name)
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
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
    fn fit(ctx: &StageContext, d: &ModelData) -> Result<Fitted> {
        let x = Matrix::from_columns(&d.x_cols).map_err(|e| ctx.fail(e.to_string()))?;
        let nfolds = ctx.param_i64("nfolds").unwrap_or(10) as usize;
        if d.n() < nfolds {
            return Err(ctx.fail(format!("has {} rows to fit, fewer than its {nfolds} folds", d.n())).with_hint(format!(
                "lower `nfolds`, or use `missing: median` instead of dropping rows with a missing predictor (input `{}`)",
                d.input
            )));
        }
        let seed = ctx.param_i64("seed").unwrap_or(1) as u64;
        let folds = assign_folds(d.n(), nfolds, seed);
        let mut params = BinomialParams {
            alpha: ctx.param_f64("alpha").unwrap_or(1.0),
            ..BinomialParams::default()
        };
        if let Some(k) = ctx.param_i64("nlambda") {
            params.nlambda = k.max(1) as usize;
        }
        if let Some(r) = ctx.param_f64("lambda_min_ratio") {
            params.lambda_min_ratio = Some(r);
        }
        let m = measure(ctx.param_str("measure").unwrap_or("deviance")).map_err(|e| ctx.fail(e))?;
        let cv = cv_binomial(&x, &d.y, &folds, &params, m).map_err(|e| {
            ctx.fail(format!("the elastic net could not be fitted: {e}"))
                .with_hint("check the model's input rows and predictors; `canary sql \"select * from model_design\"` shows what was used")
        })?;
        let prob_min = cv
            .path
            .predict_prob(&x, cv.index_min)
            .map_err(|e| ctx.fail(e.to_string()))?;
        let sparsity_target = ctx.param("paper_terms").map(|_| {
            let paper = string_list(ctx, "paper_terms");
            d.predictors.iter().filter(|p| paper.contains(p)).count()
        });
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
            threshold: ctx.param_f64("threshold").unwrap_or(0.5),
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
