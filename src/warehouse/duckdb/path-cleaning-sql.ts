/** The DuckDB form of events/path-cleaning.ts; a test checks both give the same paths. */
import { ID_SEGMENT_PATTERN, TOKEN_MIN_LENGTH, TOKEN_SEGMENT_PATTERN, type PathCleaning } from '../../events/path-cleaning.js';
import { sqlLiteral } from './duckdb-stage-context.js';

export function pathCleaningMacro(cleaning: PathCleaning): string {
  let p = `regexp_replace(regexp_replace(trim(url), '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*', ''), '[?#].*$', '')`;
  if (cleaning.collapse_ids) {
    p = `array_to_string(list_transform(string_split(${p}, '/'), s -> CASE
      WHEN regexp_full_match(s, ${sqlLiteral(ID_SEGMENT_PATTERN)})
        OR (length(s) >= ${TOKEN_MIN_LENGTH} AND regexp_full_match(s, ${sqlLiteral(TOKEN_SEGMENT_PATTERN)})) THEN ':id'
      ELSE s END), '/')`;
  }
  p = `CASE WHEN length(${p}) > 1 THEN rtrim(${p}, '/') ELSE ${p} END`;
  p = `CASE WHEN (${p}) = '' THEN '/' ELSE (${p}) END`;
  for (const rule of cleaning.rules) p = `regexp_replace(${p}, ${sqlLiteral(rule.pattern)}, ${sqlLiteral(rule.replacement.replace(/\$(\d)/g, '\\$1'))}, 'g')`;
  return `CREATE OR REPLACE TEMP MACRO ul_clean_path(url) AS (CASE WHEN url IS NULL OR trim(url) = '' THEN NULL ELSE ${p} END)`;
}
