/**
 * Warehouse retention: deletes the events that occurred before the cutoff, in one transaction, and brings what
 * depends on them along — the sessions that lost events are recomputed from what remains, identity links and map
 * entries that no remaining event needs are removed, e-mail domains of users without events are removed, and person
 * tags are derived again. Killed half-way, DuckDB rolls the transaction back: nothing or everything is deleted.
 */
import type { ExclusionsConfig } from '../core/governance-config-schema.js';
import { quoteLiteral } from '../sql/quote.js';
import { derivePersonTags } from './person-tagging.js';
import type { SqlSession } from './pii-warehouse-masking.js';

export interface SourceDeletion {
  readonly source: string;
  readonly events: number;
  /** Oldest and newest deleted event, ISO UTC. */
  readonly first_event: string;
  readonly last_event: string;
}

export interface WarehouseRetentionResult {
  /** Events before this instant are (or would be) deleted. */
  readonly before: string;
  readonly events: number;
  readonly sources: readonly SourceDeletion[];
  /** Sessions that lost events and were recomputed (or removed when none remained). */
  readonly sessions_recomputed: number;
  readonly identity_links_removed: number;
  readonly identity_map_removed: number;
  readonly email_domains_removed: number;
}

const cutoffSql = (before: number): string => `CAST(${quoteLiteral(new Date(before).toISOString())} AS TIMESTAMPTZ)`;

async function countOf(session: SqlSession, sql: string): Promise<number> {
  const rows = await session.all<{ n: number | string | null }>(sql);
  return Number(rows[0]?.n ?? 0);
}

/** What would be deleted, per source (nothing is changed). */
export async function warehouseRetentionPlan(session: SqlSession, before: number): Promise<SourceDeletion[]> {
  const rows = await session.all<{ source: string; events: number | string; first_event: string; last_event: string }>(
    `SELECT source, count(*) AS events, strftime(min(occurred_at), '%Y-%m-%dT%H:%M:%SZ') AS first_event, strftime(max(occurred_at), '%Y-%m-%dT%H:%M:%SZ') AS last_event
     FROM events WHERE occurred_at < ${cutoffSql(before)} GROUP BY source ORDER BY source`,
  );
  return rows.map((r) => ({ source: r.source, events: Number(r.events), first_event: r.first_event, last_event: r.last_event }));
}

interface LinkRow {
  source: string;
  anonymous_id: string;
  user_id: string | null;
  other_anonymous_id: string | null;
}

/**
 * The (source, anonymous_id) nodes of identity components no remaining event touches. Links matter only through
 * the devices of remaining events; a component (user ids and devices joined by links) without any such device can
 * go whole, and removing whole components leaves every remaining event's person as it was.
 */
async function unusedIdentityNodes(session: SqlSession): Promise<{ source: string; anonymous_id: string }[]> {
  const links = await session.all<LinkRow>(`SELECT source, anonymous_id, user_id, other_anonymous_id FROM identity_links`);
  const mapped = await session.all<{ source: string; anonymous_id: string }>(`SELECT source, anonymous_id FROM identity_map`);
  if (links.length === 0 && mapped.length === 0) return [];
  const present = new Set(
    (await session.all<{ source: string; anonymous_id: string }>(`SELECT DISTINCT source, anonymous_id FROM events WHERE anonymous_id IS NOT NULL`)).map(
      (r) => `a\u001f${r.source}\u001f${r.anonymous_id}`,
    ),
  );
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== undefined && parent.get(root) !== root) root = parent.get(root)!;
    let node = x;
    while (node !== root) {
      const next = parent.get(node)!;
      parent.set(node, root);
      node = next;
    }
    if (!parent.has(root)) parent.set(root, root);
    return root;
  };
  const union = (a: string, b: string): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  };
  const node = (source: string, anon: string): string => `a\u001f${source}\u001f${anon}`;
  for (const l of links) {
    const a = node(l.source, l.anonymous_id);
    find(a);
    if (l.user_id !== null) union(a, `u\u001f${l.user_id}`);
    if (l.other_anonymous_id !== null) union(a, node(l.source, l.other_anonymous_id));
  }
  for (const m of mapped) find(node(m.source, m.anonymous_id));
  const kept = new Set<string>();
  for (const p of present) if (parent.has(p)) kept.add(find(p));
  const unused: { source: string; anonymous_id: string }[] = [];
  for (const n of parent.keys()) {
    if (!n.startsWith('a\u001f') || kept.has(find(n))) continue;
    const [, source, anonymous_id] = n.split('\u001f') as [string, string, string];
    unused.push({ source, anonymous_id });
  }
  return unused;
}

