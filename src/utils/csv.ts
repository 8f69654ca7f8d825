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
}

/** Options of {@link parseCsv}. */
export interface CsvOptions {
  /** Field delimiter, one character. Default ','. */
  delimiter?: string;
  /** Name used in error messages (e.g. the file path). Default 'CSV'. */
  source?: string;
}

/**
 * Parses CSV text. Blank lines are skipped; every other record must have as many fields as the
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
  const records: { fields: string[]; line: number }[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let fields: string[] = [];
  let field = '';
  let recordLine = 1;
  let fieldStarted = false;
  const endRecord = (): void => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '' && !fieldStarted)) records.push({ fields, line: recordLine });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '"' && field === '' && !fieldStarted) {
      // Quoted field: read to the closing quote; "" is a literal quote.
      const startLine = line;
      i++;
      let closed = false;
      while (i < text.length) {
        const q = text[i];
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        if (q === '\n') line++;
        field += q;
        i++;
      }
      if (!closed) throw new Error(`${source}: unterminated quoted field starting on line ${startLine}`);
      fieldStarted = true;
      const next = text[i];
      if (next !== undefined && next !== delimiter && next !== '\n' && next !== '\r') {
        throw new Error(`${source}: unexpected character ${JSON.stringify(next)} after a closing quote on line ${line}`);
      }
      continue;
    }
    if (c === delimiter) {
      fields.push(field);
      field = '';
      fieldStarted = false;
      i++;
    } else if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
    } else {
      field += c;
      fieldStarted = true;
      i++;
    }
  }
  if (fieldStarted || field !== '' || fields.length > 0) endRecord();
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
  return { header, rows, rowLines };
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
    throw new Error(`${source}: missing column${s} ${missing.map((m) => `'${m}'`).join(', ')}; the columns are ${table.header.map((h) => `'${h}'`).join(', ')}`);
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

/**
 * The values of one column as numbers. Accepts anything `Number()` reads (after trimming),
 * plus `nan`/`NaN` (NaN), `inf`/`-inf` (±Infinity) and `True`/`False` (1/0, as pandas writes
 * booleans); an empty or other field is an error naming the column, line and text.
 *
 * @example
 * csvNumberColumn(parseCsv('GT\n1\nTrue\n'), 'GT'); // returns Float64Array [1, 1]
 */
export function csvNumberColumn(table: CsvTable, name: string, source = 'CSV'): Float64Array {
  const values = csvColumn(table, name, source);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const t = values[i].trim();
    const lower = t.toLowerCase();
    let v: number;
    if (lower === 'nan') v = NaN;
    else if (lower === 'inf' || lower === '+inf' || lower === 'infinity') v = Infinity;
    else if (lower === '-inf' || lower === '-infinity') v = -Infinity;
    else if (lower === 'true') v = 1;
    else if (lower === 'false') v = 0;
    else v = t === '' ? NaN : Number(t);
    if (Number.isNaN(v) && lower !== 'nan') {
      throw new Error(`${source}: column '${name}' on line ${table.rowLines[i]}: expected a number, got ${JSON.stringify(values[i])}`);
    }
    out[i] = v;
  }
  return out;
}
