/**
 * Identity at import (docs/events.md "Identity"): the import's (anonymous_id, user_id) links are added to
 * identity_links, persons are re-resolved by union-find (events/identity-resolution.ts) and identity_map is rewritten;
 * anonymous-only events whose person changed are moved to the new person. Identity works on ids as the warehouse
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

/**
 * Adds the import's links — `pairs` (source, anonymous_id, user_id, first_at: raw ids, masked here through `masks`)
 * and the readers' own link relations — re-resolves persons, rewrites identity_map, moves existing events to their
 * new person (IDENTITY_MOVES records which, for re-sessioning). Returns the number of links refused because they
 * would merge two user ids.
 */
export async function resolvePersons(
  session: DuckdbSession,
  pairs: string | undefined,
  masks: ValueMasks | undefined,
  readerLinks: readonly StagedLinks[],
  masking: WarehouseMasking,
): Promise<{ conflicts: number }> {
  if (pairs !== undefined && masks !== undefined) {
    await session.run(`INSERT INTO identity_links
      SELECT source, anonymous_id, user_id, NULL, min(first_at) FROM (
        SELECT g.source, ${masks.column('anonymous_id', 'g')} AS anonymous_id, ${masks.column('user_id', 'g')} AS user_id, g.first_at
        FROM ${pairs} g ${masks.joins('g', ['anonymous_id', 'user_id'])})
      GROUP BY ALL`);
  }
  for (const l of readerLinks) {
    await session.run(`INSERT INTO identity_links
      SELECT ${sqlLiteral(l.source)}, anonymous_id, user_id, other_anonymous_id, linked_at FROM (${await masking.maskedRelation(l.relation, LINK_COLUMNS, l.file)})
      WHERE anonymous_id IS NOT NULL AND (user_id IS NOT NULL OR other_anonymous_id IS NOT NULL)`);
  }
  // Keep one row per link (the earliest): re-imports and overlapping exports must not grow the table.
  await session.run(`CREATE OR REPLACE TEMP TABLE _links_dedup AS
    SELECT source, anonymous_id, user_id, other_anonymous_id, min(linked_at) AS linked_at FROM identity_links GROUP BY ALL`);
  await session.run(`DELETE FROM identity_links`);
  await session.run(`INSERT INTO identity_links SELECT * FROM _links_dedup`);
  await session.run(`DROP TABLE _links_dedup`);

  const linkRows = await session.all<LinkRow>(
    `SELECT source, anonymous_id, user_id, other_anonymous_id, CAST(epoch_us(linked_at) AS VARCHAR) AS linked_us FROM identity_links`,
  );
  const links: IdentityLink[] = linkRows.map((r) => ({
    source: r.source,
    anonymousId: r.anonymous_id,
    userId: r.user_id,
    otherAnonymousId: r.other_anonymous_id,
    linkedAt: r.linked_us === null ? Number.MAX_SAFE_INTEGER : Number(r.linked_us),
  }));
  const resolution = resolveIdentities(links);

  await session.run(`CREATE OR REPLACE TEMP TABLE _new_identity_map (source VARCHAR, anonymous_id VARCHAR, person_id VARCHAR)`);
  const appender = await session.connection.createAppender('_new_identity_map', 'main', 'temp');
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

  // Existing anonymous-only events whose person changed (e.g. a device identified in this import).
  await session.run(`CREATE OR REPLACE TEMP TABLE _changed_identity AS
    SELECT n.source, n.anonymous_id, n.person_id AS new_person, coalesce(o.person_id, 'a:' || n.source || ':' || n.anonymous_id) AS old_person
    FROM _new_identity_map n LEFT JOIN identity_map o USING (source, anonymous_id)
    WHERE o.person_id IS DISTINCT FROM n.person_id`);
  await session.run(`DELETE FROM identity_map`);
  await session.run(`INSERT INTO identity_map SELECT * FROM _new_identity_map`);
  const moved = `events.user_id IS NULL AND events.source = c.source AND events.anonymous_id = c.anonymous_id AND events.person_id IS DISTINCT FROM c.new_person`;
  // Who moved where, and the sessions of the moved events (their person changes): re-sessioned and rebuilt later.
  await session.run(`CREATE OR REPLACE TEMP TABLE ${IDENTITY_MOVES} AS
    SELECT DISTINCT events.person_id AS old_person, c.new_person, events.session_id FROM events, _changed_identity c WHERE ${moved}`);
  await session.run(`INSERT INTO ${TOUCHED_SESSIONS} SELECT DISTINCT session_id FROM ${IDENTITY_MOVES} WHERE session_id IS NOT NULL`);
  await session.run(`UPDATE events SET person_id = c.new_person FROM _changed_identity c WHERE ${moved}`);
  await session.run(`DROP TABLE _changed_identity`);
  await session.run(`DROP TABLE _new_identity_map`);
  return { conflicts: resolution.conflicts };
}
