/**
 * `exportSource(ws, source, options)`: the library's export — the workspace's `sources.<tool>` settings and
 * credentials, the PII masker, the export loop writing exports/<source>/, and optionally the import of what is
 * new. `importNewExports(ws)` loads the files the manifests list as not yet imported (what `usagelab import`
 * without files does).
 *
 * Credentials come only from the environment or .env: a secret in usagelab.yaml must be a ${VAR} reference (a
 * literal key there would end up in git), and a source section without the key falls back to the variable
 * .env.example names (AMPLITUDE_API_KEY, ...).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { loadEnvironment } from '../core/config-load.js';
import { registerSecret } from '../core/secret-redaction.js';
import { UsageLabError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import { toolVersion } from '../core/tool-version.js';
import type { PiiConfig } from '../core/config-schema.js';
import { maskJsonText } from '../governance/pii-json.js';
import { piiPolicy, type PiiPolicy } from '../governance/pii-policy.js';
import { maskTextValue } from '../governance/pii-mask.js';
import { acquireExportLock } from '../sources/export/export-lock.js';
import { ManifestStore, readManifest, unimportedEntries, MANIFEST_FILE } from '../sources/export/export-manifest.js';
import { runExport, type ExportRunResult } from '../sources/export/export-run.js';
import type { ExporterDefinition, ExporterSettings, SyncExporterDefinition, WindowExporterDefinition } from '../sources/export/exporter-definition.js';
import { runSyncExport } from '../sources/export/sync-export-run.js';
import { EXPORTERS, exporterFor } from '../sources/export/exporter-registry.js';
import type { RecordTransform, VendorRecord } from '../sources/export/exporter.js';
import type { ExportClock } from '../sources/export/export-clock.js';
import type { ProgressListener } from '../sources/export/export-progress.js';
import type { BackoffPolicy } from '../sources/export/backoff.js';
import type { HttpTimeouts } from '../sources/export/http-client.js';
import { parseLossless, stringifyLossless } from '../sources/export/lossless-json.js';
import { JSON_COLUMNS, type PiiColumn, type RecordLayout } from '../sources/export/record-layout.js';
import type { ImportOptions, ImportProgress, ImportResult } from '../warehouse/duckdb/duckdb-import.js';
import { loadConfig } from '../core/config-load.js';
import type { UsageLabConfig } from '../core/config-schema.js';
import { findWorkspace, workspacePaths, type WorkspacePaths } from '../core/workspace.js';

/**
 * What an export needs of a workspace: its folders and config — not the warehouse, so an export does not hold
 * the DuckDB file (a Workspace from openWorkspace fits too).
 */
export interface ExportWorkspace {
  readonly root: string;
  readonly paths: WorkspacePaths;
  readonly config: UsageLabConfig;
}

/** A workspace that can also import (a Workspace from openWorkspace). */
export interface ImportingWorkspace extends ExportWorkspace {
  import(options: ImportOptions): Promise<ImportResult>;
}

/** The workspace's folders and config, without opening the warehouse. */
export function openExportWorkspace(dir?: string, env: NodeJS.ProcessEnv = process.env): ExportWorkspace {
  const root = findWorkspace(dir, process.cwd(), env);
  return { root, paths: workspacePaths(root), config: loadConfig(root, env).config };
}

export interface ExportSourceOptions {
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly resume?: boolean | undefined;
  readonly dryRun?: boolean | undefined;
  /** Import the new files into the warehouse after the export. */
  readonly import?: boolean | undefined;
  readonly concurrency?: number | undefined;
  /** Rows per page for sources that page (PostHog: default 10,000, at most 50,000). */
  readonly pageSize?: number | undefined;
  readonly onProgress?: ProgressListener | undefined;
  readonly onImportProgress?: ((p: ImportProgress) => void) | undefined;
  /** Environment for credential variables (default: process.env, plus .env beside usagelab.yaml). */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** The vendor's base URL replaced (a proxy, or a test server). */
  readonly endpoint?: string | undefined;
  /** Replaces the workspace's PII masker (tests of the pipeline only). */
  readonly transform?: RecordTransform | undefined;
  readonly clock?: ExportClock | undefined;
  readonly backoff?: BackoffPolicy | undefined;
  readonly timeouts?: HttpTimeouts | undefined;
}

export interface ImportSummary {
  readonly files: number;
  readonly read: number;
  readonly imported: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly partial: boolean;
  readonly import_ids: readonly number[];
}

export interface ExportSourceResult extends ExportRunResult {
  /** What --import loaded; null without --import. */
  readonly import: ImportSummary | null;
}

