/**
 * Test helper: the same hand-made events in either warehouse engine, so an analysis test runs on DuckDB and on
 * ClickHouse and asserts the same numbers. ClickHouse is chDB in this process (one engine and database per test
 * file, emptied between tests); with CLICKHOUSE_URL set (and optionally CLICKHOUSE_USER, CLICKHOUSE_PASSWORD,
 * CLICKHOUSE_DATABASE) it is that server, in a database of its own that is dropped at the end.
 */
import { afterAll } from 'vitest';
import type { ClickhouseAnalysisSession, EngineSession, WarehouseEngine } from '../analyses/analysis-kind.js';
import { ChdbExecutor } from '../warehouse/clickhouse/chdb-executor.js';
import type { ClickhouseExecutor } from '../warehouse/clickhouse/clickhouse-executor.js';
import { migrateClickhouse } from '../warehouse/clickhouse/clickhouse-migrations.js';
import { ClickhouseServerExecutor } from '../warehouse/clickhouse/clickhouse-server-executor.js';
import { quoteClickhouseIdent, quoteClickhouseLiteral } from '../sql/quote.js';
import { EVENTS_TABLE } from '../warehouse/clickhouse/clickhouse-schema.js';
import type { DuckdbSession } from '../warehouse/duckdb/duckdb-connection.js';
import { insertEvents as insertDuckdbEvents, openTestWarehouse, tagPerson as tagDuckdbPerson, type TestEvent } from './analysis-events.js';

const ALL_ENGINES: readonly WarehouseEngine[] = ['duckdb', 'clickhouse'];

/**
 * The engines every analysis test case runs on: both, unless USAGELAB_TEST_ENGINES names a subset (CI reruns the
 * time-zone-sensitive suites under a second TZ on DuckDB alone; the first TZ rerun keeps both).
 */
export const ENGINES: readonly WarehouseEngine[] = selectedEngines(process.env.USAGELAB_TEST_ENGINES);

function selectedEngines(list: string | undefined): readonly WarehouseEngine[] {
  if (list === undefined || list.trim() === '') return ALL_ENGINES;
  const names = list.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(ALL_ENGINES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`USAGELAB_TEST_ENGINES: unknown engine(s) ${unknown.join(', ')}; use duckdb, clickhouse or both`);
  return ALL_ENGINES.filter((e) => names.includes(e));
}

/** A session of either engine that the test closes after use (ClickHouse: emptied, the engine kept for the file). */
export type TestSession = EngineSession & { close(): void };

let shared: Promise<ClickhouseExecutor> | undefined;
/** Statements that empty the tables a test writes, awaited by the next open (close() cannot be async in tests). */
let emptying: Promise<void> = Promise.resolve();

async function openClickhouse(): Promise<ClickhouseExecutor> {
  const url = process.env.CLICKHOUSE_URL;
  const executor =
    url === undefined || url === ''
      ? await ChdbExecutor.open()
      : await ClickhouseServerExecutor.open({
          url,
          user: process.env.CLICKHOUSE_USER ?? 'default',
          password: process.env.CLICKHOUSE_PASSWORD,
          database: process.env.CLICKHOUSE_DATABASE ?? `usagelab_test_${process.pid}_${Date.now()}`,
        });
  await migrateClickhouse(executor);
  return executor;
}

/** The ClickHouse executor of this test file (created and migrated on first use). */
export function testClickhouse(): Promise<ClickhouseExecutor> {
  shared ??= openClickhouse();
  return shared;
}

// Registered when a test file imports this module, so it runs after that file's tests: a live server's test
// database is dropped, chDB is closed.
afterAll(async () => {
  if (shared === undefined) return;
  const executor = await shared;
  shared = undefined;
  await emptying.catch(() => undefined);
  if (executor.transport === 'server') await executor.command(`DROP DATABASE IF EXISTS ${quoteClickhouseIdent(executor.database)}`);
  await executor.close();
});

const TRUNCATED = ['events', 'person_tags', 'identity_map', 'sessions'];

export async function openEngineWarehouse(engine: WarehouseEngine): Promise<TestSession> {
  if (engine === 'duckdb') return openTestWarehouse();
  const executor = await testClickhouse();
  await emptying;
  const session: ClickhouseAnalysisSession & { close(): void } = {
    engine: 'clickhouse',
    clickhouse: executor,
    close() {
      emptying = (async () => {
        for (const t of TRUNCATED) await executor.command(`TRUNCATE TABLE IF EXISTS ${quoteClickhouseIdent(t)}`);
      })();
    },
  };
  return session;
}

let counter = 0;

/** The events columns and types (no codecs), for reading JSONEachRow text. */
const EVENTS_STRUCTURE = EVENTS_TABLE.columns.map((c) => c.replace(/ CODEC\(.*\)$/, '')).join(', ');

/** A TestEvent as a row of the ClickHouse events table (defaults as in analysis-events.ts). */
function clickhouseRow(e: TestEvent): Record<string, unknown> {
  counter++;
  const id = e.event_id ?? `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
  const session = e.session_id === undefined ? (e.person === null ? null : `s-${e.person}`) : e.session_id;
  return {
    event_id: id,
    source: e.source ?? 'generic',
    source_event_id: `test-${counter}`,
    event_name: e.name,
    event_kind: e.event_kind ?? 'custom',
    occurred_at: e.at,
    received_at: null,
    user_id: e.user_id ?? null,
    anonymous_id: e.anonymous_id ?? null,
    vendor_session_id: null,
    page_url: e.page_url ?? null,
    page_path: e.page_path ?? null,
    referrer: null,
    element_text: e.element_text ?? null,
    element_selector: e.element_selector ?? null,
    rage_click: e.rage_click ?? false,
    dead_click: e.dead_click ?? false,
    error_click: e.error_click ?? false,
    device_type: e.device_type ?? null,
    browser: e.browser ?? null,
    os: e.os ?? null,
    country: e.country ?? null,
    properties: e.properties === undefined ? null : JSON.stringify(e.properties),
    user_properties: e.user_properties === undefined ? null : JSON.stringify(e.user_properties),
    person_id: e.person,
    session_id: session,
    import_id: 1,
  };
}

/** Inserts events into the session's warehouse; the rows travel as one bound parameter (JSONEachRow text). */
export async function insertEvents(session: EngineSession, events: readonly TestEvent[]): Promise<void> {
  if (session.engine !== 'clickhouse') return insertDuckdbEvents(session as DuckdbSession, events);
  if (events.length === 0) return;
  const data = events.map((e) => JSON.stringify(clickhouseRow(e))).join('\n');
  // The instants as written in the test (offsets and microseconds included), read as DuckDB reads them.
  await session.clickhouse.command(
    `INSERT INTO events SELECT * FROM format(JSONEachRow, ${quoteClickhouseLiteral(EVENTS_STRUCTURE)}, {rows:String}) SETTINGS date_time_input_format = 'best_effort'`,
    { rows: data },
  );
}

export async function tagPerson(session: EngineSession, personId: string, tag: string, rule = 'test'): Promise<void> {
  if (session.engine !== 'clickhouse') return tagDuckdbPerson(session as DuckdbSession, personId, tag, rule);
  await session.clickhouse.command('INSERT INTO person_tags (person_id, tag, rule) VALUES ({p:String}, {t:String}, {r:String})', { p: personId, t: tag, r: rule });
}
