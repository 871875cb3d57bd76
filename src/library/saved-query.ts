/**
 * Saved queries: a YAML file in queries/ (or a path) holding one typed definition with a `kind`, run with the
 * workspace's time zone, week start and saved segments.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageLabError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import type { FunnelResult } from '../analyses/funnel/funnel-result.js';
import type { SegmentResult } from '../analyses/segment/segment-analysis.js';
import { ANALYSIS_KINDS, ANALYSIS_KIND_NAMES } from './analysis-registry.js';
import { readYamlFile } from './saved-segments.js';
import type { Workspace } from './workspace.js';

/** A result of any kind; narrow on `kind`. */
export type QueryResult = FunnelResult | SegmentResult | { kind: string; version: number; name: string };

export function resolveQueryPath(ws: Workspace, nameOrPath: string): string {
  const candidates = [resolve(nameOrPath), join(ws.paths.queries, nameOrPath), join(ws.paths.queries, `${nameOrPath}.yaml`), join(ws.paths.queries, `${nameOrPath}.yml`)];
  const hit = candidates.find((p) => existsSync(p));
  if (hit === undefined) {
    throw new UsageLabError('query_not_found', `no saved query "${nameOrPath}"`, { hint: `put it in ${ws.paths.queries}/NAME.yaml or pass a path`, exitCode: EXIT.usage });
  }
  return hit;
}

/** Kind-specific run options (e.g. listDroppedAfter for funnels); ignored by kinds that do not take them. */
export type SavedQueryOptions = Record<string, unknown>;

export async function runSavedQuery(ws: Workspace, nameOrPath: string, options: SavedQueryOptions = {}): Promise<QueryResult> {
  const file = resolveQueryPath(ws, nameOrPath);
  const doc = readYamlFile(file);
  const kind = (doc as { kind?: unknown } | null)?.kind;
  const analysis = typeof kind === 'string' ? ANALYSIS_KINDS[kind] : undefined;
  if (analysis === undefined) {
    throw new UsageLabError('query_kind_unsupported', kind === undefined ? 'the file has no `kind`' : `unknown kind "${String(kind)}"`, {
      place: { file, field: 'kind' },
      hint: `kinds: ${ANALYSIS_KIND_NAMES.join(', ')}`,
      exitCode: EXIT.usage,
    });
  }
  return (await ws.runAnalysis(analysis, doc, options, file)) as QueryResult;
}