export interface ImportNewResult {
  /** Files imported, per source. */
  readonly files: Readonly<Record<string, readonly string[]>>;
  readonly results: readonly ImportResult[];
  readonly summary: ImportSummary;
}

function unsupported(source: string): UsageLabError {
  return new UsageLabError('export_source_unsupported', `usagelab cannot export ${source} from an API`, {
    place: { source },
    hint: `sources with an API export: ${Object.keys(EXPORTERS).join(', ')}; files of any tool load with \`usagelab import\``,
  });
}

/** The text usagelab.yaml has at a path, before ${VAR} interpolation. */
function rawConfigValue(root: string, path: readonly string[]): string | undefined {
  const file = join(root, 'usagelab.yaml');
  if (!existsSync(file)) return undefined;
  const node = parseDocument(readFileSync(file, 'utf8')).getIn(path);
  return node === undefined || node === null ? undefined : String(node);
}

interface ResolvedCredentials {
  readonly credentials: Record<string, string>;
  readonly origins: Record<string, string>;
}

export function resolveCredentials(ws: ExportWorkspace, def: ExporterDefinition, section: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv = process.env): ResolvedCredentials {
  const credentials: Record<string, string> = {};
  const origins: Record<string, string> = {};
  const missing: string[] = [];
  let environment: Record<string, string> | undefined;
  for (const spec of def.credentials) {
    const configured = section[spec.key];
    if (configured !== undefined && configured !== null && String(configured) !== '') {
      const raw = rawConfigValue(ws.root, ['sources', def.source, spec.key]) ?? '';
      const variable = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(raw)?.[1];
      if (spec.secret && variable === undefined) {
        throw new UsageLabError('export_secret_in_config', `sources.${def.source}.${spec.key} holds the secret itself`, {
          place: { file: join(ws.root, 'usagelab.yaml'), field: `sources.${def.source}.${spec.key}`, source: def.source },
          hint: `credentials come only from the environment or .env: write ${spec.key}: \${${spec.variable}} and put ${spec.variable}=... in .env (gitignored)`,
        });
      }
      credentials[spec.key] = String(configured);
      origins[spec.key] = variable ?? `sources.${def.source}.${spec.key}`;
      continue;
    }
    environment ??= loadEnvironment(ws.root, env);
    const value = environment[spec.variable];
    if (value === undefined || value === '') {
      if (spec.optional !== true) missing.push(`${spec.variable} (sources.${def.source}.${spec.key})`);
    }
    else {
      credentials[spec.key] = value;
      origins[spec.key] = spec.variable;
    }
  }
  // Every resolved secret is redacted from here on, whatever its variable is called (core/secret-redaction.ts).
  for (const spec of def.credentials) if (spec.secret) registerSecret(credentials[spec.key]);
  if (missing.length > 0) {
    throw new UsageLabError('export_credentials_missing', `${def.displayName} credentials are not set: ${missing.join(', ')}`, {
      place: { source: def.source, file: join(ws.root, '.env') },
      hint: `set ${def.credentials.map((c) => c.variable).join(', ')} in the environment or in .env beside usagelab.yaml (see .env.example and docs/sources/${def.source}.md)`,
      exitCode: EXIT.usage,
    });
  }
  return { credentials, origins };
}

/**
 * The PII masker for one vendor's records: each mapped field gets its canonical column's rule (governance
 * policy), JSON columns are masked member by member, unmapped top-level fields as members of `layout.rest`.
 */
export function vendorRecordMasker(pii: PiiConfig, layout: RecordLayout, env: NodeJS.ProcessEnv = process.env): RecordTransform {
  const policy = piiPolicy(pii, env);
  const scalarFields = layout.fields.filter((f) => !JSON_COLUMNS.includes(f.column));
  const jsonFields = layout.fields.filter((f) => JSON_COLUMNS.includes(f.column));
  const topLevel = new Set(layout.fields.map((f) => f.path[0]!));
  return (record) => {
    const out = copyRecord(record) as VendorRecord;
    // Scalars with their own rule are taken out first, so the JSON masking around them does not touch them.
    const held: { path: readonly string[]; value: unknown }[] = [];
    for (const f of scalarFields) {
      const parent = parentOf(out, f.path);
      const name = f.path[f.path.length - 1]!;
      if (parent === undefined || !(name in parent)) continue;
      held.push({ path: f.path, value: maskScalar(policy, f.column, parent[name]) });
      delete parent[name];
    }
    for (const f of jsonFields) {
      const parent = parentOf(out, f.path);
      const name = f.path[f.path.length - 1]!;
      if (parent === undefined || !(name in parent)) continue;
      parent[name] = maskJson(policy, f.column as 'properties' | 'user_properties', parent[name]);
    }
    if (layout.rest !== null) {
      const rest: VendorRecord = {};
      for (const key of Object.keys(out)) {
        if (topLevel.has(key)) continue;
        rest[key] = out[key];
        delete out[key];
      }
      if (Object.keys(rest).length > 0) Object.assign(out, maskJson(policy, layout.rest, rest) as VendorRecord);
    }
    for (const h of held) {
      const parent = parentOf(out, h.path);
      if (parent !== undefined) parent[h.path[h.path.length - 1]!] = h.value;
    }
    return inOrderOf(record, out) as VendorRecord;
  };
}

