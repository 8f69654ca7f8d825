/**
 * The limits the readers enforce on hostile or broken files. Every allocation a reader makes is
 * bounded twice: by what the file's bytes can hold (raw data, or at most {@link DEFLATE_MAX_RATIO}
 * times its compressed bytes) and by one of these documented ceilings. Errors name the limit.
 */

/** DEFLATE cannot expand data by more than about 1032:1; a claim beyond this is corrupt or hostile. */
export const DEFLATE_MAX_RATIO = 1032;

/** Voxels of one volume (NIfTI, DICOM series, npy): 2^29, a 2 GiB float32 array. */
export const MAX_VOLUME_VOXELS = 2 ** 29;

/** Bytes kept from one gzip or DEFLATE stream (a `.nii.gz`, a deflated DICOM dataset): 2 GiB. */
export const MAX_INFLATED_BYTES = 2 ** 31;

/**
 * Bytes a `.nii.gz` may inflate to past the voxels its header describes. They are inflated only
 * to verify CRC-32 and ISIZE, without being kept; a stream longer than this is refused (a gzip bomb).
 */
export const MAX_GZIP_TRAILING_BYTES = 16 * 2 ** 20;

/** Bytes of a torch checkpoint's pickle (`data.pkl`): it holds structure, not tensor data. */
export const MAX_PICKLE_BYTES = 64 * 2 ** 20;

/** Containers (dicts, lists, tuples, marks) one pickle may create. */
export const MAX_PICKLE_CONTAINERS = 2 ** 21;

/** Values on a pickle's stack at once, marks included. */
export const MAX_PICKLE_STACK = 2 ** 24;

/** Elements that views reading one storage element several times (stride 0) may add over a whole checkpoint. */
export const MAX_EXPANDED_ELEMENTS = 2 ** 26;

/** Nesting of DICOM sequences (SQ inside items inside SQ ...). */
export const MAX_DICOM_SEQUENCE_DEPTH = 64;

/** Bytes of one DICOM text value read as a header field (UIDs are at most 64). */
export const MAX_DICOM_TEXT_BYTES = 64 * 1024;

/** Nodes `inspect` prints of a checkpoint's non-tensor metadata. */
export const MAX_PLAIN_NODES = 10_000;
