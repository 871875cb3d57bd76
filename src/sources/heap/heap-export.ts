/**
 * Heap's exporter (vendor-export-apis.md §4): Heap has no REST raw export; Heap Connect writes one dump a day into
 * the customer's `heap-rs3-…` S3 bucket — `sync_<dump_id>/<table>/part-*.avro` — and signals a finished dump by
 * writing `manifests/*.json`. So the export reads **manifests first**:
 *  1. list `manifests/` and read every manifest; a dump is offered only once a manifest names it (a sync folder
 *     without one is still being written, or failed);
 *  2. per dump not yet exported (incremental by dump id), the files its manifest lists — except tables a later
 *     full dump (`incremental: false`) replaces, as tap-heap and the Heap reader do;
 *  3. list `sync_<dump_id>/` to learn each listed file's size: a listed file that is not there fails the dump
 *     (`export_file_missing`, exit 5); each download must deliver that size, and its Avro framing must be whole;
 *  4. mask every record by the PII policy and write the file again as Avro (heap-avro-mask.ts) into
 *     `exports/heap/sync_<dump_id>/<table>/`, then a copy of the manifest listing exactly what was written into
 *     `exports/heap/manifests/` — the layout the Heap reader imports (a bucket copy, or one sync folder).
 * Or the same from a local folder a team already syncs from the bucket (`local_path`).
 */
import { basename, isAbsolute, join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { UsageLabError, isUsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { fullJitterDelay } from '../export/backoff.js';
import type { EndpointSpec, ExporterSettings, ProbeOptions, ProbeResult, SyncExporterDefinition } from '../export/exporter-definition.js';
import { windowError } from '../export/export-errors.js';
import type { RecordLayout } from '../export/record-layout.js';
import type { ListContext, SyncContext, SyncExporter, SyncOutcome, SyncRef } from '../export/sync-export-run.js';
import { maskAvroFile } from './heap-avro-mask.js';
import { openFolderStore, openS3Store, type HeapStore, type StoredObject } from './heap-store.js';
import { heapManifestSchema } from './heap-sync-plan.js';

/** Heap Connect's sync region; the bucket may live elsewhere (sources.heap.s3_region). */
export const HEAP_DEFAULT_REGION = 'us-east-1';
const MANIFEST_KEY = /^manifests\/[^/]+\.json$/;
const SYNC_PART = /(?:^|\/)(sync_(\d+)\/[^/]+\/[^/]+\.avro)$/;
const S3_TIMEOUT_MS = 60_000;

interface ManifestTable {
  readonly name: string;
  readonly files: readonly string[];
  readonly incremental?: boolean | undefined;
  readonly columns?: readonly string[] | undefined;
}

interface HeapManifestDoc {
  readonly key: string;
  readonly lastModified: number;
  readonly dumpId: number;
  /** The manifest as Heap wrote it (other fields, e.g. property_definitions, are kept in the copy). */
  readonly raw: Record<string, unknown>;
  readonly tables: readonly ManifestTable[];
}

export interface HeapExportOptions {
  /** Opens the bucket or folder (once, on first use). */
  readonly open: () => Promise<HeapStore>;
  /** Files downloaded at once within a dump. */
  readonly fileConcurrency?: number | undefined;
}

/** Runs `fn` with the run's backoff on retryable failures; gives up with the last error (no longer retryable). */
async function withRetries<T>(ctx: ListContext, what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    ctx.addRequest();
    try {
      return await fn();
    } catch (err) {
      if (!isUsageLabError(err) || !err.retryable) throw err;
      if (attempt >= ctx.backoff.maxAttempts) {
        throw new UsageLabError(err.exitCode === EXIT.unavailable ? 'export_remote_unavailable' : err.code, `${what}: gave up after ${attempt} attempts; last error: ${err.message}`, {
          exitCode: err.exitCode,
          hint: err.hint ?? 'run the export again later with --resume (done syncs are kept)',
          place: { source: 'heap' },
          cause: err,
        });
      }
      ctx.addRetry();
      const before = ctx.clock.now();
      await ctx.clock.sleep(fullJitterDelay(attempt, ctx.backoff, ctx.random), ctx.signal);
      ctx.addWait('backoff', ctx.clock.now() - before);
    }
  }
}

function parseManifest(text: string, key: string, lastModified: number): HeapManifestDoc {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw windowError('export_record_invalid', `${key}: the Heap manifest is not JSON (${(err as Error).message})`, {
      hint: 'Heap writes manifests as JSON; a damaged one is read again on the next run — if it persists, ask Heap support',
      cause: err,
    });
  }
  const parsed = heapManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw windowError('export_record_invalid', `${key}: ${issue.path.join('.') || 'manifest'}: ${issue.message}`, {
      hint: 'the manifest lacks what usagelab needs (dump_id, tables[].name, tables[].files)',
    });
  }
  return { key, lastModified, dumpId: Number(parsed.data.dump_id), raw: json as Record<string, unknown>, tables: parsed.data.tables };
}

