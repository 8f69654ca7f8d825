"""PyTorch reference for the class-specific transformer attributions of MST
(src/explain/{relevance_rules, attention_block_trace, attention_relevance, dinov2_attribution,
transformer_attribution}.ts), written from the papers:

- 'transformer-attribution', Chefer, Gur & Wolf, CVPR 2021 ("Transformer Interpretability Beyond
  Attention Visualization"): relevance propagation from a one-hot at the target logit (Sec. 3.1:
  alpha-1 beta-0 through Linear layers, eq. 3; the gradient x input rule of eq. 2 on both operands
  of skip connections and of the two attention products, normalised as eqs. 5-6; LayerNorm,
  LayerScale, activations and softmax pass relevance unchanged; no relevance to biases), then per
  block A_b = I + E_h[(dy_t/dA_b * R_A_b)^+] and the product over blocks (eqs. 13-14).
- 'gradient-attention', Chefer, Gur & Wolf, ICCV 2021 ("Generic Attention-model
  Explainability"): A_b = E_h[(dy_t/dA_b * A_b)^+], R <- R + A_b R from R = I.

In both, the class token's row of the product over the later tokens (patches after the
registers for DINOv2, slices for the slice transformer), divided by its sum, is the map: slice
relevance [D] and one plane map per slice [D, h, w], their product the saliency. Every gradient
here is plain autograd through one forward of the whole MST (the attention tensors retain their
gradient); the relevance rules are applied through autograd as eq. 2 is written; products of
full matrices, not rows; in float64 (mst-ts computes in float32). The TypeScript side uses closed forms, row propagation and the chain
rule per slice.

The functional forwards below recompute each block from the module's weights and are checked
against the modules' own outputs.

Models: explain_ref.py's MST configurations 'dino' and 'dino_reg' (weights test/fixtures/explain/
mst_{name}.json), and 'dino_bpe' with a bottleneck, a learned slice position embedding and 2 slice
heads (weights written here). Writes test/fixtures/explain/attribution.safetensors.
Run: /usr/bin/python3 tools/reference/attribution_ref.py
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fill_from_spec, make_spec, save_safetensors, tensor_from_spec, write_json  # noqa: E402
from dinov2_ref import DinoVisionTransformer  # noqa: E402
from explain_ref import MST, VOLUME, combined_rule  # noqa: E402
from mst_ref import DinoV2ClassifierSlice  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "explain")
torch.set_num_threads(1)

CONFIGS = {
    "dino": dict(MST["dino"], extra={}),
    "dino_reg": dict(MST["dino_reg"], extra={}),
    "dino_bpe": dict(encoder=MST["dino"]["encoder"], nhead=2, extra=dict(use_bottleneck=True, use_slice_pos_emb=True)),
}


def gentle_rule(key, t):
    """combined_rule with a softer slice attention, so no slice's relevance falls to rounding noise."""
    if key == "slice_fusion.layers.0.self_attn.in_proj_weight":
        b = 1.5 / t.shape[1] ** 0.5
        return dict(low=-b, high=b)
    if key == "slice_pos_emb.weight":
        return dict(low=-0.3, high=0.3)
    return combined_rule(key, t)


# ------------------------------------------------------------------ LRP rules (autograd form)


def safe_div(a, b):
    nz = b != 0
    return torch.where(nz, a / torch.where(nz, b, torch.ones_like(b)), torch.zeros_like(a))


def gx_rule(fn, inputs, relevance):
    """Eq. 2: R_j = x_j * d/dx_j sum_i L_i(x) * (R_i / L_i(x)) with R / L held fixed."""
    xs = [t.detach().requires_grad_(True) for t in inputs]
    out = fn(*xs)
    grads = torch.autograd.grad(out, xs, grad_outputs=safe_div(relevance, out.detach()))
    return [x.detach() * g for x, g in zip(xs, grads)]


def item_sum(t):
    return t.reshape(t.shape[0], -1).sum(dim=1).view(-1, *([1] * (t.dim() - 1)))


def normalise(ru, rv, relevance):
    """Eqs. 5-6 per item: R_u |sum R_u| / (|sum R_u| + |sum R_v|) * sum R / sum R_u."""
    su, sv, s = item_sum(ru), item_sum(rv), item_sum(relevance)
    denom = su.abs() + sv.abs()
    return ru * safe_div(su.abs(), denom) * safe_div(s, su), rv * safe_div(sv.abs(), denom) * safe_div(s, sv)


def binary(fn, u, v, relevance):
    ru, rv = gx_rule(fn, [u, v], relevance)
    return normalise(ru, rv, relevance)


def lrp_linear(x, weight, relevance):
    """Eq. 3 with alpha = 1, beta = 0: only the positive products (x_j w_ji)^+ count."""
    wp, wn = weight.clamp(min=0), weight.clamp(max=0)
    rp, rn = gx_rule(lambda a, b: F.linear(a, wp) + F.linear(b, wn), [x.clamp(min=0), x.clamp(max=0)], relevance)
    return rp + rn


