# Golden reference numbers for src/stats (rank, quantile, spearman, wilcoxon,
# distributions). Run from the crate root:
#   Rscript tests/r/make_stats_golden.R
# Writes tests/golden/stats_*.json. Numbers are printed with 17 significant
# digits ("%.17g") by the small serialiser below, because jsonlite's
# digits = NA stops at 15. Non-finite numbers: NA/NaN -> null, +-Inf -> "Inf"/"-Inf".

suppressWarnings(RNGversion("4.0.0"))
set.seed(20240531)

num <- function(v) {
  s <- ifelse(is.na(v), "null",
       ifelse(is.infinite(v), ifelse(v > 0, '"Inf"', '"-Inf"'), sprintf("%.17g", v)))
  s
}
to_json <- function(x, indent = "") {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    inner <- paste0(indent, "  ")
    if (!is.null(names(x))) {
      items <- vapply(names(x), function(k)
        paste0(inner, '"', k, '": ', to_json(x[[k]], inner)), "")
      return(paste0("{\n", paste(items, collapse = ",\n"), "\n", indent, "}"))
    }
    items <- vapply(x, function(e) paste0(inner, to_json(e, inner)), "")
    return(paste0("[\n", paste(items, collapse = ",\n"), "\n", indent, "]"))
  }
  if (is.character(x)) {
    s <- paste0('"', x, '"')
  } else if (is.logical(x)) {
    s <- ifelse(x, "true", "false")
  } else {
    s <- num(as.numeric(x))
  }
  if (inherits(x, "AsIs") || length(x) != 1) paste0("[", paste(s, collapse = ","), "]") else s
}
write_golden <- function(name, description, cases) {
  doc <- list(
    description = description,
    r_version = R.version.string,
    generated_by = "tests/r/make_stats_golden.R",
    cases = cases
  )
  path <- file.path("tests", "golden", paste0("stats_", name, ".json"))
  writeLines(to_json(doc), path)
  cat("wrote", path, "(", length(cases), "cases )\n")
}

# ---------------------------------------------------------------- quantile
qprobs <- c(0, 0.1, 0.25, 1/3, 0.5, 0.75, 0.9, 1)
qvecs <- list(
  n1 = c(3.7),
  n2 = c(-1, 2.5),
  n3 = c(5, -2, 0.1),
  ties = c(1, 1, 1, 2, 2, 3, 10, 10),
  negative = c(-5.5, -3.2, -10, -0.001, -7),
  rnorm17 = rnorm(17), # full precision on purpose
  rexp100 = rexp(100) * 1e6,
  tiny = c(1e-300, 3e-300, 2e-300, 5e-301),
  mixed_inf = c(-Inf, 1, 2, 3, Inf),
  upper_inf = c(1, Inf, Inf),
  la150 = round(runif(150, 0, 100), 1)
)
quantile_cases <- lapply(names(qvecs), function(nm) {
  x <- qvecs[[nm]]
  list(name = nm, x = I(x), probs = I(qprobs),
       q = I(unname(quantile(x, qprobs, type = 7))),
       median = median(x),
       q1 = unname(quantile(x, 0.25)), q3 = unname(quantile(x, 0.75)))
})
write_golden("quantile", "R quantile(x, probs, type = 7), median(x), quartiles", quantile_cases)

