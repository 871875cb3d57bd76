import { afterEach, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempWorkspace, ndjson, type TempWorkspace } from '../../test-support/temp-workspace.js';
import { UsageLabError } from '../../core/errors.js';
import type { Workspace } from '../../library/workspace.js';
import { DuckdbSession, scaledMemoryLimit } from './duckdb-connection.js';
import { withMemoryLimit, writeMemoryLimit } from './import-insert.js';

let tw: TempWorkspace | undefined;
let ws: Workspace | undefined;
afterEach(() => {
  ws?.close();
  tw?.cleanup();
  ws = undefined;
  tw = undefined;
});

async function setup(config?: string): Promise<{ tw: TempWorkspace; ws: Workspace }> {
  tw = tempWorkspace(config);
  ws = await tw.open();
  return { tw, ws };
}

const count = async (w: Workspace, where = 'true'): Promise<number> => Number((await w.sql<{ n: string }>(`SELECT count(*) AS n FROM events WHERE ${where}`))[0]!.n);
const iso = async (w: Workspace, name: string): Promise<string> =>
  (await w.sql<{ t: string }>(`SELECT strftime(occurred_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS t FROM events WHERE event_name = '${name}'`))[0]!.t;

async function expectError(p: Promise<unknown>, code: string): Promise<UsageLabError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(UsageLabError);
    expect((err as UsageLabError).code).toBe(code);
    return err as UsageLabError;
  }
  throw new Error(`expected ${code}`);
}

describe('import: timestamps and ids', () => {
  it('turns every timestamp form into the right UTC instant, whatever TZ the process runs in', async () => {
    const { tw, ws } = await setup();
    const file = tw.write(
      'times.ndjson',
      ndjson([
        { user_id: 'u', event: 'rfc3339_offset', time: '2024-03-31T02:30:00+02:00' },
        { user_id: 'u', event: 'rfc3339_z', time: '2024-10-27T01:30:00.123Z' },
        { user_id: 'u', event: 'naive_space', time: '2024-03-10 02:30:00.000001' },
        { user_id: 'u', event: 'naive_t', time: '2024-11-03T01:30:00' },
        { user_id: 'u', event: 'epoch_s', time: 1711845000 },
        { user_id: 'u', event: 'epoch_ms', time: 1711845000123 },
        { user_id: 'u', event: 'epoch_us_string', time: '1711845000123456' },
        { user_id: 'u', event: 'epoch_s_fraction', time: 1711845000.5 },
      ]),
    );
    const r = await ws.import({ files: [file] });
    expect(r.imported).toBe(8);
    expect(await iso(ws, 'rfc3339_offset')).toBe('2024-03-31T00:30:00.000000Z');
    expect(await iso(ws, 'rfc3339_z')).toBe('2024-10-27T01:30:00.123000Z');
    expect(await iso(ws, 'naive_space')).toBe('2024-03-10T02:30:00.000001Z');
    expect(await iso(ws, 'naive_t')).toBe('2024-11-03T01:30:00.000000Z');
    expect(await iso(ws, 'epoch_s')).toBe('2024-03-31T00:30:00.000000Z');
    expect(await iso(ws, 'epoch_ms')).toBe('2024-03-31T00:30:00.123000Z');
    expect(await iso(ws, 'epoch_us_string')).toBe('2024-03-31T00:30:00.123456Z');
    expect(await iso(ws, 'epoch_s_fraction')).toBe('2024-03-31T00:30:00.500000Z');
  });

  it('keeps ids beyond 2^53 exact', async () => {
    const { tw, ws } = await setup();
    const big = '9007199254740993123';
    const file = tw.write('big.ndjson', `{"user_id": ${big}, "device_id": 18446744073709551615, "event": "x", "time": 1700000000}\n`);
    await ws.import({ files: [file] });
    const rows = await ws.sql<{ user_id: string; anonymous_id: string }>(`SELECT user_id, anonymous_id FROM events`);
    expect(rows).toEqual([{ user_id: big, anonymous_id: '18446744073709551615' }]);
  });
});

