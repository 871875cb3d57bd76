/**
 * The DuckDB SQL that turns the rows of a Heap Connect sync (one `raw` table: every Avro record of every table,
 * tagged with its table, dump and file) into canonical events and identity links. Kept apart from the reader so
 * the mapping reads as one piece (docs/sources/heap.md describes it column by column).
 *
 * Each JSON document is parsed once: the fields used are pulled with one multi-path json_extract_string, and
 * session / user properties are built once per session / user, not once per event.
 */
import { stagedSelectList, requiredFieldsReject } from '../staged-select.js';

/** What a Heap table holds; decides how its rows are used. */
export type HeapTableKind = 'users' | 'sessions' | 'user_migrations' | 'all_events' | 'pageviews' | 'event';

export interface StagingNames {
  raw: string;
  candidates: string;
  groups: string;
  sessions: string;
  users: string;
  events: string;
  links: string;
}

/** Columns of the raw table the reader fills file by file. */
export const RAW_COLUMNS = 'tbl VARCHAR, kind VARCHAR, dump_id BIGINT, file VARCHAR, rec BIGINT, line BIGINT, doc JSON';

/**
 * One parse of `doc` for several fields: `list` is the extraction (aliased `f` by the caller), `columns` the
 * select list `nullif(f[i], '') AS field` (rawFields get no column), `at(field)` the raw `f[i]`.
 */
function extract(fields: readonly string[], rawFields: readonly string[] = []): { list: string; columns: string; at(field: string): string } {
  const all = [...fields, ...rawFields];
  const list = `json_extract_string(doc, [${all.map((f) => `'$.${f}'`).join(', ')}])`;
  // nullif, not ul_text: Avro columns are typed, so only '' needs reading as missing, and ul_text costs ~4x more.
  const columns = fields.map((f, i) => `nullif(f[${i + 1}], '') AS ${f}`).join(', ');
  return { list, columns, at: (field) => `f[${all.indexOf(field) + 1}]` };
}

/** Drops null-valued keys (merging onto {} does) and the keys set to null in `remove`. */
const compact = (doc: string, remove: string): string => `json_merge_patch('{}'::JSON, ${doc}, '${remove}'::JSON)`;

/** domain + path + query + hash; Heap records no scheme, so https is assumed (documented). */
const PAGE_URL = `CASE WHEN e.domain IS NULL AND e.path IS NULL THEN NULL ELSE
      coalesce(CASE WHEN regexp_matches(e.domain, '^[A-Za-z][A-Za-z0-9+.-]*://') THEN rtrim(e.domain, '/') ELSE 'https://' || rtrim(e.domain, '/') END, '')
      || coalesce(CASE WHEN starts_with(e.path, '/') THEN e.path ELSE '/' || e.path END, '')
      || coalesce(CASE WHEN starts_with(e.query, '?') THEN e.query ELSE '?' || e.query END, '')
      || coalesce(CASE WHEN starts_with(e.hash, '#') THEN e.hash ELSE '#' || e.hash END, '')
    END`;

/**
 * Heap's autocapture event type (`type` column of event tables, as Fivetran's Heap schema lists it) where a row
 * has one; pageviews by table; everything else (labelled and API events) is custom.
 */
const EVENT_KIND = `CASE WHEN e.tname = 'pageviews' THEN 'page_view'
    ELSE CASE lower(trim(e.type))
      WHEN 'click' THEN 'click' WHEN 'touch' THEN 'click' WHEN 'tap' THEN 'click'
      WHEN 'change' THEN 'input' WHEN 'edit field' THEN 'input'
      WHEN 'submit' THEN 'submit'
      WHEN 'view page' THEN 'page_view' WHEN 'pageview' THEN 'page_view'
      WHEN 'view screen' THEN 'screen_view' WHEN 'screenview' THEN 'screen_view'
      ELSE 'custom' END
  END`;

const EVENT_FIELDS = [
  'user_id', 'event_id', 'session_id', 'event_table_name', 'domain', 'path', 'query', 'hash', 'heap_previous_page',
  'referrer', 'target_text', 'hierarchy', 'device_type', 'browser', 'platform', 'country', 'type',
] as const;
const SESSION_FIELDS = ['user_id', 'session_id', 'referrer', 'device_type', 'browser', 'platform', 'country'] as const;
const USER_FIELDS = ['user_id', 'identity', 'last_modified', 'joindate'] as const;

