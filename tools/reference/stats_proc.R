# pROC side of the statistics parity fixtures; called by tools/reference/stats_reference.py as
#   Rscript stats_proc.R <folder with <case>.csv and jobs.txt> <output.json>
# Every ROC curve uses levels = c(0, 1) and direction = "<" (higher score = positive), as mst-ts.
suppressPackageStartupMessages(library(pROC))

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
  }
  do.call(obj, parts)
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
for (job in jobs) {
  message(format(Sys.time(), "%H:%M:%S "), job)
  w <- strsplit(job, " ")[[1]]
  if (w[1] == "case") {
    cases <- c(cases, sprintf("\"%s\":%s", w[2], case_json(w[2], w[3] == "1")))
  } else {
    unpaired <- c(unpaired, unpaired_json(w[2], w[3], w[4] == "1"))
  }
}
writeLines(paste0("{\"version\":\"", as.character(packageVersion("pROC")), "\",\"cases\":{", paste(cases, collapse = ","),
                  "},\"unpaired\":[", paste(unpaired, collapse = ","), "]}"), out_path)
