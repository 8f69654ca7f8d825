import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEMO_CONFIG, writeSaliencyPngs } from './demo';
import { trainFromConfig } from './train';

describe('mst-ts demo pieces', () => {
  it('writes saliency montages and slice-attention charts of the most confident test cases', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-demo-'));
    const before = tf.memory().numTensors;
    const result = await trainFromConfig({
      ...DEMO_CONFIG,
      outDir: dir,
      epochs: 1,
      size: [4, 32, 32],
      crop: [4, 16, 16],
      nTrain: 8,
      nVal: 4,
      nTest: 6,
      replicates: 20,
      progress: false,
    });
    const files = await writeSaliencyPngs(result, dir, 3);
    result.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(files).toHaveLength(6);
    const montages = files.filter((f) => f.endsWith('_montage.png'));
    expect(montages.map((f) => /_(benign|malignant)_p[01]\.\d\d_montage\.png$/.test(f))).toEqual([true, true, true]);
    for (const f of files) expect(Array.from(fs.readFileSync(f).subarray(0, 4))).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });
});
