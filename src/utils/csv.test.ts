import { csvColumn, csvNumberColumn, parseCsv, requireColumns } from './csv';

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
    expect(() => csvNumberColumn(t, 'UID', 'r.csv')).toThrow("r.csv: column 'UID' on line 2: expected a number, got \"x\"");
    expect(() => csvNumberColumn(parseCsv('a\n\n1\n""\n'), 'a')).toThrow("column 'a' on line 4: expected a number, got \"\"");
  });
});