/** Deletes events before `before` and recomputes what depends on them; the caller holds no transaction. */
export async function applyWarehouseRetention(session: SqlSession, before: number, exclusions: ExclusionsConfig, key: string | undefined): Promise<WarehouseRetentionResult> {
  const cutoff = cutoffSql(before);
  await session.run('BEGIN TRANSACTION');
  try {
    const sources = await warehouseRetentionPlan(session, before);
    const events = sources.reduce((n, s) => n + s.events, 0);
    let sessions = 0;
    let linksRemoved = 0;
    let mapRemoved = 0;
    let domainsRemoved = 0;
    if (events > 0) {
      await session.run(`CREATE OR REPLACE TEMP TABLE _ul_ret_sessions AS SELECT DISTINCT session_id FROM events WHERE occurred_at < ${cutoff} AND session_id IS NOT NULL`);
      sessions = await countOf(session, `SELECT count(*) AS n FROM _ul_ret_sessions`);
      await session.run(`DELETE FROM events WHERE occurred_at < ${cutoff}`);
      // The same aggregate the import builds sessions with, for the sessions that lost events.
      await session.run(`DELETE FROM sessions WHERE session_id IN (SELECT session_id FROM _ul_ret_sessions)`);
      await session.run(`INSERT INTO sessions
        SELECT session_id, arg_min(person_id, occurred_at), arg_min(source, occurred_at), min(occurred_at), max(occurred_at), count(*),
          count(*) FILTER (WHERE event_kind IN ('page_view', 'screen_view')),
          arg_min(page_path, occurred_at) FILTER (WHERE page_path IS NOT NULL),
          arg_min(device_type, occurred_at) FILTER (WHERE device_type IS NOT NULL)
        FROM events WHERE session_id IN (SELECT session_id FROM _ul_ret_sessions) GROUP BY session_id`);
      await session.run(`DROP TABLE _ul_ret_sessions`);

      const unused = await unusedIdentityNodes(session);
      if (unused.length > 0) {
        await session.run(`CREATE OR REPLACE TEMP TABLE _ul_ret_nodes (source VARCHAR, anonymous_id VARCHAR)`);
        for (let i = 0; i < unused.length; i += 500) {
          const batch = unused.slice(i, i + 500);
          await session.run(`INSERT INTO _ul_ret_nodes VALUES ${batch.map((_, j) => `($${2 * j + 1}, $${2 * j + 2})`).join(', ')}`, batch.flatMap((u) => [u.source, u.anonymous_id]));
        }
        const before = await countOf(session, `SELECT count(*) AS n FROM identity_links`);
        await session.run(`DELETE FROM identity_links l WHERE EXISTS (SELECT 1 FROM _ul_ret_nodes d WHERE d.source = l.source AND d.anonymous_id = l.anonymous_id)`);
        linksRemoved = before - (await countOf(session, `SELECT count(*) AS n FROM identity_links`));
        const mapBefore = await countOf(session, `SELECT count(*) AS n FROM identity_map`);
        await session.run(`DELETE FROM identity_map m WHERE EXISTS (SELECT 1 FROM _ul_ret_nodes d WHERE d.source = m.source AND d.anonymous_id = m.anonymous_id)`);
        mapRemoved = mapBefore - (await countOf(session, `SELECT count(*) AS n FROM identity_map`));
        await session.run(`DROP TABLE _ul_ret_nodes`);
      }
      const domainsBefore = await countOf(session, `SELECT count(*) AS n FROM user_email_domains`);
      await session.run(`DELETE FROM user_email_domains d WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.user_id = d.user_id)`);
      domainsRemoved = domainsBefore - (await countOf(session, `SELECT count(*) AS n FROM user_email_domains`));
      // Rates and user agents are judged on what remains; people without events keep no tag.
      await derivePersonTags(session, exclusions, key, { kind: 'all' });
    }
    await session.run('COMMIT');
    return {
      before: new Date(before).toISOString(),
      events,
      sources,
      sessions_recomputed: sessions,
      identity_links_removed: linksRemoved,
      identity_map_removed: mapRemoved,
      email_domains_removed: domainsRemoved,
    };
  } catch (err) {
    await session.run('ROLLBACK');
    throw err;
  }
}
