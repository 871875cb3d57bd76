/**
 * Identity at import (docs/events.md "Identity"): the import's (anonymous_id, user_id) links are added to
 * identity_links, persons are re-resolved by union-find (events/identity-resolution.ts) and identity_map is rewritten;
 * anonymous-only events whose person changed are moved to the new person. Computed before the import's transaction
 * (planPersons), written inside it (writePersons). Identity works on ids as the warehouse
 * stores them: masked (docs/governance.md).
 */
import { resolveIdentities, type IdentityLink } from '../../events/identity-resolution.js';
import { LINK_COLUMNS, type WarehouseMasking } from '../../governance/pii-warehouse-masking.js';
import type { ValueMasks } from '../../governance/pii-value-masking.js';
import type { DuckdbSession } from './duckdb-connection.js';
import { sqlLiteral } from './duckdb-stage-context.js';
import { IDENTITY_MOVES, TOUCHED_SESSIONS } from './import-sessions.js';

/** Links a reader staged itself (e.g. Heap user migrations), with the source they belong to. */
export interface StagedLinks {
  readonly source: string;
  readonly relation: string;
  readonly file: string;
}

interface LinkRow {
  source: string;
  anonymous_id: string;
  user_id: string | null;
  other_anonymous_id: string | null;
  linked_us: string | null;
}

/** The identity links after this import, one row per link: written to identity_links by writePersons. */
const LINKS_AFTER = '_links_dedup';
/** identity_map after this import: the person of every (source, anonymous_id). */
export const NEW_IDENTITY_MAP = '_new_identity_map';

/**
 * Computes, without writing the warehouse, the identity links after this import — `pairs` (source, anonymous_id,
 * user_id, first_at: raw ids, masked here through `masks`) and the readers' own link relations added to
 * identity_links — and the persons they resolve to by union-find, into NEW_IDENTITY_MAP. It runs before the
 * import's transaction opens, so that the rows to insert can take their person before it too (insertion reads them
 * faster: import-insert.ts prepareNewRows). Returns the number of links refused because they would merge two user ids.
 */
export async function planPersons(
  session: DuckdbSession,
  pairs: string | undefined,
  masks: ValueMasks | undefined,
  readerLinks: readonly StagedLinks[],
  masking: WarehouseMasking,
): Promise<{ conflicts: number }> {
  const added: string[] = [];
  if (pairs !== undefined && masks !== undefined) {
    added.push(`SELECT source, anonymous_id, user_id, NULL AS other_anonymous_id, min(first_at) AS linked_at FROM (
        SELECT g.source, ${masks.column('anonymous_id', 'g')} AS anonymous_id, ${masks.column('user_id', 'g')} AS user_id, g.first_at
        FROM ${pairs} g ${masks.joins('g', ['anonymous_id', 'user_id'])})
      GROUP BY ALL`);
  }
  for (const l of readerLinks) {
    added.push(`SELECT ${sqlLiteral(l.source)}, anonymous_id, user_id, other_anonymous_id, linked_at FROM (${await masking.maskedRelation(l.relation, LINK_COLUMNS, l.file)})
      WHERE anonymous_id IS NOT NULL AND (user_id IS NOT NULL OR other_anonymous_id IS NOT NULL)`);
  }
  // One row per link (the earliest): re-imports and overlapping exports must not grow the table.
  await session.run(`CREATE OR REPLACE TEMP TABLE ${LINKS_AFTER} AS
    SELECT source, anonymous_id, user_id, other_anonymous_id, min(linked_at) AS linked_at FROM (
      SELECT source, anonymous_id, user_id, other_anonymous_id, linked_at FROM identity_links
      ${added.map((a) => `UNION ALL (${a})`).join('\n      ')}
    ) GROUP BY ALL`);

  const linkRows = await session.all<LinkRow>(
    `SELECT source, anonymous_id, user_id, other_anonymous_id, CAST(epoch_us(linked_at) AS VARCHAR) AS linked_us FROM ${LINKS_AFTER}`,
  );
  const links: IdentityLink[] = linkRows.map((r) => ({
    source: r.source,
    anonymousId: r.anonymous_id,
    userId: r.user_id,
    otherAnonymousId: r.other_anonymous_id,
    linkedAt: r.linked_us === null ? Number.MAX_SAFE_INTEGER : Number(r.linked_us),
  }));
  const resolution = resolveIdentities(links);

  await session.run(`CREATE OR REPLACE TEMP TABLE ${NEW_IDENTITY_MAP} (source VARCHAR, anonymous_id VARCHAR, person_id VARCHAR)`);
  const appender = await session.connection.createAppender(NEW_IDENTITY_MAP, 'main', 'temp');
  for (const [node, person] of resolution.personOfAnonymous) {
    // node is "a:<source>:<anonymous_id>"; sources never contain ":".
    const rest = node.slice(2);
    const cut = rest.indexOf(':');
    appender.appendVarchar(rest.slice(0, cut));
    appender.appendVarchar(rest.slice(cut + 1));
    appender.appendVarchar(person);
    appender.endRow();
  }
  appender.closeSync();
  return { conflicts: resolution.conflicts };
}

/**
 * Inside the import's transaction: rewrites identity_links and identity_map as planPersons computed them, and moves
 * existing anonymous-only events whose person changed to the new person (IDENTITY_MOVES records which, for
 * re-sessioning).
 */
export async function writePersons(session: DuckdbSession): Promise<void> {
  await session.run(`DELETE FROM identity_links`);
  await session.run(`INSERT INTO identity_links SELECT * FROM ${LINKS_AFTER}`);
  // Existing anonymous-only events whose person changed (e.g. a device identified in this import).
  await session.run(`CREATE OR REPLACE TEMP TABLE _changed_identity AS
    SELECT n.source, n.anonymous_id, n.person_id AS new_person, coalesce(o.person_id, 'a:' || n.source || ':' || n.anonymous_id) AS old_person
    FROM ${NEW_IDENTITY_MAP} n LEFT JOIN identity_map o USING (source, anonymous_id)
    WHERE o.person_id IS DISTINCT FROM n.person_id`);
  await session.run(`DELETE FROM identity_map`);
  await session.run(`INSERT INTO identity_map SELECT * FROM ${NEW_IDENTITY_MAP}`);
  const moved = `events.user_id IS NULL AND events.source = c.source AND events.anonymous_id = c.anonymous_id AND events.person_id IS DISTINCT FROM c.new_person`;
  // Who moved where, and the sessions of the moved events (their person changes): re-sessioned and rebuilt later.
  await session.run(`CREATE OR REPLACE TEMP TABLE ${IDENTITY_MOVES} AS
    SELECT DISTINCT events.person_id AS old_person, c.new_person, events.session_id FROM events, _changed_identity c WHERE ${moved}`);
  await session.run(`INSERT INTO ${TOUCHED_SESSIONS} SELECT DISTINCT session_id FROM ${IDENTITY_MOVES} WHERE session_id IS NOT NULL`);
  await session.run(`UPDATE events SET person_id = c.new_person FROM _changed_identity c WHERE ${moved}`);
  await session.run(`DROP TABLE _changed_identity`);
}

/** Drops planPersons' tables (after writePersons, or when the import fails). */
export async function dropPersonPlan(session: DuckdbSession): Promise<void> {
  await session.run(`DROP TABLE IF EXISTS ${LINKS_AFTER}`);
  await session.run(`DROP TABLE IF EXISTS ${NEW_IDENTITY_MAP}`);
}
