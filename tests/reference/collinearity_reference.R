# Reference values for tests/stats/test_collinearity.py and tests/stats/test_grouped_pca.py.
#
# Run:  Rscript tests/reference/collinearity_reference.R > tests/reference/collinearity_reference.json
#
# What it records (R and caret versions are written into the JSON):
#   * caret::findCorrelation(cor(X), cutoff, exact = FALSE / TRUE) for several data sets and
#     cutoffs, and for hand-written correlation matrices with exact ties (which variable of a tied
#     pair caret drops differs between its two algorithms);
#   * caret::findLinearCombos(X) (qr() with R's LINPACK dqrdc2, rank deflation);
#   * stats::prcomp(X, scale. = TRUE) per covariate group: eigenvalues (sdev^2), rotation, scores.
# Every data set and every correlation matrix is written in full (17 significant digits), so the
# Python tests never need R. Indices are R's (1-based).
#
# Data: R's built-in `USJudgeRatings` (12 lawyers' ratings of 43 US Superior Court judges),
# `longley` (Longley 1967, 7 macroeconomic series, strongly collinear) and `mtcars` (Henderson &
# Velleman 1981), plus `soil_covariates`, a synthetic table in the spirit of Wang G. et al. (manuscript) (edaphic,
# climatic and topographic covariates, a biome factor as full-rank-free dummies, layer depths):
# it is generated below with set.seed(4) under RNGkind Mersenne-Twister / Inversion / Rejection
# and contains two exact linear dependencies (sand = 100 - clay - silt, with the biome dummies
# summing to one; thickness = bottom - top).

suppressPackageStartupMessages(library(caret))
options(digits = 17)

# ---- a minimal JSON writer that keeps 17 significant digits (jsonlite rounds to 15) ----------
scalar <- function(x) structure(x, class = c("scalar", class(x)))
num <- function(x) {
  if (is.integer(x)) return(sprintf("%d", x))
  sprintf("%.17g", x)
}
to_json <- function(x) {
  if (is.null(x)) return("null")
  if (inherits(x, "scalar")) {
    x <- unclass(x)
    if (is.character(x)) return(paste0('"', x, '"'))
    if (is.logical(x)) return(if (x) "true" else "false")
    return(num(x))
  }
  if (is.list(x)) {
    if (!is.null(names(x))) {
      items <- vapply(names(x), function(n) paste0('"', n, '": ', to_json(x[[n]])), "")
      return(paste0("{", paste(items, collapse = ", "), "}"))
    }
    return(paste0("[", paste(vapply(x, to_json, ""), collapse = ", "), "]"))
  }
  if (is.matrix(x)) {
    rows <- vapply(seq_len(nrow(x)), function(i) to_json(unname(x[i, ])), "")
    return(paste0("[", paste(rows, collapse = ",\n  "), "]"))
  }
  if (is.character(x)) return(paste0("[", paste0('"', x, '"', collapse = ", "), "]"))
  if (is.logical(x)) return(paste0("[", paste(ifelse(x, "true", "false"), collapse = ", "), "]"))
  if (length(x) == 0) return("[]")
  paste0("[", paste(num(x), collapse = ", "), "]")
}

# ---- data ------------------------------------------------------------------------------------
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(4)
n <- 60
clay <- round(runif(n, 5, 55), 1)
silt <- round(pmin(runif(n, 10, 40), 95 - clay), 1)
sand <- 100 - clay - silt                        # exact: sand + clay + silt = 100 * (sum of dummies)
cec <- round(2 + 0.45 * clay + rnorm(n, 0, 1.5), 2)   # strongly tied to clay
ph <- round(rnorm(n, 6.2, 0.8), 2)
bd <- round(1.65 - 0.006 * clay + rnorm(n, 0, 0.05), 3)
mat <- round(rnorm(n, 12, 6), 2)
pet <- round(600 + 45 * mat + rnorm(n, 0, 20), 1)     # nearly a linear function of mat
map <- round(pmax(150, 900 + 20 * mat + rnorm(n, 0, 250)), 1)
aridity <- round(map / pet, 4)
elevation <- round(pmax(0, 1200 - 60 * mat + rnorm(n, 0, 150)), 0)
slope <- round(abs(rnorm(n, 8, 5)), 2)
twi <- round(14 - 0.6 * slope + rnorm(n, 0, 1), 2)
biome <- factor(sample(c("forest", "grassland", "cropland"), n, replace = TRUE),
                levels = c("forest", "grassland", "cropland"))
