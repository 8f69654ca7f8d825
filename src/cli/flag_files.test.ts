import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DinoVisionTransformer } from '../models/dinov2';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { toOnnxBytes } from '../onnx/onnx_export';
import { ONNXRUNTIME_INSTALL } from '../export/onnx_predict';
import { describeIfInstalled } from '../../test/helpers';
import { cli, trainTinyBundle, writeChestScan } from '../../test/cli_fixtures';
import { UsageError } from './command';
import { readInputScans } from './flag_files';

// What a new user mistypes or misnames, through `runCli` as the binary runs it: one line in CLI
// terms (the flag and the file, no library function), exit status 2 for a flag, 1 for a file.
describe('mst-ts: the files the flags name', () => {
  let dir: string;
  let weights: string;
  let scan: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-flag-files-'));
    weights = await trainTinyBundle(path.join(dir, 'run'));
    scan = path.join(dir, 'scan.nii');
    writeChestScan(scan);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--backend with an unknown name is a usage error listing the backends', async () => {
    for (const command of ['predict', 'explain']) {
      const r = await cli([command, '--weights', weights, '--input', scan, '--out', path.join(dir, 'b'), '--backend', 'wsam']);
      expect(r).toEqual({ code: 2, stdout: '', stderr: `mst-ts ${command}: unknown --backend 'wsam'; did you mean 'wasm'?; expected one of wasm, cpu, webgpu, tensorflow\n` });
    }
  });

  it('--arch that contradicts the bundle says so (exit 2); the matching --arch is accepted', async () => {
    const r = await cli(['predict', '--weights', weights, '--input', scan, '--arch', 'mst-resnet18']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`mst-ts predict: --weights ${weights} holds a bundle of arch mst-dinov2-tiny, which does not match --arch mst-resnet18; a bundle needs no --arch\n`);
    const same = await cli(['predict', '--weights', weights, '--input', scan, '--arch', 'mst-dinov2-tiny', '--json']);
    expect(same.code).toBe(0);
    const plain = await cli(['predict', '--weights', weights, '--input', scan, '--json']);
    expect(JSON.parse(same.stdout)).toEqual(JSON.parse(plain.stdout));
    expect(JSON.parse(plain.stdout).arch).toBe('mst-dinov2-tiny');
  });

  it("a bundle's model.json given as --weights points at the weights beside it", async () => {
    const json = weights.replace(/\.safetensors$/, '.json');
    const r = await cli(['predict', '--weights', json, '--input', scan]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(new RegExp(`^mst-ts predict: --weights ${json}: .*; model\\.json is a model bundle's description: pass the weights beside it \\(--weights ${weights}\\)\\n$`));
    expect(r.stderr).not.toMatch(/fromPretrained|loadClassifier/);
  });

  it('a folder given as --weights or --input, and a file given as --out, say so', async () => {
    expect(await cli(['predict', '--weights', dir, '--input', scan])).toEqual({ code: 1, stdout: '', stderr: `mst-ts predict: --weights ${dir} is a folder; expected a file\n` });
    const out = path.join(dir, 'taken.txt');
    fs.writeFileSync(out, 'x');
    expect(await cli(['explain', '--weights', weights, '--input', scan, '--out', out])).toEqual({ code: 1, stdout: '', stderr: `mst-ts explain: --out ${out} is a file; expected a folder\n` });
    const cohort = await cli(['predict', '--weights', weights, '--manifest', path.join(dir, 'cases.csv'), '--out', out]);
    expect(cohort).toEqual({ code: 1, stdout: '', stderr: `mst-ts predict: --out ${out} is a file; expected a folder\n` });
  });

  it('a NaN voxel names the file and the voxel, and how to look at it', async () => {
    const nan = path.join(dir, 'nan.nii');
    writeChestScan(nan, (d, h, w) => (d === 1 && h === 2 && w === 3 ? NaN : 0));
    const r = await cli(['predict', '--weights', weights, '--input', nan]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`mst-ts predict: ${nan}: voxel (d, h, w) = (1, 2, 3) is NaN; expected finite values (fix the scan; \`mst-ts info --allow-nan ${nan}\` reads it as it is)\n`);
  });

  it('--target-class beyond the model is a usage error in flag terms', async () => {
    const r = await cli(['explain', '--weights', weights, '--input', scan, '--out', path.join(dir, 't'), '--target-class', '5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^mst-ts explain: --target-class 5 is out of range: the model has 2 classes \(0 \w+, 1 \w+\)\n$/);
  });
});

// predict and explain read their --input flags through one reader: the same rules, each command named.
describe('readInputScans', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-input-scans-'));
    writeChestScan(path.join(dir, 'pre.nii'), (d, h, w) => d + h + w);
    writeChestScan(path.join(dir, 'post.nii'), (d, h, w) => 10 * (d + h + w));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sequences = { names: ['pre', 'post'], channels: [{ subtract: ['post', 'pre'] as [string, string] }] };

  it('combines name=path inputs into the channels the model takes, on the first grid', async () => {
    for (const command of ['predict', 'explain']) {
      const v = await readInputScans(command, [`post=${path.join(dir, 'post.nii')}`, `pre=${path.join(dir, 'pre.nii')}`], sequences);
      expect(v.shape).toEqual([4, 32, 32]);
      expect(Array.from(v.data.subarray(0, 3))).toEqual([0, 9, 18]);
    }
  });

  it('refuses what the model does not take, as usage errors naming the command', async () => {
    const pre = path.join(dir, 'pre.nii');
    for (const command of ['predict', 'explain']) {
      await expect(readInputScans(command, [pre, pre], null)).rejects.toThrow(new UsageError(`${command}: the model takes one scan; got 2 --input`));
      await expect(readInputScans(command, [`pre=${pre}`, pre], sequences)).rejects.toThrow(`${command}: the model takes the sequences pre, post: give --input <name>=<path> for each (e.g. --input pre=scan.nii.gz)`);
      const twice = readInputScans(command, [`pre=${pre}`, `pre=${pre}`], sequences);
      await expect(twice).rejects.toBeInstanceOf(UsageError);
      await expect(twice).rejects.toThrow(`${command}: --input pre= is given twice`);
      await expect(readInputScans(command, [`pre=${pre}`], sequences)).rejects.toThrow(new RegExp(`^${command}: .*post`));
    }
  });
});

