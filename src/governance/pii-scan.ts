/**
 * `usagelab pii scan`: finds personal data the scanners recognise in files (NDJSON, JSON, CSV, plain text, gzipped
 * or not) or in the warehouse, and reports it by kind and field — how many, and where (file:line, or an event id) —
 * never the values themselves. It reports what masking would have replaced, so a masked warehouse or export scans
 * clean: masks, hashes and truncated addresses are not findings.
 */
import { createReadStream, existsSync, openSync, readSync, closeSync, readdirSync, statSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip, gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { UsageLabError } from '../core/errors.js';
import { quoteIdent } from '../sql/quote.js';
import { csvRecords } from './pii-csv.js';
import type { FindingKind } from './pii-kinds.js';
import { scanText, type Scanners } from './pii-scanners.js';
import { SqlMasker } from './pii-sql.js';
import { jsonNumberCardValidator } from './pii-validators.js';

export interface ScanFinding {
  readonly kind: FindingKind;
  /** A column, a JSON path (`properties.$set.email`, arrays as `[]`), a CSV header, or `(text)`. */
  readonly field: string;
  readonly count: number;
  /** Up to five places: `file:line`, or `events event_id=...`. */
  readonly locations: readonly string[];
}

export interface ScanReport {
  readonly version: 1;
  readonly target: 'files' | 'warehouse';
  readonly scanned: { readonly files: number; readonly records: number; readonly values: number };
  readonly skipped: readonly { readonly path: string; readonly reason: string }[];
  readonly findings: readonly ScanFinding[];
  /** Sum of the findings' counts. */
  readonly total: number;
}

const MAX_LOCATIONS = 5;

class Collector {
  private readonly byKey = new Map<string, { kind: FindingKind; field: string; count: number; locations: string[] }>();
  records = 0;
  values = 0;

  constructor(private readonly scanners: Scanners) {}

  private add(kind: FindingKind, field: string, location: string): void {
    const key = `${kind}\u0000${field}`;
    let f = this.byKey.get(key);
    if (f === undefined) {
      f = { kind, field, count: 0, locations: [] };
      this.byKey.set(key, f);
    }
    f.count++;
    if (f.locations.length < MAX_LOCATIONS && !f.locations.includes(location)) f.locations.push(location);
  }

  text(value: string, field: string, location: string): void {
    this.values++;
    scanText(value, this.scanners, (found) => this.add(found.kind, field, location));
  }

  /** A JSON number is a finding only as a card number, and only when it is exact (a safe integer). */
  number(value: number, field: string, location: string): void {
    this.values++;
    const digits = String(value);
    if (!this.scanners.detectors.some((d) => d.id === 'card') || !Number.isSafeInteger(value)) return;
    if (jsonNumberCardValidator.ts(digits)) this.add('card', field, location);
  }

  json(value: unknown, field: string, location: string): void {
    if (typeof value === 'string') this.text(value, field, location);
    else if (typeof value === 'number') this.number(value, field, location);
    else if (Array.isArray(value)) for (const v of value) this.json(v, `${field}[]`, location);
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        const path = field === '' ? k : `${field}.${k}`;
        this.text(k, `${path} (key)`, location);
        this.json(v, path, location);
      }
    }
  }

  findings(): ScanFinding[] {
    return [...this.byKey.values()].sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind) || a.field.localeCompare(b.field));
  }
}

function report(target: ScanReport['target'], c: Collector, files: number, skipped: ScanReport['skipped']): ScanReport {
  const findings = c.findings();
  return {
    version: 1,
    target,
    scanned: { files, records: c.records, values: c.values },
    skipped,
    findings,
    total: findings.reduce((n, f) => n + f.count, 0),
  };
}

// ---- files ----

const BINARY_FORMATS = /\.(parquet|avro|zip|duckdb|wal|db|sqlite|png|jpe?g|gif|pdf)$/i;

