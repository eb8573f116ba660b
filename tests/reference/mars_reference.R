# Reference values for tests/mapping/test_mars.py (MARS, wholesoil.mapping._mars).
#
# Run:  Rscript tests/reference/mars_reference.R > tests/reference/mars_reference.json
#
# What it records (R and earth versions are written into the JSON): for each data set, the data
# (training X, y and a test matrix, 17 significant digits, so the Python tests never need R) and,
# for each earth() call, the forward-pass terms (earth's dirs and cuts, in the order earth added
# them), the selected terms, coefficients, RSS, RSq, GCV, GRSq, the backward pass's RSS and GCV
# per subset size, earth's termination code and predictions on the test matrix. Term factors are
# written as [predictor (0-based), direction, cut], direction as earth's dirs: 1 = h(x-cut),
# -1 = h(cut-x), 2 = linear.
#
# Data (all generated here, RNGkind Mersenne-Twister / Inversion / Rejection):
#   hinge     x = 0, 0.01, ..., 1 (101 values), y = 3 max(0, x - 0.4), no noise;
#             earth defaults, and minspan = 1, endspan = 1 (every case a candidate knot).
#   twohinge  x = 0, 0.005, ..., 1 (201 values), y = 1 - 2 max(0, 0.3 - x) + 4 max(0, x - 0.7), no
#             noise, minspan = endspan = 1: greedy MARS does not find the knots exactly (the first
#             pair goes to 0.74, and h(x - 0.3) is then rejected as collinear by earth's Tol).
#   grid2     21 x 21 grid on [0, 1]^2, y = 2 max(0, x1 - 0.3) + 3 max(0, 0.6 - x2), no noise,
#             minspan = endspan = 1: exact recovery (earth keeps a zero-coefficient extra term).
#   additive  set.seed(2024), n = 200, x1, x2 ~ U(0, 1),
#             y = 2 max(0, x1 - 0.3) - 1.5 max(0, 0.7 - x2) + N(0, 0.05^2); earth defaults.
#   friedman1 set.seed(1991), n = 200, x1..x10 ~ U(0, 1) (x6..x10 are noise),
#             y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + N(0, 1)
#             (Friedman 1991, Sec. 4.4; mlbench.friedman1); degree 1 and degree 2, defaults, and
#             degree 1 with nprune = 5.
#   mixed     set.seed(7), n = 150, x1 ~ U(0, 1), x2 ~ Bernoulli(0.5), x3 ~ uniform on 0..4,
#             y = 2 max(0, x1 - 0.5) + 1.5 x2 + 0.3 x3 + x1 x2 + N(0, 0.1^2): predictors entering
#             linearly (earth's "Auto.linpreds"); degree 1 and degree 2, defaults.
#   wide      set.seed(25), n = 250, x1..x25 ~ U(0, 1), y = sum_{j<=12} sin(3 x_j) + N(0, 0.1^2);
#             degree 1 with earth's default fast.k = 20 and with fast.k = 0 (no Fast MARS queue).
#             With more than ten predictors earth 5.3.2's default fit stops at 21 terms because
#             its parent queue keeps terms that cannot be parents (see _mars.py); fast.k = 0
#             shows the forward pass without that limit.
# Test matrices: 40 rows ~ U(0, 1) from the same stream, after the training data (mixed: drawn
# as its training data).
# spans: earth's own report of the automatic minspan and endspan (Friedman 1991 Eqs. 43 and 45)
# for the intercept parent, read from the "Forward pass: minspan M endspan E" line that
# earth(trace = 2) prints, for several numbers of cases and predictors.

suppressPackageStartupMessages(library(earth))
options(digits = 17)
RNGkind("Mersenne-Twister", "Inversion", "Rejection")

# ---- a minimal JSON writer with 17 significant digits (jsonlite rounds to 15) ----------------
num <- function(x) {
  if (is.integer(x)) return(sprintf("%d", x))
  ifelse(is.finite(x), sprintf("%.17g", x), "null")
}
vec <- function(x) paste0("[", paste(num(x), collapse = ", "), "]")
mat <- function(m) paste0("[", paste(apply(m, 1, vec), collapse = ",\n  "), "]")
str <- function(s) paste0('"', gsub('"', '\\\\"', s), '"')
obj <- function(...) {
  kv <- list(...)
  paste0("{", paste(str(names(kv)), unlist(kv), sep = ": ", collapse = ",\n "), "}")
}

terms_json <- function(dirs, cuts) {
  rows <- vapply(seq_len(nrow(dirs)), function(i) {
    j <- which(dirs[i, ] != 0)
    if (!length(j)) return("[]")
    paste0("[", paste(sprintf("[%d, %d, %s]", j - 1L, as.integer(dirs[i, j]), num(cuts[i, j])),
                      collapse = ", "), "]")
  }, "")
  paste0("[", paste(rows, collapse = ", "), "]")
}

fit_json <- function(x, y, xtest, ...) {
  m <- earth(x = x, y = y, ...)
  args <- list(...)
  sel <- m$selected.terms
  obj(
    args = if (length(args)) obj_args(args) else "{}",
    nk = num(as.integer(m$nk)),
    penalty = num(m$penalty),
    termcond = num(as.integer(m$termcond)),
    forward_terms = terms_json(m$dirs, m$cuts),
    forward_names = paste0("[", paste(str(rownames(m$dirs)), collapse = ", "), "]"),
    selected = vec(as.integer(sel - 1L)),
    selected_names = paste0("[", paste(str(rownames(m$coefficients)), collapse = ", "), "]"),
    coefficients = vec(as.vector(m$coefficients)),
    rss = num(m$rss), rsq = num(m$rsq), gcv = num(m$gcv), grsq = num(m$grsq),
    rss_per_subset = vec(m$rss.per.subset),
    gcv_per_subset = vec(m$gcv.per.subset),
    predictions = vec(as.vector(predict(m, xtest)))
  )
}
obj_args <- function(a) do.call(obj, lapply(a, num))

