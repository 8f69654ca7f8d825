# pROC / boot / stats side of the statistics parity fixtures; called by
# tools/reference/stats_reference.py as
#   Rscript stats_proc.R <folder with <case>.csv and jobs.txt> <output.json>
# Every ROC curve uses levels = c(0, 1) and direction = "<" (higher score = positive), as mst-ts.
suppressPackageStartupMessages(library(pROC))
suppressPackageStartupMessages(library(boot))

args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
out_path <- args[2]

num <- function(x) {
  if (is.null(x) || length(x) == 0) return("null")
  parts <- vapply(as.numeric(x), function(v) {
    if (is.na(v)) "null" else if (is.infinite(v)) (if (v > 0) "\"Infinity\"" else "\"-Infinity\"") else sprintf("%.17g", v)
  }, "")
  if (length(parts) == 1) parts else paste0("[", paste(parts, collapse = ","), "]")
}
obj <- function(...) {
  kv <- list(...)
  paste0("{", paste(sprintf("\"%s\":%s", names(kv), unlist(kv)), collapse = ","), "}")
}
str_json <- function(s) sprintf("\"%s\"", gsub("\"", "'", gsub("\n", " ", s)))
attempt <- function(expr) tryCatch(expr, error = function(e) obj(error = str_json(conditionMessage(e))))

read_case <- function(name) read.csv(file.path(dir, paste0(name, ".csv")), colClasses = c("integer", "numeric", "numeric"))
make_roc <- function(labels, scores) roc(labels, scores, levels = c(0, 1), direction = "<", quiet = TRUE)

case_json <- function(name, boot) {
  d <- read_case(name)
  r1 <- make_roc(d$label, d$s1)
  r2 <- make_roc(d$label, d$s2)
  parts <- list(
    auc1 = num(as.numeric(auc(r1))),
    auc2 = num(as.numeric(auc(r2))),
    var_delong = attempt(num(var(r1, method = "delong"))),
    ci_delong = attempt(num(as.numeric(ci.auc(r1, method = "delong", conf.level = 0.95)))),
    ci_delong_90 = attempt(num(as.numeric(ci.auc(r1, method = "delong", conf.level = 0.9)))),
    test_delong = attempt({
      t <- roc.test(r1, r2, method = "delong", paired = TRUE)
      obj(z = num(t$statistic), p = num(t$p.value), conf_int = num(as.numeric(t$conf.int)))
    })
  )
  parts$partial <- partial_json(r1)
  parts$coords <- coords_json(r1)
  if (length(r1$thresholds) <= 300) parts$curve <- curve_json(r1)
  if (boot) {
    set.seed(1)
    parts$boot_ci_stratified <- num(as.numeric(ci.auc(r1, method = "bootstrap", boot.n = 10000, boot.stratified = TRUE)))
    set.seed(2)
    parts$boot_var_stratified <- num(var(r1, method = "bootstrap", boot.n = 10000, boot.stratified = TRUE))
    set.seed(3)
    parts$boot_ci_nonstratified <- attempt(num(as.numeric(suppressWarnings(ci.auc(r1, method = "bootstrap", boot.n = 10000, boot.stratified = FALSE)))))
    set.seed(4)
    parts$boot_test <- attempt({
      t <- roc.test(r1, r2, method = "bootstrap", boot.n = 10000, paired = TRUE)
      obj(d = num(t$statistic), p = num(t$p.value))
    })
    # Partial AUC by bootstrap (pROC has no DeLong variance for it).
    rp <- r1
    rp$auc <- auc(r1, partial.auc = c(1, 0.8), partial.auc.focus = "specificity", partial.auc.correct = TRUE)
    set.seed(6)
    parts$partial_boot_ci <- attempt(num(as.numeric(suppressWarnings(ci.auc(rp, method = "bootstrap", boot.n = 10000)))))
    set.seed(7)
    parts$partial_boot_var <- attempt(num(suppressWarnings(var(rp, method = "bootstrap", boot.n = 10000))))
    set.seed(8)
    parts$partial_boot_test <- attempt({
      t <- suppressWarnings(roc.test(r1, r2, method = "bootstrap", boot.n = 10000, paired = TRUE,
                                     partial.auc = c(1, 0.8), partial.auc.focus = "specificity", reuse.auc = FALSE))
      obj(d = num(t$statistic), p = num(t$p.value))
    })
    set.seed(9)
    parts$ci_se <- attempt(num(as.numeric(t(suppressWarnings(ci.se(r1, specificities = c(0.8, 0.9, 0.95), boot.n = 10000))))))
    set.seed(10)
    parts$ci_sp <- attempt(num(as.numeric(t(suppressWarnings(ci.sp(r1, sensitivities = c(0.8, 0.9, 0.95), boot.n = 10000))))))
    set.seed(11)
    parts$test_specificity <- attempt({
      t <- suppressWarnings(roc.test(r1, r2, method = "specificity", specificity = 0.9, boot.n = 10000, paired = TRUE))
      obj(d = num(t$statistic), p = num(t$p.value))
    })
    set.seed(12)
    parts$test_sensitivity <- attempt({
      t <- suppressWarnings(roc.test(r1, r2, method = "sensitivity", sensitivity = 0.9, boot.n = 10000, paired = TRUE))
      obj(d = num(t$statistic), p = num(t$p.value))
    })
    set.seed(13)
    parts$venkatraman <- attempt({
      t <- roc.test(r1, r2, method = "venkatraman", boot.n = 2000, paired = TRUE)
      obj(e = num(t$statistic), p = num(t$p.value))
    })
  }
  do.call(obj, parts)
}

