/**
 * Retention limits as instants: data from before the start of the current UTC day minus N days is "older than N
 * days". Whole UTC days, so two runs on the same day delete the same things whatever the hour (docs/governance.md
 * "Retention").
 */
import type { RetentionConfig } from '../core/governance-config-schema.js';
import { UsageLabError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';

const DAY_MS = 86_400_000;

export interface RetentionCutoffs {
  /** Export windows that ended at or before this instant are deleted; null: exports are kept. */
  readonly exportsBefore: number | null;
  /** Events that occurred before this instant are deleted; null: the warehouse is kept. */
  readonly warehouseBefore: number | null;
}

export function retentionCutoffs(retention: RetentionConfig, now: number): RetentionCutoffs {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  return {
    exportsBefore: retention.exports_days === undefined ? null : today - retention.exports_days * DAY_MS,
    warehouseBefore: retention.warehouse_days === undefined ? null : today - retention.warehouse_days * DAY_MS,
  };
}

export function retentionNotConfigured(): UsageLabError {
  return new UsageLabError('retention_not_configured', 'usagelab.yaml sets no retention limits: nothing would be deleted', {
    place: { field: 'retention' },
    hint: 'add e.g. `retention: { exports_days: 90, warehouse_days: 400 }` to usagelab.yaml (docs/governance.md#retention)',
    exitCode: EXIT.usage,
  });
}
