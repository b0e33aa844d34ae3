# The study's statistics computed again by R, on canary's own tables, for a reviewer:
# every Spearman correlation of Figure 3 with cor.test, and the Table 2 model with
# cv.glmnet on the same rows and folds. Writes one row per check: how many numbers were
# compared, the largest differences, and whether all agree to 1e-9 (relative, or absolute
# near zero). A `script` stage of pipeline.yaml (`r_check`), run when Rscript is installed.
suppressMessages({
  library(glmnet)
  library(jsonlite)
})
params <- fromJSON(Sys.getenv("CANARY_PARAMS"))
tol <- params$tolerance

agreement <- function(check, ours, r) {
  ok <- is.finite(ours) & is.finite(r)
  d <- abs(ours[ok] - r[ok])
  rel <- d / pmax(abs(r[ok]), 1e-300)
  data.frame(
    check = check,
    compared = sum(ok),
    not_comparable = sum(!ok & !(is.na(ours) & is.na(r))),
    max_abs_diff = if (any(ok)) max(d) else NA_real_,
    max_rel_diff = if (any(abs(r[ok]) > tol)) max(rel[abs(r[ok]) > tol]) else NA_real_,
    agree = all(d <= tol | rel <= tol) && all(ok | (is.na(ours) & is.na(r))),
    stringsAsFactors = FALSE
  )
}

# Figure 3: cor.test(method = "spearman") on the complete pairs of each year.
wide <- read.csv(Sys.getenv("CANARY_IN_PANEL_WIDE"), stringsAsFactors = FALSE)
cors <- read.csv(Sys.getenv("CANARY_IN_CORRELATIONS"), stringsAsFactors = FALSE)
rho <- p <- rep(NA_real_, nrow(cors))
for (i in seq_len(nrow(cors))) {
  w <- wide[wide$year == cors$year[i], c(cors$x[i], cors$y[i])]
  w <- w[complete.cases(w), ]
  if (nrow(w) >= 3) {
    t <- suppressWarnings(cor.test(w[[1]], w[[2]], method = "spearman"))
    rho[i] <- unname(t$estimate)
    p[i] <- t$p.value
  }
}
out <- rbind(
  agreement("spearman rho (cor.test)", cors$rho, rho),
  agreement("spearman p value (cor.test)", cors$p, p)
)

# Table 2: cv.glmnet on model_design, its folds and alpha.
design <- read.csv(Sys.getenv("CANARY_IN_MODEL_DESIGN"), stringsAsFactors = FALSE)
summary <- read.csv(Sys.getenv("CANARY_IN_MODEL_SUMMARY"), stringsAsFactors = FALSE)
coefs <- read.csv(Sys.getenv("CANARY_IN_MODEL_COEFFICIENTS"), stringsAsFactors = FALSE)
predictors <- setdiff(names(design), c("la_code", "fold", "outcome", "imputed"))
cv <- cv.glmnet(as.matrix(design[, predictors]), design$outcome, family = "binomial",
                alpha = summary$alpha, foldid = design$fold, type.measure = "deviance")
ours <- coefs[coefs$choice == "lambda.min", ]
r_coef <- as.vector(coef(cv$glmnet.fit, s = cv$lambda.min))
names(r_coef) <- c("(Intercept)", predictors)
out <- rbind(out,
  agreement("cv.glmnet lambda.min", summary$lambda_min, cv$lambda.min),
  agreement("cv.glmnet lambda.1se", summary$lambda_1se, cv$lambda.1se),
  agreement("glmnet coefficients at lambda.min", ours$coefficient, r_coef[ours$term]),
  agreement("glmnet dev.ratio at lambda.min", summary$dev_ratio,
            cv$glmnet.fit$dev.ratio[which(cv$lambda == cv$lambda.min)])
)
out$r_version <- paste(R.version$major, R.version$minor, sep = ".")
out$glmnet_version <- as.character(packageVersion("glmnet"))
write.csv(out, Sys.getenv("CANARY_OUT_R_CHECK"), row.names = FALSE)
cat(sprintf("%s: %d compared, agree = %s\n", out$check, out$compared, out$agree), sep = "")