# ---------------------------------------------------------------- spearman
# One case = one (x, y) with the p-value for each alternative. Large samples
# are stored as integer ranks (no ties) to keep the file small.
sp_case <- function(name, x, y) {
  ct <- function(alt) suppressWarnings(cor.test(x, y, method = "spearman", alternative = alt))
  two <- ct("two.sided")
  list(name = name, n = sum(complete.cases(x, y)), x = I(x), y = I(y),
       rho = unname(two$estimate), S = unname(two$statistic),
       p_two_sided = two$p.value, p_less = ct("less")$p.value, p_greater = ct("greater")$p.value)
}
as_ranks <- function(v) as.numeric(rank(v, ties.method = "first"))
sp <- list()
for (n in 3:9) {
  x <- round(rnorm(n), 4); y <- round(0.5 * x + rnorm(n), 4)
  sp[[length(sp) + 1]] <- sp_case(sprintf("exact_n%d", n), x, y)
}
for (n in c(10, 11, 20, 50)) {
  x <- round(rnorm(n), 6); y <- round(0.4 * x + rnorm(n), 6)
  sp[[length(sp) + 1]] <- sp_case(sprintf("noties_n%d", n), x, y)
}
for (n in c(150, 1289, 1290, 1291, 1300)) {
  z <- rnorm(n); x <- as_ranks(z); y <- as_ranks(0.15 * z + rnorm(n))
  sp[[length(sp) + 1]] <- sp_case(sprintf("noties_ranks_n%d", n), x, y)
}
# perfect and anti-perfect association
sp[[length(sp) + 1]] <- sp_case("perfect_n20", 1:20, (1:20)^2)
sp[[length(sp) + 1]] <- sp_case("antiperfect_n20", 1:20, -(1:20))
sp[[length(sp) + 1]] <- sp_case("perfect_n7", 1:7, exp(1:7))
# strong correlation at n = 150: the Edgeworth series is clamped to exactly 0
for (k in 1:3) {
  z <- rnorm(150); x <- as_ranks(z); y <- as_ranks(z + rnorm(150, sd = c(0.3, 0.1, 0.6)[k]))
  sp[[length(sp) + 1]] <- sp_case(sprintf("strong_n150_%d", k), x, y)
  sp[[length(sp) + 1]] <- sp_case(sprintf("strong_neg_n150_%d", k), x, -y)
}
# moderate correlation at n = 150 (p in the 1e-3..1e-12 range)
for (b in c(0.25, 0.4, 0.55, 0.7)) {
  z <- rnorm(150); x <- as_ranks(z); y <- as_ranks(b * z + rnorm(150))
  sp[[length(sp) + 1]] <- sp_case(sprintf("moderate_n150_b%.2f", b), x, y)
}
# ties -> t approximation, including far tails
sp[[length(sp) + 1]] <- sp_case("sullystats_ties_n8", c(100,102,103,101,105,100,99,105),
                                c(257,264,274,266,277,263,258,275))
for (n in c(5, 12, 40, 150)) {
  x <- round(rnorm(n), 0); y <- round(x + rnorm(n), 1)
  sp[[length(sp) + 1]] <- sp_case(sprintf("ties_n%d", n), x, y)
}
x <- round(rnorm(150), 1); y <- x + round(rnorm(150, sd = 0.2), 1)
sp[[length(sp) + 1]] <- sp_case("ties_strong_n150", x, y)
sp[[length(sp) + 1]] <- sp_case("ties_strong_neg_n150", x, -y)
x <- round(rnorm(150), 1); y <- round(x + rnorm(150, sd = 0.02), 3)
sp[[length(sp) + 1]] <- sp_case("ties_verystrong_n150", x, y)
z <- rnorm(1400); x <- round(z, 1); y <- as_ranks(z + rnorm(1400))
sp[[length(sp) + 1]] <- sp_case("ties_n1400", x, y)
# pairwise-complete (NA dropped)
x <- round(rnorm(30), 4); y <- round(x + rnorm(30), 4); x[c(3, 9)] <- NA; y[c(9, 21, 22)] <- NA
sp[[length(sp) + 1]] <- sp_case("with_na_n25", x, y)
x <- round(rnorm(160)); y <- round(x + rnorm(160), 3); x[c(1, 50, 77)] <- NA
sp[[length(sp) + 1]] <- sp_case("with_na_ties_n157", x, y)
write_golden("spearman", "R cor.test(x, y, method = 'spearman', alternative = ...) defaults; rho, S and p.value per alternative", sp)

# ---------------------------------------------------------------- prho (AS 89) directly
prho_cases <- list()
for (n in c(2:9, 10, 11, 15, 20, 50, 150, 500, 1290)) {
  maxs <- n * (n^2 - 1) / 3
  iss <- unique(round(c(0, 1, 2, 4, maxs * c(0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6,
                                             0.7, 0.8, 0.9, 0.95, 0.99), maxs - 2, maxs, maxs + 2)))
  for (is in iss) for (lower in c(TRUE, FALSE)) {
    prho_cases[[length(prho_cases) + 1]] <- list(
      n = n, is = is, lower = lower, p = .Call(stats:::C_pRho, is, n, lower))
  }
}
write_golden("prho", "R stats:::C_pRho(is, n, lower.tail): AS 89 P(S >= is) or P(S < is)", prho_cases)

# ---------------------------------------------------------------- wilcoxon
wx_case <- function(name, x, y, alternative = "two.sided") {
  wt <- suppressWarnings(wilcox.test(x, y, alternative = alternative))
  list(name = name, alternative = alternative, x = I(x), y = I(y),
       W = unname(wt$statistic), p = wt$p.value,
       exact = grepl("exact", wt$method))
}
wx <- list()
for (sz in list(c(1, 1), c(1, 5), c(3, 4), c(5, 7), c(10, 12), c(20, 15), c(49, 49), c(30, 49))) {
  x <- round(rnorm(sz[1]), 5); y <- round(rnorm(sz[2], mean = 0.5), 5)
  for (alt in c("two.sided", "less", "greater"))
    wx[[length(wx) + 1]] <- wx_case(sprintf("exact_%dx%d_%s", sz[1], sz[2], alt), x, y, alt)
}
x <- round(rnorm(12, 3), 5); y <- round(rnorm(10), 5)
wx[[length(wx) + 1]] <- wx_case("exact_extreme_12x10", x, y)
wx[[length(wx) + 1]] <- wx_case("exact_hw_example_greater",
  c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46), c(1.15, 0.88, 0.90, 0.74, 1.21), "greater")
