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
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fill_from_spec, make_spec, save_safetensors, scale_head, tensor_from_spec, write_json  # noqa: E402
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
        fill_from_spec(model, spec)
        scale_head(model, spec, lambda: model(source), "linear.weight")
        write_json(spec, os.path.join(OUT, f"mst_{name}.json"))
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


def raw_cam(grads, act, mode):
    """The weighted sum before the ReLU: Grad-CAM's has negative parts where the ReLU acts (Grad-CAM++'s
    weights and post-ReLU activations are never negative)."""
    return torch.sum(cam_weights(grads, act, mode) * act, dim=1, keepdim=True)


def cam_map(grads, act, mode):
    """compute_attention_maps: ReLU of the weighted sum, min-max over the whole tensor."""
    cam = F.relu(raw_cam(grads, act, mode))
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
            out[f"{key}.raw"] = raw_cam(grad, act, mode)[:, 0]
    save_safetensors(out, os.path.join(OUT, "cam.safetensors"))


# ---------------------------------------------------------------- Grad-CAM on ResNets


class Block(nn.Module):
    """MONAI ResNetBlock / torchvision BasicBlock (same keys): conv-bn-relu-conv-bn, shortcut, relu."""

    def __init__(self, dims, cin, planes, stride, bias_downsample):
        super().__init__()
        Conv, BN = (nn.Conv3d, nn.BatchNorm3d) if dims == 3 else (nn.Conv2d, nn.BatchNorm2d)
        self.conv1 = Conv(cin, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = BN(planes)
        self.conv2 = Conv(planes, planes, 3, padding=1, bias=False)
        self.bn2 = BN(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(Conv(cin, planes, 1, stride=stride, bias=bias_downsample), BN(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class RefResNet(nn.Module):
    """MONAI's ResNet (dims 3: conv1 7 stride 1, biased shortcut) or torchvision's (dims 2: conv1 7
    stride 2, no shortcut bias, fc = Identity as ResNetSliceTrans). Returns logits and every stage's output."""

    def __init__(self, dims, planes, layers, num_classes):
        super().__init__()
        Conv, BN, Pool = (nn.Conv3d, nn.BatchNorm3d, nn.MaxPool3d) if dims == 3 else (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d)
        self.conv1 = Conv(3 if dims == 2 else 1, planes[0], 7, stride=1 if dims == 3 else 2, padding=3, bias=False)
        self.bn1 = BN(planes[0])
        self.maxpool = Pool(3, stride=2, padding=1)
        cin = planes[0]
        for k in range(4):
            blocks = []
            for i in range(layers[k]):
                blocks.append(Block(dims, cin, planes[k], 2 if (k > 0 and i == 0) else 1, dims == 3))
                cin = planes[k]
            setattr(self, f"layer{k + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(cin, num_classes) if num_classes else None

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        outs = {}
        for k in range(1, 5):
            x = getattr(self, f"layer{k}")(x)
            if x.requires_grad:
                x.retain_grad()
            outs[f"layer{k}"] = x
        x = torch.flatten(F.adaptive_avg_pool3d(x, 1) if x.ndim == 5 else F.adaptive_avg_pool2d(x, 1), 1)
        return (self.fc(x) if self.fc is not None else x), outs


def resnet_rule(key, t):
    if "running_var" in key:
        return dict(low=0.5, high=1.5)
    if "running_mean" in key or key.endswith("bias"):
        return dict(low=-0.1, high=0.1)
    if "bn" in key or "downsample.1" in key:
        return dict(low=0.8, high=1.2)
    fan_in = t[0].numel()
    b = (6.0 / fan_in) ** 0.5
    return dict(low=-b, high=b)


def cam_from(grads, act, mode):
    """The authors' compute_attention_maps on [B, C, ...] tensors, channels-last [B, ...] out."""
    return cam_map(grads, act, mode)[:, 0]


RESNET3D = dict(planes=[8, 16, 16, 32], layers=[1, 1, 1, 1], num_classes=3)
RESNET3D_VOLUME = [1, 24, 32, 32]


def resnet3d_cases():
    torch.manual_seed(0)
    model = RefResNet(3, **RESNET3D).eval()
    spec = make_spec(model, 51, resnet_rule)
    vol = inputs_spec(29, {"volume": {"shape": RESNET3D_VOLUME, "low": -2.0, "high": 2.0}})
    spec["inputs"] = vol
    write_json(spec, os.path.join(OUT, "resnet3d.json"))
    fill_from_spec(model, spec)
    source = from_spec(vol, "volume")[:, None]  # [1, 1, D, H, W]
    out = {}
    for layer in ("layer4", "layer3"):
        for target in (None, 2):
            for mode in ("gradcam", "gradcam++"):
                model.zero_grad()
                logits, acts = model(source)
                cls = logits.argmax(dim=1, keepdim=True) if target is None else torch.full((1, 1), target)
                logits.gather(1, cls).sum().backward()
                act = acts[layer]
                name = f"{layer}.{'argmax' if target is None else target}.{mode}"
                out[name] = cam_from(act.grad, act.detach(), mode)[0]
                out[f"{name}.raw"] = raw_cam(act.grad, act.detach(), mode)[0, 0]
    with torch.no_grad():
        logits, _ = model(source)
    out["logits"] = logits[0]
    # main_predict: the layer-resolution map upsampled to the volume.
    cam = out["layer4.argmax.gradcam++"][None, None]
    out["layer4.argmax.gradcam++.up"] = F.interpolate(cam, size=tuple(RESNET3D_VOLUME[1:]), mode="trilinear")[0, 0]
    print(f"resnet3d: logits {logits[0].tolist()}; layer4 map {tuple(out['layer4.argmax.gradcam'].shape)}")
    save_safetensors(out, os.path.join(OUT, "resnet3d.safetensors"))


MST_RESNET_VOLUME = [1, 3, 96, 96]
# Slices of different contrast, so the slice attention (the head mean of the CLS row) has a clear
# peak (on the middle slice); slices of one noise distribution get a nearly uniform one.
MST_RESNET_SLICES = [(-0.5, 0.5), (1.0, 2.0), (-2.0, 2.0)]
# The slice transformer's in_proj range: 8 / sqrt(width), peaked attention per head.
MST_RESNET_QKV_GAIN = 8.0


class ResNetSliceTrans(nn.Module):
    """The authors' ResNetSliceTrans without Lightning: `model` (torchvision ResNet, fc = Identity),
    `cls_token`, `slice_fusion` (one pre-norm layer, 16 heads, feed-forward = width), `linear`."""

    def __init__(self, out_ch):
        super().__init__()
        self.model = RefResNet(2, [64, 128, 256, 512], [1, 1, 1, 1], None)
        self.cls_token = nn.Parameter(torch.randn(1, 1, 512))
        self.slice_fusion = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(d_model=512, nhead=16, dim_feedforward=512, dropout=0.0, batch_first=True, norm_first=True),
            num_layers=1,
            norm=nn.LayerNorm(512),
        )
        self.linear = nn.Linear(512, out_ch)

    def forward(self, source):
        B = source.shape[0]
        x = source.repeat(1, 3, 1, 1, 1).permute(0, 2, 1, 3, 4).reshape(-1, 3, *source.shape[3:])
        feats, acts = self.model(x)
        h = torch.cat([self.cls_token.repeat(B, 1, 1), feats.reshape(B, -1, 512)], dim=1)
        attn = layer_attention(self.slice_fusion.layers[0], h, None)
        return self.linear(self.slice_fusion(h)[:, 0]), feats, acts, attn


def mst_resnet_cases():
    torch.manual_seed(0)
    model = ResNetSliceTrans(2).eval()

    def rule(key, t):
        if key.startswith("model."):
            return resnet_rule(key, t)
        if key.endswith("in_proj_weight"):
            b = MST_RESNET_QKV_GAIN / t.shape[1] ** 0.5
            return dict(low=-b, high=b)
        return mst_rule(key, t)

    spec = make_spec(model, 61, rule)
    _, D, H, W = MST_RESNET_VOLUME
    vol = inputs_spec(37, {f"slice{d}": {"shape": [H, W], "low": lo, "high": hi} for d, (lo, hi) in enumerate(MST_RESNET_SLICES)})
    spec["inputs"] = vol
    source = torch.stack([from_spec(vol, f"slice{d}") for d in range(D)])[None, None]  # [1, 1, D, H, W]
    fill_from_spec(model, spec)
    scale_head(model, spec, lambda: model(source)[0], "linear.weight")
    write_json(spec, os.path.join(OUT, "mst_resnet.json"))
    out = {}
    for target in ("sliceFeature", "class"):
        model.zero_grad()
        logits, feats, acts, attn = model(source)
        if target == "sliceFeature":
            # ResNet.forward with save_attn inside ResNetSliceTrans: each slice's largest feature.
            feats.gather(1, feats.argmax(dim=1, keepdim=True)).sum().backward()
        else:
            logits.gather(1, logits.argmax(dim=1, keepdim=True)).sum().backward()
        act = acts["layer4"]
        s = slice_attention(attn.detach())  # [D]
        cam = cam_from(act.grad, act.detach(), "gradcam++")  # [D, h, w], min-max over all slices
        weight = (s[:, None, None] * cam)[None, None]  # get_attention_maps, viewed [1, 1, D, h, w]
        out[f"{target}.cam"] = cam
        out[f"{target}.saliency"] = weight[0, 0]
        if target == "sliceFeature":
            out[f"{target}.saliency_up"] = F.interpolate(weight, size=(D, H, W), mode="trilinear")[0, 0]
        out["slice_attention"] = s
        out["probabilities"] = torch.softmax(logits.detach(), dim=-1)[0]
    print(f"mst_resnet: p {out['probabilities'].tolist()} slice {out['slice_attention'].tolist()}")
    save_safetensors(out, os.path.join(OUT, "mst_resnet.safetensors"))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    print("torch", torch.__version__)
    trilinear_cases()
    cam_cases()
    mst_cases()
    resnet3d_cases()
    mst_resnet_cases()
