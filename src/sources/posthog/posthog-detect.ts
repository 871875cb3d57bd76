/**
 * Recognises PostHog event exports. A PostHog event is unmistakable when it has `uuid`, `event`, `distinct_id`
 * and `timestamp` at the top level plus a PostHog-only trait: `$`-prefixed properties ($lib, $session_id, ...)
 * or a batch-export field (elements_chain, team_id, person_id, person_properties, _inserted_at, created_at).
 * Mixpanel keeps distinct_id inside properties, Amplitude says event_type, Segment says userId/messageId.
 */
import type { Detection, FileProbe } from '../source-reader.js';
import { normaliseCsvName } from './posthog-docs.js';

const BATCH_EXPORT_FIELDS = ['elements_chain', 'team_id', 'person_id', 'person_properties', '_inserted_at', 'created_at'];

function objectOrJsonText(value: unknown): Record<string, unknown> | undefined {
  if (typeof value === 'string') {
    try {
      return objectOrJsonText(JSON.parse(value));
    } catch {
      return undefined;
    }
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** How sure we are that one record is a PostHog event; undefined when it is not one. */
function eventConfidence(record: Record<string, unknown>): number | undefined {
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(record, k);
  if (!has('event') || !has('distinct_id') || !has('timestamp') || !(has('uuid') || has('id'))) return undefined;
  const props = objectOrJsonText(record.properties);
  const dollarProps = props !== undefined && Object.keys(props).some((k) => k.startsWith('$'));
  const exportField = BATCH_EXPORT_FIELDS.some(has);
  if (has('uuid') && (dollarProps || exportField)) return 0.95;
  return dollarProps || exportField ? 0.85 : 0.5;
}

/** NDJSON whose first line is broken: judge by the first line that parses. */
function firstParsableLine(head: string): Record<string, unknown> | undefined {
  for (const line of head.split('\n').slice(0, 50)) {
    if (!line.trimStart().startsWith('{')) continue;
    const record = objectOrJsonText(line);
    if (record !== undefined) return record;
  }
  return undefined;
}

function detectJsonObject(probe: FileProbe): Detection | undefined {
  const page = probe.firstRecord;
  const layout = 'PostHog query API results (JSON)';
  if (page === undefined) {
    // A page larger than the probe's head: judge by its text.
    const head = probe.head;
    if (!/^\s*\{/.test(head) || !/"results"\s*:\s*\[\s*[[{]/.test(head)) return undefined;
    if (/"columns"\s*:\s*\[[^\]]*"event"/.test(head) && /"columns"\s*:\s*\[[^\]]*"uuid"/.test(head)) return { format: 'json-object', confidence: 0.9, layout };
    return /\$pageview|\$autocapture|\\"\$lib\\"|"\$lib"|\\"\$session_id\\"|"\$session_id"/.test(head)
      ? { format: 'json-object', confidence: 0.7, layout }
      : undefined;
  }
  const results = page.results;
  if (Array.isArray(results)) {
    const columns = page.columns;
    const first: unknown = results[0];
    if (Array.isArray(columns) && columns.includes('event') && (columns.includes('uuid') || columns.includes('distinct_id'))) {
      return { format: 'json-object', confidence: 0.95, layout };
    }
    const row = objectOrJsonText(first);
    const confidence = row === undefined ? undefined : eventConfidence(row);
    return confidence === undefined ? undefined : { format: 'json-object', confidence, layout: 'PostHog events API page (JSON)' };
  }
  const confidence = eventConfidence(page);
  return confidence === undefined ? undefined : { format: 'json-object', confidence, layout: 'PostHog event (JSON)' };
}

function detectColumns(columns: readonly string[]): number | undefined {
  const names = new Set(columns.map(normaliseCsvName));
  if (!['uuid', 'event', 'distinct_id', 'timestamp'].every((c) => names.has(c))) return undefined;
  const traits = ['properties', 'elements_chain', 'person_id', 'person_properties', 'team_id'].some((c) => names.has(c));
  const flattened = [...names].some((c) => c.startsWith('properties.$'));
  return traits || flattened ? 0.9 : 0.5;
}

export function detectPosthog(probe: FileProbe): Detection | undefined {
  switch (probe.format) {
    case 'ndjson': {
      // A query page saved on one line probes as NDJSON; read_json_objects reads it either way.
      if (probe.firstRecord !== undefined && Array.isArray(probe.firstRecord.results)) return detectJsonObject(probe);
      const record = probe.firstRecord ?? firstParsableLine(probe.head);
      const confidence = record === undefined ? undefined : eventConfidence(record);
      return confidence === undefined ? undefined : { format: 'ndjson', confidence, layout: 'PostHog batch export (JSONL)' };
    }
    case 'json-array': {
      const confidence = probe.firstRecord === undefined ? undefined : eventConfidence(probe.firstRecord);
      return confidence === undefined ? undefined : { format: 'json-array', confidence, layout: 'PostHog events (JSON array)' };
    }
    case 'json-object':
      return detectJsonObject(probe);
    case 'parquet': {
      const confidence = detectColumns(probe.parquetColumns ?? []);
      return confidence === undefined ? undefined : { format: 'parquet', confidence, layout: 'PostHog batch export (Parquet)' };
    }
    case 'csv': {
      const confidence = detectColumns(probe.csvHeader ?? []);
      return confidence === undefined ? undefined : { format: 'csv', confidence, layout: 'PostHog events (CSV)' };
    }
    default:
      return undefined;
  }
}
