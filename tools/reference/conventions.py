"""DINOv2 weight-name conventions of other libraries, converted from hub state dicts.

Shared by checkpoints_ref.py and pretrained_ref.py (no side effects on import).
"""
import collections


def to_hf(hub):
    """Hugging Face Dinov2Model / Dinov2WithRegistersModel names (modeling_dinov2.py)."""
    d = collections.OrderedDict()
    d["embeddings.cls_token"] = hub["cls_token"]
    d["embeddings.mask_token"] = hub["mask_token"]
    if "register_tokens" in hub:
        d["embeddings.register_tokens"] = hub["register_tokens"]
    d["embeddings.position_embeddings"] = hub["pos_embed"]
    d["embeddings.patch_embeddings.projection.weight"] = hub["patch_embed.proj.weight"]
    d["embeddings.patch_embeddings.projection.bias"] = hub["patch_embed.proj.bias"]
    blocks = sorted({int(k.split(".")[1]) for k in hub if k.startswith("blocks.")})
    for i in blocks:
        b, h = f"blocks.{i}.", f"encoder.layer.{i}."
        for p in ("weight", "bias"):
            d[h + "norm1." + p] = hub[b + "norm1." + p]
            q, k, v = hub[b + "attn.qkv." + p].chunk(3, dim=0)
            d[h + "attention.attention.query." + p] = q.clone()
            d[h + "attention.attention.key." + p] = k.clone()
            d[h + "attention.attention.value." + p] = v.clone()
            d[h + "attention.output.dense." + p] = hub[b + "attn.proj." + p]
            d[h + "norm2." + p] = hub[b + "norm2." + p]
        d[h + "layer_scale1.lambda1"] = hub[b + "ls1.gamma"]
        d[h + "layer_scale2.lambda1"] = hub[b + "ls2.gamma"]
        for ours, theirs in (("fc1", "fc1"), ("fc2", "fc2"), ("w12", "weights_in"), ("w3", "weights_out")):
            if b + f"mlp.{ours}.weight" in hub:
                for p in ("weight", "bias"):
                    d[h + f"mlp.{theirs}.{p}"] = hub[b + f"mlp.{ours}.{p}"]
    d["layernorm.weight"], d["layernorm.bias"] = hub["norm.weight"], hub["norm.bias"]
    return d


def to_timm(hub):
    """timm names: no mask_token; SwiGLU packed in fc1/fc2; reg models keep no class position."""
    hub = collections.OrderedDict((k, v.clone()) for k, v in hub.items())
    out = collections.OrderedDict()
    hub.pop("mask_token")
    if "register_tokens" in hub:
        out["reg_token"] = hub.pop("register_tokens")
        out["cls_token"] = hub.pop("cls_token") + hub["pos_embed"][:, 0]
        out["pos_embed"] = hub.pop("pos_embed")[:, 1:].clone()
    for k, v in hub.items():
        out[k.replace("mlp.w12", "mlp.fc1").replace("mlp.w3", "mlp.fc2")] = v
    return out
