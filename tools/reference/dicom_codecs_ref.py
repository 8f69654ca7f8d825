"""Small synthetic DICOM series for the compressed-syntax and geometry tests, with pydicom's reading.

Writes under test/fixtures/dicom/:
  ct/            6 axial CT slices, 24 x 20, 12 bits stored in 16 (unsigned), RescaleIntercept -1024,
                 2.5 mm apart, files named against the slice order; Explicit VR Little Endian.
  ct_<codec>/    the same series compressed by Debian's dcmtk / GDCM: jpegls (JPEG-LS lossless),
                 jpegls_near (near-lossless, error <= 2), j2k (JPEG 2000 lossless), j2k_lossy,
                 jpeg_lossless (process 14 SV1), jpeg_extended (12-bit lossy), rle, and htj2k
                 (HTJ2K lossless, by OpenJPH through htj2k_encode.cjs: Debian has no HTJ2K tool); the lossy ones
                 also as ct_<codec>_decoded/, decompressed by the toolkit that wrote them.
  mr8_baseline/  one 8-bit MONOCHROME2 image, JPEG baseline (lossy), mr8/ its uncompressed source
                 and mr8_baseline_decoded/ dcmtk's decoding.
  signed_j2k/    one signed 16-bit image (values below 0), JPEG 2000 lossless, and signed/ its source.
  mono1/         one MONOCHROME1 8-bit image, uncompressed.
  dce/           one series holding two phases of 4 slices (TemporalPositionIdentifier 1 and 2).
  ct_enhanced/   ct/ as one Enhanced CT file, frames out of order, positions per frame;
  ct_enhanced_2phases/ the same positions twice (TemporalPositionIndex 1 and 2, values + 100).
  ref.json       pydicom's stored-pixel sums per file (uncompressed sources), and the luminance
                 of pydicom's colour test files (RGB, RLE, 16-bit, 2 frames) from pydicom's RGB.

Tests never need the generator: the fixtures are committed.
Run: apt-get install python3-pydicom python3-numpy dcmtk libgdcm-tools; /usr/bin/python3 tools/reference/dicom_codecs_ref.py
"""
import json
import os
import shutil
import subprocess

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "test", "fixtures", "dicom")
PYD = "/usr/lib/python3/dist-packages/pydicom/data/test_files"
ROOT_UID = "1.2.826.0.1.3680043.8.498."


def uid(name):
    # Deterministic UIDs, so regenerating gives the same files.
    return generate_uid(prefix=ROOT_UID, entropy_srcs=[name])


def image(path, pixels, *, series, instance, position, bits_stored, signed=False, photometric="MONOCHROME2", modality="CT", extra=None):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2" if modality == "CT" else "1.2.840.10008.5.1.4.1.1.4"
    meta.MediaStorageSOPInstanceUID = uid(f"{path}")
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.SeriesDescription = f"synthetic {series}"
    ds.StudyInstanceUID = uid("study")
    ds.SeriesInstanceUID = uid(series)
    ds.SeriesNumber = 1
    ds.InstanceNumber = instance
    ds.FrameOfReferenceUID = uid("frame")
    ds.PatientName = "Synthetic^Phantom"
    ds.PatientID = "SYN0001"
    ds.ImagePositionPatient = [f"{v:.4f}" for v in position]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.PixelSpacing = ["0.8", "0.7"]
    ds.SliceThickness = "2.5"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = pixels.shape
    bits = pixels.dtype.itemsize * 8
    ds.BitsAllocated = bits
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if modality == "CT":
        ds.RescaleIntercept = "-1024"
        ds.RescaleSlope = "1"
    for k, v in (extra or {}).items():
        setattr(ds, k, v)
    ds.PixelData = pixels.tobytes()
    ds.save_as(path, write_like_original=False)


def phantom(rng, rows, cols, k, lo, hi):
    y, x = np.mgrid[0:rows, 0:cols]
    body = ((y - rows / 2) / (rows * 0.4)) ** 2 + ((x - cols / 2) / (cols * 0.45)) ** 2 < 1
    v = lo + (hi - lo) * (0.3 + 0.2 * np.sin(x / 3 + k) * np.cos(y / 4 - k / 2))
    v = np.where(body, v, lo) + rng.integers(-20, 21, size=(rows, cols))
    return np.clip(v, lo, hi)


def fresh(name):
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def compress(src_dir, name, cmd):
    d = fresh(name)
    for f in sorted(os.listdir(src_dir)):
        subprocess.run([*cmd(os.path.join(src_dir, f), os.path.join(d, f))], check=True, capture_output=True)
    return d


