/**
 * Staging SQL for FullStory's newer event-centric table (Data Destinations / Anywhere: Warehouse; columns
 * event_id, event_time, processed_time, updated_time, device_id, session_id, view_id, event_type,
 * event_properties, source_type, source_properties) over a (_line, doc) relation. event_properties and
 * source_properties arrive as JSON text in CSV/Parquet and as text or nested objects in NDJSON.
 */
import { stagedSelectList } from '../staged-select.js';
import { jsonFieldList } from './json-fields.js';

const TOP = jsonFieldList('doc', 'f', ['event_id', 'event_type', 'event_time', 'processed_time', 'source_type', 'device_id', 'session_id']);
const EP = jsonFieldList('ep', 'e', [
  'user_id',
  'user_email',
  'user_display_name',
  'event_name',
  'name',
  'fs_rage_count',
  'fs_dead_count',
  'fs_error_kind',
  'target.text',
  'target.raw_selector',
]);
const SP = jsonFieldList('sp', 's', [
  'url.full_url',
  'initial_referrer.full_url',
  'user_agent.device',
  'user_agent.browser',
  'user_agent.operating_system',
  'location.country',
]);

/** A JSON-object column given as an object or as JSON text: the object, else NULL. */
const asObject = (v: string): string => `CASE
      WHEN json_type(${v}) = 'OBJECT' THEN ${v}
      WHEN json_type(${v}) = 'VARCHAR' AND json_type(try_cast(${v}->>'$' AS JSON)) = 'OBJECT' THEN try_cast(${v}->>'$' AS JSON)
    END`;

/** True when the column holds something other than an object, JSON null or empty text (data would be lost). */
const notObject = (v: string): string => `(json_type(${v}) NOT IN ('OBJECT', 'NULL')
      AND NOT (json_type(${v}) = 'VARCHAR' AND trim(${v}->>'$') = '')
      AND json_type(try_cast(${v}->>'$' AS JSON)) IS DISTINCT FROM 'OBJECT')`;

/** Identify fields move to user_id / user_properties; the rest of event_properties stays in properties. */
const IDENTITY_KEYS = JSON.stringify({ user_id: null, user_email: null, user_display_name: null, user_properties: null });

const EVENT_KIND = `CASE
      WHEN ev_type IN ('navigate', 'page_view', 'pageview') THEN
        CASE WHEN source_type = 'mobile_app' THEN 'screen_view' ELSE 'page_view' END
      WHEN ev_type = 'click' THEN 'click'
      WHEN ev_type = 'change' THEN 'input'
      WHEN ev_type IN ('submit', 'form_submit') THEN 'submit'
      WHEN ev_type IN ('exception', 'crash', 'console_message') THEN 'error'
      WHEN ev_type = 'identify' THEN 'identify'
      ELSE 'custom'
    END`;

const REJECT = `CASE
    WHEN doc IS NULL THEN 'record: not a JSON object'
    WHEN event_id IS NULL THEN 'event_id: missing'
    WHEN ev_type IS NULL THEN 'event_type: missing'
    WHEN time_raw IS NULL OR trim(time_raw) = '' THEN 'event_time: missing'
    WHEN occurred_at IS NULL THEN 'event_time: unreadable timestamp "' || left(time_raw, 100) || '"'
    WHEN ep_broken THEN 'event_properties: not a JSON object'
    WHEN sp_broken THEN 'source_properties: not a JSON object'
  END`;

const USER_PROPERTIES = `CASE
      WHEN ep IS NULL THEN NULL
      WHEN json_type(ep->'user_properties') = 'OBJECT' THEN json_merge_patch('{}', ep->'user_properties',
        json_object('user_email', user_email, 'user_display_name', user_display_name))
      WHEN user_email IS NULL AND user_display_name IS NULL THEN NULL
      WHEN user_display_name IS NULL THEN json_object('user_email', user_email)
      WHEN user_email IS NULL THEN json_object('user_display_name', user_display_name)
      ELSE json_object('user_email', user_email, 'user_display_name', user_display_name)
    END`;

const epText = (path: string): string => `ul_text(${EP.ref(path)})`;
const spText = (path: string): string => `ul_text(${SP.ref(path)})`;

export function eventsTableSql(records: string, out: string): string {
  const select = stagedSelectList({
    source: `'fullstory'`,
    source_event_id: 'event_id',
    // Custom events carry their name in event_properties (key UNCONFIRMED: event_name, else name).
    event_name: `CASE WHEN ev_type = 'custom' THEN coalesce(${epText('event_name')}, ${epText('name')}, ev_type) ELSE ev_type END`,
    event_kind: 'event_kind',
    occurred_at: 'occurred_at',
    received_at: 'received_at',
    user_id: epText('user_id'),
    anonymous_id: `ul_text(${TOP.ref('device_id')})`,
    vendor_session_id: `ul_text(${TOP.ref('session_id')})`,
    page_url: spText('url.full_url'),
    referrer: spText('initial_referrer.full_url'),
    element_text: epText('target.text'),
    element_selector: epText('target.raw_selector'),
    rage_click: `coalesce(try_cast(${EP.ref('fs_rage_count')} AS DOUBLE) > 0, false)`,
    dead_click: `coalesce(try_cast(${EP.ref('fs_dead_count')} AS DOUBLE) > 0, false)`,
    error_click: `${epText('fs_error_kind')} IS NOT NULL OR event_kind = 'error'`,
    device_type: `ul_dim(${SP.ref('user_agent.device')})`,
    browser: spText('user_agent.browser'),
    os: spText('user_agent.operating_system'),
    country: spText('location.country'),
    properties: `CASE WHEN doc IS NOT NULL THEN json_merge_patch(coalesce(ep, '{}'), '${IDENTITY_KEYS}', json_object(
      'event_type', ev_type,
      'view_id', doc->'view_id',
      'source_type', source_type,
      'source_properties', sp,
      'updated_time', doc->'updated_time')) END`,
    user_properties: USER_PROPERTIES,
    _line: '_line',
    _reject: REJECT,
  });
  return `CREATE OR REPLACE TEMP TABLE ${out} AS
WITH extracted AS (
  SELECT _line, doc, ${TOP.extract} AS f, json_extract(doc, ['$.event_properties', '$.source_properties']) AS o
  FROM ${records}
),
base AS (
  SELECT
    _line,
    doc,
    f,
    ul_text(trim(${TOP.ref('event_id')})) AS event_id,
    ul_text(${TOP.ref('event_type')}) AS ev_type,
    ${TOP.ref('event_time')} AS time_raw,
    ul_instant(${TOP.ref('event_time')}) AS occurred_at,
    ul_instant(${TOP.ref('processed_time')}) AS received_at,
    ul_text(${TOP.ref('source_type')}) AS source_type,
    ${asObject('o[1]')} AS ep,
    ${asObject('o[2]')} AS sp,
    ${notObject('o[1]')} AS ep_broken,
    ${notObject('o[2]')} AS sp_broken
  FROM extracted
),
nested AS (
  SELECT *, ${EP.extract} AS e, ${SP.extract} AS s, ${EVENT_KIND} AS event_kind FROM base
),
identity AS (
  SELECT *, ${epText('user_email')} AS user_email, ${epText('user_display_name')} AS user_display_name FROM nested
)
SELECT
  ${select}
FROM identity`;
}
