/**
 * A small RFC 4180 CSV reader: comma (or another one-character) delimiter, double-quoted fields
 * with "" as an escaped quote, quoted line breaks, CRLF or LF line ends, an optional UTF-8 BOM.
 * The first record is the header. No tensor library is involved.
 */

/** A parsed CSV file. */
export interface CsvTable {
  /** Column names from the first record. */
  header: string[];
  /** Data records, each with `header.length` fields. */
  rows: string[][];
  /** [rows] 1-based line on which each record starts (for error messages). */
  rowLines: number[];
  /** The delimiter the table was parsed with. */
  delimiter: string;
}

/** Options of {@link parseCsv}. */
export interface CsvOptions {
  /** Field delimiter, one character. Default ','. */
  delimiter?: string;
  /** Name used in error messages (e.g. the file path). Default 'CSV'. */
  source?: string;
}

/** Characters a one-column header is checked for when the delimiter looks wrong. */
const LIKELY_DELIMITERS = [';', '\t', '|', ','];

/**
 * Parses CSV text in time and memory linear in its length: fields are slices of the text (a
 * quoted field is joined once from the pieces between its escaped quotes), never built character
 * by character. Blank lines are skipped; every other record must have as many fields as the
 * header, else the error names the line and both counts. An unterminated quote is an error too.
 *
 * @example
 * parseCsv('UID,GT,NN_pred\na,1,0.9\n"b,2",0,0.2\n').rows; // returns [['a', '1', '0.9'], ['b,2', '0', '0.2']]
 */
export function parseCsv(text: string, options: CsvOptions = {}): CsvTable {
  const delimiter = options.delimiter ?? ',';
  const source = options.source ?? 'CSV';
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new Error(`parseCsv: delimiter must be one character other than a quote or line break, got ${JSON.stringify(delimiter)}`);
  }
  const DELIM = delimiter.charCodeAt(0);
  const QUOTE = 0x22;
  const LF = 0x0a;
  const CR = 0x0d;
  const end = text.length;
  const records: { fields: string[]; line: number }[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let fields: string[] = [];
  let recordLine = 1;
  while (i <= end) {
    // One field per iteration, starting at i; afterwards i is at a delimiter, a line end or the end.
    let field: string;
    if (text.charCodeAt(i) === QUOTE) {
      const startLine = line;
      const pieces: string[] = [];
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q < 0) throw new Error(`${source}: unterminated quoted field starting on line ${startLine}`);
        for (let nl = text.indexOf('\n', from); nl >= 0 && nl < q; nl = text.indexOf('\n', nl + 1)) line++;
        pieces.push(text.slice(from, q));
        if (text.charCodeAt(q + 1) === QUOTE) {
          pieces.push('"');
          from = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      field = pieces.length === 1 ? pieces[0] : pieces.join('');
      const next = text.charCodeAt(i);
      if (i < end && next !== DELIM && next !== LF && next !== CR) {
        throw new Error(`${source}: unexpected character ${JSON.stringify(text[i])} after a closing quote on line ${line}`);
      }
    } else {
      const from = i;
      while (i < end) {
        const c = text.charCodeAt(i);
        if (c === DELIM || c === LF || c === CR) break;
        i++;
      }
      field = text.slice(from, i);
    }
    fields.push(field);
    const c = text.charCodeAt(i);
    if (i < end && c === DELIM) {
      i++;
      continue;
    }
    // A line end or the end of the text closes the record; a lone empty field is a blank line.
    if (!(fields.length === 1 && fields[0] === '' && text.charCodeAt(i - 1) !== QUOTE)) records.push({ fields, line: recordLine });
    fields = [];
    if (i >= end) break;
    i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
    line++;
    recordLine = line;
    if (i === end) break;
  }
  if (records.length === 0) throw new Error(`${source}: no header line (the file is empty)`);
  const header = records[0].fields.map((h) => h.trim());
  const rows: string[][] = [];
  const rowLines: number[] = [];
  for (let r = 1; r < records.length; r++) {
    const rec = records[r];
    if (rec.fields.length !== header.length) {
      throw new Error(`${source}: line ${rec.line} has ${rec.fields.length} fields, expected ${header.length} (the header's)`);
    }
    rows.push(rec.fields);
    rowLines.push(rec.line);
  }
  return { header, rows, rowLines, delimiter };
}

