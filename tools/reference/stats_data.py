"""Deterministic binary-classification cases for the statistics parity fixtures (numpy only).

Each case is a pure function of its spec, so the fixtures commit the spec and the expected numbers,
never the data. The TypeScript twin is `makeCase` in test/parity/stats_cases.ts; both use the same
counter hash and only exact float operations (sums of multiples of 2^-24, floor), so the arrays are
bit-identical on both sides.
"""
import numpy as np

from hashing import hash_uniform


def make_case(spec: dict):
    """Returns (labels int64 [n], score1 float64 [n], score2 float64 [n]) for a case spec.

    spec: n, seed, prevalence (or positives: the first k cases are positive), shift1, shift2,
    levels (0: continuous; else scores are floor(raw * levels), heavy ties), perfect (score1
    separates the classes), same (score2 equals score1).
    """
    n = spec["n"]
    u = hash_uniform(spec["seed"], 5 * n).reshape(5, n)
    if "positives" in spec:
        labels = (np.arange(n) < spec["positives"]).astype(np.int64)
    else:
        labels = (u[0] < spec["prevalence"]).astype(np.int64)
    raw1 = u[1] + u[2] + u[3] + spec["shift1"] * labels
    raw2 = u[1] + u[2] + u[4] + spec["shift2"] * labels
    if spec.get("perfect"):
        raw1 = u[3] + 2.0 * labels
    levels = spec.get("levels", 0)
    if levels:
        raw1 = np.floor(raw1 * levels)
        raw2 = np.floor(raw2 * levels)
    if spec.get("same"):
        raw2 = raw1.copy()
    return labels, raw1, raw2


def make_multiclass(n: int, k: int, seed: int):
    """Labels in [0, k) and [n, k] probability rows (raw hash values normalised row-wise)."""
    u = hash_uniform(seed, n * (k + 1)).reshape(k + 1, n)
    labels = np.floor(u[0] * k).astype(np.int64)
    raw = u[1:].T.copy() + 0.0
    raw[np.arange(n), labels] += 0.5
    total = raw[:, 0].copy()
    for j in range(1, k):
        total = total + raw[:, j]
    return labels, raw / total[:, None]
