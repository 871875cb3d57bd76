/**
 * Staging SQL for the FullStory Segment Export (TYPE_EVENT; FORMAT_JSON, FORMAT_NDJSON or FORMAT_CSV), over a
 * (_line, doc) relation. The export has no event id, so the dedup key is a composite of the fields that
 * identify one recorded event (docs/sources/fullstory.md explains the choice). Its free-text parts (selector,
 * target text, custom event variables) enter the key only as an md5, so typed text never leaks into an id.
 */
import { stagedSelectList } from '../staged-select.js';
import { jsonFieldList } from './json-fields.js';

/** Fields that land in a canonical column and are therefore left out of `properties`. */
const MAPPED_FIELDS = [
  'UserId',
  'UserAppKey',
  'SessionId',
  'EventStart',
  'EventCustomName',
  'EventTargetText',
  'EventTargetSelector',
  'EventTargetSelectorTok',
  'PageUrl',
  'PageRefererUrl',
  'PageBrowser',
  'PageDevice',
  'PageOperatingSystem',
  'UserDisplayName',
  'UserEmail',
] as const;

const REMOVE_MAPPED = JSON.stringify(Object.fromEntries(MAPPED_FIELDS.map((f) => [f, null])));

/** Every scalar field the mapping reads, extracted with one parse of the record. */
const FIELDS = jsonFieldList('doc', 'f', [
  'EventType',
  'EventSubType',
  'EventCustomName',
  'EventStart',
  'UserId',
  'SessionId',
  'PageId',
  'EventTargetSelector',
  'EventTargetSelectorTok',
  'EventTargetText',
  'EventModFrustrated',
  'EventModDead',
  'EventModError',
  'PageUrl',
  'AppViewName',
  'UserAppKey',
  'PageRefererUrl',
  'PageDevice',
  'PageBrowser',
  'PageOperatingSystem',
  'UserDisplayName',
  'UserEmail',
]);

/** Text of a field, '' / "null" as NULL. */
const field = (name: string): string => `ul_text(${FIELDS.ref(name)})`;

/**
 * Older exports tokenise the selector and URL-escape each token ("html .no%2Djs body .ng%2Dscope div"): a tag
 * token is followed by its own class/id/attribute tokens. Gluing those to their tag before unescaping gives the
 * ordinary descendant selector "html.no-js body.ng-scope div" (escaped "." and "#" inside names stay text).
 */
export const tokSelectorSql = (tok: string): string =>
  `url_decode(replace(replace(replace(${tok}, ' .', '.'), ' #', '#'), ' [', '['))`;

const EVENT_KIND = `CASE
      WHEN ev_type IN ('navigate', 'pageview') THEN
        CASE WHEN page_url_raw IS NULL AND app_view IS NOT NULL THEN 'screen_view' ELSE 'page_view' END
      WHEN ev_type = 'click' THEN 'click'
      WHEN ev_type = 'change' THEN 'input'
      WHEN ev_type IN ('submit', 'form_submit') THEN 'submit'
      WHEN ev_type IN ('exception', 'crashed') THEN 'error'
      WHEN ev_type = 'console_message' AND coalesce(sub_type, 'error') = 'error' THEN 'error'
      WHEN ev_type IN ('uservar', 'identify') THEN 'identify'
      ELSE 'custom'
    END`;

/**
 * UserId|SessionId|PageId|EventStart|EventType|EventSubType|EventCustomName|EventModFrustrated|md5(detail).
 * EventStart is re-rendered from the parsed instant and EventModFrustrated defaults to 0, so the JSON export
 * (which omits zero fields) and the CSV export of the same record give the same key. Variable values are
 * compared as JSON text without surrounding quotes, because CSV turns the number 8.54 into the string "8.54".
 */
const SOURCE_EVENT_ID = `CASE WHEN doc IS NOT NULL THEN concat_ws('|',
    coalesce(device_id, ''),
    coalesce(session_id, ''),
    coalesce(page_id, ''),
    coalesce(strftime(occurred_at, '%Y-%m-%dT%H:%M:%S.%fZ'), start_raw, ''),
    coalesce(ev_type, ''),
    coalesce(sub_type, ''),
    coalesce(custom_name, ''),
    CAST(CAST(mod_frustrated AS BIGINT) AS VARCHAR),
    CASE WHEN selector IS NULL AND target_text IS NULL AND len(evt_vars) = 0 THEN ''
         ELSE md5(concat_ws(chr(31), coalesce(selector, ''), coalesce(target_text, ''),
           array_to_string(list_transform(evt_vars, lambda e: e.key || '=' || coalesce(trim(CAST(e.value AS VARCHAR), '"'), '')), chr(31))))
    END) END`;

