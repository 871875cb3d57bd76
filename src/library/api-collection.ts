/**
 * `usagelab api postman [source]`: a Postman collection (v2.1) and a short Markdown note per source, built from
 * the connector's own endpoint list (EndpointSpec on the exporter definition) — so the collection shows exactly
 * the requests usagelab makes, and a changed connector changes its collection.
 *
 * The collection is assembled with the official `postman-collection` library and checked before it is written:
 * the library must read back what it wrote (round trip), every `{{VARIABLE}}` must be a collection variable,
 * and the structure must satisfy the v2.1.0 schema's rules for what is emitted here (info.name / info.schema,
 * items with a request, methods, auth types and their attributes, variable types). Credentials appear only as
 * `{{AMPLITUDE_API_KEY}}`-style placeholders with empty values: the file is safe to commit.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { z } from 'zod';
import type * as PostmanModule from 'postman-collection';
import { UsageLabError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import { toolVersion } from '../core/tool-version.js';
import { writeFileAtomic } from '../sources/export/atomic-file.js';
import type { EndpointAuth, EndpointSpec, ExporterDefinition } from '../sources/export/exporter-definition.js';
import { EXPORTERS, exporterFor } from '../sources/export/exporter-registry.js';

type Postman = typeof PostmanModule;
let loaded: Postman | undefined;
/**
 * The package is CommonJS whose exports Node's ESM loader cannot see by name (its types come from
 * src/types/postman-collection.d.ts). Required on first use: loading it takes about 0.2 s that every other command
 * would pay at start.
 */
function postmanLibrary(): Postman {
  loaded ??= createRequire(import.meta.url)('postman-collection') as Postman;
  return loaded;
}

export const POSTMAN_SCHEMA_V21 = 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json';

const VARIABLE = /\{\{([A-Za-z_][A-Za-z0-9_.-]*)\}\}/g;

/** The `{{NAME}}`s in a text, in order of appearance. */
function variablesIn(text: string): string[] {
  return [...text.matchAll(VARIABLE)].map((m) => m[1]!);
}

function authTexts(auth: EndpointAuth): string[] {
  switch (auth.kind) {
    case 'none':
      return [];
    case 'basic':
      return [auth.username, auth.password];
    case 'bearer':
      return [auth.token];
    case 'header':
      return [auth.value];
    case 'awsv4':
      return [auth.accessKey, auth.secretKey, auth.region];
  }
}

