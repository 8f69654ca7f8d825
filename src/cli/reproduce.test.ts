import { parseReproduceArgs, reproduceCommand } from './reproduce';
import { UsageError } from './command';

describe('mst-ts reproduce arguments', () => {
  test('names, scales, tasks and data folders', () => {
    const a = parseReproduceArgs(['table2', '--task', 'synthetic-chest', '--seed', '3', '--scale', 'tiny']);
    expect(a.name).toBe('table2');
    expect(a.options).toMatchObject({ tasks: ['synthetic-chest'], seed: 3, scale: 'tiny', out: 'reproduce/table2' });
    expect(a.options.command).toBe('mst-ts reproduce table2 --task synthetic-chest --seed 3 --scale tiny');
    expect(parseReproduceArgs(['tableS1', '--task', 'mrnet', '--data-dir', '/d/MRNet']).options.dataDirs).toEqual({ mrnet: '/d/MRNet' });
    expect(parseReproduceArgs(['figure2', '--task', 'lidc,mrnet', '--data-dir', 'lidc=/a', '--data-dir', 'mrnet=/b']).options.dataDirs).toEqual({ lidc: '/a', mrnet: '/b' });
    expect(parseReproduceArgs(['table3', '--encoder-weights', 'w.pth']).options.encoderWeights?.small).toBe('w.pth');
    expect(parseReproduceArgs(['table3']).options).toMatchObject({ pretrain: true, pretrainDir: undefined, pretrainEpochs: undefined });
    expect(parseReproduceArgs(['table3', '--no-pretrain', '--pretrain-dir', 'p', '--pretrain-epochs', '12']).options).toMatchObject({ pretrain: false, pretrainDir: 'p', pretrainEpochs: 12 });
    const bad: [string[], RegExp][] = [
      [[], /expected one name/],
      [['table4'], /unknown name 'table4'/],
      [['table2', '--task', 'synthetic-lung'], /unknown task 'synthetic-lung'/],
      [['table2', '--scale', 'huge'], /quick, paper or tiny/],
      [['table2', '--task', 'duke'], /give its folder with --data-dir/],
      [['table2', '--data-dir', '/x'], /no real task/],
      [['table2', '--task', 'lidc,mrnet', '--data-dir', '/x'], /<task>=<dir>/],
      [['table2', '--epochs', '0'], /--epochs must be an integer >= 1/],
      [['table3', '--pretrain-epochs', '2.5'], /--pretrain-epochs must be an integer >= 1/],
    ];
    for (const [argv, message] of bad) {
      expect(() => parseReproduceArgs(argv)).toThrow(UsageError);
      expect(() => parseReproduceArgs(argv)).toThrow(message);
    }
  });
});

describe('mst-ts reproduce --dry-run', () => {
  test('builds every row of the table for every task and prints its size, training nothing', async () => {
    const lines: string[] = [];
    const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      expect(await reproduceCommand.run(['table3', '--dry-run', '--task', 'synthetic-chest,synthetic-knee'])).toBe(0);
    } finally {
      err.mockRestore();
    }
    const rows = lines.join('').split('\n').filter((l) => / M parameters /.test(l));
    expect(rows).toHaveLength(10);
    expect(rows[0]).toMatch(/^synthetic-chest \[8x16x16\] MST \(DINOv2\): 0\.\d+ M parameters \(0\.\d+ M trained\); MST: from-scratch 2-block 64-d ViT/);
    expect(rows[9]).toMatch(/^synthetic-knee \[8x32x32\] MST \(ResNet\):/);
    expect(lines.join('')).toMatch(/pretraining first \(unless cached in .*quick-seed0\): DINO, 40 epochs of 1024 slices of 200 unlabelled volumes per synthetic task; .*"MST \(DINOv2 from scratch\)" row is added/);
  });
});
