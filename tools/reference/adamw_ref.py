"""Reference trajectory of torch.optim.AdamW on a small least-squares problem.

Writes test/fixtures/train/adamw.safetensors: the problem (x, y, initial w and b) and the
parameters after each of STEPS steps, for two settings (torch's defaults except lr, and
non-default betas, eps and weight decay). The TypeScript test replays the same steps with
src/train/adamw.ts and compares to 1e-6.

Run: /usr/bin/python3 tools/reference/adamw_ref.py
"""
import os

import torch

from common import save_safetensors

torch.set_num_threads(1)
STEPS = 6
SETTINGS = {
    "default": dict(lr=1e-2),
    "custom": dict(lr=3e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
}


def main():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8, 4, generator=g)
    y = torch.randn(8, 3, generator=g)
    w0 = torch.randn(3, 4, generator=g) * 0.5
    b0 = torch.randn(3, generator=g) * 0.5
    out = {"x": x, "y": y, "w0": w0, "b0": b0}
    for name, kwargs in SETTINGS.items():
        w = w0.clone().requires_grad_(True)
        b = b0.clone().requires_grad_(True)
        opt = torch.optim.AdamW([w, b], **kwargs)
        for step in range(1, STEPS + 1):
            opt.zero_grad()
            loss = ((x @ w.T + b - y) ** 2).mean()
            loss.backward()
            opt.step()
            out[f"{name}.w{step}"] = w.detach().clone()
            out[f"{name}.b{step}"] = b.detach().clone()
    path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "train", "adamw.safetensors")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_safetensors(out, path)
    print("wrote", os.path.normpath(path), "torch", torch.__version__)


if __name__ == "__main__":
    main()