/**
 * The delimiter a file seems to use when its header parsed as one column that contains another
 * likely delimiter (`;`, tab, `|`, `,`); undefined otherwise. Lets callers say "pass --delimiter ';'"
 * instead of "missing column".
 *
 * @example
 * guessDelimiter(parseCsv('GT;NN_pred\n1;0.9\n')); // returns ';'
 */
export function guessDelimiter(table: CsvTable): string | undefined {
  if (table.header.length !== 1) return undefined;
  return LIKELY_DELIMITERS.find((d) => d !== table.delimiter && table.header[0].includes(d));
}

/**
 * Checks that every named column exists; the error lists all missing names and the available ones.
 *
 * @example
 * requireColumns(table, ['GT', 'NN_pred']);
 */
export function requireColumns(table: CsvTable, names: readonly string[], source = 'CSV'): void {
  const missing = names.filter((n) => !table.header.includes(n));
  if (missing.length > 0) {
    const s = missing.length > 1 ? 's' : '';
    const seen = guessDelimiter(table);
    const hint = seen === undefined ? '' : ` (one column: the file looks ${JSON.stringify(seen)}-separated, not ${JSON.stringify(table.delimiter)}-separated)`;
    throw new Error(`${source}: missing column${s} ${missing.map((m) => `'${m}'`).join(', ')}; the columns are ${table.header.map((h) => `'${h}'`).join(', ')}${hint}`);
  }
}

/**
 * The values of one column as strings.
 *
 * @example
 * csvColumn(parseCsv('a,b\n1,2\n'), 'b'); // returns ['2']
 */
export function csvColumn(table: CsvTable, name: string, source = 'CSV'): string[] {
  requireColumns(table, [name], source);
  const j = table.header.indexOf(name);
  return table.rows.map((r) => r[j]);
}

/** Options of {@link csvNumberColumn}. */
export interface CsvNumberOptions {
  /** Accept `nan` / `NaN` fields (as NaN). Default true; false makes a NaN an error naming its line. */
  allowNaN?: boolean;
}

function parseNumber(text: string): number {
  const t = text.trim();
  const lower = t.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (lower === 'true') return 1;
  if (lower === 'false') return 0;
  // Number('') is 0 and Number('nan') is NaN: mark both as unreadable.
  return t === '' || lower.includes('nan') ? Number.NaN : Number(t);
}

/**
 * The values of one column as numbers. Accepts anything `Number()` reads (after trimming),
 * plus `nan`/`NaN` (NaN, unless `allowNaN` is false), `inf`/`-inf` (±Infinity) and `True`/`False`
 * (1/0, as pandas writes booleans); an empty or other field is an error naming the file, line,
 * column and text.
 *
 * @example
 * csvNumberColumn(parseCsv('GT\n1\nTrue\n'), 'GT'); // returns Float64Array [1, 1]
 */
export function csvNumberColumn(table: CsvTable, name: string, source = 'CSV', options: CsvNumberOptions = {}): Float64Array {
  const values = csvColumn(table, name, source);
  const allowNaN = options.allowNaN ?? true;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = parseNumber(values[i]);
    if (Number.isNaN(v)) {
      const isNaNText = values[i].trim().toLowerCase() === 'nan';
      if (!isNaNText) throw new Error(`${source}: line ${table.rowLines[i]}, column '${name}': expected a number, got ${JSON.stringify(values[i])}`);
      if (!allowNaN) throw new Error(`${source}: line ${table.rowLines[i]}, column '${name}': the value is NaN; every value of this column must be a number`);
    }
    out[i] = v;
  }
  return out;
}

/**
 * A binary label column: `0`/`1` (also `0.0`/`1.0`) or `True`/`False` (any case). Anything else is
 * an error naming the file, line, column and text (not an index into the array).
 *
 * @example
 * csvLabelColumn(parseCsv('GT\n1\nFalse\n'), 'GT'); // returns Uint8Array [1, 0]
 */
export function csvLabelColumn(table: CsvTable, name: string, source = 'CSV'): Uint8Array {
  const values = csvColumn(table, name, source);
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = parseNumber(values[i]);
    if (v !== 0 && v !== 1) {
      throw new Error(`${source}: line ${table.rowLines[i]}, column '${name}': expected a label 0 or 1 (or True/False), got ${JSON.stringify(values[i])}`);
    }
    out[i] = v;
  }
  return out;
}