/** The `sync_<id>/<table>/<file>.avro` part of a manifest's file URL (the reader maps URLs the same way). */
function syncPart(url: string, manifest: string): { relPath: string; dumpId: number } {
  const m = SYNC_PART.exec(url);
  if (m === null) {
    throw windowError('export_record_invalid', `${manifest} lists "${url}", which is not a sync_<dump_id>/<table>/<file>.avro path`, {
      hint: 'usagelab reads the S3 layout Heap Connect writes; report the manifest so support can be added',
    });
  }
  return { relPath: m[1]!, dumpId: Number(m[2]) };
}

async function mapLimit<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  let failure: unknown;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(width, queue.length)) }, async () => {
      for (let item = queue.shift(); item !== undefined && failure === undefined; item = queue.shift()) {
        try {
          await fn(item);
        } catch (err) {
          failure ??= err;
        }
      }
    }),
  );
  if (failure !== undefined) throw failure;
}

export function createHeapExporter(options: HeapExportOptions): SyncExporter {
  let opened: Promise<HeapStore> | undefined;
  let store: HeapStore | undefined;
  const open = async (): Promise<HeapStore> => (store ??= await (opened ??= options.open()));
  const manifests = new Map<number, HeapManifestDoc[]>();
  const fileConcurrency = options.fileConcurrency ?? 2;

  /** The tables of `dumpId` a later full dump replaces: not worth downloading. */
  const superseded = (dumpId: number): Set<string> => {
    const out = new Set<string>();
    for (const [later, docs] of manifests) {
      if (later <= dumpId) continue;
      for (const d of docs) for (const t of d.tables) if (t.incremental === false) out.add(t.name);
    }
    return out;
  };

  return {
    source: 'heap',
    displayName: 'Heap',
    defaultConcurrency: 1,

    async listSyncs(ctx: ListContext): Promise<SyncRef[]> {
      const s = await open();
      const listed = await withRetries(ctx, `listing ${s.where}manifests/`, () => s.list('manifests/', ctx.signal));
      const keys = listed.filter((o) => MANIFEST_KEY.test(o.key));
      manifests.clear();
      await mapLimit(keys, 4, async (o) => {
        const text = await withRetries(ctx, `reading ${s.where}${o.key}`, () => s.readText(o.key, ctx.signal));
        const doc = parseManifest(text, `${s.where}${o.key}`, o.lastModified);
        const docs = manifests.get(doc.dumpId) ?? [];
        docs.push({ ...doc, key: o.key });
        manifests.set(doc.dumpId, docs);
      });
      return [...manifests.entries()]
        .sort(([a], [b]) => a - b)
        .map(([dumpId, docs]) => ({ key: `sync_${dumpId}`, order: dumpId, finishedAt: Math.max(...docs.map((d) => d.lastModified)) }));
    },

    async exportSync(sync: SyncRef, outer: SyncContext): Promise<SyncOutcome> {
      const s = await open();
      let requests = 0;
      const ctx: SyncContext = {
        ...outer,
        addRequest: () => {
          requests += 1;
          outer.addRequest();
        },
      };
      const dumpId = sync.order;
      const docs = [...(manifests.get(dumpId) ?? [])].sort((a, b) => a.key.localeCompare(b.key));
      const replaced = superseded(dumpId);
      // Several manifests for one dump are merged (tap-heap and the reader do the same).
      const wanted = new Map<string, { table: string; manifest: string }>();
      for (const d of docs) {
        for (const t of d.tables) {
          if (replaced.has(t.name)) continue;
          for (const url of t.files) {
            const part = syncPart(url, `${s.where}${d.key}`);
            if (part.dumpId !== dumpId) {
              throw windowError('export_record_invalid', `${s.where}${d.key} (dump ${dumpId}) lists a file of dump ${part.dumpId}: ${url}`, { hint: 'the manifest is inconsistent; ask Heap support to resync the dump' });
            }
            wanted.set(part.relPath, { table: t.name, manifest: d.key });
          }
        }
      }
      const present = new Map<string, StoredObject>();
      if (wanted.size > 0) {
        for (const o of await withRetries(ctx, `listing ${s.where}${sync.key}/`, () => s.list(`${sync.key}/`, ctx.signal))) present.set(o.key, o);
      }
      const missing = [...wanted.keys()].filter((k) => !present.has(k)).sort();
      if (missing.length > 0) {
        throw windowError('export_file_missing', `${sync.key}: ${missing.length} file(s) its manifest lists are not in ${s.where}: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}`, {
          hint: 'Heap lists every file of a finished sync in its manifest; if the bucket copy is incomplete sync it again, else ask Heap support to resync the dump',
          place: { source: 'heap', file: `${s.where}${missing[0]}` },
        });
      }

      let rows = 0;
      let maxTime: bigint | undefined;
      const widened: Record<string, string[]> = {};
      await mapLimit([...wanted.entries()].sort(([a], [b]) => a.localeCompare(b)), fileConcurrency, async ([relPath, { table }]) => {
        const listedSize = present.get(relPath)!.size;
        const folder = join(ctx.folder, table);
        mkdirSync(folder, { recursive: true });
        // A damaged download (short, cut Avro framing, bad block checksum) is fetched again like a failed request.
        const masked = await withRetries(ctx, `${s.where}${relPath}`, async () => {
          const download = await s.download(relPath, ctx.tempDir, listedSize, (bytes) => ctx.addBytesReceived(bytes), ctx.signal);
          try {
            return await maskAvroFile(download, join(folder, basename(relPath)), ctx.tempDir, relPath, ctx.transformFor(table));
          } finally {
            download.dispose();
          }
        });
        rows += masked.records;
        ctx.addRows(masked.records);
        if (masked.maxTime !== undefined && (maxTime === undefined || masked.maxTime > maxTime)) maxTime = masked.maxTime;
        if (masked.widened.length > 0) widened[relPath] = [...masked.widened];
      });

      const kept = new Set(wanted.keys());
      const sideFiles = docs.map((d) => ({
        path: `manifests/${basename(d.key)}`,
        content: `${JSON.stringify(
          {
            ...d.raw,
            tables: d.tables
              .filter((t) => !replaced.has(t.name))
              .map((t) => ({ ...((d.raw.tables as Record<string, unknown>[]).find((r) => r.name === t.name) ?? {}), files: t.files.filter((f) => kept.has(syncPart(f, d.key).relPath)) })),
          },
          null,
          2,
        )}\n`,
      }));
      return {
        rows,
        highWaterMark: maxTime === undefined ? null : new Date(Number(maxTime)).toISOString(),
        cursor: {
          dump_id: dumpId,
          manifests: docs.map((d) => d.key),
          files: kept.size,
          ...(replaced.size > 0 ? { superseded_tables: [...replaced].sort() } : {}),
          ...(Object.keys(widened).length > 0 ? { widened_columns: widened } : {}),
        },
        requests,
        sideFiles,
      };
    },

    close(): void {
      store?.close();
    },
  };
}

