# Re-runs canary's `fit` stage in R: reads the exported model_design (CSV), fits
# cv.glmnet with the same folds and alpha, and prints what canary's tables record.
# Usage: Rscript tests/r/check_fit.R DESIGN.csv ALPHA PREDICTOR[,PREDICTOR...]
suppressMessages(library(glmnet))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
alpha <- as.numeric(args[2])
predictors <- strsplit(args[3], ",")[[1]]
x <- as.matrix(d[, predictors])
y <- d$outcome
cv <- cv.glmnet(x, y, family = "binomial", alpha = alpha, foldid = d$fold,
                type.measure = "deviance")
i_min <- which(cv$lambda == cv$lambda.min)
i_1se <- which(cv$lambda == cv$lambda.1se)
out <- function(name, v) cat(name, paste(sprintf("%.17g", v), collapse = " "), "\n")
out("lambda_min", cv$lambda.min)
out("lambda_1se", cv$lambda.1se)
out("dev_ratio", cv$glmnet.fit$dev.ratio[i_min])
out("coef_min", as.vector(coef(cv$glmnet.fit, s = cv$lambda.min)))
out("coef_1se", as.vector(coef(cv$glmnet.fit, s = cv$lambda.1se)))
out("n_lambda", length(cv$lambda))
out("cvm", cv$cvm)
