"""Writes the checkpoint and .npy fixtures of src/io (test/fixtures/checkpoints/).

Every file is written by the real writers (torch.save in zip and legacy format, numpy's
np.save / np.lib.format.write_array), with tiny shapes so the whole set stays small. Expected
values go next to them as F32 safetensors (common.save_safetensors) or JSON.

Hostile files are written too: pickles whose __reduce__ names os.system or builtins.eval (they
are only written, never loaded here), a truncated zip, safetensors with broken headers, a storage
shorter than its tensors, a view outside its storage, and a shape whose product overflows.

Run: /usr/bin/python3 tools/reference/checkpoints_ref.py
"""
import collections
import io
import json
import os
import struct
import sys
import zipfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import save_safetensors, write_json  # noqa: E402
from conventions import to_hf, to_timm  # noqa: E402

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "checkpoints")
NPY = os.path.join(OUT, "npy")
os.makedirs(NPY, exist_ok=True)
g = torch.Generator().manual_seed(1234)


def rnd(*shape):
    return torch.randn(*shape, generator=g)


def path(name):
    return os.path.join(OUT, name)


# ---------------------------------------------------------------- dtypes, views, legacy format
def dtypes_dict():
    return collections.OrderedDict(
        f32=rnd(3, 4),
        f16=(rnd(5) * 100).half(),
        bf16=(rnd(2, 3) * 1000).bfloat16(),
        f64=rnd(4).double() * 1e-3,
        i64=torch.arange(-3, 3, dtype=torch.int64) * 1000,
        i32=torch.tensor([-7, -(2**31), 2**31 - 128], dtype=torch.int32),  # exact in the F32 expected file
        i16=torch.tensor([-300, 5], dtype=torch.int16),
        i8=torch.tensor([-128, 127], dtype=torch.int8),
        u8=torch.tensor([0, 255, 17], dtype=torch.uint8),
        flags=torch.tensor([True, False, True]),
        scalar=torch.tensor(2.5),
        empty=torch.zeros(0, 3),
    )


def views_dict():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    return collections.OrderedDict(
        base=base,
        transposed=base.t(),
        strided=base[1:3, ::2],
        row=base[2],
        expanded=torch.tensor([1.5, -2.0, 3.25]).expand(4, 3),
        param=torch.nn.Parameter(rnd(2, 2)),
    )


def expected(d):
    # common.save_safetensors stores 0-d arrays as [1]; the tests check scalars by value.
    return {k: v.detach().float().contiguous() for k, v in d.items() if v.dim() > 0}


sd = dtypes_dict()
torch.save(sd, path("dtypes.pth"))
torch.save(sd, path("dtypes_legacy.pth"), _use_new_zipfile_serialization=False)
torch.save(sd, path("dtypes_proto4.pth"), pickle_protocol=4)
save_safetensors(expected(sd), path("dtypes_expected.safetensors"))
vd = views_dict()
torch.save(vd, path("views.pth"))
torch.save(vd, path("views_legacy.pth"), _use_new_zipfile_serialization=False)
save_safetensors(expected(vd), path("views_expected.safetensors"))

# ---------------------------------------------------------------- DINOv2-like dicts, three namings
E, DEPTH, PATCH, GRID, REG = 8, 2, 2, 3, 4


def dinov2_hub(reg=0, swiglu=False):
    """A tiny state dict with the official hub names (dinov2/models/vision_transformer.py)."""
    d = collections.OrderedDict()
    d["cls_token"] = rnd(1, 1, E)
    d["pos_embed"] = rnd(1, 1 + GRID * GRID, E)
    if reg:
        d["register_tokens"] = rnd(1, reg, E)
    d["mask_token"] = rnd(1, E)
    d["patch_embed.proj.weight"] = rnd(E, 3, PATCH, PATCH)
    d["patch_embed.proj.bias"] = rnd(E)
    hidden = 2 * E
    for i in range(DEPTH):
        b = f"blocks.{i}."
        d[b + "norm1.weight"], d[b + "norm1.bias"] = rnd(E), rnd(E)
        d[b + "attn.qkv.weight"], d[b + "attn.qkv.bias"] = rnd(3 * E, E), rnd(3 * E)
        d[b + "attn.proj.weight"], d[b + "attn.proj.bias"] = rnd(E, E), rnd(E)
        d[b + "ls1.gamma"] = rnd(E)
        d[b + "norm2.weight"], d[b + "norm2.bias"] = rnd(E), rnd(E)
        if swiglu:
            d[b + "mlp.w12.weight"], d[b + "mlp.w12.bias"] = rnd(2 * hidden, E), rnd(2 * hidden)
            d[b + "mlp.w3.weight"], d[b + "mlp.w3.bias"] = rnd(E, hidden), rnd(E)
        else:
            d[b + "mlp.fc1.weight"], d[b + "mlp.fc1.bias"] = rnd(hidden, E), rnd(hidden)
            d[b + "mlp.fc2.weight"], d[b + "mlp.fc2.bias"] = rnd(E, hidden), rnd(E)
        d[b + "ls2.gamma"] = rnd(E)
    d["norm.weight"], d["norm.bias"] = rnd(E), rnd(E)
    return d