# ------------------------------------------------------------------ functional blocks


def attention_core(y, weight, bias, heads):
    b, t, e = y.shape
    d = e // heads
    q, k, v = F.linear(y, weight, bias).chunk(3, dim=-1)
    split = lambda z: z.reshape(b, t, heads, d).transpose(1, 2)  # noqa: E731
    q, k, v = split(q) * d**-0.5, split(k), split(v)
    a = (q @ k.transpose(-2, -1)).softmax(dim=-1)
    a.retain_grad()
    merged = (a @ v).transpose(1, 2).reshape(b, t, e)
    return dict(attn_input=y, q=q, k=k, v=v, attention=a, merged=merged)


def dino_block(blk, x, heads):
    r = attention_core(blk.norm1(x), blk.attn.qkv.weight, blk.attn.qkv.bias, heads)
    r["attn_branch"] = blk.ls1(blk.attn.proj(r["merged"]))
    r["mid"] = x + r["attn_branch"]
    r["ffn_input"] = blk.norm2(r["mid"])
    r["hidden"] = blk.mlp.act(blk.mlp.fc1(r["ffn_input"]))
    r["ffn_branch"] = blk.ls2(blk.mlp.fc2(r["hidden"]))
    r.update(input=x, output=r["mid"] + r["ffn_branch"], proj=blk.attn.proj.weight, fc1=blk.mlp.fc1.weight, fc2=blk.mlp.fc2.weight, heads=heads)
    return r


def slice_block(layer, x):
    """nn.TransformerEncoderLayer with norm_first=True, ReLU, eval mode."""
    heads = layer.self_attn.num_heads
    r = attention_core(layer.norm1(x), layer.self_attn.in_proj_weight, layer.self_attn.in_proj_bias, heads)
    r["attn_branch"] = layer.self_attn.out_proj(r["merged"])
    r["mid"] = x + r["attn_branch"]
    r["ffn_input"] = layer.norm2(r["mid"])
    r["hidden"] = F.relu(layer.linear1(r["ffn_input"]))
    r["ffn_branch"] = layer.linear2(r["hidden"])
    r.update(input=x, output=r["mid"] + r["ffn_branch"], proj=layer.self_attn.out_proj.weight, fc1=layer.linear1.weight, fc2=layer.linear2.weight, heads=heads)
    return r


