//! `fit`: the study's model — a binomial elastic net as R's glmnet fits it, its lambda chosen by
//! cv.glmnet on folds drawn from a `seed` and written out, so a reviewer can re-run R on
//! `model_design` with the same `foldid` and get the same numbers.
//!
//! The input is one table with an id column, the 0/1 outcome and the predictor columns (a SQL
//! stage assembles it from the panel and the Ofsted outcomes).

use super::columns::{Column, TableBuilder, TableData};
use super::{OutputTable, ParamSpec, ParamType, StageContext, StageKind};
use crate::error::Result;
use crate::pipeline::Stage;
use crate::stats::glmnet::{assign_folds, cv_binomial, BinomialParams, CvMeasure, Matrix};

pub struct Fit;

const PARAMS: &[ParamSpec] = &[
    ParamSpec { name: "outcome", ty: ParamType::String, required: true, help: "the 0/1 outcome column" },
    ParamSpec { name: "predictors", ty: ParamType::StringList, required: true, help: "the predictor columns" },
    ParamSpec { name: "id", ty: ParamType::String, required: false, help: "the column naming each row (default `la_code`)" },
    ParamSpec { name: "alpha", ty: ParamType::Number, required: true, help: "elastic-net mixing: 1 lasso, 0 ridge" },
    ParamSpec { name: "nfolds", ty: ParamType::Integer, required: false, help: "cross-validation folds (default 10)" },
    ParamSpec { name: "seed", ty: ParamType::Integer, required: true, help: "seed for the fold assignment" },
    ParamSpec { name: "nlambda", ty: ParamType::Integer, required: false, help: "length of the lambda path (default 100)" },
    ParamSpec { name: "lambda_min_ratio", ty: ParamType::Number, required: false, help: "smallest lambda as a fraction of the largest (default: R's)" },
    ParamSpec { name: "measure", ty: ParamType::String, required: false, help: "cv loss: deviance (default), class, mse, mae or auc" },
    ParamSpec { name: "threshold", ty: ParamType::Number, required: false, help: "probability above which an LA is predicted positive (default 0.5)" },
    ParamSpec { name: "missing", ty: ParamType::String, required: false, help: "rows with a missing predictor: `drop` (default, as R) or `median` (impute and flag)" },
];