dataset_json <- function(x, y, xtest, fits) {
  obj(x = mat(x), y = vec(y), x_test = mat(xtest), fits = do.call(obj, fits))
}

named <- function(x) { colnames(x) <- paste0("x", seq_len(ncol(x))); x }

# hinge
x <- named(matrix(seq(0, 1, by = 0.01), ncol = 1))
y <- 3 * pmax(0, x[, 1] - 0.4)
xt <- named(matrix(seq(-0.05, 1.05, length.out = 23), ncol = 1))
hinge <- dataset_json(x, y, xt, list(
  default = fit_json(x, y, xt),
  span1 = fit_json(x, y, xt, minspan = 1L, endspan = 1L)))

# twohinge
x <- named(matrix(seq(0, 1, by = 0.005), ncol = 1))
y <- 1 - 2 * pmax(0, 0.3 - x[, 1]) + 4 * pmax(0, x[, 1] - 0.7)
xt <- named(matrix(seq(-0.05, 1.05, length.out = 23), ncol = 1))
twohinge <- dataset_json(x, y, xt, list(span1 = fit_json(x, y, xt, minspan = 1L, endspan = 1L)))

# grid2
g <- seq(0, 1, by = 0.05)
x <- named(as.matrix(expand.grid(g, g)))
y <- 2 * pmax(0, x[, 1] - 0.3) + 3 * pmax(0, 0.6 - x[, 2])
xt <- named(matrix(seq(-0.05, 1.05, length.out = 46), ncol = 2))
grid2 <- dataset_json(x, y, xt, list(span1 = fit_json(x, y, xt, minspan = 1L, endspan = 1L)))

# additive
set.seed(2024)
n <- 200
x <- named(matrix(runif(2 * n), n, 2))
y <- 2 * pmax(0, x[, 1] - 0.3) - 1.5 * pmax(0, 0.7 - x[, 2]) + rnorm(n, sd = 0.05)
xt <- named(matrix(runif(2 * 40), 40, 2))
additive <- dataset_json(x, y, xt, list(default = fit_json(x, y, xt)))

# friedman1
set.seed(1991)
n <- 200
x <- named(matrix(runif(10 * n), n, 10))
y <- 10 * sin(pi * x[, 1] * x[, 2]) + 20 * (x[, 3] - 0.5)^2 + 10 * x[, 4] + 5 * x[, 5] + rnorm(n)
xt <- named(matrix(runif(10 * 40), 40, 10))
friedman1 <- dataset_json(x, y, xt, list(
  degree1 = fit_json(x, y, xt),
  degree2 = fit_json(x, y, xt, degree = 2L),
  nprune5 = fit_json(x, y, xt, nprune = 5L)))

# mixed
set.seed(7)
draw <- function(n) {
  named(cbind(runif(n), rbinom(n, 1, 0.5), sample(0:4, n, replace = TRUE)))
}
n <- 150
x <- draw(n)
y <- 2 * pmax(0, x[, 1] - 0.5) + 1.5 * x[, 2] + 0.3 * x[, 3] + x[, 1] * x[, 2] + rnorm(n, sd = 0.1)
xt <- draw(40)
mixed <- dataset_json(x, y, xt, list(
  degree1 = fit_json(x, y, xt),
  degree2 = fit_json(x, y, xt, degree = 2L)))

# wide
set.seed(25)
n <- 250
x <- named(matrix(runif(25 * n), n, 25))
y <- rowSums(sin(3 * x[, 1:12])) + rnorm(n, sd = 0.1)
xt <- named(matrix(runif(25 * 40), 40, 25))
wide <- dataset_json(x, y, xt, list(
  fastk20 = fit_json(x, y, xt),
  fastk0 = fit_json(x, y, xt, fast.k = 0L)))

# spans
span_rows <- character(0)
for (n in c(50L, 200L, 1000L, 5000L)) for (p in c(1L, 3L, 10L, 30L)) {
  set.seed(1)
  x <- named(matrix(runif(n * p), n, p))
  out <- capture.output(earth(x, x[, 1] + rnorm(n), nk = 3, trace = 2))
  line <- grep("Forward pass: minspan", out, value = TRUE)
  mm <- as.integer(sub(".*minspan ([0-9]+) endspan ([0-9]+).*", "\\1", line))
  ee <- as.integer(sub(".*minspan ([0-9]+) endspan ([0-9]+).*", "\\2", line))
  span_rows <- c(span_rows, vec(c(n, p, mm, ee)))
}
spans <- paste0("[", paste(span_rows, collapse = ", "), "]")

cat(obj(
  r_version = str(R.version.string),
  earth_version = str(as.character(packageVersion("earth"))),
  spans_n_p_minspan_endspan = spans,
  datasets = obj(hinge = hinge, twohinge = twohinge, grid2 = grid2, additive = additive, friedman1 = friedman1, mixed = mixed,
                 wide = wide)
), "\n")
