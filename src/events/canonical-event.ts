/**
 * The canonical event: one row per event, every source mapped onto it (DESIGN.md §3, docs/events.md).
 * The column list is data so that the warehouse DDL, the staging SQL of every source and the docs agree.
 */

export const SOURCE_IDS = ['fullstory', 'amplitude', 'mixpanel', 'heap', 'posthog', 'ga4', 'generic'] as const;
export type SourceId = (typeof SOURCE_IDS)[number];

export const EVENT_KINDS = ['page_view', 'screen_view', 'click', 'input', 'submit', 'error', 'identify', 'custom'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** Logical column types; each warehouse maps them to its own. */
export type ColumnType = 'id' | 'string' | 'text' | 'timestamp' | 'bool' | 'json' | 'int';

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  readonly doc: string;
  /** Filled by a source reader (staged); otherwise derived by the import pipeline. */
  readonly staged: boolean;
  readonly nullable: boolean;
}

const col = (name: string, type: ColumnType, staged: boolean, nullable: boolean, doc: string): ColumnSpec => ({
  name,
  type,
  staged,
  nullable,
  doc,
});

/** Columns of the `events` table, in order. */
export const EVENT_COLUMNS: readonly ColumnSpec[] = [
  col('event_id', 'id', false, false, 'Deterministic id: md5(source, source_event_id) as a UUID. Same source record, same id; re-import is a no-op.'),
  col('source', 'string', true, false, 'Which tool the event came from.'),
  col('source_event_id', 'text', true, false, "The source's own event id, or the documented composite key where it has none (the dedup key)."),
  col('event_name', 'string', true, false, 'The event name as the source names it ($pageview, [Amplitude] Page Viewed, click, ...).'),
  col('event_kind', 'string', true, false, 'One of page_view, screen_view, click, input, submit, error, identify, custom.'),
  col('occurred_at', 'timestamp', true, false, 'When the event happened, a UTC instant (microseconds).'),
  col('received_at', 'timestamp', true, true, 'When the source received / ingested it, where the source says.'),
  col('user_id', 'text', true, true, "The product's own user id (identify), exact as text (ids beyond 2^53 stay exact)."),
  col('anonymous_id', 'text', true, true, 'Device / cookie / client id as the source gives it.'),
  col('vendor_session_id', 'text', true, true, "The source's session id, when it has one (not unique across users on its own)."),
  col('page_url', 'text', true, true, 'Full page URL (or screen name for apps).'),
  col('page_path', 'text', false, true, 'Cleaned path: no scheme/host/query/fragment; ids and UUIDs collapsed to :id; project rules applied.'),
  col('referrer', 'text', true, true, 'Referring URL.'),
  col('element_text', 'text', true, true, 'Text of the element interacted with.'),
  col('element_selector', 'text', true, true, 'CSS selector (or chain) of that element.'),
  col('rage_click', 'bool', true, false, 'Part of a rage-click series (vendor flag or derived: N clicks within T ms on one element).'),
  col('dead_click', 'bool', true, false, 'A click that produced no visible change (vendor flag or event).'),
  col('error_click', 'bool', true, false, 'An interaction that produced an error, or an error / exception event.'),
  col('device_type', 'string', true, true, 'desktop, mobile, tablet, ... as the source gives it, lower-cased.'),
  col('browser', 'string', true, true, 'Browser name.'),
  col('os', 'string', true, true, 'Operating system name.'),
  col('country', 'string', true, true, 'Country as the source gives it.'),
  col('properties', 'json', true, true, 'Every other event property, as JSON.'),
  col('user_properties', 'json', true, true, 'User / person properties sent with the event, as JSON.'),
  col('person_id', 'text', false, false, 'Resolved person (identity union-find over anonymous_id / user_id links).'),
  col('session_id', 'text', false, false, 'Resolved session: vendor session id keyed with the device, else 30 minutes of inactivity.'),
  col('import_id', 'int', false, false, 'Lineage: the import that loaded this row (see the imports table).'),
];

export const STAGED_COLUMNS: readonly ColumnSpec[] = EVENT_COLUMNS.filter((c) => c.staged);
