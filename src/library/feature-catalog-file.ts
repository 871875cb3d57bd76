/**
 * Reads the feature catalog of a workspace: queries/features.yaml (docs/analyses/adoption.md#the-feature-catalog).
 * Parsing and validation are the analysis's (analyses/adoption/feature-catalog.ts); this only finds and reads it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageLabError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import { parseFeatureCatalog, type FeatureCatalog } from '../analyses/adoption/feature-catalog.js';
import { readYamlFile } from './saved-segments.js';

export const FEATURES_FILE = 'features.yaml';

export function featureCatalogPath(queriesDir: string): string {
  return join(queriesDir, FEATURES_FILE);
}

/** The catalog of queries/features.yaml; a clear error (features_file_missing, exit 2) when there is none. */
export function loadFeatureCatalog(queriesDir: string): FeatureCatalog {
  const file = featureCatalogPath(queriesDir);
  if (!existsSync(file)) {
    throw new UsageLabError('features_file_missing', `no feature catalog: ${file} does not exist`, {
      place: { file },
      hint: 'declare your features in queries/features.yaml (features: - { name: Export, match: [{ event: export_clicked }] }); see docs/analyses/adoption.md',
      exitCode: EXIT.usage,
    });
  }
  return parseFeatureCatalog(readYamlFile(file), file);
}
