/**
 * The DuckDB implementation of StageContext: the readers' file helpers. Each helper loads one file into a temp
 * table with a `_line` column, so every record that cannot be read can be quarantined with its line.
 */
import { openSync, readSync, closeSync, createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Readable, Writable, pipeline as pipelineStreams } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { StageContext, ReaderOptions } from '../../sources/source-reader.js';
import type { UsageLabConfig } from '../../core/config-schema.js';
import { UsageLabError } from '../../core/errors.js';
import { quoteIdent } from '../../sql/quote.js';
import type { DuckdbSession } from './duckdb-connection.js';
import { STAGING_MACROS } from './staging-macros.js';
import { avroFilesToNdjson } from './avro-to-ndjson.js';

export function sqlLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Whether bytes start with gzip's magic number. */
const isGzip = (bytes: Buffer): boolean => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

/** A file (or a part of an archive) that ends early or does not decode: nothing from it is imported. */
function corruptInput(file: string, message: string, cause: unknown): UsageLabError {
  return new UsageLabError('import_file_corrupt', message, {
    place: { file },
    hint: 'download or export the file again; nothing from it was imported',
    cause,
  });
}

function magicCompression(path: string): 'gzip' | 'zstd' | 'none' {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4);
    const n = readSync(fd, buf, 0, 4, 0);
    if (isGzip(buf.subarray(0, n))) return 'gzip';
    if (n >= 4 && buf.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    return 'none';
  } finally {
    closeSync(fd);
  }
}

/**
 * DuckDB's gzip reader accepts a truncated stream silently, returning the rows before the cut. A full inflate
 * (native zlib on libuv's thread pool, concurrently with DuckDB's own read) proves the stream is complete.
 */
async function verifyGzip(path: string): Promise<void> {
  try {
    await pipeline(
      createReadStream(path, { highWaterMark: 1 << 20 }),
      createGunzip({ chunkSize: 1 << 20 }),
      new Writable({ write: (_chunk, _enc, cb) => cb() }),
    );
  } catch (err) {
    throw corruptInput(path, `truncated or corrupt gzip: ${(err as Error).message}`, err);
  }
}

/** Turns DuckDB reader failures (truncated gzip, bad UTF-8, oversized lines) into errors naming the file. */
function fileError(path: string, err: unknown): UsageLabError {
  const message = err instanceof Error ? err.message : String(err);
  const short = message.split('\n')[0] ?? message;
  if (/gzip|zlib|inflate|compress|zstd|unexpected end|truncated/i.test(message)) return corruptInput(path, `truncated or corrupt: ${short}`, err);
  const tooLong = /Maximum line size of (\d+) bytes exceeded\. Actual Size: ?(\d+) bytes/.exec(message);
  if (tooLong !== null) {
    const line = /Error on Line: (\d+)/.exec(message)?.[1];
    const mib = Math.round(Number(tooLong[1]) / 2 ** 20);
    return new UsageLabError(
      'import_line_too_long',
      `${line === undefined ? 'a line' : `line ${line}`} is ${Number(tooLong[2]).toLocaleString('en-US')} bytes long; usagelab reads lines of up to ${mib} MiB`,
      {
        place: line === undefined ? { file: path } : { file: path, line: Number(line) },
        hint: 'no tool exports an event that large: check how the file was made, remove or split that line, and import again (nothing from this file was imported)',
        cause: err,
      },
    );
  }
  if (/utf-?8|unicode/i.test(message)) {
    return new UsageLabError('import_file_encoding', `not valid UTF-8: ${short}`, {
      place: { file: path },
      hint: 're-encode the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)',
      cause: err,
    });
  }
  return new UsageLabError('import_file_unreadable', `could not be read: ${short}`, {
    place: { file: path },
    hint: 'check that the file is complete and in the format its source exports',
    cause: err,
  });
}

/** One NDJSON part of readNdjsonStreams: gzip or plain, told by its first two bytes. */
export interface NdjsonPart {
  readonly name: string;
  readonly stream: Readable;
  /** Its size in bytes when known (a zip member's): a small part is read whole and inflated at once. */
  readonly size?: number;
}

