/**
 * Reads many fields (top-level names or dotted paths) of a JSON value with one parse. Each `doc->>'x'` re-parses the whole record, so
 * twenty of them cost twenty parses; json_extract_string with a list of paths parses once and returns a list
 * that later expressions index into (about five times cheaper for a Segment Export row).
 */
export interface JsonFieldList {
  /** SQL that yields VARCHAR[] of the fields' text (NULL entries for absent fields or JSON null). */
  readonly extract: string;
  /** SQL for one field's text, given the column the extract was stored in. */
  ref(name: string): string;
}

export function jsonFieldList(json: string, column: string, names: readonly string[]): JsonFieldList {
  for (const n of names) {
    if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(n)) throw new Error(`jsonFieldList: unsupported field name ${n}`);
  }
  const index = new Map(names.map((n, i) => [n, i + 1]));
  return {
    extract: `json_extract_string(${json}, [${names.map((n) => `'$.${n}'`).join(', ')}])`,
    ref(name: string): string {
      const i = index.get(name);
      if (i === undefined) throw new Error(`jsonFieldList: ${name} was not extracted`);
      return `${column}[${i}]`;
    },
  };
}