def block_relevance(r, relevance):
    """Sec. 3.1 through one pre-norm block; returns (input relevance, attention relevance)."""
    heads = r["heads"]
    r_mid, r_ffn = binary(torch.add, r["mid"], r["ffn_branch"], relevance)
    r_ffn_in = lrp_linear(r["ffn_input"], r["fc1"], lrp_linear(r["hidden"], r["fc2"], r_ffn))
    r_in_skip, r_attn = binary(torch.add, r["input"], r["attn_branch"], r_mid + r_ffn_in)
    r_merged = lrp_linear(r["merged"], r["proj"], r_attn)
    b, t, e = r_merged.shape
    r_heads = r_merged.reshape(b, t, heads, e // heads).transpose(1, 2)
    r_a, r_v = binary(torch.matmul, r["attention"], r["v"], r_heads)
    r_q, r_kt = binary(torch.matmul, r["q"], r["k"].transpose(-2, -1), r_a)
    merge = lambda z: z.transpose(1, 2).reshape(b, t, e)  # noqa: E731
    r_qkv = torch.cat([merge(r_q), merge(r_kt.transpose(-2, -1)), merge(r_v)], dim=-1)
    return r_in_skip + lrp_linear(r["attn_input"], r["qkv"], r_qkv), r_a


# ------------------------------------------------------------------ the MST


def forward(model, source):
    """One forward of the whole MST through the functional blocks; every intermediate kept."""
    B, _, D, H, W = source.shape
    enc = model.encoder
    images = source.permute(0, 2, 1, 3, 4).reshape(-1, 1, H, W).repeat(1, 3, 1, 1)
    x = enc.prepare_tokens(images)
    heads = enc.blocks[0].attn.num_heads
    enc_trace = []
    for blk in enc.blocks:
        r = dino_block(blk, x, heads)
        r["qkv"] = blk.attn.qkv.weight
        ref, _ = blk(x)
        assert torch.allclose(ref, r["output"], atol=1e-5), "functional DINOv2 block differs from the module"
        enc_trace.append(r)
        x = r["output"]
    feats = enc.norm(x)[:, 0]  # [D, E]
    h = model.bottleneck(feats) if hasattr(model, "bottleneck") else feats
    h = h.reshape(B, D, -1)
    pos = model.slice_pos_emb(torch.arange(D)) if hasattr(model, "slice_pos_emb") else None
    hp = h + pos if pos is not None else h
    tokens = torch.cat([model.cls_token.repeat(B, 1, 1), hp], dim=1)
    layer = model.slice_fusion.layers[0]
    st = slice_block(layer, tokens)
    st["qkv"] = layer.self_attn.in_proj_weight
    out = model.slice_fusion.norm(st["output"])
    cls = out[:, 0]
    logits = model.linear(cls)
    assert torch.allclose(logits, model(source), atol=1e-5), "functional MST differs from the module"
    return dict(enc=enc_trace, feats=feats, h=h, pos=pos, slice=st, cls=cls, logits=logits)


def rollout(grads, weights, prefix):
    """Products of full matrices, the first block applied first: (I + A_B) ... (I + A_1)."""
    n, _, t, _ = grads[0].shape
    eye = torch.eye(t, dtype=grads[0].dtype).expand(n, t, t)
    c = eye
    for g, w in zip(grads, weights):
        a = (g * w).clamp(min=0).mean(dim=1)
        c = (eye + a) @ c
    row = c[:, 0, prefix:]
    s = row.sum(dim=-1, keepdim=True)
    return torch.where(s > 0, row / torch.where(s > 0, s, torch.ones_like(s)), torch.zeros_like(row))


def attribution(model, source, target, method):
    f = forward(model, source)
    logits = f["logits"]
    cls = int(logits.argmax(dim=1)) if target is None else target
    logits[0, cls].backward()
    enc, st = f["enc"], f["slice"]
    D = source.shape[2]
    if method == "gradient-attention":
        slice_w = [st["attention"].detach()]
        enc_w = [r["attention"].detach() for r in enc]
    else:
        one_hot = torch.zeros_like(logits)
        one_hot[0, cls] = 1
        r_cls = lrp_linear(f["cls"], model.linear.weight, one_hot)
        r = torch.zeros_like(st["output"])
        r[:, 0] = r_cls
        r_tokens, r_a = block_relevance(st, r)
        slice_w = [r_a]
        r_h = r_tokens[:, 1:]
        if f["pos"] is not None:
            r_h, _ = binary(torch.add, f["h"], f["pos"].expand_as(f["h"]), r_h)
        r_h = r_h.reshape(D, -1)
        r_feat = lrp_linear(f["feats"], model.bottleneck.weight, r_h) if hasattr(model, "bottleneck") else r_h
        r = torch.zeros_like(enc[-1]["output"])
        r[:, 0] = r_feat
        enc_w = [None] * len(enc)
        for b in reversed(range(len(enc))):
            r, enc_w[b] = block_relevance(enc[b], r)
    slice_rel = rollout([st["attention"].grad], slice_w, 1)[0]
    prefix = 1 + model.encoder.num_register_tokens
    plane = rollout([r["attention"].grad for r in enc], enc_w, prefix)
    return cls, torch.softmax(logits.detach(), dim=1)[0], slice_rel.detach(), plane.detach()


def main():
    vol_spec = json.load(open(os.path.join(OUT, "mst_volume.json")))
    source = tensor_from_spec("volume", vol_spec["tensors"]["volume"], vol_spec["seed"])[:, None]
    D, H, W = VOLUME[1:]
    out = {}
    for name, cfg in CONFIGS.items():
        torch.manual_seed(0)
        encoder = DinoVisionTransformer(**cfg["encoder"])
        encoder.num_features = cfg["encoder"]["embed_dim"]
        model = DinoV2ClassifierSlice(encoder, 2, nhead=cfg["nhead"], **cfg["extra"]).eval()
        path = os.path.join(OUT, f"mst_{name}.json" if name != "dino_bpe" else "attribution_dino_bpe.json")
        if name == "dino_bpe":
            write_json(make_spec(model, 43, gentle_rule), path)
        fill_from_spec(model, json.load(open(path)))
        # float64: relevance divides by sums of products, and at float32 this reference's own
        # rounding reaches 5e-4 on the least relevant slices; the maps are the exact formula.
        model = model.double()
        for method in ("transformer-attribution", "gradient-attention"):
            for target in (None, 1):
                model.zero_grad()
                cls, prob, slice_rel, plane = attribution(model, source.double(), target, method)
                key = f"{name}.{method}.{'argmax' if target is None else target}"
                out[f"{key}.slice"] = slice_rel
                out[f"{key}.plane"] = plane.reshape(D, H // 14, W // 14)
                out[f"{key}.saliency"] = slice_rel.view(D, 1, 1) * out[f"{key}.plane"]
                out[f"{name}.probabilities"] = prob
                print(f"{key}: class {cls} slice {[round(v, 4) for v in slice_rel.tolist()]}")
    save_safetensors(out, os.path.join(OUT, "attribution.safetensors"))


if __name__ == "__main__":
    main()
