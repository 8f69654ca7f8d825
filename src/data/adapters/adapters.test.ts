import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatManifest } from '../manifest';
import { dukeManifest } from './duke';
import { lidcManifest } from './lidc';
import { mrnetManifest } from './mrnet';

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-adapter-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

describe('mrnetManifest', () => {
  it('uses the official validation set as test and splits train 80/20', async () => {
    const files: Record<string, string> = {};
    const train = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(4, '0')},${i % 4 === 0 ? 1 : 0}`);
    files['train-meniscus.csv'] = `${train.join('\n')}\n`;
    files['valid-meniscus.csv'] = '1130,1\n1131,0\n';
    for (let i = 0; i < 20; i++) files[`train/sagittal/${String(i).padStart(4, '0')}.npy`] = '';
    files['valid/sagittal/1130.npy'] = '';
    files['valid/sagittal/1131.npy'] = '';
    const root = tree(files);
    try {
      const { rows, excluded } = await mrnetManifest(root);
      expect(excluded).toEqual([]);
      expect(rows).toHaveLength(22);
      expect(rows.find((r) => r.id === 'valid-1130')).toMatchObject({ label: 1, split: 'test', path: `${root}/valid/sagittal/1130.npy` });
      const count = (s: string, l: number): number => rows.filter((r) => r.split === s && r.label === l).length;
      expect([count('train', 1), count('val', 1), count('train', 0), count('val', 0)]).toEqual([4, 1, 12, 3]);
      expect(rows[0].where).toBe(`${root}/train-meniscus.csv:1`);
    } finally {
      fs.rmSync(root, { recursive: true });
    }
  });

  it('names missing files and bad labels', async () => {
    const root = tree({ 'train-meniscus.csv': '0000,1\n0001,0\n', 'valid-meniscus.csv': '', 'train/sagittal/0000.npy': '' });
    try {
      await expect(mrnetManifest(root)).rejects.toThrow(/1 case\(s\) have missing files.*\n.*train-meniscus\.csv:2: case 'train-0001': '.*0001\.npy' missing/);
      const { rows, excluded } = await mrnetManifest(root, { skipMissing: true });
      expect(rows.map((r) => r.id)).toEqual(['train-0000']);
      expect(excluded[0].id).toBe('train-0001');
      fs.writeFileSync(path.join(root, 'train-meniscus.csv'), '0000,1\n0001,2\n');
      await expect(mrnetManifest(root)).rejects.toThrow(/train-meniscus\.csv:2: case '0001' has label "2", expected 0 or 1/);
      await expect(mrnetManifest(path.join(root, 'nope'))).rejects.toThrow(/cannot read MRNet train labels '.*nope\/train-meniscus\.csv'/);
    } finally {
      fs.rmSync(root, { recursive: true });
    }
  });
});

describe('lidcManifest', () => {
  it('labels nodules by mean malignancy, excludes 3 and groups by patient', async () => {
    const header = 'patient_id,study_instance_uid,series_instance_uid,scan_id,nodule_idx,malignancy';
    const lines = [
      // Patient A: nodule 0 rated 1, 2 (mean 1.5 -> 2: benign); nodule 1 rated 4, 5, 5 (malignant).
      'A,s1,ser1,1,0,1', 'A,s1,ser1,1,0,2', 'A,s1,ser1,1,1,4', 'A,s1,ser1,1,1,5', 'A,s1,ser1,1,1,5',
      // Patient B: nodule 0 rated 3, 3 (excluded); nodule 1 rated 3, 4 (3.5 -> 4: malignant); nodule 2 rated 2, 3 (2.5 -> 2: benign).
      'B,s2,ser2,2,0,3', 'B,s2,ser2,2,0,3', 'B,s2,ser2,2,1,3', 'B,s2,ser2,2,1,4', 'B,s2,ser2,2,2,2', 'B,s2,ser2,2,2,3',
    ];
    const root = tree({
      'annotation.csv': `${header}\n${lines.join('\n')}\n`,
      'data/A/s1/ser1/img_0.nii.gz': '',
      'data/A/s1/ser1/seg_0.nii.gz': '',
      'data/A/s1/ser1/img_1.nii.gz': '',
      'data/B/s2/ser2/img.nii.gz': '',
    });
    try {
      const { rows, excluded } = await lidcManifest(root);
      expect(rows.map((r) => [r.id, r.label])).toEqual([
        ['A-ser1-n0', 0],
        ['A-ser1-n1', 1],
        ['B-ser2-n1', 1],
        ['B-ser2-n2', 0],
      ]);
      expect(rows[0].mask).toBe(`${root}/data/A/s1/ser1/seg_0.nii.gz`);
      expect(rows[2].path).toBe(`${root}/data/B/s2/ser2/img.nii.gz`);
      expect(excluded.map((e) => e.id)).toEqual(['B-ser2-n0']);
      expect(rows[0].split).toBe(rows[1].split);
      expect(rows[2].split).toBe(rows[3].split);
      fs.appendFileSync(path.join(root, 'annotation.csv'), 'C,s,ser,3,0,7\n');
      await expect(lidcManifest(root)).rejects.toThrow(/annotation\.csv:13: malignancy must be an integer 1-5, got "7"/);
    } finally {
      fs.rmSync(root, { recursive: true });
    }
  });
});

describe('dukeManifest', () => {
  it('makes one case per breast, positive on the tumour side or when bilateral', async () => {
    const root = tree({
      'clinical.csv': 'PatientID,Location,Bilateral\nBreast_MRI_001,L,0\nBreast_MRI_002,R,1\nBreast_MRI_003,L,NC\n',
      'data/Breast_MRI_001_left/sub.nii.gz': '',
      'data/Breast_MRI_001_right/sub.nii.gz': '',
      'data/Breast_MRI_002_left/sub.nii.gz': '',
      'data/Breast_MRI_002_right/sub.nii.gz': '',
    });
    try {
      const { rows, excluded } = await dukeManifest(root);
      expect(rows.map((r) => [r.id, r.label])).toEqual([
        ['001_left', 1],
        ['001_right', 0],
        ['002_left', 1],
        ['002_right', 1],
      ]);
      expect(excluded).toEqual([{ id: '003', reason: 'Bilateral is NC' }]);
      expect(rows[0].split).toBe(rows[1].split);
      expect(rows[0].path).toBe(`${root}/data/Breast_MRI_001_left/sub.nii.gz`);
      fs.writeFileSync(path.join(root, 'clinical.csv'), 'PatientID,Location,Bilateral\nBreast_MRI_001,X,0\n');
      await expect(dukeManifest(root)).rejects.toThrow(/clinical\.csv:2: Location must be L or R, got "X"/);
    } finally {
      fs.rmSync(root, { recursive: true });
    }
  });
});

describe('prepareDukeBreasts', () => {
  it('writes left and right subtraction crops with consistent geometry', async () => {
    const { encodeNifti, readNifti } = await import('../../io/nifti');
    const { prepareDukeBreasts } = await import('./duke_prepare');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-duke-'));
    try {
      // An axial 4 x 6 x 8 grid at 1.4 x 1.4 x 6 mm in canonical SPL layout; post = pre + 10 on the
      // patient's left half (columns 4..7).
      const affine = [[0, 0, -1.4, 50], [0, -1.4, 0, 40], [6, 0, 0, -20], [0, 0, 0, 1]];
      const pre = new Float32Array(4 * 6 * 8).map((_, i) => i % 7);
      const post = pre.map((v, i) => v + (i % 8 >= 4 ? 10 : 0));
      fs.writeFileSync(path.join(root, 'pre.nii.gz'), encodeNifti({ data: pre, shape: [4, 6, 8], affine }));
      fs.writeFileSync(path.join(root, 'post.nii.gz'), encodeNifti({ data: post, shape: [4, 6, 8], affine }));
      const out = await prepareDukeBreasts({ pre: path.join(root, 'pre.nii.gz'), post: path.join(root, 'post.nii.gz'), outDir: root, uid: '007', size: [8, 12, 8] });
      const left = await readNifti(out.left);
      const right = await readNifti(out.right);
      expect(left.shape).toEqual([8, 12, 8]);
      expect(left.spacing.map((s) => Math.round(s * 100) / 100)).toEqual([3, 0.7, 0.7]);
      // The left crop holds the 10s; the right crop 0s, except 5 where trilinear upsampling blends
      // its last column with the first column of the left half.
      expect(Math.max(...left.data)).toBeCloseTo(10, 5);
      expect(Math.max(...right.data)).toBeCloseTo(5, 5);
      // The left crop's columns continue where the right crop's image half ends, to the patient's left.
      expect(left.affine[0][3]).toBeLessThan(right.affine[0][3]);
    } finally {
      fs.rmSync(root, { recursive: true });
    }
  });
});

describe('DUKE from the two phases', () => {
  it('dukeManifest lists each breast\'s pre and post crops, and names a missing phase', async () => {
    const root = tree({
      'clinical.csv': 'PatientID,Location,Bilateral\nBreast_MRI_001,L,0\n',
      'data/Breast_MRI_001_left/pre.nii.gz': '',
      'data/Breast_MRI_001_left/post.nii.gz': '',
      'data/Breast_MRI_001_right/pre.nii.gz': '',
    });
    try {
      await expect(dukeManifest(root, { input: 'phases' })).rejects.toThrow(/case '001_right': '.*Breast_MRI_001_right\/post\.nii\.gz' missing/);
      fs.writeFileSync(path.join(root, 'data/Breast_MRI_001_right/post.nii.gz'), '');
      const { rows } = await dukeManifest(root, { input: 'phases' });
      expect(rows[0]).toMatchObject({ id: '001_left', label: 1, paths: { pre: `${root}/data/Breast_MRI_001_left/pre.nii.gz`, post: `${root}/data/Breast_MRI_001_left/post.nii.gz` } });
      expect(formatManifest(rows).split('\n')[0]).toBe('id,path_pre,path_post,label,mask,fold,split');
    } finally {
      fs.rmSync(root, { recursive: true });
    }
  });

  it('prepareDukeBreasts crops both phases beside the subtraction, resampling a post-contrast series stored in another voxel order, and the duke-phases preprocessing subtracts them as sub.nii.gz holds', async () => {
    const { encodeNifti, readNifti } = await import('../../io/nifti');
    const { permuteFlip } = await import('../../io/volume');
    const { prepareDukeBreasts } = await import('./duke_prepare');
    const { manifestDataset, parseManifest } = await import('../manifest');
    const { PREPROCESSING_PRESETS } = await import('../preprocessing_presets');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-duke-phases-'));
    try {
      const affine = [[0, 0, -1.4, 50], [0, -1.4, 0, 40], [6, 0, 0, -20], [0, 0, 0, 1]];
      const pre = new Float32Array(4 * 6 * 8).map((_, i) => (i * 37) % 11);
      const post = pre.map((v, i) => 2 * v + (i % 8 >= 4 ? 10 : 0));
      // The post-contrast series stored with its axes permuted and flipped: the same voxels in space.
      const stored = permuteFlip({ data: post, shape: [4, 6, 8], affine, spacing: [6, 1.4, 1.4], orientation: 'SPL', dtype: 'float32', source: 'post', meta: {} }, [2, 0, 1], [true, false, true]);
      fs.writeFileSync(path.join(root, 'pre.nii.gz'), encodeNifti({ data: pre, shape: [4, 6, 8], affine }));
      fs.writeFileSync(path.join(root, 'post.nii.gz'), encodeNifti({ data: stored.data, shape: stored.shape, affine: stored.affine }));
      const out = await prepareDukeBreasts({ pre: path.join(root, 'pre.nii.gz'), post: path.join(root, 'post.nii.gz'), outDir: root, uid: '007', size: [8, 12, 8], phases: true });
      const dir = path.dirname(out.left);
      expect(fs.readdirSync(dir).sort()).toEqual(['post.nii.gz', 'pre.nii.gz', 'sub.nii.gz']);
      const [sub, p0, p1] = await Promise.all(['sub', 'pre', 'post'].map((n) => readNifti(path.join(dir, `${n}.nii.gz`))));
      expect(p0.affine).toEqual(sub.affine);
      // Resampled to 8 x 12 x 16, each half fills its 8 x 12 x 8 crop: no padding, sub = post - pre everywhere.
      expect(sub.shape).toEqual([8, 12, 8]);
      sub.data.forEach((v, i) => expect(v).toBeCloseTo(p1.data[i] - p0.data[i], 4));
      expect(Math.max(...sub.data)).toBeGreaterThan(10);
      const manifest = parseManifest(`id,path_pre,path_post,label\n007_left,${dir}/pre.nii.gz,${dir}/post.nii.gz,1\n`);
      const fromPhases = await manifestDataset(manifest, { inputs: PREPROCESSING_PRESETS['duke-phases'].inputs }).get(0);
      const fromSub = await manifestDataset(parseManifest(`id,path,label\n007_left,${dir}/sub.nii.gz,1\n`)).get(0);
      expect(fromPhases.shape).toEqual(fromSub.shape);
      let worst = 0;
      fromSub.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - fromPhases.data[i]))));
      expect(worst).toBeLessThan(1e-4);
    } finally {
      fs.rmSync(root, { recursive: true });
    }
  });
});

