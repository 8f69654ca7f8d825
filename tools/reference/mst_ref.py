"""PyTorch reference for the slice transformer and the Medical Slice Transformer (MST).

Our own minimal rewrite of the authors' `DinoV2ClassifierSlice` (mst/models/dino.py) with their
state-dict names, built on torch's own nn.MultiheadAttention, nn.TransformerEncoderLayer and
nn.TransformerEncoder (the authors' TransformerEncoderLayer only adds optional rotary embeddings,
off in the published models). Per-head attention weights are read by calling the layer's
self_attn with need_weights=True on the normed input, instead of patching forward.

Writes test/fixtures/mst/: weight specs (*.json) and inputs / expected outputs (*.safetensors).
Run: /usr/bin/python3 tools/reference/mst_ref.py
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fill_from_spec, make_spec, save_safetensors, write_json  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "mst")

torch.set_num_threads(1)


def rule(key, t):
    """Non-trivial weights: peaked attention, norm scales away from one."""
    if key.endswith("in_proj_weight"):
        return dict(low=-0.6, high=0.6)
    if ".norm" in key or key.startswith("norm") or "norm1" in key or "norm2" in key:
        return dict(low=0.6, high=1.4) if key.endswith("weight") else dict(low=-0.2, high=0.2)
    if key.endswith("cls_token") or "pos_emb" in key:
        return dict(low=-1.0, high=1.0)
    if key.endswith("bias"):
        return dict(low=-0.2, high=0.2)
    fan_in = t.shape[1] if t.dim() >= 2 else t.shape[0]
    b = 1.5 / fan_in**0.5
    return dict(low=-b, high=b)


def init(module, name, seed):
    spec = make_spec(module, seed, rule)
    write_json(spec, os.path.join(OUT, f"{name}.json"))
    fill_from_spec(module, spec)
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
        emb_ch = encoder.num_features
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
        m = init(DinoV2ClassifierSlice(StandInEncoder(E), 3, **kw), f"mst_standin_{name}", 41)
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


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    mha_case()
    encoder_layer_cases()
    slice_transformer_cases()
    mst_standin_cases()
