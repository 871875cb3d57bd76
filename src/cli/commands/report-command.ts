/** `usagelab report [--month YYYY-MM] [--html]`: writes the monthly usage report (docs/reports.md). */
import { relative } from 'node:path';
import type { Command } from 'commander';
import { EXIT } from '../../core/exit-codes.js';
import { openWorkspace } from '../../library/workspace.js';
import { writeMonthlyReport } from '../../reports/monthly-report.js';
import type { CommandContext } from '../command-context.js';
import { printJson } from '../output.js';

interface ReportFlags {
  month?: string;
  html?: boolean;
  json?: boolean;
}

export function registerReportCommand(program: Command, ctx: CommandContext): void {
  program
    .command('report')
    .description('write reports/YYYY-MM-usage-report.md with its charts (docs/reports.md)')
    .option('--month <YYYY-MM>', 'the month to report (default: the last complete month in the workspace time zone)')
    .option('--html', 'also write one self-contained HTML file')
    .option('--json', 'print the written files as JSON')
    .action(async (opts: ReportFlags) => {
      ctx.setJson(opts.json === true);
      const ws = await openWorkspace(ctx.workspace());
      try {
        const report = await writeMonthlyReport(ws, { ...(opts.month === undefined ? {} : { month: opts.month }), html: opts.html === true });
        const files = { markdown: report.markdownPath, html: report.htmlPath, charts: report.chartPaths };
        if (opts.json === true) {
          printJson(ctx.io, { month: report.month, ...files, provisional_sources: report.data.sources.filter((s) => s.provisional).map((s) => s.source) });
        } else {
          const rel = (p: string): string => relative(ws.root, p);
          ctx.io.stdout(`report for ${report.month}: ${rel(report.markdownPath)}\n`);
          if (report.htmlPath !== null) ctx.io.stdout(`html: ${rel(report.htmlPath)}\n`);
          ctx.io.stdout(`charts: ${report.chartPaths.length} in ${rel(`${ws.paths.reports}/${report.month}`)}/\n`);
          const provisional = report.data.sources.filter((s) => s.provisional).map((s) => s.source);
          if (provisional.length > 0) ctx.io.stderr(`note: provisional numbers (late data may still arrive): ${provisional.join(', ')}\n`);
        }
        ctx.setExitCode(EXIT.ok);
      } finally {
        ws.close();
      }
    });
}
