/**
 * `usagelab export <source> [--from DATE --to DATE] [--resume] [--dry-run] [--import]`: pulls raw events from the
 * vendor's API into exports/<source>/ (masked, one gzipped NDJSON file per window, manifest.json beside them).
 * Progress goes to stderr (a bar on a terminal, one line per finished window otherwise, NDJSON with --json); the
 * result goes to stdout. Exit codes: 0 all windows complete, 2 usage/config, 3 credentials refused, 4 source
 * unavailable after retries, 5 partial data (the failed windows are named).
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { UsageLabError } from '../../core/errors.js';
import { exportSource, openExportWorkspace, type ExportSourceResult } from '../../library/export-source.js';
import { formatBytes, formatDuration, formatProgressLine, type ExportProgress } from '../../sources/export/export-progress.js';
import { EXPORTERS } from '../../sources/export/exporter-registry.js';
import type { CommandContext } from '../command-context.js';
import { formatTable, printJson, redactedStderr, type Io } from '../output.js';
import { importProgressBar } from '../progress-bar.js';
import type { ImportProgress } from '../../warehouse/duckdb/duckdb-import.js';

interface ExportFlags {
  from?: string;
  to?: string;
  resume?: boolean;
  dryRun?: boolean;
  import?: boolean;
  concurrency?: string;
  pageSize?: string;
  json?: boolean;
}

interface ProgressDisplay {
  update(p: ExportProgress): void;
  stop(): void;
}

/** A bar on a terminal; otherwise a line per finished window (NDJSON with --json), for CI logs. */
export function exportProgressDisplay(io: Io, json: boolean): ProgressDisplay {
  if (!io.isTTY) {
    let finished = -1;
    return {
      update(p) {
        const done = p.windowsDone + p.windowsFailed;
        // One line per finished window; with --json also a closing "done" event for machines.
        if (done === finished && !(json && p.phase === 'done')) return;
        finished = done;
        io.stderr(json ? `${JSON.stringify({ event: 'export_progress', ...p })}\n` : `${formatProgressLine(p)}\n`);
      },
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: '{source} [{bar}] {windows} windows | {rows} rows | {bytes} | {rate} rows/s | {elapsed} | rate-limit wait {wait}{retries} | {active}',
      hideCursor: true,
      stream: redactedStderr,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const total = Math.max(1, p.windowsTotal);
      const payload = {
        source: p.source,
        windows: `${p.windowsDone + p.windowsFailed}/${p.windowsTotal}${p.windowsFailed > 0 ? ` (${p.windowsFailed} failed)` : ''}`,
        rows: p.rows.toLocaleString('en-US'),
        bytes: formatBytes(p.bytesReceived),
        rate: Math.round(p.rowsPerSecond).toLocaleString('en-US'),
        elapsed: formatDuration(p.elapsedMs),
        wait: formatDuration(p.rateLimitWaitMs),
        retries: p.retries > 0 ? ` | ${p.retries} retries` : '',
        active: p.active.slice(0, 2).join(', '),
      };
      if (!started) {
        bar.start(total, 0, payload);
        started = true;
      }
      bar.update(p.windowsDone + p.windowsFailed, payload);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageLabError('cli_flag_invalid', `${flag} must be a whole number of at least 1 (got "${text}")`, { place: { field: flag } });
  }
  return n;
}

function summary(r: ExportSourceResult): string {
  let out = '';
  if (r.dry_run) {
    out += `${r.source}: would export ${r.windows.planned} window(s) from ${r.from} to ${r.to}${r.windows.skipped > 0 ? `, skipping ${r.windows.skipped} already complete` : ''}\n`;
    const rows = [...(r.plan?.export ?? []).map((w) => ({ window: w, action: 'export' })), ...(r.plan?.skip ?? []).map((w) => ({ window: w, action: 'skip (done)' }))];
    if (rows.length > 0) out += formatTable(rows);
  } else if (r.status === 'nothing_to_do') {
    out += `${r.source}: nothing to export between ${r.from} and ${r.to}${r.windows.skipped > 0 ? ` (${r.windows.skipped} window(s) already complete)` : ''}\n`;
  } else {
    const w = r.windows;
    out += `${r.source}: ${w.exported + w.empty} of ${w.planned} window(s) exported (${w.empty} empty${w.skipped > 0 ? `, ${w.skipped} skipped as done` : ''}), `;
    out += `${r.rows.toLocaleString('en-US')} rows, ${formatBytes(r.bytes)} written in ${formatDuration(r.duration_ms)}`;
    out += ` — waited ${formatDuration(r.rate_limit_wait_ms)} on rate limits, ${r.retries} retr${r.retries === 1 ? 'y' : 'ies'}\n`;
    out += `range ${r.from} .. ${r.to} (end exclusive); manifest: ${r.manifest}\n`;
  }
  if (r.cut !== null) out += `the range was cut at ${r.cut.available_until}: ${r.source} does not serve complete data after it yet\n`;
  if (r.failed.length > 0) {
    out += `\nfailed windows (no file written for them):\n`;
    out += formatTable(r.failed.map((f) => ({ window: f.window, code: f.code, message: f.message })));
  }
  if (r.import !== null) {
    const i = r.import;
    out += `import: ${i.files} file(s), ${i.imported.toLocaleString('en-US')} imported, ${i.duplicates.toLocaleString('en-US')} duplicates, ${i.rejected.toLocaleString('en-US')} rejected\n`;
  }
  return out;
}

export function registerExportCommand(program: Command, ctx: CommandContext): void {
  program
    .command('export')
    .description(`export raw events from a vendor API into exports/<source>/ (masked; one file per window, manifest.json): ${Object.keys(EXPORTERS).join(', ')}`)
    .argument('<source>', Object.keys(EXPORTERS).join(' | '))
    .option('--from <date>', 'first day (YYYY-MM-DD) or UTC hour (YYYY-MM-DDTHH); default: after the last export, minus the late-data lookback')
    .option('--to <date>', 'last day or hour, included; default: the newest data the source serves as complete')
    .option('--resume', 'continue the last run (or the given range), skipping windows already done')
    .option('--dry-run', 'list the windows that would be exported; no request, no file')
    .option('--import', 'import the new files into the warehouse afterwards')
    .option('--concurrency <n>', "windows exported at once (capped by the source's documented limit)")
    .option('--page-size <n>', 'rows per page where the source pages (PostHog: default 10000, at most 50000)')
    .option('--json', 'print the result as JSON (progress as NDJSON on stderr)')
    .action(async (source: string, opts: ExportFlags) => {
      const json = opts.json === true;
      ctx.setJson(json);
      const display = exportProgressDisplay(ctx.io, json);
      const importBar = importProgressBar(ctx.io);
      const importUpdate = importBar.update;
      const options = {
        from: opts.from,
        to: opts.to,
        resume: opts.resume === true,
        dryRun: opts.dryRun === true,
        import: opts.import === true,
        concurrency: positiveInt(opts.concurrency, '--concurrency'),
        pageSize: positiveInt(opts.pageSize, '--page-size'),
        onProgress: (p: ExportProgress) => display.update(p),
        onImportProgress:
          importUpdate === undefined
            ? undefined
            : (p: ImportProgress): void => {
                display.stop();
                importUpdate(p);
              },
      };
      let result: ExportSourceResult;
      try {
        // The warehouse is opened only for --import, after the export (an export alone never holds it).
        result = await exportSource(openExportWorkspace(ctx.workspace()), source, options);
      } finally {
        display.stop();
        importBar.stop();
      }
      if (json) printJson(ctx.io, result);
      else ctx.io.stdout(summary(result));
      if (result.failed.length > 0) {
        ctx.io.stderr(
          `partial: ${result.failed.length} window(s) failed (exit code ${result.exit_code}); run \`usagelab export ${source} --resume\` to fetch them again\n`,
        );
      } else if (result.import?.partial === true) {
        ctx.io.stderr('partial: some records were not imported (exit code 5); see the quarantine table\n');
      }
      ctx.setExitCode(result.exit_code);
    });
}
