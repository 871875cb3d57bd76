/**
 * The staging SELECT for Amplitude export records: one JSON object per event (vendor-export-apis.md §2.4).
 * Each record is parsed once into a struct (`from_json`) rather than with one `->>` per field, because every
 * `->>` re-parses the whole ~1.5 KB record; ids are read as VARCHAR so 64-bit values keep their digits.
 */
import { stagedSelectList, requiredFieldsReject } from '../staged-select.js';
import {
  amplitudeKindTable,
  bothSpellings,
  DEAD_CLICK_TYPES,
  ERROR_CLICK_TYPES,
  NETWORK_REQUEST_TYPES,
  RAGE_CLICK_TYPES,
} from './amplitude-event-types.js';

/** Top-level fields read into columns (everything else stays in `properties`). */
const RECORD_FIELDS = [
  'uuid',
  '$insert_id',
  'event_type',
  'event_time',
  'server_received_time',
  'server_upload_time',
  'client_upload_time',
  'user_id',
  'device_id',
  'session_id',
  'country',
  'os_name',
  'device_type',
  'device_family',
  'device_model',
  'platform',
] as const;

/** Event-property keys read into columns, each in both autocapture spellings where the SDKs prefix them. */
const EVENT_PROPERTY_FIELDS = [
  ...bothSpellings('Page Location'),
  ...bothSpellings('Page URL'),
  ...bothSpellings('Screen Name'),
  ...bothSpellings('Element Text'),
  ...bothSpellings('Target Text'),
  ...bothSpellings('Element Selector'),
  ...bothSpellings('Element Tag'),
  ...bothSpellings('Element ID'),
  ...bothSpellings('Element Class'),
  ...bothSpellings('Status Code'),
  'referrer',
] as const;

export interface AmplitudeSqlInput {
  /** Relation with (_member VARCHAR, _line BIGINT, doc JSON). */
  readonly relation: string;
  /** Expression giving the event object (a JSON object, else NULL) from `doc`. */
  readonly recordExpr: string;
  readonly literal: (value: string) => string;
}

function structType(fields: readonly string[], extra: Record<string, string> = {}): string {
  const entries: Record<string, string> = Object.fromEntries(fields.map((f) => [f, 'VARCHAR']));
  return JSON.stringify({ ...entries, ...extra });
}

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * The values the canonical columns need, each cleaned (ul_text) once in an inner SELECT and referred to by
 * alias afterwards. Alternatives (both autocapture spellings, fallback fields) are coalesced before cleaning:
 * exports never carry two spellings of one key, and cleaning is the costly part on wide records.
 */
const RECORD_VALUES: Readonly<Record<string, readonly (typeof RECORD_FIELDS)[number][]>> = {
  uuid: ['uuid'],
  insert_id: ['$insert_id'],
  event_type: ['event_type'],
  event_time: ['event_time'],
  // server_received_time is when Amplitude got the event; the upload times are the fallbacks.
  received_time: ['server_received_time', 'server_upload_time', 'client_upload_time'],
  user_id: ['user_id'],
  device_id: ['device_id'],
  session_id: ['session_id'],
  country: ['country'],
  os_name: ['os_name'],
  device_type: ['device_type'],
  // Amplitude's web SDKs put the operating system in device_model; the server derives device_family from it.
  web_os: ['device_family', 'device_model'],
  platform: ['platform'],
};

const PROPERTY_VALUES: Readonly<Record<string, readonly string[]>> = {
  // Page Location is the full href; Page URL drops the query string; apps name the screen instead.
  page_url: [...bothSpellings('Page Location'), ...bothSpellings('Page URL'), ...bothSpellings('Screen Name')],
  referrer: ['referrer'],
  element_text: [...bothSpellings('Element Text'), ...bothSpellings('Target Text')],
  element_selector: bothSpellings('Element Selector'),
  element_tag: bothSpellings('Element Tag'),
  element_id: bothSpellings('Element ID'),
  element_class: bothSpellings('Element Class'),
  status_code: bothSpellings('Status Code'),
};

function cleanedValues(struct: string, values: Readonly<Record<string, readonly string[]>>, prefix: string): string {
  return Object.entries(values)
    .map(([name, keys]) => {
      const raw = keys.map((k) => `${struct}.${ident(k)}`);
      return `ul_text(${raw.length === 1 ? raw[0] : `coalesce(${raw.join(', ')})`}) AS ${ident(prefix + name)}`;
    })
    .join(', ');
}

