"""Expected values for resampleToGrid (src/io/volume_registration.ts), from SciPy.

A random moving volume [6, 7, 8] with an oblique affine, sampled at the voxel centres of a
reference grid [5, 6, 7] with another oblique affine and spacing, part of it outside the moving
volume: scipy.ndimage.map_coordinates(order=1, mode='nearest') at inv(A_moving) @ A_reference
@ (d, h, w, 1), and the moving volume's minimum where a coordinate lies more than half a voxel
outside. Voxel indices are (d, h, w) in C order, as mst-ts's volumes.

Writes test/fixtures/volumes/registration_ref.json.
Run with Debian's python3 (python3-scipy): /usr/bin/python3 tools/reference/registration_ref.py
"""
import json
import os

import numpy as np
from scipy.ndimage import map_coordinates

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "test", "fixtures", "volumes", "registration_ref.json")


def rotation(axis, degrees):
    a = np.deg2rad(degrees)
    c, s = np.cos(a), np.sin(a)
    i, j = [k for k in range(3) if k != axis]
    r = np.eye(3)
    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
    return r


def affine(rot, spacing, origin):
    a = np.eye(4)
    a[:3, :3] = rot @ np.diag(spacing)
    a[:3, 3] = origin
    return a


def main():
    rng = np.random.default_rng(7)
    moving_shape = (6, 7, 8)
    moving = rng.normal(size=moving_shape).astype(np.float32)
    a_moving = affine(rotation(2, 15) @ rotation(0, -10), [3.0, 0.9, -0.8], [-4.0, 10.0, 2.0])
    ref_shape = (5, 6, 7)
    rot_ref = rotation(1, 25)
    spacing_ref = [2.2, -1.1, 0.7]
    # Centred a few millimetres off the moving volume's centre, so some voxels fall outside it.
    centre = (a_moving @ np.array([2.5, 3.0, 3.5, 1.0]))[:3] + np.array([4.0, -2.0, 1.0])
    origin = centre - rot_ref @ np.diag(spacing_ref) @ np.array([2.0, 2.5, 3.0])
    a_ref = affine(rot_ref, spacing_ref, origin)
    m = np.linalg.inv(a_moving) @ a_ref
    d, h, w = np.meshgrid(*[np.arange(n) for n in ref_shape], indexing="ij")
    voxels = np.stack([d.ravel(), h.ravel(), w.ravel(), np.ones(d.size)])
    coords = (m @ voxels)[:3]
    values = map_coordinates(moving.astype(np.float64), coords, order=1, mode="nearest")
    limits = np.array(moving_shape, dtype=np.float64)[:, None]
    outside = ((coords < -0.5) | (coords > limits - 0.5)).any(axis=0)
    values[outside] = float(moving.min())
    out = {
        "movingShape": list(moving_shape),
        "movingAffine": a_moving.tolist(),
        "moving": [float(v) for v in moving.ravel()],
        "referenceShape": list(ref_shape),
        "referenceAffine": a_ref.tolist(),
        "expected": [float(v) for v in values],
        "outside": int(outside.sum()),
    }
    with open(OUT, "w") as f:
        json.dump(out, f)
    print(f"wrote {OUT}: {outside.sum()} of {outside.size} reference voxels outside")


main()
