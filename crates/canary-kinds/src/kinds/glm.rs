//! `glm`: an unpenalised logistic regression, as R's `glm(family = binomial)` fits it, of an
//! outcome on named predictors — the direct test of a published model's terms. It reads a
//! `fit` stage's design table, so it is fitted on the same LAs and values as the elastic net.
//!
//! One row per term: estimate, standard error, Wald 95% interval (R's `confint.default`) and
//! p value. The summary adds the deviances, and the AUC of the fitted probabilities with a
//! stratified percentile bootstrap interval (the LAs resampled, the fit kept: it says how
//! well these probabilities rank these LAs, not how a refitted model would do elsewhere).

use crate::pipeline::KindSpec;
use crate::stage::columns::{Column, TableBuilder, TableData};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::error::Result;
use crate::params::{self, int, KindParams};
use crate::pipeline::Stage;
use crate::stage::TableDoc;
use crate::stage::{OutputTable, StageContext, StageKind};
use crate::stats::early_warning::{auc, bootstrap_auc};
use crate::stats::glm::logistic;

pub struct Glm;

/// The params of a `glm` stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GlmParams {
    /// the input's table to fit (a `fit` stage's rows and values); an input without it is
    /// read whole
    #[serde(default = "design")]
    pub table: String,
    /// the 0/1 outcome column
    #[serde(default = "outcome")]
    pub outcome: String,
    /// the predictor columns
    pub predictors: Vec<String>,
    /// leave out predictors the table does not have, and list them in the summary (false:
    /// such a predictor is an error)
    #[serde(default)]
    pub skip_absent: bool,
    /// bootstrap resamples for the AUC interval
    #[serde(default = "int::<2000>")]
    #[schemars(range(min = 1))]
    pub bootstrap: i64,
    /// seed of the bootstrap
    #[serde(default = "one")]
    pub seed: u64,
}

fn design() -> String {
    "design".into()
}

fn outcome() -> String {
    "outcome".into()
}

fn one() -> u64 {
    1
}

impl KindSpec for Glm {
    fn params(&self) -> &KindParams {
        static P: params::Lazy = params::Lazy::new(KindParams::of::<GlmParams>);
        &P
    }

    fn tables(&self, _stage: &Stage) -> Vec<String> {
        vec![String::new(), "summary".into()]
    }

    fn check(&self, stage: &Stage) -> std::result::Result<(), String> {
        if stage.inputs.len() != 1 {
            return Err("needs exactly one input (a `fit` stage, or a table with the outcome and predictors)".into());
        }
        Ok(())
    }
}

impl StageKind for Glm {
    fn name(&self) -> &'static str {
        "glm"
    }

    fn version(&self) -> u32 {
        1
    }

    fn describe(&self) -> &'static str {
        "unpenalised logistic regression of an outcome on named predictors, as R's glm(family = binomial)"
    }

    fn outputs(&self) -> &'static [TableDoc] {
        &[
            TableDoc {
                name: "",
                columns: &[
                    "term",
                    "estimate",
                    "std_error",
                    "conf_low",
                    "conf_high",
                    "z_value",
                    "p_value",
                ],
            },
            TableDoc {
                name: "summary",
                columns: &[
                    "n",
                    "n_dropped",
                    "n_positive",
                    "predictors",
                    "left_out",
                    "deviance",
                    "null_deviance",
                    "aic",
                    "iterations",
                    "converged",
                    "warnings",
                    "auc",
                    "auc_low",
                    "auc_high",
                    "bootstrap",
                    "seed",
                ],
            },
        ]
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let input = &ctx.stage.inputs[0];
        let p: GlmParams = ctx.params()?;
        let table = p.table.as_str();
        let (schema, batches) = if ctx.has_table(input, Some(table)) {
            ctx.read_table(input, Some(table))?
        } else {
            ctx.read_table(input, None)?
        };
        let t = TableData::new(&format!("input `{input}`"), schema, &batches)?;
        let outcome_col = p.outcome.as_str();
        let wanted = &p.predictors;
        let skip = p.skip_absent;
        let (used, left_out): (Vec<String>, Vec<String>) =
            wanted.iter().cloned().partition(|p| t.has(p) || !skip);
        if used.is_empty() {
            return Err(ctx.fail(format!(
                "none of the predictors {} is a column of `{input}`",
                wanted.join(", ")
            )));
        }
        let y = t.f64s(outcome_col)?;
        let cols: Vec<Vec<Option<f64>>> = used.iter().map(|p| t.f64s(p)).collect::<Result<_>>()?;
        // Complete rows only (a `fit` design has none missing; another table may).
        let rows: Vec<usize> = (0..t.rows())
            .filter(|&i| y[i].is_some() && cols.iter().all(|c| c[i].is_some_and(f64::is_finite)))
            .collect();
        let yv: Vec<f64> = rows.iter().map(|&i| y[i].unwrap_or_default()).collect();
        let x: Vec<Vec<f64>> = cols
            .iter()
            .map(|c| rows.iter().map(|&i| c[i].unwrap_or_default()).collect())
            .collect();
        let names: Vec<&str> = used.iter().map(String::as_str).collect();
        let fit = logistic(&x, &yv, &names).map_err(|e| {
            ctx.fail(format!("the logistic regression could not be fitted: {e}"))
                .with_hint(format!(
                    "check the rows of `{input}`: `canary sql` shows them"
                ))
        })?;

        let terms = &fit.terms;
        let term_table = TableBuilder::new()
            .str("term", terms.iter().map(|t| t.name.clone()).collect())
            .f64("estimate", terms.iter().map(|t| Some(t.estimate)).collect())
            .f64(
                "std_error",
                terms.iter().map(|t| Some(t.std_error)).collect(),
            )
            .f64("conf_low", terms.iter().map(|t| Some(t.ci_lower)).collect())
            .f64(
                "conf_high",
                terms.iter().map(|t| Some(t.ci_upper)).collect(),
            )
            .f64("z_value", terms.iter().map(|t| Some(t.z_value)).collect())
            .f64("p_value", terms.iter().map(|t| Some(t.p_value)).collect())
            .build(None)?;

        let positive: Vec<bool> = yv.iter().map(|v| *v == 1.0).collect();
        let b = p.bootstrap as usize;
        let seed = p.seed;
        let interval = bootstrap_auc(&fit.fitted, &positive, b, seed, 0.95);
        let warnings: Vec<String> = fit.warnings.iter().map(|w| w.to_string()).collect();
        let summary = TableBuilder::new()
            .i64("n", vec![rows.len() as i64])
            .i64("n_dropped", vec![(t.rows() - rows.len()) as i64])
            .i64(
                "n_positive",
                vec![positive.iter().filter(|p| **p).count() as i64],
            )
            .str("predictors", vec![used.join(", ")])
            .str("left_out", vec![left_out.join(", ")])
            .f64("deviance", vec![Some(fit.deviance)])
            .f64("null_deviance", vec![Some(fit.null_deviance)])
            .f64("aic", vec![Some(fit.aic)])
            .i64("iterations", vec![fit.iterations as i64])
            .bool("converged", vec![Some(fit.converged)])
            .str("warnings", vec![warnings.join("; ")])
            .f64("auc", vec![auc(&fit.fitted, &positive)])
            .f64("auc_low", vec![interval.map(|i| i.0)])
            .f64("auc_high", vec![interval.map(|i| i.1)])
            .col("bootstrap", Column::I64(vec![Some(b as i64)]), false)
            .col("seed", Column::I64(vec![Some(seed as i64)]), false)
            .build(Some("summary"))?;
        Ok(vec![term_table, summary])
    }
}
