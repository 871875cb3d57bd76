/**
 * `usagelab pii scan [PATH...] [--warehouse]`: reports personal data the scanners recognise, by kind and field,
 * never the values; exit code 6 when there is any (a CI gate). The workspace's pii settings (kinds, custom
 * patterns, keep list) apply; outside a workspace, files are scanned with the defaults.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../core/config-load.js';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { findWorkspace } from '../../core/workspace.js';
import { scanFiles, scanWarehouse, type ScanReport } from '../../governance/pii-scan.js';
import { DEFAULT_SCANNERS, scannersFrom, type Scanners } from '../../governance/pii-scanners.js';
import { openWorkspace } from '../../library/workspace.js';
import type { CommandContext } from '../command-context.js';
import { formatTable, printJson, type Io } from '../output.js';

interface ScanFlags {
  warehouse?: boolean;
  json?: boolean;
}

/** The JSON output of `pii scan` (docs/governance.md). */
export interface PiiScanOutput {
  readonly version: 1;
  /** Findings over every report. */
  readonly total: number;
  readonly reports: readonly ScanReport[];
}

/** The workspace's scanners when there is a workspace; the defaults (and a note) when there is none. */
function fileScanners(ctx: CommandContext): Scanners {
  try {
    return scannersFrom(loadConfig(findWorkspace(ctx.workspace())).config.pii);
  } catch (err) {
    if (err instanceof UsageLabError && err.code === 'workspace_not_found' && ctx.workspace() === undefined) {
      ctx.io.stderr('no workspace here: scanning with the default scanners\n');
      return DEFAULT_SCANNERS;
    }
    throw err;
  }
}

export function renderScanReports(io: Io, reports: readonly ScanReport[]): void {
  for (const r of reports) {
    const what =
      r.target === 'files'
        ? `files: ${r.scanned.files.toLocaleString('en-US')} scanned, ${r.scanned.records.toLocaleString('en-US')} records${r.skipped.length > 0 ? `, ${r.skipped.length} skipped` : ''}`
        : `warehouse: ${r.scanned.records.toLocaleString('en-US')} events`;
    io.stdout(`${what}\n`);
    for (const s of r.skipped) io.stdout(`  skipped ${s.path}: ${s.reason}\n`);
    if (r.findings.length === 0) io.stdout('no unmasked personal data found\n\n');
    else {
      io.stdout(formatTable(r.findings.map((f) => ({ kind: f.kind, field: f.field, count: f.count, where: f.locations.join(', ') }))));
      io.stdout(`${r.total.toLocaleString('en-US')} finding(s); values are never printed\n\n`);
    }
  }
}

export function registerPiiCommand(program: Command, ctx: CommandContext): void {
  const pii = program.command('pii').description('personal data: find what masking would replace');
  pii
    .command('scan')
    .description('report unmasked personal data by kind and field (never the values); exit code 6 when any is found')
    .argument('[paths...]', 'files or folders to scan: NDJSON, JSON, CSV or text, gzipped or not')
    .option('--warehouse', "scan the workspace's warehouse (events and identity tables)")
    .option('--json', 'print JSON')
    .action(async (paths: string[], opts: ScanFlags) => {
      ctx.setJson(opts.json === true);
      if (paths.length === 0 && opts.warehouse !== true) {
        throw new UsageLabError('pii_scan_nothing', 'nothing to scan', { hint: 'usage: usagelab pii scan PATH... and/or --warehouse' });
      }
      const reports: ScanReport[] = [];
      if (opts.warehouse === true) {
        const ws = await openWorkspace(ctx.workspace());
        try {
          if (paths.length > 0) reports.push(await scanFiles(paths, scannersFrom(ws.config.pii)));
          reports.push(await scanWarehouse(ws.warehouse, scannersFrom(ws.config.pii)));
        } finally {
          ws.close();
        }
      } else {
        reports.push(await scanFiles(paths, fileScanners(ctx)));
      }
      const total = reports.reduce((n, r) => n + r.total, 0);
      if (opts.json === true) printJson(ctx.io, { version: 1, total, reports } satisfies PiiScanOutput);
      else renderScanReports(ctx.io, reports);
      ctx.setExitCode(total > 0 ? EXIT.piiFound : EXIT.ok);
    });
}
