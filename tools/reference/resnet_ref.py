"""PyTorch references of mst-ts's ResNet3D (MONAI) and ResNet2D (torchvision).

MONAI is not packaged for Debian, so `MonaiResNet` below is our own PyTorch rewrite of
`monai.networks.nets.ResNet` (MONAI 1.3.2, the version the MST authors pin): same arguments and
defaults (conv1_t_size 7, conv1_t_stride 1, shortcut 'B' with a biased 1x1 conv, max pool 3/2/1,
adaptive average pool, fc), same module names, so its state dict is MONAI's. It is checked here
against torchvision: with spatial_dims=2, conv1_t_stride=2, bias_downsample=False it must have
torchvision's keys and shapes and give torchvision's outputs on the same weights.

Writes to test/fixtures/resnet/:
- param_counts.json: parameter counts of resnet3d 18..152 and resnet2d 18/34/50;
- specs (weights and inputs regenerated from a hash on both sides, see common.py) and outputs:
  resnet3d18 / resnet3d50 logits and layer4 features on a [1, 16, 64, 64, 1] volume,
  resnet2d18 pooled features on [2, 224, 224, 3] images, one training-mode BatchNorm3d forward.
Layouts in the files are ours (channels-last); PyTorch's NC... tensors are permuted here.

Run: /usr/bin/python3 tools/reference/resnet_ref.py
"""
import math
import os

import torch
import torch.nn as nn
import torchvision

from common import fill_from_spec, make_spec, save_safetensors, scale_head, tensor_from_spec, write_json

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "resnet")

