/**
 * Test-only: writes Heap Connect-shaped S3 copies (Avro object-container files plus manifests) into a temp
 * folder. No public Heap Connect file exists, so fixtures are built from the documented schema
 * (docs/sources/heap.md) with avsc. Longs are bigints so ids beyond 2^53 are written exactly.
 */
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import avro from 'avsc';
import { AVRO_ENCODERS } from '../../../core/avro-codecs.js';
import { exactLong } from '../../../core/avro-exact-long.js';

export type Codec = 'null' | 'deflate' | 'snappy';
export type FieldType = 'long' | 'string' | 'double' | 'boolean' | 'int';

/** Every column nullable, as Heap Connect writes them (["null", T] unions). */
export function recordType(name: string, fields: Record<string, FieldType>): avro.Type {
  const schema = {
    type: 'record',
    name,
    fields: Object.entries(fields).map(([field, type]) => ({ name: field, type: ['null', type], default: null })),
  };
  return avro.Type.forSchema(schema as never, { typeHook: (s: unknown) => (s === 'long' ? exactLong : undefined) } as never);
}

export async function writeAvro(path: string, type: avro.Type, records: Record<string, unknown>[], codec: Codec, blockSize?: number): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const fields = (type.schema() as { fields: { name: string }[] }).fields.map((f) => f.name);
  const encoder = new avro.streams.BlockEncoder(type as never, { codec, codecs: AVRO_ENCODERS, ...(blockSize === undefined ? {} : { blockSize }) } as never);
  const file = createWriteStream(path);
  // Wait for the file to close, not for the encoder to finish: tests cut or overwrite the file right after.
  const closed = once(file, 'close');
  encoder.pipe(file);
  for (const r of records) encoder.write(Object.fromEntries(fields.map((f) => [f, r[f] ?? null])));
  encoder.end();
  await closed;
}

export interface ManifestTable {
  name: string;
  files: string[];
  incremental: boolean;
  columns: string[];
}

export function writeManifest(root: string, fileName: string, dumpId: number, tables: ManifestTable[]): void {
  mkdirSync(join(root, 'manifests'), { recursive: true });
  const manifest = { dump_id: dumpId, tables, property_definitions: 's3://heap-rs3-test/property_definitions.json' };
  writeFileSync(join(root, 'manifests', fileName), JSON.stringify(manifest, null, 2));
}

/** s3:// URL of a file of a dump, as Heap lists it in a manifest. */
export const s3Url = (relPath: string): string => `s3://heap-rs3-test/${relPath}`;

export const HEAP_FIELDS = {
  users: { user_id: 'long', identity: 'string', joindate: 'long', last_modified: 'long', email: 'string', plan_tier: 'string' },
  sessions: {
    session_id: 'long', user_id: 'long', time: 'long', library: 'string', platform: 'string', device_type: 'string',
    device: 'string', country: 'string', region: 'string', city: 'string', ip: 'string', referrer: 'string',
    landing_page: 'string', browser: 'string', utm_source: 'string', utm_campaign: 'string', utm_medium: 'string',
    utm_term: 'string', utm_content: 'string',
  },
  pageviews: {
    event_id: 'long', user_id: 'long', session_id: 'long', time: 'long', domain: 'string', path: 'string',
    query: 'string', hash: 'string', title: 'string', heap_previous_page: 'string', library: 'string', platform: 'string',
    device_type: 'string', browser: 'string', country: 'string', referrer: 'string',
  },
  all_events: { event_id: 'long', user_id: 'long', session_id: 'long', time: 'long', event_table_name: 'string' },
  user_migrations: { from_user_id: 'long', to_user_id: 'long', time: 'long' },
} as const satisfies Record<string, Record<string, FieldType>>;
