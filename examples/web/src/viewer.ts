/**
 * The scan and its saliency in NiiVue (WebGL2): three planes and a 3D render, the saliency as an
 * overlay with a colour map, a threshold (values below it transparent) and an opacity. Loaded on
 * the first result only (a dynamic import), so the page starts without NiiVue's code. Volumes
 * reach NiiVue as NIfTI bytes encoded here with their affine, so NiiVue places them in the same
 * world coordinates as any other viewer.
 */
import { Niivue, NVImage, SHOW_RENDER, SLICE_TYPE } from '@niivue/niivue';
import { encodeNifti } from '../../../src/io/nifti';
import type { Affine } from '../../../src/io/volume';

/** A volume to show: `[D, H, W]` values (D = the slice axis) and the affine to RAS+ mm. */
export interface ViewerVolume {
  data: Float32Array;
  shape: [number, number, number];
  affine: Affine;
}

/** How the saliency overlay is drawn. */
export interface OverlayStyle {
  /** A NiiVue colour map ('warm', 'hot', 'jet', ...). */
  colormap: string;
  /** Saliency values mapped to the colour map's ends; below `low` the overlay is transparent. */
  low: number;
  high: number;
  /** Overlay opacity in [0, 1]. */
  opacity: number;
}

/** The layouts of the viewer. */
export type ViewerLayout = 'multiplanar' | 'axial';

/** The colour maps offered for the overlay (NiiVue's names). */
export const OVERLAY_COLORMAPS = ['warm', 'hot', 'jet', 'plasma', 'viridis', 'red'] as const;

function niftiBuffer(v: ViewerVolume): ArrayBuffer {
  const bytes = encodeNifti(v, { gzip: false });
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** NiiVue on a canvas, showing one scan and its saliency. */
export class ScanViewer {
  private shape: [number, number, number] = [1, 1, 1];
  private slice = -1;

  private constructor(
    /** The NiiVue instance (for scripts: `volumes[1].img` holds the overlay's voxels). */
    readonly nv: Niivue,
    private readonly onSlice: (slice: number) => void,
  ) {}

  /**
   * Starts NiiVue on `canvas`; `onSlice(d)` is called whenever the crosshair moves to another
   * slice `d` of the scan's slice axis. Throws where the browser has no WebGL2.
   */
  static async create(canvas: HTMLCanvasElement, onSlice: (slice: number) => void): Promise<ScanViewer> {
    const nv = new Niivue({
      backColor: [0, 0, 0, 1],
      // Grey crosshair and no colour bar: the only colours on screen are the overlay's.
      crosshairColor: [0.6, 0.6, 0.6, 1],
      isColorbar: false,
      multiplanarShowRender: SHOW_RENDER.ALWAYS,
      // The page reads dropped files itself (a DICOM folder goes through mst-ts's reader).
      dragAndDropEnabled: false,
      loadingText: '',
      show3Dcrosshair: true,
    });
    await nv.attachToCanvas(canvas);
    const viewer = new ScanViewer(nv, onSlice);
    nv.onLocationChange = () => viewer.locationChanged();
    return viewer;
  }

  /** Shows a scan and, where given, its saliency on the scan's grid. */
  async show(scan: ViewerVolume, saliency: Float32Array | null, style: OverlayStyle): Promise<void> {
    const nv = this.nv;
    while (nv.volumes.length) nv.removeVolume(nv.volumes[nv.volumes.length - 1]);
    this.shape = scan.shape;
    const base = await NVImage.loadFromUrl({ url: 'scan.nii', buffer: niftiBuffer(scan), name: 'scan.nii', colormap: 'gray' });
    nv.addVolume(base);
    if (saliency) {
      if (saliency.length !== scan.data.length) throw new Error(`the saliency has ${saliency.length} values, the scan ${scan.data.length}`);
      const overlay = await NVImage.loadFromUrl({ url: 'saliency.nii', buffer: niftiBuffer({ ...scan, data: saliency }), name: 'saliency.nii', colormap: style.colormap, opacity: style.opacity });
      nv.addVolume(overlay);
      this.setOverlay(style);
    }
    this.slice = -1;
    this.locationChanged();
  }

  /** Restyles the saliency overlay. */
  setOverlay(style: OverlayStyle): void {
    const overlay = this.nv.volumes[1];
    if (!overlay) return;
    overlay.colormap = style.colormap;
    overlay.cal_min = style.low;
    overlay.cal_max = Math.max(style.high, style.low + 1e-12);
    this.nv.setOpacity(1, style.opacity);
    this.nv.updateGLVolume();
  }

  /** Three planes and a 3D render, or the axial plane alone. */
  setLayout(layout: ViewerLayout): void {
    this.nv.setSliceType(layout === 'axial' ? SLICE_TYPE.AXIAL : SLICE_TYPE.MULTIPLANAR);
  }

  /** The crosshair's voxel `[d, h, w]` on the scan. */
  get voxel(): [number, number, number] {
    // NiiVue's voxel (i, j, k) of the NIfTI it was given is the scan's (w, h, d).
    const [i, j, k] = this.nv.frac2vox(this.nv.scene.crosshairPos);
    return [Math.round(k), Math.round(j), Math.round(i)];
  }

  /** Moves the crosshair to slice `d`, keeping its row and column. */
  goToSlice(d: number): void {
    const [, h, w] = this.voxel;
    const k = Math.min(this.shape[0] - 1, Math.max(0, Math.round(d)));
    this.nv.scene.crosshairPos = this.nv.vox2frac([w, h, k]);
    this.nv.drawScene();
    this.locationChanged();
  }

  /** Moves the crosshair to voxel `[d, h, w]`. */
  goToVoxel([d, h, w]: [number, number, number]): void {
    this.nv.scene.crosshairPos = this.nv.vox2frac([w, h, d]);
    this.nv.drawScene();
    this.locationChanged();
  }

  private locationChanged(): void {
    const d = this.voxel[0];
    if (d === this.slice) return;
    this.slice = d;
    this.onSlice(d);
  }
}
