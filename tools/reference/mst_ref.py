"""PyTorch reference for the slice transformer and the Medical Slice Transformer (MST).

Our own minimal rewrite of the authors' `DinoV2ClassifierSlice` (mst/models/dino.py) with their
state-dict names, built on torch's own nn.MultiheadAttention, nn.TransformerEncoderLayer and
nn.TransformerEncoder (the authors' TransformerEncoderLayer only adds optional rotary embeddings,
off in the published models). Per-head attention weights are read by calling the layer's
self_attn with need_weights=True on the normed input, instead of patching forward.

The DINOv2 encoder is tools/reference/dinov2_ref.py's; `ResNetSliceTrans` uses torchvision's
ResNet-18; a tiny stand-in encoder covers the fusion variants cheaply.

Writes test/fixtures/mst/: weight and input specs (*.json) and expected outputs (*.safetensors).
Run: /usr/bin/python3 tools/reference/mst_ref.py [case ...]   (default: every case in CASES)
"""
import copy
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fill_from_spec, make_spec, save_safetensors, scale_head, tensor_from_spec, write_json  # noqa: E402
from dinov2_ref import DinoVisionTransformer, hub_model  # noqa: E402
from dinov2_ref import weight_rule as encoder_rule  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "mst")

torch.set_num_threads(1)


def rule(key, t):
    """Non-trivial weights: peaked attention, norm scales away from one."""
    if key.endswith("in_proj_weight"):
        b = 4.2 / t.shape[1] ** 0.5
        return dict(low=-b, high=b)
    if ".norm" in key or key.startswith("norm") or "norm1" in key or "norm2" in key:
        return dict(low=0.6, high=1.4) if key.endswith("weight") else dict(low=-0.2, high=0.2)
    if key.endswith("cls_token") or "pos_emb" in key:
        return dict(low=-1.0, high=1.0)
    if key.endswith("bias"):
        return dict(low=-0.2, high=0.2)
    fan_in = t.shape[1] if t.dim() >= 2 else t.shape[0]
    b = 1.5 / fan_in**0.5
    return dict(low=-b, high=b)


def mst_rule(key, t):
    """dinov2_ref's weight rule for the DINOv2 encoder, ours for the rest."""
    return encoder_rule(key[len("encoder."):], t) if key.startswith("encoder.") else rule(key, t)


def init(module, name, seed, spec_rule=rule, inputs=None, logits_fn=None):
    """Fills a module from a new spec and writes the spec; with logits_fn (the module's logits on
    the case's input), the head `linear.weight` is scaled first so the logits reach about +-2."""
    spec = make_spec(module, seed, spec_rule)
    if inputs is not None:
        spec["inputs"] = inputs
    fill_from_spec(module, spec)
    if logits_fn is not None:
        scale_head(module, spec, logits_fn, "linear.weight")
    write_json(spec, os.path.join(OUT, f"{name}.json"))
    return module


class StandInEncoder(nn.Module):
    """A tiny slice encoder: per-pixel Linear(3, F), GELU, mean over the image, LayerNorm(F, 1e-6).

    Returns one feature per image as DINOv2's forward does (its twin lives in test/parity/mst.test.ts).
    """

    def __init__(self, features):
        super().__init__()
        self.num_features = features
        self.proj = nn.Linear(3, features)
        self.norm = nn.LayerNorm(features, eps=1e-6)

    def forward(self, x):  # [N, 3, H, W]
        h = F.gelu(self.proj(x.permute(0, 2, 3, 1)))
        return self.norm(h.mean(dim=(1, 2)))