impl StageKind for Fit {
    fn name(&self) -> &'static str {
        "fit"
    }
    fn version(&self) -> u32 {
        2
    }
    fn describe(&self) -> &'static str {
        "binomial elastic net with cross-validated lambda, matching R glmnet / cv.glmnet"
    }
    fn params(&self) -> &'static [ParamSpec] {
        PARAMS
    }
    fn tables(&self, _stage: &Stage) -> Vec<String> {
        ["design", "path", "coefficients", "predictions", "summary"].map(String::from).to_vec()
    }
    fn check(&self, stage: &Stage) -> std::result::Result<(), String> {
        if let Some(m) = stage.params.get("measure").and_then(|v| v.as_str()) {
            measure(m)?;
        }
        if let Some(m) = stage.params.get("missing").and_then(|v| v.as_str()) {
            if m != "drop" && m != "median" {
                return Err(format!("param `missing` must be `drop` or `median`, not `{m}`"));
            }
        }
        if let Some(a) = stage.params.get("alpha").and_then(|v| v.as_f64()) {
            if !(0.0..=1.0).contains(&a) {
                return Err(format!("param `alpha` must be between 0 and 1, not {a}"));
            }
        }
        Ok(())
    }
    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let input = ctx.stage.inputs.first().ok_or_else(|| ctx.fail("needs the model's data as its input"))?;
        let (schema, batches) = ctx.read_table(input, None)?;
        let t = TableData::new(&format!("input `{input}`"), schema, &batches)?;
        let id_col = ctx.param_str("id").unwrap_or("la_code");
        let outcome_col = ctx.param_str("outcome").unwrap_or_default();
        let predictors: Vec<String> = ctx
            .param("predictors")
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let missing = ctx.param_str("missing").unwrap_or("drop");
        let threshold = ctx.param_f64("threshold").unwrap_or(0.5);
        let alpha = ctx.param_f64("alpha").unwrap_or(1.0);

        let ids = t.strings(id_col)?;
        let outcome = t.f64s(outcome_col)?;
        let mut columns: Vec<Vec<Option<f64>>> = Vec::new();
        for p in &predictors {
            columns.push(t.f64s(p)?);
        }
        // Rows in id order, so the design (and the folds drawn over it) do not depend on the
        // order the input happened to have.
        let mut order: Vec<usize> = (0..t.rows()).collect();
        order.sort_by(|a, b| ids[*a].cmp(&ids[*b]));

        // A predictor with no value at all cannot be imputed or fitted: say which.
        for (p, c) in predictors.iter().zip(&columns) {
            if !c.iter().any(|v| v.is_some_and(f64::is_finite)) {
                return Err(ctx.fail(format!("predictor `{p}` has no value in any row of `{input}`"))
                    .with_hint("remove it from the stage's `predictors`, or choose a year the indicator is published for"));
            }
        }
        let medians: Vec<f64> = columns
            .iter()
            .map(|c| {
                let v: Vec<f64> = c.iter().flatten().copied().filter(|v| v.is_finite()).collect();
                crate::stats::quantile::median(&v)
            })
            .collect();
        let mut rows: Vec<usize> = Vec::new();
        let mut imputed: Vec<bool> = Vec::new();
        let mut dropped = 0usize;
        for &i in &order {
            let Some(y) = outcome[i] else {
                dropped += 1;
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
                dropped += 1;
                continue;
            }
            rows.push(i);
            imputed.push(any_missing);
        }
        let value = |j: usize, i: usize| columns[j][i].filter(|v| v.is_finite()).unwrap_or(medians[j]);
        let x_cols: Vec<Vec<f64>> = (0..predictors.len()).map(|j| rows.iter().map(|&i| value(j, i)).collect()).collect();
        let y: Vec<f64> = rows.iter().map(|&i| outcome[i].unwrap_or(0.0)).collect();
        let n = rows.len();
        let x = Matrix::from_columns(&x_cols).map_err(|e| ctx.fail(e.to_string()))?;

        let nfolds = ctx.param_i64("nfolds").unwrap_or(10).max(3) as usize;
        let seed = ctx.param_i64("seed").unwrap_or(1) as u64;
        let folds = assign_folds(n, nfolds, seed);
        let mut params = BinomialParams {
            alpha,
            ..BinomialParams::default()
        };
        if let Some(k) = ctx.param_i64("nlambda") {
            params.nlambda = k.max(1) as usize;
        }
        if let Some(r) = ctx.param_f64("lambda_min_ratio") {
            params.lambda_min_ratio = Some(r);
        }
        let m = measure(ctx.param_str("measure").unwrap_or("deviance")).map_err(|e| ctx.fail(e))?;
        let cv = cv_binomial(&x, &y, &folds, &params, m)
            .map_err(|e| ctx.fail(format!("the elastic net could not be fitted: {e}")).with_hint("check the model's input rows and predictors; `canary sql \"select * from model_design\"` shows what was used"))?;
        let path = &cv.path;

        // design
        let mut design = TableBuilder::new()
            .str("la_code", rows.iter().map(|&i| ids[i].clone().unwrap_or_default()).collect())
            .i64("fold", folds.iter().map(|f| *f as i64 + 1).collect())
            .i64("outcome", y.iter().map(|v| *v as i64).collect());
        for (j, p) in predictors.iter().enumerate() {
            design = design.f64(p, x_cols[j].iter().map(|v| Some(*v)).collect());
        }
        design = design.bool("imputed", imputed.iter().map(|b| Some(*b)).collect());

        // path: cv numbers at every lambda of the full-data path
        let path_table = TableBuilder::new()
            .i64("step", (1..=cv.lambda.len() as i64).collect())
            .f64("lambda", cv.lambda.iter().map(|v| Some(*v)).collect())
            .i64("df", path.df.iter().map(|d| *d as i64).collect())
            .f64("dev_ratio", path.dev_ratio.iter().map(|v| Some(*v)).collect())
            .f64("cvm", cv.cvm.iter().map(|v| Some(*v)).collect())
            .f64("cvsd", cv.cvsd.iter().map(|v| Some(*v)).collect())
            .build(Some("path"))?;

        // coefficients at lambda.min and lambda.1se, every predictor listed
        let mut terms = Vec::new();
        let mut choice = Vec::new();
        let mut coef = Vec::new();
        for (label, idx) in [("lambda.min", cv.index_min), ("lambda.1se", cv.index_1se)] {
            terms.push("(Intercept)".to_string());
            choice.push(label.to_string());
            coef.push(Some(path.a0[idx]));
            for (j, p) in predictors.iter().enumerate() {
                terms.push(p.clone());
                choice.push(label.to_string());
                coef.push(Some(path.beta[idx][j]));
            }
        }
        let coefficients = TableBuilder::new()
            .str("term", terms)
            .str("choice", choice)
            .f64("coefficient", coef)
            .build(Some("coefficients"))?;

        // predictions at lambda.min, in-sample and out of fold
        let prob = path.predict_prob(&x, cv.index_min).map_err(|e| ctx.fail(e.to_string()))?;
        let oof: Vec<f64> = (0..n).map(|i| cv.oof_prob.get(i, cv.index_min)).collect();
        let predictions = TableBuilder::new()
            .str("la_code", rows.iter().map(|&i| ids[i].clone().unwrap_or_default()).collect())
            .i64("fold", folds.iter().map(|f| *f as i64 + 1).collect())
            .i64("observed", y.iter().map(|v| *v as i64).collect())
            .f64("probability", prob.iter().map(|v| Some(*v)).collect())
            .f64("oof_probability", oof.iter().map(|v| Some(*v)).collect())
            .build(Some("predictions"))?;

        let ins = Confusion::of(&y, &prob, threshold);
        let cvc = Confusion::of(&y, &oof, threshold);
        let summary = TableBuilder::new()
            .f64("alpha", vec![Some(alpha)])
            .i64("n", vec![n as i64])
            .i64("n_dropped", vec![dropped as i64])
            .i64("n_imputed", vec![imputed.iter().filter(|b| **b).count() as i64])
            .i64("n_positive", vec![y.iter().filter(|v| **v == 1.0).count() as i64])
            .i64("nfolds", vec![nfolds as i64])
            .i64("seed", vec![seed as i64])
            .str("measure", vec![format!("{m:?}").to_lowercase()])
            .f64("lambda_min", vec![Some(cv.lambda_min)])
            .f64("lambda_1se", vec![Some(cv.lambda_1se)])
            .f64("dev_ratio", vec![Some(path.dev_ratio[cv.index_min])])
            .f64("dev_ratio_1se", vec![Some(path.dev_ratio[cv.index_1se])])
            .f64("null_deviance", vec![Some(path.nulldev)])
            .f64("threshold", vec![Some(threshold)])
            .col("tp", Column::I64(vec![Some(ins.tp)]), false)
            .col("fp", Column::I64(vec![Some(ins.fp)]), false)
            .col("tn", Column::I64(vec![Some(ins.tn)]), false)
            .col("fn", Column::I64(vec![Some(ins.fn_)]), false)
            .f64("sensitivity", vec![ins.sensitivity()])
            .f64("specificity", vec![ins.specificity()])
            .col("cv_tp", Column::I64(vec![Some(cvc.tp)]), false)
            .col("cv_fp", Column::I64(vec![Some(cvc.fp)]), false)
            .col("cv_tn", Column::I64(vec![Some(cvc.tn)]), false)
            .col("cv_fn", Column::I64(vec![Some(cvc.fn_)]), false)
            .f64("cv_sensitivity", vec![cvc.sensitivity()])
            .f64("cv_specificity", vec![cvc.specificity()])
            .build(Some("summary"))?;
        Ok(vec![design.build(Some("design"))?, path_table, coefficients, predictions, summary])
    }
}