/** Statements, in order, that build names.events and names.links from names.raw. */
export function stagingStatements(n: StagingNames): string[] {
  const ev = extract(EVENT_FIELDS, ['time']);
  // `time` stays raw (no nullif): an unreadable value is quoted in the reject as it was.
  const candidates = `CREATE TEMP TABLE ${n.candidates} AS
    SELECT line AS _line, kind, dump_id, file, rec, doc,
      ${ev.columns}, ${ev.at('time')} AS time_raw,
      CASE WHEN kind = 'all_events' THEN nullif(${ev.at('event_table_name')}, '') ELSE tbl END AS tname,
      CASE kind WHEN 'pageviews' THEN 0 WHEN 'event' THEN 1 ELSE 2 END AS prio
    FROM (SELECT *, ${ev.list} AS f FROM ${n.raw} WHERE kind IN ('pageviews', 'event', 'all_events'))`;

  // One row per (user_id, event_id): pageviews first, then per-event tables, then all_events; among equals the
  // alphabetically first table name, then the latest dump. `tables`: every table the event appears in (all_events
  // repeats one event per matching event definition). Keys only, so no wide rows are sorted.
  const groups = `CREATE TEMP TABLE ${n.groups} AS
    SELECT user_id, event_id, list_sort(list_distinct(list(tname))) AS tables,
      arg_min(_line, struct_pack(p := prio, n := tname IS NULL, t := coalesce(tname, ''), d := -dump_id, l := _line)) AS keep_line
    FROM ${n.candidates} WHERE user_id IS NOT NULL AND event_id IS NOT NULL GROUP BY user_id, event_id`;

  // The latest dump's row wins for users and sessions (a later dump re-sends changed rows).
  const latest = (kind: string, fields: readonly string[], keys: string[], remove: string, name: string): string => {
    const x = extract(fields);
    return `CREATE TEMP TABLE ${name} AS
      SELECT * EXCLUDE (dump_id, line, doc), ${compact('doc', remove)} AS props FROM (
        SELECT ${x.columns}, dump_id, line, doc FROM (SELECT *, ${x.list} AS f FROM ${n.raw} WHERE kind = '${kind}')
      ) WHERE ${keys.map((k) => `${k} IS NOT NULL`).join(' AND ')}
      QUALIFY row_number() OVER (PARTITION BY ${keys.join(', ')} ORDER BY dump_id DESC, line DESC) = 1`;
  };

  const required = requiredFieldsReject({
    occurredAt: 'e.occurred',
    occurredAtRaw: 'e.time_raw',
    occurredAtName: 'time',
    eventName: 'e.tname',
    eventNameName: 'event_table_name',
  });
  const reject = `CASE
      WHEN e.doc IS NULL THEN 'record: not a JSON object'
      WHEN e.user_id IS NULL THEN 'user_id: missing'
      WHEN e.event_id IS NULL THEN 'event_id: missing'
      ELSE ${required}
    END || ' (' || e.file || ' record ' || e.rec || ')'`;

  const select = stagedSelectList({
    source: `'heap'`,
    source_event_id: `e.user_id || '|' || e.event_id`,
    event_name: 'e.tname',
    event_kind: EVENT_KIND,
    occurred_at: 'e.occurred',
    user_id: 'e.identity',
    anonymous_id: 'e.user_id',
    vendor_session_id: 'e.session_id',
    page_url: PAGE_URL,
    referrer: 'coalesce(e.heap_previous_page, e.referrer, e.s_referrer)',
    element_text: 'e.target_text',
    element_selector: 'e.hierarchy',
    device_type: 'ul_dim(coalesce(e.device_type, e.s_device_type))',
    browser: 'coalesce(e.browser, e.s_browser)',
    os: 'coalesce(e.platform, e.s_platform)',
    country: 'coalesce(e.country, e.s_country)',
    properties: `json_merge_patch('{}'::JSON, e.doc, '{"event_id":null,"user_id":null,"session_id":null,"time":null}'::JSON,
      json_object('event_table_name', e.tname, 'heap_event_tables', to_json(e.tables), 'heap_session', e.s_props))`,
    user_properties: 'e.u_props',
    _line: 'e._line',
    _reject: reject,
  });

  // Rows without the key are kept one by one, as rejects.
  const events = `CREATE TEMP TABLE ${n.events} AS
    WITH joined AS (
      SELECT k.*, ul_instant(k.time_raw) AS occurred, g.tables,
        s.referrer AS s_referrer, s.device_type AS s_device_type, s.browser AS s_browser, s.platform AS s_platform,
        s.country AS s_country, s.props AS s_props, u.identity, u.props AS u_props
      FROM ${n.candidates} k
      LEFT JOIN ${n.groups} g ON g.keep_line = k._line
      LEFT JOIN ${n.sessions} s ON s.user_id = k.user_id AND s.session_id = k.session_id
      LEFT JOIN ${n.users} u ON u.user_id = k.user_id
      WHERE g.keep_line IS NOT NULL OR k.user_id IS NULL OR k.event_id IS NULL
    )
    SELECT ${select} FROM joined e`;

  const migrations = `SELECT ul_text(doc->>'from_user_id') AS from_id, ul_text(doc->>'to_user_id') AS to_id, doc->>'time' AS t,
      dump_id, line
    FROM ${n.raw} WHERE kind = 'user_migrations'`;
  const links = `CREATE TEMP TABLE ${n.links} AS
    SELECT user_id AS anonymous_id, identity AS user_id, CAST(NULL AS VARCHAR) AS other_anonymous_id,
      CAST(coalesce(ul_instant(last_modified), ul_instant(joindate)) AS TIMESTAMPTZ) AS linked_at
    FROM ${n.users} WHERE identity IS NOT NULL
    UNION ALL
    SELECT from_id, CAST(NULL AS VARCHAR), to_id, CAST(ul_instant(t) AS TIMESTAMPTZ) FROM (${migrations})
    WHERE from_id IS NOT NULL AND to_id IS NOT NULL AND from_id <> to_id
    QUALIFY row_number() OVER (PARTITION BY from_id ORDER BY dump_id DESC, line DESC) = 1`;

  return [
    candidates,
    groups,
    latest('sessions', SESSION_FIELDS, ['user_id', 'session_id'], '{"user_id":null,"session_id":null}', n.sessions),
    latest('users', USER_FIELDS, ['user_id'], '{"user_id":null}', n.users),
    events,
    links,
  ];
}