/** Event tables: Heap's columns by canonical column (docs/sources/heap.md, Mapping). */
export const HEAP_EVENT_LAYOUT: RecordLayout = {
  fields: [
    { path: ['event_id'], column: 'source_event_id' },
    { path: ['user_id'], column: 'anonymous_id' },
    { path: ['from_user_id'], column: 'anonymous_id' },
    { path: ['to_user_id'], column: 'anonymous_id' },
    { path: ['session_id'], column: 'vendor_session_id' },
    { path: ['identity'], column: 'user_id' },
    { path: ['event_table_name'], column: 'event_name' },
    { path: ['domain'], column: 'page_url' },
    { path: ['path'], column: 'page_url' },
    { path: ['query'], column: 'page_url' },
    { path: ['hash'], column: 'page_url' },
    { path: ['landing_page'], column: 'page_url' },
    { path: ['landing_page_query'], column: 'page_url' },
    { path: ['landing_page_hash'], column: 'page_url' },
    { path: ['referrer'], column: 'referrer' },
    { path: ['heap_previous_page'], column: 'referrer' },
    { path: ['target_text'], column: 'element_text' },
    { path: ['hierarchy'], column: 'element_selector' },
    { path: ['device_type'], column: 'device_type' },
    { path: ['browser'], column: 'browser' },
    { path: ['platform'], column: 'os' },
    { path: ['country'], column: 'country' },
  ],
  rest: 'properties',
};

/** The users table: its other columns (email, joindate, custom user properties) are user properties. */
export const HEAP_USER_LAYOUT: RecordLayout = {
  fields: [
    { path: ['user_id'], column: 'anonymous_id' },
    { path: ['identity'], column: 'user_id' },
  ],
  rest: 'user_properties',
};

