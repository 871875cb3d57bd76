/**
 * Masking in TypeScript, for what does not pass through the import's SQL: exporters writing exports/, and tests.
 * A text, a JSON value, or a record with the events table's columns, under a policy (pii-policy.ts). The SQL masker
 * (pii-sql.ts) gives the same output for the same policy.
 */
import { PII_JSON_COLUMNS } from '../core/config-schema.js';
import { hashValue, isHashed, piiKeyMissing } from './pii-hash.js';
import { truncateIp } from './pii-ip.js';
import { maskJsonText } from './pii-json.js';
import type { JsonColumn, PiiAction, PiiPolicy } from './pii-policy.js';
import { scanText } from './pii-scanners.js';

function hashed(policy: PiiPolicy, column: string, value: string): string {
  if (isHashed(value)) return value;
  if (policy.key === undefined) throw piiKeyMissing(`${column} is to be hashed`);
  return hashValue(policy.key, value);
}

/** A text value of a column under the column's action (NULL stays NULL). */
export function maskTextValue(policy: PiiPolicy, column: string, value: string | null): string | null {
  if (value === null) return null;
  const action: PiiAction = policy.columns[column] ?? 'keep';
  switch (action) {
    case 'keep':
      return value;
    case 'drop':
      return null;
    case 'mask':
      return scanText(value, policy.scanners);
    case 'hash':
      return hashed(policy, column, value);
    case 'hash_if_pii':
      return scanText(value, policy.scanners) === value ? value : hashed(policy, column, value);
    case 'truncate':
      return truncateIp(value);
  }
}

/** A JSON value (object, array, scalar) under a JSON column's action and member rules. */
export function maskJsonValue(policy: PiiPolicy, column: JsonColumn, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const action = policy.columns[column];
  if (action === 'drop') return null;
  if (action === 'keep') return value;
  return JSON.parse(maskJsonText(JSON.stringify(value), { scanners: policy.scanners, rules: policy.members[column], key: policy.key, column })) as unknown;
}

/**
 * A row with (some of) the events table's columns: each column under its rule; columns the policy does not name
 * (timestamps, flags, source, event_kind) pass through. An exporter writing a vendor's own format maps the vendor's
 * fields onto these columns first (its user id field is user_id, its event properties are properties, ...).
 */
export function maskRecord<T extends Record<string, unknown>>(policy: PiiPolicy, record: T): T {
  const out: Record<string, unknown> = { ...record };
  for (const [column, value] of Object.entries(record)) {
    if ((PII_JSON_COLUMNS as readonly string[]).includes(column)) out[column] = maskJsonValue(policy, column as JsonColumn, value);
    else if (policy.columns[column] !== undefined && (typeof value === 'string' || value === null)) out[column] = maskTextValue(policy, column, value);
  }
  return out as T;
}
