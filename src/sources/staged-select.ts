/**
 * Builds the final SELECT of a reader's staging SQL from an expression per canonical column, so every reader
 * yields the same columns with the same types and no reader forgets one.
 */
import { STAGED_COLUMNS } from '../events/canonical-event.js';

export type StagedExpressions = Partial<Record<string, string>> & { _line: string; _reject: string };

/** The DuckDB type of each logical column type in staged rows. */
export const STAGED_TYPES: Record<string, string> = {
  id: 'VARCHAR',
  string: 'VARCHAR',
  text: 'VARCHAR',
  timestamp: 'TIMESTAMPTZ',
  bool: 'BOOLEAN',
  json: 'JSON',
  int: 'BIGINT',
};

/** SELECT list: each canonical column from its expression (NULL / false when absent), cast to its type. */
export function stagedSelectList(exprs: StagedExpressions): string {
  const parts = STAGED_COLUMNS.map((c) => {
    const fallback = c.type === 'bool' ? 'false' : 'NULL';
    return `CAST(${exprs[c.name] ?? fallback} AS ${STAGED_TYPES[c.type]}) AS ${c.name}`;
  });
  parts.push(`CAST(${exprs._line} AS BIGINT) AS _line`, `CAST(${exprs._reject} AS VARCHAR) AS _reject`);
  return parts.join(',\n  ');
}

/**
 * The standard reject reason for rows missing what every event needs. Readers put their own, more specific
 * reasons first (e.g. an unreadable line) and fall back to this.
 */
export function requiredFieldsReject(fields: { occurredAt: string; occurredAtRaw: string; occurredAtName: string; eventName: string; eventNameName: string }): string {
  return `CASE
    WHEN ${fields.occurredAtRaw} IS NULL THEN '${fields.occurredAtName}: missing'
    WHEN ${fields.occurredAt} IS NULL THEN '${fields.occurredAtName}: unreadable timestamp "' || left(CAST(${fields.occurredAtRaw} AS VARCHAR), 60) || '"'
    WHEN ${fields.eventName} IS NULL THEN '${fields.eventNameName}: missing'
  END`;
}
