/**
 * The differential oracle: an accepted fuzz input is read again by nibabel, pydicom, NumPy or
 * torch (tools/reference/fuzz_oracle.py, Debian's python3) and the two readings are compared.
 * Local only: CI has no Python; `npm run fuzz` uses it where found.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from './pool';

const PYTHON = '/usr/bin/python3';
const ORACLE_TARGETS: Record<string, string> = { nifti: 'nifti', dicom: 'dicom', npy: 'npy', torch: 'torch' };

type Answer = { ok: true; [k: string]: unknown } | { ok: false; error: string };

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(a), Math.abs(b));

export class Oracle {
  private readonly proc: ChildProcessWithoutNullStreams;
  private buffer = '';
  private waiting: ((a: Answer | null) => void) | null = null;
  private nextId = 0;
  private expected = -1;
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-oracle-'));

  private constructor() {
    this.proc = spawn(PYTHON, [path.join(ROOT, 'tools', 'reference', 'fuzz_oracle.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        let answer: Answer & { id: number };
        try {
          answer = JSON.parse(line) as Answer & { id: number };
        } catch {
          continue;
        }
        // An answer that came after its request timed out belongs to no one.
        if (answer.id !== this.expected || !this.waiting) continue;
        const w = this.waiting;
        this.waiting = null;
        w(answer);
      }
    });
  }

  /** An oracle, or null with the reason where Python or its packages are missing. */
  static open(): { oracle: Oracle | null; reason: string } {
    if (!fs.existsSync(PYTHON)) return { oracle: null, reason: `${PYTHON} not found` };
    const missing = ['nibabel', 'pydicom', 'numpy', 'torch'].filter((m) => !fs.existsSync(`/usr/lib/python3/dist-packages/${m}`));
    if (missing.length) return { oracle: null, reason: `Debian packages missing: ${missing.map((m) => `python3-${m}`).join(', ')}` };
    return { oracle: new Oracle(), reason: '' };
  }

  private ask(target: string, bytes: Uint8Array): Promise<Answer | null> {
    const file = path.join(this.dir, `input.${target === 'nifti' ? (bytes[0] === 0x1f ? 'nii.gz' : 'nii') : target === 'npy' ? 'npy' : 'bin'}`);
    fs.writeFileSync(file, bytes);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        resolve(null);
      }, 30000);
      this.waiting = (a) => {
        clearTimeout(timer);
        resolve(a);
      };
      this.expected = this.nextId++;
      this.proc.stdin.write(`${JSON.stringify({ id: this.expected, target, path: file })}\n`);
    });
  }

  /** Compares our reading (`summary`) with the reference reader's. */
  async compare(target: string, bytes: Uint8Array, summary: Record<string, unknown>): Promise<{ mismatch?: string; refused?: string }> {
    // The web target stacks a DICOM input with a series: only its NIfTI readings compare with one file's.
    const kind = target === 'web' ? (bytes[128] === 0x44 ? undefined : 'nifti') : ORACLE_TARGETS[target];
    if (!kind) return {};
    const ref = await this.ask(kind, bytes);
    if (!ref) return {};
    if (!ref.ok) return { refused: ref.error };
    const sum = summary.sum as number;
    if (kind === 'nifti') {
      const shape = (ref.shape as number[]).slice().reverse();
      if (JSON.stringify(shape) !== JSON.stringify(summary.shape)) return { mismatch: `shape [${summary.shape}], nibabel [${shape}]` };
      if (!close(sum, ref.sum as number)) return { mismatch: `voxel sum ${sum}, nibabel ${ref.sum}` };
      // Where the sform is singular or not finite we use the qform on purpose; nibabel keeps the sform.
      if (summary.affineFrom === 'qform' && (summary.sformCode as number) > 0) return { refused: 'nibabel keeps a singular or non-finite sform, mst-ts falls back to the qform' };
      const a = ref.affine as number[][];
      const ours = summary.affine as number[][];
      // Our columns are (d, h, w) = (k, j, i).
      // nibabel's non-finite entries arrive as null; ours are finite (checked by the judge).
      for (let r = 0; r < 3; r++) for (const [c, rc] of [[0, 2], [1, 1], [2, 0], [3, 3]]) if (a[r][rc] === null || !close(ours[r][c], a[r][rc])) return { mismatch: `affine[${r}][${c}] ${ours[r][c]}, nibabel ${a[r][rc]}` };
    } else if (kind === 'dicom') {
      if (summary.rows !== undefined && (ref.rows !== summary.rows || ref.columns !== summary.columns)) return { mismatch: `${summary.rows} x ${summary.columns}, pydicom ${ref.rows} x ${ref.columns}` };
      if (!close(sum, ref.sum as number)) return { mismatch: `pixel sum ${sum}, pydicom ${ref.sum}` };
    } else if (kind === 'npy') {
      if (JSON.stringify(ref.shape) !== JSON.stringify(summary.shape) || ref.dtype !== summary.dtype) return { mismatch: `${summary.dtype}[${summary.shape}], numpy ${ref.dtype}[${ref.shape}]` };
      if (!close(sum, ref.sum as number)) return { mismatch: `sum ${sum}, numpy ${ref.sum}` };
    } else if (kind === 'torch') {
      const ours = summary.tensors as Record<string, { shape: number[]; sum: number }>;
      const theirs = ref.tensors as Record<string, { shape: number[]; sum: number }>;
      for (const [k, t] of Object.entries(ours)) {
        const r = theirs[k];
        if (!r) continue; // torch keeps state dicts we find elsewhere (a Lightning 'state_dict') under other keys
        if (JSON.stringify(r.shape) !== JSON.stringify(t.shape)) return { mismatch: `tensor '${k}' shape [${t.shape}], torch [${r.shape}]` };
        if (!close(t.sum, r.sum)) return { mismatch: `tensor '${k}' sum ${t.sum}, torch ${r.sum}` };
      }
    }
    return {};
  }

  close(): void {
    this.proc.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
