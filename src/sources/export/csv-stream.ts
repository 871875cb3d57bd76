/**
 * CSV records (RFC 4180: commas, double-quoted fields holding commas, doubled quotes and line breaks) as objects
 * keyed by the header row, one at a time. Empty cells are left out, as the readers do (an absent field and an
 * empty CSV cell mean the same). governance/pii-csv.ts has a lenient twin for the scanner; this one is strict:
 * a stream that ends inside a quoted field is a truncated body, and a row whose width differs from the header's
 * is a malformed one.
 */
import type { Readable } from 'node:stream';
import { transientError, windowError } from './export-errors.js';
import type { VendorRecord } from './exporter.js';
import { textLines } from './ndjson-stream.js';

export async function* csvObjects(stream: Readable, options: { readonly what: string }): AsyncGenerator<VendorRecord> {
  let header: string[] | undefined;
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let start = 0;
  let lineNo = 0;
  for await (const raw of textLines(stream)) {
    lineNo += 1;
    if (!quoted) {
      if (raw === '') continue;
      start = lineNo;
      fields = [];
      field = '';
    } else field += '\n';
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i]!;
      if (quoted) {
        if (c !== '"') field += c;
        else if (raw[i + 1] === '"') {
          field += '"';
          i += 1;
        } else quoted = false;
      } else if (c === '"' && field === '') quoted = true;
      else if (c === ',') {
        fields.push(field);
        field = '';
      } else field += c;
    }
    if (quoted) continue;
    fields.push(field);
    if (header === undefined) {
      header = fields;
      if (new Set(header).size !== header.length) {
        throw windowError('export_record_invalid', `${options.what}: the CSV header repeats a column name`, { hint: 'the vendor sent a malformed file' });
      }
      continue;
    }
    if (fields.length !== header.length) {
      throw windowError('export_record_invalid', `${options.what}: CSV line ${start} has ${fields.length} fields, the header ${header.length}`, {
        hint: 'the vendor sent a malformed file; export the window again, and report it if it persists',
      });
    }
    const record: VendorRecord = {};
    for (let i = 0; i < header.length; i++) if (fields[i] !== '') record[header[i]!] = fields[i];
    yield record;
  }
  if (quoted) {
    throw transientError('export_body_truncated', `${options.what}: the CSV ends inside a quoted field (line ${start})`, { hint: 'the file was cut off; it is fetched again' });
  }
}
