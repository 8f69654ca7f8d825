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

/**
 * The layouts of the viewer: three planes and a 3D render, or the plane of the scan's slices
 * alone (axial, coronal or sagittal, whichever the slice axis is closest to).
 */
export type ViewerLayout = 'multiplanar' | 'slice';

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
      // A thin crosshair (NiiVue's default is a voxel wide), so it hides little of the overlay.
      crosshairWidth: 0.5,
      crosshairWidthUnit: 'percent',
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

  /** Three planes and a 3D render, or the plane of the scan's slices alone. */
  setLayout(layout: ViewerLayout): void {
    this.nv.setSliceType(layout === 'slice' ? this.slicePlane() : SLICE_TYPE.MULTIPLANAR);
  }

  /** The plane NiiVue draws the scan's slices in: the RAS axis the slice axis was permuted onto. */
  slicePlane(): SLICE_TYPE {
    const perm = this.nv.volumes[0]?.permRAS;
    const axis = perm ? perm.findIndex((p) => Math.abs(p) === 3) : 2;
    return [SLICE_TYPE.SAGITTAL, SLICE_TYPE.CORONAL, SLICE_TYPE.AXIAL][axis] ?? SLICE_TYPE.AXIAL;
  }

  /**
   * NiiVue's voxel indices are those of the volume reoriented to RAS: RAS axis `p` is the NIfTI
   * axis `|permRAS[p]| - 1`, reversed where `permRAS[p]` is negative. The NIfTI axes (i, j, k)
   * are the scan's (w, h, d).
   */
  private rasToScan(ras: ArrayLike<number>): [number, number, number] {
    const perm = this.nv.volumes[0]?.permRAS ?? [1, 2, 3];
    const [D, H, W] = this.shape;
    const dims = [W, H, D];
    const ijk = [0, 0, 0];
    for (let p = 0; p < 3; p++) {
      const a = Math.abs(perm[p]) - 1;
      ijk[a] = perm[p] > 0 ? ras[p] : dims[a] - 1 - ras[p];
    }
    return [Math.round(ijk[2]), Math.round(ijk[1]), Math.round(ijk[0])];
  }

  private scanToRas([d, h, w]: [number, number, number]): [number, number, number] {
    const perm = this.nv.volumes[0]?.permRAS ?? [1, 2, 3];
    const [D, H, W] = this.shape;
    const dims = [W, H, D];
    const ijk = [w, h, d];
    const ras: [number, number, number] = [0, 0, 0];
    for (let p = 0; p < 3; p++) {
      const a = Math.abs(perm[p]) - 1;
      ras[p] = perm[p] > 0 ? ijk[a] : dims[a] - 1 - ijk[a];
    }
    return ras;
  }

  /** The crosshair's voxel `[d, h, w]` on the scan. */
  get voxel(): [number, number, number] {
    return this.rasToScan(this.nv.frac2vox(this.nv.scene.crosshairPos));
  }

  /** Moves the crosshair to slice `d`, keeping its row and column. */
  goToSlice(d: number): void {
    const [, h, w] = this.voxel;
    this.goToVoxel([Math.min(this.shape[0] - 1, Math.max(0, Math.round(d))), h, w]);
  }

  /** Moves the crosshair to voxel `[d, h, w]`. */
  goToVoxel(voxel: [number, number, number]): void {
    this.nv.scene.crosshairPos = this.nv.vox2frac(this.scanToRas(voxel));
    this.nv.drawScene();
    this.locationChanged();
  }

  /**
   * Where voxel `[d, h, w]` is drawn on the canvas, in canvas pixels (the first tile showing it),
   * or null where no tile does: lets scripts read the screen at a voxel.
   */
  pixelOf(voxel: [number, number, number]): [number, number] | null {
    const pos = this.nv.frac2canvasPos(this.nv.vox2frac(this.scanToRas(voxel)));
    return pos ? [pos[0], pos[1]] : null;
  }

  private locationChanged(): void {
    const d = this.voxel[0];
    if (d === this.slice) return;
    this.slice = d;
    this.onSlice(d);
  }
}
