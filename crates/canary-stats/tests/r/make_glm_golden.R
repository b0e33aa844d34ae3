# Golden reference numbers for src/stats/glm.rs: unpenalised logistic regression,
# R's glm(y ~ ., family = binomial) (IRLS in glm.fit), summary.glm and confint.default,
# plus R's qnorm on a grid (the quantile behind the Wald interval).
#
# Run from the crate root:   Rscript tests/r/make_glm_golden.R
# Writes tests/golden/glm/<case>.json, one file per case, and tests/golden/glm/qnorm.json.
#
# Numbers are written with 17 significant digits ("%.17g") by the small serialiser below
# (the one in make_stats_golden.R): jsonlite's toJSON(digits = NA), and even
# digits = I(17), stops at 15 significant digits (jsonlite 1.8.4), which would round the
# inputs so that the Rust side fits slightly different data from R's. 17 digits round-trip
# every double exactly. NA -> null, +-Inf -> "Inf"/"-Inf".
#
# Per case: the inputs (predictor columns in order, their names, y), glm.control's epsilon
# and maxit, coef(), summary()$coefficients (estimate, se, z, p; aliased terms are absent
# from it, as in R), confint.default() (Wald, qnorm(0.975)), deviance, null.deviance, aic,
# iter, converged, boundary, the warnings glm() gave, fitted values and the linear predictor.

suppressWarnings(RNGversion("4.0.0"))

num <- function(v) {
  ifelse(is.na(v), "null",
         ifelse(is.infinite(v), ifelse(v > 0, '"Inf"', '"-Inf"'), sprintf("%.17g", v)))
}
esc <- function(s) gsub('"', '\\\\"', gsub("\\\\", "\\\\\\\\", s))
to_json <- function(x, indent = "") {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    inner <- paste0(indent, "  ")
    if (!is.null(names(x))) {
      items <- vapply(names(x), function(k)
        paste0(inner, '"', k, '": ', to_json(x[[k]], inner)), "")
      return(paste0("{\n", paste(items, collapse = ",\n"), "\n", indent, "}"))
    }
    if (length(x) == 0) return("[]")
    items <- vapply(x, function(e) paste0(inner, to_json(e, inner)), "")
    return(paste0("[\n", paste(items, collapse = ",\n"), "\n", indent, "]"))
  }
  if (length(x) == 0) return("[]")
  if (is.character(x)) {
    s <- paste0('"', esc(x), '"')
  } else if (is.logical(x)) {
    s <- ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else {
    s <- num(as.numeric(x))
  }
  if (inherits(x, "AsIs") || length(x) != 1) paste0("[", paste(s, collapse = ","), "]") else s
}

out_dir <- file.path("tests", "golden", "glm")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