function headBytes(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const read = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

function isGzip(path: string): boolean {
  const h = headBytes(path, 2);
  return h.length === 2 && h[0] === 0x1f && h[1] === 0x8b;
}

function listFiles(path: string, out: string[]): void {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) listFiles(join(path, name), out);
  } else out.push(path);
}

function lines(path: string, gzip: boolean): AsyncIterable<string> {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream: Readable = gzip ? raw.pipe(createGunzip()) : raw;
  return createInterface({ input: stream, crlfDelay: Infinity });
}

type FileFormat = 'json' | 'csv' | 'text';

function formatOf(path: string, gzip: boolean): FileFormat | { skip: string } {
  const name = path.replace(/\.gz$/i, '').toLowerCase();
  if (BINARY_FORMATS.test(name)) return { skip: 'binary format (scan the warehouse after importing it instead)' };
  if (/\.(csv|tsv)$/.test(name)) return 'csv';
  if (/\.(json|jsonl|ndjson)$/.test(name)) return 'json';
  const head = gzip ? gunzipSync(headBytes(path, 1 << 16), { finishFlush: 2 }) : headBytes(path, 1 << 16);
  if (head.includes(0)) return { skip: 'binary content' };
  return 'text';
}

async function scanJsonFile(path: string, gzip: boolean, c: Collector): Promise<void> {
  const text = (gzip ? gunzipSync(readFileSync(path)) : readFileSync(path)).toString('utf8');
  const trimmed = text.trimStart();
  // A whole JSON document (an array of records, or one object), else one JSON value per line.
  if (trimmed.startsWith('[') || (trimmed.startsWith('{') && !/\}\s*\r?\n\s*\{/.test(trimmed))) {
    try {
      const doc = JSON.parse(text) as unknown;
      if (Array.isArray(doc)) {
        for (const [i, record] of doc.entries()) {
          c.records++;
          c.json(record, '', `${path}:#${i + 1}`);
        }
      } else {
        c.records++;
        c.json(doc, '', `${path}:1`);
      }
      return;
    } catch {
      // not one document: read it line by line below
    }
  }
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (line.trim() === '') continue;
    c.records++;
    try {
      c.json(JSON.parse(line) as unknown, '', `${path}:${lineNo}`);
    } catch {
      c.text(line, '(text)', `${path}:${lineNo}`);
    }
  }
}

async function scanCsvFile(path: string, gzip: boolean, c: Collector): Promise<void> {
  const delimiter = /\.tsv(\.gz)?$/i.test(path) ? '\t' : ',';
  let header: readonly string[] | undefined;
  for await (const record of csvRecords(lines(path, gzip), delimiter)) {
    if (header === undefined) {
      header = record.fields;
      for (const name of header) c.text(name, '(header)', `${path}:1`);
      continue;
    }
    c.records++;
    for (const [i, value] of record.fields.entries()) {
      if (value !== '') c.text(value, header[i] ?? `column ${i + 1}`, `${path}:${record.line}`);
    }
  }
}

async function scanTextFile(path: string, gzip: boolean, c: Collector): Promise<void> {
  let lineNo = 0;
  for await (const line of lines(path, gzip)) {
    lineNo++;
    if (line === '') continue;
    c.records++;
    c.text(line, '(text)', `${path}:${lineNo}`);
  }
}

/** Scans files and folders (recursively). Binary formats are listed as skipped. */
export async function scanFiles(paths: readonly string[], scanners: Scanners): Promise<ScanReport> {
  const c = new Collector(scanners);
  const files: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new UsageLabError('pii_scan_path_missing', `${p} does not exist`, { place: { file: p }, hint: 'pass files or folders that exist' });
    listFiles(p, files);
  }
  const skipped: { path: string; reason: string }[] = [];
  let scanned = 0;
  for (const file of files) {
    const gzip = isGzip(file);
    const format = formatOf(file, gzip);
    if (typeof format === 'object') {
      skipped.push({ path: file, reason: format.skip });
      continue;
    }
    scanned++;
    if (format === 'json') await scanJsonFile(file, gzip, c);
    else if (format === 'csv') await scanCsvFile(file, gzip, c);
    else await scanTextFile(file, gzip, c);
  }
  return report('files', c, scanned, skipped);
}