# The partial AUCs every case is checked on: (from, to, focus, correct).
PARTIALS <- list(
  list(c(1, 0.8), "specificity", FALSE), list(c(1, 0.8), "specificity", TRUE),
  list(c(1, 0.9), "sensitivity", FALSE), list(c(1, 0.9), "sensitivity", TRUE),
  list(c(0.7, 0.5), "specificity", TRUE), list(c(0.96, 0.95), "specificity", FALSE),
  list(c(0.3, 0.1), "sensitivity", FALSE), list(c(1, 0), "specificity", TRUE)
)
partial_json <- function(r) {
  vals <- vapply(PARTIALS, function(p) {
    v <- suppressWarnings(as.numeric(auc(r, partial.auc = p[[1]], partial.auc.focus = p[[2]], partial.auc.correct = p[[3]])))
    if (is.na(v)) NA_real_ else v
  }, 0)
  num(vals)
}
COORD_AT <- c(0, 0.25, 0.5, 0.8, 0.9, 0.95, 1)
coords_json <- function(r) {
  se <- coords(r, COORD_AT, input = "specificity", ret = "sensitivity", transpose = FALSE, as.matrix = TRUE)[, 1]
  sp <- coords(r, COORD_AT, input = "sensitivity", ret = "specificity", transpose = FALSE, as.matrix = TRUE)[, 1]
  obj(se_at_sp = num(se), sp_at_se = num(sp))
}
curve_json <- function(r) {
  obj(thresholds = num(r$thresholds), sensitivities = num(r$sensitivities), specificities = num(r$specificities))
}

# A curve read from hexadecimal doubles (exact, for scores 1 ulp apart).
curve_case_json <- function(name) {
  d <- read.csv(file.path(dir, paste0(name, ".csv")), colClasses = c("integer", "character"))
  scores <- as.numeric(d$score)
  r <- make_roc(d$label, scores)
  obj(auc = num(as.numeric(auc(r))), curve = curve_json(r), partial = partial_json(r), coords = coords_json(r))
}

# k models on the same cases: DeLong covariance, all pairwise tests with adjusted p, the chi-square test.
multi_json <- function(name) {
  d <- read.csv(file.path(dir, paste0(name, ".csv")))
  k <- ncol(d) - 1
  rocs <- lapply(seq_len(k), function(j) make_roc(d$label, d[[j + 1]]))
  S <- matrix(0, k, k)
  for (a in seq_len(k)) for (b in seq_len(k)) {
    S[a, b] <- if (a == b) var(rocs[[a]], method = "delong") else suppressMessages(cov(rocs[[a]], rocs[[b]], method = "delong"))
  }
  theta <- vapply(rocs, function(r) as.numeric(auc(r)), 0)
  z <- c(); p <- c()
  for (a in 1:(k - 1)) for (b in (a + 1):k) {
    t <- roc.test(rocs[[a]], rocs[[b]], method = "delong", paired = TRUE)
    z <- c(z, unname(t$statistic)); p <- c(p, t$p.value)
  }
  L <- matrix(0, k - 1, k)
  for (i in 1:(k - 1)) { L[i, i] <- 1; L[i, i + 1] <- -1 }
  M <- L %*% S %*% t(L)
  e <- eigen(M, symmetric = TRUE)
  keep <- e$values > max(e$values) * 1e-10
  proj <- t(e$vectors[, keep, drop = FALSE]) %*% (L %*% theta)
  chi2 <- sum(proj^2 / e$values[keep])
  df <- sum(keep)
  obj(auc = num(theta), cov = num(as.numeric(S)), z = num(z), p = num(p), p_holm = num(p.adjust(p, "holm")),
      p_bh = num(p.adjust(p, "BH")), chi2 = num(chi2), df = num(df), p_global = num(pchisq(chi2, df, lower.tail = FALSE)))
}

