/**
 * Which config fields are secrets: every field declared with `secret(...)` in config-schema.ts, found by walking the
 * schema, so a new credential field is redacted and shown as `set (…last 4)` without another list to update.
 */
import type { z } from 'zod';
import { configSchema } from './config-schema.js';

interface SchemaNode {
  def?: { type?: string; innerType?: unknown; shape?: Record<string, unknown>; options?: unknown[]; in?: unknown; out?: unknown; values?: unknown[] };
  meta?: () => Record<string, unknown> | undefined;
}

/** A secret field, and (inside a union such as `warehouse`) the discriminator value its option needs. */
export interface SecretField {
  readonly path: string[];
  readonly when?: { readonly path: string[]; readonly equals: unknown };
}

function isSecret(node: SchemaNode): boolean {
  return node.meta?.()?.secret === true;
}

type When = SecretField['when'];

/** The literal field of a union option (`engine: clickhouse`), if it has one. */
function discriminator(option: unknown, path: string[]): When {
  const shape = (option as SchemaNode).def?.shape;
  for (const [key, child] of Object.entries(shape ?? {})) {
    const def = (child as SchemaNode).def;
    if (def?.type === 'literal' && def.values?.length === 1) return { path: [...path, key], equals: def.values[0] };
  }
  return undefined;
}

function walk(schema: unknown, path: string[], secret: boolean, when: When, out: Map<string, SecretField>): void {
  const node = schema as SchemaNode;
  const here = secret || isSecret(node);
  const def = node.def;
  if (def === undefined) return;
  if (def.innerType !== undefined) return walk(def.innerType, path, here, when, out);
  if (def.type === 'pipe') return walk(def.in, path, here, when, out);
  if (def.type === 'object' && def.shape !== undefined) {
    for (const [key, child] of Object.entries(def.shape)) walk(child, [...path, key], false, when, out);
    return;
  }
  if (def.type === 'union' && def.options !== undefined) {
    for (const option of def.options) walk(option, path, here, discriminator(option, path) ?? when, out);
    return;
  }
  if (here) out.set(path.join('.'), { path, ...(when === undefined ? {} : { when }) });
}

/** Every secret field of a schema (e.g. `sources.amplitude.api_key`, `pii.hash_key`, `warehouse.password`). */
export function secretFields(schema: z.ZodType = configSchema): SecretField[] {
  const out = new Map<string, SecretField>();
  walk(schema, [], false, undefined, out);
  return [...out.values()];
}

/** Paths of every secret field of a schema. */
export function secretFieldPaths(schema: z.ZodType = configSchema): string[][] {
  return secretFields(schema).map((f) => f.path);
}

/** Whether a secret field applies to a parsed config (its union option is the one chosen). */
export function secretFieldApplies(config: unknown, field: SecretField): boolean {
  return field.when === undefined || valueAt(config, field.when.path) === String(field.when.equals);
}

/** The value at a path of a parsed config, when it is a non-empty string or number. */
export function valueAt(config: unknown, path: readonly string[]): string | undefined {
  let node: unknown = config;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  if (typeof node === 'string' && node !== '') return node;
  if (typeof node === 'number') return String(node);
  return undefined;
}

/** Every secret value a parsed config holds. */
export function configSecretValues(config: unknown): string[] {
  return secretFieldPaths()
    .map((p) => valueAt(config, p))
    .filter((v): v is string => v !== undefined);
}