for (sz in list(c(6, 8), c(25, 30), c(60, 70))) {
  x <- round(rnorm(sz[1]), 0); y <- round(rnorm(sz[2], 0.7), 0)
  for (alt in c("two.sided", "less", "greater"))
    wx[[length(wx) + 1]] <- wx_case(sprintf("ties_%dx%d_%s", sz[1], sz[2], alt), x, y, alt)
}
for (sz in list(c(50, 10), c(10, 50), c(50, 50), c(150, 120))) {
  x <- round(rnorm(sz[1]), 6); y <- round(rnorm(sz[2], 0.4), 6)
  for (alt in c("two.sided", "less", "greater"))
    wx[[length(wx) + 1]] <- wx_case(sprintf("large_%dx%d_%s", sz[1], sz[2], alt), x, y, alt)
}
x <- round(rnorm(200, 1.5), 6); y <- round(rnorm(200), 6)
wx[[length(wx) + 1]] <- wx_case("large_far_tail_200x200", x, y)
wx[[length(wx) + 1]] <- wx_case("with_na_inf", c(1.5, NA, 2.7, Inf, 0.3, 4.1), c(0.2, -Inf, 1.1, NA, 0.9))
write_golden("wilcoxon", "R wilcox.test(x, y, alternative) two-sample defaults (exact = NULL, correct = TRUE)", wx)

# ---------------------------------------------------------------- distributions
dist <- list()
for (x in c(-38, -37.5, -30, -20, -12, -8.3, -5, -3, -1.96, -0.66, -0.5, -1e-3, 0, 0.3, 0.6629, 0.7, 1, 2.5, 4.5, 6, 9, 15))
  for (lower in c(TRUE, FALSE))
    dist[[length(dist) + 1]] <- list(f = "pnorm", x = x, df = 0, lower = lower, p = pnorm(x, lower.tail = lower))
for (df in c(1, 2, 3, 6, 10, 48, 148, 1298, 1e5, 5e5))
  for (t in c(-1e10, -300, -60, -25, -12, -6, -2.5, -1, -0.2, 0, 0.4, 1.7, 4, 9, 40))
    for (lower in c(TRUE, FALSE))
      dist[[length(dist) + 1]] <- list(f = "pt", x = t, df = df, lower = lower, p = pt(t, df, lower.tail = lower))
write_golden("distributions", "R pnorm(x, lower.tail) and pt(x, df, lower.tail)", dist)

# ---------------------------------------------------------------- cor.test: one case per branch
# Each of the three ways R's cor.test(method = "spearman") computes its p-value, on data
# drawn here: ties (t approximation with n - 2 df), n = 10 without ties (AS 89 Edgeworth
# series) and n = 9 without ties (AS 89 exact enumeration), the last one-sided as well.
# Kept apart from the cases above (and seeded on its own) so that adding it changed none
# of them. `branch` names the method the Rust port must report.
set.seed(20160131)
ct_cases <- list()
x <- round(rnorm(8, 100, 2)); y <- round(260 + 4 * (x - 100) + rnorm(8, sd = 3))
ct_cases[[1]] <- c(sp_case("ties_n8", x, y), branch = "t")
x <- sample(1:10); y <- as_ranks(0.6 * x + rnorm(10, sd = 3))
ct_cases[[2]] <- c(sp_case("noties_n10", x, y), branch = "edgeworth")
x <- round(rnorm(9, 48, 5), 1); y <- round(0.15 * x + rnorm(9, sd = 0.9), 1)
ct_cases[[3]] <- c(sp_case("noties_n9", x, y), branch = "exact")
for (cs in ct_cases) {
  stopifnot(anyDuplicated(cs$x) > 0 || anyDuplicated(cs$y) > 0 || cs$branch != "t")
  stopifnot(cs$branch == "t" || (!anyDuplicated(cs$x) && !anyDuplicated(cs$y)))
}
write_golden("cor_test", "R cor.test(x, y, method = 'spearman', alternative = ...): one case per p-value branch (t with ties, Edgeworth n = 10, exact n = 9)", ct_cases)
