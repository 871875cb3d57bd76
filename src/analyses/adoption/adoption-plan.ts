/**
 * An adoption definition joined with the feature catalog: the features to report (in order), the thresholds as
 * merged, and the resolved definition for the result. The rules that need the catalog live here.
 */
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import type { RuleViolation } from '../analysis-kind.js';
import { resolveScope } from '../common/definition-parts.js';
import { assertRules } from '../common/parse-definition.js';
import type { WeekStart } from '../common/time-buckets.js';
import type { AdoptionDefinition } from './adoption-definition.js';
import type { ResolvedAdoptionDefinition } from './adoption-result.js';
import { mergeThresholds } from './adoption-thresholds.js';
import type { CatalogFeature, FeatureCatalog } from './feature-catalog.js';

export function assertCatalog(catalog: FeatureCatalog | undefined): asserts catalog is FeatureCatalog {
  if (catalog === undefined || catalog === null) {
    throw new UsageLabError('adoption_catalog_missing', 'an adoption analysis needs the feature catalog', {
      hint: 'pass { catalog } in the run options (the library reads queries/features.yaml with loadFeatureCatalog)',
      exitCode: EXIT.usage,
    });
  }
}

function selectFeatures(def: AdoptionDefinition, catalog: FeatureCatalog): { features: CatalogFeature[]; violations: RuleViolation[] } {
  if (def.features == null) return { features: [...catalog.features], violations: [] };
  const byKey = new Map(catalog.features.map((f) => [f.key, f]));
  const features: CatalogFeature[] = [];
  const violations: RuleViolation[] = [];
  def.features.forEach((key, i) => {
    const feature = byKey.get(key);
    if (feature === undefined) {
      violations.push({
        code: 'adoption_feature_unknown',
        field: `features.${i}`,
        message: `no feature "${key}" in ${catalog.file ?? 'the feature catalog'}`,
        hint: `feature keys: ${[...byKey.keys()].join(', ')}`,
      });
    } else {
      features.push(feature);
    }
  });
  return { features, violations };
}

/** Checks the definition against the catalog (throws the first broken rule) and resolves it. */
export function planAdoption(def: AdoptionDefinition, catalog: FeatureCatalog, timezone: string, weekStart: WeekStart): ResolvedAdoptionDefinition {
  const selected = selectFeatures(def, catalog);
  const merged = mergeThresholds(catalog.thresholds, def.thresholds ?? {});
  assertRules([...selected.violations, ...merged.violations]);
  return {
    name: def.name,
    ...resolveScope(def, timezone),
    features: selected.features,
    interval: def.interval,
    retention_intervals: def.retention_intervals,
    thresholds: merged.thresholds,
    week_start: weekStart,
    catalog_file: catalog.file,
  };
}