fn measure(name: &str) -> std::result::Result<CvMeasure, String> {
    Ok(match name {
        "deviance" => CvMeasure::Deviance,
        "class" => CvMeasure::Class,
        "mse" => CvMeasure::Mse,
        "mae" => CvMeasure::Mae,
        "auc" => CvMeasure::Auc,
        other => return Err(format!("param `measure` must be deviance, class, mse, mae or auc, not `{other}`")),
    })
}

/// Confusion counts at a probability threshold (predicted positive when p > threshold).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Confusion {
    pub tp: i64,
    pub fp: i64,
    pub tn: i64,
    pub fn_: i64,
}

impl Confusion {
    pub fn of(y: &[f64], p: &[f64], threshold: f64) -> Confusion {
        let mut c = Confusion { tp: 0, fp: 0, tn: 0, fn_: 0 };
        for (y, p) in y.iter().zip(p) {
            match (*y == 1.0, *p > threshold) {
                (true, true) => c.tp += 1,
                (true, false) => c.fn_ += 1,
                (false, true) => c.fp += 1,
                (false, false) => c.tn += 1,
            }
        }
        c
    }

    /// TP / (TP + FN); None without positives.
    pub fn sensitivity(&self) -> Option<f64> {
        let d = self.tp + self.fn_;
        (d > 0).then(|| self.tp as f64 / d as f64)
    }

    /// TN / (TN + FP); None without negatives.
    pub fn specificity(&self) -> Option<f64> {
        let d = self.tn + self.fp;
        (d > 0).then(|| self.tn as f64 / d as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_counts() {
        let c = Confusion::of(&[1.0, 1.0, 0.0, 0.0, 0.0], &[0.9, 0.2, 0.6, 0.1, 0.5], 0.5);
        assert_eq!(c, Confusion { tp: 1, fp: 1, tn: 2, fn_: 1 });
        assert_eq!(c.sensitivity(), Some(0.5));
        assert_eq!(c.specificity(), Some(2.0 / 3.0));
    }
}
