/**
 * Recognises Amplitude export files. An event record is claimed only when `event_type` comes with several
 * fields no other tool's export uses together (amplitude_id, event_time, server_upload_time, ...); a zip is
 * claimed when its members carry the Export API's `<project>_<YYYY-MM-DD>_<hour>#<n>.json.gz` names.
 */
import type { Detection, FileProbe } from '../source-reader.js';
import { isEventMember } from './amplitude-input.js';

/** The Export API names members `<project id>/<project id>_2024-01-01_5#0.json.gz`. */
const EXPORT_MEMBER = /(^|\/)\d+_\d{4}-\d{2}-\d{2}_\d{1,2}#\d+\.json(\.gz)?$/;

const MARKERS = [
  'amplitude_id',
  'event_time',
  'server_upload_time',
  'server_received_time',
  'client_event_time',
  'client_upload_time',
  'uuid',
  '$insert_id',
  'device_id',
  'session_id',
  'event_properties',
  'user_properties',
  'app',
] as const;

export const AIRBYTE_LAYOUT = 'Amplitude events in Airbyte record messages (NDJSON)';

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** 0 when the record is not an Amplitude event; else how sure. */
function recordConfidence(record: Record<string, unknown>): number {
  if (typeof record.event_type !== 'string') return 0;
  const hits = MARKERS.filter((k) => k in record).length;
  if ('amplitude_id' in record && hits >= 4) return 0.95;
  return hits >= 5 ? 0.75 : 0;
}

export function detectAmplitude(probe: FileProbe): Detection | undefined {
  if (probe.isDirectory) return undefined;
  if (probe.format === 'zip') {
    const events = probe.zipMembers.filter(isEventMember);
    if (events.length === 0) return undefined;
    if (events.some((m) => EXPORT_MEMBER.test(m))) {
      return { format: 'zip', confidence: 0.95, layout: 'Amplitude Export API archive (zip of gzipped NDJSON)' };
    }
    // A zip of gzipped JSON files without the Export API's names: plausible, not certain.
    return events.every((m) => /\.json\.gz$/i.test(m)) ? { format: 'zip', confidence: 0.5, layout: 'zip of gzipped NDJSON (Amplitude Export API?)' } : undefined;
  }
  if (probe.format !== 'ndjson' && probe.format !== undefined) return undefined;
  const record = probe.firstRecord;
  if (record === undefined) return undefined;
  const direct = recordConfidence(record);
  if (direct > 0) {
    const named = EXPORT_MEMBER.test(probe.baseName) ? 0.95 : direct;
    return { format: 'ndjson', confidence: Math.max(direct, named), layout: 'Amplitude Export API events (NDJSON)' };
  }
  // Airbyte's source-amplitude writes each event under `data` with `stream` and `emitted_at` beside it.
  if (isObject(record.data) && typeof record.stream === 'string' && 'emitted_at' in record) {
    const inner = recordConfidence(record.data);
    if (inner > 0) return { format: 'ndjson', confidence: Math.min(inner, 0.9), layout: AIRBYTE_LAYOUT };
  }
  return undefined;
}
