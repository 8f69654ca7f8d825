"""Expected values for the NIfTI and DICOM readers, from nibabel and pydicom.

Writes test/fixtures/volumes/volumes_ref.json and two small generated NIfTI fixtures (a qform-only
oblique int16 file with scl_slope/scl_inter, and a big-endian uint8 file with both sform and qform).

For every NIfTI file: nibabel's shape, affine (voxel i, j, k -> RAS+), chosen volume 0, the voxel
sum and an index-weighted checksum over (i, j, k) of volume 0, both in float64 after scaling.
For every DICOM file: pydicom's stored-pixel sum, rescale, geometry. For the CT2 series folder:
the stacked, rescaled volume sorted along the slice normal, with its RAS+ affine over
(slice, row, column).

Run with Debian's python3 (nibabel 5, pydicom 2.3): /usr/bin/python3 tools/reference/volumes_ref.py
"""
import glob
import json
import os

import nibabel as nib
import numpy as np
import pydicom

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "test", "fixtures", "volumes")
NIB = "/usr/lib/python3/dist-packages/nibabel/tests/data"
PYD = "/usr/lib/python3/dist-packages/pydicom/data/test_files"


def checksum_weights(shape):
    i, j, k = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    return ((i * 7 + j * 13 + k * 17) % 11).astype(np.float64)


def nifti_entry(path):
    img = nib.load(path)
    data = np.asanyarray(img.dataobj).astype(np.float64)
    if data.ndim == 4:
        data = data[..., 0]
    return {
        "shape": list(img.shape),
        "affine": img.affine.tolist(),
        "dtype": str(img.header.get_data_dtype().name),
        # NaN voxels (resampled_anat_moved.nii has some) are counted and left out of the sums.
        "nanCount": int(np.isnan(data).sum()),
        "sum": float(np.nansum(data)),
        "checksum": float(np.nansum(data * checksum_weights(data.shape))),
        "first": float(np.nan_to_num(data[0, 0, 0])),
        "last": float(np.nan_to_num(data[-1, -1, -1])),
    }


def make_fixtures():
    rng = np.random.default_rng(0)
    # Oblique qform-only int16 with scaling and qfac -1 (left-handed voxel axes).
    data = rng.integers(-300, 300, size=(5, 6, 7)).astype(np.int16)
    ang = np.deg2rad(20)
    rot = np.array([[np.cos(ang), -np.sin(ang), 0], [np.sin(ang), np.cos(ang), 0], [0, 0, 1]])
    aff = np.eye(4)
    aff[:3, :3] = rot @ np.diag([0.8, 0.9, -2.5])
    aff[:3, 3] = [-10, 20, 5]
    img = nib.Nifti1Image(data, None)
    img.set_qform(aff, code=1)
    img.set_sform(None, code=0)
    img.header.set_slope_inter(2.0, -5.0)
    nib.save(img, os.path.join(OUT, "qform_scaled.nii"))
    # Big-endian uint8 with sform and qform (sform wins).
    data = rng.integers(0, 255, size=(4, 3, 6)).astype(np.uint8)
    aff = np.array([[0, 0, -3.0, 30], [-1.5, 0, 0, 12], [0, 1.2, 0, -7], [0, 0, 0, 1]])
    hdr = nib.Nifti1Header(endianness=">")
    img = nib.Nifti1Image(data, aff, header=hdr)
    img.set_qform(aff, code=1)
    img.set_sform(aff, code=2)
    img.header.set_data_dtype(np.uint8)
    img.header["scl_slope"] = 1
    img.header["scl_inter"] = 0
    nib.save(img, os.path.join(OUT, "sform_be.nii.gz"))


def dicom_entry(path):
    ds = pydicom.dcmread(path)
    entry = {
        "transferSyntax": str(ds.file_meta.TransferSyntaxUID),
        "rows": int(ds.Rows),
        "columns": int(ds.Columns),
        "rescaleSlope": float(ds.get("RescaleSlope", 1)),
        "rescaleIntercept": float(ds.get("RescaleIntercept", 0)),
        "seriesInstanceUid": str(ds.get("SeriesInstanceUID", "")),
        "position": [float(v) for v in ds.get("ImagePositionPatient", [])],
        "orientation": [float(v) for v in ds.get("ImageOrientationPatient", [])],
        "pixelSpacing": [float(v) for v in ds.get("PixelSpacing", [])],
    }
    try:
        px = ds.pixel_array.astype(np.float64)
        entry["pixelSum"] = float(px.sum())
        entry["pixelChecksum"] = float((px * checksum_weights(px.shape)).sum()) if px.ndim == 3 else float((px * checksum_weights(px.shape + (1,))[..., 0]).sum())
        entry["first"] = float(px.flat[0])
        entry["last"] = float(px.flat[-1])
    except Exception as e:  # compressed syntaxes without a decoder here
        entry["pixelError"] = str(e)[:200]
    return entry


def series_entry(folder):
    dss = [pydicom.dcmread(f) for f in sorted(glob.glob(os.path.join(folder, "*")))]
    iop = np.array(dss[0].ImageOrientationPatient, dtype=np.float64)
    row, col = iop[:3], iop[3:]
    normal = np.cross(row, col)
    dss.sort(key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, dtype=np.float64), normal)))
    pos = np.array([d.ImagePositionPatient for d in dss], dtype=np.float64)
    gaps = np.diff(pos @ normal)
    spacing = float(np.median(gaps))
    vol = np.stack([d.pixel_array.astype(np.float64) * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in dss])
    dr, dc = [float(v) for v in dss[0].PixelSpacing]
    lps = np.eye(4)
    lps[:3, 0] = normal * spacing
    lps[:3, 1] = col * dr
    lps[:3, 2] = row * dc
    lps[:3, 3] = pos[0]
    ras = np.diag([-1, -1, 1, 1]) @ lps
    return {
        "shape": list(vol.shape),
        "affine": ras.tolist(),
        "sum": float(vol.sum()),
        "checksum": float((vol * checksum_weights(vol.shape)).sum()),
        "order": [os.path.basename(d.filename) for d in dss],
        "seriesInstanceUid": str(dss[0].SeriesInstanceUID),
    }


def main():
    make_fixtures()
    out = {"nifti": {}, "dicom": {}, "series": {}}
    for name in ["standard.nii.gz", "resampled_anat_moved.nii", "example_nifti2.nii.gz", "qform_scaled.nii", "sform_be.nii.gz"]:
        out["nifti"][name] = nifti_entry(os.path.join(OUT, name))
    for name in ["anatomical.nii", "functional.nii", "example4d.nii.gz", "reoriented_anat_moved.nii"]:
        out["nifti"]["system:" + name] = nifti_entry(os.path.join(NIB, name))
    for name in ["CT_small.dcm", "MR_small.dcm", "MR_small_bigendian.dcm", "MR_small_implicit.dcm", "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm"]:
        out["dicom"][name] = dicom_entry(os.path.join(OUT, name))
    for name in ["MR_small_expb.dcm", "MR_small_padded.dcm", "liver_1frame.dcm", "rtdose_rle_1frame.dcm", "image_dfl.dcm"]:
        out["dicom"]["system:" + name] = dicom_entry(os.path.join(PYD, name))
    out["series"]["dicom_ct2"] = series_entry(os.path.join(OUT, "dicom_ct2"))
    with open(os.path.join(OUT, "volumes_ref.json"), "w") as f:
        json.dump(out, f, indent=1, allow_nan=False)


if __name__ == "__main__":
    main()
