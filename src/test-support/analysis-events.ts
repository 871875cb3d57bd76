/**
 * Test helper for analyses: an in-memory warehouse (migrated) and hand-made events inserted straight into
 * `events`, bypassing import, so each test states exactly the events it counts.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { DuckdbSession } from '../warehouse/duckdb/duckdb-connection.js';
import { migrate } from '../warehouse/duckdb/migrations.js';

/** Canonical columns a test may set, plus `properties` (any JSON object) and an explicit `event_id`. */
export interface TestEventFields {
  event_id?: string;
  session_id?: string | null;
  event_kind?: string;
  page_path?: string | null;
  device_type?: string | null;
  browser?: string | null;
  os?: string | null;
  country?: string | null;
  source?: string;
  rage_click?: boolean;
  dead_click?: boolean;
  error_click?: boolean;
  page_url?: string | null;
  element_text?: string | null;
  element_selector?: string | null;
  user_id?: string | null;
  anonymous_id?: string | null;
  properties?: Record<string, unknown>;
  user_properties?: Record<string, unknown>;
}

export interface TestEvent extends TestEventFields {
  person: string | null;
  at: string;
  name: string;
}

/** One event: person (null = no id), ISO instant (with Z or an offset), event name, other fields. */
export function ev(person: string | null, isoTime: string, eventName: string, fields: TestEventFields = {}): TestEvent {
  return { person, at: isoTime, name: eventName, ...fields };
}

export async function openTestWarehouse(): Promise<DuckdbSession> {
  const session = await DuckdbSession.open({ path: ':memory:', threads: 1 });
  await migrate(session);
  return session;
}

let counter = 0;

/** Inserts events with bound parameters; event ids default to distinct deterministic UUIDs in insertion order. */
export async function insertEvents(session: DuckdbSession, events: readonly TestEvent[]): Promise<void> {
  if (events.length === 0) return;
  const params: DuckDBValue[] = [];
  const p = (v: DuckDBValue): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const nullable = (v: string | null | undefined): string => (v === null || v === undefined ? 'NULL' : p(v));
  const rows = events.map((e) => {
    counter++;
    const id = e.event_id ?? `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
    const session = e.session_id === undefined ? (e.person === null ? null : `s-${e.person}`) : e.session_id;
    return `(CAST(${p(id)} AS UUID), ${p(e.source ?? 'generic')}, ${p(`test-${counter}`)}, ${p(e.name)}, ${p(e.event_kind ?? 'custom')},
      CAST(${p(e.at)} AS TIMESTAMPTZ), ${p(e.rage_click ?? false)}, ${p(e.dead_click ?? false)}, ${p(e.error_click ?? false)}, ${nullable(e.person)}, ${nullable(session)}, 1,
      ${nullable(e.page_path)}, ${nullable(e.device_type)}, ${nullable(e.browser)}, ${nullable(e.os)}, ${nullable(e.country)},
      CAST(${nullable(e.properties === undefined ? null : JSON.stringify(e.properties))} AS JSON),
      CAST(${nullable(e.user_properties === undefined ? null : JSON.stringify(e.user_properties))} AS JSON),
      ${nullable(e.page_url)}, ${nullable(e.element_text)}, ${nullable(e.element_selector)}, ${nullable(e.user_id)}, ${nullable(e.anonymous_id)})`;
  });
  await session.run(
    `INSERT INTO events (event_id, source, source_event_id, event_name, event_kind, occurred_at, rage_click, dead_click, error_click,
       person_id, session_id, import_id, page_path, device_type, browser, os, country, properties, user_properties,
       page_url, element_text, element_selector, user_id, anonymous_id)
     VALUES ${rows.join(',\n')}`,
    params,
  );
}

/** Tags a person (internal, bot) as governance would; analyses exclude tagged people by default. */
export async function tagPerson(session: DuckdbSession, personId: string, tag: string, rule = 'test'): Promise<void> {
  await session.run(`INSERT INTO person_tags VALUES ($1, $2, $3)`, [personId, tag, rule]);
}

/**
 * Writes `events` into a test workspace's warehouse and tags the `internal` people, through one open and close of
 * the workspace (what a test's beforeEach does before the command or analysis under test opens it again).
 */
export async function seedWorkspace(
  workspace: { open(): Promise<{ readonly warehouse: DuckdbSession; close(): void }> },
  events: readonly TestEvent[],
  internal: readonly string[] = [],
): Promise<void> {
  const w = await workspace.open();
  try {
    await insertEvents(w.warehouse, events);
    for (const person of internal) await tagPerson(w.warehouse, person, 'internal');
  } finally {
    w.close();
  }
}
