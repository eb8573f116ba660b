# Reference values for tests/stats/test_anova.py (one-way ANOVA, Duncan, Tukey HSD).
#
# Run:  Rscript tests/reference/anova_reference.R > tests/reference/anova_reference.json
#
# Data: R's built-in `PlantGrowth` (Dobson 1983, Table 7.1: dried plant weight, 3 groups of 10,
# balanced) and `chickwts` (Anonymous 1948: chick weight by feed, 6 groups of 10-14, unbalanced).
# The values are written into the JSON so the Python test does not need R.
#
# ANOVA: stats::aov. Tukey: stats::TukeyHSD (Tukey-Kramer), independent of wholesoil.
# Duncan: agricolae is not packaged in Debian bookworm (no r-cran-agricolae), so
# agricolae::duncan.test (CRAN 1.3-x, R/duncan.test.R) is transcribed below in base R: harmonic
# mean n, Tprob = qtukey((1-alpha)^(1:(k-1)), 2:k, df), p = 1 - ptukey(|d|/s, span, df)^(1/(span-1)),
# letters by agricolae:::orderPvalue (also transcribed). The numbers come from base R's
# ptukey/qtukey, independent of scipy.

options(digits = 17)

fmt <- function(x) {
  if (is.character(x)) return(paste0("[", paste0('"', x, '"', collapse = ", "), "]"))
  paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
}

lastC <- function(x) { y <- sub(" +$", "", x); substr(y, nchar(y), nchar(y)) }

orderPvalue <- function(treatment, means, alpha, pvalue) {
  n <- length(means)
  letras <- c(letters[1:26], LETTERS[1:26])
  w <- order(means, decreasing = TRUE)
  M <- rep("", n); k <- 1; j <- 1; cambio1 <- 0; chequeo <- 0
  M[1] <- letras[k]
  q <- w
  while (j < n) {
    chequeo <- chequeo + 1
    if (chequeo > n) break
    for (i in j:n) {
      s <- pvalue[q[i], q[j]] > alpha
      if (s) {
        if (lastC(M[i]) != letras[k]) M[i] <- paste(M[i], letras[k], sep = "")
      } else {
        k <- k + 1; cambio <- i; cambio1 <- 0; ja <- j
        M[cambio] <- paste(M[cambio], letras[k], sep = "")
        for (v in ja:cambio) {
          if (pvalue[q[v], q[cambio]] <= alpha) { j <- j + 1; cambio1 <- 1 } else break
        }
        break
      }
    }
    if (cambio1 == 0) j <- j + 1
  }
  out <- character(n); out[q] <- M
  out  # letters in the order of `treatment`
}

duncan <- function(y, trt, alpha = 0.05) {
  fit <- aov(y ~ trt)
  df <- df.residual(fit); mse <- deviance(fit) / df
  means <- tapply(y, trt, mean); nn <- tapply(y, trt, length)
  ntr <- length(means)
  Tprob <- qtukey((1 - alpha)^(1:(ntr - 1)), 2:ntr, df)
  nh <- 1 / mean(1 / nn)
  sdtdif <- sqrt(mse / nh)
  Ordindex <- order(order(means, decreasing = TRUE))
  comb <- utils::combn(ntr, 2)
  i <- comb[1, ]; j <- comb[2, ]
  span <- abs(Ordindex[i] - Ordindex[j]) + 1
  p <- 1 - ptukey(abs(means[i] - means[j]) / sdtdif, span, df)^(1 / (span - 1))
  Q <- matrix(1, ntr, ntr); Q[cbind(i, j)] <- round(p, 4); Q[cbind(j, i)] <- round(p, 4)
  list(df = df, mse = mse, nh = nh, Tprob = Tprob, critical_range = Tprob * sdtdif,
       i = i, j = j, span = span, p = as.numeric(p),
       letters = orderPvalue(names(means), as.numeric(means), alpha, Q), levels = names(means))
}

tukey <- function(y, trt, alpha = 0.05) {
  fit <- aov(y ~ trt)
  tk <- TukeyHSD(fit, conf.level = 1 - alpha)$trt
  means <- tapply(y, trt, mean); ntr <- length(means)
  comb <- utils::combn(ntr, 2)  # same order as the rows of TukeyHSD
  Q <- matrix(1, ntr, ntr)
  Q[t(comb)] <- tk[, "p adj"]; Q[t(comb[2:1, ])] <- tk[, "p adj"]
  list(pairs = rownames(tk), diff = tk[, "diff"], lwr = tk[, "lwr"], upr = tk[, "upr"],
       p = tk[, "p adj"], letters = orderPvalue(names(means), as.numeric(means), alpha, Q))
}

one <- function(name, y, trt, last = FALSE) {
  trt <- factor(trt)
  a <- summary(aov(y ~ trt))[[1]]
  d <- duncan(y, trt); t <- tukey(y, trt)
  cat(sprintf('  "%s": {\n', name))
  cat(sprintf('    "values": %s,\n', fmt(y)))
  cat(sprintf('    "groups": %s,\n', fmt(as.character(trt))))
  cat(sprintf('    "anova": {"F": %.17g, "df_between": %d, "df_within": %d, "p": %.17g, "ss_between": %.17g, "ss_within": %.17g},\n',
              a[1, "F value"], a[1, "Df"], a[2, "Df"], a[1, "Pr(>F)"], a[1, "Sum Sq"], a[2, "Sum Sq"]))
  cat(sprintf('    "duncan": {"levels": %s, "mse": %.17g, "n_harmonic": %.17g, "q": %s, "critical_range": %s, "i": %s, "j": %s, "span": %s, "p": %s, "letters": %s},\n',
              fmt(d$levels), d$mse, d$nh, fmt(d$Tprob), fmt(d$critical_range), fmt(d$i), fmt(d$j),
              fmt(d$span), fmt(d$p), fmt(d$letters)))
  cat(sprintf('    "tukey": {"pairs": %s, "diff": %s, "lwr": %s, "upr": %s, "p": %s, "letters": %s}\n',
              fmt(t$pairs), fmt(t$diff), fmt(t$lwr), fmt(t$upr), fmt(t$p), fmt(t$letters)))
  cat(if (last) "  }\n" else "  },\n")
}

cat("{\n")
cat(sprintf('  "generated_by": "%s, tests/reference/anova_reference.R",\n', R.version.string))
one("PlantGrowth", PlantGrowth$weight, PlantGrowth$group)
one("chickwts", chickwts$weight, chickwts$feed, last = TRUE)
cat("}\n")
