import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixturePath } from '../../test/helpers';
import { CaseError } from './case_error';
import { checkManifestFiles, formatManifest, manifestDataset, manifestSplits, parseManifest, readManifest } from './manifest';

describe('parseManifest', () => {
  it('reads rows, resolves paths and optional columns', () => {
    const m = parseManifest('id,path,label,mask,fold,split,extra\na,x/a.nii.gz,1,x/a_mask.nii.gz,2,Train,?\nb,/abs/b.npy,0,,,test,\n', 'm.csv', { baseDir: '/data' });
    expect(m.rows).toEqual([
      { id: 'a', path: '/data/x/a.nii.gz', label: 1, mask: '/data/x/a_mask.nii.gz', fold: 2, split: 'train', where: 'm.csv:2' },
      { id: 'b', path: '/abs/b.npy', label: 0, split: 'test', where: 'm.csv:3' },
    ]);
  });

  it.each([
    ['id,path\na,b\n', "m.csv: missing column 'label'"],
    ['id,path,label\na,a.nii,2\n', "m.csv:2: case 'a' has label \"2\", expected an integer class in [0, 2)"],
    ['id,path,label\na,a.nii,0.5\n', "m.csv:2: case 'a' has label \"0.5\""],
    ['id,path,label\na,a.nii,\n', "m.csv:2: case 'a' has label \"\""],
    ['id,path,label\na,a.nii,1\nb,,0\n', "m.csv:3: case 'b' has an empty path"],
    ['id,path,label\na,a.nii,1\n\na,c.nii,0\n', "m.csv:4: duplicate id 'a' (first on m.csv:2)"],
    ['id,path,label,split\na,a.nii,1,holdout\n', "m.csv:2: case 'a' has split \"holdout\", expected train, val or test"],
    ['id,path,label,fold\na,a.nii,1,-1\n', "m.csv:2: case 'a' has fold \"-1\""],
  ])('rejects %j', (text, message) => {
    expect(() => parseManifest(text, 'm.csv')).toThrow(message);
  });

  it('accepts more classes when asked', () => {
    expect(parseManifest('id,path,label\na,a,4\n', 'm', { numClasses: 5 }).rows[0].label).toBe(4);
  });
});

describe('manifest files and datasets', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-manifest-'));
    fs.copyFileSync(fixturePath('volumes', 'standard.nii.gz'), path.join(dir, 'a.nii.gz'));
    fs.copyFileSync(fixturePath('volumes', 'resampled_anat_moved.nii'), path.join(dir, 'nan.nii'));
    fs.writeFileSync(
      path.join(dir, 'manifest.csv'),
      formatManifest([
        { id: 'a', path: 'a.nii.gz', label: 1, mask: 'a.nii.gz', split: 'train' },
        { id: 'gone', path: 'missing.nii.gz', label: 0, split: 'val' },
        { id: 'nan', path: 'nan.nii', label: 0, split: 'test' },
      ]),
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true }));

  it('round-trips through formatManifest and readManifest', async () => {
    const m = await readManifest(path.join(dir, 'manifest.csv'));
    expect(m.rows.map((r) => r.id)).toEqual(['a', 'gone', 'nan']);
    expect(m.rows[0].path).toBe(path.join(dir, 'a.nii.gz'));
    expect(manifestSplits(m, 0)).toEqual({ train: [0], val: [1], test: [2] });
    await expect(readManifest(path.join(dir, 'none.csv'))).rejects.toThrow(/cannot read manifest '.*none\.csv': no such file/);
  });

  it('reports missing files with their lines', async () => {
    const m = await readManifest(path.join(dir, 'manifest.csv'));
    await expect(checkManifestFiles(m)).rejects.toThrow(/1 missing file\(s\):\n.*manifest\.csv:3: case 'gone': '.*missing\.nii\.gz' does not exist/);
  });

  it('loads cases and throws CaseError naming the row for bad ones', async () => {
    const ds = manifestDataset(await readManifest(path.join(dir, 'manifest.csv')));
    expect(ds.labels).toEqual([1, 0, 0]);
    const a = await ds.get(0);
    expect(a.shape).toEqual([7, 5, 4]);
    expect(a.mask!.length).toBe(140);
    const gone = ds.get(1);
    await expect(gone).rejects.toBeInstanceOf(CaseError);
    await expect(ds.get(1)).rejects.toThrow(/manifest\.csv:3: case 'gone': cannot read '.*missing\.nii\.gz': no such file or folder/);
    await expect(ds.get(2)).rejects.toThrow(/manifest\.csv:4: case 'nan': .*nan\.nii: voxel \(d, h, w\) = .* is NaN/);
  });

  it('falls back to the paper split without a split column', () => {
    const text = `id,path,label\n${Array.from({ length: 50 }, (_, i) => `c${i},c${i}.nii,${i % 5 === 0 ? 1 : 0}`).join('\n')}\n`;
    const s = manifestSplits(parseManifest(text), 1);
    expect([s.train.length, s.val.length, s.test.length]).toEqual([32, 8, 10]);
  });
});