const S3_AUTH = { kind: 'awsv4', accessKey: '{{AWS_ACCESS_KEY_ID}}', secretKey: '{{AWS_SECRET_ACCESS_KEY}}', region: '{{HEAP_S3_REGION}}', service: 's3' } as const;
const S3_LIMITS = 'S3: at least 5,500 GET and 3,500 LIST requests per second per prefix; SlowDown (503) when exceeded, retried with backoff';

export const HEAP_ENDPOINTS: readonly EndpointSpec[] = [
  {
    kind: 'http',
    name: 'list manifests',
    method: 'GET',
    url: '{{HEAP_S3_ENDPOINT}}/{{HEAP_S3_BUCKET}}/?list-type=2&prefix={{HEAP_S3_PREFIX}}manifests/',
    auth: S3_AUTH,
    purpose: 'ListObjectsV2: the manifests Heap wrote, one per finished sync (paged with continuation-token); with max-keys=1 the `usagelab check` probe',
    limits: S3_LIMITS,
  },
  {
    kind: 'http',
    name: 'get manifest',
    method: 'GET',
    url: '{{HEAP_S3_ENDPOINT}}/{{HEAP_S3_BUCKET}}/{{HEAP_S3_PREFIX}}manifests/{{manifest}}.json',
    auth: S3_AUTH,
    purpose: 'GetObject: a manifest — dump_id, and per table its files, columns and whether the dump is incremental',
    limits: S3_LIMITS,
  },
  {
    kind: 'http',
    name: 'list sync files',
    method: 'GET',
    url: '{{HEAP_S3_ENDPOINT}}/{{HEAP_S3_BUCKET}}/?list-type=2&prefix={{HEAP_S3_PREFIX}}sync_{{dump_id}}/',
    auth: S3_AUTH,
    purpose: "ListObjectsV2: the files of one sync with their sizes (a file the manifest lists must be there, and each download must have the listed size)",
    limits: S3_LIMITS,
  },
  {
    kind: 'http',
    name: 'get sync file',
    method: 'GET',
    url: '{{HEAP_S3_ENDPOINT}}/{{HEAP_S3_BUCKET}}/{{HEAP_S3_PREFIX}}sync_{{dump_id}}/{{table}}/{{file}}.avro',
    auth: S3_AUTH,
    purpose: 'GetObject: one Avro file (snappy) of a table of the sync',
    limits: S3_LIMITS,
  },
];

function s3Settings(settings: ExporterSettings): Parameters<typeof openS3Store>[0] {
  const s = settings.section;
  const bucket = typeof s.s3_bucket === 'string' && s.s3_bucket !== '' ? s.s3_bucket : undefined;
  if (bucket === undefined) {
    throw new UsageLabError('export_config_missing', 'sources.heap needs s3_bucket (the heap-rs3-… bucket Heap Connect writes to) or local_path (a folder copy of it)', {
      place: { source: 'heap', field: 'sources.heap.s3_bucket' },
      hint: 'add `s3_bucket: heap-rs3-<yours>` (and s3_region if it is not us-east-1) or `local_path: <folder>` under sources.heap in usagelab.yaml',
    });
  }
  const rawPrefix = typeof s.s3_prefix === 'string' ? s.s3_prefix.replace(/^\/+/, '') : '';
  const prefix = rawPrefix === '' || rawPrefix.endsWith('/') ? rawPrefix : `${rawPrefix}/`;
  const endpoint = settings.endpoint ?? (typeof s.s3_endpoint === 'string' ? s.s3_endpoint : undefined);
  const keyId = settings.credentials.aws_access_key_id;
  const secretKey = settings.credentials.aws_secret_access_key;
  const origin = (key: string, variable: string): string => settings.origins[key] ?? variable;
  if ((keyId === undefined) !== (secretKey === undefined)) {
    const [has, lacks] = keyId === undefined ? ['AWS_SECRET_ACCESS_KEY', origin('aws_access_key_id', 'AWS_ACCESS_KEY_ID')] : ['AWS_ACCESS_KEY_ID', origin('aws_secret_access_key', 'AWS_SECRET_ACCESS_KEY')];
    throw new UsageLabError('export_credentials_missing', `Heap (S3): ${has} is set but ${lacks} is not`, {
      place: { source: 'heap' },
      hint: 'set both AWS keys in .env, or neither (then the AWS SDK uses your profile, SSO session or instance role)',
    });
  }
  return {
    bucket,
    prefix,
    region: typeof s.s3_region === 'string' && s.s3_region !== '' ? s.s3_region : HEAP_DEFAULT_REGION,
    endpoint,
    forcePathStyle: typeof s.s3_force_path_style === 'boolean' ? s.s3_force_path_style : endpoint !== undefined,
    credentials:
      keyId === undefined || secretKey === undefined
        ? undefined
        : { accessKeyId: keyId, secretAccessKey: secretKey, sessionToken: settings.credentials.aws_session_token },
    origins:
      keyId === undefined
        ? 'the AWS credentials the SDK found (AWS_PROFILE, SSO session or instance role; or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in .env)'
        : `${origin('aws_access_key_id', 'AWS_ACCESS_KEY_ID')} and ${origin('aws_secret_access_key', 'AWS_SECRET_ACCESS_KEY')}`,
    timeoutMs: S3_TIMEOUT_MS,
  };
}

