"""Differential oracle of mst-ts's fuzzer: reads a fuzzed file with the reference reader.

Protocol: one JSON request per line on stdin, {"id": n, "target": ..., "path": ...}; one JSON
answer per line on stdout: {"id": n, "ok": true, ...summary} or {"id": n, "ok": false, "error": "..."}. Targets: nifti
(nibabel), dicom (pydicom), npy (numpy), torch (torch.load with weights_only=True, so a fuzzed
pickle can never run code here either). Local use only (`npm run fuzz -- --oracle`); CI never runs it.

Run with Debian's python3 (python3-nibabel, python3-pydicom, python3-numpy, python3-torch):
/usr/bin/python3 tools/reference/fuzz_oracle.py
"""
import json
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")


def nifti(path):
    import nibabel as nib

    img = nib.load(path)
    data = np.asanyarray(img.dataobj).astype(np.float64)
    if data.ndim == 4:
        data = data[..., 0]
    if data.ndim != 3:
        data = data.reshape(data.shape + (1,) * (3 - data.ndim))
    finite = np.isfinite(data)
    return {"shape": list(data.shape), "sum": float(data[finite].sum()), "nonFinite": int((~finite).sum()), "affine": img.affine.tolist()}


def dicom(path):
    import pydicom

    ds = pydicom.dcmread(path, force=True)
    arr = ds.pixel_array.astype(np.float64)
    slope = float(ds.get("RescaleSlope", 1) or 1)
    inter = float(ds.get("RescaleIntercept", 0) or 0)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    return {"rows": int(ds.Rows), "columns": int(ds.Columns), "frames": frames, "sum": float((arr * slope + inter).sum())}


def npy(path):
    a = np.load(path, allow_pickle=False)
    kind = a.dtype.kind
    vals = a.astype(np.float64) if kind in "fiub" else None
    total = float(vals[np.isfinite(vals)].sum()) if vals is not None else 0.0
    return {"shape": list(a.shape), "dtype": "bool" if kind == "b" else a.dtype.name, "sum": total}


def torch_file(path):
    import torch

    obj = torch.load(path, map_location="cpu", weights_only=True)
    sd = obj
    if isinstance(obj, dict) and not all(isinstance(v, torch.Tensor) for v in obj.values()):
        for key in ["state_dict", "model_state_dict", "model", "module", "net", "teacher"]:
            if isinstance(obj.get(key), dict):
                sd = obj[key]
                break
    tensors = {}
    if isinstance(sd, dict):
        for k, v in sd.items():
            if isinstance(v, torch.Tensor):
                # mst-ts reads floating tensors as float32 (F64 values beyond its range become infinite).
                x = v.detach().to(torch.float32 if v.is_floating_point() else torch.float64).to(torch.float64)
                tensors[str(k)] = {"shape": list(v.shape), "sum": float(x[torch.isfinite(x)].sum())}
    return {"tensors": tensors}


READERS = {"nifti": nifti, "dicom": dicom, "npy": npy, "torch": torch_file}


def finite(x):
    """JSON has no NaN: non-finite numbers become null."""
    if isinstance(x, float):
        return x if np.isfinite(x) else None
    if isinstance(x, dict):
        return {k: finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [finite(v) for v in x]
    return x


def main():
    for line in sys.stdin:
        req = json.loads(line)
        try:
            out = {"id": req["id"], "ok": True, **READERS[req["target"]](req["path"])}
        except Exception as e:  # the reference reader refusing a file is an answer too
            out = {"id": req["id"], "ok": False, "error": f"{type(e).__name__}: {str(e)[:300]}"}
        sys.stdout.write(json.dumps(finite(out), allow_nan=False) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
