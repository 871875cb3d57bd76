import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../core/config-schema.js';
import { UsageLabError } from '../../core/errors.js';
import { DuckdbSession } from './duckdb-connection.js';
import { DuckdbStageContext } from './duckdb-stage-context.js';

let session: DuckdbSession;
let ctx: DuckdbStageContext;
/** The context's temp folder, where the tests also write their input files. */
let dir: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ul-stage-'));
  session = await DuckdbSession.open({ path: ':memory:', threads: 1 });
  ctx = await DuckdbStageContext.create(session, configSchema.parse({}), { columnMap: {} }, dir);
});
afterEach(() => {
  session.close();
  rmSync(dir, { recursive: true, force: true });
});

async function stageRelations(): Promise<string[]> {
  const rows = await session.all<{ name: string }>(
    `SELECT table_name AS name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, '_stage_')
     UNION ALL SELECT view_name FROM duckdb_views() WHERE temporary AND starts_with(view_name, '_stage_') ORDER BY name`,
  );
  return rows.map((r) => r.name);
}

describe('stage context: dropping a file’s reading relations', () => {
  it('drops the tables and views named after the mark, views first, and keeps the rest', async () => {
    const earlier = ctx.tempName('lines');
    await session.run(`CREATE TEMP TABLE ${earlier} AS SELECT 1 AS x`);
    const mark = ctx.issued;
    const lines = ctx.tempName('lines');
    const docs = ctx.tempName('docs');
    const unused = ctx.tempName('concat'); // a name used for a file: no relation
    const rows = ctx.tempName('rows');
    const links = ctx.tempName('links');
    await session.run(`CREATE TEMP TABLE ${lines} AS SELECT 1 AS x`);
    await session.run(`CREATE TEMP VIEW ${docs} AS SELECT x FROM ${lines}`);
    await session.run(`CREATE TEMP TABLE ${rows} AS SELECT x FROM ${docs}`);
    await session.run(`CREATE TEMP TABLE ${links} AS SELECT x FROM ${docs}`);
    expect(unused).toMatch(/^_stage_concat_\d+$/);

    await ctx.dropRelationsAfter(mark, new Set([rows, links]));

    expect(await stageRelations()).toEqual([earlier, links, rows].sort());
    expect(await session.all(`SELECT x FROM ${rows}`)).toEqual([{ x: 1 }]);
  });

  it('drops nothing while a kept relation is a view, which still reads what lies below it', async () => {
    const mark = ctx.issued;
    const lines = ctx.tempName('lines');
    const staged = ctx.tempName('staged');
    await session.run(`CREATE TEMP TABLE ${lines} AS SELECT 1 AS x`);
    await session.run(`CREATE TEMP VIEW ${staged} AS SELECT x FROM ${lines}`);

    await ctx.dropRelationsAfter(mark, new Set([staged]));

    expect(await stageRelations()).toEqual([lines, staged].sort());
    expect(await session.all(`SELECT x FROM ${staged}`)).toEqual([{ x: 1 }]);
  });
});