function localFolder(settings: ExporterSettings): string | undefined {
  const p = settings.section.local_path;
  if (typeof p !== 'string' || p === '') return undefined;
  if (typeof settings.section.s3_bucket === 'string' && settings.section.s3_bucket !== '') {
    throw new UsageLabError('export_config_invalid', 'sources.heap sets both s3_bucket and local_path', {
      place: { source: 'heap', field: 'sources.heap.local_path' },
      hint: 'keep s3_bucket to read the bucket, or local_path to read a folder copy of it',
    });
  }
  return isAbsolute(p) ? p : resolve(settings.root ?? process.cwd(), p);
}

function openerFor(settings: ExporterSettings): () => Promise<HeapStore> {
  const folder = localFolder(settings);
  if (folder !== undefined) return async () => openFolderStore(folder);
  const s3 = s3Settings(settings);
  return () => openS3Store(s3);
}

/** ListObjectsV2 of manifests/ with max-keys 1 (S3), or the folder's manifests/ (local). */
async function probeHeap(settings: ExporterSettings, options: ProbeOptions = {}): Promise<ProbeResult> {
  const store = await openerFor(settings)();
  try {
    const found = (await store.list('manifests/', options.signal, 1)).filter((o) => o.key.startsWith('manifests/')).length;
    if (found === 0) {
      throw new UsageLabError('export_request_rejected', `${store.where} holds no manifests/*.json`, {
        exitCode: EXIT.usage,
        hint: 'check sources.heap.s3_prefix / local_path: Heap Connect writes manifests/ and sync_<id>/ at the top of its bucket (or under the prefix you gave it)',
        place: { source: 'heap' },
      });
    }
    return { ok: true, detail: `Heap Connect: ${store.where} is readable and holds manifests/` };
  } finally {
    store.close();
  }
}

export const heapExporterDefinition: SyncExporterDefinition = {
  kind: 'syncs',
  source: 'heap',
  displayName: 'Heap',
  recordLayout: HEAP_EVENT_LAYOUT,
  recordLayoutFor: (table) => (table === 'users' ? HEAP_USER_LAYOUT : HEAP_EVENT_LAYOUT),
  credentials: [
    { key: 'aws_access_key_id', variable: 'AWS_ACCESS_KEY_ID', secret: false, optional: true },
    { key: 'aws_secret_access_key', variable: 'AWS_SECRET_ACCESS_KEY', secret: true, optional: true },
    { key: 'aws_session_token', variable: 'AWS_SESSION_TOKEN', secret: true, optional: true },
  ],
  endpoints: HEAP_ENDPOINTS,
  endpointVariables: {
    HEAP_S3_ENDPOINT: { value: `https://s3.${HEAP_DEFAULT_REGION}.amazonaws.com`, description: "the bucket region's S3 endpoint (path-style URLs)" },
    HEAP_S3_BUCKET: { value: 'heap-rs3-yours', description: 'sources.heap.s3_bucket' },
    HEAP_S3_PREFIX: { value: '', description: 'sources.heap.s3_prefix (empty, or ending in /)' },
    HEAP_S3_REGION: { value: HEAP_DEFAULT_REGION, description: 'sources.heap.s3_region, for the SigV4 signature' },
    manifest: { value: 'sync_852', description: 'a manifest name from "list manifests"' },
    dump_id: { value: '852', description: 'the dump_id of a manifest' },
    table: { value: 'pageviews', description: 'a table the manifest lists' },
    file: { value: 'part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000', description: 'a file the manifest lists' },
  },
  probe: probeHeap,
  createSyncExporter: (settings) => createHeapExporter({ open: openerFor(settings) }),
};
