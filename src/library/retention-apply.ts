/**
 * `applyRetention(ws)`: deletes what is older than the `retention:` limits — export files (with their manifest
 * entries) and warehouse events (with what depends on them) — and appends one JSON line per run to
 * .usagelab/retention-audit.jsonl saying what went. With `dryRun` it only says what would go (and logs nothing).
 * Re-running is always safe: a run that was interrupted is simply completed by the next.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { isUsageLabError } from '../core/errors.js';
import { redactSecrets } from '../core/secret-redaction.js';
import { toolVersion } from '../core/tool-version.js';
import { resolvePiiKey } from '../governance/pii-hash.js';
import { retentionCutoffs, retentionNotConfigured } from '../governance/retention-policy.js';
import { applyWarehouseRetention, warehouseRetentionPlan, type WarehouseRetentionResult } from '../governance/retention-warehouse.js';
import { applyExportRetention, exportRetentionPlan, type ExportFileDeletion, type ExportRetentionResult } from '../sources/export/export-retention.js';
import type { Workspace } from './workspace.js';

export const RETENTION_AUDIT_FILE = 'retention-audit.jsonl';

export interface RetentionOptions {
  readonly dryRun?: boolean;
  /** "Now" for the cutoffs (tests); default the clock. */
  readonly now?: number;
  /** Hears of each export file once it is deleted (its manifest rewritten). */
  readonly onFileDeleted?: (d: ExportFileDeletion) => void;
}

export interface RetentionResult {
  readonly version: 1;
  readonly dry_run: boolean;
  readonly ran_at: string;
  readonly limits: { readonly exports_days: number | null; readonly warehouse_days: number | null };
  /** null when exports are kept (no exports_days). */
  readonly exports: ExportRetentionResult | null;
  /** null when the warehouse is kept (no warehouse_days). */
  readonly warehouse: WarehouseRetentionResult | null;
  /** The audit log the run was appended to; null for a dry run. */
  readonly audit_log: string | null;
}

function appendAudit(path: string, record: Record<string, unknown>): void {
  mkdirSync(join(path, '..'), { recursive: true });
  // One write of one line: appends of this size land whole (O_APPEND), so the log never holds half a record.
  appendFileSync(path, `${redactSecrets(JSON.stringify(record))}\n`);
}

export async function applyRetention(ws: Workspace, options: RetentionOptions = {}): Promise<RetentionResult> {
  const limits = { exports_days: ws.config.retention.exports_days ?? null, warehouse_days: ws.config.retention.warehouse_days ?? null };
  if (limits.exports_days === null && limits.warehouse_days === null) throw retentionNotConfigured();
  const now = options.now ?? Date.now();
  const cutoffs = retentionCutoffs(ws.config.retention, now);
  const ranAt = new Date(now).toISOString();
  const base = { version: 1 as const, ran_at: ranAt, limits };

  if (options.dryRun === true) {
    const exports = cutoffs.exportsBefore === null ? null : exportRetentionPlan(ws.paths.exports, cutoffs.exportsBefore);
    let warehouse: WarehouseRetentionResult | null = null;
    if (cutoffs.warehouseBefore !== null) {
      const sources = await warehouseRetentionPlan(ws.warehouse, cutoffs.warehouseBefore);
      warehouse = {
        before: new Date(cutoffs.warehouseBefore).toISOString(),
        events: sources.reduce((n, s) => n + s.events, 0),
        sources,
        sessions_recomputed: 0,
        identity_links_removed: 0,
        identity_map_removed: 0,
        email_domains_removed: 0,
      };
    }
    return { ...base, dry_run: true, exports, warehouse, audit_log: null };
  }

  const audit = join(ws.paths.state, RETENTION_AUDIT_FILE);
  const deleted: ExportFileDeletion[] = [];
  let exports: ExportRetentionResult | null = null;
  let warehouse: WarehouseRetentionResult | null = null;
  try {
    if (cutoffs.exportsBefore !== null) {
      exports = await applyExportRetention(ws.paths.exports, cutoffs.exportsBefore, (d) => {
        deleted.push(d);
        options.onFileDeleted?.(d);
      });
    }
    if (cutoffs.warehouseBefore !== null) {
      warehouse = await applyWarehouseRetention(ws.warehouse, cutoffs.warehouseBefore, ws.config.exclusions, resolvePiiKey(ws.config.pii));
    }
  } catch (err) {
    // What was deleted before the failure is on record too (the warehouse part is all or nothing).
    const partial = exports ?? (cutoffs.exportsBefore === null ? null : { before: new Date(cutoffs.exportsBefore).toISOString(), files: deleted, bytes: deleted.reduce((n, d) => n + d.bytes, 0) });
    appendAudit(audit, { ...base, tool_version: toolVersion(), status: 'failed', error: isUsageLabError(err) ? err.code : 'internal_error', exports: partial, warehouse });
    throw err;
  }
  appendAudit(audit, { ...base, tool_version: toolVersion(), status: 'complete', exports, warehouse });
  return { ...base, dry_run: false, exports, warehouse, audit_log: audit };
}
