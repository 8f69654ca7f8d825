"""The counter-based hash every reference script and its TypeScript twin (test/fixture_weights.ts)
share: numpy only, so scripts that need no torch can use it."""
import numpy as np

M32 = 0xFFFFFFFF


def fnv1a(text: str) -> int:
    h = 0x811C9DC5
    for b in text.encode("utf-8"):
        h ^= b
        h = (h * 0x01000193) & M32
    return h


def hash_uniform(seed: int, n: int) -> np.ndarray:
    """n numbers in [0, 1) with 24 random bits, a pure function of (seed, index)."""
    base = np.uint32((seed * 0x9E3779B9) & M32)
    with np.errstate(over="ignore"):
        z = np.arange(n, dtype=np.uint32) + base
        z ^= z >> np.uint32(16)
        z *= np.uint32(0x85EBCA6B)
        z ^= z >> np.uint32(13)
        z *= np.uint32(0xC2B2AE35)
        z ^= z >> np.uint32(16)
    return (z >> np.uint32(8)).astype(np.float64) / float(1 << 24)
