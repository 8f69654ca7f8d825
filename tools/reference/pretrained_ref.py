"""Fixtures of fromPretrained (src/models/from_pretrained.ts): tiny models in every key convention
mst-ts reads, written with torch.save / safetensors as their ecosystems write them, plus the
PyTorch reference's outputs on fixed inputs.

Models are the reference re-implementations of tools/reference/{dinov2_ref, mst_ref,
resnet_ref}.py (original state-dict names); weights are drawn from a seeded torch.Generator.
Hugging Face and timm files are the hub weights renamed as those libraries name them (q/k/v
split, layer_scale lambda1, timm's reg_token with the class position folded into cls_token);
their expected outputs are the hub model's on the same weights, at the native positional grid.
Widths are non-standard (16), so the TypeScript side must pass numHeads / sliceHeads.

Writes test/fixtures/pretrained/: the checkpoints, manifest.json (case -> file, options, inputs)
and expected.safetensors (channels-last inputs and outputs, F32).
Run: /usr/bin/python3 tools/reference/pretrained_ref.py
"""
import collections
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import save_safetensors, write_json  # noqa: E402
from conventions import to_hf, to_timm  # noqa: E402
from dinov2_ref import DinoVisionTransformer  # noqa: E402
from mst_ref import DinoV2ClassifierSlice  # noqa: E402
from resnet_ref import MonaiResNet, Basic, Bottle  # noqa: E402

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "pretrained")
g = torch.Generator().manual_seed(2024)
E, HEADS, PATCH, IMG = 16, 4, 2, 6  # 3x3 positional grid


def randomize(module):
    """Every state-dict entry drawn at a scale that keeps activations O(1); BN statistics valid."""
    sd = module.state_dict()
    for k, v in sd.items():
        if v.dtype == torch.int64:
            continue
        shape = v.shape
        parts = k.split(".")
        parent = parts[-2] if len(parts) > 1 else ""
        if k.endswith("running_var"):
            new = torch.rand(shape, generator=g) + 0.5
        elif k.endswith("running_mean") or k.endswith("bias"):
            new = torch.randn(shape, generator=g) * 0.1
        elif ("norm" in k or parent.startswith("bn") or "downsample.1" in k) and v.dim() == 1:
            new = 1 + 0.2 * torch.randn(shape, generator=g)
        elif k.endswith("gamma"):
            new = 0.1 + 0.5 * torch.rand(shape, generator=g)
        elif v.dim() >= 2 and not any(t in k for t in ("token", "pos_embed", "pos_emb")):
            new = torch.randn(shape, generator=g) / v[0].numel() ** 0.5
        else:
            new = torch.randn(shape, generator=g) * 0.5
        v.copy_(new)
    return module.eval()


def lightning(state_dict, hparams):
    return {"epoch": 3, "global_step": 120, "pytorch-lightning_version": "2.0.9", "state_dict": state_dict,
            "optimizer_states": [], "lr_schedulers": [], "hparams_name": "kwargs", "hyper_parameters": hparams}


def images(n, h, w):
    return torch.randn(n, 3, h, w, generator=g)


def nhwc(x):
    return x.permute(0, 2, 3, 1).contiguous()


manifest = {}
expected = {}
MODELS = {}  # case -> (reference model, outputs of a model, key prefix for `mst-ts convert`), for `check`


def case(name, file, options, inputs, outputs, model=None, run=None, key_prefix=""):
    MODELS[name] = (model, run, key_prefix)
    manifest[name] = {"file": file, "options": options, "inputs": sorted(inputs), "outputs": sorted(outputs)}
    for k, v in inputs.items():
        expected[f"{name}.{k}"] = v
    for k, v in outputs.items():
        expected[f"{name}.{k}"] = v.detach()


def dinov2_case(name, model, files, x_native, x_other=None):
    with torch.no_grad():
        f = model.forward_features(x_native)
        outs = {"cls": f["x_norm_clstoken"], "patch": f["x_norm_patchtokens"]}
        ins = {"x": nhwc(x_native)}
        if x_other is not None:
            f2 = model.forward_features(x_other)
            outs.update(cls_resized=f2["x_norm_clstoken"], patch_resized=f2["x_norm_patchtokens"])
            ins["x_resized"] = nhwc(x_other)
    run = lambda m: {"cls": m.forward_features(x_native)["x_norm_clstoken"]}  # noqa: E731
    for file in files:
        case(f"{name}:{file}", file, {"numHeads": HEADS}, ins, outs, model, run)


def path(name):
    return os.path.join(OUT, name)