top <- sample(c(0, 10, 20, 30, 50), n, replace = TRUE)
bottom <- top + sample(c(10, 20, 30), n, replace = TRUE)
thickness <- bottom - top                        # exact: thickness = bottom - top
dummies <- model.matrix(~ biome - 1)             # all three levels, as caret::dummyVars does
colnames(dummies) <- paste0("biome_", levels(biome))
soil <- data.frame(clay, silt, sand, cec, ph, bd, mat, map, pet, aridity, elevation, slope, twi,
                   dummies, top, bottom, thickness)

# more columns than rows: rank is at most n
set.seed(7)
wide <- matrix(round(rnorm(5 * 8), 3), nrow = 5, dimnames = list(NULL, paste0("w", 1:8)))
# an all-zero column and an exact multiple
zero_col <- cbind(a = c(1, 2, 3, 4), z = 0, b = c(2, 4, 6, 8), c = c(1, 0, 1, 5))

datasets <- list(
  USJudgeRatings = USJudgeRatings,
  longley = longley,
  mtcars = mtcars,
  soil_covariates = soil,
  wide = as.data.frame(wide),
  zero_column = as.data.frame(zero_col)
)

# hand-written correlation matrices with exact ties
tie2 <- matrix(c(1, 0.95, 0.95, 1), 2)
cs4 <- matrix(0.95, 4, 4); diag(cs4) <- 1            # compound symmetry: every mean ties
block <- diag(6)
block[1, 2] <- block[2, 1] <- 0.92
block[3, 4] <- block[4, 3] <- 0.92                   # two identical blocks: tied means
block[5, 6] <- block[6, 5] <- 0.5
block[1, 5] <- block[5, 1] <- 0.3
block[3, 6] <- block[6, 3] <- 0.3
neg <- matrix(c(1, -0.97, 0.2, -0.97, 1, -0.1, 0.2, -0.1, 1), 3)  # |r| is what counts
compound <- function(p, r) { m <- matrix(r, p, p); diag(m) <- 1; m }
circulant <- function(v) t(sapply(seq_along(v), function(i) v[(seq_along(v) - i) %% length(v) + 1]))
# 22 variables, correlations spanning 11 orders of magnitude: the long-double column sums differ
# in the last bit, and only R's factor levels (15 significant digits) make them tie again.
half22 <- c(1.0, 0.95, 7.85840647685898e-12, 0.00020880448185153495, 0.1677378886208099,
            3.02737542211478e-06, 0.0013808665487533736, 0.022320547071405142,
            0.001619307871124032, 0.0031678965056213676, 0.0007807055510956432,
            0.027041032754550706)
# Ties that hold mathematically but not in floating point: compound symmetry (exact algorithm:
# row means against whole-matrix means) and circulant matrices, a ring of correlations such as
# aspect sectors (fast algorithm: equal column means summed in different orders; R compares them
# as factor levels, i.e. to 15 significant digits).
matrices <- list(tie2 = tie2, compound4 = cs4, two_blocks = block, negative = neg,
                 compound6 = compound(6, 0.99), compound8 = compound(8, 0.95),
                 circulant7 = circulant(c(1, 0.94, 0.42, 0.19, 0.19, 0.42, 0.94)),
                 circulant8 = circulant(c(1, 0.91, 0.64, 0.75, 0.58, 0.75, 0.64, 0.91)),
                 circulant22 = circulant(c(half22, rev(half22[2:11]))))