class DinoV2ClassifierSlice(nn.Module):
    """The authors' MST with any encoder: same attributes, keys and forward (no hooks, no Lightning)."""

    def __init__(self, encoder, out_ch, use_bottleneck=False, use_slice_pos_emb=False, slice_fusion="transformer", nhead=12, n_slices=32):
        super().__init__()
        self.slice_fusion_type = slice_fusion
        self.encoder = encoder
        emb_ch = encoder.num_features if hasattr(encoder, "num_features") else encoder.norm.normalized_shape[0]
        if use_bottleneck:
            self.bottleneck = nn.Linear(emb_ch, emb_ch // 4)
            emb_ch = emb_ch // 4
        if slice_fusion == "transformer":
            if use_slice_pos_emb:
                self.slice_pos_emb = nn.Embedding(256, emb_ch)
            self.slice_fusion = nn.TransformerEncoder(
                encoder_layer=nn.TransformerEncoderLayer(
                    d_model=emb_ch, nhead=nhead, dim_feedforward=emb_ch, dropout=0.0, batch_first=True, norm_first=True
                ),
                num_layers=1,
                norm=nn.LayerNorm(emb_ch),
            )
            self.cls_token = nn.Parameter(torch.randn(1, 1, emb_ch))
        elif slice_fusion == "linear":
            emb_ch = emb_ch * n_slices
        self.linear = nn.Linear(emb_ch, out_ch)

    def forward(self, source, src_key_padding_mask=None, return_attn=False):
        B = source.shape[0]  # [B, 1, D, H, W]
        x = source.permute(0, 2, 1, 3, 4).reshape(-1, source.shape[3], source.shape[4])[:, None]
        x = x.repeat(1, 3, 1, 1)  # gray to RGB
        x = self.encoder(x)
        if hasattr(self, "bottleneck"):
            x = self.bottleneck(x)
        x = x.reshape(B, -1, x.shape[-1])
        if hasattr(self, "slice_pos_emb"):
            x = x + self.slice_pos_emb(torch.arange(0, x.shape[1], dtype=torch.long))
        attn = None
        if self.slice_fusion_type == "transformer":
            x = torch.cat([self.cls_token.repeat(B, 1, 1), x], dim=1)
            if src_key_padding_mask is not None:
                src_key_padding_mask = torch.cat([torch.zeros((B, 1), dtype=torch.bool), src_key_padding_mask], dim=1)
            if return_attn:
                attn = layer_attention(self.slice_fusion.layers[0], x, src_key_padding_mask)
            x = self.slice_fusion(x, src_key_padding_mask=src_key_padding_mask)
            x = x[:, 0]
        elif self.slice_fusion_type == "linear":
            x = x.reshape(B, -1)
        else:
            x = x.mean(dim=1)
        x = self.linear(x)
        return (x, attn) if return_attn else x


class ResNetSliceTrans(nn.Module):
    """The authors' MST-ResNet (mst/models/resnet.py): torchvision ResNet under `model` with
    fc = Identity, 16 slice heads on its 512-d features; same keys and forward, no hooks."""

    def __init__(self, out_ch, emb_ch=512):
        super().__init__()
        self.model = torchvision.models.resnet18()
        self.model.fc = nn.Identity()
        self.slice_fusion = nn.TransformerEncoder(
            encoder_layer=nn.TransformerEncoderLayer(
                d_model=emb_ch, nhead=16, dim_feedforward=emb_ch, dropout=0.0, batch_first=True, norm_first=True
            ),
            num_layers=1,
            norm=nn.LayerNorm(emb_ch),
        )
        self.cls_token = nn.Parameter(torch.randn(1, 1, emb_ch))
        self.linear = nn.Linear(emb_ch, out_ch)

    def forward(self, source):
        B = source.shape[0]  # [B, 1, D, H, W]
        x = source.repeat(1, 3, 1, 1, 1).permute(0, 2, 1, 3, 4).reshape(-1, 3, source.shape[3], source.shape[4])
        x = self.model(x).reshape(B, -1, self.linear.in_features)
        x = torch.cat([self.cls_token.repeat(B, 1, 1), x], dim=1)
        return self.linear(self.slice_fusion(x)[:, 0])


def resnet_rule(key, t):
    """Kaiming-uniform convolutions, batch norms with non-trivial affine and running statistics."""
    if key.startswith("model."):
        name = key[len("model."):]
        if name.endswith("running_mean") or name.endswith(".bias"):
            return dict(low=-0.1, high=0.1)
        if name.endswith("running_var"):
            return dict(low=1.0, high=2.0)
        if t.dim() == 1:
            return dict(low=0.5, high=1.0)
        b = (6.0 / t[0].numel()) ** 0.5
        return dict(low=-b, high=b)
    return rule(key, t)


def layer_attention(layer, x, key_padding_mask):
    """Per-head attention probabilities [B, heads, T, T] of a TransformerEncoderLayer on input x."""
    h = layer.norm1(x) if layer.norm_first else x
    return layer.self_attn(h, h, h, key_padding_mask=key_padding_mask, need_weights=True, average_attn_weights=False)[1]


def peak(attn):
    return float(attn.max(dim=-1).values.mean())


def mha_case():
    torch.manual_seed(0)
    E, H, B, T = 48, 12, 2, 7
    mha = init(nn.MultiheadAttention(E, H, batch_first=True), "mha", 11)
    x = torch.randn(B, T, E)
    kv = torch.randn(B, T + 2, E)
    mask = torch.zeros(B, T, dtype=torch.bool)
    mask[1, -2:] = True
    out, w = mha(x, x, x, need_weights=True, average_attn_weights=False)
    out_m, w_m = mha(x, x, x, key_padding_mask=mask, need_weights=True, average_attn_weights=False)
    out_kv, w_kv = mha(x, kv, kv, need_weights=True, average_attn_weights=False)
    print(f"mha: mean max attention {peak(w):.3f}")
    save_safetensors(
        dict(x=x, kv=kv, mask=mask.float(), out=out, weights=w, out_masked=out_m, weights_masked=w_m, out_kv=out_kv, weights_kv=w_kv),
        os.path.join(OUT, "mha.safetensors"),
    )


def encoder_layer_cases():
    torch.manual_seed(1)
    B, T = 2, 6
    tensors = {}
    for name, E, H, ff, act, norm_first in [("post_relu", 48, 4, 80, "relu", False), ("pre_gelu", 48, 16, 48, "gelu", True)]:
        layer = init(
            nn.TransformerEncoderLayer(E, H, dim_feedforward=ff, dropout=0.0, activation=act, batch_first=True, norm_first=norm_first),
            f"encoder_layer_{name}",
            21,
        )
        x = torch.randn(B, T, E)
        mask = torch.zeros(B, T, dtype=torch.bool)
        mask[0, -1] = True
        mask[1, 2:4] = True
        tensors[f"{name}.x"] = x
        tensors[f"{name}.mask"] = mask.float()
        tensors[f"{name}.out"] = layer(x)
        tensors[f"{name}.out_masked"] = layer(x, src_key_padding_mask=mask)
        tensors[f"{name}.weights_masked"] = layer_attention(layer, x, mask)
    save_safetensors(tensors, os.path.join(OUT, "encoder_layer.safetensors"))


def slice_transformer_cases():
    """The slice-fusion part of MST alone: features [B, D, E] -> CLS feature, as DinoV2ClassifierSlice."""
    torch.manual_seed(2)
    B, D, E = 2, 5, 48
    tensors = {}
    for name, pos in [("plain", False), ("pos_emb", True)]:
        m = DinoV2ClassifierSlice(StandInEncoder(E), 2, use_slice_pos_emb=pos, nhead=12)
        del m.encoder, m.linear  # only cls_token, slice_pos_emb, slice_fusion remain
        init(m, f"slice_transformer_{name}", 31)
        x = torch.randn(B, D, E)
        mask = torch.zeros(B, D, dtype=torch.bool)
        mask[1, -2:] = True
        h = x + m.slice_pos_emb(torch.arange(D)) if pos else x
        h = torch.cat([m.cls_token.repeat(B, 1, 1), h], dim=1)
        full_mask = torch.cat([torch.zeros(B, 1, dtype=torch.bool), mask], dim=1)
        tensors[f"{name}.x"] = x
        tensors[f"{name}.mask"] = mask.float()
        tensors[f"{name}.features"] = m.slice_fusion(h)[:, 0]
        tensors[f"{name}.weights"] = layer_attention(m.slice_fusion.layers[0], h, None)
        tensors[f"{name}.features_masked"] = m.slice_fusion(h, src_key_padding_mask=full_mask)[:, 0]
        tensors[f"{name}.weights_masked"] = layer_attention(m.slice_fusion.layers[0], h, full_mask)
        print(f"slice transformer {name}: mean max attention {peak(tensors[f'{name}.weights']):.3f}")
    save_safetensors(tensors, os.path.join(OUT, "slice_transformer.safetensors"))


def mst_standin_cases():
    """MST end to end with the stand-in encoder: every fusion, bottleneck, mask, and one training step."""
    torch.manual_seed(3)
    B, D, Hh, W, E = 2, 4, 6, 5, 48
    vol = torch.randn(B, D, Hh, W)
    mask = torch.zeros(B, D, dtype=torch.bool)
    mask[1, -1] = True
    labels = torch.tensor([1, 0])
    tensors = dict(x=vol, mask=mask.float(), labels=labels.float())
    cases = [
        ("transformer", dict()),
        ("bottleneck", dict(use_bottleneck=True)),
        ("linear", dict(slice_fusion="linear", n_slices=D)),
        ("average", dict(slice_fusion="average")),
    ]
    for name, kw in cases:
        m = DinoV2ClassifierSlice(StandInEncoder(E), 3, **kw)
        m = init(m, f"mst_standin_{name}", 41, logits_fn=lambda m=m: m(vol[:, None]))
        logits = m(vol[:, None])
        tensors[f"{name}.logits"] = logits
        if name == "transformer":
            tensors[f"{name}.logits_masked"] = m(vol[:, None], src_key_padding_mask=mask)
            _, attn = m(vol[:, None], return_attn=True)
            tensors[f"{name}.slice_attention"] = attn
            loss = F.cross_entropy(logits, labels)
            loss.backward()
            tensors[f"{name}.loss"] = loss.detach().reshape(1)
            for k, p in m.named_parameters():
                tensors[f"grad.{k}"] = p.grad
    save_safetensors(tensors, os.path.join(OUT, "mst_standin.safetensors"))


def spec_input(inputs, key):
    return tensor_from_spec(key, inputs["tensors"][key], inputs["seed"])


def sampled_grads(model, n=64):
    """Per parameter: the gradient's norm and n entries at fixed strided positions (full-size models)."""
    out = {}
    for k, p in model.named_parameters():
        if p.grad is None:
            continue
        g = p.grad.reshape(-1)
        count = min(n, g.numel())
        idx = torch.tensor([0] if count == 1 else [i * (g.numel() - 1) // (count - 1) for i in range(count)])
        out[f"grad_norm.{k}"] = g.norm().reshape(1)
        out[f"grad_sample.{k}"] = g[idx]
    return out


def mst_dinov2_tiny_case():
    """MST with a tiny DINOv2: forward, key padding mask, attention and one training step."""
    torch.manual_seed(4)
    tensors = {}
    # Tiny: 24-d, 2 blocks, 5x5 pos grid resized to 3x4, 12 slice heads of width 2.
    inputs = {"seed": 51, "tensors": {"x": {"shape": [2, 3, 42, 56], "low": -2.0, "high": 2.0}}}
    enc = DinoVisionTransformer(embed_dim=24, depth=2, num_heads=4, img_size=70)
    x = spec_input(inputs, "x")
    m = DinoV2ClassifierSlice(enc, 2)
    m = init(m, "mst_dinov2_tiny", 61, mst_rule, inputs, logits_fn=lambda: m(x[:, None]))
    mask = torch.tensor([[False, False, False], [False, False, True]])
    labels = torch.tensor([1, 0])
    logits, attn = m(x[:, None], return_attn=True)
    tensors["tiny.logits"] = logits
    tensors["tiny.slice_attention"] = attn
    tensors["tiny.logits_masked"] = m(x[:, None], src_key_padding_mask=mask)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    tensors["tiny.loss"] = loss.detach().reshape(1)
    for k, p in m.named_parameters():
        if p.grad is not None:  # mask_token takes no part in the forward pass
            tensors[f"tiny.grad.{k}"] = p.grad
    save_safetensors(tensors, os.path.join(OUT, "mst_dinov2_tiny.safetensors"))


def mst_dinov2_s_case():
    """MST with the hub's ViT-S/14 (518 px pos_embed, resized to 16x16) at 224x224: 3 slices, a
    32-slice volume and a training step's sampled gradients."""
    inputs = {"seed": 52, "tensors": {"x": {"shape": [1, 3, 224, 224], "low": -2.0, "high": 2.0},
                                      "x32": {"shape": [1, 32, 224, 224], "low": -2.0, "high": 2.0}}}
    x = spec_input(inputs, "x")
    m = DinoV2ClassifierSlice(hub_model("vits14"), 2)
    m = init(m, "mst_dinov2_s", 62, mst_rule, inputs, logits_fn=lambda: m(x[:, None]))
    tensors = {}
    with torch.no_grad():
        logits, attn = m(x[:, None], return_attn=True)
        planes = m.encoder.forward_features(x[0, :, None].repeat(1, 3, 1, 1))["attentions"][-1]
    tensors["logits"] = logits
    tensors["slice_attention"] = attn
    tensors["plane_attention"] = planes[:, :, 0, 1:]  # [D, heads, 256]
    # PyTorch's float32 result is itself ~2e-5 off the exact slice attention: keep a float64 run too.
    m64 = copy.deepcopy(m).double()
    with torch.no_grad():
        logits64, attn64 = m64(x.double()[:, None], return_attn=True)
        planes64 = m64.encoder.forward_features(x.double()[0, :, None].repeat(1, 3, 1, 1))["attentions"][-1]
    tensors["logits_f64"] = logits64
    tensors["slice_attention_f64"] = attn64
    tensors["plane_attention_f64"] = planes64[:, :, 0, 1:]
    print(f"mst dinov2-s: slice attention mean max {peak(attn):.3f}")
    with torch.no_grad():
        logits32, attn32 = m(spec_input(inputs, "x32")[:, None], return_attn=True)
    with torch.no_grad():
        _, attn32_64 = m64(spec_input(inputs, "x32").double()[:, None], return_attn=True)
    tensors["logits32"] = logits32
    tensors["slice_attention32"] = attn32
    tensors["slice_attention32_f64"] = attn32_64
    # One training step on two 2-slice volumes (the first slices of x32 and x).
    xb = torch.cat([spec_input(inputs, "x32")[:, :2], x[:, :2]], dim=0)
    loss = F.cross_entropy(m(xb[:, None]), torch.tensor([1, 0]))
    loss.backward()
    tensors["train.loss"] = loss.detach().reshape(1)
    tensors.update({f"train.{k}": v for k, v in sampled_grads(m).items()})
    save_safetensors(tensors, os.path.join(OUT, "mst_dinov2_s_full.safetensors"))


def mst_resnet_case():
    """MST-ResNet-18 (ResNetSliceTrans) in eval mode: 3 slices of 32x32."""
    torch.manual_seed(5)
    inputs = {"seed": 53, "tensors": {"x": {"shape": [1, 3, 32, 32], "low": -2.0, "high": 2.0}}}
    x = spec_input(inputs, "x")
    m = ResNetSliceTrans(2).eval()
    m = init(m, "mst_resnet18", 63, resnet_rule, inputs, logits_fn=lambda: m(x[:, None]))
    with torch.no_grad():
        h = torch.cat([m.cls_token, m.model(x[0, :, None].repeat(1, 3, 1, 1))[None]], dim=1)
        attn = layer_attention(m.slice_fusion.layers[0], h, None)
    tensors = {"logits": m(x[:, None]), "slice_attention": attn}
    print(f"mst resnet18: slice attention mean max {peak(attn):.3f}")
    save_safetensors(tensors, os.path.join(OUT, "mst_resnet18.safetensors"))


CASES = {
    "mha": mha_case,
    "encoder_layer": encoder_layer_cases,
    "slice_transformer": slice_transformer_cases,
    "mst_standin": mst_standin_cases,
    "mst_dinov2_tiny": mst_dinov2_tiny_case,
    "mst_resnet18": mst_resnet_case,
    "mst_dinov2_s_full": mst_dinov2_s_case,
}

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for name in sys.argv[1:] or CASES:
        CASES[name]()
