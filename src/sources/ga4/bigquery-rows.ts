/**
 * BigQuery's REST rows (`{f: [{v: ...}]}`, every scalar a string) → the JSON that BigQuery's own NDJSON export
 * writes, which is what the GA4 reader imports (ga4-docs.ts): INT64 stays a string (its digits exact), FLOAT64 a
 * number, BOOL a boolean, RECORD an object, REPEATED an array, NULL null. The client library's parser is not
 * used: it turns INT64 into lossy numbers (or wrapper objects), NUMERIC into Big and BYTES into Buffers.
 */

/** A field of a table schema as tables.get / getQueryResults return it. */
export interface BigQueryField {
  readonly name: string;
  readonly type: string;
  readonly mode?: string | undefined;
  readonly fields?: readonly BigQueryField[] | undefined;
}

export interface BigQueryRestRow {
  readonly f: readonly { readonly v: unknown }[];
}

const MICROS_PER_SECOND = 1_000_000n;

/** A TIMESTAMP cell (int64 µs with formatOptions.useInt64Timestamp, else float seconds) as BigQuery's JSON export writes it. */
function timestampText(v: string): string {
  let micros: bigint;
  if (/^-?\d+$/.test(v)) micros = BigInt(v);
  else {
    const seconds = Number(v);
    if (!Number.isFinite(seconds)) return v;
    micros = BigInt(Math.round(seconds * 1e6));
  }
  const secs = micros / MICROS_PER_SECOND - (micros % MICROS_PER_SECOND < 0n ? 1n : 0n);
  const frac = micros - secs * MICROS_PER_SECOND;
  const base = new Date(Number(secs) * 1000).toISOString().slice(0, 19).replace('T', ' ');
  return frac === 0n ? `${base} UTC` : `${base}.${String(frac).padStart(6, '0')} UTC`;
}

function scalar(field: BigQueryField, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') return v;
  switch (field.type) {
    case 'FLOAT':
    case 'FLOAT64': {
      const n = Number(v);
      // NaN and ±Infinity have no JSON number: BigQuery writes them as strings too.
      return Number.isFinite(n) ? n : v;
    }
    case 'BOOLEAN':
    case 'BOOL':
      return v.toLowerCase() === 'true';
    case 'TIMESTAMP':
      return timestampText(v);
    default:
      // INT64, NUMERIC, BIGNUMERIC, STRING, BYTES (base64), DATE, DATETIME, TIME, GEOGRAPHY, JSON: text as sent.
      return v;
  }
}

function cell(field: BigQueryField, v: unknown): unknown {
  if (field.type === 'RECORD' || field.type === 'STRUCT') {
    return v === null || v === undefined ? null : rowObject(field.fields ?? [], v as BigQueryRestRow);
  }
  return scalar(field, v);
}

function value(field: BigQueryField, v: unknown): unknown {
  if (field.mode === 'REPEATED') {
    // A repeated field is never NULL in BigQuery: absent means an empty array.
    if (!Array.isArray(v)) return [];
    return v.map((item: { v: unknown }) => cell(field, item.v));
  }
  return cell(field, v);
}

/** One REST row as an object, its members in schema order. */
export function rowObject(fields: readonly BigQueryField[], row: BigQueryRestRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  fields.forEach((field, i) => {
    out[field.name] = value(field, row.f[i]?.v);
  });
  return out;
}
