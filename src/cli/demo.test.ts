import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEMO_CONFIG, DEMO_RUNNING_TIME, demoCommand, writeSaliencyPngs } from './demo';
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

describe('mst-ts demo running time', () => {
  it('is stated once, the same figure in the README, demo --help and mst-ts --help', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8').replace(/\s+/g, ' ');
    expect(DEMO_RUNNING_TIME).toMatch(/^about \d+ minutes? of one CPU core$/);
    expect(readme).toContain(`It takes ${DEMO_RUNNING_TIME}`);
    expect(demoCommand.usage.replace(/\s+/g, ' ')).toContain(`Takes ${DEMO_RUNNING_TIME}.`);
    expect(demoCommand.summary).toContain(DEMO_RUNNING_TIME);
    // No other duration anywhere in the usage, the summary or the README's demo paragraph.
    const paragraph = readme.slice(readme.indexOf('`npm run demo` builds the package'), readme.indexOf('checks test AUC >= 0.85'));
    for (const text of [demoCommand.usage, demoCommand.summary, paragraph]) {
      expect(text.replace(DEMO_RUNNING_TIME, '').match(/\d+(\.\d+)? ?(min|minutes?|s\b|seconds?)|\d+m\d+s/g)).toBeNull();
    }
  });
});
