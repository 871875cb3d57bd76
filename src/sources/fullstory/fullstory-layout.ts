/**
 * Recognises FullStory's two raw-event layouts from a probe: the Segment Export (PascalCase fields such as
 * EventStart / EventType / UserId) and the newer events table of Data Destinations / Anywhere: Warehouse
 * (event_id, event_time, device_id, view_id, source_properties, ...). Each check looks at several distinctive
 * fields, because single names like "event_type" or "device_id" also appear in Amplitude exports.
 */
import type { FileFormat, FileProbe } from '../source-reader.js';

export type FullstoryLayout = 'segment-export' | 'events-table';

/** Formats each layout is read from; anything else is not claimed. */
const SEGMENT_FORMATS: readonly FileFormat[] = ['json-array', 'ndjson', 'csv'];
const EVENTS_TABLE_FORMATS: readonly FileFormat[] = ['ndjson', 'csv', 'parquet'];

const SEGMENT_CONTEXT = ['SessionId', 'PageId', 'IndvId', 'UserAppKey', 'PageUrl', 'EventTargetText', 'EventCustomName'];
const EVENTS_TABLE_CONTEXT = ['view_id', 'session_id', 'source_type', 'source_properties', 'updated_time', 'processed_time'];
/** Amplitude's export shares event_id/event_time/event_type/device_id; these keys only it has. */
const FOREIGN_KEYS = ['amplitude_id', 'uuid', '$insert_id', 'event', 'distinct_id'];

export function isSegmentExport(names: ReadonlySet<string>): boolean {
  if (!names.has('EventStart') || !names.has('EventType') || !names.has('UserId')) return false;
  return SEGMENT_CONTEXT.some((n) => names.has(n));
}

export function isEventsTable(names: ReadonlySet<string>): boolean {
  for (const n of ['event_id', 'event_time', 'event_type', 'device_id']) if (!names.has(n)) return false;
  if (FOREIGN_KEYS.some((n) => names.has(n))) return false;
  // Server-API events may lack session_id/view_id, so two of the remaining envelope fields suffice.
  return EVENTS_TABLE_CONTEXT.filter((n) => names.has(n)).length >= 2 && (names.has('source_type') || names.has('source_properties'));
}

/**
 * The field names the probe shows: the first record (or, for NDJSON whose first line is damaged, the first
 * parseable object line of the head), the CSV header, or the Parquet columns.
 */
export function probeFieldNames(probe: FileProbe): ReadonlySet<string> | undefined {
  if (probe.format === 'csv' && probe.csvHeader !== undefined) return new Set(probe.csvHeader);
  if (probe.format === 'parquet' && probe.parquetColumns !== undefined) return new Set(probe.parquetColumns);
  if (probe.format === 'json-array' || probe.format === 'ndjson') {
    const record = probe.firstRecord ?? (probe.format === 'ndjson' ? firstObjectLine(probe.head) : undefined);
    return record === undefined ? undefined : new Set(Object.keys(record));
  }
  return undefined;
}

function firstObjectLine(head: string): Record<string, unknown> | undefined {
  // The last line of the head may be cut at 64 KiB; a cut line simply fails to parse.
  for (const line of head.split('\n').slice(0, 50)) {
    const text = line.trim();
    if (!text.startsWith('{')) continue;
    try {
      const value: unknown = JSON.parse(text);
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // a damaged line: try the next one
    }
  }
  return undefined;
}

export function classifyProbe(probe: FileProbe): FullstoryLayout | undefined {
  if (probe.format === undefined) return undefined;
  const names = probeFieldNames(probe);
  if (names === undefined) return undefined;
  if (SEGMENT_FORMATS.includes(probe.format) && isSegmentExport(names)) return 'segment-export';
  if (EVENTS_TABLE_FORMATS.includes(probe.format) && isEventsTable(names)) return 'events-table';
  return undefined;
}

const FORMAT_LABEL: Record<FileFormat, string> = {
  ndjson: 'NDJSON',
  'json-array': 'JSON array',
  'json-object': 'JSON object',
  csv: 'CSV',
  parquet: 'Parquet',
  zip: 'zip',
  'avro-folder': 'Avro',
};

export function layoutLabel(layout: FullstoryLayout, format: FileFormat): string {
  const name = layout === 'segment-export' ? 'FullStory Segment Export' : 'FullStory events table';
  return `${name} (${FORMAT_LABEL[format]})`;
}
