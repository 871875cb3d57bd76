/**
 * Loads usagelab.yaml: YAML → ${VAR} interpolation → schema validation. Every error points at
 * file:line:column and names the field, because a config error the user cannot locate is a support ticket.
 */
import { readFileSync, existsSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { join } from 'node:path';
import { LineCounter, parseDocument, isScalar, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { configSchema, type UsageLabConfig } from './config-schema.js';
import { UsageLabError } from './errors.js';
import { configSecretValues } from './config-secrets.js';
import { registerSecret, registerSecretsFromEnvironment } from './secret-redaction.js';

export interface LoadedConfig {
  config: UsageLabConfig;
  /** Names of the environment variables the config referenced, for `check` and redaction. */
  referencedVariables: string[];
  /** Values of the config's secret fields (literal or from ${VAR}); registered for redaction as the config loads. */
  secretValues: string[];
}

/** Reads `.env` beside the config (if any) without touching process.env; the real environment wins. */
export function loadEnvironment(workspaceDir: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const merged: Record<string, string> = {};
  const dotenvPath = join(workspaceDir, '.env');
  if (existsSync(dotenvPath)) Object.assign(merged, parseEnv(readFileSync(dotenvPath, 'utf8')));
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;
  return merged;
}

const VAR_PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function positionOf(lineCounter: LineCounter, offset: number | undefined): { line?: number; column?: number } {
  if (offset === undefined) return {};
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_value') return `${issue.message}`;
  return issue.message;
}

function allowedKeysHint(path: PropertyKey[]): string | undefined {
  // Walk the schema shape to list the keys allowed where the unknown key was found.
  let shape: unknown = configSchema;
  for (const key of path) {
    const unwrapped = unwrap(shape);
    const s = (unwrapped as { shape?: Record<string, unknown> }).shape;
    if (s === undefined) return undefined;
    shape = s[String(key)];
  }
  const s = (unwrap(shape) as { shape?: Record<string, unknown> }).shape;
  return s === undefined ? undefined : `allowed keys here: ${Object.keys(s).join(', ')}`;
}

function unwrap(schema: unknown): unknown {
  let s = schema as { def?: { innerType?: unknown; type?: string } } | undefined;
  while (s?.def?.innerType !== undefined) s = s.def.innerType as typeof s;
  return s;
}

/** A section whose entries are all commented out parses as null: treat it as absent (defaults apply). */
function dropEmptySections(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  return Object.fromEntries(Object.entries(data as Record<string, unknown>).filter(([, v]) => v !== null));
}

export function parseConfigText(text: string, file: string, env: Record<string, string>): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    throw new UsageLabError('config_yaml_invalid', `not valid YAML: ${firstError.message.split('\n')[0]}`, {
      place: { file, ...positionOf(lineCounter, firstError.pos[0]) },
      hint: 'fix the YAML syntax (indentation, quotes, a missing colon) at the position shown',
    });
  }

  const referencedVariables = new Set<string>();
  visit(doc, {
    Scalar(_key, node, path) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const raw = node.value;
      const replaced = raw.replace(VAR_PATTERN, (_m, name: string) => {
        referencedVariables.add(name);
        const value = env[name];
        if (value === undefined || value === '') {
          const parentKey = path.length > 0 ? path[path.length - 1] : undefined;
          const keyName = parentKey !== undefined && 'key' in parentKey && isScalar(parentKey.key) ? String(parentKey.key.value) : undefined;
          throw new UsageLabError('config_variable_unset', `environment variable ${name} is not set`, {
            place: { file, ...positionOf(lineCounter, node.range?.[0]), ...(keyName === undefined ? {} : { field: keyName }) },
            hint: `set ${name} in the environment or in .env beside usagelab.yaml (see .env.example)`,
          });
        }
        return value;
      });
      node.value = replaced;
    },
  });

  const data: unknown = dropEmptySections(doc.toJS() ?? {});
  const result = configSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path;
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    // For an unknown key, point at the key itself; otherwise at the value (or its parent when absent).
    let offset: number | undefined = node?.range?.[0];
    if (issue.code === 'unrecognized_keys') {
      const parent = (path.length === 0 ? doc.contents : doc.getIn(path, true)) as { items?: { key: { value: unknown; range?: [number, number, number] } }[] } | undefined;
      const item = parent?.items?.find((i) => issue.keys.includes(String(i.key.value)));
      offset = item?.key.range?.[0] ?? offset;
    }
    if (offset === undefined) {
      for (let i = path.length - 1; i >= 0 && offset === undefined; i--) {
        offset = (doc.getIn(path.slice(0, i), true) as { range?: [number, number, number] } | undefined)?.range?.[0];
      }
    }
    const field = issue.code === 'unrecognized_keys' ? [...path, issue.keys[0]].join('.') : path.join('.');
    throw new UsageLabError('config_invalid', describeIssue(issue), {
      place: { file, ...positionOf(lineCounter, offset), ...(field === '' ? {} : { field }) },
      hint: issue.code === 'unrecognized_keys' ? allowedKeysHint(path) ?? 'remove the key' : 'see docs/configuration.md for allowed values',
    });
  }
  // Known before anything can print: a later error, table or file is redacted of them.
  const secretValues = configSecretValues(result.data);
  for (const value of secretValues) registerSecret(value);
  return { config: result.data, referencedVariables: [...referencedVariables].sort(), secretValues };
}

export function loadConfig(workspaceDir: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const file = join(workspaceDir, 'usagelab.yaml');
  if (!existsSync(file)) {
    throw new UsageLabError('config_missing', `no usagelab.yaml in ${workspaceDir}`, {
      hint: 'run `usagelab init` to create a workspace, or pass --workspace DIR',
    });
  }
  const environment = loadEnvironment(workspaceDir, env);
  // Credentials in the environment or .env are secrets whether or not the config names them (a key pasted into
  // project.name would otherwise be printed with every result).
  registerSecretsFromEnvironment(environment);
  return parseConfigText(readFileSync(file, 'utf8'), file, environment);
}
