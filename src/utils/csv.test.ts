import { csvColumn, csvLabelColumn, csvNumberColumn, guessDelimiter, parseCsv, requireColumns } from './csv';

describe('parseCsv', () => {
  test('reads quoted fields, escaped quotes, CRLF, a BOM and quoted line breaks', () => {
    const t = parseCsv('\uFEFFUID,GT,note\r\n"a,1",1,"say ""hi"""\r\nb,0,"two\nlines"\r\n\r\n');
    expect(t.header).toEqual(['UID', 'GT', 'note']);
    expect(t.rows).toEqual([
      ['a,1', '1', 'say "hi"'],
      ['b', '0', 'two\nlines'],
    ]);
    expect(t.rowLines).toEqual([2, 3]);
  });

  test('keeps empty fields and accepts a missing final newline and another delimiter', () => {
    expect(parseCsv('a,b,c\n1,,3').rows).toEqual([['1', '', '3']]);
    expect(parseCsv('a;b\n1;2\n', { delimiter: ';' }).rows).toEqual([['1', '2']]);
  });

  test('errors name the line and what was expected', () => {
    expect(() => parseCsv('a,b\n1,2\n3\n', { source: 'r.csv' })).toThrow('r.csv: line 3 has 1 fields, expected 2 (the header\'s)');
    expect(() => parseCsv('a,b\n"1,2\n')).toThrow('unterminated quoted field starting on line 2');
    expect(() => parseCsv('a,b\n"1"x,2\n')).toThrow('unexpected character "x" after a closing quote on line 2');
    expect(() => parseCsv('')).toThrow('no header line');
    expect(() => parseCsv('a\n', { delimiter: '""' })).toThrow('delimiter must be one character');
  });
});

describe('columns', () => {
  const t = parseCsv('UID,GT,NN_pred\nx,1,0.9\ny,False,1e-3\nz,0,-inf\n');

  test('numeric columns read numbers, booleans and infinities', () => {
    expect(Array.from(csvNumberColumn(t, 'GT'))).toEqual([1, 0, 0]);
    expect(Array.from(csvNumberColumn(t, 'NN_pred'))).toEqual([0.9, 0.001, -Infinity]);
    expect(csvColumn(t, 'UID')).toEqual(['x', 'y', 'z']);
  });

  test('missing columns are all listed with the available ones', () => {
    expect(() => requireColumns(t, ['GT', 'score', 'label'], 'r.csv')).toThrow(
      "r.csv: missing columns 'score', 'label'; the columns are 'UID', 'GT', 'NN_pred'",
    );
  });

  test('a non-number names the column and the line', () => {
    expect(() => csvNumberColumn(t, 'UID', 'r.csv')).toThrow("r.csv: line 2, column 'UID': expected a number, got \"x\"");
    expect(() => csvNumberColumn(parseCsv('a\n\n1\n""\n'), 'a')).toThrow("line 4, column 'a': expected a number, got \"\"");
  });

  test('a NaN is read as NaN unless refused, and then the error names file, line and column', () => {
    const n = parseCsv('GT,score\n1,0.5\n0,NaN\n');
    expect(Array.from(csvNumberColumn(n, 'score'))).toEqual([0.5, NaN]);
    expect(() => csvNumberColumn(n, 'score', 'r.csv', { allowNaN: false })).toThrow("r.csv: line 3, column 'score': the value is NaN");
  });

  test('labels are 0/1 or True/False; anything else names file, line and column', () => {
    expect(Array.from(csvLabelColumn(parseCsv('GT\n1\nFalse\n0.0\ntrue\n'), 'GT'))).toEqual([1, 0, 0, 1]);
    expect(() => csvLabelColumn(parseCsv('UID,GT\na,1\nb,2\n'), 'GT', 'r.csv')).toThrow(
      "r.csv: line 3, column 'GT': expected a label 0 or 1 (or True/False), got \"2\"",
    );
    expect(() => csvLabelColumn(parseCsv('GT\n1\nnan\n'), 'GT', 'r.csv')).toThrow("r.csv: line 3, column 'GT'");
  });
});

describe('delimiter hints', () => {
  test('a one-column header that contains ";" names the separator it saw', () => {
    const t = parseCsv('GT;NN_pred\n1;0.9\n');
    expect(guessDelimiter(t)).toBe(';');
    expect(guessDelimiter(parseCsv('GT\tNN_pred\n1\t0.9\n'))).toBe('\t');
    expect(guessDelimiter(parseCsv('GT,NN_pred\n1,0.9\n'))).toBeUndefined();
    expect(() => requireColumns(t, ['GT'], 'r.csv')).toThrow('the file looks ";"-separated, not ","-separated');
  });
});

describe('linear-time parsing', () => {
  test('a 32 MB quoted field parses in linear time and memory (no per-character concatenation)', () => {
    // Per-character concatenation builds one rope node per character: 32 M nodes hold over 1 GB.
    const size = 32 * 1024 * 1024;
    const body = 'x'.repeat(size / 2) + '""' + 'y'.repeat(size / 2 - 2) + '\n';
    const text = `id,note\n1,"${body}"\n2,short\n`;
    const before = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const table = parseCsv(text);
    const seconds = (performance.now() - t0) / 1000;
    const grown = process.memoryUsage().heapUsed - before;
    expect(table.rows[0][1].length).toBe(size);
    expect(table.rows[0][1].slice(size / 2 - 1, size / 2 + 2)).toBe('x"y');
    expect(table.rows[1]).toEqual(['2', 'short']);
    expect(table.rowLines).toEqual([2, 4]);
    // The field is one flat string of 32 M one-byte characters plus the slices: well under 256 MB.
    expect(grown).toBeLessThan(256 * 1024 * 1024);
    expect(seconds).toBeLessThan(5);
  });

  test('many small records and quoted line breaks keep their line numbers', () => {
    const lines = ['a,b'];
    for (let i = 0; i < 20000; i++) lines.push(i % 100 === 0 ? `"x\ny",${i}` : `v${i},${i}`);
    const t = parseCsv(lines.join('\r\n'));
    expect(t.rows.length).toBe(20000);
    expect(t.rows[100]).toEqual(['x\ny', '100']);
    expect(t.rowLines[101]).toBe(2 + 101 + 2);
  });
});