describe('import: idempotence and dedup', () => {
  it('re-importing a file adds nothing; an overlapping export adds only what is new', async () => {
    const { tw, ws } = await setup();
    const rows = [1, 2, 3, 4].map((i) => ({ event_id: `e${i}`, user_id: 'u1', event: 'view', time: 1700000000 + i }));
    const a = tw.write('a.ndjson', ndjson(rows.slice(0, 3)));
    const b = tw.write('b.ndjson.gz', ndjson(rows.slice(1, 4)));
    const first = await ws.import({ files: [a] });
    expect([first.imported, first.duplicates, first.rejected]).toEqual([3, 0, 0]);
    const again = await ws.import({ files: [a] });
    expect([again.imported, again.duplicates]).toEqual([0, 3]);
    const overlap = await ws.import({ files: [b] });
    expect([overlap.imported, overlap.duplicates]).toEqual([1, 2]);
    expect(await count(ws)).toBe(4);
  });

  it('counts duplicates inside one file and across files of one import', async () => {
    const { tw, ws } = await setup();
    const row = { event_id: 'same', user_id: 'u1', event: 'view', time: 1700000000 };
    const a = tw.write('a.ndjson', ndjson([row, row, { ...row, event_id: 'other' }]));
    const b = tw.write('b.ndjson', ndjson([row]));
    const r = await ws.import({ files: [a, b] });
    expect(r.imported).toBe(2);
    expect(r.duplicates).toBe(2);
    expect(await count(ws)).toBe(2);
    // The lines, documents and staged rows of both files, and their combined copy, are gone with the import.
    const left = await ws.sql(`SELECT table_name FROM duckdb_tables() WHERE temporary AND (starts_with(table_name, '_stage_') OR starts_with(table_name, '_import_'))
      UNION ALL SELECT view_name FROM duckdb_views() WHERE temporary AND (starts_with(view_name, '_stage_') OR starts_with(view_name, '_import_'))`);
    expect(left).toEqual([]);
  });
});

