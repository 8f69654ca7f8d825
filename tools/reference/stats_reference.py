"""Writes test/fixtures/stats/expected.json: scikit-learn, pROC, boot and R results on deterministic cases.

Run from the repository root:  /usr/bin/python3 tools/reference/stats_reference.py
Needs Debian's python3-sklearn, r-cran-proc and r-cran-boot (Rscript). The case data are
regenerated from the specs (tools/reference/stats_data.py); R runs in tools/reference/stats_proc.R
on CSV copies in a temporary folder, which are not kept. Takes about 15 minutes (pROC's bootstraps).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, confusion_matrix, roc_auc_score, roc_curve

sys.path.insert(0, os.path.dirname(__file__))
from hashing import hash_uniform  # noqa: E402
from stats_data import bootstrap_auc_replicates, make_case, make_multi, make_multiclass, make_probabilities  # noqa: E402

OUT = os.path.join("test", "fixtures", "stats", "expected.json")

# boot: run pROC's bootstrap on this case (10000 replicates; too slow in R for the big cases).
CASES = [
    {"name": "tiny", "n": 10, "seed": 11, "prevalence": 0.5, "shift1": 0.8, "shift2": 0.3, "boot": True},
    {"name": "ties", "n": 200, "seed": 12, "prevalence": 0.4, "shift1": 0.6, "shift2": 0.4, "levels": 4, "boot": True},
    {"name": "prevalence5", "n": 2000, "seed": 13, "prevalence": 0.05, "shift1": 1.0, "shift2": 0.7, "levels": 100, "boot": True},
    {"name": "perfect", "n": 50, "seed": 14, "prevalence": 0.4, "shift1": 0.0, "shift2": 0.5, "perfect": True},
    {"name": "n1000", "n": 1000, "seed": 15, "prevalence": 0.3, "shift1": 0.5, "shift2": 0.45, "boot": True},
    {"name": "n100000", "n": 100000, "seed": 16, "prevalence": 0.2, "shift1": 0.3, "shift2": 0.25, "levels": 1000},
    {"name": "identical", "n": 300, "seed": 17, "prevalence": 0.5, "shift1": 0.4, "shift2": 0.0, "levels": 10, "same": True},
    {"name": "strong", "n": 3000, "seed": 18, "prevalence": 0.5, "shift1": 3.0, "shift2": 0.2, "levels": 50},
    {"name": "onepositive", "n": 20, "seed": 19, "positives": 1, "shift1": 0.5, "shift2": 0.1},
]
# Unpaired comparisons: (first case, second case, run pROC's bootstrap test), score1 of each.
UNPAIRED = [("ties", "n1000", True), ("tiny", "perfect", False), ("prevalence5", "n100000", False), ("n1000", "strong", False)]
MULTICLASS = {"n": 500, "k": 3, "seed": 21}
# Several models on one test set: all pairwise DeLong tests, adjusted p, the chi-square test.
MULTI = [
    {"name": "multi4", "n": 600, "seed": 31, "prevalence": 0.35, "shifts": [0.9, 0.7, 0.5, 0.85]},
    {"name": "multi3ties", "n": 400, "seed": 32, "prevalence": 0.5, "shifts": [0.6, 0.4, 0.6], "levels": 20, "same": [[0, 2]]},
    {"name": "multi6", "n": 3000, "seed": 33, "prevalence": 0.2, "shifts": [0.3, 0.32, 0.25, 0.4, 0.1, 0.31], "levels": 200},
]
# boot.ci on mst-ts's own replicates (rebuilt here with the twin of its generator).
BOOTCI = [("ties", True), ("ties", False), ("n1000", True), ("tiny", True)]
BOOTCI_REPLICATES = 2000
BOOTCI_SEED = 7
# Venkatraman's unpaired test: the n1000 case split in two (equal halves: pROC's test; 400/600: the statistic).
VENKAT_UNPAIRED = [("n1000", 500), ("n1000", 400)]
CALIBRATION = {"name": "calib1", "n": 5000, "seed": 41, "edge_every": 7, "power": 2}
# More than 2^24 float32 scores: counts and sums must not be float32.
FLOAT32 = {"n": (1 << 24) + (1 << 21), "seed": 51}


def near_ties():
    """Scores 1 ulp apart (pROC keeps them distinct and moves the midpoint threshold onto the upper one)."""
    base = [0.3, 0.1, 0.5, 0.7, 1e-300, 2.5, 0.9]
    scores, labels = [], []
    for i, b in enumerate(base):
        up = float(np.nextafter(b, 2.0 * b + 1.0))
        scores += [b, up, up, b]
        labels += [i % 2, 1 - i % 2, 1, 0]
    return labels, scores


def calibration_part(labels, p):
    out = {"spec": CALIBRATION, "brier": float(brier_score_loss(labels, p)), "curves": []}
    for strategy, k in (("uniform", 10), ("quantile", 10), ("uniform", 5), ("quantile", 4)):
        prob_true, prob_pred = calibration_curve(labels, p, n_bins=k, strategy=strategy)
        if strategy == "quantile":
            bins = np.percentile(p, np.linspace(0, 1, k + 1) * 100)
        else:
            bins = np.linspace(0.0, 1.0, k + 1)
        binids = np.searchsorted(bins[1:-1], p)
        counts = np.bincount(binids, minlength=len(bins))
        counts = counts[counts != 0]
        gaps = np.abs(prob_true - prob_pred)
        pbar = np.bincount(binids, weights=p, minlength=k)
        obar = np.bincount(binids, weights=labels, minlength=k)
        nk = np.bincount(binids, minlength=k)
        nz = nk != 0
        pbar[nz] /= nk[nz]
        obar[nz] /= nk[nz]
        prev = labels.mean()
        n = len(p)
        out["curves"].append({
            "strategy": strategy, "bins": k, "edges": floats(bins),
            "prob_true": floats(prob_true), "prob_pred": floats(prob_pred), "counts": counts.tolist(),
            "ece": float(np.sum(counts / n * gaps)), "mce": float(gaps.max()),
            "reliability": float(np.sum(nk[nz] * (pbar[nz] - obar[nz]) ** 2) / n),
            "resolution": float(np.sum(nk[nz] * (obar[nz] - prev) ** 2) / n),
            "within_variance": float(np.sum((p - pbar[binids]) ** 2) / n),
            "within_covariance": float(2 * np.sum((labels - obar[binids]) * (p - pbar[binids])) / n),
        })
    thresholds = np.arange(1, 100) / 100
    nb, all_ = [], []
    n = len(p)
    prev = labels.mean()
    for t in thresholds:
        treat = p >= t
        tp = np.sum(treat & (labels == 1))
        fp = np.sum(treat & (labels == 0))
        nb.append(tp / n - fp / n * (t / (1 - t)))
        all_.append(prev - (1 - prev) * (t / (1 - t)))
    out["decision"] = {"thresholds": floats(thresholds), "net_benefit": floats(nb), "treat_all": floats(all_)}
    return out


def float32_part():
    """Exact AUC of > 2^24 float32 scores with heavy ties (integer counting), and scikit-learn's value."""
    n, seed = FLOAT32["n"], FLOAT32["seed"]
    u = hash_uniform(seed, n)
    v = hash_uniform(seed + 1, n)
    scores = u.astype(np.float32)
    labels = (v < 0.25 + 0.5 * u).astype(np.int64)
    key = (u * (1 << 24)).astype(np.int64)
    pos = np.bincount(key[labels == 1], minlength=1 << 24).astype(np.int64)
    neg = np.bincount(key[labels == 0], minlength=1 << 24).astype(np.int64)
    neg_below = np.concatenate(([0], np.cumsum(neg)[:-1]))
    twice_u = int(np.sum(pos * (2 * neg_below + neg)))
    m, k = int(labels.sum()), int(n - labels.sum())
    exact = twice_u / (2 * m * k)
    return {"spec": FLOAT32, "n_positive": m, "twice_u": str(twice_u), "exact_auc": exact, "sklearn_auc": float(roc_auc_score(labels, scores))}