/**
 * Parts up to this size are read into memory and inflated in one call: a stream pipeline per part costs more than
 * the inflating itself for an Export API zip's ~700 small hourly members (one month's demo zip: 0.71-0.96 s ->
 * 0.44-0.59 s of the main thread).
 */
const WHOLE_PART_BYTES = 1 << 20;

const isZlibError = (err: unknown): boolean => typeof (err as { errno?: unknown }).errno === 'number' || /^Z_/.test(String((err as { code?: unknown }).code));

/** A small part's bytes, inflated when they start with the gzip magic bytes. */
async function* wholePart(stream: Readable): AsyncGenerator<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  yield isGzip(bytes) ? gunzipSync(bytes) : bytes;
}

/** A stream's bytes, inflated as they come when they start with the gzip magic bytes. */
async function* decodedChunks(stream: Readable): AsyncGenerator<Buffer> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head: Buffer = Buffer.alloc(0);
  let done = false;
  while (head.length < 2 && !done) {
    const next = await it.next();
    if (next.done === true) done = true;
    else head = head.length === 0 ? next.value : Buffer.concat([head, next.value]);
  }
  const all = async function* (): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (done) return;
    for (let next = await it.next(); next.done !== true; next = await it.next()) yield next.value;
  };
  if (isGzip(head)) {
    // An error on either side destroys the inflater with it, and the loop over its output throws it.
    yield* pipelineStreams(Readable.from(all()), createGunzip({ chunkSize: 1 << 20 }), () => undefined) as AsyncIterable<Buffer>;
  } else yield* all();
}

export class DuckdbStageContext implements StageContext {
  private readonly names: string[] = [];
  private readonly dropped = new Set<string>();
  private readonly partialReasons: string[] = [];
  private readonly csvTables: string[] = [];
  /** The CSV relations whose rows numberCsvLines renumbered (their rejects' lines are in `<name>_reject_lines`). */
  private readonly renumbered = new Set<string>();
  /** Set by the pipeline while a file loads, to show DuckDB's progress on the long reading statements. */
  onStatementProgress: ((percentage: number) => void) | undefined;

  constructor(
    private readonly session: DuckdbSession,
    readonly config: UsageLabConfig,
    readonly options: ReaderOptions,
    readonly tempDir: string,
  ) {}

  static async create(
    session: DuckdbSession,
    config: UsageLabConfig,
    options: ReaderOptions,
    tempDir: string,
  ): Promise<DuckdbStageContext> {
    for (const macro of STAGING_MACROS) await session.run(macro);
    return new DuckdbStageContext(session, config, options, tempDir);
  }

  get partial(): readonly string[] {
    return this.partialReasons;
  }

  markPartial(reason: string): void {
    this.partialReasons.push(reason);
  }

  run(sql: string): Promise<void> {
    return this.session.run(sql);
  }