function isPlainObject(v: unknown): v is VendorRecord {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * A deep copy of a vendor record (JSON values, bigint, Avro rows), for masking to take apart. Not structuredClone:
 * that serialises every record through the messaging machinery, several microseconds even for a small one.
 */
function copyRecord(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copyRecord);
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) {
    const value = copyRecord((v as Record<string, unknown>)[key]);
    // A member named __proto__ (JSON.parse makes it an own member) stays a member, not the prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}

/** `masked` with the members in the order `original` had them (masking takes fields out and puts them back). */
function inOrderOf(original: unknown, masked: unknown): unknown {
  if (!isPlainObject(original) || !isPlainObject(masked)) return masked;
  const out: VendorRecord = {};
  for (const key of Object.keys(original)) if (key in masked) out[key] = inOrderOf(original[key], masked[key]);
  for (const key of Object.keys(masked)) if (!(key in out)) out[key] = masked[key];
  return out;
}

function parentOf(record: VendorRecord, path: readonly string[]): VendorRecord | undefined {
  let node: unknown = record;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as VendorRecord)[key];
  }
  return node !== null && typeof node === 'object' && !Array.isArray(node) ? (node as VendorRecord) : undefined;
}

/** One scalar under its column's action (governance's maskTextValue); numbers stay numbers unless masked. */
function maskScalar(policy: PiiPolicy, column: PiiColumn, value: unknown): unknown {
  if (value === null || value === undefined || typeof value === 'boolean') return value;
  if (typeof value === 'object') return maskJson(policy, 'properties', value);
  if (typeof value === 'string') return maskTextValue(policy, column, value);
  const text = String(value);
  const masked = maskTextValue(policy, column, text);
  return masked === text ? value : masked;
}

/**
 * governance's maskJsonValue, with lossless JSON text in and out: vendor records carry 64-bit integers (as
 * bigint here) that JSON.stringify refuses and JSON.parse would round.
 */
function maskJson(policy: PiiPolicy, column: 'properties' | 'user_properties', value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const action = policy.columns[column];
  if (action === 'drop') return null;
  if (action === 'keep') return value;
  return parseLossless(maskJsonText(stringifyLossless(value), { scanners: policy.scanners, rules: policy.members[column], key: policy.key, column }));
}

export async function exportSource(ws: ExportWorkspace | ImportingWorkspace, source: string, options: ExportSourceOptions = {}): Promise<ExportSourceResult> {
  const def = exporterFor(source);
  if (def === undefined) throw unsupported(source);
  const section = ((ws.config.sources as Record<string, unknown>)[source] ?? {}) as Record<string, unknown>;
  const env = options.env ?? process.env;
  const { credentials, origins } = resolveCredentials(ws, def, section, env);
  const settings = { section, credentials, origins, endpoint: options.endpoint, pageSize: options.pageSize, root: ws.root };
  const run = def.kind === 'syncs' ? await exportSyncs(ws, def, settings, options, env) : await exportWindows(ws, def, settings, options, env);
  if (options.import !== true || options.dryRun === true) return { ...run, import: null };
  const imported = await withImportingWorkspace(ws, env, (importing) => importNewExports(importing, { sources: [source], onProgress: options.onImportProgress }));
  const exitCode = run.exit_code !== EXIT.ok ? run.exit_code : imported.summary.partial ? EXIT.partial : EXIT.ok;
  return { ...run, exit_code: exitCode, import: imported.summary };
}

