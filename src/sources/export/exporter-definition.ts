/**
 * How the library turns a workspace's `sources.<tool>` section into a running exporter: which credentials the
 * tool needs (and the conventional variable each falls back to), and a factory. Vendors register one
 * definition each in exporter-registry.ts.
 */
import type { SourceExporter } from './exporter.js';
import type { HttpTimeouts } from './http-client.js';
import type { RecordLayout } from './record-layout.js';
import type { SyncExporter } from './sync-export-run.js';

export interface CredentialSpec {
  /** Key in `sources.<tool>` of usagelab.yaml. */
  readonly key: string;
  /** The variable .env.example names for it; read from the environment / .env when the config has no key. */
  readonly variable: string;
  /** A secret is redacted everywhere; a project id is not. */
  readonly secret: boolean;
  /** May be absent (one of several ways to authenticate; the exporter says which one it needs). */
  readonly optional?: boolean;
}

export interface ExporterSettings {
  /** The parsed `sources.<tool>` section (defaults filled), or {} when absent. */
  readonly section: Readonly<Record<string, unknown>>;
  /** Resolved credential values by key. */
  readonly credentials: Readonly<Record<string, string>>;
  /** Where each credential came from, for hints: a variable name (`AMPLITUDE_API_KEY`). */
  readonly origins: Readonly<Record<string, string>>;
  /** Overrides the vendor's base URL (a proxy, or a test server). */
  readonly endpoint?: string | undefined;
  /** Rows per page for sources that page (PostHog); the source's default when absent. */
  readonly pageSize?: number | undefined;
  /** The workspace folder: relative paths in the section (a key file) are read from there. */
  readonly root?: string | undefined;
}

/**
 * How a request authenticates, in Postman's terms; values are `{{VARIABLE}}` placeholders, never secrets.
 * `none`: the URL carries its own authorisation (a pre-signed download link).
 */
export type EndpointAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string }
  /** A header with a fixed scheme, e.g. FullStory's `Authorization: Basic {{FULLSTORY_API_KEY}}` (the key as is). */
  | { readonly kind: 'header'; readonly name: string; readonly value: string }
  | { readonly kind: 'awsv4'; readonly accessKey: string; readonly secretKey: string; readonly region: string; readonly service: string };

/** One endpoint an exporter calls, as data (Postman collections, API notes, `usagelab check`). */
export interface EndpointSpec {
  readonly kind: 'http';
  /** Unique within the source, e.g. "create segment export". */
  readonly name: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  /** URL with `{{VARIABLE}}` placeholders (collection variables), e.g. `{{FULLSTORY_BASE_URL}}/operations/v1/{{operationId}}`. */
  readonly url: string;
  readonly auth: EndpointAuth;
  /** What the exporter uses it for. */
  readonly purpose: string;
  /** The vendor's documented limits for it (or that none are documented). */
  readonly limits: string;
  /** An example JSON body for POST / PUT. */
  readonly body?: unknown;
}

/** What a successful probe found, for `usagelab check`. */
export interface ProbeResult {
  readonly ok: true;
  /** One line: what was called and what it showed ("bucket heap-rs3-acme: 12 manifests"). */
  readonly detail: string;
}

export interface ProbeOptions {
  readonly timeouts?: HttpTimeouts | undefined;
  readonly signal?: AbortSignal | undefined;
  /**
   * Base URLs of the source's other regions (`eu`, `in`, ...) instead of the vendor's, for the "wrong region" test
   * a refused key gets (a proxy, or test servers). Without it, other regions are tried at the vendor's hosts unless
   * settings.endpoint is set.
   */
  readonly regionEndpoints?: Readonly<Record<string, string>> | undefined;
}

interface DefinitionBase {
  readonly source: string;
  readonly displayName: string;
  readonly credentials: readonly CredentialSpec[];
  /** Where the vendor's record keeps each canonical column (for masking before the write). */
  readonly recordLayout: RecordLayout;
  /** Every endpoint the exporter calls. */
  readonly endpoints?: readonly EndpointSpec[];
  /**
   * Example values of the endpoints' non-secret `{{VARIABLES}}` (hosts, ids, dates) for the Postman collection;
   * credentials stay empty there whatever this says.
   */
  readonly endpointVariables?: Readonly<Record<string, { readonly value: string; readonly description: string }>>;
  /**
   * One cheap authenticated call proving the settings work; throws the UsageLabError an export would (refused
   * credentials: export_auth_failed, exit 3, with the hint; wrong host or bucket: what to change).
   */
  probe?(settings: ExporterSettings, options?: ProbeOptions): Promise<ProbeResult>;
}

/** A source exported in time windows through the shared loop (export-run.ts). */
export interface WindowExporterDefinition extends DefinitionBase {
  readonly kind?: 'windows';
  create(settings: ExporterSettings): SourceExporter;
}

/** A source whose vendor delivers finished syncs (Heap Connect dumps), exported sync by sync (sync-export-run.ts). */
export interface SyncExporterDefinition extends DefinitionBase {
  readonly kind: 'syncs';
  /** Where a record of `table` keeps each canonical column (Heap: the users table's other fields are user properties). */
  recordLayoutFor(table: string): RecordLayout;
  createSyncExporter(settings: ExporterSettings): SyncExporter;
}

export type ExporterDefinition = WindowExporterDefinition | SyncExporterDefinition;

/** Days from the config's `late_data_days` as milliseconds, or the source's default. */
export function lookbackFrom(section: Readonly<Record<string, unknown>>, defaultMs: number): number {
  const days = section.late_data_days;
  return typeof days === 'number' ? Math.round(days * 24 * 3_600_000) : defaultMs;
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}