# ---- caret ------------------------------------------------------------------------------------
fc <- list()
add_fc <- function(source, name, r, cutoffs) {
  for (cutoff in cutoffs) for (exact in c(FALSE, TRUE)) {
    fc[[length(fc) + 1]] <<- list(
      source = scalar(source), name = scalar(name), cutoff = scalar(cutoff),
      exact = scalar(exact),
      result = as.integer(findCorrelation(r, cutoff = cutoff, exact = exact))
    )
  }
}
cors <- list()
for (nm in c("USJudgeRatings", "longley", "mtcars", "soil_covariates")) {
  r <- cor(datasets[[nm]])
  cors[[nm]] <- r
  add_fc("dataset", nm, r, c(0.75, 0.9, 0.95))
}
for (nm in names(matrices)) add_fc("matrix", nm, matrices[[nm]], c(0.9))
add_fc("matrix", "two_blocks", block, c(0.25, 0.4))

# caret's default algorithm: exact = ncol(x) < 100. A 4-variable block inside an identity matrix
# of 99 and of 100 variables, on which the two algorithms disagree, shows the switch.
switch_block <- matrix(c(1, 0.97, 0.99, 0.58,
                         0.97, 1, 0.74, 0.64,
                         0.99, 0.74, 1, 0.81,
                         0.58, 0.64, 0.81, 1), 4)
default_switch <- lapply(c(99L, 100L), function(p) {
  m <- diag(p); m[1:4, 1:4] <- switch_block
  list(p = scalar(p), cutoff = scalar(0.9),
       result_default = as.integer(findCorrelation(m, cutoff = 0.9)),
       result_fast = as.integer(findCorrelation(m, cutoff = 0.9, exact = FALSE)),
       result_exact = as.integer(findCorrelation(m, cutoff = 0.9, exact = TRUE)))
})

flc <- list()
for (nm in c("longley", "soil_covariates", "wide", "zero_column")) {
  res <- findLinearCombos(as.matrix(datasets[[nm]]))
  flc[[nm]] <- list(
    linear_combos = lapply(res$linearCombos, as.integer),
    remove = if (is.null(res$remove)) integer(0) else as.integer(res$remove)
  )
}

groups <- list(
  soil_covariates = list(
    edaphic = c("clay", "silt", "sand", "cec", "ph", "bd"),
    climatic = c("mat", "map", "pet", "aridity"),
    topographic = c("elevation", "slope", "twi")
  ),
  mtcars = list(
    engine = c("cyl", "disp", "hp", "carb"),
    body = c("wt", "qsec", "drat", "mpg")
  )
)
pca <- list()
for (nm in names(groups)) {
  out <- list()
  for (g in names(groups[[nm]])) {
    p <- prcomp(datasets[[nm]][, groups[[nm]][[g]]], center = TRUE, scale. = TRUE)
    out[[g]] <- list(columns = groups[[nm]][[g]], eigenvalues = p$sdev^2,
                     rotation = unname(p$rotation), scores = unname(p$x))
  }
  pca[[nm]] <- out
}

ds_json <- lapply(datasets, function(d) {
  list(columns = names(d), rows = unname(as.matrix(d)))
})

out <- list(
  generated_by = scalar("tests/reference/collinearity_reference.R"),
  R_version = scalar(R.version.string),
  caret_version = scalar(as.character(packageVersion("caret"))),
  rng = scalar(paste(RNGkind(), collapse = "/")),
  datasets = ds_json,
  correlation_matrices = c(lapply(cors, unname), lapply(matrices, unname)),
  find_correlation = fc,
  default_switch = list(block = switch_block, cases = default_switch),
  find_linear_combos = flc,
  groups = groups,
  prcomp = pca
)
cat(to_json(out), "\n")