/** Heap Connect and the like: sync by sync, each table's records masked with that table's layout. */
async function exportSyncs(ws: ExportWorkspace, def: SyncExporterDefinition, settings: ExporterSettings, options: ExportSourceOptions, env: NodeJS.ProcessEnv): Promise<ExportRunResult> {
  const maskEnv = loadEnvironment(ws.root, env);
  const maskers = new Map<string, RecordTransform>();
  const transformFor = (table: string): RecordTransform => {
    if (options.transform !== undefined) return options.transform;
    let t = maskers.get(table);
    if (t === undefined) maskers.set(table, (t = vendorRecordMasker(ws.config.pii, def.recordLayoutFor(table), maskEnv)));
    return t;
  };
  return runSyncExport({
    exporter: def.createSyncExporter(settings),
    dir: join(ws.paths.exports, def.source),
    from: options.from,
    to: options.to,
    resume: options.resume,
    dryRun: options.dryRun,
    concurrency: options.concurrency,
    transformFor,
    toolVersion: toolVersion(),
    onProgress: options.onProgress,
    clock: options.clock,
    backoff: options.backoff,
  });
}

async function exportWindows(ws: ExportWorkspace, def: WindowExporterDefinition, settings: ExporterSettings, options: ExportSourceOptions, env: NodeJS.ProcessEnv): Promise<ExportRunResult> {
  const exporter = def.create(settings);
  const transform = options.transform ?? vendorRecordMasker(ws.config.pii, def.recordLayout, loadEnvironment(ws.root, env));
  return runExport({
    exporter,
    dir: join(ws.paths.exports, def.source),
    from: options.from,
    to: options.to,
    resume: options.resume,
    dryRun: options.dryRun,
    concurrency: options.concurrency,
    transform,
    toolVersion: toolVersion(),
    onProgress: options.onProgress,
    clock: options.clock,
    backoff: options.backoff,
    timeouts: options.timeouts,
  });
}

/**
 * Runs `fn` with a workspace that can import: the one given, or the warehouse opened only now — so a long export
 * does not hold the DuckDB file, and an export without --import never loads the warehouse driver.
 */
async function withImportingWorkspace<T>(ws: ExportWorkspace | ImportingWorkspace, env: NodeJS.ProcessEnv, fn: (ws: ImportingWorkspace) => Promise<T>): Promise<T> {
  if ('import' in ws) return fn(ws);
  const { openWorkspace } = await import('./workspace.js');
  const opened = await openWorkspace(ws.root, { env });
  try {
    return await fn(opened);
  } finally {
    opened.close();
  }
}

/** Sources with a manifest under exports/. */
export function exportedSources(ws: ExportWorkspace): string[] {
  if (!existsSync(ws.paths.exports)) return [];
  return readdirSync(ws.paths.exports)
    .filter((name) => existsSync(join(ws.paths.exports, name, MANIFEST_FILE)))
    .sort();
}

/**
 * Imports every exported file the manifests list as new (never imported, or changed since), one transaction per
 * source, and records the import in the manifest. Re-running is harmless: the import deduplicates by event id.
 */
export async function importNewExports(ws: ImportingWorkspace, options: { sources?: readonly string[]; onProgress?: ((p: ImportProgress) => void) | undefined } = {}): Promise<ImportNewResult> {
  const files: Record<string, string[]> = {};
  const results: ImportResult[] = [];
  for (const source of options.sources ?? exportedSources(ws)) {
    const dir = join(ws.paths.exports, source);
    if (!existsSync(join(dir, MANIFEST_FILE))) continue;
    const release = acquireExportLock(dir, source);
    try {
      const now = Date.now();
      const store = new ManifestStore(dir, readManifest(dir, source, toolVersion(), now), () => Date.now());
      const entries = unimportedEntries(store.manifest).filter((e) => existsSync(join(dir, e.file!)));
      if (entries.length === 0) continue;
      const paths = entries.map((e) => join(dir, e.file!));
      const result = await ws.import({ files: paths, source, ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }) });
      results.push(result);
      files[source] = paths;
      const at = new Date().toISOString();
      const refused = new Set(result.files.filter((f) => f.skipped !== null).map((f) => f.path));
      await store.update((m) => {
        for (const e of entries) {
          const live = m.windows.find((w) => w.key === e.key);
          if (live !== undefined && !refused.has(join(dir, e.file!))) live.imported = { import_id: result.importId, at, sha256: e.sha256 };
        }
      });
    } finally {
      release();
    }
  }
  const summary: ImportSummary = {
    files: Object.values(files).reduce((n, f) => n + f.length, 0),
    read: results.reduce((n, r) => n + r.read, 0),
    imported: results.reduce((n, r) => n + r.imported, 0),
    duplicates: results.reduce((n, r) => n + r.duplicates, 0),
    rejected: results.reduce((n, r) => n + r.rejected, 0),
    partial: results.some((r) => r.partial),
    import_ids: results.map((r) => r.importId),
  };
  return { files, results, summary };
}