/** A stable UUID-shaped id, so that regenerating a collection changes nothing. */
function stableId(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

type Attribute = { key: string; value: string; type: 'string' };
const attr = (key: string, value: string): Attribute => ({ key, value, type: 'string' });

function postmanAuth(auth: EndpointAuth): Record<string, unknown> {
  switch (auth.kind) {
    case 'none':
      return { type: 'noauth' };
    case 'basic':
      return { type: 'basic', basic: [attr('username', auth.username), attr('password', auth.password)] };
    case 'bearer':
      return { type: 'bearer', bearer: [attr('token', auth.token)] };
    case 'header':
      return { type: 'apikey', apikey: [attr('key', auth.name), attr('value', auth.value), attr('in', 'header')] };
    case 'awsv4':
      return { type: 'awsv4', awsv4: [attr('accessKey', auth.accessKey), attr('secretKey', auth.secretKey), attr('region', auth.region), attr('service', auth.service)] };
  }
}

function bodyText(endpoint: EndpointSpec): string | undefined {
  return endpoint.body === undefined ? undefined : typeof endpoint.body === 'string' ? endpoint.body : JSON.stringify(endpoint.body, null, 2);
}

export interface CollectionVariable {
  readonly name: string;
  readonly value: string;
  readonly description: string;
  /** Holds a credential: the collection leaves it empty. */
  readonly secret: boolean;
}

/** Every `{{VARIABLE}}` of the endpoints, with its example value (empty for credentials) and meaning. */
export function collectionVariables(def: ExporterDefinition): CollectionVariable[] {
  const endpoints = def.endpoints ?? [];
  // Auth fields hold credentials, except those the definition gives an example value for (an AWS region).
  const authNames = endpoints.flatMap((e) => authTexts(e.auth).flatMap(variablesIn)).filter((name) => def.endpointVariables?.[name] === undefined);
  const secretNames = new Set<string>([...def.credentials.filter((c) => c.secret).map((c) => c.variable), ...authNames]);
  const credentialOf = new Map(def.credentials.map((c) => [c.variable, c]));
  const names: string[] = [];
  for (const e of endpoints) {
    for (const name of [...variablesIn(e.url), ...authTexts(e.auth).flatMap(variablesIn), ...variablesIn(bodyText(e) ?? '')]) if (!names.includes(name)) names.push(name);
  }
  return names.map((name) => {
    const secret = secretNames.has(name);
    const known = def.endpointVariables?.[name];
    const credential = credentialOf.get(name);
    const origin = credential === undefined ? '' : ` (usagelab reads it from ${name} in .env, or sources.${def.source}.${credential.key})`;
    const description = secret
      ? `credential: set it in a Postman environment, never in this file${origin}`
      : `${known?.description ?? 'set before sending'}${origin}`;
    return { name, value: secret ? '' : (known?.value ?? ''), description, secret };
  });
}

/** The v2.1 collection of a source, as the JSON written to api/<source>.postman_collection.json. */
export function postmanCollection(def: ExporterDefinition): Record<string, unknown> {
  const endpoints = def.endpoints ?? [];
  if (endpoints.length === 0) {
    throw new UsageLabError('api_no_endpoints', `the ${def.displayName} connector lists no endpoints`, { exitCode: EXIT.internal, place: { source: def.source } });
  }
  const items = endpoints.map((e) => {
    const body = bodyText(e);
    return {
      id: stableId(`${def.source}/${e.name}`),
      name: e.name,
      request: {
        method: e.method,
        url: e.url,
        auth: postmanAuth(e.auth),
        header: body === undefined ? [] : [{ key: 'Content-Type', value: 'application/json' }],
        ...(body === undefined ? {} : { body: { mode: 'raw', raw: body, options: { raw: { language: 'json' } } } }),
        description: `${e.purpose}\n\nLimits: ${e.limits}`,
      },
      response: [],
    };
  });
  const postman = postmanLibrary();
  const collection = new postman.Collection({
    info: {
      _postman_id: stableId(`usagelab/${def.source}`),
      name: `usagelab: ${def.displayName}`,
      schema: POSTMAN_SCHEMA_V21,
      description: `The requests usagelab ${toolVersion().replace(/\.\d+$/, '.x')} makes to export ${def.displayName} data (generated by \`usagelab api postman ${def.source}\`; see ${def.source}.md). Credentials are collection variables left empty: set them in a Postman environment.`,
    },
    variable: collectionVariables(def).map((v) => ({ key: v.name, value: v.value, type: 'string', description: v.description })),
    item: items,
  } as unknown as ConstructorParameters<Postman['Collection']>[0]);
  const json = withRawUrls(collection.toJSON() as unknown as Record<string, unknown>, endpoints);
  const problems = postmanProblems(json);
  if (problems.length > 0) {
    throw new UsageLabError('api_collection_invalid', `the ${def.displayName} collection is not valid Postman v2.1: ${problems.join('; ')}`, { exitCode: EXIT.internal, place: { source: def.source } });
  }
  return json;
}

/**
 * The library's JSON, tidied: its private `_` member dropped, and each URL given its `raw` text as Postman's own
 * exports carry it (the library keeps the parts only).
 */
function withRawUrls(json: Record<string, unknown>, endpoints: readonly EndpointSpec[]): Record<string, unknown> {
  const { _: _private, ...rest } = json;
  const items = (rest.item as { request: { url: Record<string, unknown> } }[]).map((item, i) => {
    const { variable, ...url } = item.request.url;
    return { ...item, request: { ...item.request, url: { raw: endpoints[i]!.url, ...url, ...(Array.isArray(variable) && variable.length > 0 ? { variable } : {}) } } };
  });
  return { info: rest.info, item: items, variable: rest.variable, ...(Array.isArray(rest.event) && rest.event.length > 0 ? { event: rest.event } : {}) };
}

// The parts of the v2.1.0 schema (schema.getpostman.com/json/collection/v2.1.0) that the emitted JSON uses.
const AUTH_TYPES = ['apikey', 'awsv4', 'basic', 'bearer', 'digest', 'edgegrid', 'hawk', 'noauth', 'oauth1', 'oauth2', 'ntlm'] as const;
const METHODS = ['GET', 'PUT', 'POST', 'PATCH', 'DELETE', 'COPY', 'HEAD', 'OPTIONS', 'LINK', 'UNLINK', 'PURGE', 'LOCK', 'UNLOCK', 'PROPFIND', 'VIEW'] as const;
const description = z.union([z.string(), z.object({ content: z.string(), type: z.string().optional() }).passthrough(), z.null()]);
const authAttribute = z.object({ key: z.string(), value: z.unknown().optional(), type: z.string().optional() }).passthrough();
const auth = z
  .object({ type: z.enum(AUTH_TYPES) })
  .catchall(z.unknown())
  .superRefine((a, ctx) => {
    if (a.type === 'noauth') return;
    const attrs = (a as Record<string, unknown>)[a.type];
    if (!Array.isArray(attrs) || !attrs.every((x) => authAttribute.safeParse(x).success)) ctx.addIssue({ code: 'custom', message: `auth ${a.type} needs a list of {key, value} attributes under "${a.type}"` });
  });
const queryParam = z.object({ key: z.string().nullable(), value: z.string().nullable().optional() }).passthrough();
const url = z.union([
  z.string(),
  z.object({ raw: z.string().optional(), protocol: z.string().optional(), host: z.union([z.string(), z.array(z.string())]).optional(), path: z.union([z.string(), z.array(z.string())]).optional(), port: z.string().optional(), query: z.array(queryParam).optional() }).passthrough(),
]);
const request = z
  .object({
    url,
    method: z.enum(METHODS),
    auth: auth.optional(),
    header: z.array(z.object({ key: z.string(), value: z.string() }).passthrough()).optional(),
    body: z.object({ mode: z.enum(['raw', 'urlencoded', 'formdata', 'file', 'graphql']), raw: z.string().optional() }).passthrough().optional(),
    description: description.optional(),
  })
  .passthrough();
const variable = z.object({ key: z.string(), value: z.unknown().optional(), type: z.enum(['string', 'boolean', 'any', 'number']).optional(), description: description.optional() }).passthrough();
const collectionSchema = z
  .object({
    info: z.object({ name: z.string().min(1), schema: z.literal(POSTMAN_SCHEMA_V21), _postman_id: z.string().optional(), description: description.optional() }).passthrough(),
    item: z.array(z.object({ id: z.string().optional(), name: z.string().min(1), request, response: z.array(z.unknown()).optional() }).passthrough()).min(1),
    variable: z.array(variable).optional(),
    auth: auth.optional(),
  })
  .passthrough();

/** What keeps `json` from being a valid v2.1 collection of the kind usagelab writes; [] when nothing does. */
export function postmanProblems(json: unknown): string[] {
  const problems: string[] = [];
  const parsed = collectionSchema.safeParse(json);
  if (!parsed.success) {
    for (const issue of parsed.error.issues.slice(0, 5)) problems.push(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
    return problems;
  }
  const c = parsed.data;
  // The library must read it back unchanged (what Postman's importer, built on the same library, will see).
  const postman = postmanLibrary();
  const again = new postman.Collection(json as ConstructorParameters<Postman['Collection']>[0]);
  if (!postman.Collection.isCollection(again)) problems.push('postman-collection does not read it as a collection');
  const reread = again.toJSON() as unknown as { item: { name: string; request: { method: string; url: unknown } }[] };
  c.item.forEach((item, i) => {
    const back = reread.item[i];
    if (back?.name !== item.name || back.request.method !== item.request.method) problems.push(`item ${item.name} does not survive a round trip`);
    const raw = typeof item.request.url === 'string' ? item.request.url : item.request.url.raw;
    if (raw !== undefined && new postman.Url(raw).toString() !== raw) problems.push(`item ${item.name}: the library reads its URL as ${new postman.Url(raw).toString()}`);
  });
  const declared = new Set((c.variable ?? []).map((v) => v.key));
  const used = new Set(variablesIn(JSON.stringify({ item: c.item, auth: c.auth })));
  for (const name of used) if (!declared.has(name)) problems.push(`{{${name}}} is not a collection variable`);
  return problems;
}

/** api/<source>.md: what each endpoint does and its limits. */
export function apiNotes(def: ExporterDefinition): string {
  const lines = [
    `# ${def.displayName}: the API calls usagelab makes`,
    '',
    `Generated by \`usagelab api postman ${def.source}\` from the connector's endpoint list (regenerate after upgrading usagelab).`,
    `Import \`${def.source}.postman_collection.json\` into Postman (File > Import), then set the credential variables in an`,
    'environment; the collection itself never holds them. Documentation: docs/sources/' + def.source + '.md.',
    '',
    '## Variables',
    '',
    '| variable | example | meaning |',
    '| --- | --- | --- |',
    ...collectionVariables(def).map((v) => `| \`${v.name}\` | ${v.secret ? '(credential)' : v.value === '' ? '' : `\`${v.value}\``} | ${v.description.replace(/\|/g, '\\|')} |`),
    '',
    '## Endpoints',
    '',
  ];
  for (const e of def.endpoints ?? []) {
    lines.push(`### ${e.name}`, '', '```', `${e.method} ${e.url}`, '```', '', `- **Auth**: ${authLine(e.auth)}`, `- **What for**: ${e.purpose}`, `- **Limits**: ${e.limits}`);
    const body = bodyText(e);
    if (body !== undefined) lines.push('', 'Example body:', '', '```json', body, '```');
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

function authLine(auth: EndpointAuth): string {
  switch (auth.kind) {
    case 'none':
      return 'none (the URL carries its own signature)';
    case 'basic':
      return `HTTP Basic, user \`${auth.username}\`, password \`${auth.password}\``;
    case 'bearer':
      return `\`Authorization: Bearer ${auth.token}\``;
    case 'header':
      return `\`${auth.name}: ${auth.value}\``;
    case 'awsv4':
      return `AWS Signature V4 (service \`${auth.service}\`, region \`${auth.region}\`, keys \`${auth.accessKey}\` / \`${auth.secretKey}\`)`;
  }
}

export interface WrittenApiFiles {
  readonly source: string;
  readonly collection: string;
  readonly notes: string;
  readonly requests: number;
}

/** Writes api/<source>.postman_collection.json and api/<source>.md for one source, or every exportable one. */
export function writeApiFiles(apiDir: string, source?: string): WrittenApiFiles[] {
  let defs: ExporterDefinition[];
  if (source === undefined) defs = Object.values(EXPORTERS);
  else {
    const def = exporterFor(source);
    if (def === undefined) {
      throw new UsageLabError('api_source_unknown', `usagelab has no API connector for "${source}"`, {
        place: { source },
        hint: `sources with one: ${Object.keys(EXPORTERS).join(', ')}`,
      });
    }
    defs = [def];
  }
  mkdirSync(apiDir, { recursive: true });
  return defs.map((def) => {
    const collection = join(apiDir, `${def.source}.postman_collection.json`);
    const notes = join(apiDir, `${def.source}.md`);
    const json = postmanCollection(def);
    writeFileAtomic(collection, `${JSON.stringify(json, null, 2)}\n`);
    writeFileAtomic(notes, apiNotes(def));
    return { source: def.source, collection, notes, requests: (json.item as unknown[]).length };
  });
}

/**
 * Whether a request the connector sent (method, path, query names) is the endpoint's: `{{VARIABLES}}` in the
 * path match one segment or more (a base URL may carry a path), literal segments must be equal, and every query
 * parameter the endpoint names must be present. For tests that record what a fake vendor server received.
 */
export function endpointMatches(endpoint: EndpointSpec, request: { readonly method: string; readonly path: string; readonly query: URLSearchParams }): boolean {
  if (endpoint.method !== request.method) return false;
  const [rawPath, rawQuery = ''] = endpoint.url.split('?');
  // The part before the first path slash that follows a host variable or scheme is the base URL: drop it.
  const afterHost = rawPath!.replace(/^(?:https?:\/\/[^/]+|\{\{[^}]+\}\})/, '');
  const pattern = afterHost
    .split(/(\{\{[^}]+\}\})/)
    // A key prefix (S3's `{{HEAP_S3_PREFIX}}`) may be empty or span folders; other variables are one path segment.
    .map((part) => (/^\{\{\w*PREFIX\}\}$/.test(part) ? '(?:[^?]*/)?' : part.startsWith('{{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  if (!new RegExp(`^(?:/[^?]*)?${pattern}$`).test(request.path) && !(afterHost === '' && /^\/?[^/]*$/.test(request.path))) return false;
  for (const name of new URLSearchParams(rawQuery).keys()) if (!request.query.has(name)) return false;
  return true;
}
