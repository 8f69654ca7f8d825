"""PyTorch reference for mst-ts's DINOv2 (src/models/dinov2.ts) and its fixtures.

A minimal re-implementation of facebookresearch/dinov2's inference path (vision_transformer.py,
layers/{patch_embed, attention, block, layer_scale, mlp, swiglu_ffn}.py, hub/backbones.py) with
the official state-dict names. The attention is written out (q * scale, q @ k^T, softmax, @ v) so
the probabilities can be returned; Attention and MemEffAttention compute the same thing.

Writes test/fixtures/dinov2/:
  state_dict_shapes.json      parameter counts and state-dict signatures of all 8 hub variants (meta device)
  bicubic.{json,safetensors}  interpolate_pos_encoding of a [1, 1 + 37*37, 4] embedding to several grids
  vits14_spec.json            weight spec of ViT-S/14 (518 px, 37x37 pos_embed)
  vits14_reg_spec.json        weight spec of ViT-S/14 with 4 registers
  images_spec.json            the input images, [32, 224, 224, 3] and [2, 224, 168, 3] (channels-last)
  vits14_224.safetensors      32 slices at 224x224 (features, CLS attention of the last block, ...)
  vits14_reg_224.safetensors  2 slices, reg variant
  vits14_224x168.safetensors  2 slices at 224x168 (non-square grid 16x12)
  tiny_*.{json,safetensors}   small models: forward outputs and every parameter's gradient

Run: /usr/bin/python3 tools/reference/dinov2_ref.py
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fill_from_spec, fnv1a, make_spec, save_safetensors, tensor_from_spec, write_json  # noqa: E402

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "dinov2")


class PatchEmbed(nn.Module):
    def __init__(self, patch_size, in_chans, embed_dim, device=None):
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size, device=device)

    def forward(self, x):
        _, _, h, w = x.shape
        assert h % self.patch_size == 0 and w % self.patch_size == 0
        return self.proj(x).flatten(2).transpose(1, 2)  # [B, HW, C]


class Attention(nn.Module):
    def __init__(self, dim, num_heads, device=None):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True, device=device)
        self.proj = nn.Linear(dim, dim, bias=True, device=device)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x), attn


class LayerScale(nn.Module):
    def __init__(self, dim, init_values, device=None):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((dim,), float(init_values), device=device))

    def forward(self, x):
        return x * self.gamma


class Mlp(nn.Module):
    def __init__(self, dim, hidden, device=None):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden, device=device)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim, device=device)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class SwiGLUFFNFused(nn.Module):
    def __init__(self, dim, hidden, device=None):
        super().__init__()
        hidden = (int(hidden * 2 / 3) + 7) // 8 * 8
        self.w12 = nn.Linear(dim, 2 * hidden, device=device)
        self.w3 = nn.Linear(hidden, dim, device=device)

    def forward(self, x):
        x1, x2 = self.w12(x).chunk(2, dim=-1)
        return self.w3(F.silu(x1) * x2)


class Block(nn.Module):
    def __init__(self, dim, num_heads, ffn, init_values, device=None):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6, device=device)
        self.attn = Attention(dim, num_heads, device=device)
        self.ls1 = LayerScale(dim, init_values, device=device)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6, device=device)
        self.mlp = (Mlp if ffn == "mlp" else SwiGLUFFNFused)(dim, 4 * dim, device=device)
        self.ls2 = LayerScale(dim, init_values, device=device)

    def forward(self, x):
        a, attn = self.attn(self.norm1(x))
        x = x + self.ls1(a)
        x = x + self.ls2(self.mlp(self.norm2(x)))
        return x, attn


class DinoVisionTransformer(nn.Module):
    def __init__(self, embed_dim, depth, num_heads, ffn="mlp", img_size=518, patch_size=14, num_register_tokens=0,
                 interpolate_offset=0.1, interpolate_antialias=False, init_values=1.0, device=None):
        super().__init__()
        self.patch_size = patch_size
        self.num_register_tokens = num_register_tokens
        self.interpolate_offset = interpolate_offset
        self.interpolate_antialias = interpolate_antialias
        self.patch_embed = PatchEmbed(patch_size, 3, embed_dim, device=device)
        num_patches = (img_size // patch_size) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim, device=device))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dim, device=device))
        self.register_tokens = (
            nn.Parameter(torch.zeros(1, num_register_tokens, embed_dim, device=device)) if num_register_tokens else None
        )
        self.blocks = nn.ModuleList([Block(embed_dim, num_heads, ffn, init_values, device=device) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6, device=device)
        self.head = nn.Identity()
        self.mask_token = nn.Parameter(torch.zeros(1, embed_dim, device=device))

    def interpolate_pos_encoding(self, x, w, h):
        # As the original: w, h are the input's dims 2 and 3 (height and width of NCHW).
        previous_dtype = x.dtype
        npatch = x.shape[1] - 1
        n = self.pos_embed.shape[1] - 1
        if npatch == n and w == h:
            return self.pos_embed
        pos_embed = self.pos_embed.float()
        class_pos_embed = pos_embed[:, 0]
        patch_pos_embed = pos_embed[:, 1:]
        dim = x.shape[-1]
        w0 = w // self.patch_size
        h0 = h // self.patch_size
        m = int(math.sqrt(n))
        assert n == m * m
        kwargs = {}
        if self.interpolate_offset:
            sx = float(w0 + self.interpolate_offset) / m
            sy = float(h0 + self.interpolate_offset) / m
            kwargs["scale_factor"] = (sx, sy)
        else:
            kwargs["size"] = (w0, h0)
        patch_pos_embed = F.interpolate(
            patch_pos_embed.reshape(1, m, m, dim).permute(0, 3, 1, 2),
            mode="bicubic",
            antialias=self.interpolate_antialias,
            **kwargs,
        )
        assert (w0, h0) == patch_pos_embed.shape[-2:]
        patch_pos_embed = patch_pos_embed.permute(0, 2, 3, 1).view(1, -1, dim)
        return torch.cat((class_pos_embed.unsqueeze(0), patch_pos_embed), dim=1).to(previous_dtype)

    def prepare_tokens(self, x):
        _, _, w, h = x.shape
        x = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        x = x + self.interpolate_pos_encoding(x, w, h)
        if self.register_tokens is not None:
            x = torch.cat((x[:, :1], self.register_tokens.expand(x.shape[0], -1, -1), x[:, 1:]), dim=1)
        return x

    def forward_features(self, x):
        x = self.prepare_tokens(x)
        attns = []
        for blk in self.blocks:
            x, attn = blk(x)
            attns.append(attn)
        x_norm = self.norm(x)
        r = self.num_register_tokens
        return {
            "x_norm_clstoken": x_norm[:, 0],
            "x_norm_regtokens": x_norm[:, 1 : r + 1],
            "x_norm_patchtokens": x_norm[:, r + 1 :],
            "attentions": attns,
        }

    def forward(self, x):
        return self.head(self.forward_features(x)["x_norm_clstoken"])


ARCHS = {
    "vits14": dict(embed_dim=384, depth=12, num_heads=6, ffn="mlp"),
    "vitb14": dict(embed_dim=768, depth=12, num_heads=12, ffn="mlp"),
    "vitl14": dict(embed_dim=1024, depth=24, num_heads=16, ffn="mlp"),
    "vitg14": dict(embed_dim=1536, depth=40, num_heads=24, ffn="swiglu"),
}


def hub_model(arch, device=None, **overrides):
    """The model hub/backbones.py builds for `dinov2_<arch>` (img_size 518, init_values 1.0)."""
    reg = arch.endswith("_reg")
    cfg = dict(ARCHS[arch[:-4] if reg else arch])
    if reg:
        cfg.update(num_register_tokens=4, interpolate_offset=0.0, interpolate_antialias=True)
    cfg.update(overrides)
    return DinoVisionTransformer(device=device, **cfg)


def weight_rule(key, t):
    """Non-trivial weights: peaked attention, norms and layer scales away from 1."""
    if key.endswith("attn.qkv.weight"):
        # Rows of the last block's attention peak at ~0.16 on average (uniform: 1/257), while
        # float32 rounding through 12 blocks stays ~2e-6 from float64 (at 3.0 it reaches 1.4e-5,
        # the size of the tolerance).
        b = 2.4 / math.sqrt(t.shape[1])
        return dict(low=-b, high=b)
    if key.endswith(".gamma"):
        return dict(low=0.1, high=0.8)
    if "norm" in key and key.endswith(".weight"):
        return dict(low=0.5, high=1.5)
    if key.endswith(".bias"):
        return dict(low=-0.1, high=0.1)
    if key in ("cls_token", "register_tokens", "mask_token"):
        return dict(low=-1.0, high=1.0)
    if key == "pos_embed":
        return dict(low=-0.5, high=0.5)
    if t.dim() >= 2:
        fan_in = t[0].numel()
        b = 1.5 / math.sqrt(fan_in)
        return dict(low=-b, high=b)
    return dict(low=-0.5, high=0.5)


def images_from_spec(spec, key):
    """[N, H, W, 3] from the spec (channels-last, as mst-ts), returned NCHW for PyTorch."""
    return tensor_from_spec(key, spec["tensors"][key], spec["seed"]).permute(0, 3, 1, 2).contiguous()


def shapes_signature(shapes):
    """FNV-1a of 'key=d0xd1;...' in state-dict order: equal iff keys, order and shapes are equal."""
    return fnv1a(";".join(f"{k}={'x'.join(str(d) for d in s)}" for k, s in shapes.items()))


def shapes_fixture():
    """Parameter counts and state-dict signatures of all 8 hub models (built on the meta device)."""
    out = {}
    for arch in ["vits14", "vitb14", "vitl14", "vitg14"]:
        for name in (arch, arch + "_reg"):
            m = hub_model(name, device="meta")
            shapes = {k: list(v.shape) for k, v in m.state_dict().items()}
            out[name] = {
                "num_parameters": sum(p.numel() for p in m.parameters()),
                "num_keys": len(shapes),
                "signature": shapes_signature(shapes),
            }
            if name.startswith("vits14"):
                out[name]["shapes"] = shapes
            print(name, out[name]["num_parameters"])
    write_json(out, os.path.join(OUT, "state_dict_shapes.json"))


BICUBIC_GRIDS = [(16, 16), (16, 12), (12, 16), (40, 20), (1, 1), (5, 52)]


def bicubic_fixture():
    spec = {"seed": 7, "tensors": {"pos_embed": {"shape": [1, 1 + 37 * 37, 4], "low": -1.0, "high": 1.0}}}
    write_json(spec, os.path.join(OUT, "bicubic.json"))
    tensors = {}
    for offset, aa in [(0.1, False), (0.0, True), (0.0, False), (0.1, True)]:
        m = DinoVisionTransformer(embed_dim=4, depth=0, num_heads=1, interpolate_offset=offset, interpolate_antialias=aa)
        m.pos_embed.data.copy_(tensor_from_spec("pos_embed", spec["tensors"]["pos_embed"], spec["seed"]))
        for gh, gw in BICUBIC_GRIDS:
            x = torch.zeros(1, 1 + gh * gw, 4)
            with torch.no_grad():
                tensors[f"offset{offset}_aa{int(aa)}_{gh}x{gw}"] = m.interpolate_pos_encoding(x, gh * 14, gw * 14)[0]
    save_safetensors(tensors, os.path.join(OUT, "bicubic.safetensors"))


def model_fixtures():
    torch.manual_seed(0)
    images = {
        "seed": 11,
        "tensors": {
            "images_224": {"shape": [32, 224, 224, 3], "low": -2.0, "high": 2.0},
            "images_224x168": {"shape": [2, 224, 168, 3], "low": -2.0, "high": 2.0},
        },
    }
    write_json(images, os.path.join(OUT, "images_spec.json"))
    x224 = images_from_spec(images, "images_224")
    x224x168 = images_from_spec(images, "images_224x168")
    queries = [1, 100, 256]
    tokens = [0, 37, 255]

    m = hub_model("vits14").eval()
    spec = make_spec(m, 101, weight_rule)
    write_json(spec, os.path.join(OUT, "vits14_spec.json"))
    fill_from_spec(m, spec)
    with torch.no_grad():
        f = m.forward_features(x224)
        last = f["attentions"][-1]
        first2 = m.forward_features(x224[:2])
        print("vits14 last block: max prob", last.max().item(), "mean row max", last.max(-1).values.mean().item())
        save_safetensors(
            {
                "features": f["x_norm_clstoken"],
                "cls_attention": last[:, :, 0],
                "attention_rows": first2["attentions"][-1][:, :, queries],
                "patch_tokens": first2["x_norm_patchtokens"][:, tokens],
                "features_first2": first2["x_norm_clstoken"],
            },
            os.path.join(OUT, "vits14_224.safetensors"),
        )
        g = m.forward_features(x224x168)
        pos = m.interpolate_pos_encoding(torch.zeros(1, 1 + 16 * 12, 384), 224, 168)
        save_safetensors(
            {
                "features": g["x_norm_clstoken"],
                "cls_attention": g["attentions"][-1][:, :, 0],
                "patch_tokens": g["x_norm_patchtokens"][:, [0, 11, 191]],
                "pos_embed_first8": pos[0, :, :8],
            },
            os.path.join(OUT, "vits14_224x168.safetensors"),
        )

    r = hub_model("vits14_reg").eval()
    spec = make_spec(r, 202, weight_rule)
    write_json(spec, os.path.join(OUT, "vits14_reg_spec.json"))
    fill_from_spec(r, spec)
    with torch.no_grad():
        f = r.forward_features(x224[:2])
        save_safetensors(
            {
                "features": f["x_norm_clstoken"],
                "reg_tokens": f["x_norm_regtokens"],
                "cls_attention": f["attentions"][-1][:, :, 0],
                "patch_tokens": f["x_norm_patchtokens"][:, tokens],
            },
            os.path.join(OUT, "vits14_reg_224.safetensors"),
        )


TINY = {
    # Patch 4, a 5x5 pos grid resized to 3x4 (exercises the resize and its gradient).
    "tiny_mlp": dict(embed_dim=16, depth=2, num_heads=2, ffn="mlp", img_size=20, patch_size=4),
    "tiny_swiglu_reg": dict(embed_dim=24, depth=2, num_heads=3, ffn="swiglu", img_size=20, patch_size=4,
                            num_register_tokens=4, interpolate_offset=0.0, interpolate_antialias=True),
}


def tiny_fixtures():
    for name, cfg in TINY.items():
        m = DinoVisionTransformer(**cfg).train()
        spec = make_spec(m, 303, weight_rule)
        inputs = {
            "seed": 17,
            "tensors": {
                "images": {"shape": [2, 12, 16, 3], "low": -2.0, "high": 2.0},
                "coef": {"shape": [2, 1 + cfg.get("num_register_tokens", 0) + 12, cfg["embed_dim"]], "low": -1.0, "high": 1.0},
            },
        }
        spec["inputs"] = inputs
        write_json(spec, os.path.join(OUT, f"{name}.json"))
        fill_from_spec(m, spec)
        x = images_from_spec(inputs, "images")
        coef = tensor_from_spec("coef", inputs["tensors"]["coef"], inputs["seed"])
        f = m.forward_features(x)
        tokens = torch.cat([f["x_norm_clstoken"][:, None], f["x_norm_regtokens"], f["x_norm_patchtokens"]], dim=1)
        loss = (tokens * coef).sum()
        loss.backward()
        out = {"tokens": tokens.detach(), "loss": loss.detach().reshape(1)}
        for k, p in m.named_parameters():
            # mask_token takes no part in inference, so PyTorch leaves its grad None.
            out["grad." + k] = p.grad if p.grad is not None else torch.zeros_like(p)
        save_safetensors(out, os.path.join(OUT, f"{name}.safetensors"))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    print("torch", torch.__version__)
    shapes_fixture()
    bicubic_fixture()
    tiny_fixtures()
    model_fixtures()
