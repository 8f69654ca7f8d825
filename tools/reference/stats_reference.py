"""Writes test/fixtures/stats/expected.json: scikit-learn and pROC results on deterministic cases.

Run from the repository root:  /usr/bin/python3 tools/reference/stats_reference.py
Needs Debian's python3-sklearn and r-cran-proc (Rscript). The case data are regenerated from the
specs (tools/reference/stats_data.py); pROC runs in tools/reference/stats_proc.R on CSV copies in a
temporary folder, which are not kept.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import sklearn
from sklearn.metrics import confusion_matrix, roc_auc_score, roc_curve

sys.path.insert(0, os.path.dirname(__file__))
from stats_data import make_case, make_multiclass  # noqa: E402

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
    for spec in CASES:
        labels, s1, s2 = make_case(spec)
        assert 0 < labels.sum() < len(labels), spec["name"]
        with open(os.path.join(tmp, spec["name"] + ".csv"), "w") as f:
            f.write("label,s1,s2\n")
            for l, a, b in zip(labels, s1, s2):
                f.write(f"{l},{a!r},{b!r}\n")
        entry = {"spec": spec, "sklearn": sklearn_part(labels, s1)}
        expected["cases"].append(entry)
    with open(os.path.join(tmp, "jobs.txt"), "w") as f:
        for spec in CASES:
            f.write(f"case {spec['name']} {1 if spec.get('boot') else 0}\n")
        for a, b, boot in UNPAIRED:
            f.write(f"unpaired {a} {b} {1 if boot else 0}\n")
    r_out = os.path.join(tmp, "proc.json")
    script = os.path.join(os.path.dirname(__file__), "stats_proc.R")
    subprocess.run(["Rscript", script, tmp, r_out], check=True)
    with open(r_out) as f:
        proc = json.load(f)
    shutil.rmtree(tmp)
    expected["proc_version"] = proc["version"]
    for entry in expected["cases"]:
        entry["proc"] = proc["cases"][entry["spec"]["name"]]
    expected["unpaired"] = proc["unpaired"]
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
