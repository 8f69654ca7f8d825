"""Shared helpers of the PyTorch reference scripts.

Weights are not committed: both sides generate them from a counter-based integer hash that numpy
and JavaScript compute bit-identically, described by a small JSON spec (key -> shape, low, high).
Inputs and expected outputs are committed as safetensors files (F32), written here by hand so no
Python package beyond numpy and torch is needed.

The hash lives in hashing.py (numpy only); the TypeScript twin of `hash_uniform` /
`fill_from_spec` is test/fixture_weights.ts.
"""
import json
import struct

import numpy as np
import torch

from hashing import fnv1a, hash_uniform


def tensor_from_spec(key: str, entry: dict, seed: int) -> torch.Tensor:
    shape = entry["shape"]
    n = int(np.prod(shape)) if shape else 1
    if "const" in entry:
        arr = np.full(n, entry["const"], dtype=np.float64)
    else:
        u = hash_uniform(fnv1a(key) ^ seed, n)
        arr = entry["low"] + (entry["high"] - entry["low"]) * u
    dtype = torch.int64 if entry.get("dtype") == "int64" else torch.float32
    return torch.from_numpy(arr.astype(np.float32)).reshape(shape).to(dtype)


def fill_from_spec(module: torch.nn.Module, spec: dict) -> None:
    """Loads the weights a spec describes into a module (strict)."""
    sd = {k: tensor_from_spec(k, e, spec["seed"]) for k, e in spec["tensors"].items()}
    module.load_state_dict(sd, strict=True)


def make_spec(module: torch.nn.Module, seed: int, rule) -> dict:
    """A spec for every state-dict entry of a module; rule(key, tensor) -> dict(low=, high=) or dict(const=)."""
    tensors = {}
    for k, t in module.state_dict().items():
        entry = {"shape": list(t.shape)}
        if t.dtype == torch.int64:
            entry.update(dtype="int64", const=0)
        else:
            entry.update(rule(k, t))
        tensors[k] = entry
    return {"seed": seed, "tensors": tensors}


def write_json(obj, path: str) -> None:
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def save_safetensors(tensors: dict, path: str) -> None:
    """Writes float32 tensors (anything else is converted) as a safetensors file."""
    header = {}
    blobs = []
    offset = 0
    for k in sorted(tensors):
        a = tensors[k]
        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().numpy()
        a = np.ascontiguousarray(np.asarray(a, dtype="<f4"))
        raw = a.tobytes()
        header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode("utf-8"))
        for b in blobs:
            f.write(b)


def load_safetensors(path: str) -> dict:
    """Reads F32 safetensors files written by save_safetensors (or mst-ts)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    out = {}
    for k, e in header.items():
        if k == "__metadata__":
            continue
        assert e["dtype"] == "F32", f"{k}: only F32 is supported here"
        a, b = e["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(data[8 + n + a : 8 + n + b], dtype="<f4").copy()).reshape(e["shape"])
    return out


def scale_entry(spec: dict, key: str, factor: float) -> None:
    """Multiplies a spec entry's range by factor: the same hash draws, so the tensor scales by it."""
    e = spec["tensors"][key]
    e["low"] *= factor
    e["high"] *= factor


def gain_to_reach(values: torch.Tensor, target: float = 2.0) -> float:
    """The factor (two significant digits) that takes max |values| to about target."""
    peak = float(values.detach().abs().max())
    return float(f"{target / peak:.2g}")


def scale_head(module: torch.nn.Module, spec: dict, logits_fn, key: str, target: float = 2.0) -> float:
    """Scales the head weight `key` of a filled module so its logits, centred over the classes and
    without the bias, reach about +-target; refills the module and returns the factor. Weak heads
    give logits that differ by a few hundredths, where an absolute tolerance of 1e-4 checks little."""
    with torch.no_grad():
        z = logits_fn() - module.state_dict()[key.replace("weight", "bias")]
        factor = gain_to_reach(z - z.mean(dim=-1, keepdim=True), target)
    scale_entry(spec, key, factor)
    fill_from_spec(module, spec)
    return factor