def floats(a):
    """JSON-safe list of floats: non-finite values as strings."""
    return [float(v) if np.isfinite(v) else str(float(v)) for v in np.asarray(a, dtype=np.float64)]


def sklearn_part(labels, s1):
    out = {}
    for drop in (True, False):
        fpr, tpr, thr = roc_curve(labels, s1, drop_intermediate=drop)
        out["roc_drop" if drop else "roc_full"] = {"fpr": floats(fpr), "tpr": floats(tpr), "thresholds": floats(thr)}
    out["roc_auc_score"] = float(roc_auc_score(labels, s1))
    # The MST authors' operating point: argmax(tpr - fpr) on the full curve, then score >= threshold.
    fpr, tpr, thr = roc_curve(labels, s1, drop_intermediate=False)
    opt = int(np.argmax(tpr - fpr))
    cm = confusion_matrix(labels, s1 >= thr[opt], labels=[0, 1])
    out["youden"] = {"index": opt, "threshold": float(thr[opt]), "confusion": cm.tolist()}
    return out


def main():
    tmp = tempfile.mkdtemp(prefix="mst_stats_")
    expected = {"sklearn_version": sklearn.__version__, "cases": [], "unpaired": [], "multiclass": {}}
    data = {}
    for spec in CASES:
        labels, s1, s2 = make_case(spec)
        assert 0 < labels.sum() < len(labels), spec["name"]
        with open(os.path.join(tmp, spec["name"] + ".csv"), "w") as f:
            f.write("label,s1,s2\n")
            for l, a, b in zip(labels, s1, s2):
                f.write(f"{l},{a!r},{b!r}\n")
        entry = {"spec": spec, "sklearn": sklearn_part(labels, s1)}
        expected["cases"].append(entry)
        data[spec["name"]] = (labels, s1)
    nt_labels, nt_scores = near_ties()
    with open(os.path.join(tmp, "nearties.csv"), "w") as f:
        f.write("label,score\n")
        for l, v in zip(nt_labels, nt_scores):
            f.write(f"{l},{v.hex()}\n")
    for spec in MULTI:
        labels, scores = make_multi(spec)
        with open(os.path.join(tmp, spec["name"] + ".csv"), "w") as f:
            f.write("label," + ",".join(f"m{j}" for j in range(len(scores))) + "\n")
            for i in range(len(labels)):
                f.write(f"{labels[i]}," + ",".join(repr(float(scores[j][i])) for j in range(len(scores))) + "\n")
    bootci_meta = []
    for name, stratified in BOOTCI:
        labels, s1 = data[name]
        reps = bootstrap_auc_replicates(labels, s1, BOOTCI_REPLICATES, BOOTCI_SEED, stratified)
        valid = reps[~np.isnan(reps)]
        rep_file = f"reps_{name}_{'s' if stratified else 'n'}.txt"
        with open(os.path.join(tmp, rep_file), "w") as f:
            f.write(repr(float(roc_auc_score(labels, s1))) + "\n")
            f.write("\n".join(repr(float(v)) for v in valid) + "\n")
        bootci_meta.append((name, rep_file, stratified, reps[:3].tolist(), int(np.isnan(reps).sum())))
    cal_labels, cal_p = make_probabilities(CALIBRATION)
    with open(os.path.join(tmp, CALIBRATION["name"] + ".csv"), "w") as f:
        f.write("label,p\n")
        for l, v in zip(cal_labels, cal_p):
            f.write(f"{l},{float(v).hex()}\n")
    with open(os.path.join(tmp, "jobs.txt"), "w") as f:
        for spec in CASES:
            f.write(f"case {spec['name']} {1 if spec.get('boot') else 0}\n")
        for a, b, boot in UNPAIRED:
            f.write(f"unpaired {a} {b} {1 if boot else 0}\n")
        f.write("curve nearties\n")
        for spec in MULTI:
            f.write(f"multi {spec['name']}\n")
        for name, rep_file, stratified, _, _ in bootci_meta:
            f.write(f"bootci {name} {rep_file} {'stratified' if stratified else 'pooled'}\n")
        for name, cut in VENKAT_UNPAIRED:
            f.write(f"venkat_unpaired {name} {cut}\n")
        f.write("power\n")
        f.write(f"calib {CALIBRATION['name']}\n")
    r_out = os.path.join(tmp, "proc.json")
    script = os.path.join(os.path.dirname(__file__), "stats_proc.R")
    subprocess.run(["Rscript", script, tmp, r_out], check=True)
    with open(r_out) as f:
        proc = json.load(f)
    shutil.rmtree(tmp)
    expected["proc_version"] = proc["version"]
    expected["boot_version"] = proc["boot_version"]
    expected["r_version"] = proc["r_version"]
    for entry in expected["cases"]:
        entry["proc"] = proc["cases"][entry["spec"]["name"]]
    expected["unpaired"] = proc["unpaired"]
    extra = proc["extra"]
    expected["near_ties"] = {"labels": nt_labels, "scores": nt_scores, "proc": extra["curve_nearties"]}
    expected["multi"] = [{"spec": spec, "r": extra["multi_" + spec["name"]]} for spec in MULTI]
    expected["bootci"] = [
        {"case": name, "stratified": stratified, "replicates": BOOTCI_REPLICATES, "seed": BOOTCI_SEED, "first": floats(first),
         "n_invalid": n_invalid, "r": extra[f"bootci_{name}_{'stratified' if stratified else 'pooled'}"]}
        for name, _, stratified, first, n_invalid in bootci_meta
    ]
    expected["venkatraman_unpaired"] = [extra[f"venkat_unpaired_{name}_{cut}"] for name, cut in VENKAT_UNPAIRED]
    expected["power"] = extra["power"]
    expected["calibration"] = calibration_part(cal_labels, cal_p)
    expected["calibration"]["r"] = extra["calib_" + CALIBRATION["name"]]
    expected["float32"] = float32_part()
    ml, mp = make_multiclass(MULTICLASS["n"], MULTICLASS["k"], MULTICLASS["seed"])
    expected["multiclass"] = {
        "spec": MULTICLASS,
        "macro": float(roc_auc_score(ml, mp, multi_class="ovr", average="macro")),
        "weighted": float(roc_auc_score(ml, mp, multi_class="ovr", average="weighted")),
        "per_class": [float(roc_auc_score(ml == j, mp[:, j])) for j in range(MULTICLASS["k"])],
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes), sklearn {sklearn.__version__}, pROC {proc['version']}")


if __name__ == "__main__":
    main()
