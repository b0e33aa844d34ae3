# Golden numbers for the Rust port of glmnet's binomial elastic net / cv.glmnet.
#
# Run from the crate root:   Rscript tests/r/make_glmnet_golden.R
# Writes tests/golden/glmnet/*.json (each < 200 KB). Every file records the R and
# glmnet versions. Matrices are column-major (R's as.vector order): x[j*n + i],
# beta[l*p + j]. foldid0 is 0-based.
suppressMessages({
  library(glmnet)
  library(jsonlite)
})

out_dir <- file.path("tests", "golden", "glmnet")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
versions <- list(glmnet = as.character(packageVersion("glmnet")),
                 R = R.version.string)

write_case <- function(obj, name) {
  obj$name <- name
  obj$versions <- versions
  f <- file.path(out_dir, paste0(name, ".json"))
  writeLines(toJSON(obj, digits = I(17), auto_unbox = TRUE, null = "null",
                    na = "null"), f)
  sz <- file.info(f)$size
  if (sz > 200000) stop(name, " is too large: ", sz)
  cat(sprintf("%-28s %7d bytes\n", name, sz))
}

# glmnet arguments recorded with the path; NULL -> R default.
path_case <- function(x, y, args) {
  fit <- do.call(glmnet, c(list(x = x, y = y, family = "binomial"), args))
  list(
    lambda = fit$lambda, a0 = unname(fit$a0), beta = as.vector(as.matrix(fit$beta)),
    df = unname(fit$df), dev_ratio = fit$dev.ratio, nulldev = fit$nulldev,
    npasses = fit$npasses, jerr = fit$jerr
  )
}

cv_case <- function(x, y, foldid, measure, args) {
  cv <- do.call(cv.glmnet, c(list(x = x, y = y, family = "binomial",
                                  foldid = foldid, type.measure = measure,
                                  keep = TRUE), args))
  imin <- match(cv$lambda.min, cv$lambda)
  list(
    measure = measure, lambda = cv$lambda, cvm = cv$cvm, cvsd = cv$cvsd,
    nzero = unname(cv$nzero), lambda_min = cv$lambda.min,
    lambda_1se = cv$lambda.1se,
    # out-of-fold linear predictors at lambda.min (fit.preval is on the link scale)
    preval_at_min = unname(cv$fit.preval[, imin])
  )
}

inputs <- function(x, y, args) {
  c(list(n = nrow(x), p = ncol(x), x = as.vector(x), y = y), args)
}

# --- 1. study-shaped data: n = 150, p = 12, ~15% positives, 10 folds -------
set.seed(20240611)
n <- 150; p <- 12
z <- rnorm(n)
x <- sapply(1:p, function(j) 0.5 * z + rnorm(n))   # mildly correlated
x <- round(x, 8)
eta <- -2.4 + 0.9 * x[, 1] - 0.7 * x[, 2] + 0.5 * x[, 5]
y <- rbinom(n, 1, plogis(eta))
foldid <- sample(rep(1:10, length = n))
for (a in c(0.5, 1)) {
  args <- list(alpha = a)
  obj <- inputs(x, y, args)
  obj$positives <- sum(y)
  obj$foldid0 <- foldid - 1
  obj$path <- path_case(x, y, args)
  obj$cv <- lapply(c("deviance", "class", "auc", "mse", "mae"),
                   function(m) cv_case(x, y, foldid, m, args))
  write_case(obj, sprintf("study_alpha%03d", round(100 * a)))
}

# --- 2. very different predictor scales and locations ----------------------
set.seed(7)
n <- 120; p <- 8
scales <- c(1e-4, 1e-2, 1, 10, 1e3, 1e5, 0.5, 3)
locs <- c(0, 5, -3, 1e4, 0, -2e5, 1, 0)
x0 <- matrix(rnorm(n * p), n, p)
x <- round(sweep(sweep(x0, 2, scales, "*"), 2, locs, "+"), 10)
y <- rbinom(n, 1, plogis(0.3 + x0[, 1] - x0[, 4] + 0.8 * x0[, 6]))
write_case(c(inputs(x, y, list(alpha = 1, standardize = TRUE)),
             list(path = path_case(x, y, list(alpha = 1)))), "scales_std")
xs <- x0 %*% diag(c(0.2, 0.5, 1, 2, 5, 0.1, 1, 3))
xs <- round(xs, 10)
write_case(c(inputs(xs, y, list(alpha = 0.8, standardize = FALSE)),
             list(path = path_case(xs, y, list(alpha = 0.8, standardize = FALSE)))),
           "scales_nostd")

# --- 3. weights, penalty factors, no intercept --------------------------------
set.seed(99)
n <- 160; p <- 10
x <- round(matrix(rnorm(n * p), n, p), 8)
y <- rbinom(n, 1, plogis(0.5 + x[, 1] - x[, 3] + 0.5 * x[, 7]))
w <- round(runif(n, 0.2, 3), 6); w[c(3, 50)] <- 0
pf <- c(0, 1, 2, 0.5, 1, 1, 3, 1, 1, 1)
args <- list(alpha = 0.7, weights = w, penalty.factor = pf)
obj <- inputs(x, y, args)
obj$path <- path_case(x, y, args)
foldid <- sample(rep(1:5, length = n))
obj$foldid0 <- foldid - 1
obj$cv <- lapply(c("deviance", "mae", "auc"),
                 function(m) cv_case(x, y, foldid, m, args))
write_case(obj, "weights_pf")
args <- list(alpha = 1, intercept = FALSE)
write_case(c(inputs(x, y, args), list(path = path_case(x, y, args))), "no_intercept")
args <- list(alpha = 0.5, intercept = FALSE, standardize = FALSE, weights = w)
write_case(c(inputs(x, y, args), list(path = path_case(x, y, args))),
           "no_intercept_nostd_w")

# --- 4. path limits and odd arguments -------------------------------------------
set.seed(3)
n <- 100; p <- 15
x <- round(matrix(rnorm(n * p), n, p), 8)
y <- rbinom(n, 1, plogis(x[, 1:6] %*% c(1, -1, 0.8, -0.6, 0.5, 0.4)))
cases <- list(
  dfmax4 = list(dfmax = 4),
  pmax5 = list(pmax = 5),
  lmr_1e8 = list(lambda.min.ratio = 1e-8, nlambda = 40),
  nlambda1 = list(nlambda = 1),
  nlambda3 = list(nlambda = 3),
  user_unsorted = list(lambda = c(0.001, 0.5, 0.05, 0.2, 0.01, 0.1)),
  maxit10 = list(maxit = 10),
  maxit15 = list(maxit = 15),
  maxit30 = list(maxit = 30),
  maxit35 = list(maxit = 35),
  maxit45 = list(maxit = 45),
  maxit60_a05 = list(maxit = 60, alpha = 0.5),
  thresh_1e12 = list(thresh = 1e-12, alpha = 0.3, nlambda = 50),
  ridge_user = list(alpha = 0, lambda = c(5, 1, 0.2, 0.04, 0.008))
)
lim <- inputs(x, y, list())
lim$cases <- lapply(names(cases), function(nm) {
  r <- suppressWarnings(path_case(x, y, cases[[nm]]))
  list(case = nm, args = cases[[nm]], path = r)
})
write_case(lim, "limits")
