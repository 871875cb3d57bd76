/**
 * The credential part of `usagelab check`: one cheap authenticated call per configured source (its exporter's
 * `probe`), each answered with what works or what is wrong and how to fix it — a missing variable or project id
 * (exit 2), a refused key (exit 3, naming the variables and the region setting), a key that belongs to another
 * region (exit 2, naming the setting), a host that does not answer (exit 4). `offline` skips the calls.
 */
import { loadEnvironment } from '../core/config-load.js';
import { isUsageLabError } from '../core/errors.js';
import { EXIT, type ExitCode } from '../core/exit-codes.js';
import type { HttpTimeouts } from '../sources/export/http-client.js';
import { exporterFor } from '../sources/export/exporter-registry.js';
import { resolveCredentials, type ExportWorkspace } from './export-source.js';

export interface CredentialCheck {
  readonly source: string;
  /** ok: the call succeeded; failed: see code / message / hint; skipped: offline, or no check for the source. */
  readonly status: 'ok' | 'failed' | 'skipped';
  /** What the call showed (ok), or why it was skipped. */
  readonly detail: string | null;
  readonly code: string | null;
  readonly message: string | null;
  readonly hint: string | null;
  /** The exit code this problem gives (2 config, 3 refused credentials, 4 unreachable); null unless failed. */
  readonly exit_code: ExitCode | null;
}

export interface CredentialCheckOptions {
  /** Skip the network calls (each configured source is listed as skipped). */
  readonly offline?: boolean | undefined;
  /** Environment for credential variables (default: process.env plus .env). */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Base URL per source instead of the vendor's (a proxy, or test servers). */
  readonly endpoints?: Readonly<Record<string, string>> | undefined;
  /** Other regions' base URLs per source, for the wrong-region test (see ProbeOptions.regionEndpoints). */
  readonly regionEndpoints?: Readonly<Record<string, Readonly<Record<string, string>>>> | undefined;
  readonly timeouts?: HttpTimeouts | undefined;
}

export interface CredentialCheckResult {
  readonly checks: readonly CredentialCheck[];
  /** 0 when nothing failed; else 3 if any credentials were refused, 2 for config problems, 4 for unreachable hosts. */
  readonly exit_code: ExitCode;
}

/** Sources with a section in usagelab.yaml, in name order. */
export function configuredSources(ws: ExportWorkspace): string[] {
  return Object.entries(ws.config.sources as Record<string, unknown>)
    .filter(([, section]) => section !== undefined && section !== null)
    .map(([name]) => name)
    .sort();
}

const skipped = (source: string, detail: string): CredentialCheck => ({ source, status: 'skipped', detail, code: null, message: null, hint: null, exit_code: null });

async function checkOne(ws: ExportWorkspace, source: string, options: CredentialCheckOptions, env: NodeJS.ProcessEnv): Promise<CredentialCheck> {
  const def = exporterFor(source);
  if (def === undefined) return skipped(source, 'no API connector: files are imported (usagelab import)');
  if (def.probe === undefined) return skipped(source, 'this connector has no credential check');
  if (options.offline === true) return skipped(source, 'offline: no call made');
  const section = ((ws.config.sources as Record<string, unknown>)[source] ?? {}) as Record<string, unknown>;
  try {
    const { credentials, origins } = resolveCredentials(ws, def, section, env);
    const result = await def.probe(
      { section, credentials, origins, endpoint: options.endpoints?.[source], root: ws.root },
      { timeouts: options.timeouts, regionEndpoints: options.regionEndpoints?.[source] },
    );
    return { source, status: 'ok', detail: result.detail, code: null, message: null, hint: null, exit_code: null };
  } catch (err) {
    if (!isUsageLabError(err)) throw err;
    return { source, status: 'failed', detail: null, code: err.code, message: err.message, hint: err.hint ?? null, exit_code: err.exitCode };
  }
}

const SEVERITY: readonly ExitCode[] = [EXIT.auth, EXIT.usage, EXIT.unavailable, EXIT.partial, EXIT.internal];

export async function checkCredentials(ws: ExportWorkspace, options: CredentialCheckOptions = {}): Promise<CredentialCheckResult> {
  const env = loadEnvironment(ws.root, options.env ?? process.env);
  const checks = await Promise.all(configuredSources(ws).map((source) => checkOne(ws, source, options, env)));
  const failed = new Set(checks.filter((c) => c.status === 'failed').map((c) => c.exit_code ?? EXIT.internal));
  const exit = SEVERITY.find((code) => failed.has(code)) ?? (failed.size > 0 ? EXIT.internal : EXIT.ok);
  return { checks, exit_code: exit };
}

/** Lines for a terminal: one per source, a hint under each failure. */
export function formatCredentialChecks(checks: readonly CredentialCheck[]): string {
  if (checks.length === 0) return 'credentials  no sources configured (sources: in usagelab.yaml)\n';
  const width = Math.max(...checks.map((c) => c.source.length));
  let out = 'credentials\n';
  for (const c of checks) {
    const label = c.status === 'ok' ? 'ok     ' : c.status === 'failed' ? 'FAILED ' : 'skipped';
    out += `  ${c.source.padEnd(width)}  ${label}  ${c.status === 'failed' ? `${c.message} [${c.code}]` : (c.detail ?? '')}\n`;
    if (c.hint !== null) out += `  ${' '.repeat(width)}           hint: ${c.hint}\n`;
  }
  return out;
}