/** UserDisplayName, UserEmail and the user_* variables; NULL when the record has none of them. */
const USER_PROPERTIES = `CASE
      WHEN doc IS NULL THEN NULL
      WHEN len(user_vars) > 0 THEN json_merge_patch('{}', to_json(map_from_entries(user_vars)),
        json_object('UserDisplayName', display_name, 'UserEmail', email))
      WHEN display_name IS NULL AND email IS NULL THEN NULL
      WHEN email IS NULL THEN json_object('UserDisplayName', display_name)
      WHEN display_name IS NULL THEN json_object('UserEmail', email)
      ELSE json_object('UserDisplayName', display_name, 'UserEmail', email)
    END`;

const REJECT = `CASE
    WHEN doc IS NULL THEN 'record: not a JSON object'
    WHEN ev_type IS NULL THEN 'EventType: missing'
    WHEN start_raw IS NULL OR trim(start_raw) = '' THEN 'EventStart: missing'
    WHEN occurred_at IS NULL THEN 'EventStart: unreadable timestamp "' || left(start_raw, 100) || '"'
    WHEN device_id IS NULL THEN 'UserId: missing (it identifies the device and is part of the dedup key)'
  END`;

export function segmentExportSql(records: string, out: string): string {
  const select = stagedSelectList({
    source: `'fullstory'`,
    source_event_id: SOURCE_EVENT_ID,
    event_name: `CASE WHEN ev_type IN ('custom', 'custom_error') AND custom_name IS NOT NULL THEN custom_name ELSE ev_type END`,
    event_kind: 'event_kind',
    occurred_at: 'occurred_at',
    user_id: field('UserAppKey'),
    anonymous_id: 'device_id',
    vendor_session_id: 'session_id',
    page_url: 'coalesce(page_url_raw, app_view)',
    referrer: field('PageRefererUrl'),
    element_text: 'target_text',
    element_selector: 'selector',
    rage_click: 'mod_frustrated > 0',
    dead_click: 'mod_dead > 0',
    error_click: `mod_error > 0 OR event_kind = 'error'`,
    device_type: `ul_dim(${FIELDS.ref('PageDevice')})`,
    browser: field('PageBrowser'),
    os: field('PageOperatingSystem'),
    // The Segment Export has no country field (only PageLatLong and PageIp, kept in properties).
    country: 'NULL',
    properties: `CASE
      WHEN doc IS NULL THEN NULL
      WHEN len(user_vars) = 0 THEN json_merge_patch(doc, '${REMOVE_MAPPED}')
      ELSE json_merge_patch(doc, '${REMOVE_MAPPED}',
        to_json(map(list_transform(user_vars, lambda e: e.key), list_transform(user_vars, lambda e: NULL::JSON))))
    END`,
    user_properties: USER_PROPERTIES,
    _line: '_line',
    _reject: REJECT,
  });
  return `CREATE OR REPLACE TEMP TABLE ${out} AS
WITH extracted AS (
  SELECT
    _line,
    doc,
    ${FIELDS.extract} AS f,
    -- Only records with custom user/event variables (user_*, evt_*) need all their entries (a second parse).
    CASE WHEN contains(CAST(doc AS VARCHAR), '"user_') OR contains(CAST(doc AS VARCHAR), '"evt_')
      THEN map_entries(CAST(doc AS MAP(VARCHAR, JSON))) ELSE [] END AS vars
  FROM ${records}
),
base AS (
  SELECT
    _line,
    doc,
    f,
    ${field('EventType')} AS ev_type,
    ${field('EventSubType')} AS sub_type,
    ${field('EventCustomName')} AS custom_name,
    ${FIELDS.ref('EventStart')} AS start_raw,
    ul_instant(${FIELDS.ref('EventStart')}) AS occurred_at,
    ${field('UserId')} AS device_id,
    ${field('SessionId')} AS session_id,
    ${field('PageId')} AS page_id,
    coalesce(${field('EventTargetSelector')}, ${tokSelectorSql(field('EventTargetSelectorTok'))}) AS selector,
    ${field('EventTargetText')} AS target_text,
    coalesce(try_cast(${FIELDS.ref('EventModFrustrated')} AS DOUBLE), 0) AS mod_frustrated,
    coalesce(try_cast(${FIELDS.ref('EventModDead')} AS DOUBLE), 0) AS mod_dead,
    coalesce(try_cast(${FIELDS.ref('EventModError')} AS DOUBLE), 0) AS mod_error,
    ${field('PageUrl')} AS page_url_raw,
    ${field('AppViewName')} AS app_view,
    ${field('UserDisplayName')} AS display_name,
    ${field('UserEmail')} AS email,
    list_filter(vars, lambda e: starts_with(e.key, 'user_')) AS user_vars,
    list_sort(list_filter(vars, lambda e: starts_with(e.key, 'evt_'))) AS evt_vars
  FROM extracted
),
kinds AS (SELECT *, ${EVENT_KIND} AS event_kind FROM base)
SELECT
  ${select}
FROM kinds`;
}
