/** One DICOM file's header fields that mst-ts uses, plus its decoded frames. */
export interface DicomImage {
  /** Path or description. */
  source: string;
  transferSyntax: string;
  sopClassUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  modality: string;
  /** SeriesDescription (0008,103E), '' when absent. */
  seriesDescription: string;
  seriesNumber: number | null;
  instanceNumber: number | null;
  /** AcquisitionNumber (0020,0012). */
  acquisitionNumber: number | null;
  /** TemporalPositionIdentifier (0020,0100): the phase of a dynamic series. */
  temporalPositionIdentifier: number | null;
  /** TriggerTime (0018,1060) in ms: the cardiac phase. */
  triggerTime: number | null;
  /** EchoNumbers (0018,0086), the first value. */
  echoNumber: number | null;
  /** DiffusionBValue (0018,9087) in s/mm²: the b-value of a diffusion-weighted image. */
  diffusionBValue: number | null;
  /** ImagePositionPatient (LPS mm), or null when absent. */
  position: [number, number, number] | null;
  /** ImageOrientationPatient: row direction then column direction (LPS), or null. */
  orientation: [number, number, number, number, number, number] | null;
  /** PixelSpacing: [between rows, between columns] in mm. */
  pixelSpacing: [number, number] | null;
  sliceThickness: number | null;
  spacingBetweenSlices: number | null;
  rows: number;
  columns: number;
  frames: number;
  bitsAllocated: number;
  /** BitsStored (0028,0101); default BitsAllocated. Stored values are masked to it (sign-extended when signed). */
  bitsStored: number;
  pixelRepresentation: number;
  samplesPerPixel: number;
  /** PhotometricInterpretation (0028,0004), e.g. 'MONOCHROME2'; 'MONOCHROME2' when absent. */
  photometricInterpretation: string;
  rescaleSlope: number;
  rescaleIntercept: number;
  /** Decoded stored values `[frames, rows, columns]` as float32, before rescaling. */
  pixels: Float32Array | null;
  /** Compressed frames, when read with `encoded: true` (decoded by {@link decodeDicomPixels}). */
  encodedFrames?: Uint8Array[];
  /**
   * An enhanced multi-frame file's geometry of each frame, from its per-frame and shared functional
   * groups; {@link dicomFrames} splits such a file into one image per frame.
   */
  perFrame?: DicomFrameGeometry[];
}

/** What the functional groups of an enhanced multi-frame file say of one frame. */
export interface DicomFrameGeometry {
  position: DicomImage['position'];
  orientation: DicomImage['orientation'];
  pixelSpacing: DicomImage['pixelSpacing'];
  sliceThickness: number | null;
  spacingBetweenSlices: number | null;
  rescaleSlope: number;
  rescaleIntercept: number;
  /** TemporalPositionIndex (0020,9128) of the Frame Content macro: the frame's phase. */
  temporalPositionIdentifier: number | null;
}