describe('import: bad input', () => {
  it('quarantines unreadable records with file, line and reason and reports partial', async () => {
    const { tw, ws } = await setup();
    const file = tw.write(
      'mixed.ndjson',
      [
        JSON.stringify({ user_id: 'u', event: 'ok', time: 1700000000, note: 'line\nbreak ✓ ünïcødé' }),
        'this is not json',
        JSON.stringify({ user_id: 'u', event: 'bad_time', time: 'yesterday' }),
        '',
        JSON.stringify({ user_id: 'u', time: 1700000001 }),
        // An object after JSON whitespace is an object; an array is not.
        `\t ${JSON.stringify({ user_id: 'u', event: 'indented', time: 1700000002 })}`,
        '[1, 2]',
      ].join('\n'),
    );
    const r = await ws.import({ files: [file] });
    expect([r.imported, r.rejected, r.partial]).toEqual([2, 4, true]);
    expect(r.quarantineSample.map((q) => [q.line, q.reason])).toEqual([
      [2, 'record: not a JSON object'],
      [3, 'time: unreadable timestamp "yesterday"'],
      [5, 'event: missing'],
      [7, 'record: not a JSON object'],
    ]);
    const props = await ws.sql<{ note: string }>(`SELECT properties->>'note' AS note FROM events WHERE event_name = 'ok'`);
    expect(props[0]!.note).toBe('line\nbreak ✓ ünïcødé');
    const q = await ws.sql<{ n: string }>(`SELECT count(*) AS n FROM quarantine`);
    expect(Number(q[0]!.n)).toBe(4);
    await ws.import({ files: [file] });
    expect(Number((await ws.sql<{ n: string }>(`SELECT count(*) AS n FROM quarantine`))[0]!.n)).toBe(4);
  });

  it("a CSV's rejected records are its own: a later import on the same workspace does not report them again", async () => {
    const { tw, ws } = await setup();
    const bad = tw.write('bad.csv', 'user_id,event,time\nu1,a,1700000000\nu2,b,1700000000,extra\n');
    const good = tw.write('good.csv', 'user_id,event,time\nv1,a,1700000000\nv2,b,1700000001\n');
    const first = await ws.import({ files: [bad] });
    expect([first.read, first.imported, first.rejected, first.quarantineSample.map((q) => q.line)]).toEqual([2, 1, 1, [3]]);
    const second = await ws.import({ files: [good] });
    expect([second.read, second.imported, second.rejected, second.partial]).toEqual([2, 2, 0, false]);
    expect(Number((await ws.sql<{ n: string }>(`SELECT count(*) AS n FROM quarantine`))[0]!.n)).toBe(1);
  });

  it('--strict writes nothing from a file with a bad record', async () => {
    const { tw, ws } = await setup();
    const good = tw.write('good.ndjson', ndjson([{ user_id: 'u', event: 'a', time: 1700000000 }]));
    const bad = tw.write('bad.ndjson', ndjson([{ user_id: 'u', event: 'b', time: 1700000000 }]) + 'garbage\n');
    const r = await ws.import({ files: [good, bad], strict: true });
    expect(r.files.map((f) => [f.imported, f.skipped === null])).toEqual([
      [1, true],
      [0, false],
    ]);
    expect(r.partial).toBe(true);
    expect(await count(ws)).toBe(1);
  });

  it('an empty file, a truncated gzip, an unknown format or a wrong --source write nothing', async () => {
    const { tw, ws } = await setup();
    const good = tw.write('good.ndjson', ndjson([{ user_id: 'u', event: 'a', time: 1700000000 }]));
    const empty = tw.write('empty.ndjson', '');
    const full = gzipSync(ndjson(Array.from({ length: 5000 }, (_, i) => ({ user_id: `u${i}`, event: 'a', time: 1700000000 + i }))));
    const truncated = tw.write('cut.ndjson.gz', full.subarray(0, Math.floor(full.length / 2)));
    const binary = tw.write('blob.bin', Buffer.from([0, 1, 2, 3, 4, 5, 250, 251]));
    await expectError(ws.import({ files: [good, empty] }), 'import_file_empty');
    const err = await expectError(ws.import({ files: [good, truncated] }), 'import_file_corrupt');
    expect(err.place.file).toBe(truncated);
    await expectError(ws.import({ files: [binary] }), 'import_format_unknown');
    // A folder is a Heap sync folder or nothing: the error says to pass the files inside it.
    const folder = join(tw.dir, 'daily');
    mkdirSync(folder);
    writeFileSync(join(folder, 'day-1.ndjson'), ndjson([{ user_id: 'u', event: 'a', time: 1700000000 }]));
    const folderErr = await expectError(ws.import({ files: [folder] }), 'import_format_unknown');
    expect(folderErr.message).toBe('unknown format (a folder of 1 file)');
    expect(folderErr.hint).toMatch(/pass the export files inside it/);
    const zipped = tw.write('csvs.zip', Buffer.from(zipSync({ 'events.csv': new TextEncoder().encode('user,event,time\nu,a,1700000000\n') })));
    expect((await expectError(ws.import({ files: [zipped] }), 'import_format_unknown')).hint).toMatch(/unzip it and import the files inside/);
    await expectError(ws.import({ files: [good], source: 'nosuchtool' }), 'import_source_unknown');
    const notData = await expectError(ws.import({ files: [binary], source: 'generic' }), 'import_wrong_source');
    expect(notData.message).toBe('not a generic export; it is not JSON, NDJSON, CSV, Parquet, Avro or zip');
    expect(notData.hint).toMatch(/check that the file is the generic export you meant/);
    const other = await expectError(ws.import({ files: [good], source: 'ga4' }), 'import_wrong_source');
    expect(other.message).toMatch(/^not a ga4 export; it looks like /);
    expect(other.hint).toMatch(/drop --source to let usagelab detect it, or use --source /);
    expect(await count(ws)).toBe(0);
  });
});

describe('import: derived rage clicks', () => {
  it('marks N clicks on one element within T ms as rage clicks, for sources without a rage flag', async () => {
    const { tw, ws } = await setup();
    const click = (ms: number, el: string, id: string) => ({
      event_id: id, device_id: 'd1', event: 'click', kind: 'click', selector: el, url: 'https://x.io/a', time: 1700000000000 + ms,
    });
    const file = tw.write(
      'clicks.ndjson',
      ndjson([
        click(0, '#save', 'a1'), click(400, '#save', 'a2'), click(800, '#save', 'a3'), click(1500, '#save', 'a4'),
        click(0, '#other', 'b1'), click(600, '#other', 'b2'), click(1100, '#other', 'b3'),
        click(5000, '#save', 'c1'), click(5000, '#save', 'c2'), click(5000, '#save', 'c3'),
      ]),
    );
    await ws.import({ files: [file], columnMap: { event_kind: 'kind', element_selector: 'selector', page_url: 'url' } });
    const rows = await ws.sql<{ id: string; rage: boolean }>(`SELECT source_event_id AS id, rage_click AS rage FROM events ORDER BY 1`);
    expect(rows.filter((r) => r.rage).map((r) => r.id)).toEqual(['a1', 'a2', 'a3', 'c1', 'c2', 'c3']);
  });
});

