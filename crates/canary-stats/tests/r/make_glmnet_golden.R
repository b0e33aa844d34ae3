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

# --- 5. the variety of a reference suite of binomial paths ---------------------
# Lasso, elastic net, ridge, a short path, a tiny lambda.min.ratio and a user lambda
# sequence on one n = 200, p = 20 data set; then correlated predictors, an imbalanced
# outcome, p > n and a constant column, each on its own data.
set.seed(2016)
n <- 200; p <- 20
x <- round(matrix(rnorm(n * p), n, p), 8)
eta <- 0.15 + x[, 1] - 0.8 * x[, 2] + 0.6 * x[, 3] - 0.4 * x[, 4] + 0.3 * x[, 5]
y <- rbinom(n, 1, plogis(eta))
cases <- list(
  lasso = list(alpha = 1),
  enet_a050 = list(alpha = 0.5),
  ridge_a0 = list(alpha = 0),
  nlambda30 = list(alpha = 1, nlambda = 30),
  lmr_1e5 = list(alpha = 1, lambda.min.ratio = 1e-5),
  user_lambda = list(alpha = 1, lambda = exp(seq(log(0.2), log(0.002), length.out = 30)))
)
obj <- inputs(x, y, list(alpha = 1))
obj$positives <- sum(y)
obj$cases <- lapply(names(cases), function(nm)
  list(case = nm, args = cases[[nm]], path = path_case(x, y, cases[[nm]])))
write_case(obj, "n200_p20_paths")
# cv.glmnet with 8 fixed folds on the same data, for three type.measure values
foldid <- sample(rep(1:8, length = n))
obj <- inputs(x, y, list(alpha = 1))
obj$foldid0 <- foldid - 1
obj$cv <- lapply(c("deviance", "class", "mse"),
                 function(m) cv_case(x, y, foldid, m, list(alpha = 1)))
write_case(obj, "n200_p20_cv8")

# strongly correlated predictors (pairwise correlation about 0.8), n = 150, p = 30
set.seed(2017)
n <- 150; p <- 30
z <- rnorm(n)
x <- round(sapply(1:p, function(j) 2 * z + rnorm(n)), 8)
y <- rbinom(n, 1, plogis(0.5 * x[, 1] - 0.5 * x[, 7] + 0.3 * x[, 12]))
args <- list(alpha = 1)
write_case(c(inputs(x, y, args), list(positives = sum(y), path = path_case(x, y, args))),
           "correlated_n150_p30")

# an imbalanced outcome (about 10% positives), n = 200, p = 15
set.seed(2018)
n <- 200; p <- 15
x <- round(matrix(rnorm(n * p), n, p), 8)
y <- rbinom(n, 1, plogis(-2.6 + 0.9 * x[, 1] + 0.6 * x[, 2] - 0.5 * x[, 3]))
write_case(c(inputs(x, y, args), list(positives = sum(y), path = path_case(x, y, args))),
           "imbalanced_n200_p15")

# more predictors than rows (default lambda.min.ratio 0.01), n = 80, p = 150
set.seed(2019)
n <- 80; p <- 150
x <- round(matrix(rnorm(n * p), n, p), 4)
y <- rbinom(n, 1, plogis(x[, 1] - x[, 2] + 0.7 * x[, 3] + 0.5 * x[, 10]))
write_case(c(inputs(x, y, args), list(positives = sum(y), path = path_case(x, y, args))),
           "p_gt_n_n80_p150")

# a constant column (the fifth), n = 200, p = 20
set.seed(2020)
n <- 200; p <- 20
x <- round(matrix(rnorm(n * p), n, p), 8)
x[, 5] <- 1.5
y <- rbinom(n, 1, plogis(0.2 + x[, 1] - 0.7 * x[, 2] + 0.5 * x[, 6]))
write_case(c(inputs(x, y, args), list(positives = sum(y), path = path_case(x, y, args))),
           "constant_column_n200_p20")

# --- 6. a tiny data set whose path stops early, with link predictions -------------
# n = 10, p = 6, whole numbers 1..100; glmnet warns about a class with fewer than 8 rows.
set.seed(2021)
n <- 10; p <- 6
x <- matrix(as.numeric(sample(1:100, n * p, replace = TRUE)), n, p)
y <- c(0, 1, 1, 1, 0, 1, 1, 0, 1, 1)
fit <- suppressWarnings(glmnet(x, y, family = "binomial"))
obj <- inputs(x, y, list())
obj$path <- suppressWarnings(path_case(x, y, list()))
link <- predict(fit, newx = x, type = "link")
at <- c(16, min(62, length(fit$lambda)))
obj$predict_link <- lapply(at, function(l) list(lambda_index0 = l - 1, link = unname(link[, l])))
write_case(obj, "tiny_n10_p6")

# --- 7. assess.glmnet on a held-out set --------------------------------------------
# glmnet(x[1:70, ], y[1:70], nlambda = 5) assessed on rows 71-100: deviance, class,
# auc, mse, mae at each of the 5 lambdas.
set.seed(2022)
n <- 100; p <- 30
x <- round(matrix(rnorm(n * p), n, p), 8)
y <- rbinom(n, 1, plogis(0.3 + x[, 1:5] %*% c(1, -0.8, 0.6, 0.5, -0.4)))
itrain <- 1:70
args <- list(nlambda = 5)
fit <- do.call(glmnet, c(list(x = x[itrain, ], y = y[itrain], family = "binomial"), args))
a <- assess.glmnet(fit, newx = x[-itrain, ], newy = y[-itrain])
obj <- inputs(x, y, args)
obj$train_n <- length(itrain)
obj$assess <- list(deviance = unname(as.vector(a$deviance)), class = unname(as.vector(a$class)),
                   auc = unname(as.vector(a$auc)), mse = unname(as.vector(a$mse)),
                   mae = unname(as.vector(a$mae)))
write_case(obj, "assess_n100_p30")
