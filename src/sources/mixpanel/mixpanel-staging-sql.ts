/**
 * The staging SELECT for Mixpanel raw-export records `{"event": ..., "properties": {...}}`
 * (vendor-export-apis.md §3.4). The fields used are read in one pass into a nested struct (`from_json`)
 * instead of one `->>` per field, each of which re-parses the record; `properties` is copied whole. Ids are
 * read as VARCHAR so that numeric distinct_ids beyond 2^53 keep their digits.
 */
import { stagedSelectList, requiredFieldsReject } from '../staged-select.js';
import { DEAD_CLICK_EVENT, MIXPANEL_KINDS, RAGE_CLICK_EVENT } from './mixpanel-event-names.js';

const PROPERTY_FIELDS = [
  'time',
  'distinct_id',
  '$device_id',
  '$user_id',
  '$anon_distinct_id',
  '$insert_id',
  '$current_url',
  '$referrer',
  '$el_text',
  '$el_tag_name',
  '$el_id',
  '$browser',
  '$os',
  '$device',
  'mp_country_code',
  '$mp_api_timestamp_ms',
  'mp_processing_time_ms',
] as const;

export interface MixpanelSqlInput {
  /** Relation with (_line BIGINT, doc JSON). */
  readonly relation: string;
  /** Expression giving the record (a JSON object, else NULL) from `doc`. */
  readonly recordExpr: string;
  /** IANA zone of a pre-2023 project whose `time` is local wall-clock time; undefined when `time` is UTC. */
  readonly projectTimezone: string | undefined;
  readonly literal: (value: string) => string;
}

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Column alias of a cleaned property in the inner SELECT ("$device_id" → "f_$device_id"). */
const alias = (name: string): string => ident(`f_${name}`);

/** Strips Mixpanel's `$device:` prefix (simplified ID merge's anonymous distinct_id). */
const DEVICE_PREFIX = '$device:';

export function mixpanelStagingSql(input: MixpanelSqlInput): string {
  const lit = input.literal;
  // Each property is cleaned once in the inner SELECT and referred to by alias, so expressions that use a
  // field several times (the identity rule) do not repeat ul_text's work.
  const p = (name: (typeof PROPERTY_FIELDS)[number]): string => alias(name);
  const eventName = 'f_event';
  const distinctId = p('distinct_id');
  const deviceId = p('$device_id');
  const timeRaw = p('time');
  const kindCase = Object.entries(MIXPANEL_KINDS)
    .map(([name, kind]) => `WHEN ${lit(name)} THEN ${lit(kind)}`)
    .join(' ');
  // A distinct_id is a device id when it carries the `$device:` prefix (simplified ID merge) or equals
  // $device_id (original ID merge before identify); otherwise it is the identified user's id.
  const deviceLike = `(starts_with(${distinctId}, ${lit(DEVICE_PREFIX)}) OR ${distinctId} = ${deviceId})`;
  const stripDevice = (x: string): string => `CASE WHEN starts_with(${x}, ${lit(DEVICE_PREFIX)}) THEN substr(${x}, ${DEVICE_PREFIX.length + 1}) ELSE ${x} END`;
  const classes = `CASE json_type(f_el_classes)
      WHEN 'ARRAY' THEN array_to_string(list_filter(from_json(f_el_classes, '["VARCHAR"]'), c -> trim(c) <> ''), '.')
      WHEN 'VARCHAR' THEN regexp_replace(trim(f_el_classes->>'$'), '\\s+', '.', 'g') END`;
  const tag = p('$el_tag_name');
  const occurred = input.projectTimezone === undefined ? 't_utc' : `ul_local_to_instant(t_utc, ${lit(input.projectTimezone)})`;

  const exprs = {
    source: `'mixpanel'`,
    // Mixpanel's documented dedup key: (event, distinct_id, time, $insert_id). Time is taken in whole epoch
    // seconds of the stored value, so exports with and without time_in_ms give the same key. Without
    // $insert_id, the record's content stands in for it.
    source_event_id: `CASE WHEN rec IS NOT NULL AND t_utc IS NOT NULL THEN concat(
      coalesce(${eventName}, ''), '|', coalesce(${distinctId}, ''), '|', epoch_us(t_utc) // 1000000, '|',
      coalesce(${p('$insert_id')}, 'md5:' || md5(CAST(rec AS VARCHAR)))) END`,
    event_name: eventName,
    event_kind: `coalesce(CASE ${eventName} ${kindCase} END, 'custom')`,
    occurred_at: 'occurred',
    // When Mixpanel's API received the event; its processing time is the fallback. Both are UTC epoch ms.
    received_at: `ul_instant(coalesce(${p('$mp_api_timestamp_ms')}, ${p('mp_processing_time_ms')}))`,
    user_id: `coalesce(${p('$user_id')}, CASE WHEN NOT coalesce(${deviceLike}, false) THEN ${distinctId} END)`,
    anonymous_id: `coalesce(${deviceId},
      CASE WHEN starts_with(${distinctId}, ${lit(DEVICE_PREFIX)}) THEN ${stripDevice(distinctId)} END,
      ${stripDevice(p('$anon_distinct_id'))})`,
    // Raw exports carry no session id; sessions are derived by inactivity.
    vendor_session_id: 'NULL',
    page_url: p('$current_url'),
    referrer: p('$referrer'),
    element_text: p('$el_text'),
    element_selector: `CASE WHEN ${tag} IS NOT NULL THEN lower(${tag}) || coalesce('#' || ${p('$el_id')}, '') || coalesce('.' || nullif(${classes}, ''), '') END`,
    rage_click: `coalesce(${eventName} = ${lit(RAGE_CLICK_EVENT)}, false)`,
    dead_click: `coalesce(${eventName} = ${lit(DEAD_CLICK_EVENT)}, false)`,
    error_click: 'false',
    device_type: `ul_dim(${p('$device')})`,
    browser: p('$browser'),
    os: p('$os'),
    country: p('mp_country_code'),
    // `->` writes minified JSON, so an object is exactly a value starting with "{".
    properties: `CASE WHEN starts_with(props, '{') THEN props END`,
    user_properties: 'NULL',
    _line: '_line',
    _reject: `coalesce(
      CASE WHEN rec IS NULL THEN 'record: not a JSON object' END,
      ${requiredFieldsReject({ occurredAt: 'occurred', occurredAtRaw: timeRaw, occurredAtName: 'properties.time', eventName, eventNameName: 'event' })})`,
  };

  const recordStruct = JSON.stringify({
    event: 'VARCHAR',
    properties: { ...Object.fromEntries(PROPERTY_FIELDS.map((f) => [f, 'VARCHAR'])), $el_classes: 'JSON' },
  });
  const cleaned = PROPERTY_FIELDS.map((f) => `ul_text(r.properties.${ident(f)}) AS ${alias(f)}`).join(', ');
  return `SELECT ${stagedSelectList(exprs)}
FROM (
  SELECT *, ${occurred} AS occurred
  FROM (
    SELECT *, ul_instant(${timeRaw}) AS t_utc
    FROM (
      SELECT _line, rec, props, ul_text(r.event) AS f_event, r.properties."$el_classes" AS f_el_classes, ${cleaned}
      FROM (
        SELECT _line, rec, from_json(rec, ${lit(recordStruct)}) AS r, rec->'properties' AS props
        FROM (SELECT _line, ${input.recordExpr} AS rec FROM ${input.relation})
      )
    )
  )
)`;
}
