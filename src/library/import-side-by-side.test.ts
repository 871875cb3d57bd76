/**
 * An import of several files stages them side by side, each on a connection of its own
 * (src/warehouse/duckdb/import-staging.ts). What it writes must not depend on that: the demo's exports — all six
 * tools, Amplitude zips and Heap's sync folder, GA4 intraday tables duplicating daily ones, records the readers
 * quarantine — are imported one file at a time (warehouse.threads: 1) and four at a time, and every row compared.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { generateDemo } from '../demo/generate-demo.js';
import { UsageLabError } from '../core/errors.js';
import { tempWorkspace, type TempWorkspace } from '../test-support/temp-workspace.js';
import type { ImportResult } from '../warehouse/duckdb/duckdb-import.js';
import type { Workspace } from './workspace.js';

const config = (threads: number): string => `version: 1\nwarehouse:\n  engine: duckdb\n  threads: ${threads}\npii:\n  hash_key: side-by-side-test-key-0123456789abcdef\n`;

let exportsRoot: TempWorkspace;
let files: string[];
const opened: { tw: TempWorkspace; ws: Workspace }[] = [];

async function workspace(threads: number): Promise<Workspace> {
  const tw = tempWorkspace(config(threads));
  const ws = await tw.open();
  opened.push({ tw, ws });
  return ws;
}

/** Every row of a table as text, sorted: equal dumps are equal tables. */
async function dump(ws: Workspace, sql: string): Promise<string[]> {
  const rows = await ws.sql<Record<string, unknown>>(sql);
  return rows.map((r) => JSON.stringify(r)).sort();
}

beforeAll(async () => {
  exportsRoot = tempWorkspace();
  const manifest = await generateDemo(exportsRoot.dir, { people: 50, months: 2, seed: 11, now: new Date('2026-11-28T00:00:00Z'), parallel: false });
  files = [];
  for (const [tool, names] of Object.entries(manifest.files)) {
    if (tool === 'heap') files.push(join(manifest.exportsDir, 'heap'));
    else for (const name of names) files.push(join(manifest.exportsDir, tool, name));
  }
  // Records no reader can take, in two files among the others: their quarantine lines must stay with their file.
  const bad = (name: string, line: string): string =>
    exportsRoot.write(name, [JSON.stringify({ user_id: 'u', event: 'ok', time: 1790000000 }), line, JSON.stringify({ user_id: 'u', time: 1790000001 })].join('\n'));
  files.splice(5, 0, bad('bad-a.ndjson', 'not json'));
  files.push(bad('bad-b.ndjson', '{"user_id": "u", "event": "late", "time": "yesterday"}'));
}, 300_000);

afterAll(() => {
  for (const { tw, ws } of opened) {
    ws.close();
    tw.cleanup();
  }
  exportsRoot?.cleanup();
});

const comparable = (r: ImportResult): unknown => ({ ...r, durationMs: 0 });

describe('an import of several files, staged side by side', () => {
  it('writes exactly what staging one file at a time writes', async () => {
    const one = await workspace(1);
    const four = await workspace(4);
    const a = await one.import({ files, skipEmpty: true });
    const b = await four.import({ files, skipEmpty: true });
    // The demo's files exercise what side-by-side staging must keep apart: many files, zips, quarantine, duplicates.
    expect(files.length).toBeGreaterThan(60);
    expect(a.rejected).toBe(4);
    expect(a.duplicates).toBeGreaterThan(0);
    expect(new Set(a.files.filter((f) => f.skipped === null).map((f) => f.source))).toEqual(new Set(['amplitude', 'fullstory', 'ga4', 'heap', 'mixpanel', 'posthog', 'generic']));
    expect(comparable(b)).toEqual(comparable(a));
    const events = `SELECT * EXCLUDE (import_id) FROM events`;
    expect(await dump(four, events)).toEqual(await dump(one, events));
    expect(await dump(four, 'SELECT * FROM sessions')).toEqual(await dump(one, 'SELECT * FROM sessions'));
    const filesSql = 'SELECT * EXCLUDE (import_id) FROM import_files';
    expect(await dump(four, filesSql)).toEqual(await dump(one, filesSql));
    expect(await dump(four, 'SELECT * EXCLUDE (import_id) FROM quarantine')).toEqual(await dump(one, 'SELECT * EXCLUDE (import_id) FROM quarantine'));
    // Nothing of the staging stays: the scratch database is detached, the other connections are closed.
    expect(await four.sql(`SELECT database_name FROM duckdb_databases() WHERE database_name = '_ul_import'`)).toEqual([]);
  }, 300_000);

  it('--strict skips the same files, and only those, either way', async () => {
    const bad = files.filter((f) => f.endsWith('.ndjson') && f.includes('bad-'));
    const some = [...files.filter((f) => !bad.includes(f)).slice(0, 12), ...bad];
    const a = await (await workspace(1)).import({ files: some, skipEmpty: true, strict: true });
    const b = await (await workspace(4)).import({ files: some, skipEmpty: true, strict: true });
    expect(a.files.filter((f) => f.skipped?.startsWith('--strict')).map((f) => f.path)).toEqual(bad);
    expect(comparable(b)).toEqual(comparable(a));
  }, 300_000);

  it('fails with the first failing file’s error, as one at a time would, and writes nothing', async () => {
    const ws = await workspace(4);
    const gz = files.filter((f) => /\/ga4\/events_\d+\.ndjson\.gz$/.test(f));
    // Two damaged copies (same names, other folders): their gzip streams end early, past the head the probe reads.
    const cut = (from: string, folder: string): string => {
      mkdirSync(join(exportsRoot.dir, folder));
      const path = join(exportsRoot.dir, folder, basename(from));
      const bytes = readFileSync(from);
      writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * 0.9)));
      return path;
    };
    const good = gz[0]!;
    const list = [good, cut(gz[1]!, 'cut-1'), cut(gz[2]!, 'cut-2'), ...gz.slice(3, 8)];
    let error: unknown;
    try {
      await ws.import({ files: list });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageLabError);
    expect((error as UsageLabError).code).toBe('import_file_corrupt');
    expect((error as UsageLabError).place?.file).toBe(list[1]);
    expect(await ws.sql(`SELECT count(*)::INT AS n FROM events`)).toEqual([{ n: 0 }]);
    expect(await ws.sql(`SELECT database_name FROM duckdb_databases() WHERE database_name = '_ul_import'`)).toEqual([]);
    // Re-running without the damaged files imports them.
    const r = await ws.import({ files: [good, ...gz.slice(3, 8)] });
    expect(r.imported).toBeGreaterThan(0);
  }, 300_000);
});
