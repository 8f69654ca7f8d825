"""PyTorch reference for mst-ts's DINO pretraining (src/pretrain/) and its fixture.

A small re-implementation of DINO's training pieces (facebookresearch/dino main_dino.py, utils.py,
vision_transformer.py) and of DINOv2's KoLeo and iBOT patch losses (dinov2/loss/), written from
their definitions: the projection head with a weight-normalised last layer, the DINO loss with
centring and sharpening, the centre update, the teacher's EMA update, per-parameter gradient
clipping, the cosine and teacher-temperature schedules.

Writes test/fixtures/pretrain/dino.safetensors: random inputs and weights, and every output and
gradient the TypeScript test compares (to 1e-5).

Run: /usr/bin/python3 tools/reference/dino_ref.py
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import save_safetensors  # noqa: E402

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "pretrain")

IN_DIM, HIDDEN, BOTTLENECK, K = 8, 16, 6, 32
B, N_CROPS, N_GLOBAL = 3, 5, 2
STUDENT_TEMP, TEACHER_TEMP, CENTER_MOMENTUM, EMA_MOMENTUM, CLIP = 0.1, 0.05, 0.9, 0.9, 0.05


class DinoHead(nn.Module):
    """DINO's DINOHead: Linear-GELU MLP to a bottleneck, L2 normalisation, weight-normed Linear."""

    def __init__(self, in_dim, out_dim, hidden_dim, bottleneck_dim, nlayers=3):
        super().__init__()
        layers = [nn.Linear(in_dim, hidden_dim), nn.GELU()]
        for _ in range(nlayers - 2):
            layers += [nn.Linear(hidden_dim, hidden_dim), nn.GELU()]
        layers.append(nn.Linear(hidden_dim, bottleneck_dim))
        self.mlp = nn.Sequential(*layers)
        self.last_layer = nn.utils.weight_norm(nn.Linear(bottleneck_dim, out_dim, bias=False))
        self.last_layer.weight_g.requires_grad = False

    def forward(self, x):
        x = F.normalize(self.mlp(x), dim=-1, p=2)
        return self.last_layer(x)


def dino_loss(student_output, teacher_output, center, teacher_temp, n_crops):
    """DINOLoss.forward: cross-entropy of every teacher view against every other student view."""
    student_out = (student_output / STUDENT_TEMP).chunk(n_crops)
    teacher_out = F.softmax((teacher_output - center) / teacher_temp, dim=-1).detach().chunk(N_GLOBAL)
    total, terms = 0, 0
    for iq, q in enumerate(teacher_out):
        for v in range(n_crops):
            if v == iq:
                continue
            total = total + torch.sum(-q * F.log_softmax(student_out[v], dim=-1), dim=-1).mean()
            terms += 1
    return total / terms


def update_center(center, teacher_output):
    batch_center = torch.sum(teacher_output, dim=0, keepdim=True) / len(teacher_output)
    return center * CENTER_MOMENTUM + batch_center * (1 - CENTER_MOMENTUM)


def koleo_loss(x, eps=1e-8):
    """DINOv2's KoLeoLoss: -mean log distance to the nearest neighbour on the sphere."""
    x = F.normalize(x, eps=eps, p=2, dim=-1)
    with torch.no_grad():
        dots = x @ x.t()
        n = x.shape[0]
        dots.view(-1)[:: (n + 1)].fill_(-1)
        nn_idx = dots.max(dim=1).indices
    d = nn.PairwiseDistance(2, eps=eps)(x, x[nn_idx])
    return -torch.log(d + eps).mean()


def ibot_loss(student_patch, teacher_patch, patch_center, masks, teacher_temp):
    """DINOv2's iBOTPatchLoss.forward_masked with softmax centring of the teacher (iBOT)."""
    t = F.softmax((teacher_patch - patch_center) / teacher_temp, dim=-1)
    loss = torch.sum(t * F.log_softmax(student_patch / STUDENT_TEMP, dim=-1), dim=-1)
    weights = (1 / masks.sum(-1).clamp(min=1.0)).unsqueeze(-1).expand_as(masks)[masks]
    return -(loss * weights).sum() / masks.shape[0]


