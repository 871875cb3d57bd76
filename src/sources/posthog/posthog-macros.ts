/**
 * DuckDB macros and SQL builders for PostHog staging: reading `elements_chain` (PostHog's serialised DOM path of
 * an autocaptured element) and folding top-level export fields into `properties` without losing any.
 *
 * elements_chain grammar (PostHog's own parser, plugin-server `elements-chain.ts`): elements are separated by `;`
 * outside quotes, innermost (the clicked element) first; each is `tag.class1.class2:` followed by sorted
 * `key="value"` pairs with `"` escaped as `\"` (e.g. `text="Sign up"`, `attr_id="cta"`, `href="/x"`).
 */

/** Splits a chain into elements (semicolons and spaces inside quoted values do not split). */
const SPLIT_CHAIN = String.raw`(?:[^\s;"]|"(?:\\.|[^"])*")+`;
/** The `tag.class1.class2` head of one element: everything before the first `:key=` (classes may contain ':'). */
const ELEMENT_HEAD = String.raw`^(.*?)(?:$|:[a-zA-Z\-_0-9]*=)`;
/** An attribute's value; attribute keys follow the head's ':' or the previous value's closing quote. */
const attributeValue = (key: string): string => String.raw`[:"]${key}="((?:\\.|[^"\\])*)"`;

export const POSTHOG_MACROS = [
  // The first text attribute in the chain: the clicked element's text, else its nearest ancestor's (an icon
  // inside a button). One regex over the chain, no per-element work.
  `CREATE OR REPLACE TEMP MACRO ph_chain_text(chain) AS (
    ul_text(replace(regexp_extract(chain, '${attributeValue('text')}', 1), '\\"', '"')))`,
  // Outermost to innermost as tag#id.class1.class2, joined like a CSS child selector.
  `CREATE OR REPLACE TEMP MACRO ph_chain_selector(chain) AS (
    ul_text(array_to_string(list_reverse(list_transform(
      list_transform(regexp_extract_all(chain, '${SPLIT_CHAIN}'),
        e -> {'head': regexp_extract(e, '${ELEMENT_HEAD}', 1), 'id': regexp_extract(e, '${attributeValue('attr_id')}', 1)}),
      el -> CASE WHEN el.id = '' THEN el.head
        ELSE split_part(el.head, '.', 1) || '#' || replace(el.id, '\\"', '"') || substr(el.head, length(split_part(el.head, '.', 1)) + 1) END)),
      ' > ')))`,
  `CREATE OR REPLACE TEMP MACRO ph_json_pointer(k) AS ('/' || replace(replace(k, '~', '~0'), '/', '~1'))`,
] as const;

/**
 * props + extras (top-level export fields) when no extras key is already a property: a plain merge. Null extras
 * are dropped (JSON merge-patch semantics), which loses nothing.
 */
export function mergeExtrasFastSql(props: string, extras: string): string {
  return `CASE WHEN ${extras} IS NULL THEN ${props} ELSE json_merge_patch(${props}, ${extras}) END`;
}

/**
 * The same merge for rows where an extras key is also a property: a property keeps its name, a different
 * top-level value is kept as "_export.<name>", so neither is lost. `propsKeys` must be json_keys(props) computed
 * beforehand. Run it only on the rows that need it (a WHERE, not a CASE): DuckDB evaluates lambdas for every row
 * of a CASE branch.
 */
export function mergeExtrasCollidingSql(props: string, propsKeys: string, extras: string): string {
  return `json_merge_patch(${props}, to_json(map_from_entries(list_transform(
    list_filter(list_distinct(json_keys(${extras})),
      k -> NOT list_contains(${propsKeys}, k) OR (${props} -> ph_json_pointer(k)) IS DISTINCT FROM (${extras} -> ph_json_pointer(k))),
    k -> {'k': CASE WHEN list_contains(${propsKeys}, k) THEN '_export.' || k ELSE k END, 'v': ${extras} -> ph_json_pointer(k)}))))`;
}
