import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { testClickhouse } from '../../test-support/engine-warehouse.js';
import { ev, insertEvents, tagPerson } from '../../test-support/analysis-events.js';
import { parseConfigText } from '../../core/config-load.js';
import { DuckdbSession } from '../duckdb/duckdb-connection.js';
import { migrate } from '../duckdb/migrations.js';
import { importFiles } from '../duckdb/duckdb-import.js';
import type { ClickhouseExecutor } from './clickhouse-executor.js';
import { syncToClickhouse, type SyncResult } from './clickhouse-sync.js';
import { EVENT_COLUMNS } from '../../events/canonical-event.js';
import { runOnEngine, type ClickhouseAnalysisSession } from '../../analyses/analysis-kind.js';
import { trendsAnalysis } from '../../analyses/trends/trends-analysis.js';
import { segmentAnalysis } from '../../analyses/segment/segment-analysis.js';
import { parseTrendsDefinition } from '../../analyses/trends/trends-definition.js';
import { parseSegmentDefinition } from '../../analyses/segment/segment-definition.js';

let ch: ClickhouseExecutor;
let duck: DuckdbSession;
let tmp: string;
beforeAll(async () => {
  ch = await testClickhouse();
  tmp = mkdtempSync(join(tmpdir(), 'usagelab-sync-'));
  duck = await DuckdbSession.open({ path: ':memory:', threads: 1 });
  await migrate(duck);
});
afterAll(() => {
  duck.close();
  rmSync(tmp, { recursive: true, force: true });
});

const sync = (): Promise<SyncResult> => syncToClickhouse(duck, ch, { tmpDir: join(tmp, 'chunks'), chunkBytes: '1KB' });
const summary = (r: SyncResult, table: string): unknown => r.tables.find((t) => t.table === table);

/** Every event column of both warehouses as comparable text, in event id order. */
async function bothEvents(): Promise<[unknown[], unknown[]]> {
  const cols = EVENT_COLUMNS.map((c) => c.name);
  const duckRows = await duck.all<Record<string, unknown>>(
    `SELECT ${cols.map((c) => (['occurred_at', 'received_at'].includes(c) ? `strftime(${c}, '%Y-%m-%d %H:%M:%S.%f') AS ${c}` : `CAST(${c} AS VARCHAR) AS ${c}`)).join(', ')} FROM events ORDER BY CAST(event_id AS VARCHAR)`,
  );
  const chRows = await ch.query<Record<string, unknown>>(
    `SELECT ${cols.map((c) => (['occurred_at', 'received_at'].includes(c) ? `formatDateTime(${c}, '%Y-%m-%d %H:%i:%S.%f') AS ${c}` : `CAST(${c} AS Nullable(String)) AS ${c}`)).join(', ')} FROM events ORDER BY toString(event_id)`,
  );
  return [duckRows, chRows];
}

describe('loading ClickHouse from DuckDB', () => {
  it('copies an import (every column exact), sends nothing when nothing changed, and only the changed months after a change', async () => {
    const config = parseConfigText('version: 1\ntimezone: UTC\n', 'usagelab.yaml', {}).config;
    await importFiles(duck, config, { files: [resolve('src/sources/amplitude/__fixtures__/export-events.jsonl')] }, tmp);
    await insertEvents(duck, [ev('p-jan', '2024-01-15T10:00:00Z', 'signup', { properties: { plan: 'pro', n: 5.5 } }), ev('p-jan', '2024-02-01T00:00:00Z', 'view')]);
    await tagPerson(duck, 'p-jan', 'internal');
    const [n] = await duck.all<{ n: string; months: string }>(`SELECT count(*) AS n, count(DISTINCT strftime(occurred_at, '%Y%m')) AS months FROM events`);

    const first = await sync();
    expect(summary(first, 'events')).toEqual({ table: 'events', rows: Number(n!.n), sent: Number(n!.months), unchanged: 0, dropped: 0 });
    expect(summary(first, 'person_tags')).toEqual({ table: 'person_tags', rows: 1, sent: 1, unchanged: 0, dropped: 0 });
    const [a, b] = await bothEvents();
    expect(b).toEqual(a);

    const again = await sync();
    expect(again.rows_sent).toBe(0);
    expect(summary(again, 'events')).toMatchObject({ sent: 0, unchanged: Number(n!.months) });

    // An identity merge rewrites old events: the month they are in is resent whole, without duplicates.
    await duck.run(`UPDATE events SET person_id = 'p-merged' WHERE person_id = 'p-jan' AND occurred_at < '2024-02-01'`);
    const changed = await sync();
    expect(summary(changed, 'events')).toMatchObject({ sent: 1, unchanged: Number(n!.months) - 1, dropped: 0 });
    expect(changed.rows_sent).toBe(1);
    const [c, d] = await bothEvents();
    expect(d).toEqual(c);

    // A month deleted from DuckDB (retention) is dropped from ClickHouse.
    const [old] = await duck.all<{ months: string }>(`SELECT count(DISTINCT strftime(occurred_at, '%Y%m')) AS months FROM events WHERE occurred_at < '2024-02-01'`);
    expect(Number(old!.months)).toBeGreaterThan(0);
    await duck.run(`DELETE FROM events WHERE occurred_at < '2024-02-01'`);
    const dropped = await sync();
    expect(summary(dropped, 'events')).toMatchObject({ dropped: Number(old!.months), sent: 0 });
    const [e, f] = await bothEvents();
    expect(f).toEqual(e);
  });

  it('gives the analyses the same answers on both warehouses after a load', async () => {
    const session: ClickhouseAnalysisSession = { engine: 'clickhouse', clickhouse: ch };
    const trends = parseTrendsDefinition({ kind: 'trends', name: 't', measure: 'people', interval: 'week', breakdown: 'country', exclude: [] });
    const options = { timezone: 'Europe/Amsterdam' };
    const fromDuck = await trendsAnalysis.run(duck, trends, options);
    expect(fromDuck.series.length).toBeGreaterThan(0);
    expect(await runOnEngine(trendsAnalysis, session, trends, options)).toEqual(fromDuck);
    const segment = parseSegmentDefinition({ kind: 'segment', name: 's', did: [{ event: 'view' }] });
    expect(await runOnEngine(segmentAnalysis, session, segment, { ...options, listPeople: 10 } as never)).toEqual(await segmentAnalysis.run(duck, segment, { ...options, listPeople: 10 } as never));
  });
});
