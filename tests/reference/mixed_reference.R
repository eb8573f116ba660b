# Reference values for wholesoil.stats.fit_mixed (tests/stats/test_mixed.py).
#
# Run from the repository root:  Rscript tests/reference/mixed_reference.R
# Produced with R 4.2.2 (Debian bookworm r-base-core), lme4 1.1-31, performance 0.10.2,
# insight (Debian r-cran-insight), jsonlite 1.8.4.
#
# Datasets (written as CSV beside this script):
#   mixed_sleepstudy.csv  lme4::sleepstudy (Belenky et al. 2003, J. Sleep Res. 12, 1-12;
#                         distributed with lme4, GPL >= 2; the numbers are copied as data).
#                         Random intercepts and slopes: Reaction ~ Days + (Days | Subject).
#   mixed_soc_sources.csv A synthetic set shaped like He et al.'s (2024) Table 1: 121
#                         observations from 15 sources, log10(SOC) ~ NPP + MAT + depth with
#                         z-scored predictors and a random intercept per source. Drawn here
#                         with set.seed(2002) from the Table 1 estimates (intercept 1.37, NPP
#                         0.25, MAT -0.10, depth -0.14, sigma^2 = tau00 = 0.05).
#   mixed_pastes.csv      lme4::Pastes (Davies & Goldsmith 1972): casks nested in batches,
#                         strength ~ 1 + (1 | batch/cask); in statsmodels a random intercept
#                         per batch plus a variance component for cask within batch.
#
# For every fit: fixed effects and their standard errors, sigma^2, the random-effects covariance
# (VarCorr), the Nakagawa & Schielzeth marginal/conditional R^2 (performance::r2_nakagawa,
# which for random slopes takes the random-effect variance as the mean over observations of
# diag(Z Sigma Z'), Johnson 2014), performance::icc (adjusted and unadjusted), logLik, and the
# conditional fitted values (fixed + predicted random effects).

suppressPackageStartupMessages({
  library(lme4)
  library(performance)
  library(jsonlite)
})

here <- "tests/reference"

sleep <- lme4::sleepstudy
sleep$Subject <- as.character(sleep$Subject)
write.csv(sleep, file.path(here, "mixed_sleepstudy.csv"), row.names = FALSE)

set.seed(2002)
n_src <- 15
sizes <- c(5, 6, 7, 8, 9, 10, 11, 12, 13, 6, 7, 8, 9, 5, 5)  # 121 observations
stopifnot(sum(sizes) == 121)
source <- rep(sprintf("S%02d", seq_len(n_src)), times = sizes)
npp <- round(rlnorm(121, log(500), 0.5), 1)              # g C m-2 yr-1
mat <- round(rnorm(121, 10, 8), 2)                       # degC
depth <- round(runif(121, 5, 150), 1)                    # cm
u <- rnorm(n_src, 0, sqrt(0.05))[match(source, sprintf("S%02d", seq_len(n_src)))]
y <- 1.37 + 0.25 * as.vector(scale(npp)) - 0.10 * as.vector(scale(mat)) -
  0.14 * as.vector(scale(depth)) + u + rnorm(121, 0, sqrt(0.05))
soc <- signif(10^y, 6)                                   # g C kg-1
socdat <- data.frame(source = source, npp = npp, mat = mat, depth = depth, soc = soc)
write.csv(socdat, file.path(here, "mixed_soc_sources.csv"), row.names = FALSE)

pastes <- lme4::Pastes[, c("strength", "batch", "cask")]
pastes$batch <- as.character(pastes$batch)
pastes$cask <- as.character(pastes$cask)
write.csv(pastes, file.path(here, "mixed_pastes.csv"), row.names = FALSE)

summarise <- function(m) {
  vc <- VarCorr(m)
  re <- lapply(vc, function(s) {
    s <- as.matrix(s)
    list(names = rownames(s), cov = unname(s))
  })
  r2 <- performance::r2_nakagawa(m)
  ic <- performance::icc(m)
  list(
    reml = isREML(m),
    fixef = as.list(fixef(m)),
    se = as.list(sqrt(diag(as.matrix(vcov(m))))),
    sigma2 = sigma(m)^2,
    random = re,
    r2_marginal = unname(r2$R2_marginal),
    r2_conditional = unname(r2$R2_conditional),
    icc_adjusted = unname(ic$ICC_adjusted),
    icc_unadjusted = unname(ic$ICC_unadjusted),
    var_fixed = insight::get_variance_fixed(m),
    var_random = insight::get_variance_random(m),
    loglik = as.numeric(logLik(m)),
    fitted = unname(fitted(m)),
    nobs = nobs(m),
    ngroups = as.list(ngrps(m))
  )
}

ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5))
out <- list()
for (reml in c(TRUE, FALSE)) {
  tag <- if (reml) "REML" else "ML"
  m1 <- lmer(Reaction ~ Days + (Days | Subject), data = sleep, REML = reml, control = ctrl)
  out[[paste0("sleepstudy_", tag)]] <- summarise(m1)
  z <- socdat
  z$npp <- as.vector(scale(z$npp))
  z$mat <- as.vector(scale(z$mat))
  z$depth <- as.vector(scale(z$depth))
  m2 <- lmer(log10(soc) ~ npp + mat + depth + (1 | source), data = z, REML = reml,
             control = ctrl)
  out[[paste0("soc_sources_", tag)]] <- summarise(m2)
  m3 <- lmer(strength ~ 1 + (1 | batch / cask), data = pastes, REML = reml, control = ctrl)
  out[[paste0("pastes_", tag)]] <- summarise(m3)
}
out$versions <- list(
  R = R.version.string,
  lme4 = as.character(packageVersion("lme4")),
  performance = as.character(packageVersion("performance")),
  insight = as.character(packageVersion("insight"))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(here, "mixed_reference.json"))