describe('import: empty export windows', () => {
  it('--skip-empty lists empty files as skipped, imports the rest, and is not partial', async () => {
    const { tw, ws } = await setup();
    const good = tw.write('good.ndjson', ndjson([{ user_id: 'u', event: 'a', time: 1700000000 }]));
    const empty = tw.write('empty.json.gz', '[]');
    const r = await ws.import({ files: [good, empty], skipEmpty: true });
    expect(r.imported).toBe(1);
    expect(r.partial).toBe(false);
    expect(r.files.map((f) => [f.layout, f.skipped])).toEqual([
      ['event log (NDJSON)', null],
      ['empty', 'empty file: nothing to import'],
    ]);
    await expectError(ws.import({ files: [empty] }), 'import_file_empty');
  });
});

describe('identities and sessions on hand-made journeys', () => {
  const t = (s: string): string => `2024-03-${s}Z`;
  it('resolves persons and sessions exactly', async () => {
    const { tw, ws } = await setup();
    const rows = [
      // alice: anonymous on d1, identifies at 10:25, later on a second device d2.
      { device_id: 'd1', event: 'view', time: t('01T10:00:00') },
      { device_id: 'd1', event: 'view', time: t('01T10:10:00') },
      { device_id: 'd1', user_id: 'alice', event: 'signup', time: t('01T10:25:00') },
      { device_id: 'd2', user_id: 'alice', event: 'view', time: t('02T09:00:00') },
      { device_id: 'd2', event: 'view', time: t('02T09:05:00') },
      // bob: never identified.
      { device_id: 'd3', event: 'view', time: t('01T23:50:00') },
      { device_id: 'd3', event: 'view', time: t('02T00:10:00') }, // across midnight: same session
      { device_id: 'd3', event: 'view', time: t('02T00:40:00') }, // exactly 30 min later: same session
      { device_id: 'd3', event: 'view', time: t('02T01:10:00.000001') }, // 30 min + 1 µs: new session
      // a shared device: carol first, dave later; its anonymous events belong to carol.
      { device_id: 'd4', user_id: 'carol', event: 'login', time: t('05T08:00:00') },
      { device_id: 'd4', user_id: 'dave', event: 'login', time: t('06T08:00:00') },
      { device_id: 'd4', event: 'view', time: t('06T08:01:00') },
      // vendor session ids collide across devices: two sessions, not one.
      { device_id: 'd5', user_id: 'erin', session_id: '1', event: 'view', time: t('07T08:00:00') },
      { device_id: 'd6', user_id: 'frank', session_id: '1', event: 'view', time: t('07T08:00:00') },
    ];
    const file = tw.write('journeys.ndjson', ndjson(rows));
    const r = await ws.import({ files: [file] });
    expect(r.imported).toBe(14);
    const persons = await ws.sql<{ person_id: string; n: string }>(`SELECT person_id, count(*) AS n FROM events GROUP BY 1 ORDER BY 1`);
    expect(persons.map((p) => [p.person_id, Number(p.n)])).toEqual([
      ['a:generic:d3', 4],
      ['u:alice', 5],
      ['u:carol', 2],
      ['u:dave', 1],
      ['u:erin', 1],
      ['u:frank', 1],
    ]);
    expect(r.persons).toBe(6);
    const sessions = await ws.sql<{ person_id: string; n: string }>(`SELECT person_id, count(*) AS n FROM sessions GROUP BY 1 ORDER BY 1`);
    expect(sessions.map((s) => [s.person_id, Number(s.n)])).toEqual([
      ['a:generic:d3', 2],
      ['u:alice', 2],
      ['u:carol', 2],
      ['u:dave', 1],
      ['u:erin', 1],
      ['u:frank', 1],
    ]);
  });

  it('re-assigns earlier anonymous events when a later import identifies the device', async () => {
    const { tw, ws } = await setup();
    const first = tw.write('1.ndjson', ndjson([{ device_id: 'd9', event: 'view', time: t('01T10:00:00') }]));
    const second = tw.write('2.ndjson', ndjson([{ device_id: 'd9', user_id: 'gina', event: 'signup', time: t('01T10:05:00') }]));
    await ws.import({ files: [first] });
    expect((await ws.sql<{ p: string }>(`SELECT person_id AS p FROM events`))[0]!.p).toBe('a:generic:d9');
    await ws.import({ files: [second] });
    const rows = await ws.sql<{ p: string; s: string }>(`SELECT DISTINCT person_id AS p, session_id AS s FROM events`);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.p).toBe('u:gina');
    expect(Number((await ws.sql<{ n: string }>(`SELECT count(*) AS n FROM sessions`))[0]!.n)).toBe(1);
  });

  it('a later import bridges sessions of an earlier one; sessions it does not touch stay as they were', async () => {
    const { tw, ws } = await setup();
    const first = tw.write(
      '1.ndjson',
      ndjson([
        { user_id: 'hal', event: 'view', time: t('01T10:00:00') },
        { user_id: 'hal', event: 'view', time: t('01T11:00:00') },
        { user_id: 'ivy', event: 'view', time: t('01T10:00:00') },
      ]),
    );
    const second = tw.write('2.ndjson', ndjson([{ user_id: 'hal', event: 'view', time: t('01T10:30:00') }]));
    await ws.import({ files: [first] });
    const ivyBefore = await ws.sql(`SELECT * FROM sessions WHERE person_id = 'u:ivy'`);
    expect(Number((await ws.sql<{ n: string }>(`SELECT count(*) AS n FROM sessions WHERE person_id = 'u:hal'`))[0]!.n)).toBe(2);
    await ws.import({ files: [second] });
    const hal = await ws.sql<{ events: string; s: string; e: string }>(
      `SELECT events, strftime(started_at, '%H:%M') AS s, strftime(ended_at, '%H:%M') AS e FROM sessions WHERE person_id = 'u:hal'`,
    );
    // Gaps of exactly 30 minutes stay in the session: one session of three events.
    expect(hal.map((r) => [Number(r.events), r.s, r.e])).toEqual([[3, '10:00', '11:00']]);
    expect(Number((await ws.sql<{ n: string }>(`SELECT count(DISTINCT session_id) AS n FROM events WHERE person_id = 'u:hal'`))[0]!.n)).toBe(1);
    expect(await ws.sql(`SELECT * FROM sessions WHERE person_id = 'u:ivy'`)).toEqual(ivyBefore);
    // The sessions table holds exactly the sessions of the events.
    const orphans = await ws.sql<{ n: string }>(`SELECT count(*) AS n FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.session_id = s.session_id)`);
    expect(Number(orphans[0]!.n)).toBe(0);
  });
});