  all<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    return this.session.all<T>(sql);
  }

  tempName(prefix: string): string {
    const name = `_stage_${prefix.replace(/[^A-Za-z0-9_]/g, '_')}_${this.names.length + 1}`;
    this.names.push(name);
    return name;
  }

  literal(value: string): string {
    return sqlLiteral(value);
  }

  /** How many names tempName has handed out: the names handed out after this point are the later ones. */
  get issued(): number {
    return this.names.length;
  }

  /**
   * Drops the temp relations named by tempName after the first `after` names, except `keep` — unless one of `keep` is
   * a view, which still reads the relations below it. The raw lines, parsed documents and intermediate rows of every
   * file otherwise stay until the import ends: on the demo's 207 files, 1.7 GB in memory and 0.5 GB spilled before
   * the rows were even combined. Views go first (a view is only bound when read: nothing stops dropping a table
   * under one); a name never used, or used for a file, drops nothing.
   */
  async dropRelationsAfter(after: number, keep: ReadonlySet<string>): Promise<void> {
    const rows = await this.session.all<{ name: string }>(
      `SELECT view_name AS name FROM duckdb_views() WHERE temporary AND starts_with(view_name, '_stage_')`,
    );
    const views = new Set(rows.map((r) => r.name));
    if ([...keep].some((k) => views.has(k))) return;
    const doomed = this.names.slice(after).filter((n) => !keep.has(n) && !this.dropped.has(n));
    for (const name of doomed) if (views.has(name)) await this.session.run(`DROP VIEW IF EXISTS ${name}`);
    for (const name of doomed) if (!views.has(name)) await this.session.run(`DROP TABLE IF EXISTS ${name}`);
    for (const name of doomed) this.dropped.add(name);
  }

  /** Names of the CSV relations read so far (their rejects tables are `<name>_rejects`). */
  get csvRelations(): readonly string[] {
    return this.csvTables;
  }

  /** CSV rows DuckDB rejected in the CSV relations read since index `from` of csvRelations. */
  async csvRejectsSince(from: number): Promise<{ line: number; reason: string }[]> {
    const out: { line: number; reason: string }[] = [];
    for (const relation of this.csvTables.slice(from)) out.push(...(await this.csvRejects(relation)));
    return out;
  }

  private async load(path: string, name: string, sql: string): Promise<string> {
    const statement = `CREATE OR REPLACE TEMP TABLE ${name} AS ${sql}`;
    const verified = magicCompression(path) === 'gzip' ? verifyGzip(path) : Promise.resolve();
    // Settle the check even when DuckDB fails first, so no rejection is left unhandled.
    const verification = verified.then(
      () => undefined,
      (err: unknown) => err,
    );
    try {
      if (this.onStatementProgress === undefined) await this.session.run(statement);
      else await this.session.runWithProgress(statement, this.onStatementProgress);
    } catch (err) {
      const gzipError = await verification;
      throw gzipError ?? fileError(path, err);
    }
    const gzipError = await verification;
    if (gzipError !== undefined) throw gzipError;
    return name;
  }

  async readNdjsonLines(path: string): Promise<string> {
    const table = await this.linesTable(path);
    const name = this.tempName('lines');
    await this.session.run(`CREATE OR REPLACE TEMP VIEW ${name} AS
      SELECT _line, coalesce(not_doc, CAST(doc AS VARCHAR)) AS line, doc FROM ${table}`);
    return name;
  }

  /** NDJSON as a table (_line, doc, not_doc): not_doc is the line when it is not a JSON object, else NULL. */
  private async linesTable(path: string): Promise<string> {
    const table = this.tempName('lines');
    const compression = magicCompression(path);
    // One VARCHAR column per physical line: a unit-separator delimiter and no quoting make DuckDB's CSV reader
    // a fast, parallel line splitter. row_number() over the scan is the line number (insertion order is kept).
    // new_line '\r\n' ends a line at "\r\n" and at a lone "\n" alike; with '\n' the reader also ends one at every
    // "\r", so each line of a CRLF file counted twice (an empty row between "\r" and "\n"), and line numbers
    // doubled. (A lone "\r" inside a line, which JSON text never needs, still splits it.)
    const reader = `read_csv(${sqlLiteral(path)}, columns = {'line': 'VARCHAR'}, header = false, delim = '\x1f',
      quote = '', escape = '', auto_detect = false, max_line_size = 16777216, new_line = '\\r\\n',
      compression = ${sqlLiteral(compression)}, strict_mode = false, null_padding = true)`;
    // A line whose first character (after JSON whitespace) is "{" and which parses is an object; TRY_CAST parses it
    // once (json_valid and then the cast parsed it twice). A document keeps the line's text exactly, so the line is
    // kept only when it is not one: half the bytes (1M Amplitude lines: 6.6-7.2 s -> 5.7-6.7 s).
    await this.load(
      path,
      table,
      `SELECT _line, doc, CASE WHEN doc IS NULL THEN line END AS not_doc
       FROM (SELECT _line, line, CASE WHEN starts_with(ltrim(line, ' \t\r'), '{') THEN TRY_CAST(line AS JSON) END AS doc
         FROM (SELECT row_number() OVER () AS _line,
                 CASE WHEN ends_with(line, chr(13)) THEN rtrim(line, chr(13)) ELSE line END AS line FROM ${reader})
         WHERE line IS NOT NULL AND regexp_matches(line, '[^ \t\r]'))`,
    );
    return table;
  }

  async readNdjsonStreams(parts: AsyncIterable<NdjsonPart>): Promise<string> {
    // DuckDB keeps row order within one file but not across a multi-file scan, so line numbers would be wrong.
    // The parts are concatenated (gunzipped, which also proves each gzip stream complete) into one temp file,
    // remembering where each starts; one ordered scan then numbers the lines.
    const combined = join(this.tempDir, `${this.tempName('concat')}.ndjson`);
    const starts: { file: string; firstLine: number }[] = [];
    const out = createWriteStream(combined);
    let lines = 0;
    try {
      for await (const part of parts) {
        starts.push({ file: part.name, firstLine: lines + 1 });
        let last = 10;
        try {
          const chunks = part.size !== undefined && part.size <= WHOLE_PART_BYTES ? wholePart(part.stream) : decodedChunks(part.stream);
          for await (const chunk of chunks) {
            for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
            if (chunk.length > 0) last = chunk[chunk.length - 1]!;
            if (!out.write(chunk)) await once(out, 'drain');
          }
        } catch (err) {
          part.stream.destroy();
          throw corruptInput(part.name, `truncated or corrupt ${isZlibError(err) ? 'gzip' : 'data'}: ${(err as Error).message}`, err);
        }
        // A part without a final newline must not run into the next one.
        if (last !== 10) {
          if (!out.write('\n')) await once(out, 'drain');
          lines++;
        }
      }
    } finally {
      out.end();
      await once(out, 'close');
    }
    const all = await this.readNdjsonLines(combined);
    const offsets = this.tempName('offsets');
    await this.session.run(`CREATE OR REPLACE TEMP TABLE ${offsets} (_file VARCHAR, first_line BIGINT, next_first BIGINT)`);
    const values = starts.map((st, i) => `(${sqlLiteral(st.file)}, ${st.firstLine}, ${starts[i + 1]?.firstLine ?? lines + 1})`);
    await this.session.run(`INSERT INTO ${offsets} VALUES ${values.join(', ')}`);
    const name = this.tempName('lines');
    await this.session.run(`CREATE OR REPLACE TEMP VIEW ${name} AS
      SELECT o._file, l._line - o.first_line + 1 AS _line, l.line, l.doc
      FROM ${all} l JOIN ${offsets} o ON l._line >= o.first_line AND l._line < o.next_first`);
    return name;
  }

  async readJsonArray(path: string): Promise<string> {
    const name = this.tempName('array');
    const compression = magicCompression(path);
    return this.load(
      path,
      name,
      `SELECT row_number() OVER () AS _line, json AS doc
       FROM read_json_objects(${sqlLiteral(path)}, format = 'array', compression = ${sqlLiteral(compression === 'none' ? 'uncompressed' : compression)}, maximum_object_size = 16777216)`,
    );
  }

  async readCsv(path: string): Promise<string> {
    const name = this.tempName('csv');
    const rejects = `${name}_rejects`;
    const scans = `${name}_scans`;
    const compression = magicCompression(path);
    this.csvTables.push(name);
    // Names restart with each import's context, and DuckDB adds to a rejects table that exists: an earlier import on
    // this connection would otherwise lend this file its rejected records.
    for (const t of [rejects, scans]) await this.session.run(`DROP TABLE IF EXISTS ${t}`);
    // _line is first the record's number (the header is record 1), which is its line only while no record spans
    // several lines and none was rejected: numberCsvLines makes it the line where the record starts.
    await this.load(
      path,
      name,
      `SELECT row_number() OVER () + 1 AS _line, * FROM read_csv(${sqlLiteral(path)}, header = true, all_varchar = true,
        normalize_names = false, store_rejects = true, rejects_table = ${sqlLiteral(rejects)},
        rejects_scan = ${sqlLiteral(scans)}, compression = ${sqlLiteral(compression)}, max_line_size = 16777216)`,
    );
    await this.numberCsvLines(name);
    return name;
  }

  /**
   * DuckDB's CSV reader numbers records, not lines (its rejects too), and leaves the records it rejects out of its
   * rows: after a quoted value with a line break in it, or after a rejected record, every later row's number was
   * short of its line. When either happened, each record's first line is counted from how many lines the records
   * before it span (1 + the line breaks inside its values; a rejected record's from its raw text), and the rows'
   * _line and the rejects' lines (`<name>_reject_lines`) are rewritten. A header whose quoted names hold line
   * breaks moves every record down by as many lines. Otherwise the numbers are already the lines.
   */
  private async numberCsvLines(name: string): Promise<void> {
    const rejects = `${name}_rejects`;
    const names = (await this.session.all<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE ${name})`))
      .map((c) => c.column_name)
      .filter((c) => c !== '_line');
    const columns = names.map(quoteIdent);
    // DuckDB counts the header as one record, however many lines it spans.
    const headerBreaks = names.reduce((n, c) => n + c.split('\n').length - 1, 0);
    const breaks = (v: string): string => `coalesce(length(${v}) - length(replace(${v}, chr(10), '')), 0)`;
    const [check] = await this.session.all<{ rejected: string; broken: boolean | null }>(
      `SELECT (SELECT count(*) FROM ${rejects}) AS rejected,
         (SELECT bool_or(${columns.map((c) => `contains(${c}, chr(10))`).join(' OR ') || 'false'}) FROM ${name}) AS broken`,
    );
    if (Number(check!.rejected) === 0 && check!.broken !== true && headerBreaks === 0) return;
    const spans = `${name}_spans`;
    // Rows and rejected records merged back into file order: the k-th rejected record (DuckDB's number R_k) comes
    // before the good row numbered b exactly when R_k - (k - 1) <= b. One sort on that key (a reject first on a tie)
    // gives every record the sum of the spans before it.
    await this.session.run(`CREATE OR REPLACE TEMP TABLE ${spans} AS
      WITH bad AS (
        SELECT line AS rec, 1 + max(${breaks('csv_line')}) AS span FROM ${rejects} GROUP BY line
      ), records AS (
        SELECT rec - row_number() OVER (ORDER BY rec) + 1 AS k, 0 AS kind, rec AS tie, span, NULL::BIGINT AS base, rec FROM bad
        UNION ALL
        SELECT g._line, 1, g._line, 1 + ${columns.map((c) => breaks(c)).join(' + ') || '0'}, g._line, NULL FROM ${name} g
      )
      SELECT base, rec, ${2 + headerBreaks} + coalesce(sum(span) OVER (ORDER BY k, kind, tie ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS line
      FROM records`);
    await this.session.run(`CREATE OR REPLACE TEMP TABLE ${name} AS
      SELECT g.* REPLACE (s.line AS _line) FROM ${name} g JOIN ${spans} s ON s.base = g._line ORDER BY s.line`);
    await this.session.run(`CREATE OR REPLACE TEMP TABLE ${name}_reject_lines AS SELECT rec, line FROM ${spans} WHERE base IS NULL`);
    await this.session.run(`DROP TABLE ${spans}`);
    this.renumbered.add(name);
  }

  /** CSV records DuckDB rejected while reading `relation` (readCsv output): the line each starts on, and why. */
  private async csvRejects(relation: string): Promise<{ line: number; reason: string }[]> {
    const lines = this.renumbered.has(relation) ? `${relation}_reject_lines` : `(SELECT DISTINCT line AS rec, line FROM ${relation}_rejects)`;
    // One entry per record: a record with too many values has an error per extra value, the last the most telling.
    const rows = await this.session.all<{ line: string; reason: string }>(
      `SELECT m.line, arg_max(coalesce(r.column_name || ': ', '') || r.error_message, r.byte_position) AS reason
       FROM ${relation}_rejects r JOIN ${lines} m ON m.rec = r.line GROUP BY m.line ORDER BY m.line`,
    );
    return rows.map((r) => ({ line: Number(r.line), reason: r.reason }));
  }

  /** A view, not a copy: Parquet is already columnar on disk and rescanning it is cheaper than spilling a copy. */
  async readParquet(path: string): Promise<string> {
    const name = this.tempName('parquet');
    try {
      await this.session.run(`CREATE OR REPLACE TEMP VIEW ${name} AS
        SELECT file_row_number + 1 AS _line, * EXCLUDE (file_row_number) FROM read_parquet(${sqlLiteral(path)}, file_row_number = true)`);
      await this.session.all(`SELECT count(*) FROM ${name}`);
    } catch (err) {
      throw fileError(path, err);
    }
    return name;
  }

  async readAvro(paths: readonly string[]): Promise<string> {
    const out = join(this.tempDir, `${this.tempName('avro')}.ndjson`);
    await avroFilesToNdjson(paths, out);
    // A table (the Heap reader drops each file's once copied); every record is an object, so not_doc is NULL.
    return this.linesTable(out);
  }
}
