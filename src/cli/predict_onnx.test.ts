import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { buildSync } from 'esbuild';
import { mstSaliency, type MstAttention } from '../explain/mst_saliency';
import { toOnnxBytes } from '../onnx/onnx_export';
import { DinoVisionTransformer } from '../models/dinov2';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { FULL, describeIfInstalled } from '../../test/helpers';
import { encodeNpy } from '../io/npy';

// End to end: `node cli.js predict --runtime onnx --weights model.onnx --input x.npy --json` in a
// child process gives the tfjs model's logits and maps. Under MST_FULL the built dist/cli.js runs
// (`npm run test:full` builds it first); otherwise the CLI is bundled from these sources, as tsup
// does, so the test never runs a stale build.

const root = path.join(__dirname, '..', '..');
const describeOrt = describeIfInstalled('onnxruntime-node', 'predict --runtime onnx CLI test');


/** dist/cli.js under MST_FULL, else a fresh bundle of src/cli.ts (under node_modules, so tfjs resolves). */
function cliPath(): { file: string; cleanup: () => void } {
  if (FULL) return { file: path.join(root, 'dist', 'cli.js'), cleanup: () => undefined };
  const dir = path.join(root, 'node_modules', '.cache', `mst-ts-cli-${process.pid}`);
  const file = path.join(dir, 'cli.mjs');
  buildSync({
    entryPoints: [path.join(root, 'src', 'cli.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: file,
    external: ['@tensorflow/*', 'onnxruntime-node'],
    logLevel: 'silent',
  });
  return { file, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

describeOrt('node cli.js predict --runtime onnx', () => {
  it('prints the logits, probabilities and attention maps of the tfjs model (1e-4)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-cli-onnx-'));
    const cli = cliPath();
    try {
      const model = new MedicalSliceTransformer({ encoder: new DinoVisionTransformer({ embedDim: 16, depth: 2, numHeads: 2, imgSize: 20, patchSize: 4, seed: 1 }), numClasses: 3, heads: 4, seed: 2 }).eval();
      const weights = path.join(dir, 'model.onnx');
      fs.writeFileSync(weights, await toOnnxBytes(model, { attention: true, imageSize: [16, 12] }));
      const x = tf.randomUniform([1, 5, 16, 12], -2, 2, 'float32', 3);
      const input = path.join(dir, 'x.npy');
      fs.writeFileSync(input, encodeNpy((await x.data()) as Float32Array, [5, 16, 12]));

      const { stdout } = await promisify(execFile)(process.execPath, [cli.file, 'predict', '--runtime', 'onnx', '--weights', weights, '--input', input, '--json', '--explain'], {
        cwd: root,
        maxBuffer: 1 << 24,
      });
      const got = JSON.parse(stdout) as { arch: null; runtime: string; logits: number[]; probabilities: number[]; sliceAttention: number[]; planeAttention: number[][][] };
      expect(got.runtime).toBe('onnx');
      expect(got.arch).toBeNull();

      const out = model.forward(x, { attention: true });
      const s = mstSaliency(out as MstAttention);
      const want = { logits: Array.from(await out.logits.data()), slice: Array.from(await s.sliceAttention.data()), plane: Array.from(await s.planeAttention.data()) };
      const probs = tf.softmax(out.logits);
      const wantProbs = Array.from(await probs.data());
      tf.dispose([x, probs, out.logits, out.sliceAttention as tf.Tensor, out.planeAttention as tf.Tensor, ...(out.encoderAttentions ?? []), s.sliceAttention, s.planeAttention, s.saliency]);
      model.dispose();

      const close = (a: number[], b: number[]): void => {
        expect(a.length).toBe(b.length);
        a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThan(1e-4));
      };
      close(got.logits, want.logits);
      close(got.probabilities, wantProbs);
      close(got.sliceAttention, want.slice);
      expect([got.planeAttention.length, got.planeAttention[0].length, got.planeAttention[0][0].length]).toEqual([5, 4, 3]);
      close(got.planeAttention.flat(2), want.plane);
    } finally {
      cli.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