// ---- warehouse ----

/** What the warehouse scan needs from a session (DuckdbSession has it). */
export interface SqlReader {
  all<T = Record<string, unknown>>(sql: string, params?: string[]): Promise<T[]>;
}

const EVENT_TEXT_COLUMNS = [
  'source_event_id',
  'event_name',
  'user_id',
  'anonymous_id',
  'vendor_session_id',
  'page_url',
  'page_path',
  'referrer',
  'element_text',
  'element_selector',
  'device_type',
  'browser',
  'os',
  'country',
] as const;
const EVENT_JSON_COLUMNS = ['properties', 'user_properties'] as const;
const BATCH = 2000;

/**
 * Scans the events table (and the identity tables) in batches. A row is read into TypeScript only when one of its
 * values could hold a finding (the SQL masker's gate; a backslash or a long digit run in JSON), so a clean warehouse
 * costs one pass in DuckDB.
 */
export async function scanWarehouse(session: SqlReader, scanners: Scanners, batchSize = BATCH): Promise<ScanReport> {
  const c = new Collector(scanners);
  const m = new SqlMasker(scanners, false);
  const total = await session.all<{ n: number | string }>(`SELECT count(*) AS n FROM events`);
  const candidate = [
    ...EVENT_TEXT_COLUMNS.map((col) => m.gate(quoteIdent(col))),
    ...EVENT_JSON_COLUMNS.map((col) => {
      const text = `CAST(${quoteIdent(col)} AS VARCHAR)`;
      // A custom pattern may be anchored to a string's ends, which the JSON text as a whole does not show.
      if (m.hasCustom) return `${quoteIdent(col)} IS NOT NULL`;
      return `(${m.gate(text)} OR contains(${text}, '\\') OR regexp_matches(${text}, '[2-6][0-9]{12}'))`;
    }),
  ].join(' OR ');
  const select = [...EVENT_TEXT_COLUMNS.map((col) => quoteIdent(col)), ...EVENT_JSON_COLUMNS.map((col) => `CAST(${quoteIdent(col)} AS VARCHAR) AS ${quoteIdent(col)}`)];
  let after: string | undefined;
  for (;;) {
    const rows = await session.all<Record<string, string | null>>(
      `SELECT CAST(event_id AS VARCHAR) AS _id, ${select.join(', ')} FROM events
       WHERE (${candidate}) ${after === undefined ? '' : 'AND event_id > CAST($1 AS UUID)'} ORDER BY event_id LIMIT ${batchSize}`,
      after === undefined ? [] : [after],
    );
    for (const row of rows) {
      const location = `events event_id=${row._id}`;
      for (const col of EVENT_TEXT_COLUMNS) {
        const v = row[col];
        if (v !== null && v !== undefined) c.text(v, col, location);
      }
      for (const col of EVENT_JSON_COLUMNS) {
        const v = row[col];
        if (v !== null && v !== undefined) c.json(JSON.parse(v) as unknown, col, location);
      }
    }
    if (rows.length < batchSize) break;
    after = rows[rows.length - 1]!._id!;
  }
  for (const [table, columns] of [
    ['identity_links', ['anonymous_id', 'user_id', 'other_anonymous_id']],
    ['identity_map', ['anonymous_id', 'person_id']],
  ] as const) {
    const rows = await session.all<Record<string, string | null>>(
      `SELECT ${columns.map((col) => quoteIdent(col)).join(', ')} FROM ${table} WHERE ${columns.map((col) => m.gate(quoteIdent(col))).join(' OR ')}`,
    );
    for (const row of rows) for (const col of columns) if (row[col] != null) c.text(row[col], `${table}.${col}`, table);
  }
  c.records = Number(total[0]?.n ?? 0);
  return report('warehouse', c, 0, []);
}
