/** The messages between the page and its Web Worker. */
import type { Analysis, AnalysisOptions } from './pipeline';

/** A file the worker reads: one the user picked (`file`) or one served with the page (`url`). */
export interface FileRef {
  /** File name, with its folder inside a dropped folder (`series/IM0001.dcm`) where known. */
  name: string;
  file?: File;
  url?: string;
}

/** Page -> worker. */
export type WorkerRequest =
  | { type: 'init'; wasmBase: string; backend: string | null }
  | { type: 'run'; id: number; scan: FileRef[]; model: FileRef[]; options: AnalysisOptions };

/** The scan as the page draws it (the canonical orientation, slices first). */
export interface ScanView {
  data: Float32Array;
  shape: [number, number, number];
  /** Voxel `(d, h, w)` to RAS+ mm. */
  affine: number[][];
  spacing: [number, number, number];
  orientation: string;
  source: string;
  format: string;
}

/** Worker -> page. */
export type WorkerReply =
  | { type: 'backend'; name: string; tried: string[] }
  | { type: 'progress'; id: number; stage: string; fraction: number }
  | { type: 'result'; id: number; analysis: Analysis; scan: ScanView; modelName: string; seconds: number }
  | { type: 'error'; id: number; stage: string; message: string };