# boot.ci for replicates made by mst-ts's generator (rebuilt in Python), with the jackknife influence values.
bootci_json <- function(name, rep_file, stratified) {
  d <- read_case(name)
  reps <- scan(file.path(dir, rep_file), quiet = TRUE)
  t0 <- reps[1]
  t <- reps[-1]
  auc_of <- function(data, i) {
    y <- data$label[i]; s <- data$s1[i]
    m <- sum(y == 1); n <- sum(y == 0)
    (sum(rank(s)[y == 1]) - m * (m + 1) / 2) / (m * n)
  }
  strata <- if (stratified) d$label + 1 else rep(1, nrow(d))
  L <- empinf(data = d, statistic = auc_of, stype = "i", type = "jack", strata = strata)
  vals <- c(t0, t)
  k <- 0
  fake <- function(data, i) { k <<- k + 1; vals[k] }
  bo <- boot(d, fake, R = length(t))
  out <- list()
  for (conf in c(0.95, 0.9)) {
    ci <- boot.ci(bo, conf = conf, type = c("perc", "basic", "bca"), L = L)
    out[[sprintf("c%02d", round(conf * 100))]] <- obj(
      basic = num(ci$basic[4:5]), bca = num(ci$bca[4:5]), perc_boot = num(ci$percent[4:5]),
      percentile = num(unname(quantile(t, c((1 - conf) / 2, 1 - (1 - conf) / 2)))))
  }
  obj(t0 = num(auc_of(d, seq_len(nrow(d)))), n_reps = num(length(t)), sum_reps = num(sum(t)),
      influence_head = num(L[1:5]), influence_sumsq = num(sum(L^2)), influence_sumcube = num(sum(L^3)),
      c95 = out$c95, c90 = out$c90)
}

venkat_unpaired_json <- function(name, cut) {
  d <- read_case(name)
  a <- d[1:cut, ]
  b <- d[(cut + 1):nrow(d), ]
  ra <- make_roc(a$label, a$s1)
  rb <- make_roc(b$label, b$s2)
  mp <- (sum(a$label) + sum(b$label)) / nrow(d)
  e_pooled <- pROC:::venkatraman.unpaired.stat(rank(a$s1, ties.method = "first"), rank(b$s2, ties.method = "first"),
                                               a$label, b$label, c(0, 1), c(0, 1), mp)
  parts <- list(name = str_json(name), cut = num(cut), e_pooled = num(e_pooled))
  if (cut * 2 == nrow(d)) {
    set.seed(14)
    t <- suppressWarnings(roc.test(ra, rb, method = "venkatraman", boot.n = 2000, paired = FALSE))
    parts$e <- num(t$statistic)
    parts$p <- num(t$p.value)
  }
  do.call(obj, parts)
}

# power.roc.test in every form: one curve (numeric and from data), two curves (parameters and data).
power_json <- function() {
  pr <- function(x) obj(ncases = num(x$ncases), ncontrols = num(x$ncontrols), auc = num(if (is.null(x$auc)) NA else as.numeric(x$auc)),
                        sig = num(x$sig.level), power = num(x$power))
  out <- list()
  out$one_n <- pr(power.roc.test(auc = 0.8, power = 0.9))
  out$one_n_kappa <- pr(power.roc.test(auc = 0.72, power = 0.8, kappa = 2.5, sig.level = 0.01))
  out$one_power <- pr(power.roc.test(auc = 0.75, ncases = 40, ncontrols = 60))
  out$one_power_onesided <- pr(power.roc.test(auc = 0.75, ncases = 40, ncontrols = 60, alternative = "one.sided"))
  out$one_sig <- pr(power.roc.test(auc = 0.7, ncases = 50, ncontrols = 100, power = 0.8, sig.level = NULL))
  out$one_auc <- pr(power.roc.test(ncases = 40, ncontrols = 80, power = 0.8))
  f <- function(x) pROC:::power.roc.test.optimize.auc.function(x, 80, 40, qnorm(1 - 0.05 / 2), qnorm(0.8))
  out$one_auc_exact <- num(uniroot(f, c(0.5, 1 - 1e-16), tol = 1e-15)$root)
  pars <- list(A1 = 1.2, B1 = 1, A2 = 0.9, B2 = 1.1, rn = 0.4, ra = 0.6, delta = 0.07)
  out$two_n <- pr(power.roc.test(pars, power = 0.8))
  out$two_n_kappa <- pr(power.roc.test(pars, power = 0.9, kappa = 0.5, sig.level = 0.01))
  out$two_power <- pr(power.roc.test(pars, ncases = 120, ncontrols = 200))
  out$two_sig <- pr(power.roc.test(pars, ncases = 120, ncontrols = 200, power = 0.8, sig.level = NULL))
  ppar <- c(pars, list(FPR11 = 0, FPR12 = 0.2, FPR21 = 0, FPR22 = 0.2))
  out$two_partial_power <- pr(power.roc.test(ppar, ncases = 300, ncontrols = 300))
  d <- read_case("n1000")
  r1 <- make_roc(d$label, d$s1)
  r2 <- make_roc(d$label, d$s2)
  out$roc1_power <- pr(power.roc.test(r1))
  out$roc1_n <- pr(power.roc.test(r1, power = 0.95))
  out$roc2_power <- pr(power.roc.test(r1, r2))
  out$roc2_n <- pr(power.roc.test(r1, r2, power = 0.9))
  out$roc2_n_kappa <- pr(power.roc.test(r1, r2, power = 0.9, kappa = 1))
  out$roc2_sig <- pr(power.roc.test(r1, r2, power = 0.8, sig.level = NULL))
  out$roc2_obuchowski <- pr(power.roc.test(r1, r2, method = "obuchowski"))
  bn <- smooth(r1, method = "binormal")$model
  out$binormal_s1 <- num(unname(coefficients(bn)))
  do.call(obj, out)
}

