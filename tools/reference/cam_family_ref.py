"""PyTorch reference for the CAM family beyond Grad-CAM(++) (src/explain/{hires_cam, layer_cam,
xgrad_cam, eigen_cam, score_cam, occlusion}.ts), each written from its paper's formula:

- HiResCAM (Draelos & Carin 2020): relu(sum_c dy/dA_c * A_c), element by element.
- LayerCAM (Jiang et al. 2021, eq. 5): relu(sum_c relu(dy/dA_c) * A_c).
- XGrad-CAM (Fu et al. 2020, eq. 11): w_c = sum_s A_c(s) / sum_s' A_c(s') * dy/dA_c(s) (a zero
  sum divides by 1).
- Eigen-CAM (Muhammad & Yeasin 2020): O V_1, O the activation as [locations, C] and V_1 its first
  right singular vector (torch.linalg.svd here; power iteration in mst-ts), sign chosen so the
  projection sums to >= 0.
- Score-CAM (Wang et al. 2020, Algorithm 1): per channel, the map upsampled to the input
  (trilinear, align_corners=False), min-max normalised, times the input; the target's softmax
  probability on it; a softmax over the channels gives the weights. With a budget, the channels
  with the largest max - min are kept.
- Occlusion (Zeiler & Fergus 2014, in 3D): a box set to 0 slides over the volume (a last box
  flush with each end); each voxel gets the mean probability drop of the boxes covering it.

Every map is relu'd and min-max normalised over the whole tensor (a constant map gives zeros).
The model and volume are explain_ref.py's fixture 3D ResNet (test/fixtures/explain/resnet3d.json).
Writes test/fixtures/explain/cam_family.safetensors. Run: /usr/bin/python3 tools/reference/cam_family_ref.py
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fill_from_spec, save_safetensors, tensor_from_spec  # noqa: E402
from explain_ref import RESNET3D, RefResNet  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "explain")
torch.set_num_threads(1)


def minmax(x):
    lo, hi = x.min(), x.max()
    return (x - lo) / (hi - lo) if hi > lo else torch.zeros_like(x)


def finish(cam):
    return minmax(F.relu(cam))


def gradient_cams(act, grad):
    """[1, C, d, h, w] activation and gradient -> {method: [d, h, w]}."""
    spatial = (2, 3, 4)
    total = act.sum(dim=spatial, keepdim=True)
    xw = (act / torch.where(total != 0, total, torch.ones_like(total)) * grad).sum(dim=spatial, keepdim=True)
    return {
        "hirescam": finish((grad * act).sum(dim=1))[0],
        "layercam": finish((F.relu(grad) * act).sum(dim=1))[0],
        "xgradcam": finish((xw * act).sum(dim=1))[0],
    }


def eigen_cam(act):
    c = act.shape[1]
    o = act[0].reshape(c, -1).T.double()  # [locations, C]
    _, _, vh = torch.linalg.svd(o, full_matrices=False)
    p = o @ vh[0]
    if p.sum() < 0:
        p = -p
    return finish(p.float().reshape(act.shape[2:]))


def score_cam(model, x, act, target, budget=None):
    c = act.shape[1]
    channels = list(range(c))
    if budget is not None and budget < c:
        a = act[0].reshape(c, -1)
        rng = a.max(dim=1).values - a.min(dim=1).values
        channels = sorted(sorted(channels, key=lambda k: (-float(rng[k]), k))[:budget])
    probs = []
    with torch.no_grad():
        for k in channels:
            up = F.interpolate(act[:, k : k + 1], size=x.shape[2:], mode="trilinear", align_corners=False)
            logits, _ = model(x * minmax(up))
            probs.append(torch.softmax(logits, dim=1)[0, target])
    w = torch.zeros(c)
    w[channels] = torch.softmax(torch.stack(probs).double(), dim=0).float()
    return finish((w.view(1, c, 1, 1, 1) * act).sum(dim=1))[0]


def starts(size, window, stride):
    s = list(range(0, size - window + 1, stride))
    if s[-1] + window < size:
        s.append(size - window)
    return s


def occlusion(model, x, target, window, stride):
    dims = x.shape[2:]
    window = [min(w, d) for w, d in zip(window, dims)]
    total = torch.zeros(dims, dtype=torch.float64)
    count = torch.zeros(dims, dtype=torch.float64)
    with torch.no_grad():
        ref = torch.softmax(model(x)[0], dim=1)[0, target]
        for i in starts(dims[0], window[0], stride[0]):
            for j in starts(dims[1], window[1], stride[1]):
                for k in starts(dims[2], window[2], stride[2]):
                    occ = x.clone()
                    occ[:, :, i : i + window[0], j : j + window[1], k : k + window[2]] = 0
                    drop = ref - torch.softmax(model(occ)[0], dim=1)[0, target]
                    total[i : i + window[0], j : j + window[1], k : k + window[2]] += float(drop)
                    count[i : i + window[0], j : j + window[1], k : k + window[2]] += 1
    sens = (total / count).float()
    return sens, finish(sens)


OCCLUSION = {"w8s8": ([8, 8, 8], [8, 8, 8]), "w10s6": ([10, 12, 40], [6, 9, 40])}


def main():
    with open(os.path.join(OUT, "resnet3d.json")) as f:
        spec = json.load(f)
    torch.manual_seed(0)
    model = RefResNet(3, **RESNET3D).eval()
    fill_from_spec(model, spec)
    vol = spec["inputs"]
    x = tensor_from_spec("volume", vol["tensors"]["volume"], vol["seed"])[:, None]  # [1, 1, D, H, W]
    out = {}
    for layer in ("layer4", "layer3"):
        for target in (None, 2):
            model.zero_grad()
            logits, acts = model(x)
            cls = int(logits.argmax(dim=1)) if target is None else target
            logits[0, cls].backward()
            act, grad = acts[layer].detach(), acts[layer].grad
            name = f"{layer}.{'argmax' if target is None else target}"
            for method, cam in gradient_cams(act, grad).items():
                out[f"{name}.{method}"] = cam
            out[f"{name}.scorecam"] = score_cam(model, x, act, cls)
            if target is None:
                out[f"{layer}.eigencam"] = eigen_cam(act)
                out[f"{name}.scorecam_budget5"] = score_cam(model, x, act, cls, budget=5)
    with torch.no_grad():
        logits, _ = model(x)
    target = int(logits.argmax(dim=1))
    for name, (window, stride) in OCCLUSION.items():
        sens, cam = occlusion(model, x, target, window, stride)
        out[f"occlusion.{name}.sensitivity"] = sens
        out[f"occlusion.{name}.cam"] = cam
    print(f"cam_family: {len(out)} maps; layer4 eigencam {out['layer4.eigencam'].flatten().tolist()}")
    save_safetensors(out, os.path.join(OUT, "cam_family.safetensors"))


if __name__ == "__main__":
    main()