const describeOrt = describeIfInstalled('onnxruntime-node', 'ONNX graphs in the CLI');

describeOrt('mst-ts: ONNX graphs', () => {
  let dir: string;
  let graph: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-flag-onnx-'));
    const model = new MedicalSliceTransformer({ encoder: new DinoVisionTransformer({ embedDim: 16, depth: 1, numHeads: 2, imgSize: 16, patchSize: 4, seed: 1 }), numClasses: 3, heads: 4, seed: 2 }).eval();
    graph = path.join(dir, 'model.onnx');
    fs.writeFileSync(graph, await toOnnxBytes(model, { imageSize: [16, 16] }));
    model.dispose();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('inspect lists an .onnx graph\'s inputs and outputs', async () => {
    const r = await cli(['inspect', graph, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      file: graph,
      format: 'onnx',
      inputs: [{ name: 'volume', type: 'float32', shape: ['batch', 'slices', 16, 16] }],
      outputs: [{ name: 'logits', type: 'float32', shape: ['batch', 3] }],
    });
    const text = await cli(['inspect', graph]);
    expect(text.stdout).toBe(`file:        ${graph}\nformat:      onnx\ninputs:\n  volume  float32  [batch, slices, 16, 16]\noutputs:\n  logits  float32  [batch, 3]\n`);
    expect((await cli(['inspect', graph, '--check'])).code).toBe(2);
  });

  it('a file that is no ONNX graph is one line naming it, in inspect and predict', async () => {
    const bad = path.join(dir, 'bad.onnx');
    fs.writeFileSync(bad, 'not protobuf at all\n'.repeat(20));
    expect(await cli(['inspect', bad])).toEqual({ code: 1, stdout: '', stderr: `mst-ts inspect: ${bad}: not an ONNX graph (ONNX Runtime cannot parse it)\n` });
    const input = path.join(dir, 'x.nii');
    writeChestScan(input);
    const r = await cli(['predict', '--runtime', 'onnx', '--weights', bad, '--input', input]);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `mst-ts predict: --weights ${bad}: not an ONNX graph (ONNX Runtime cannot parse it)\n` });
    const missing = path.join(dir, 'missing.onnx');
    expect((await cli(['inspect', missing])).stderr).toBe(`mst-ts inspect: ${missing}: no such file\n`);
  });

  it('a graph whose slice size the scan does not have says both sizes', async () => {
    const input = path.join(dir, 'x.nii');
    writeChestScan(input);
    const r = await cli(['predict', '--runtime', 'onnx', '--weights', graph, '--input', input]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `mst-ts predict: --weights ${graph}: the graph expects slices of 16x16, the prepared scan has 32x32 (no bundle JSON beside the graph prepares it: pass --preset, or a scan of that size)\n`,
    );
  });
});

describe('the onnxruntime-node install hint', () => {
  it('is worded the same in the missing-package error, predict --help and the README', async () => {
    let message = '';
    await jest.isolateModulesAsync(async () => {
      jest.doMock('onnxruntime-node', () => {
        throw new Error("Cannot find module 'onnxruntime-node'\nRequire stack:\n- x.js");
      });
      const { importOnnxRuntime } = await import('../export/onnx_predict');
      message = await importOnnxRuntime().then(
        () => '',
        (e: Error) => e.message,
      );
    });
    jest.dontMock('onnxruntime-node');
    expect(message).toBe(`running ONNX models needs the optional package onnxruntime-node: install it with \`${ONNXRUNTIME_INSTALL}\` (Cannot find module 'onnxruntime-node')`);
    expect((await cli(['predict', '--help'])).stdout.replace(/\s+/g, ' ')).toContain(`optional dependency: ${ONNXRUNTIME_INSTALL})`);
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain(ONNXRUNTIME_INSTALL);
    expect(readme).not.toMatch(/ONNXRUNTIME_NODE_INSTALL|npm i onnxruntime-node/);
  });
});