# Logistic recalibration of probabilities: slope (joint fit) and intercept (slope fixed at 1).
calib_json <- function(name) {
  d <- read.csv(file.path(dir, paste0(name, ".csv")), colClasses = c("integer", "character"))
  p <- as.numeric(d$p)
  q <- pmin(pmax(p, 1e-15), 1 - 1e-15)
  lp <- log(q / (1 - q))
  ctl <- glm.control(epsilon = 1e-14, maxit = 100)
  joint <- glm(d$label ~ lp, family = binomial, control = ctl)
  offs <- glm(d$label ~ offset(lp), family = binomial, control = ctl)
  obj(slope = num(unname(coef(joint)[2])), recalibration_intercept = num(unname(coef(joint)[1])),
      intercept = num(unname(coef(offs)[1])))
}

unpaired_json <- function(a, b, boot) {
  da <- read_case(a)
  db <- read_case(b)
  ra <- make_roc(da$label, da$s1)
  rb <- make_roc(db$label, db$s1)
  t <- suppressWarnings(roc.test(ra, rb, method = "delong", paired = FALSE))
  parts <- list(a = str_json(a), b = str_json(b), t = num(t$statistic), df = num(t$parameter), p = num(t$p.value))
  if (boot) {
    set.seed(5)
    tb <- suppressWarnings(roc.test(ra, rb, method = "bootstrap", paired = FALSE, boot.n = 10000))
    parts$boot_d <- num(tb$statistic)
    parts$boot_p <- num(tb$p.value)
  }
  do.call(obj, parts)
}

jobs <- readLines(file.path(dir, "jobs.txt"))
cases <- c()
unpaired <- c()
extra <- c()
named <- function(key, value) sprintf("\"%s\":%s", key, value)
for (job in jobs) {
  message(format(Sys.time(), "%H:%M:%S "), job)
  w <- strsplit(job, " ")[[1]]
  if (w[1] == "case") {
    cases <- c(cases, named(w[2], case_json(w[2], w[3] == "1")))
  } else if (w[1] == "unpaired") {
    unpaired <- c(unpaired, unpaired_json(w[2], w[3], w[4] == "1"))
  } else if (w[1] == "curve") {
    extra <- c(extra, named(paste0("curve_", w[2]), curve_case_json(w[2])))
  } else if (w[1] == "multi") {
    extra <- c(extra, named(paste0("multi_", w[2]), multi_json(w[2])))
  } else if (w[1] == "bootci") {
    extra <- c(extra, named(paste0("bootci_", w[2], "_", w[4]), bootci_json(w[2], w[3], w[4] == "stratified")))
  } else if (w[1] == "venkat_unpaired") {
    extra <- c(extra, named(paste0("venkat_unpaired_", w[2], "_", w[3]), venkat_unpaired_json(w[2], as.integer(w[3]))))
  } else if (w[1] == "power") {
    extra <- c(extra, named("power", power_json()))
  } else if (w[1] == "calib") {
    extra <- c(extra, named(paste0("calib_", w[2]), calib_json(w[2])))
  }
}
writeLines(paste0("{\"version\":\"", as.character(packageVersion("pROC")), "\",\"boot_version\":\"", as.character(packageVersion("boot")),
                  "\",\"r_version\":\"", paste(R.version$major, R.version$minor, sep = "."),
                  "\",\"cases\":{", paste(cases, collapse = ","), "},\"unpaired\":[", paste(unpaired, collapse = ","), "],\"extra\":{",
                  paste(extra, collapse = ","), "}}"), out_path)