def htj2k(src, out):
    """The series as HTJ2K lossless (1.2.840.10008.1.2.4.201), encoded by OpenJPH through
    tools/reference/htj2k_encode.cjs and encapsulated by pydicom."""
    import tempfile

    from pydicom._uid_dict import UID_dictionary
    from pydicom.encaps import encapsulate

    # pydicom 2.3 predates HTJ2K: teach it the UID so it writes the file.
    UID_dictionary.setdefault("1.2.840.10008.1.2.4.201", ("High-Throughput JPEG 2000 Image Compression (Lossless Only)", "Transfer Syntax", "", "", "HTJ2KLossless"))

    with tempfile.TemporaryDirectory() as tmp:
        for f in sorted(os.listdir(src)):
            ds = pydicom.dcmread(os.path.join(src, f))
            raw, j2c = os.path.join(tmp, "in.raw"), os.path.join(tmp, "out.j2c")
            with open(raw, "wb") as fh:
                fh.write(ds.pixel_array.astype("<u2").tobytes())
            subprocess.run(["node", os.path.join(HERE, "htj2k_encode.cjs"), str(ds.Columns), str(ds.Rows), raw, j2c], check=True, cwd=os.path.join(HERE, "..", ".."))
            with open(j2c, "rb") as fh:
                ds.PixelData = encapsulate([fh.read()])
            ds["PixelData"].is_undefined_length = True
            ds["PixelData"].VR = "OB"
            ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.201"
            ds.save_as(os.path.join(out, f), write_like_original=False)