# Fit glm(y ~ ., family = binomial) on a data frame of predictors and write one case.
glm_case <- function(name, description, x, y, maxit = 25) {
  stopifnot(is.data.frame(x), all(y %in% c(0, 1)))
  df <- cbind(x, y = y)
  warns <- character()
  fit <- withCallingHandlers(
    glm(y ~ ., data = df, family = binomial,
        control = glm.control(epsilon = 1e-8, maxit = maxit)),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  s <- summary(fit)
  ct <- s$coefficients
  ci <- suppressMessages(confint.default(fit))
  aliased <- names(coef(fit))[is.na(coef(fit))]
  doc <- list(
    name = name,
    description = description,
    r_version = R.version.string,
    generated_by = "tests/r/make_glm_golden.R",
    call = "glm(y ~ ., family = binomial, control = glm.control(epsilon, maxit)); summary(); confint.default()",
    epsilon = 1e-8,
    maxit = maxit,
    n = nrow(x),
    names = I(names(x)),
    x = unname(lapply(x, function(col) I(as.numeric(col)))),
    y = I(as.numeric(y)),
    terms = I(names(coef(fit))),
    coef = I(unname(coef(fit))),
    aliased = I(aliased),
    summary_terms = I(rownames(ct)),
    estimate = I(unname(ct[, 1])),
    std_error = I(unname(ct[, 2])),
    z_value = I(unname(ct[, 3])),
    p_value = I(unname(ct[, 4])),
    ci_lower = I(unname(ci[, 1])),
    ci_upper = I(unname(ci[, 2])),
    deviance = fit$deviance,
    null_deviance = fit$null.deviance,
    aic = fit$aic,
    rank = fit$rank,
    df_residual = fit$df.residual,
    df_null = fit$df.null,
    iter = fit$iter,
    converged = fit$converged,
    boundary = fit$boundary,
    warnings = I(warns),
    fitted = I(unname(fit$fitted.values)),
    linear_predictor = I(unname(fit$linear.predictors))
  )
  path <- file.path(out_dir, paste0(name, ".json"))
  writeLines(to_json(doc), path)
  cat(sprintf("wrote %-36s n=%3d positives=%3d iter=%2d converged=%s warnings: %s\n",
              path, nrow(x), sum(y), fit$iter, fit$converged,
              if (length(warns)) paste(warns, collapse = " | ") else "none"))
}

# ---------------------------------------------------------------- 1. study-shaped
# 150 LA-years, three predictors on very different scales (a rate per 10,000 children,
# a percentage, spending in pounds per child), about 15% positives.
set.seed(20240701)
n <- 150
referral_rate <- round(rnorm(n, 550, 150), 1)
repeat_pct <- round(runif(n, 10, 35), 1)
spend_per_child <- round(rlnorm(n, log(1100), 0.35), 0)
eta <- -1.95 + 0.004 * (referral_rate - 550) + 0.06 * (repeat_pct - 22) -
  0.0009 * (spend_per_child - 1100)
y <- rbinom(n, 1, plogis(eta))
study <- data.frame(referral_rate, repeat_pct, spend_per_child)
glm_case("study_n150", "study-shaped: n = 150, three predictors on different scales, ~15% positives",
         study, y)

# ---------------------------------------------------------------- 2. not converged
# The same data stopped after three IRLS steps: R warns that it did not converge, and the
# coefficients are those of the third step (a test of following R's iteration, not only its
# optimum).
glm_case("study_maxit3", "study_n150 with glm.control(maxit = 3): not converged",
         study, y, maxit = 3)

# ---------------------------------------------------------------- 3. small
set.seed(20240702)
n <- 20
x1 <- rnorm(n)
x2 <- rnorm(n, 5, 2)
y <- rbinom(n, 1, plogis(0.3 + 1.1 * x1 - 0.4 * (x2 - 5)))
glm_case("small_n20", "small: n = 20, two predictors", data.frame(x1, x2), y)

# ---------------------------------------------------------------- 4. correlated
set.seed(20240703)
n <- 120
f <- rnorm(n)
corr <- data.frame(a = f + 0.15 * rnorm(n), b = 2 * f + 0.3 * rnorm(n),
                   c = -f + 0.2 * rnorm(n), d = rnorm(n))
y <- rbinom(n, 1, plogis(-0.2 + 0.8 * f + 0.5 * corr$d))
glm_case("correlated", "correlated: n = 120, three predictors with pairwise |r| ~ 0.98 and one independent",
         corr, y)

# ---------------------------------------------------------------- 5. imbalanced
set.seed(20240704)
n <- 400
imb <- data.frame(u = rnorm(n), v = runif(n), w = rpois(n, 3))
y <- rbinom(n, 1, plogis(-4.3 + 0.9 * imb$u + 0.8 * imb$v + 0.1 * imb$w))
glm_case("imbalanced", "imbalanced: n = 400, few positives", imb, y)

# ---------------------------------------------------------------- 6. quasi-separated
# A strong predictor on a wide scale: the classes overlap only near x = 0, so the MLE
# exists, but fitted probabilities far out are numerically 0 or 1 and R warns.
set.seed(20240705)
n <- 100
strong <- data.frame(x = rnorm(n, 0, 3), z = rnorm(n))
y <- rbinom(n, 1, plogis(1 + 6 * strong$x + 0.5 * strong$z))
glm_case("quasi_separated", "overlap only near x = 0: R warns fitted probabilities numerically 0 or 1",
         strong, y)

# ---------------------------------------------------------------- 7. separated
# Complete separation (y = 1 exactly when x > 0): no MLE; R runs all 25 iterations,
# warns that it did not converge and that fitted probabilities are 0 or 1.
set.seed(20240706)
n <- 30
sep <- data.frame(x = rnorm(n), x2 = rnorm(n))
y <- as.numeric(sep$x > 0)
glm_case("separated", "complete separation: y = (x > 0); not converged, fitted probabilities 0 or 1",
         sep, y)

# ---------------------------------------------------------------- 8. aliased
# A constant column (aliased with the intercept) and an exact duplicate: R reports NA for
# both; the Rust side refuses the design and names them.
set.seed(20240707)
n <- 60
a1 <- rnorm(n)
al <- data.frame(a1 = a1, const = rep(3, n), a2 = rnorm(n), a1_copy = a1)
y <- rbinom(n, 1, plogis(0.5 * a1 - 0.5 * al$a2))
glm_case("aliased", "rank deficient: a constant column and a duplicate column (R: NA coefficients)",
         al, y)

# ---------------------------------------------------------------- qnorm
p <- c(1e-300, 1e-100, 1e-20, 1e-12, 1.3e-11, 1e-10, 1e-6, 0.001, 0.01, 0.025,
       (1 - 0.95) / 2, 0.05, 0.074, 0.075, 0.076, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75,
       0.9, 0.924, 0.925, 0.926, 0.95, 0.975, 0.99, 0.999, 1 - 1e-6, 1 - 1e-10, 1 - 1e-15, 0, 1)
q_cases <- list()
for (lower in c(TRUE, FALSE)) {
  for (pp in p) {
    q_cases[[length(q_cases) + 1]] <- list(p = pp, lower = lower, q = qnorm(pp, lower.tail = lower))
  }
}
qdoc <- list(description = "R qnorm(p, lower.tail = lower) (Wichura AS 241)",
             r_version = R.version.string, generated_by = "tests/r/make_glm_golden.R",
             cases = q_cases)
writeLines(to_json(qdoc), file.path(out_dir, "qnorm.json"))
cat("wrote", file.path(out_dir, "qnorm.json"), "(", length(q_cases), "values )\n")