export function amplitudeStagingSql(input: AmplitudeSqlInput): string {
  const lit = input.literal;
  const f = (name: keyof typeof RECORD_VALUES): string => ident(`f_${name}`);
  const e = (name: keyof typeof PROPERTY_VALUES): string => ident(`e_${name}`);
  const inList = (names: readonly string[]): string => names.map(lit).join(', ');

  const eventType = f('event_type');
  const occurredRaw = f('event_time');
  const occurred = 'occurred';
  const kindCase = amplitudeKindTable()
    .map(([name, kind]) => `WHEN ${lit(name)} THEN ${lit(kind)}`)
    .join(' ');
  const statusCode = `try_cast(${e('status_code')} AS DOUBLE)`;
  const networkFailed = `(${eventType} IN (${inList(NETWORK_REQUEST_TYPES)}) AND coalesce(${statusCode} = 0 OR ${statusCode} >= 400, true))`;
  // Autocapture writes the tag, id and classes apart; the deprecated Element Selector is used when present.
  const tag = e('element_tag');
  const builtSelector = `CASE WHEN ${tag} IS NOT NULL THEN lower(${tag})
      || coalesce('#' || ${e('element_id')}, '')
      || coalesce('.' || nullif(regexp_replace(trim(${e('element_class')}), '\\s+', '.', 'g'), ''), '') END`;
  const isWeb = `lower(${f('platform')}) = 'web'`;

  const exprs = {
    source: `'amplitude'`,
    // uuid is Amplitude's event id. Without it, Amplitude's own idempotency key ($insert_id, unique per device),
    // else the record's content: exported records are immutable, so the same record hashes the same.
    source_event_id: `coalesce(${f('uuid')},
      'insert_id:' || coalesce(${f('device_id')}, '') || '|' || ${f('insert_id')},
      CASE WHEN rec IS NOT NULL THEN 'md5:' || md5(CAST(rec AS VARCHAR)) END)`,
    event_name: eventType,
    event_kind: `CASE WHEN ${networkFailed} THEN 'error' ELSE coalesce(CASE ${eventType} ${kindCase} END, 'custom') END`,
    occurred_at: occurred,
    received_at: `ul_instant(${f('received_time')})`,
    user_id: f('user_id'),
    anonymous_id: f('device_id'),
    // Session ids are the session start in epoch ms; -1 marks an event outside any session.
    vendor_session_id: `CASE WHEN starts_with(${f('session_id')}, '-') THEN NULL ELSE ${f('session_id')} END`,
    page_url: e('page_url'),
    referrer: e('referrer'),
    element_text: e('element_text'),
    element_selector: `coalesce(${e('element_selector')}, ${builtSelector})`,
    rage_click: `coalesce(${eventType} IN (${inList(RAGE_CLICK_TYPES)}), false)`,
    dead_click: `coalesce(${eventType} IN (${inList(DEAD_CLICK_TYPES)}), false)`,
    error_click: `coalesce(${eventType} IN (${inList(ERROR_CLICK_TYPES)}) OR ${networkFailed}, false)`,
    device_type: `ul_dim(coalesce(${f('device_type')}, ${f('platform')}))`,
    // Amplitude's web SDKs put the browser name in os_name.
    browser: `CASE WHEN ${isWeb} THEN ${f('os_name')} END`,
    os: `CASE WHEN ${isWeb} THEN ${f('web_os')} ELSE ${f('os_name')} END`,
    country: f('country'),
    // The record's other fields plus its event properties (which win on a name clash); null values are dropped.
    properties: `CASE WHEN rec IS NOT NULL THEN json_merge_patch('{}', rec, '{"event_properties":null,"user_properties":null}', coalesce(ep, '{}')) END`,
    user_properties: 'up',
    _line: '_line',
    _reject: `coalesce(
      CASE WHEN rec IS NULL THEN 'record: not a JSON object' END,
      ${requiredFieldsReject({ occurredAt: occurred, occurredAtRaw: occurredRaw, occurredAtName: 'event_time', eventName: eventType, eventNameName: 'event_type' })}
    ) || coalesce(' (in ' || _member || ')', '')`,
  };

  const recordStruct = structType(RECORD_FIELDS, { event_properties: 'JSON', user_properties: 'JSON' });
  const propertyStruct = structType(EVENT_PROPERTY_FIELDS);
  // from_json writes JSON values minified, so an object is exactly a value starting with "{".
  const objectOrNull = (x: string): string => `CASE WHEN starts_with(${x}, '{') THEN ${x} END`;
  return `SELECT ${stagedSelectList(exprs)}
FROM (
  SELECT *, ${cleanedValues('e', PROPERTY_VALUES, 'e_')}, ul_instant(${occurredRaw}) AS occurred
  FROM (
    SELECT _member, _line, rec, ${objectOrNull('f.event_properties')} AS ep, ${objectOrNull('f.user_properties')} AS up,
      from_json(f.event_properties, ${lit(propertyStruct)}) AS e, ${cleanedValues('f', RECORD_VALUES, 'f_')}
    FROM (
      SELECT _member, _line, rec, from_json(rec, ${lit(recordStruct)}) AS f
      FROM (SELECT _member, _line, ${input.recordExpr} AS rec FROM ${input.relation})
    )
  )
)`;
}
