# Times R's cv.glmnet on the data written by
#   cargo bench --bench glmnet_cv -- --write-csv DIR
# Usage: Rscript tests/r/bench_glmnet_cv.R DIR
suppressMessages(library(glmnet))
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args)) args[1] else "."
d <- as.matrix(read.csv(file.path(dir, "cv_large_x.csv")))
p <- ncol(d) - 2
x <- d[, 1:p]; y <- d[, p + 1]; foldid <- d[, p + 2]
cat(sprintf("glmnet %s, n = %d, p = %d, positives = %d\n",
            packageVersion("glmnet"), nrow(x), p, sum(y)))
t <- system.time(fit <- glmnet(x, y, family = "binomial"))
cat(sprintf("single glmnet: %.3f s (%d lambdas, %d passes)\n",
            t[["elapsed"]], length(fit$lambda), fit$npasses))
t <- system.time(cv <- cv.glmnet(x, y, family = "binomial", foldid = foldid,
                                 type.measure = "deviance"))
cat(sprintf("cv.glmnet (10 folds, sequential): %.3f s; lambda.min = %.6e, lambda.1se = %.6e\n",
            t[["elapsed"]], cv$lambda.min, cv$lambda.1se))