hub = dinov2_hub()
hub_reg = dinov2_hub(reg=REG)
hub_swiglu = dinov2_hub(swiglu=True)
torch.save(hub, path("dinov2_hub.pth"))
torch.save(hub_reg, path("dinov2_hub_reg4.pth"))
torch.save(to_hf(hub), path("dinov2_hf.bin"))
save_safetensors(to_hf(hub_reg), path("dinov2_hf_reg4.safetensors"))
torch.save(to_hf(hub_swiglu), path("dinov2_hf_swiglu.bin"))
torch.save(to_timm(hub), path("dinov2_timm.pth"))
save_safetensors(to_timm(hub_reg), path("dinov2_timm_reg4.safetensors"))
torch.save(to_timm(hub_swiglu), path("dinov2_timm_swiglu.pth"))
# A Hugging Face classification model nests the backbone under `dinov2.` beside its head.
hf_cls = collections.OrderedDict(("dinov2." + k, v) for k, v in to_hf(hub).items())
hf_cls["classifier.weight"], hf_cls["classifier.bias"] = rnd(3, 2 * E), rnd(3)
torch.save(hf_cls, path("dinov2_hf_classifier.bin"))
save_safetensors(hub, path("dinov2_expected.safetensors"))
save_safetensors(hub_reg, path("dinov2_reg4_expected.safetensors"))
save_safetensors(hub_swiglu, path("dinov2_swiglu_expected.safetensors"))

# ---------------------------------------------------------------- ResNet names (channels / 32)
SHRINK = 64


