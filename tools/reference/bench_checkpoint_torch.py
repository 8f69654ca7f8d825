"""PyTorch side of bench/checkpoint_load.mjs.

  write PATH.pth PATH.safetensors   writes a DINOv2 ViT-S/14 state dict (hub names, 518 px: 88 MB)
                                    with torch.save and as F32 safetensors
  load PATH.pth REPEATS             times torch.load + copying every tensor into an equally shaped
                                    parameter (what load_state_dict does), one JSON line
"""
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import save_safetensors  # noqa: E402

torch.set_num_threads(1)


def vits14_shapes():
    e, depth, hidden, grid, p = 384, 12, 1536, 37, 14
    shapes = {"cls_token": (1, 1, e), "pos_embed": (1, 1 + grid * grid, e), "mask_token": (1, e), "patch_embed.proj.weight": (e, 3, p, p), "patch_embed.proj.bias": (e,)}
    for i in range(depth):
        b = f"blocks.{i}."
        shapes.update({b + "norm1.weight": (e,), b + "norm1.bias": (e,), b + "attn.qkv.weight": (3 * e, e), b + "attn.qkv.bias": (3 * e,), b + "attn.proj.weight": (e, e), b + "attn.proj.bias": (e,), b + "ls1.gamma": (e,), b + "norm2.weight": (e,), b + "norm2.bias": (e,), b + "mlp.fc1.weight": (hidden, e), b + "mlp.fc1.bias": (hidden,), b + "mlp.fc2.weight": (e, hidden), b + "mlp.fc2.bias": (e,), b + "ls2.gamma": (e,)})
    shapes.update({"norm.weight": (e,), "norm.bias": (e,)})
    return shapes


if sys.argv[1] == "write":
    g = torch.Generator().manual_seed(0)
    sd = {k: torch.randn(*s, generator=g) * 0.02 for k, s in vits14_shapes().items()}
    torch.save(sd, sys.argv[2])
    save_safetensors(sd, sys.argv[3])
elif sys.argv[1] == "load":
    params = {k: torch.empty(*s) for k, s in vits14_shapes().items()}
    times = []
    for _ in range(int(sys.argv[3]) + 1):
        t0 = time.perf_counter()
        sd = torch.load(sys.argv[2], map_location="cpu")
        with torch.no_grad():
            for k, v in sd.items():
                params[k].copy_(v)
        times.append(time.perf_counter() - t0)
        del sd
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"times": times[1:], "peakRssMiB": peak}))