describe('multi-sequence manifests (one path_<name> column per sequence)', () => {
  it('reads the sequences in column order, the first one as path, and names what is wrong', () => {
    const m = parseManifest('id,path_pre,path_post,label\na,a/pre.nii.gz,/abs/post.nii.gz,1\n', 'm.csv', { baseDir: '/data' });
    expect(m.sequences).toEqual(['pre', 'post']);
    expect(m.rows[0]).toEqual({ id: 'a', path: '/data/a/pre.nii.gz', paths: { pre: '/data/a/pre.nii.gz', post: '/abs/post.nii.gz' }, label: 1, where: 'm.csv:2' });
    expect(parseManifest('id,path,label\na,a,1\n').sequences).toBeUndefined();
    expect(() => parseManifest('id,path_pre,path_post,label\na,pre.nii,,1\n', 'm.csv')).toThrow("m.csv:2: case 'a' has an empty path_post");
    expect(() => parseManifest('id,path,path_t2,label\na,a,b,1\n', 'm.csv')).toThrow('m.csv: give one path column (path) or one per sequence (path_t2), not both');
    expect(() => parseManifest('id,path_2x,label\na,a,1\n', 'm.csv')).toThrow("m.csv: column 'path_2x': a sequence name is letters, digits and '_', starting with a letter");
  });

  it('writes path_<name> columns and reads them back', () => {
    const rows = [
      { id: 'a', path: 'a/pre.nii.gz', paths: { pre: 'a/pre.nii.gz', post: 'a/post.nii.gz' }, label: 1, split: 'train' as const },
      { id: 'b', path: 'b/pre.nii.gz', paths: { pre: 'b/pre.nii.gz', post: 'b,post.nii.gz' }, label: 0 },
    ];
    const text = formatManifest(rows);
    expect(text.split('\n')[0]).toBe('id,path_pre,path_post,label,mask,fold,split');
    expect(parseManifest(text).rows.map((r) => r.paths)).toEqual(rows.map((r) => r.paths));
    expect(() => formatManifest([rows[0], { id: 'c', path: 'c.nii', label: 0 }])).toThrow("formatManifest: case 'c' has sequences [], the first case [pre, post]");
  });

  it('loads a case as the channels its inputs make, registered onto the first sequence, and checks the columns', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-manifest-seq-'));
    try {
      const { writeNifti } = await import('../io/nifti');
      const affine = [[0, 0, -2, 10], [0, -2, 0, 20], [3, 0, 0, -5], [0, 0, 0, 1]];
      const pre = Float32Array.from({ length: 2 * 4 * 5 }, (_, i) => i);
      const post = Float32Array.from(pre, (v) => 3 * v + 7);
      await writeNifti(path.join(dir, 'pre.nii.gz'), { data: pre, shape: [2, 4, 5], affine });
      await writeNifti(path.join(dir, 'post.nii.gz'), { data: post, shape: [2, 4, 5], affine });
      fs.writeFileSync(path.join(dir, 'm.csv'), 'id,path_pre,path_post,label\nc,pre.nii.gz,post.nii.gz,1\n');
      const m = await readManifest(path.join(dir, 'm.csv'));
      await expect(checkManifestFiles(m)).resolves.toBeUndefined();
      const sub = await manifestDataset(m, { inputs: { names: ['pre', 'post'], channels: [{ subtract: ['post', 'pre'] }] } }).get(0);
      expect(sub.channels).toBeUndefined();
      const both = await manifestDataset(m).get(0);
      expect(both.channels).toBe(2);
      expect(both.shape).toEqual(sub.shape);
      const n = sub.data.length;
      // post - pre = 2 * pre + 7, voxel for voxel in the canonical order both were read in.
      for (let i = 0; i < n; i++) expect(sub.data[i]).toBeCloseTo(both.data[n + i] - both.data[i], 4);
      for (let i = 0; i < n; i++) expect(sub.data[i]).toBeCloseTo(2 * both.data[i] + 7, 4);
      expect(() => manifestDataset(m, { inputs: { names: ['t1', 't2'], channels: [{ sequence: 't1' }] } })).toThrow(/m\.csv: no column path_t1, path_t2 for the sequences t1, t2 \(columns: path_pre, path_post\)/);
      const single = parseManifest('id,path,label\nc,pre.nii.gz,1\n', 'one.csv');
      expect(() => manifestDataset(single, { inputs: { names: ['pre', 'post'], channels: [{ sequence: 'pre' }] } })).toThrow(/one\.csv: the model takes the sequences pre, post; give them as columns path_pre, path_post instead of path/);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});
