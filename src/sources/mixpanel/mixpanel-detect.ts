/**
 * Recognises Mixpanel raw-export records: exactly `{"event", "properties"}` at the top level with `time` and
 * Mixpanel's own property names inside. PostHog and Segment records also have `event` + `properties`, but
 * carry more top-level keys (uuid, timestamp, type, ...), so the top-level shape keeps them apart.
 */
import type { Detection, FileProbe } from '../source-reader.js';

/** Property names only Mixpanel's ingestion or SDKs write. */
const MIXPANEL_PROPERTIES = ['$insert_id', 'mp_processing_time_ms', 'mp_lib', '$mp_api_endpoint', '$mp_api_timestamp_ms', 'mp_country_code', '$lib_version'];
const IDENTITY_PROPERTIES = ['distinct_id', '$device_id', '$user_id'];

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const LAYOUTS: Partial<Record<string, { format: 'ndjson' | 'json-object'; layout: string }>> = {
  ndjson: { format: 'ndjson', layout: 'Mixpanel raw event export (NDJSON)' },
  // A file whose first line is not JSON: NDJSON when a later line is a Mixpanel record.
  none: { format: 'ndjson', layout: 'Mixpanel raw event export (NDJSON)' },
  'json-object': { format: 'json-object', layout: 'Mixpanel events (pretty-printed JSON objects)' },
};

export function detectMixpanel(probe: FileProbe): Detection | undefined {
  if (probe.isDirectory) return undefined;
  const shape = LAYOUTS[probe.format ?? 'none'];
  if (shape === undefined) return undefined;
  const { format, layout } = shape;
  const record = probe.firstRecord;
  if (record === undefined || typeof record.event !== 'string' || !isObject(record.properties)) return undefined;
  const props = record.properties;
  if (!('time' in props)) return undefined;
  const onlyEventAndProperties = Object.keys(record).every((k) => k === 'event' || k === 'properties');
  const vendorHits = MIXPANEL_PROPERTIES.filter((k) => k in props).length;
  const identityHits = IDENTITY_PROPERTIES.filter((k) => k in props).length;
  if (onlyEventAndProperties && vendorHits >= 1 && vendorHits + identityHits >= 2) {
    return { format, confidence: 0.95, layout };
  }
  // event + properties.time alone: Mixpanel-shaped, but other tools could write it too.
  return { format, confidence: onlyEventAndProperties ? 0.6 : 0.3, layout };
}
