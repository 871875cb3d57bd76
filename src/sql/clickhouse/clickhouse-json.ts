/**
 * Reading one top-level key of a JSON text column in ClickHouse with the meaning DuckDB's
 * `json_extract_string(col, '/key')` has, so filters and breakdowns on properties give the same answers on both
 * engines: NULL when the key is absent or JSON null (or the column is NULL), the unescaped text of a string, and
 * the JSON text of numbers, booleans, objects and arrays. The key is one key, dots included (not a path).
 */

/**
 * DuckDB writes an integral double as JSON text with a trailing ".0" (5.0 stays "5.0", 1e3 reads "1000.0");
 * ClickHouse prints it as "5". Below 1e15 the two agree once ".0" is appended; larger or fractional values print
 * alike (see docs/scaling.md, dialect notes).
 */
function doubleText(json: string, key: string): string {
  const x = `JSONExtractFloat(${json}, ${key})`;
  return `if(${x} = floor(${x}) AND abs(${x}) < 1e15, concat(toString(${x}), '.0'), JSONExtractRaw(${json}, ${key}))`;
}

/** `column` is a Nullable(String) of JSON text; `key` a bound `{pN:String}` placeholder. */
export function chJsonText(column: string, key: string): string {
  const json = `ifNull(${column}, '')`;
  const type = `JSONType(${json}, ${key})`;
  return `multiIf(NOT JSONHas(${json}, ${key}) OR ${type} = 'Null', NULL,
    ${type} = 'String', JSONExtractString(${json}, ${key}),
    ${type} = 'Double', ${doubleText(json, key)},
    JSONExtractRaw(${json}, ${key}))`;
}

/**
 * TRY_CAST(text AS DOUBLE): NULL when the text is not a number. DuckDB ignores surrounding spaces, ClickHouse's
 * toFloat64OrNull does not, hence the trim.
 */
export function chTryDouble(text: string): string {
  return `toFloat64OrNull(trimBoth(${text}))`;
}