def main(write=True):
    global OUT
    if not write:
        OUT = os.path.join(__import__("tempfile").mkdtemp(), "pretrained")
    os.makedirs(OUT, exist_ok=True)
    # DINOv2: hub (.pth), Hugging Face (.bin, .safetensors), timm (.pth, .safetensors).
    hub = randomize(DinoVisionTransformer(E, 2, HEADS, img_size=IMG, patch_size=PATCH))
    sd = hub.state_dict()
    torch.save(sd, path("dinov2_hub.pth"))
    torch.save(to_hf(sd), path("dinov2_hf.bin"))
    torch.save(to_timm(sd), path("dinov2_timm.pth"))
    dinov2_case("dinov2", hub, ["dinov2_hub.pth"], images(2, IMG, IMG), images(1, 4, 6))
    dinov2_case("dinov2", hub, ["dinov2_hf.bin", "dinov2_timm.pth"], images(1, IMG, IMG))

    reg = randomize(DinoVisionTransformer(E, 1, HEADS, img_size=IMG, patch_size=PATCH, num_register_tokens=4,
                                          interpolate_offset=0.0, interpolate_antialias=True))
    sd = reg.state_dict()
    torch.save(sd, path("dinov2_hub_reg4.pth"))
    save_safetensors(to_hf(sd), path("dinov2_hf_reg4.safetensors"))
    save_safetensors(to_timm(sd), path("dinov2_timm_reg4.safetensors"))
    dinov2_case("dinov2_reg4", reg, ["dinov2_hub_reg4.pth", "dinov2_hf_reg4.safetensors", "dinov2_timm_reg4.safetensors"], images(1, IMG, IMG))

    swiglu = randomize(DinoVisionTransformer(E, 1, HEADS, ffn="swiglu", img_size=IMG, patch_size=PATCH))
    torch.save(to_timm(swiglu.state_dict()), path("dinov2_timm_swiglu.pth"))
    dinov2_case("dinov2_swiglu", swiglu, ["dinov2_timm_swiglu.pth"], images(1, IMG, IMG))

    # The authors' DinoV2ClassifierSlice as Lightning checkpoints: every fusion, bottleneck, slice positions.
    vol = torch.randn(2, 3, IMG, IMG, generator=g)  # [B, D, H, W]
    for name, kw, opts in [
        ("mst_dinov2", dict(nhead=4), {"numHeads": HEADS, "sliceHeads": 4}),
        ("mst_dinov2_bottleneck_pos", dict(nhead=2, use_bottleneck=True, use_slice_pos_emb=True), {"numHeads": HEADS, "sliceHeads": 2}),
        ("mst_dinov2_linear", dict(slice_fusion="linear", n_slices=3), {"numHeads": HEADS}),
        ("mst_dinov2_average", dict(slice_fusion="average"), {"numHeads": HEADS}),
    ]:
        enc = DinoVisionTransformer(E, 1, HEADS, img_size=IMG, patch_size=PATCH)
        enc.num_features = E
        m = randomize(DinoV2ClassifierSlice(enc, 3, **kw))
        torch.save(lightning(m.state_dict(), {"in_ch": 1, "out_ch": 3, "model_size": "s"}), path(f"{name}.ckpt"))
        with torch.no_grad():
            case(name, f"{name}.ckpt", opts, {"x": vol}, {"logits": m(vol[:, None])}, m, lambda mm, v=vol: {"logits": mm(v[:, None])})

    # The authors' ResNetSliceTrans: torchvision ResNet-18 (channels / 64) under `model.`, fc = Identity.
    class ResNetSliceTrans(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = MonaiResNet(Basic, [2, 2, 2, 2], spatial_dims=2, n_input_channels=3, conv1_t_stride=2,
                                     bias_downsample=False, widen_factor=1 / 64, feed_forward=False)
            w = 8
            self.slice_fusion = nn.TransformerEncoder(nn.TransformerEncoderLayer(w, 4, dim_feedforward=w, dropout=0.0, batch_first=True, norm_first=True),
                                                      num_layers=1, norm=nn.LayerNorm(w))
            self.cls_token = nn.Parameter(torch.zeros(1, 1, w))
            self.linear = nn.Linear(w, 2)

        def forward(self, x):  # [B, 1, D, H, W]
            B, _, D, H, W = x.shape
            h = self.model(x.repeat(1, 3, 1, 1, 1).permute(0, 2, 1, 3, 4).reshape(B * D, 3, H, W)).reshape(B, D, -1)
            h = torch.cat([self.cls_token.repeat(B, 1, 1), h], dim=1)
            return self.linear(self.slice_fusion(h)[:, 0])

    m = randomize(ResNetSliceTrans())
    torch.save(lightning(m.state_dict(), {"in_ch": 1, "out_ch": 2, "model": 18}), path("mst_resnet_slice.ckpt"))
    vol = torch.randn(2, 3, 32, 32, generator=g)
    with torch.no_grad():
        case("mst_resnet_slice", "mst_resnet_slice.ckpt", {"sliceHeads": 4}, {"x": vol}, {"logits": m(vol[:, None])}, m, lambda mm: {"logits": mm(vol[:, None])})

    # The authors' 3D ResNet (MONAI resnet18 under `model.`), a MONAI ResNet-50 3D with MedicalNet's
    # `module.` prefix, and a torchvision ResNet-18; channels / 64.
    x3 = torch.randn(1, 1, 8, 16, 16, generator=g)
    r3 = randomize(MonaiResNet(Basic, [2, 2, 2, 2], spatial_dims=3, n_input_channels=1, widen_factor=1 / 64, num_classes=2))
    torch.save(lightning(collections.OrderedDict(("model." + k, v) for k, v in r3.state_dict().items()), {"in_ch": 1, "out_ch": 2}), path("mst_resnet3d.ckpt"))
    r50 = randomize(MonaiResNet(Bottle, [3, 4, 6, 3], spatial_dims=3, n_input_channels=1, widen_factor=1 / 64, num_classes=3))
    torch.save(collections.OrderedDict(("module." + k, v) for k, v in r50.state_dict().items()), path("monai_resnet50_3d.pth"))
    with torch.no_grad():
        wrapper = nn.Module()
        wrapper.model = r3  # the authors' Lightning `ResNet`: MONAI's network as `self.model`
        case("mst_resnet3d", "mst_resnet3d.ckpt", {}, {"x": x3[:, 0, ..., None]}, {"logits": r3(x3)}, wrapper, lambda mm: {"logits": mm.model(x3)}, "model.")
        case("monai_resnet50_3d", "monai_resnet50_3d.pth", {}, {"x": x3[:, 0, ..., None]}, {"logits": r50(x3)}, r50, lambda mm: {"logits": mm(x3)})
    tv = randomize(MonaiResNet(Basic, [2, 2, 2, 2], spatial_dims=2, n_input_channels=3, conv1_t_stride=2, bias_downsample=False, widen_factor=1 / 64, num_classes=5))
    torch.save(tv.state_dict(), path("torchvision_resnet18.pth"))
    x2 = images(2, 32, 32)
    with torch.no_grad():
        case("torchvision_resnet18", "torchvision_resnet18.pth", {}, {"x": nhwc(x2)}, {"logits": tv(x2)}, tv, lambda mm: {"logits": mm(x2)})

    write_json(manifest, path("manifest.json"))
    save_safetensors(expected, path("expected.safetensors"))
    print("wrote", len(manifest), "cases;", sum(os.path.getsize(path(f)) for f in os.listdir(OUT)) // 1024, "KiB")


def check():
    """Converts every fixture with `mst-ts convert` (dist/cli.js; run `npm run build` first) and
    loads the result into the reference classes with load_state_dict(strict=True): the written
    names and shapes are the originals', and the outputs equal the original weights' exactly."""
    import copy
    import subprocess
    import tempfile

    import json
    import struct

    import numpy as np

    def load_safetensors(path):  # F32 and I32 (BatchNorm's num_batches_tracked), as mst-ts writes
        with open(path, "rb") as f:
            data = f.read()
        (n,) = struct.unpack("<Q", data[:8])
        out = {}
        for k, e in json.loads(data[8 : 8 + n]).items():
            if k == "__metadata__":
                continue
            a, b = e["data_offsets"]
            arr = np.frombuffer(data[8 + n + a : 8 + n + b], dtype={"F32": "<f4", "I32": "<i4"}[e["dtype"]]).copy()
            t = torch.from_numpy(arr).reshape(e["shape"])
            out[k] = t.long() if e["dtype"] == "I32" else t
        return out

    main(write=False)
    fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "pretrained")
    cli = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "dist", "cli.js")
    flags = {"numHeads": "--num-heads", "sliceHeads": "--slice-heads"}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (model, run, prefix) in MODELS.items():
            out = os.path.join(tmp, name.replace(":", "_") + ".safetensors")
            args = ["node", cli, "convert", os.path.join(fixtures, manifest[name]["file"]), out]
            for k, v in manifest[name]["options"].items():
                args += [flags[k], str(v)]
            if prefix:
                args += ["--key-prefix", prefix]
            subprocess.run(args, check=True, capture_output=True)
            fresh = copy.deepcopy(model)
            sd = load_safetensors(out)
            fresh.load_state_dict(sd, strict=True)
            with torch.no_grad():
                a, b = run(model), run(fresh)
            diff = max(float((a[k] - b[k]).abs().max()) for k in a)
            print(f"{name}: load_state_dict(strict=True) ok, max |diff| {diff:.1e}")
            assert diff == 0.0, name


if __name__ == "__main__":
    check() if sys.argv[1:] == ["check"] else main()
