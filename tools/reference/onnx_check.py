"""Checks ONNX files exported by mst-ts with the reference implementations (a developer tool; CI
does not run it): ONNX's own checker with full shape inference, then the Python onnxruntime on an
input volume, comparing with the logits (and maps) mst-ts computed.

usage: python onnx_check.py MODEL.onnx [VOLUME.npy EXPECTED.json]
  VOLUME.npy    float32 [D, H, W]; the batch axis is added here
  EXPECTED.json {"logits": [...], "<output name>": [flat values], ...} from the tfjs model

needs `onnx` and `onnxruntime` (pip), e.g. in a virtual environment.
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def main(path, volume_path=None, expected_path=None):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    print(f"{path}: checker ok (ir {model.ir_version}, opset {[o.version for o in model.opset_import]}, "
          f"{len(model.graph.node)} nodes, {len(model.graph.initializer)} initializers)")
    print("  inputs:", [(i.name, dims(i)) for i in inferred.graph.input])
    print("  outputs:", [(o.name, dims(o)) for o in inferred.graph.output])
    if volume_path is None:
        return 0
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    volume = np.load(volume_path).astype(np.float32)[None]
    names = [o.name for o in session.get_outputs()]
    outputs = dict(zip(names, session.run(None, {session.get_inputs()[0].name: volume})))
    worst = 0.0
    if expected_path is not None:
        with open(expected_path) as f:
            expected = json.load(f)
        for name, want in expected.items():
            diff = float(np.max(np.abs(outputs[name].ravel() - np.asarray(want, dtype=np.float32))))
            worst = max(worst, diff)
            print(f"  python onnxruntime {ort.__version__} {name} {list(outputs[name].shape)}: max |diff| {diff:.2e}")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