CONV = {2: nn.Conv2d, 3: nn.Conv3d}
NORM = {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
MAXPOOL = {2: nn.MaxPool2d, 3: nn.MaxPool3d}
AVGPOOL = {2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d}


class Basic(nn.Module):
    expansion = 1

    def __init__(self, dims, cin, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = CONV[dims](cin, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = NORM[dims](planes)
        self.act = nn.ReLU(inplace=True)
        self.conv2 = CONV[dims](planes, planes, 3, padding=1, bias=False)
        self.bn2 = NORM[dims](planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.act(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.act(out + identity)


class Bottle(nn.Module):
    expansion = 4

    def __init__(self, dims, cin, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = CONV[dims](cin, planes, 1, bias=False)
        self.bn1 = NORM[dims](planes)
        self.conv2 = CONV[dims](planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = NORM[dims](planes)
        self.conv3 = CONV[dims](planes, planes * 4, 1, bias=False)
        self.bn3 = NORM[dims](planes * 4)
        self.act = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.act(self.bn1(self.conv1(x)))
        out = self.act(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.act(out + identity)


class ShortcutA(nn.Module):
    """MONAI's _downsample_basic_block: stride-s subsampling, zero channels appended."""

    def __init__(self, planes, stride):
        super().__init__()
        self.planes, self.stride = planes, stride

    def forward(self, x):
        idx = (slice(None), slice(None)) + (slice(None, None, self.stride),) * (x.dim() - 2)
        out = x[idx]
        pad = torch.zeros(out.shape[0], self.planes - out.shape[1], *out.shape[2:], dtype=out.dtype)
        return torch.cat([out, pad], 1)


class MonaiResNet(nn.Module):
    def __init__(self, block, layers, spatial_dims=3, n_input_channels=3, conv1_t_size=7, conv1_t_stride=1,
                 no_max_pool=False, shortcut_type="B", widen_factor=1.0, num_classes=400, feed_forward=True,
                 bias_downsample=True):
        super().__init__()
        dims = spatial_dims
        planes = [int(p * widen_factor) for p in (64, 128, 256, 512)]
        k = (conv1_t_size,) * dims if isinstance(conv1_t_size, int) else tuple(conv1_t_size)
        s = (conv1_t_stride,) * dims if isinstance(conv1_t_stride, int) else tuple(conv1_t_stride)
        self.no_max_pool = no_max_pool
        self.in_planes = planes[0]
        self.conv1 = CONV[dims](n_input_channels, planes[0], k, stride=s, padding=tuple(a // 2 for a in k), bias=False)
        self.bn1 = NORM[dims](planes[0])
        self.act = nn.ReLU(inplace=True)
        self.maxpool = MAXPOOL[dims](kernel_size=3, stride=2, padding=1)
        for i, name in enumerate(["layer1", "layer2", "layer3", "layer4"]):
            setattr(self, name, self._stage(block, dims, planes[i], layers[i], 1 if i == 0 else 2, shortcut_type, bias_downsample))
        self.avgpool = AVGPOOL[dims](1)
        self.fc = nn.Linear(planes[3] * block.expansion, num_classes) if feed_forward else None
        for m in self.modules():
            if isinstance(m, CONV[dims]):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, NORM[dims]):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    def _stage(self, block, dims, planes, blocks, stride, shortcut_type, bias_downsample):
        out = planes * block.expansion
        downsample = None
        if stride != 1 or self.in_planes != out:
            if shortcut_type == "A":
                downsample = ShortcutA(out, stride)
            else:
                downsample = nn.Sequential(CONV[dims](self.in_planes, out, 1, stride=stride, bias=bias_downsample), NORM[dims](out))
        mods = [block(dims, self.in_planes, planes, stride, downsample)]
        self.in_planes = out
        mods += [block(dims, out, planes) for _ in range(1, blocks)]
        return nn.Sequential(*mods)

    def features(self, x):
        x = self.act(self.bn1(self.conv1(x)))
        if not self.no_max_pool:
            x = self.maxpool(x)
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward(self, x):
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        return x if self.fc is None else self.fc(x)


MONAI_ARCH = {18: (Basic, [2, 2, 2, 2]), 34: (Basic, [3, 4, 6, 3]), 50: (Bottle, [3, 4, 6, 3]),
              101: (Bottle, [3, 4, 23, 3]), 152: (Bottle, [3, 8, 36, 3])}


def monai_resnet(depth, **kwargs):
    block, layers = MONAI_ARCH[depth]
    return MonaiResNet(block, layers, **kwargs)


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def weight_rule(key, t):
    """Non-trivial weights that keep activations O(1) through 50 layers in eval mode."""
    if key.endswith("running_mean"):
        return dict(low=-0.3, high=0.3)
    if key.endswith("running_var"):
        return dict(low=0.5, high=1.5)
    if t.dim() == 1 and not key.startswith("fc"):
        # Norm weights and biases, the shortcut conv bias.
        return dict(low=0.5, high=1.0) if key.endswith("weight") else dict(low=-0.3, high=0.3)
    if key.startswith("fc"):
        # Wider than PyTorch's 1/sqrt(in) so the logits are O(1) and the test sees them.
        b = 4.0 / math.sqrt(t.shape[-1]) if t.dim() == 2 else 0.2
        return dict(low=-b, high=b)
    fan_in = t[0].numel()
    b = math.sqrt(6.0 / fan_in)
    return dict(low=-b, high=b)


def input_spec(shape, seed):
    return {"seed": seed, "tensors": {"input": {"shape": shape, "low": -1.0, "high": 1.0}}}


def to_ours(t):
    """[B, C, *S] -> [B, *S, C]."""
    return t.permute(0, *range(2, t.dim()), 1).contiguous()


def check_reference_against_torchvision():
    for depth, tv in [(18, torchvision.models.resnet18), (50, torchvision.models.resnet50)]:
        ours = monai_resnet(depth, spatial_dims=2, n_input_channels=3, conv1_t_stride=2, bias_downsample=False, num_classes=1000).eval()
        ref = tv().eval()
        a = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
        b = {k: tuple(v.shape) for k, v in ref.state_dict().items()}
        assert list(a) == list(b) and a == b, f"resnet{depth}: state dicts differ"
        spec = make_spec(ref, 11, weight_rule)
        fill_from_spec(ours, spec)
        fill_from_spec(ref, spec)
        x = torch.rand(1, 3, 64, 64) * 2 - 1
        with torch.no_grad():
            d = (ours(x) - ref(x)).abs().max().item()
        assert d < 1e-4, f"resnet{depth}: MonaiResNet 2D differs from torchvision by {d}"
    print("MonaiResNet (2D, torchvision settings) equals torchvision resnet18/50")


def param_counts():
    counts = {}
    for depth in MONAI_ARCH:
        m = monai_resnet(depth, spatial_dims=3, n_input_channels=1, num_classes=2)
        counts[f"resnet3d{depth}"] = {"numClasses": 2, "params": n_params(m)}
    for depth, tv in [(18, torchvision.models.resnet18), (34, torchvision.models.resnet34), (50, torchvision.models.resnet50)]:
        m = tv()
        counts[f"resnet2d{depth}"] = {"numClasses": 1000, "params": n_params(m)}
        m.fc = nn.Identity()
        counts[f"resnet2d{depth}_nofc"] = {"numClasses": 0, "params": n_params(m)}
    return counts


def parity_3d(depth, num_classes, seed):
    net = monai_resnet(depth, spatial_dims=3, n_input_channels=1, num_classes=num_classes).eval()
    spec = make_spec(net, seed, weight_rule)
    fill_from_spec(net, spec)
    ispec = input_spec([1, 16, 64, 64, 1], seed + 1)
    x = tensor_from_spec("input", ispec["tensors"]["input"], ispec["seed"])
    xt = x.permute(0, 4, 1, 2, 3).contiguous()
    scale_head(net, spec, lambda: net(xt), "fc.weight")
    with torch.no_grad():
        feats = net.features(xt)
        logits = net.fc(torch.flatten(net.avgpool(feats), 1))
    name = f"resnet3d{depth}"
    write_json(spec, os.path.join(OUT, f"{name}_spec.json"))
    write_json(ispec, os.path.join(OUT, f"{name}_input_spec.json"))
    save_safetensors({"logits": logits, "layer4": to_ours(feats)}, os.path.join(OUT, f"{name}.safetensors"))
    print(name, "logits", logits.numpy().round(4).tolist(), "layer4 max", feats.abs().max().item())


def parity_2d(seed):
    net = torchvision.models.resnet18().eval()
    net.fc = nn.Identity()
    spec = make_spec(net, seed, weight_rule)
    fill_from_spec(net, spec)
    ispec = input_spec([2, 224, 224, 3], seed + 1)
    x = tensor_from_spec("input", ispec["tensors"]["input"], ispec["seed"])
    with torch.no_grad():
        feats = net(x.permute(0, 3, 1, 2).contiguous())
    write_json(spec, os.path.join(OUT, "resnet2d18_spec.json"))
    write_json(ispec, os.path.join(OUT, "resnet2d18_input_spec.json"))
    save_safetensors({"features": feats}, os.path.join(OUT, "resnet2d18.safetensors"))
    print("resnet2d18 features max", feats.abs().max().item(), "mean", feats.mean().item())


def batch_norm_training(seed):
    bn = nn.BatchNorm3d(6).train()
    spec = make_spec(bn, seed, weight_rule)
    fill_from_spec(bn, spec)
    ispec = {"seed": seed + 1, "tensors": {"input": {"shape": [2, 3, 4, 5, 6], "low": -2.0, "high": 3.0}}}
    x = tensor_from_spec("input", ispec["tensors"]["input"], ispec["seed"])
    with torch.no_grad():
        y = bn(x.permute(0, 4, 1, 2, 3).contiguous())
    write_json(spec, os.path.join(OUT, "batch_norm3d_spec.json"))
    write_json(ispec, os.path.join(OUT, "batch_norm3d_input_spec.json"))
    save_safetensors({
        "output": to_ours(y),
        "running_mean": bn.running_mean,
        "running_var": bn.running_var,
        "num_batches_tracked": bn.num_batches_tracked.float(),
    }, os.path.join(OUT, "batch_norm3d_train.safetensors"))
    print("batch_norm3d train: running_var", bn.running_var.numpy().round(4).tolist())


def main():
    os.makedirs(OUT, exist_ok=True)
    check_reference_against_torchvision()
    counts = param_counts()
    write_json(counts, os.path.join(OUT, "param_counts.json"))
    print(counts)
    parity_3d(18, 3, 101)
    parity_3d(50, 3, 103)
    parity_2d(105)
    batch_norm_training(107)
    print("wrote", os.path.normpath(OUT), "torch", torch.__version__, "torchvision", torchvision.__version__)


if __name__ == "__main__":
    main()
