import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../warehouse/duckdb/migrations.js';
import { DuckdbSession } from '../warehouse/duckdb/duckdb-connection.js';
import { engineReaderSql, loadFloor, storeFloor } from './engine-floor.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ul-floor-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('engine floors', () => {
  it("names DuckDB's reader of each format over every file, paths quoted", () => {
    expect(engineReaderSql('parquet', ['/a/x.parquet', "/b/it's.parquet"])).toBe(`read_parquet(['/a/x.parquet', '/b/it''s.parquet'])`);
    expect(engineReaderSql('ndjson', ['/a/d1.json'])).toBe(`read_ndjson(['/a/d1.json'])`);
    expect(engineReaderSql('csv', ['/a/e.csv'])).toBe(`read_csv(['/a/e.csv'], header = true)`);
  });

  it('loads every row of several input files, and leaves no database file behind', async () => {
    const files = [join(dir, 'day-1.json'), join(dir, 'day-2.json')];
    writeFileSync(files[0]!, '{"event_type":"a","n":1}\n{"event_type":"b","n":2}\n');
    writeFileSync(files[1]!, '{"event_type":"c","n":3}\n');
    const load = await loadFloor(dir, 'ndjson', files, '256MB');
    expect(load.rows).toBe(3);
    expect(load.seconds).toBeGreaterThan(0);
    const csv = join(dir, 'events.csv');
    writeFileSync(csv, 'user,event\nu1,a\nu2,b\n');
    expect((await loadFloor(dir, 'csv', [csv], '256MB')).rows).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(['day-1.json', 'day-2.json', 'events.csv']);
  });

  it('copies every event of a warehouse, which it leaves as it was', async () => {
    const warehouse = join(dir, 'warehouse.duckdb');
    const w = await DuckdbSession.open({ path: warehouse });
    await migrate(w);
    await w.run(`INSERT INTO events (event_id, source, source_event_id, event_name, event_kind, occurred_at, rage_click, dead_click, error_click, import_id)
      SELECT uuid(), 'posthog', 'e' || range, 'e' || range, 'custom', now(), false, false, false, 1 FROM range(5)`);
    w.close();
    const store = await storeFloor(dir, warehouse, '256MB');
    expect(store.rows).toBe(5);
    const again = await DuckdbSession.open({ path: warehouse });
    expect(await again.all(`SELECT count(*)::INTEGER AS n FROM events`)).toEqual([{ n: 5 }]);
    again.close();
    expect(readdirSync(dir)).toEqual(['warehouse.duckdb']);
  });
});
