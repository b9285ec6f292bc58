# Recompute expected_derived.csv with R, for the held-out comparison with R.
# Needs the packages sandwich, lmtest and quantreg. From the repository root:
#   Rscript tests/reference/nerlove/check_with_R.R
# writes tests/reference/nerlove/expected_R.csv (same columns as expected_derived.csv);
# tests/test_costmodel.py then compares costperf with it (1e-6 OLS, 1e-4 rq).
library(sandwich)
library(lmtest)
library(quantreg)

here <- file.path("tests", "reference", "nerlove")
d <- read.csv(file.path(here, "nerlove1963.csv"))
d$group <- d$firm %/% 100  # Nerlove's five output-size groups
f <- log(cost) ~ log(output) + log(labor) + log(fuel) + log(capital)
rows <- list()
add <- function(model, tau, se_type, ct) {
  rows[[length(rows) + 1]] <<- data.frame(
    model = model, tau = tau, se_type = se_type, term_r = rownames(ct),
    coef = ct[, 1], se = ct[, 2]
  )
}
m <- lm(f, data = d)
add("ols", NA, "nonrobust", coef(summary(m)))
for (type in c("HC0", "HC1", "HC2", "HC3")) {
  add("ols", NA, type, coeftest(m, vcov = vcovHC(m, type = type)))
}
add("ols", NA, "cluster", coeftest(m, vcov = vcovCL(m, cluster = ~group, type = "HC1", cadjust = TRUE)))
for (tau in c(0.25, 0.5)) {
  q <- rq(f, tau = tau, data = d)
  for (se in c("iid", "nid", "ker")) add("rq", tau, se, coef(summary(q, se = se)))
}
write.csv(do.call(rbind, rows), file.path(here, "expected_R.csv"), row.names = FALSE)
