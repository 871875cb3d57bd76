/**
 * A generated warehouse for the analysis benchmarks: N events of N/100 people over 90 days, written straight into
 * `events` with SQL (no import), so a 10M-event warehouse takes seconds. Each person has ~100 events in
 * time order: a signup first, then product events with a funnel-like shape, page views over 20 cleaned paths,
 * clicks with occasional rage/dead/error signals, sessions of ~10 events.
 */
import { DuckdbSession } from '../warehouse/duckdb/duckdb-connection.js';
import { migrate } from '../warehouse/duckdb/migrations.js';


const PAGES = ['/', '/pricing', '/signup', '/onboarding', '/projects', '/projects/:id', '/projects/:id/settings', '/reports', '/reports/:id',
  '/reports/:id/export', '/team', '/team/invite', '/billing', '/billing/upgrade', '/settings', '/settings/profile', '/help', '/search', '/integrations', '/dashboard'];
const EVENTS = ['create_project', 'invite_teammate', 'upgrade', 'export_report', 'share_report', 'search', 'filter', 'comment', 'edit_project', 'delete_project'];

/**
 * Version of the generated data: bump it whenever fillAnalysisEvents changes what it writes, so cached copies
 * keyed by it (the ClickHouse copy, bench-clickhouse.ts) are rebuilt. Delete bench-data/analysis-*.duckdb then too.
 */
export const ANALYSIS_DATA_VERSION = 1;

export const BENCH_FUNNEL_STEPS = ['signup', 'create_project', 'invite_teammate', 'upgrade'];

export async function generateAnalysisWarehouse(path: string, events: number): Promise<void> {
  const session = await DuckdbSession.open({ path });
  try {
    await migrate(session);
    await fillAnalysisEvents(session, events);
    await session.run('CHECKPOINT');
  } finally {
    session.close();
  }
}

/** Inserts the generated events into a migrated warehouse (also used by tests that need volume, not exact data). */
export async function fillAnalysisEvents(session: DuckdbSession, events: number): Promise<void> {
  const people = Math.max(1, Math.floor(events / 100));
  const pages = `[${PAGES.map((p) => `'${p}'`).join(', ')}]`;
  const names = `[${EVENTS.map((p) => `'${p}'`).join(', ')}]`;
  // i → person i % P and its j-th event (j = i // P): time grows with j, so each person's events are ordered.
  await session.run(`INSERT INTO events (event_id, source, source_event_id, event_name, event_kind, occurred_at, rage_click, dead_click, error_click,
      person_id, session_id, import_id, page_path, device_type, element_text, element_selector, user_id)
    SELECT CAST(md5(CAST(i AS VARCHAR)) AS UUID), 'generic', CAST(i AS VARCHAR),
      CASE WHEN j = 0 THEN 'signup' WHEN r < 40 THEN '$pageview' WHEN r < 75 THEN 'click'
           ELSE ${names}[1 + CAST(((r - 75) * 4 + hash(i, 7) % 4) % 10 AS INTEGER)] END AS event_name,
      CASE WHEN j = 0 THEN 'custom' WHEN r < 40 THEN 'page_view' WHEN r < 75 THEN 'click' ELSE 'custom' END,
      TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(CAST(hash(p) % 2592000 AS BIGINT) + j * 50000 + CAST(hash(i, 3) % 3000 AS BIGINT)),
      r BETWEEN 50 AND 74 AND hash(i, 11) % 40 = 0, r BETWEEN 50 AND 74 AND hash(i, 13) % 30 = 0, r BETWEEN 50 AND 74 AND hash(i, 17) % 60 = 0,
      'u:' || p, 'u:' || p || ':' || (j // 10), 1,
      ${pages}[1 + CAST(hash(i, 5) % 20 AS INTEGER)],
      CASE WHEN p % 3 = 0 THEN 'mobile' ELSE 'desktop' END,
      CASE WHEN r BETWEEN 40 AND 74 THEN 'Button ' || CAST(hash(i, 19) % 12 AS VARCHAR) END,
      CASE WHEN r BETWEEN 40 AND 74 THEN 'button.b' || CAST(hash(i, 19) % 12 AS VARCHAR) END,
      CAST(p AS VARCHAR)
    FROM (SELECT i, i % ${people} AS p, i // ${people} AS j, CAST(hash(i) % 100 AS INTEGER) AS r FROM range(${events}) t(i))
    ORDER BY p, j`);
}
