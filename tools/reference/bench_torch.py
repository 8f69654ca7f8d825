"""PyTorch side of bench/speed.mjs: one case per process so peak RSS belongs to that case.

usage: bench_torch.py CASE REPEATS   (CASE: mst-infer | mst-train | r3d50-infer | r3d50-train)
Prints one JSON line: {"case", "times": [...seconds], "cpuTimes": [...CPU seconds of the process,
all threads, OpenMP's spinning included], "peakRssMiB"}.
Shapes and thread count equal the mst-ts side (bench/cases/speed_case.mjs).
"""
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from dinov2_ref import hub_model  # noqa: E402
from mst_ref import DinoV2ClassifierSlice  # noqa: E402
from resnet_ref import monai_resnet  # noqa: E402

torch.set_num_threads(int(os.environ.get("MST_BENCH_THREADS", "2")))
torch.manual_seed(0)
D, H, W = 32, 224, 224


def build(case):
    if case.startswith("mst"):
        return DinoV2ClassifierSlice(hub_model("vits14"), out_ch=2)
    return monai_resnet(50, spatial_dims=3, n_input_channels=1, num_classes=2, conv1_t_stride=(1, 2, 2))


def main():
    case, repeats = sys.argv[1], int(sys.argv[2])
    model = build(case)
    train = case.endswith("train")
    batch = 2 if train else 1
    x = torch.randn(batch, 1, D, H, W)
    y = torch.tensor([0, 1][:batch])
    times = []
    cpu_times = []
    if train:
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=1e-2)
        for _ in range(repeats + 1):
            t0, c0 = time.perf_counter(), time.process_time()
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - t0)
            cpu_times.append(time.process_time() - c0)
    else:
        model.eval()
        with torch.no_grad():
            for _ in range(repeats + 1):
                t0, c0 = time.perf_counter(), time.process_time()
                model(x)
                times.append(time.perf_counter() - t0)
                cpu_times.append(time.process_time() - c0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"case": case, "times": times[1:], "cpuTimes": cpu_times[1:], "peakRssMiB": peak}))


if __name__ == "__main__":
    main()
