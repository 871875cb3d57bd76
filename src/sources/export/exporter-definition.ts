/**
 * How the library turns a workspace's `sources.<tool>` section into a running exporter: which credentials the
 * tool needs (and the conventional variable each falls back to), and a factory. Vendors register one
 * definition each in exporter-registry.ts.
 */
import type { SourceExporter } from './exporter.js';
import type { RecordLayout } from './record-layout.js';

export interface CredentialSpec {
  /** Key in `sources.<tool>` of usagelab.yaml. */
  readonly key: string;
  /** The variable .env.example names for it; read from the environment / .env when the config has no key. */
  readonly variable: string;
  /** A secret is redacted everywhere; a project id is not. */
  readonly secret: boolean;
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
}

export interface ExporterDefinition {
  readonly source: string;
  readonly displayName: string;
  readonly credentials: readonly CredentialSpec[];
  /** Where the vendor's record keeps each canonical column (for masking before the write). */
  readonly recordLayout: RecordLayout;
  create(settings: ExporterSettings): SourceExporter;
}

/** Days from the config's `late_data_days` as milliseconds, or the source's default. */
export function lookbackFrom(section: Readonly<Record<string, unknown>>, defaultMs: number): number {
  const days = section.late_data_days;
  return typeof days === 'number' ? Math.round(days * 24 * 3_600_000) : defaultMs;
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}
