"""Re-saves a safetensors file (F32 tensors) as a torch.save .pth state dict, as a PyTorch user
would keep a model: the fixture for loading a registry architecture from a torch file.

  /usr/bin/python3 tools/reference/safetensors_to_pth.py in.safetensors out.pth
"""
import collections
import json
import struct
import sys

import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    out = collections.OrderedDict()
    for key, info in header.items():
        if key == "__metadata__":
            continue
        assert info["dtype"] == "F32", (key, info["dtype"])
        start, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(body[start:end]), dtype=torch.float32)
        out[key] = t.reshape(info["shape"]).clone()
    return out


if __name__ == "__main__":
    torch.save(read_safetensors(sys.argv[1]), sys.argv[2])