def shrunk_resnet(factory, dims, in_ch, fc_classes):
    """Real torchvision key names and structure, channels divided by 64 so files stay tiny;
    dims=3 gives MONAI's 3D ResNet names (identical keys, 5-D kernels)."""
    d = collections.OrderedDict()
    for k, v in factory().state_dict().items():
        shape = list(v.shape)
        if k == "fc.weight":
            if fc_classes is None:
                continue
            shape = [fc_classes, shape[1] // SHRINK]
        elif k == "fc.bias":
            if fc_classes is None:
                continue
            shape = [fc_classes]
        elif v.dim() == 4:
            shape = [shape[0] // SHRINK, in_ch if k == "conv1.weight" else shape[1] // SHRINK] + shape[2:]
            if dims == 3:
                shape = shape + [shape[-1]]
        elif v.dim() == 1:
            shape = [shape[0] // SHRINK]
        if v.dtype == torch.int64:
            d[k] = torch.tensor(7, dtype=torch.int64)
        elif k.endswith("running_var"):
            d[k] = rnd(*shape).abs() + 0.5
        else:
            d[k] = rnd(*shape)
    return d


import torchvision  # noqa: E402

tv18 = shrunk_resnet(torchvision.models.resnet18, 2, 3, 5)
tv50 = shrunk_resnet(torchvision.models.resnet50, 2, 3, None)
monai18 = shrunk_resnet(torchvision.models.resnet18, 3, 1, 2)
torch.save(tv18, path("resnet18_torchvision.pth"))
torch.save(tv50, path("resnet50_torchvision_nofc.pth"))
torch.save(collections.OrderedDict(("module." + k, v) for k, v in monai18.items()), path("resnet18_monai_3d.pth"))

# ---------------------------------------------------------------- the authors' Lightning checkpoints
D = E


def slice_fusion(dim):
    layer = torch.nn.TransformerEncoderLayer(d_model=dim, nhead=2, dim_feedforward=dim, dropout=0.0, batch_first=True, norm_first=True)
    enc = torch.nn.TransformerEncoder(layer, num_layers=1, norm=torch.nn.LayerNorm(dim))
    return collections.OrderedDict(("slice_fusion." + k, rnd(*v.shape)) for k, v in enc.state_dict().items())


def lightning(state_dict, hparams):
    params = [v for v in state_dict.values() if v.dtype == torch.float32][:2]
    return {
        "epoch": 12,
        "global_step": 3120,
        "pytorch-lightning_version": "2.0.9",
        "state_dict": state_dict,
        "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"ready": 13, "completed": 12}}}},
        "callbacks": {"ModelCheckpoint{'monitor': 'val/AUC_ROC', 'mode': 'max'}": {"best_model_score": torch.tensor(0.8125), "best_model_path": "runs/epoch=12.ckpt", "dirpath": "runs"}},
        "optimizer_states": [{"state": {i: {"step": torch.tensor(3120.0), "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)} for i, p in enumerate(params)}, "param_groups": [{"lr": 1e-06, "betas": (0.9, 0.999), "eps": 1e-08, "weight_decay": 0.01, "amsgrad": False, "params": [0, 1]}]}],
        "lr_schedulers": [],
        "hparams_name": "kwargs",
        "hyper_parameters": hparams,
    }


mst = collections.OrderedDict(("encoder." + k, v) for k, v in hub.items())
mst.update(slice_fusion(D))
mst["cls_token"] = rnd(1, 1, D)
mst["linear.weight"], mst["linear.bias"] = rnd(2, D), rnd(2)
hparams = {"in_ch": 3, "out_ch": 2, "spatial_dims": 2, "model_size": "s", "slice_fusion": "transformer", "use_registers": False, "optimizer": torch.optim.AdamW, "optimizer_kwargs": {"lr": 1e-06, "weight_decay": 0.01}, "loss": torch.nn.CrossEntropyLoss, "loss_kwargs": {}, "lr_scheduler": None}
torch.save(lightning(mst, hparams), path("mst_dinov2_lightning.ckpt"))
save_safetensors(mst, path("mst_dinov2_expected.safetensors"))

mst_res = collections.OrderedDict(("model." + k, v) for k, v in tv18.items() if not k.startswith("fc."))
mst_res.update(slice_fusion(512 // SHRINK))
mst_res["cls_token"] = rnd(1, 1, 512 // SHRINK)
mst_res["linear.weight"], mst_res["linear.bias"] = rnd(2, 512 // SHRINK), rnd(2)
torch.save(lightning(mst_res, dict(hparams, model=18)), path("mst_resnet_slice_lightning.ckpt"))

res3d = collections.OrderedDict(("model." + k, v) for k, v in monai18.items())
torch.save(lightning(res3d, {"in_ch": 1, "out_ch": 2, "spatial_dims": 3, "model": 18}), path("mst_resnet3d_lightning.ckpt"))


# ---------------------------------------------------------------- hostile and broken files
class CallsOsSystem:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/mst-ts-pwned",))


class CallsEval:
    def __reduce__(self):
        return (eval, ("__import__('os').system('echo pwned > /tmp/mst-ts-pwned')",))


class Custom:
    def __init__(self):
        self.x = 1


class ViewOutOfRange:
    def __reduce__(self):
        storage = torch.arange(4, dtype=torch.float32).storage()
        return (torch._utils._rebuild_tensor_v2, (storage, 2, (10,), (1,), False, collections.OrderedDict()))


class ShapeOverflow:
    def __reduce__(self):
        storage = torch.arange(4, dtype=torch.float32).storage()
        return (torch._utils._rebuild_tensor_v2, (storage, 0, (2**40, 2**40, 2**40), (0, 0, 0), False, collections.OrderedDict()))


w = {"weight": torch.ones(2)}
torch.save(dict(w, evil=CallsOsSystem()), path("hostile_os_system.pth"))
torch.save(dict(w, evil=CallsOsSystem()), path("hostile_os_system_legacy.pth"), _use_new_zipfile_serialization=False)
torch.save(dict(w, evil=CallsEval()), path("hostile_eval.pth"))
torch.save(dict(w, obj=Custom()), path("unknown_class.pth"))
torch.manual_seed(0)
torch.save(torch.nn.Linear(2, 2), path("whole_module.pth"))
torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path("torchscript.pt"))
torch.save(dict(w, bad=ViewOutOfRange()), path("view_out_of_range.pth"))
torch.save(dict(w, bad=ShapeOverflow()), path("shape_overflow.pth"))

with open(path("dtypes.pth"), "rb") as f:
    whole = f.read()
with open(path("truncated.pth"), "wb") as f:
    f.write(whole[: len(whole) * 6 // 10])

# A storage entry shorter than the elements its pickle declares.
buf = io.BytesIO()
torch.save({"weight": torch.arange(16, dtype=torch.float32)}, buf)
with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(path("storage_short.pth"), "w", zipfile.ZIP_STORED) as dst:
    for info in src.infolist():
        data = src.read(info.filename)
        if info.filename.endswith("/data/0"):
            data = data[:20]
        dst.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), data)

# The same archive with every entry deflated, as a generic zip tool might rewrite it.
with zipfile.ZipFile(path("dtypes.pth")) as src, zipfile.ZipFile(path("dtypes_deflated.pth"), "w", zipfile.ZIP_DEFLATED) as dst:
    for info in src.infolist():
        dst.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), src.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)

# ZIP64 records everywhere (central-directory extra fields, ZIP64 end record and locator), as a
# writer emits them past 4 GB: lowering zipfile's limits makes it write them for a tiny file.
limits = (zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT)
zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 0, 0
with zipfile.ZipFile(path("dtypes.pth")) as src, zipfile.ZipFile(path("dtypes_zip64.pth"), "w", zipfile.ZIP_STORED) as dst:
    for info in src.infolist():
        dst.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), src.read(info.filename))
zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = limits


def raw_safetensors(header, data, fake_len=None):
    text = json.dumps(header).encode()
    return struct.pack("<Q", fake_len if fake_len is not None else len(text)) + text + data


with open(path("st_header_too_long.safetensors"), "wb") as f:
    f.write(raw_safetensors({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, bytes(8), fake_len=1 << 40))
with open(path("st_overlap.safetensors"), "wb") as f:
    f.write(raw_safetensors({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, bytes(12)))
with open(path("st_out_of_range.safetensors"), "wb") as f:
    f.write(raw_safetensors({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, bytes(8)))
with open(path("st_shape_overflow.safetensors"), "wb") as f:
    f.write(raw_safetensors({"a": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 8]}}, bytes(8)))
# F16 and BF16 safetensors, laid out as the reference writer does.
half = {"h": rnd(3, 2).half(), "b": (rnd(5) * 300).bfloat16()}
hdr, blobs, off = {}, [], 0
for k in sorted(half):
    raw = half[k].contiguous().view(torch.int16).numpy().astype("<i2").tobytes()
    hdr[k] = {"dtype": "F16" if half[k].dtype == torch.float16 else "BF16", "shape": list(half[k].shape), "data_offsets": [off, off + len(raw)]}
    blobs.append(raw)
    off += len(raw)
with open(path("half.safetensors"), "wb") as f:
    f.write(raw_safetensors(hdr, b"".join(blobs)))
save_safetensors(expected(half), path("half_expected.safetensors"))

# ---------------------------------------------------------------- .npy files written by numpy
base = np.arange(24).reshape(2, 3, 4)
manifest = {}


def npy(name, arr, version=None, fortran=False):
    if fortran:
        arr = np.asfortranarray(arr)
    with open(os.path.join(NPY, name), "wb") as f:
        if version is None:
            np.save(f, arr)
        else:
            np.lib.format.write_array(f, arr, version=version)
    manifest[name] = {"dtype": arr.dtype.name, "order": arr.dtype.byteorder, "shape": list(arr.shape), "values": [v.item() if not isinstance(v, np.bool_) else bool(v) for v in np.ravel(arr, order="C")], "fortran": fortran}


npy("f4_le.npy", (base * 0.5 - 3).astype("<f4"))
npy("f4_be.npy", (base * 0.5 - 3).astype(">f4"))
npy("f8_le.npy", (base / 7).astype("<f8"))
npy("f8_be.npy", (base / 7).astype(">f8"))
npy("f2_le.npy", (base * 0.25).astype("<f2"))
npy("u1.npy", (base * 10).astype("u1"))
npy("i1.npy", (base - 12).astype("i1"))
npy("i2_le.npy", (base * -100).astype("<i2"))
npy("i2_be.npy", (base * -100).astype(">i2"))
npy("u2_be.npy", (base * 1000).astype(">u2"))
npy("i4_le.npy", (base * -100000).astype("<i4"))
npy("i8_le.npy", (base * -10**6).astype("<i8"))
npy("i8_be.npy", (base * -10**6).astype(">i8"))
npy("bool.npy", (base % 3 == 0))
npy("f4_fortran.npy", (base * 0.5 - 3).astype("<f4"), fortran=True)
npy("f4_v2.npy", (base * 0.5 - 3).astype("<f4"), version=(2, 0))
npy("f4_v3.npy", (base * 0.5 - 3).astype("<f4"), version=(3, 0))
npy("scalar.npy", np.array(3.5, dtype="<f8"))
npy("volume_u1.npy", (np.arange(4 * 5 * 6) % 251).astype("u1").reshape(4, 5, 6))
with open(os.path.join(NPY, "f4_le.npy"), "rb") as f:
    whole = f.read()
with open(os.path.join(NPY, "truncated.npy"), "wb") as f:
    f.write(whole[:-10])
write_json(manifest, os.path.join(NPY, "manifest.json"))
print("wrote", sorted(os.listdir(OUT)))