describe('import: storage layout and masked-PII counts', () => {
  const t = (s: string): string => `2024-03-${s}Z`;
  it('writes each import in (person, time) order, vendor and inactivity sessions alike', async () => {
    const { tw, ws } = await setup();
    const file = tw.write(
      'mixed.ndjson',
      ndjson([
        { user_id: 'zed', event: 'view', time: t('03T10:00:00') },
        { device_id: 'd1', session_id: 's1', event: 'view', time: t('02T10:00:00') },
        { user_id: 'amy', event: 'view', time: t('04T10:00:00') },
        { event: 'view', time: t('01T10:00:00') },
        { user_id: 'zed', event: 'view', time: t('01T10:00:00') },
        { user_id: 'amy', session_id: 's9', event: 'view', time: t('01T09:00:00') },
        { device_id: 'd1', event: 'view', time: t('01T08:00:00') },
      ]),
    );
    await ws.import({ files: [file] });
    const stored = await ws.sql<{ p: string | null; at: string }>(`SELECT person_id AS p, strftime(occurred_at, '%dT%H') AS at FROM events ORDER BY rowid`);
    expect(stored.map((r) => `${r.p ?? '-'} ${r.at}`)).toEqual([
      'a:generic:d1 01T08',
      'a:generic:d1 02T10',
      'u:amy 01T09',
      'u:amy 04T10',
      'u:zed 01T10',
      'u:zed 03T10',
      '- 01T10',
    ]);
  });

  it('writes under the smaller memory limit and restores the configured one after, also when the write fails', async () => {
    const { tw, ws } = await setup('version: 1\nwarehouse:\n  engine: duckdb\n  memory_limit: 1GB\n');
    const session = ws.warehouse;
    const limit = async (): Promise<string> => (await ws.sql<{ v: string }>(`SELECT current_setting('memory_limit') AS v`))[0]!.v;
    expect(await limit()).toBe('953.6 MiB');
    expect(await withMemoryLimit(session, writeMemoryLimit(session.memoryLimit, 10_000_000), limit)).toBe('572.2 MiB');
    expect(await limit()).toBe('953.6 MiB');
    await expect(withMemoryLimit(session, '600MB', () => session.run('SELECT * FROM no_such_table'))).rejects.toThrow(/no_such_table/);
    expect(await limit()).toBe('953.6 MiB');
    // A small import keeps the configured limit throughout and leaves it as it was.
    await ws.import({ files: [tw.write('a.ndjson', ndjson([{ user_id: 'u1', event: 'view', time: t('01T10:00:00') }]))] });
    expect(await limit()).toBe('953.6 MiB');
    expect(await count(ws)).toBe(1);
  });

  it('keeps freed buffer blocks for reuse up to a quarter of the memory limit, and none without a limit', async () => {
    const kept = async (memoryLimit?: string): Promise<string> => {
      const s = await DuckdbSession.open({ path: ':memory:', ...(memoryLimit === undefined ? {} : { memoryLimit }) });
      try {
        const [row] = await s.all<{ b: string }>(`SELECT current_setting('block_allocator_memory') AS b`);
        return row!.b;
      } finally {
        s.close();
      }
    };
    expect(await kept('2GB')).toBe('476.8 MiB');
    expect(await kept()).toBe('0 bytes');
  });

  it('reads memory limits in every unit DuckDB takes, and leaves one it cannot read alone', () => {
    expect(scaledMemoryLimit('1GB', 0.6)).toBe('600MB');
    expect(scaledMemoryLimit('2 gb', 0.6)).toBe('1200MB');
    expect(scaledMemoryLimit('1.5GB', 0.6)).toBe('900MB');
    expect(scaledMemoryLimit('1GiB', 0.5)).toBe('536MB');
    expect(scaledMemoryLimit('512MiB', 0.6)).toBe('322MB');
    expect(scaledMemoryLimit('800KB', 0.6)).toBeNull();
    expect(scaledMemoryLimit('80%', 0.6)).toBeNull();
    expect(scaledMemoryLimit('lots', 0.6)).toBeNull();
    // Only large imports write under the smaller limit; without a configured limit DuckDB's default stays.
    expect(writeMemoryLimit('1GB', 999_999)).toBeNull();
    expect(writeMemoryLimit('1GB', 10_000_000)).toBe('600MB');
    expect(writeMemoryLimit(undefined, 10_000_000)).toBeNull();
  });

  it('records how many values the import masked, per field and kind, for the rows it wrote', async () => {
    const { tw, ws } = await setup();
    const file = tw.write(
      'pii.ndjson',
      ndjson([
        { user_id: 'u1', event: 'view', time: t('01T10:00:00'), url: 'https://app.example.com/a?email=anna@example.com' },
        { user_id: 'u1', event: 'view', time: t('01T10:01:00'), url: 'https://app.example.com/a?email=anna@example.com' },
        { user_id: 'u2', event: 'view', time: t('01T10:02:00'), url: 'https://app.example.com/b', note: 'call +44 20 7946 0958' },
      ]),
    );
    const r = await ws.import({ files: [file] });
    const expected = [
      { field: 'page_url', kind: 'email', values: 2 },
      { field: 'properties', kind: 'phone', values: 1 },
    ];
    const byField = (a: { field: string; kind: string }, b: { field: string; kind: string }): number => `${a.field} ${a.kind}`.localeCompare(`${b.field} ${b.kind}`);
    expect([...r.piiMasked].sort(byField)).toEqual(expected);
    const stored = await ws.sql<{ field: string; kind: string; values: string }>(`SELECT field, kind, "values" FROM import_pii_counts WHERE import_id = ${r.importId} ORDER BY field, kind`);
    expect(stored.map((c) => ({ field: c.field, kind: c.kind, values: Number(c.values) }))).toEqual(expected);
    // A re-import writes nothing, so it masked nothing.
    const again = await ws.import({ files: [file] });
    expect(again.piiMasked).toEqual([]);
  });
});

describe('import: progress', () => {
  it('has DuckDB track progress only for an import that reports it', async () => {
    const { tw, ws } = await setup();
    const progressOn = async (): Promise<unknown> => (await ws.sql<{ on: unknown }>(`SELECT current_setting('enable_progress_bar') AS on`))[0]!.on;
    const a = tw.write('a.ndjson', ndjson([{ user_id: 'u', event: 'a', time: '2024-03-31T02:30:00Z' }]));
    await ws.import({ files: [a] });
    // Tracking costs 2-3 % of an import's CPU (DuckDB works its progress out after every task).
    expect(await progressOn()).toBe(false);
    const b = tw.write('b.ndjson', ndjson([{ user_id: 'u', event: 'b', time: '2024-03-31T02:31:00Z' }]));
    const phases: string[] = [];
    await ws.import({ files: [b], onProgress: (p) => phases.push(p.phase) });
    expect(phases).toContain('reading');
    expect(await progressOn()).toBe(true);
  });
});
