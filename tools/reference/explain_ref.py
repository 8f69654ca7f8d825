"""PyTorch reference for the explanations (src/explain): every map computed the authors' way.

- Trilinear upsampling: F.interpolate(mode='trilinear', align_corners=False) with size and with
  scale_factor (whose source step is 1 / scale, not in / out).
- MST maps (mst/models/dino.py `get_slice_attention`, `get_plane_attention`,
  `get_attention_maps`; scripts/main_predict.py `_pred_trans` and `run_pred`): slice attention,
  plane attention (paper variant and the authors' zeroed first patch), their product, the
  upsampled map, attention rollout (Abnar & Zuidema, full matrices) and test-time augmentation.
- Grad-CAM / Grad-CAM++ weights and maps as mst/models/resnet.py `compute_attention_maps`.

Models come from the other reference scripts (dinov2_ref.DinoVisionTransformer,
mst_ref.DinoV2ClassifierSlice); weights and inputs are weight specs, outputs safetensors.
Writes test/fixtures/explain/. Run: /usr/bin/python3 tools/reference/explain_ref.py
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fill_from_spec, make_spec, save_safetensors, tensor_from_spec, write_json  # noqa: E402
from dinov2_ref import DinoVisionTransformer  # noqa: E402
from dinov2_ref import weight_rule as dino_rule  # noqa: E402
from mst_ref import DinoV2ClassifierSlice, layer_attention  # noqa: E402
from mst_ref import rule as mst_rule  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "explain")
torch.set_num_threads(1)

FLIPS = [(), (2,), (3,), (4,), (2, 3), (2, 4), (3, 4), (2, 3, 4)]


def inputs_spec(seed, tensors):
    return {"seed": seed, "tensors": tensors}


def from_spec(spec, key):
    return tensor_from_spec(key, spec["tensors"][key], spec["seed"])


# ---------------------------------------------------------------- trilinear

TRILINEAR = [
    # name, input [B, C, D, H, W], kwargs
    ("size_up", [1, 1, 2, 3, 4], dict(size=(5, 7, 9))),
    ("size_mixed", [1, 1, 4, 3, 5], dict(size=(4, 28, 2))),
    ("scale_2_5", [1, 1, 3, 2, 3], dict(scale_factor=2.5)),
    ("scale_mixed", [1, 1, 3, 4, 2], dict(scale_factor=(1.7, 2.0, 3.3))),
    ("scale_recompute", [1, 1, 3, 4, 2], dict(scale_factor=(1.7, 2.0, 3.3), recompute_scale_factor=True)),
    ("batch_channels", [2, 3, 2, 3, 2], dict(size=(3, 5, 4))),
]


def trilinear_cases():
    spec = inputs_spec(5, {name: {"shape": shape, "low": -1.0, "high": 1.0} for name, shape, _ in TRILINEAR})
    write_json(spec, os.path.join(OUT, "trilinear_inputs.json"))
    out = {}
    for name, _, kwargs in TRILINEAR:
        x = from_spec(spec, name)
        y = F.interpolate(x, mode="trilinear", align_corners=False, **kwargs)
        out[name] = y.permute(0, 2, 3, 4, 1)  # channels-last [B, D, H, W, C]
    save_safetensors(out, os.path.join(OUT, "trilinear.safetensors"))


# ---------------------------------------------------------------- MST attention maps

MST = {
    # embed 32, 4 heads, no registers; pos grid 3x3 resized to the 2x3 patch grid of 28x42 slices.
    "dino": dict(encoder=dict(embed_dim=32, depth=2, num_heads=4, img_size=42), nhead=8),
    "dino_reg": dict(
        encoder=dict(embed_dim=48, depth=2, num_heads=3, img_size=42, num_register_tokens=4, interpolate_offset=0.0, interpolate_antialias=True),
        nhead=12,
    ),
}
VOLUME = [1, 4, 28, 42]  # [B, D, H, W]


def combined_rule(key, t):
    return dino_rule(key[len("encoder."):], t) if key.startswith("encoder.") else mst_rule(key, t)


def slice_attention(attn):
    """get_slice_attention: [B, heads, 1+D, 1+D] -> [B*D] (CLS row, renormalised per head, head mean)."""
    a = attn[:, :, 0, 1:].clone()
    a /= a.sum(dim=-1, keepdim=True)
    return a.mean(dim=1).view(-1)


def plane_attention(attn, prefix, zero_first):
    """get_plane_attention: [B*D, heads, T, T] -> [B*D, heads, HW]."""
    a = attn[:, :, 0, prefix:].clone()
    if zero_first:
        a[:, :, 0] = 0
    a /= a.sum(dim=-1, keepdim=True)
    return a


def rollout(attns, prefix, fusion):
    """Abnar & Zuidema with full matrices: fuse heads, add I, renormalise rows, A_L @ ... @ A_1."""
    t = attns[0].shape[-1]
    eye = torch.eye(t)
    result = eye.expand(attns[0].shape[0], t, t)
    for a in attns:
        f = {"mean": a.mean(dim=1), "max": a.max(dim=1).values, "min": a.min(dim=1).values}[fusion]
        f = f + eye
        f = f / f.sum(dim=-1, keepdim=True)
        result = f @ result
    cls = result[:, 0, prefix:]
    return cls / cls.sum(dim=-1, keepdim=True)


def mst_pass(model, source, zero_first):
    """One `_pred_trans` with save_attn: (softmax prediction, weight [1,1,D,h,w], weight_slice [1,1,D,H,W])."""
    B, _, D, H, W = source.shape
    enc = model.encoder
    prefix = 1 + enc.num_register_tokens
    with torch.no_grad():
        logits, attn_slice = model(source, return_attn=True)
        images = source.permute(0, 2, 1, 3, 4).reshape(-1, 1, H, W).repeat(1, 3, 1, 1)
        attns = enc.forward_features(images)["attentions"]
    s = slice_attention(attn_slice)[:, None, None]  # [B*D, 1, 1]
    p = plane_attention(attns[-1], prefix, zero_first)  # [B*D, heads, HW]
    weight = (s * p).mean(dim=1).view(1, 1, D, H // 14, W // 14)
    weight_slice = s.view(1, 1, -1, 1, 1) * torch.ones_like(source)
    return torch.softmax(logits, dim=-1), weight, weight_slice, attn_slice, attns


def mst_cases():
    vol_spec = inputs_spec(23, {"volume": {"shape": VOLUME, "low": -2.0, "high": 2.0}})
    write_json(vol_spec, os.path.join(OUT, "mst_volume.json"))
    source = from_spec(vol_spec, "volume")[:, None]  # [B, 1, D, H, W]
    D, H, W = VOLUME[1:]
    out = {}
    for name, cfg in MST.items():
        torch.manual_seed(0)
        encoder = DinoVisionTransformer(**cfg["encoder"])
        encoder.num_features = cfg["encoder"]["embed_dim"]  # as the hub model's attribute
        model = DinoV2ClassifierSlice(encoder, 2, nhead=cfg["nhead"]).eval()
        spec = make_spec(model, 41, combined_rule)
        write_json(spec, os.path.join(OUT, f"mst_{name}.json"))
        fill_from_spec(model, spec)
        prefix = 1 + model.encoder.num_register_tokens
        h, w = H // 14, W // 14

        prob, weight, _, attn_slice, attns = mst_pass(model, source, zero_first=False)
        s = slice_attention(attn_slice)
        out[f"{name}.probabilities"] = prob[0]
        out[f"{name}.slice_attention"] = s
        out[f"{name}.plane_attention"] = plane_attention(attns[-1], prefix, False).mean(dim=1).view(D, h, w)
        out[f"{name}.plane_attention_zero"] = plane_attention(attns[-1], prefix, True).mean(dim=1).view(D, h, w)
        out[f"{name}.saliency"] = weight[0, 0]
        out[f"{name}.saliency_up"] = F.interpolate(weight, size=(D, H, W), mode="trilinear")[0, 0]
        _, weight_zero, _, _, _ = mst_pass(model, source, zero_first=True)
        out[f"{name}.saliency_zero"] = weight_zero[0, 0]
        for fusion in ("mean", "max", "min"):
            r = rollout(attns, prefix, fusion).view(D, h, w)
            out[f"{name}.rollout_{fusion}"] = r
        out[f"{name}.rollout_saliency_mean"] = s.view(D, 1, 1) * out[f"{name}.rollout_mean"]

        # run_pred with use_tta: softmax predictions and maps averaged over 8 flips (maps flipped
        # back), then the averaged map upsampled; the authors' zeroed first patch.
        pred, weight, weight_slice = None, None, None
        for dims in FLIPS:
            x = torch.flip(source, dims) if dims else source
            p_i, w_i, ws_i, _, _ = mst_pass(model, x, zero_first=True)
            w_i = torch.flip(w_i, dims) if dims else w_i
            ws_i = torch.flip(ws_i, dims) if dims else ws_i
            pred = p_i if pred is None else pred + p_i
            weight = w_i if weight is None else weight + w_i
            weight_slice = ws_i if weight_slice is None else weight_slice + ws_i
        out[f"{name}.tta_probabilities"] = (pred / 8)[0]
        out[f"{name}.tta_saliency"] = (weight / 8)[0, 0]
        out[f"{name}.tta_saliency_up"] = F.interpolate(weight / 8, size=(D, H, W), mode="trilinear")[0, 0]
        out[f"{name}.tta_slice_attention"] = (weight_slice / 8)[0, 0, :, 0, 0]
        print(f"{name}: p={prob[0].tolist()} slice max {s.max():.3f} plane max {out[f'{name}.plane_attention'].max():.3f}")
    save_safetensors(out, os.path.join(OUT, "mst.safetensors"))


# ---------------------------------------------------------------- Grad-CAM formulas

CAM_SHAPES = {"cam3d": [2, 3, 4, 5, 6], "cam2d": [3, 4, 5, 6]}  # channels-last [B, ...spatial, C]


def cam_weights(grads, act, mode):
    """compute_grad_cam_weights of mst/models/resnet.py on NC... tensors."""
    spatial = list(range(2, grads.ndim))
    if mode == "gradcam":
        return torch.mean(grads, dim=spatial, keepdim=True)
    g2 = grads**2
    g3 = g2 * grads
    sum_act = torch.sum(act, dim=spatial, keepdim=True)
    denom = 2 * g2 + sum_act * g3 + 1e-6
    denom = torch.where(denom != 0.0, denom, torch.ones_like(denom))
    aij = g2 / denom
    return torch.sum(F.relu(grads) * aij, dim=spatial, keepdim=True)


def cam_map(grads, act, mode):
    """compute_attention_maps: ReLU of the weighted sum, min-max over the whole tensor."""
    cam = F.relu(torch.sum(cam_weights(grads, act, mode) * act, dim=1, keepdim=True))
    cam = cam - cam.min()
    return cam / cam.max()


def cam_cases():
    tensors = {}
    for name, shape in CAM_SHAPES.items():
        tensors[f"{name}.act"] = {"shape": shape, "low": -0.3, "high": 1.0}
        tensors[f"{name}.grad"] = {"shape": shape, "low": -0.05, "high": 0.05}
    spec = inputs_spec(31, tensors)
    write_json(spec, os.path.join(OUT, "cam_inputs.json"))
    out = {}
    for name in CAM_SHAPES:
        act = F.relu(from_spec(spec, f"{name}.act")).movedim(-1, 1)  # post-ReLU activations, NC...
        grad = from_spec(spec, f"{name}.grad").movedim(-1, 1)
        for mode in ("gradcam", "gradcam++"):
            key = f"{name}.{mode}"
            out[f"{key}.weights"] = cam_weights(grad, act, mode).movedim(1, -1)
            out[f"{key}.map"] = cam_map(grad, act, mode)[:, 0]
    save_safetensors(out, os.path.join(OUT, "cam.safetensors"))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    print("torch", torch.__version__)
    trilinear_cases()
    cam_cases()
    mst_cases()