describe('stage context: NDJSON streams read as one relation', () => {
  const part = (name: string, bytes: string | Uint8Array): { name: string; stream: Readable } => ({ name, stream: Readable.from([Buffer.from(bytes)]) });
  async function* parts(...list: { name: string; stream: Readable }[]): AsyncGenerator<{ name: string; stream: Readable }> {
    yield* list;
  }

  it('numbers lines within each part, gzip or plain, whatever the last line ends with', async () => {
    const table = await ctx.readNdjsonStreams(
      parts(
        part('a/1.json.gz', gzipSync('{"n":1}\n{"n":2}\n')),
        part('a/2.json', '{"n":3}\r\nnot json\n{"n":4}'),
        part('a/3.json.gz', gzipSync('')),
        part('a/4.json', '\n{"n":5}\n'),
      ),
    );
    const rows = await session.all(`SELECT _file, _line, line, doc IS NOT NULL AS is_doc FROM ${table} ORDER BY _file, _line`);
    expect(rows).toEqual([
      { _file: 'a/1.json.gz', _line: '1', line: '{"n":1}', is_doc: true },
      { _file: 'a/1.json.gz', _line: '2', line: '{"n":2}', is_doc: true },
      { _file: 'a/2.json', _line: '1', line: '{"n":3}', is_doc: true },
      { _file: 'a/2.json', _line: '2', line: 'not json', is_doc: false },
      { _file: 'a/2.json', _line: '3', line: '{"n":4}', is_doc: true },
      { _file: 'a/4.json', _line: '2', line: '{"n":5}', is_doc: true },
    ]);
  });

  it('reads a part of known small size whole, with the same lines and the same failure on a truncated gzip', async () => {
    const sized = (name: string, bytes: string | Uint8Array): { name: string; stream: Readable; size: number } => ({ ...part(name, bytes), size: Buffer.from(bytes).length });
    const table = await ctx.readNdjsonStreams(parts(sized('a.json.gz', gzipSync('{"n":1}\r\n{"n":2}')), sized('b.json', '{"n":3}\n')));
    expect(await session.all(`SELECT _file, _line, line FROM ${table} ORDER BY _file, _line`)).toEqual([
      { _file: 'a.json.gz', _line: '1', line: '{"n":1}' },
      { _file: 'a.json.gz', _line: '2', line: '{"n":2}' },
      { _file: 'b.json', _line: '1', line: '{"n":3}' },
    ]);
    const gz = gzipSync('{"n":1}\n'.repeat(500));
    const err = await ctx.readNdjsonStreams(parts(sized('cut.json.gz', gz.subarray(0, gz.length - 20)))).catch((e: unknown) => e);
    expect((err as UsageLabError).code).toBe('import_file_corrupt');
    expect((err as UsageLabError).place.file).toBe('cut.json.gz');
    expect((err as UsageLabError).message).toMatch(/truncated or corrupt gzip/);
  });

  it('numbers the lines of a CRLF file as its lines, blank ones counted, none split at its "\\r"', async () => {
    const path = join(dir, 'windows.json');
    writeFileSync(path, '{"n":1}\r\n\r\nnot json\r\n{"n":4}\n{"n":5}\r\n');
    const table = await ctx.readNdjsonLines(path);
    expect(await session.all(`SELECT _line, line FROM ${table} ORDER BY _line`)).toEqual([
      { _line: '1', line: '{"n":1}' },
      { _line: '3', line: 'not json' },
      { _line: '4', line: '{"n":4}' },
      { _line: '5', line: '{"n":5}' },
    ]);
  });

  it('names the line that is longer than it reads, and how long it is', async () => {
    const path = join(dir, 'huge.json');
    writeFileSync(path, `{"n":1}\n{"blob":"${'x'.repeat(17_000_000)}"}\n{"n":3}\n`);
    const err = await ctx.readNdjsonLines(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageLabError);
    expect((err as UsageLabError).code).toBe('import_line_too_long');
    expect((err as UsageLabError).place).toEqual({ file: path, line: 2 });
    expect((err as UsageLabError).message).toBe('line 2 is 17,000,011 bytes long; usagelab reads lines of up to 16 MiB');
  });

  it('fails on a truncated gzip part with import_file_corrupt naming the part', async () => {
    const gz = gzipSync('{"n":1}\n'.repeat(500));
    const err = await ctx.readNdjsonStreams(parts(part('ok.json', '{"n":0}\n'), part('cut.json.gz', gz.subarray(0, gz.length - 20)))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageLabError);
    expect((err as UsageLabError).code).toBe('import_file_corrupt');
    expect((err as UsageLabError).place.file).toBe('cut.json.gz');
    expect((err as UsageLabError).message).toMatch(/truncated or corrupt gzip/);
  });

  it('fails when a part’s own stream fails, naming that part', async () => {
    const broken = new Readable({
      read() {
        this.destroy(new Error('archive ended early'));
      },
    });
    const err = await ctx.readNdjsonStreams(parts({ name: 'm.json.gz', stream: broken })).catch((e: unknown) => e);
    expect((err as UsageLabError).code).toBe('import_file_corrupt');
    expect((err as UsageLabError).place.file).toBe('m.json.gz');
    expect((err as UsageLabError).message).toMatch(/truncated or corrupt data: archive ended early/);
  });
});

describe('stage context: CSV line numbers', () => {

  const read = async (content: string): Promise<{ rows: string[]; rejects: { line: number; reason: string }[] }> => {
    const path = join(dir, 'events.csv');
    writeFileSync(path, content);
    const before = ctx.csvRelations.length;
    const table = await ctx.readCsv(path);
    return {
      // Each row as "user@line".
      rows: (await session.all<{ r: string }>(`SELECT "user" || '@' || _line AS r FROM ${table} ORDER BY _line`)).map((x) => x.r),
      rejects: await ctx.csvRejectsSince(before),
    };
  };

  it('numbers a plain file by its records (the header is line 1)', async () => {
    const { rows, rejects } = await read('user,event\r\nu1,a\r\nu2,b\r\nu3,c\r\n');
    expect(rows).toEqual(['u1@2', 'u2@3', 'u3@4']);
    expect(rejects).toEqual([]);
  });

  it('gives each record the line it starts on when quoted values hold line breaks', async () => {
    const { rows } = await read('user,event\nu1,"two\nlines"\nu2,"three\r\nmore\nlines"\nu3,c\n');
    expect(rows).toEqual(['u1@2', 'u2@4', 'u3@7']);
  });

  it('counts the records DuckDB rejects, once each, at their own lines, and the rows after them at theirs', async () => {
    const { rows, rejects } = await read('user,event\nu1,"two\nlines"\nu2,b,c,d\nu3,"x\ny"\nu4,"p,q",w\nu5,e\n');
    expect(rows).toEqual(['u1@2', 'u3@5', 'u5@8']);
    expect(rejects.map((r) => r.line)).toEqual([4, 7]);
    expect(rejects[0]!.reason).toMatch(/Expected Number of Columns: 2 Found: 4/);
  });

  it('moves every record down by the line breaks of a quoted header name', async () => {
    const { rows } = await read('user,"event\nname"\nu1,a\nu2,b\n');
    expect(rows).toEqual(['u1@3', 'u2@4']);
    // A header over four lines, then a value that spans two and a rejected record.
    const mixed = await read('user,"a\nb","c\nd\ne"\nu1,"x\ny",z\nu2,p,q,r\nu3,p,q\nu4,s,t\n');
    expect(mixed.rows).toEqual(['u1@5', 'u3@8', 'u4@9']);
    expect(mixed.rejects.map((r) => r.line)).toEqual([7]);
  });

  it('places rejected records that follow each other where they are, and the rows between and after them', async () => {
    const { rows, rejects } = await read('user,event\nu1,a,x\nu2,b,y\nu3,"c\nd"\nu4,e\nu5,f,g\nu6,h\n');
    expect(rows).toEqual(['u3@4', 'u4@6', 'u6@8']);
    expect(rejects.map((r) => r.line)).toEqual([2, 3, 7]);
  });
});
