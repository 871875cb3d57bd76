/**
 * CSV records from a stream of lines, for the scanner (RFC 4180: comma-separated, fields in double quotes may hold
 * commas, doubled quotes and line breaks). The import reads CSV with DuckDB; the scanner must read files without a
 * warehouse, and only needs the fields' text, so a small reader is enough.
 */

export interface CsvRecord {
  /** 1-based line where the record starts. */
  readonly line: number;
  readonly fields: readonly string[];
}

/** Splits lines into records; a quoted field may continue over several lines. */
export async function* csvRecords(lines: AsyncIterable<string>, delimiter = ','): AsyncGenerator<CsvRecord> {
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let start = 0;
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!quoted) {
      start = lineNo;
      fields = [];
      field = '';
    } else {
      field += '\n';
    }
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i++;
          } else quoted = false;
        } else field += c;
      } else if (c === '"' && field === '') quoted = true;
      else if (c === delimiter) {
        fields.push(field);
        field = '';
      } else field += c;
    }
    if (!quoted) {
      fields.push(field);
      yield { line: start, fields };
    }
  }
  if (quoted) yield { line: start, fields: [...fields, field] };
}
