/**
 * PostHog event (batch-export shape, as `doc` JSON) → canonical staged columns. See docs/sources/posthog.md for
 * the field-by-field table; the identity rule is the subtle part:
 *
 * PostHog's `distinct_id` is the anonymous device id until `identify()` and the product's user id after it. It
 * is taken as user_id unless it equals the event's `$device_id` / `$anon_distinct_id` or the SDK said
 * `$is_identified: false`; an explicit `$user_id` property always wins. anonymous_id is `$device_id`, else
 * `$anon_distinct_id`, else the distinct_id when that was judged anonymous.
 *
 * DuckDB's JSON type is text: every extraction re-parses the document. The SQL below parses each event a fixed,
 * small number of times (from_json into a struct, multi-path json_extract); the parsing steps are materialised.
 */
import type { StageContext } from '../source-reader.js';
import { stagedSelectList, requiredFieldsReject } from '../staged-select.js';
import { mergeExtrasCollidingSql, mergeExtrasFastSql } from './posthog-macros.js';

/** Top-level fields read into columns: one from_json parse gives them all (digits of numbers kept exact). */
const TOP_TYPE = JSON.stringify({
  uuid: 'VARCHAR',
  id: 'VARCHAR',
  event: 'VARCHAR',
  timestamp: 'VARCHAR',
  created_at: 'VARCHAR',
  distinct_id: 'VARCHAR',
  elements_chain: 'VARCHAR',
  properties: 'JSON',
  person_properties: 'JSON',
});
/** Mapped top-level fields; every other top-level field (person_id, team_id, _inserted_at, ...) is kept in properties. */
const MAPPED_TOP_LEVEL = ['uuid', 'event', 'timestamp', 'created_at', 'properties', 'person_properties'];
/** Properties read into columns, in json_extract order. */
const PROPS = [
  'distinct_id',
  '$device_id',
  '$anon_distinct_id',
  '$user_id',
  '$is_identified',
  '$session_id',
  '$current_url',
  '$screen_name',
  '$referrer',
  '$el_text',
  '$elements_chain',
  '$event_type',
  '$browser',
  '$os',
  '$device_type',
  '$geoip_country_code',
  '$set',
  '$set_once',
] as const;

const top = (name: string): string => `ul_text(top.${name})`;
const prop = (name: (typeof PROPS)[number]): string => `ul_text(pv[${PROPS.indexOf(name) + 1}])`;

/** A JSON object, or JSON text holding one (Parquet/CSV/query pages encode properties as text); else NULL. */
const asObject = (j: string): string => `CASE left(ltrim(CAST(${j} AS VARCHAR)), 1)
    WHEN '{' THEN ${j}
    WHEN '"' THEN (CASE WHEN json_valid(${j}->>'$') THEN (CASE WHEN left(ltrim(${j}->>'$'), 1) = '{' THEN (${j}->>'$')::JSON END) END)
  END`;

const EVENT_KIND = `CASE event
    WHEN '$pageview' THEN 'page_view'
    WHEN '$screen' THEN 'screen_view'
    WHEN '$identify' THEN 'identify'
    WHEN '$exception' THEN 'error'
    WHEN '$rageclick' THEN 'click'
    WHEN '$dead_click' THEN 'click'
    WHEN '$autocapture' THEN (CASE lower(event_type)
      WHEN 'click' THEN 'click' WHEN 'touch' THEN 'click' WHEN 'change' THEN 'input' WHEN 'submit' THEN 'submit' ELSE 'custom' END)
    ELSE 'custom'
  END`;

function finalSelect(): string {
  const required = requiredFieldsReject({
    occurredAt: 'occurred_at_value',
    occurredAtRaw: 'ts_raw',
    occurredAtName: 'timestamp',
    eventName: 'event',
    eventNameName: 'event',
  });
  return stagedSelectList({
    source: `'posthog'`,
    source_event_id: 'uuid',
    event_name: 'event',
    event_kind: EVENT_KIND,
    occurred_at: 'occurred_at_value',
    received_at: 'ul_instant(created_raw)',
    user_id: `coalesce(prop_user_id, CASE WHEN distinct_is_user THEN distinct_id END)`,
    anonymous_id: `coalesce(device_id, anon_distinct_id, CASE WHEN NOT distinct_is_user THEN distinct_id END)`,
    vendor_session_id: 'session_id',
    page_url: 'page_url',
    // "$direct" is PostHog's marker for "no referrer", not a URL; the raw value stays in properties.
    referrer: `nullif(referrer, '$direct')`,
    element_text: 'coalesce(el_text, c.chain_text)',
    element_selector: 'c.chain_selector',
    rage_click: `coalesce(event = '$rageclick', false)`,
    dead_click: `coalesce(event = '$dead_click', false)`,
    error_click: `coalesce(event = '$exception', false)`,
    device_type: 'ul_dim(device_type)',
    browser: 'browser',
    os: 'os',
    country: 'country',
    properties: 'properties_value',
    // Person properties at ingestion (batch exports); else the $set / $set_once the event itself sent.
    user_properties: `CASE
      WHEN person_props IS NOT NULL AND CAST(person_props AS VARCHAR) <> '{}' THEN person_props
      WHEN set_props IS NOT NULL OR set_once_props IS NOT NULL
        THEN json_merge_patch(coalesce(set_once_props, '{}'), coalesce(set_props, '{}'))
    END`,
    _line: '_line',
    _reject: `coalesce(rec_reject,
      CASE WHEN props_bad THEN 'properties: not a JSON object' END,
      ${required},
      CASE WHEN uuid IS NULL THEN 'uuid: missing' END)`,
  });
}

