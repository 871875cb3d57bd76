/**
 * The resolved configuration as `usagelab check` shows it: every setting after defaults and ${VAR} interpolation,
 * one line per leaf, with every secret shown as `set (…9c0f)` or `not set` — never its value — and where each secret
 * comes from (the variable in usagelab.yaml, or the conventional variable a source falls back to).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { loadEnvironment, type LoadedConfig } from '../core/config-load.js';
import { secretFieldApplies, secretFields, valueAt } from '../core/config-secrets.js';
import { describeSecret } from '../core/secret-redaction.js';
import { PII_KEY_VARIABLE } from '../governance/pii-hash.js';
import { EXPORTERS } from '../sources/export/exporter-registry.js';

export interface SecretStatus {
  /** The config field, e.g. `sources.posthog.personal_api_key`. */
  readonly field: string;
  /** The variable the value comes from (or would), if any. */
  readonly variable: string | null;
  readonly set: boolean;
  /** `set (…9c0f)`, `set` (a value shorter than 12 characters) or `not set`. */
  readonly shown: string;
}

export interface ResolvedConfiguration {
  /** Leaf settings by dotted path; lists and objects in lists as JSON text; secrets as `set (…last 4)`. */
  readonly values: Readonly<Record<string, string | number | boolean | null>>;
  readonly secrets: readonly SecretStatus[];
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/;

function flatten(value: unknown, path: string, out: Record<string, string | number | boolean | null>, secret: (p: string) => boolean): void {
  if (secret(path)) {
    out[path] = describeSecret(typeof value === 'string' || typeof value === 'number' ? String(value) : undefined);
    return;
  }
  if (value === null || value === undefined) out[path] = null;
  else if (Array.isArray(value)) out[path] = JSON.stringify(value);
  else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(v, path === '' ? k : `${path}.${k}`, out, secret);
  } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[path] = value;
  else out[path] = String(value);
}

/** The variable a source reads a credential from when usagelab.yaml does not name one. */
function fallbackVariable(path: readonly string[]): string | undefined {
  if (path.length === 2 && path[0] === 'pii' && path[1] === 'hash_key') return PII_KEY_VARIABLE;
  if (path.length === 2 && path[0] === 'warehouse' && path[1] === 'password') return 'CLICKHOUSE_PASSWORD';
  if (path.length === 3 && path[0] === 'sources') return EXPORTERS[path[1]!]?.credentials.find((c) => c.key === path[2])?.variable;
  return undefined;
}

function parentExists(config: unknown, path: readonly string[]): boolean {
  let node: unknown = config;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return false;
    node = (node as Record<string, unknown>)[key];
  }
  return node !== null && typeof node === 'object';
}

export function resolvedConfiguration(root: string, loaded: LoadedConfig, env: NodeJS.ProcessEnv = process.env): ResolvedConfiguration {
  const fields = secretFields().filter((f) => secretFieldApplies(loaded.config, f));
  const secretKeys = new Set(fields.map((f) => f.path.join('.')));
  const values: Record<string, string | number | boolean | null> = {};
  flatten(loaded.config, '', values, (p) => secretKeys.has(p));

  const file = join(root, 'usagelab.yaml');
  const raw = existsSync(file) ? parseDocument(readFileSync(file, 'utf8')) : undefined;
  const environment = loadEnvironment(root, env);
  const secrets: SecretStatus[] = [];
  for (const { path } of fields) {
    // Secrets of sections the workspace does not use (another warehouse engine, an unconfigured source) are left out.
    if (!parentExists(loaded.config, path)) continue;
    const configured = valueAt(loaded.config, path);
    const rawText = raw?.getIn(path);
    const named = typeof rawText === 'string' ? VARIABLE.exec(rawText)?.[1] : undefined;
    const variable = named ?? fallbackVariable(path) ?? null;
    const value = configured ?? (variable === null ? undefined : environment[variable]);
    const shown = describeSecret(value);
    secrets.push({ field: path.join('.'), variable, set: shown !== 'not set', shown });
  }
  return { values, secrets };
}
