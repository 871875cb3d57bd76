/**
 * Saved segments: every queries/*.yaml (one level, and queries/segments/) whose kind is segment, by file name
 * (NAME.yaml → NAME) and by its `name`. Other kinds refer to them by either.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parse } from 'yaml';
import { UsageLabError } from '../core/errors.js';
import { parseSegmentDefinition, type SegmentDefinition } from '../analyses/segment/segment-definition.js';

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile() && ['.yaml', '.yml'].includes(extname(d.name)))
    .map((d) => join(dir, d.name))
    .sort();
}

export function readYamlFile(file: string): unknown {
  try {
    return parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageLabError('query_yaml_invalid', `not valid YAML: ${(err as Error).message.split('\n')[0]}`, {
      place: { file },
      cause: err,
      hint: 'fix the YAML syntax (indentation, quotes) at the line named above',
    });
  }
}

export function loadSavedSegments(queriesDir: string): Map<string, SegmentDefinition> {
  const out = new Map<string, SegmentDefinition>();
  for (const file of [...yamlFiles(queriesDir), ...yamlFiles(join(queriesDir, 'segments'))]) {
    const doc = readYamlFile(file);
    if ((doc as { kind?: unknown } | null)?.kind !== 'segment') continue;
    const def = parseSegmentDefinition(doc, file);
    const stem = basename(file, extname(file));
    if (!out.has(stem)) out.set(stem, def);
    if (!out.has(def.name)) out.set(def.name, def);
  }
  return out;
}