def enhanced(src, out, phases=1):
    """The ct/ series as one Enhanced CT Image file: frames stored out of order, each frame's position
    in the per-frame functional groups, orientation, pixel measures and rescale shared. With
    phases=2, each position twice: TemporalPositionIndex 1, and 2 with the values plus 100."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    slices = sorted((pydicom.dcmread(os.path.join(src, f)) for f in os.listdir(src)), key=lambda d: float(d.ImagePositionPatient[2]))
    order = [3, 0, 5, 1, 4, 2]
    first = slices[0]
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"
    meta.MediaStorageSOPInstanceUID = uid(f"enhanced{phases}")
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = os.path.join(out, "enhanced.dcm")
    order = [(k, p) for p in range(1, phases + 1) for k in order]
    ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.SeriesDescription = "synthetic ct enhanced"
    ds.StudyInstanceUID = uid("study")
    ds.SeriesInstanceUID = uid(f"ct_enhanced{phases}")
    ds.FrameOfReferenceUID = uid("frame")
    ds.NumberOfFrames = len(order)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = first.Rows, first.Columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = first.PixelSpacing
    measures.SliceThickness = first.SliceThickness
    shared.PixelMeasuresSequence = Sequence([measures])
    orient = Dataset()
    orient.ImageOrientationPatient = first.ImageOrientationPatient
    shared.PlaneOrientationSequence = Sequence([orient])
    transform = Dataset()
    transform.RescaleIntercept = "-1024"
    transform.RescaleSlope = "1"
    transform.RescaleType = "HU"
    shared.PixelValueTransformationSequence = Sequence([transform])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    frames = []
    for k, phase in order:
        item = Dataset()
        pos = Dataset()
        pos.ImagePositionPatient = slices[k].ImagePositionPatient
        item.PlanePositionSequence = Sequence([pos])
        content = Dataset()
        content.InStackPositionNumber = k + 1
        content.StackID = "1"
        if phases > 1:
            content.TemporalPositionIndex = phase
        item.FrameContentSequence = Sequence([content])
        frames.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    ds.PixelData = b"".join((slices[k].pixel_array.astype(np.uint16) + 100 * (phase - 1)).tobytes() for k, phase in order)
    ds.save_as(path, write_like_original=False)


def main():
    rng = np.random.default_rng(18)
    os.makedirs(OUT, exist_ok=True)
    ref = {}
    ct = fresh("ct")
    # File names run against the slice order: readers must sort by position.
    for k in range(6):
        px = phantom(rng, 24, 20, k, 100, 4095).astype(np.uint16)
        image(os.path.join(ct, f"im{5 - k}.dcm"), px, series="ct", instance=k + 1, position=[-8.0, -8.4, -30.0 + 2.5 * k], bits_stored=12)
    codecs = {
        "jpegls": lambda a, b: ["dcmcjpls", a, b],
        "jpegls_near": lambda a, b: ["dcmcjpls", "+en", "+md", "2", a, b],
        "j2k": lambda a, b: ["gdcmconv", "--j2k", a, b],
        "j2k_lossy": lambda a, b: ["gdcmconv", "--j2k", "--lossy", "-q", "80", a, b],
        "jpeg_lossless": lambda a, b: ["dcmcjpeg", "+e1", a, b],
        "jpeg_extended": lambda a, b: ["dcmcjpeg", "+ee", "+q", "95", a, b],
        "rle": lambda a, b: ["dcmcrle", a, b],
    }
    for name, cmd in codecs.items():
        d = compress(ct, f"ct_{name}", cmd)
        ref[f"ct_{name}"] = pydicom.dcmread(os.path.join(d, "im0.dcm")).file_meta.TransferSyntaxUID
    htj2k(ct, fresh("ct_htj2k"))
    ref["ct_htj2k"] = "1.2.840.10008.1.2.4.201"
    # Lossy files decoded by the toolkit that wrote them: what our codecs must reproduce.
    lossy = {"jpegls_near": ["dcmdjpls"], "j2k_lossy": ["gdcmconv", "--raw"]}
    for name, cmd in lossy.items():
        compress(os.path.join(OUT, f"ct_{name}"), f"ct_{name}_decoded", lambda a, b, cmd=cmd: [*cmd, a, b])

    mr8 = fresh("mr8")
    image(os.path.join(mr8, "mr8.dcm"), phantom(rng, 32, 24, 0, 0, 255).astype(np.uint8), series="mr8", instance=1, position=[0, 0, 0], bits_stored=8, modality="MR")
    compress(mr8, "mr8_baseline", lambda a, b: ["dcmcjpeg", "+eb", "+q", "95", a, b])
    compress(os.path.join(OUT, "mr8_baseline"), "mr8_baseline_decoded", lambda a, b: ["dcmdjpeg", a, b])

    signed = fresh("signed")
    image(os.path.join(signed, "signed.dcm"), phantom(rng, 16, 16, 1, -2000, 3000).astype(np.int16), series="signed", instance=1, position=[0, 0, 0], bits_stored=16, signed=True)
    compress(signed, "signed_j2k", lambda a, b: ["gdcmconv", "--j2k", a, b])

    mono1 = fresh("mono1")
    image(os.path.join(mono1, "mono1.dcm"), phantom(rng, 8, 8, 2, 0, 255).astype(np.uint8), series="mono1", instance=1, position=[0, 0, 0], bits_stored=8, photometric="MONOCHROME1", modality="MR")

    dce = fresh("dce")
    for phase in (1, 2):
        for k in range(4):
            px = (phantom(rng, 12, 12, k, 0, 1000) * phase).astype(np.uint16)
            image(
                os.path.join(dce, f"p{phase}_s{k}.dcm"),
                px,
                series="dce",
                instance=(phase - 1) * 4 + k + 1,
                position=[0, 0, 4.0 * k],
                bits_stored=16,
                modality="MR",
                extra={"TemporalPositionIdentifier": phase, "AcquisitionNumber": phase, "NumberOfTemporalPositions": 2},
            )

    enhanced(ct, fresh("ct_enhanced"))
    enhanced(ct, fresh("ct_enhanced_2phases"), phases=2)

    for d in ("ct", "mr8", "signed", "mono1", "dce"):
        for f in sorted(os.listdir(os.path.join(OUT, d))):
            ds = pydicom.dcmread(os.path.join(OUT, d, f))
            a = ds.pixel_array.astype(np.float64)
            ref[f"{d}/{f}"] = {"sum": float(a.sum()), "first": float(a.flat[0]), "min": float(a.min()), "max": float(a.max())}
    # pydicom's own colour test files, as luminance (0.299 R + 0.587 G + 0.114 B) of pydicom's RGB.
    from pydicom.pixel_data_handlers.util import convert_color_space

    for f in ["SC_rgb_small_odd.dcm", "SC_rgb_rle.dcm", "SC_rgb_rle_16bit.dcm", "SC_rgb_rle_2frame.dcm"]:
        ds = pydicom.dcmread(os.path.join(PYD, f))
        rgb = ds.pixel_array
        if ds.PhotometricInterpretation == "YBR_FULL":
            rgb = convert_color_space(rgb, "YBR_FULL", "RGB")
        lum = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
        ref[f"pydicom:{f}"] = {"frames": int(ds.get("NumberOfFrames", 1) or 1), "sum": float(lum.sum()), "first": float(lum.flat[0])}
    with open(os.path.join(OUT, "ref.json"), "w") as fh:
        json.dump(ref, fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
