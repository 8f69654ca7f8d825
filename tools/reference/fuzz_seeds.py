"""Fuzz seeds written by the reference libraries: valid files that reach corners of the readers.

Writes test/fixtures/fuzz/seeds/{nifti,dicom,torch}/ (a few KB each):
- nifti: a 4D int16 .nii.gz with scl_slope/scl_inter (nibabel), a NIfTI-2 float32 file, and a
  multi-member gzip of a NIfTI-1 file (as bgzip writes: members of at most 64 KiB).
- dicom: a 3-frame 16-bit signed image with a nested sequence, and an implicit-VR 8-bit image
  (pydicom).
- torch: a Lightning-like checkpoint whose optimizer state and hyper-parameters share references
  and whose state dict holds views (an offset slice, a transpose, a stride-0 expand) of one storage
  (torch.save), and the same in the legacy format.

Run with Debian's python3 (python3-nibabel, python3-pydicom, python3-torch):
/usr/bin/python3 tools/reference/fuzz_seeds.py
"""
import gzip
import io
import os

import nibabel as nib
import numpy as np
import pydicom
import torch
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "test", "fixtures", "fuzz", "seeds")


def out(kind, name):
    os.makedirs(os.path.join(OUT, kind), exist_ok=True)
    return os.path.join(OUT, kind, name)


def nifti_seeds():
    rng = np.random.default_rng(1)
    img = nib.Nifti1Image(rng.integers(-100, 100, size=(4, 5, 3, 2)).astype(np.int16), np.diag([1.5, 2.0, 3.0, 1.0]))
    img.header.set_slope_inter(0.5, 10)
    nib.save(img, out("nifti", "scaled_4d.nii.gz"))
    img2 = nib.Nifti2Image(rng.normal(size=(3, 4, 5)).astype(np.float32), np.diag([0.8, 0.8, 2.0, 1.0]))
    nib.save(img2, out("nifti", "nifti2.nii"))
    raw = nib.Nifti1Image(rng.integers(0, 255, size=(40, 40, 20)).astype(np.uint8), np.eye(4)).to_bytes()
    with open(out("nifti", "bgzip_members.nii.gz"), "wb") as f:
        for start in range(0, len(raw), 65536):
            f.write(gzip.compress(raw[start:start + 65536], mtime=0))


def dicom_file(ds, path, syntax):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[path])
    meta.TransferSyntaxUID = syntax
    ds.file_meta = meta
    ds.is_little_endian = True
    ds.is_implicit_VR = syntax == ImplicitVRLittleEndian
    ds.save_as(path, write_like_original=False)


def dicom_seeds():
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = generate_uid(entropy_srcs=["multi"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=["series"])
    ds.Modality = "CT"
    inner = Dataset()
    inner.CodeValue = "T-D1100"
    outer = Dataset()
    outer.AnatomicRegionSequence = Sequence([inner])
    ds.ReferencedImageSequence = Sequence([outer])
    ds.ImagePositionPatient = [0, 0, 0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.7, 0.7]
    ds.SliceThickness = 2.5
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.NumberOfFrames = 3
    ds.Rows, ds.Columns = 8, 6
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleSlope, ds.RescaleIntercept = 2, -1024
    ds.PixelData = np.arange(-72, 72, dtype=np.int16).tobytes()
    dicom_file(ds, out("dicom", "multiframe_nested.dcm"), ExplicitVRLittleEndian)
    im = Dataset()
    im.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    im.SOPInstanceUID = generate_uid(entropy_srcs=["implicit"])
    im.SeriesInstanceUID = generate_uid(entropy_srcs=["series2"])
    im.Modality = "OT"
    im.SamplesPerPixel = 1
    im.PhotometricInterpretation = "MONOCHROME2"
    im.Rows, im.Columns = 5, 7
    im.BitsAllocated, im.BitsStored, im.HighBit, im.PixelRepresentation = 8, 8, 7, 0
    im.PixelData = bytes(range(35)) + b"\0"
    dicom_file(im, out("dicom", "implicit_8bit.dcm"), ImplicitVRLittleEndian)


def torch_seeds():
    base = torch.arange(24, dtype=torch.float32)
    weights = base.view(4, 6)
    sd = {
        "w": weights,
        "w_t": weights.t(),
        "tail": base[10:16],
        "expand": base[:1].expand(5, 3),
        "count": torch.tensor(7, dtype=torch.int64),
    }
    shared = {"betas": (0.9, 0.999), "lr": 1e-3}
    state = {0: {"step": torch.tensor(3.0), "exp_avg": torch.zeros(4, 6)}}
    ckpt = {
        "epoch": 3,
        "global_step": 12,
        "state_dict": sd,
        "optimizer_states": [{"state": state, "param_groups": [shared, shared]}],
        "hyper_parameters": {"groups": [shared, shared, shared]},
    }
    torch.save(ckpt, out("torch", "lightning_shared.ckpt"))
    torch.save(sd, out("torch", "views_legacy_shared.pth"), _use_new_zipfile_serialization=False)


if __name__ == "__main__":
    nifti_seeds()
    dicom_seeds()
    torch_seeds()