/** Stages `docs` (_line, doc, rec_reject) into a new relation of canonical columns; returns its name. */
export async function stagePosthogDocs(docs: string, ctx: StageContext): Promise<string> {
  const rows = ctx.tempName('posthog_rows');
  const out = ctx.tempName('posthog');
  const removal = JSON.stringify(Object.fromEntries(MAPPED_TOP_LEVEL.map((k) => [k, null])));
  const objectText = (p: (typeof PROPS)[number]): string => `CASE WHEN left(pv[${PROPS.indexOf(p) + 1}], 1) = '{' THEN pv[${PROPS.indexOf(p) + 1}]::JSON END`;
  await ctx.run(`CREATE OR REPLACE TEMP TABLE ${rows} AS
    WITH t AS MATERIALIZED (
      SELECT _line, rec_reject,
        from_json(doc, '${TOP_TYPE}') AS top,
        json_merge_patch(doc, '${removal}'::JSON) AS extras_all
      FROM ${docs}
    ), tf AS (
      SELECT _line, rec_reject, extras_all,
        ${top('uuid')} AS uuid_top, ${top('id')} AS id_top, ${top('event')} AS event, ${top('timestamp')} AS ts_raw,
        ${top('created_at')} AS created_raw, ${top('distinct_id')} AS distinct_id_top, ${top('elements_chain')} AS chain_top,
        top.properties AS props_raw, top.person_properties AS person_raw
      FROM t
    ), o AS (
      SELECT *, ${asObject('props_raw')} AS props_obj, ${asObject('person_raw')} AS person_props FROM tf
    ), p AS MATERIALIZED (
      -- Only the properties as an object go on: the raw text and its checked copy would be two more copies of the
      -- largest column in every materialisation below.
      SELECT * EXCLUDE (props_raw, props_obj, person_raw),
        props_raw IS NOT NULL AND CAST(props_raw AS VARCHAR) <> 'null' AND props_obj IS NULL AS props_bad,
        coalesce(props_obj, '{}'::JSON) AS props,
        json_extract_string(coalesce(props_obj, '{}'::JSON), [${PROPS.map((p) => `'$."${p}"'`).join(', ')}]) AS pv
      FROM o
    ), f AS (
      SELECT _line, rec_reject, props_bad, props, person_props, event, ts_raw, created_raw,
        coalesce(uuid_top, id_top) AS uuid,
        ul_instant(ts_raw) AS occurred_at_value,
        coalesce(distinct_id_top, ${prop('distinct_id')}) AS distinct_id,
        ${prop('$device_id')} AS device_id,
        ${prop('$anon_distinct_id')} AS anon_distinct_id,
        ${prop('$user_id')} AS prop_user_id,
        coalesce(lower(${prop('$is_identified')}) = 'false', false) AS said_anonymous,
        ${prop('$session_id')} AS session_id,
        coalesce(${prop('$current_url')}, ${prop('$screen_name')}) AS page_url,
        ${prop('$referrer')} AS referrer,
        ${prop('$el_text')} AS el_text,
        coalesce(chain_top, ${prop('$elements_chain')}) AS chain,
        ${prop('$event_type')} AS event_type,
        ${prop('$browser')} AS browser,
        ${prop('$os')} AS os,
        ${prop('$device_type')} AS device_type,
        ${prop('$geoip_country_code')} AS country,
        ${objectText('$set')} AS set_props,
        ${objectText('$set_once')} AS set_once_props,
        -- A distinct_id the properties repeat, an empty elements_chain and the events API's "id" (= uuid) add noise.
        json_merge_patch(extras_all,
          CASE WHEN distinct_id_top = ${prop('distinct_id')} THEN '{"distinct_id":null}' ELSE '{}' END::JSON,
          CASE WHEN chain_top IS NULL THEN '{"elements_chain":null}' ELSE '{}' END::JSON,
          CASE WHEN uuid_top IS NULL THEN '{"id":null}' ELSE '{}' END::JSON) AS extras
      FROM p
    )
    SELECT *,
      distinct_id IS NOT NULL AND distinct_id IS DISTINCT FROM device_id AND distinct_id IS DISTINCT FROM anon_distinct_id
        AND NOT said_anonymous AS distinct_is_user,
      -- Could an extras key already be a property? A text search over the properties is far cheaper than
      -- json_keys; a false alarm only sends the row down the exact (slower) path.
      coalesce(list_bool_or(list_transform(json_keys(extras),
        k -> NOT regexp_full_match(k, '[A-Za-z0-9_$.-]+') OR contains(CAST(props AS VARCHAR), '"' || k || '"'))), false) AS collides
    FROM f`);
  // Two branches, not a CASE: DuckDB evaluates the lambdas of the colliding merge for every row of a CASE.
  // An elements_chain is read once per distinct chain (the same element's chain recurs on every click of it): the
  // per-element regular expressions were half of this statement (28.5k demo events: 138 ms against 17 ms).
  await ctx.run(`CREATE OR REPLACE TEMP TABLE ${out} AS
    WITH chains AS (
      SELECT chain, ph_chain_text(chain) AS chain_text, ph_chain_selector(chain) AS chain_selector
      FROM (SELECT DISTINCT chain FROM ${rows} WHERE chain IS NOT NULL)
    )
    SELECT ${finalSelect()} FROM (
      SELECT *, ${mergeExtrasFastSql('props', 'extras')} AS properties_value FROM ${rows} WHERE NOT collides
      UNION ALL
      SELECT * EXCLUDE (pk), ${mergeExtrasCollidingSql('props', 'pk', 'extras')} AS properties_value
      FROM (SELECT *, json_keys(props) AS pk FROM ${rows} WHERE collides)
    ) u LEFT JOIN chains c ON c.chain = u.chain`);
  await ctx.run(`DROP TABLE ${rows}`);
  return out;
}
