/**
 * Sessions at import (docs/events.md "Sessions"). A vendor session id is keyed with the device (or user); other
 * events of a person are cut into sessions by inactivity, never split at midnight. Only what an import touches is
 * recomputed: the new rows get their session as they are written, the people who already had events (or whose
 * identity changed) are re-sessioned over all their events, and only the touched rows of `sessions` are rebuilt —
 * an import costs what it brings, not what the warehouse holds.
 */
import type { DuckdbSession } from './duckdb-connection.js';

/** The session of an event with a vendor session id: that id keyed with the device (or user). */
export function vendorSessionIdSql(g: string): string {
  return `'s:' || md5(${g}.source || chr(31) || coalesce(${g}.anonymous_id, ${g}.user_id, '') || chr(31) || ${g}.vendor_session_id)`;
}

/**
 * `relation` (with person_id, occurred_at, event_id) plus `session_id`: a new session starts at a person's first
 * event and after every gap longer than `minutes`; it is named after the person and its first instant. One window
 * finds the gaps, a second carries each session's start forward (the same order, so both read one sort).
 */
export function gapSessionsSql(relation: string, minutes: number, columns = '*'): string {
  const w = 'PARTITION BY person_id ORDER BY occurred_at, event_id';
  return `SELECT ${columns === '*' ? '* EXCLUDE (_gap_new, _session_start)' : columns},
      'g:' || md5(person_id || chr(31) || CAST(epoch_us(_session_start) AS VARCHAR)) AS session_id
    FROM (
      SELECT *, max(CASE WHEN _gap_new THEN occurred_at END) OVER (${w} ROWS UNBOUNDED PRECEDING) AS _session_start
      FROM (
        SELECT *, coalesce(occurred_at - lag(occurred_at) OVER (${w}) > INTERVAL ${minutes} MINUTE, true) AS _gap_new
        FROM ${relation}
      )
    )`;
}

/** Existing events identity resolution moved to another person: (old_person, new_person, session_id). */
export const IDENTITY_MOVES = '_identity_moves';

/** Session ids whose row in `sessions` must be rebuilt at the end of the import. */
export const TOUCHED_SESSIONS = '_import_touched_sessions';

export async function startSessionTracking(session: DuckdbSession): Promise<void> {
  await session.run(`CREATE OR REPLACE TEMP TABLE ${TOUCHED_SESSIONS} (session_id VARCHAR)`);
}

/**
 * Re-sessions, over all their events, the people who had gap sessions before this import or whose identity changed
 * (a late event can join or bridge earlier sessions; a merged device's events join the user's). Only rows whose
 * session changes are updated; their old and new sessions are marked touched.
 */
export async function resessionExistingPeople(session: DuckdbSession, importId: number, minutes: number): Promise<void> {
  await session.run(`CREATE OR REPLACE TEMP TABLE _affected_persons AS
    SELECT person_id FROM (SELECT DISTINCT person_id FROM events WHERE import_id = ${importId} AND vendor_session_id IS NULL AND person_id IS NOT NULL) n
    WHERE n.person_id IN (SELECT person_id FROM sessions)
    UNION SELECT new_person FROM ${IDENTITY_MOVES} UNION SELECT old_person FROM ${IDENTITY_MOVES} WHERE old_person IS NOT NULL`);
  const affected = await session.all<{ n: string | number }>(`SELECT count(*) AS n FROM _affected_persons`);
  if (Number(affected[0]?.n ?? 0) > 0) {
    await session.run(`CREATE OR REPLACE TEMP TABLE _gap_sessions AS
      ${gapSessionsSql(`(SELECT event_id, person_id, occurred_at FROM events WHERE vendor_session_id IS NULL AND person_id IN (SELECT person_id FROM _affected_persons))`, minutes, 'event_id')}`);
    await session.run(`CREATE OR REPLACE TEMP TABLE _gap_changes AS
      SELECT e.event_id, e.session_id AS old_sid, s.session_id AS new_sid FROM events e JOIN _gap_sessions s ON s.event_id = e.event_id
      WHERE e.session_id IS DISTINCT FROM s.session_id`);
    await session.run(`INSERT INTO ${TOUCHED_SESSIONS} SELECT old_sid FROM _gap_changes WHERE old_sid IS NOT NULL UNION SELECT new_sid FROM _gap_changes`);
    await session.run(`UPDATE events SET session_id = c.new_sid FROM _gap_changes c WHERE events.event_id = c.event_id`);
    await session.run(`DROP TABLE _gap_changes`);
    await session.run(`DROP TABLE _gap_sessions`);
  }
  await session.run(`DROP TABLE _affected_persons`);
  await session.run(`DROP TABLE ${IDENTITY_MOVES}`);
}

/** Rebuilds the rows of `sessions` this import touched, from all of their events. */
export async function refreshTouchedSessions(session: DuckdbSession, importId: number, freshWarehouse: boolean): Promise<void> {
  await session.run(`INSERT INTO ${TOUCHED_SESSIONS} SELECT DISTINCT session_id FROM events WHERE import_id = ${importId} AND session_id IS NOT NULL`);
  await session.run(`CREATE OR REPLACE TEMP TABLE _touched AS SELECT DISTINCT session_id FROM ${TOUCHED_SESSIONS} WHERE session_id IS NOT NULL`);
  await session.run(`DELETE FROM sessions WHERE session_id IN (SELECT session_id FROM _touched)`);
  // In a warehouse that was empty before this import, every event of a touched session is a new one.
  const scope = freshWarehouse ? `import_id = ${importId}` : `session_id IN (SELECT session_id FROM _touched)`;
  await session.run(`INSERT INTO sessions
    SELECT session_id, arg_min(person_id, occurred_at), arg_min(source, occurred_at), min(occurred_at), max(occurred_at), count(*),
      count(*) FILTER (WHERE event_kind IN ('page_view', 'screen_view')),
      arg_min(page_path, occurred_at) FILTER (WHERE page_path IS NOT NULL),
      arg_min(device_type, occurred_at) FILTER (WHERE device_type IS NOT NULL)
    FROM events WHERE session_id IS NOT NULL AND ${scope} GROUP BY session_id`);
  await session.run(`DROP TABLE _touched`);
  await session.run(`DROP TABLE ${TOUCHED_SESSIONS}`);
}