def cosine_scheduler(base, final, epochs, niter, warmup_epochs=0, start_warmup=0):
    warm = np.array([])
    wi = warmup_epochs * niter
    if warmup_epochs > 0:
        warm = np.linspace(start_warmup, base, wi)
    iters = np.arange(epochs * niter - wi)
    sched = final + 0.5 * (base - final) * (1 + np.cos(np.pi * iters / len(iters)))
    return np.concatenate((warm, sched))


def main():
    g = torch.Generator().manual_seed(0)
    out = {}
    student, teacher = DinoHead(IN_DIM, K, HIDDEN, BOTTLENECK), DinoHead(IN_DIM, K, HIDDEN, BOTTLENECK)
    for name, head in (("student", student), ("teacher", teacher)):
        with torch.no_grad():
            for k, p in head.named_parameters():
                if k == "last_layer.weight_g":
                    p.copy_(0.5 + torch.rand(p.shape, generator=g))
                else:
                    p.copy_(torch.randn(p.shape, generator=g) * 0.4)
        for k, p in head.state_dict().items():
            out[f"{name}_head.{k}"] = p

    sf = (torch.randn(N_CROPS * B, IN_DIM, generator=g)).requires_grad_(True)
    tf_ = torch.randn(N_GLOBAL * B, IN_DIM, generator=g)
    center = torch.randn(1, K, generator=g) * 0.3
    out.update({"student_features": sf.detach(), "teacher_features": tf_, "center": center})
    s_out = student(sf)
    with torch.no_grad():
        t_out = teacher(tf_)
    loss = dino_loss(s_out, t_out, center, TEACHER_TEMP, N_CROPS)
    loss.backward()
    out["student_out"] = s_out.detach()
    out["teacher_out"] = t_out
    out["dino_loss"] = loss.detach().reshape(1)
    out["grad.student_features"] = sf.grad
    for k, p in student.named_parameters():
        if p.grad is not None:
            out[f"grad.student_head.{k}"] = p.grad.clone()
    out["center_after"] = update_center(center, t_out)

    # DINO's clip_gradients on the student head's gradients.
    for k, p in student.named_parameters():
        if p.grad is None:
            continue
        norm = p.grad.data.norm(2)
        coef = CLIP / (norm + 1e-6)
        out[f"clipped.student_head.{k}"] = p.grad * coef if coef < 1 else p.grad.clone()

    # The teacher's EMA update towards the student.
    with torch.no_grad():
        for (k, ps), pt in zip(student.named_parameters(), teacher.parameters()):
            out[f"ema.teacher_head.{k}"] = pt * EMA_MOMENTUM + (1 - EMA_MOMENTUM) * ps

    x = torch.randn(7, IN_DIM, generator=g)
    x[3] = x[1] * 2.0 + 0.01 * torch.randn(IN_DIM, generator=g)  # a near-duplicate pair
    x.requires_grad_(True)
    kl = koleo_loss(x)
    kl.backward()
    out.update({"koleo_input": x.detach(), "koleo_loss": kl.detach().reshape(1), "grad.koleo_input": x.grad})

    n_img, patches = 4, 5
    masks = torch.zeros(n_img, patches, dtype=torch.bool)
    masks[0, [1, 3]] = True
    masks[2, [0, 1, 2, 4]] = True
    masks[3, [2]] = True
    m = int(masks.sum())
    sp = torch.randn(m, K, generator=g).requires_grad_(True)
    tp = torch.randn(m, K, generator=g)
    pc = torch.randn(1, K, generator=g) * 0.3
    il = ibot_loss(sp, tp, pc, masks, TEACHER_TEMP)
    il.backward()
    out.update({"ibot_student": sp.detach(), "ibot_teacher": tp, "ibot_center": pc, "ibot_masks": masks.float(), "ibot_loss": il.detach().reshape(1), "grad.ibot_student": sp.grad})

    out["schedule.momentum"] = torch.tensor(cosine_scheduler(0.996, 1, 5, 3))
    out["schedule.lr"] = torch.tensor(cosine_scheduler(5e-4, 1e-6, 5, 3, warmup_epochs=2))
    out["schedule.teacher_temp"] = torch.tensor(np.concatenate((np.linspace(0.04, 0.07, 3), np.ones(5 - 3) * 0.07)))

    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "dino.safetensors")
    save_safetensors(out, path)
    print("wrote", os.path.normpath(path), "torch", torch.__version__, "loss", float(loss), "koleo", float(kl), "ibot", float(il))


if __name__ == "__main__":
    main()
