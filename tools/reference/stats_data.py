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


M32 = 0xFFFFFFFF


class Rng:
    """The twin of src/utils/rng.ts (splitmix32 seeding, xoshiro128**): the same uniform() stream,
    so the bootstrap replicates of mst-ts can be rebuilt here and handed to R's boot.ci."""

    def __init__(self, seed: int):
        x = (int(seed) ^ 0x9E3779B9) & M32

        def nxt():
            nonlocal x
            x = (x + 0x9E3779B9) & M32
            z = x
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
            return (z ^ (z >> 16)) & M32

        self.s = [nxt(), nxt(), nxt(), nxt()]
        if not any(self.s):
            self.s[0] = 1

    def next_uint32(self) -> int:
        s0, s1, s2, s3 = self.s
        r = (s1 * 5) & M32
        r = ((r << 7) | (r >> 25)) & M32
        result = (r * 9) & M32
        t = (s1 << 9) & M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 11) | (s3 >> 21)) & M32
        self.s = [s0, s1, s2, s3]
        return result

    def uniform(self) -> float:
        hi = self.next_uint32() >> 5
        lo = self.next_uint32() >> 6
        return (hi * 67108864 + lo) / 9007199254740992.0


def mann_whitney_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """AUC = P(case > control) + P(=)/2 from midranks (numpy only)."""
    order = np.argsort(scores, kind="stable")
    s = scores[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i : j + 1] = (i + j) / 2 + 1
        i = j + 1
    r = np.empty(len(s))
    r[order] = ranks
    m = int(labels.sum())
    n = len(labels) - m
    return (r[labels == 1].sum() - m * (m + 1) / 2) / (m * n)


def bootstrap_auc_replicates(labels: np.ndarray, scores: np.ndarray, replicates: int, seed: int, stratified: bool) -> np.ndarray:
    """The replicate AUCs of mst-ts's `bootstrapAuc(labels, scores, {replicates, seed, stratified})`
    in draw order, NaN where a non-stratified resample lacks a class (mst-ts then drops it)."""
    rng = Rng(seed)
    pos = np.flatnonzero(labels == 1)
    neg = np.flatnonzero(labels == 0)
    total = len(labels)
    out = np.empty(replicates)
    for r in range(replicates):
        if stratified:
            ip = [pos[int(rng.uniform() * len(pos))] for _ in range(len(pos))]
            ineg = [neg[int(rng.uniform() * len(neg))] for _ in range(len(neg))]
            idx = np.array(ip + ineg)
        else:
            idx = np.array([int(rng.uniform() * total) for _ in range(total)])
        y = labels[idx]
        if y.min() == y.max():
            out[r] = np.nan
        else:
            out[r] = mann_whitney_auc(y, scores[idx])
    return out


def make_multi(spec: dict):
    """k correlated score columns on one label vector: labels int64 [n], scores float64 [k, n].

    spec: n, seed, prevalence, shifts (one per model), levels (0: continuous), same (index pairs
    [i, j]: model j copies model i).
    """
    n = spec["n"]
    k = len(spec["shifts"])
    u = hash_uniform(spec["seed"], (k + 3) * n).reshape(k + 3, n)
    labels = (u[0] < spec["prevalence"]).astype(np.int64)
    scores = np.empty((k, n))
    for j, shift in enumerate(spec["shifts"]):
        raw = u[1] + u[2] + u[3 + j] + shift * labels
        levels = spec.get("levels", 0)
        scores[j] = np.floor(raw * levels) if levels else raw
    for i, j in spec.get("same", []):
        scores[j] = scores[i].copy()
    return labels, scores


def make_probabilities(spec: dict):
    """Labels and probabilities in [0, 1] for calibration: p = floor(u * 2^k) / 2^k shrunk towards
    the middle, some exactly 0, 1 and on the bin edges 0.1 k; labels drawn with P = p ** power."""
    n = spec["n"]
    u = hash_uniform(spec["seed"], 2 * n).reshape(2, n)
    p = np.floor(u[0] * 1024.0) / 1024.0
    p[:: spec["edge_every"]] = np.arange(len(p[:: spec["edge_every"]])) % 11 * 0.1
    p[1] = 0.0
    p[2] = 1.0
    labels = (u[1] < p ** spec["power"]).astype(np.int64)
    return labels, p
