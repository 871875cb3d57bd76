/**
 * Recognises GA4 BigQuery export rows: `event_timestamp` + `event_name` + the repeated `event_params`
 * ({key, value: {string_value, int_value, ...}}) are GA4's alone; `event_date`, `user_pseudo_id` and
 * `event_bundle_sequence_id` add certainty. No other tool's export nests its parameters that way.
 */
import type { Detection, FileProbe } from '../source-reader.js';

const SUPPORTING = ['event_date', 'user_pseudo_id', 'event_bundle_sequence_id', 'stream_id', 'platform'];

function isParamList(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  const first: unknown = value[0];
  if (first === undefined) return true;
  return first !== null && typeof first === 'object' && 'key' in first && 'value' in first;
}

function confidenceOf(fields: readonly string[], paramsLookRight: boolean): number | undefined {
  const has = (f: string): boolean => fields.includes(f);
  if (!has('event_timestamp') || !has('event_name')) return undefined;
  const support = SUPPORTING.filter(has).length;
  if (has('event_params') && paramsLookRight) return support > 0 ? 0.95 : 0.9;
  // Without event_params only the pseudo id and bundle sequence still point at GA4.
  return has('user_pseudo_id') && has('event_bundle_sequence_id') ? 0.7 : undefined;
}

function layoutName(probe: FileProbe, container: string): string {
  const table = /events_intraday_\d{8}/.test(probe.baseName) ? 'intraday table' : /events_\d{8}/.test(probe.baseName) ? 'daily table' : 'events';
  return `GA4 BigQuery export, ${table} (${container})`;
}

/** NDJSON whose first line is broken: judge by the first line of the head that parses. */
function firstParsableLine(head: string): Record<string, unknown> | undefined {
  for (const line of head.split('\n').slice(0, 50)) {
    if (!line.trimStart().startsWith('{')) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // a cut-off line; try the next
    }
  }
  return undefined;
}

export function detectGa4(probe: FileProbe): Detection | undefined {
  switch (probe.format) {
    case 'ndjson':
    case 'json-array':
    case 'json-object': {
      const record = probe.firstRecord ?? (probe.format === 'ndjson' ? firstParsableLine(probe.head) : undefined);
      if (record === undefined) return undefined;
      const confidence = confidenceOf(Object.keys(record), isParamList(record.event_params));
      const container = probe.format === 'ndjson' ? 'NDJSON' : 'JSON';
      return confidence === undefined ? undefined : { format: probe.format, confidence, layout: layoutName(probe, container) };
    }
    case 'parquet': {
      const confidence = confidenceOf(probe.parquetColumns ?? [], true);
      return confidence === undefined ? undefined : { format: 'parquet', confidence, layout: layoutName(probe, 'Parquet') };
    }
    default:
      return undefined;
  }
}
