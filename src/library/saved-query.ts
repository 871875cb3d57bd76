/**
 * Saved queries: a YAML file in queries/ (or a path) holding one typed definition with a `kind`. Only the kinds
 * implemented so far are accepted; others get an error that says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { UsageLabError } from '../core/errors.js';
import { parseFunnelDefinition, runFunnel } from '../analyses/funnel/funnel-analysis.js';
import type { FunnelResult } from '../analyses/funnel/funnel-result.js';
import type { Workspace } from './workspace.js';

export type QueryResult = FunnelResult;

export function resolveQueryPath(ws: Workspace, nameOrPath: string): string {
  const candidates = [resolve(nameOrPath), join(ws.paths.queries, nameOrPath), join(ws.paths.queries, `${nameOrPath}.yaml`)];
  const hit = candidates.find((p) => existsSync(p));
  if (hit === undefined) {
    throw new UsageLabError('query_not_found', `no saved query "${nameOrPath}"`, { hint: `put it in ${ws.paths.queries}/NAME.yaml or pass a path` });
  }
  return hit;
}

export async function runSavedQuery(ws: Workspace, nameOrPath: string): Promise<QueryResult> {
  const file = resolveQueryPath(ws, nameOrPath);
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageLabError('query_yaml_invalid', `not valid YAML: ${(err as Error).message.split('\n')[0]}`, { place: { file }, cause: err });
  }
  const kind = (doc as { kind?: unknown } | null)?.kind;
  if (kind === 'funnel') {
    return runFunnel(ws.warehouse, parseFunnelDefinition(doc, file), { timezone: ws.config.timezone });
  }
  throw new UsageLabError('query_kind_unsupported', `kind "${String(kind)}" is not available yet`, {
    place: { file, field: 'kind' },
    hint: 'supported kinds in this version: funnel',
  });
}
