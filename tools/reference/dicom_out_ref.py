"""What pydicom (and dicom3tools' dciodvfy) make of the saliency series mst-ts writes.

Reads test/fixtures/dicom_out/IM*.dcm (written by saliencyDicomSeries from a map over the CT
series test/fixtures/volumes/dicom_ct2; src/io/dicom_write.test.ts rewrites them with
MST_UPDATE_FIXTURES=1) and writes test/fixtures/dicom_out/pydicom_summary.json: per file the SOP
Class, Frame of Reference and Study UIDs, Image Position and Orientation (Patient), Pixel Spacing,
Patient's Name, and the pixel values after pydicom's modality LUT (Rescale Slope and Intercept);
and the error lines of `dciodvfy` (null where dicom3tools is not installed).

Run with Debian's python3 (python3-pydicom; apt-get install dicom3tools for the IOD check):
/usr/bin/python3 tools/reference/dicom_out_ref.py
"""
import glob
import json
import os
import shutil
import subprocess

import pydicom
from pydicom.pixel_data_handlers.util import apply_modality_lut

HERE = os.path.dirname(os.path.abspath(__file__))
DIR = os.path.join(HERE, "..", "..", "test", "fixtures", "dicom_out")


def main():
    files = sorted(glob.glob(os.path.join(DIR, "IM*.dcm")))
    out = {"files": [], "dciodvfyErrors": None}
    for path in files:
        ds = pydicom.dcmread(path)
        values = apply_modality_lut(ds.pixel_array, ds).astype(float).ravel()
        out["files"].append({
            "name": os.path.basename(path),
            "sopClassUid": str(ds.SOPClassUID),
            "frameOfReferenceUid": str(ds.FrameOfReferenceUID),
            "studyInstanceUid": str(ds.StudyInstanceUID),
            "position": [float(v) for v in ds.ImagePositionPatient],
            "orientation": [float(v) for v in ds.ImageOrientationPatient],
            "pixelSpacing": [float(v) for v in ds.PixelSpacing],
            "patientName": str(ds.PatientName),
            "values": [float(v) for v in values],
        })
    if shutil.which("dciodvfy"):
        errors = []
        for path in files:
            r = subprocess.run(["dciodvfy", path], capture_output=True, text=True)
            errors += [f"{os.path.basename(path)}: {line}" for line in (r.stdout + r.stderr).splitlines() if line.startswith("Error")]
        out["dciodvfyErrors"] = errors
    with open(os.path.join(DIR, "pydicom_summary.json"), "w") as f:
        json.dump(out, f)
    print(f"{len(files)} files; dciodvfy errors: {out['dciodvfyErrors']}")


main()
