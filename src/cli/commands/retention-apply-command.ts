/**
 * `usagelab retention apply [--dry-run] [--json]`: deletes exports and warehouse events older than the `retention:`
 * limits, says what it deleted (files, bytes, events per source and their dates), and appends the run to
 * .usagelab/retention-audit.jsonl (docs/governance.md#retention). A subcommand of `retention`, whose own action is
 * the retention analysis: `usagelab retention <target>` is unchanged.
 */
import type { Command } from 'commander';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { applyRetention, type RetentionResult } from '../../library/retention-apply.js';
import { openWorkspace } from '../../library/workspace.js';
import type { CommandContext } from '../command-context.js';
import { formatTable, printJson } from '../output.js';

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

function text(r: RetentionResult): string {
  const verb = r.dry_run ? 'would delete' : 'deleted';
  let out = '';
  if (r.exports === null) out += 'exports: kept (no retention.exports_days)\n';
  else {
    out += `exports: ${verb} ${r.exports.files.length} file(s), ${bytes(r.exports.bytes)} (windows ended by ${r.exports.before}; unlisted files modified before it)\n`;
    if (r.exports.files.length > 0) {
      out += formatTable(
        r.exports.files.map((f) => ({
          source: f.source,
          file: f.file ?? '(no file: entry only)',
          bytes: f.bytes,
          data: f.window === null ? `modified ${f.modified}` : `${f.window.start} .. ${f.window.end}`,
        })),
      );
    }
  }
  if (r.warehouse === null) out += 'warehouse: kept (no retention.warehouse_days)\n';
  else {
    out += `warehouse: ${verb} ${r.warehouse.events.toLocaleString('en-US')} event(s) before ${r.warehouse.before}\n`;
    if (r.warehouse.sources.length > 0) out += formatTable(r.warehouse.sources.map((s) => ({ ...s })));
    if (!r.dry_run && r.warehouse.events > 0) {
      out += `recomputed ${r.warehouse.sessions_recomputed} session(s); removed ${r.warehouse.identity_links_removed} identity link(s), ${r.warehouse.identity_map_removed} identity map entr(ies), ${r.warehouse.email_domains_removed} e-mail domain record(s); person tags derived again\n`;
    }
  }
  if (r.audit_log !== null) out += `audit log: ${r.audit_log}\n`;
  else out += 'dry run: nothing was deleted\n';
  return out;
}

/**
 * Options of the analysis command around `apply` are parsed by it, wherever they stand (commander hands a subcommand
 * only the options its parent does not know): --json is taken from there; any other is refused rather than ignored.
 */
function inheritedJson(retention: Command): boolean {
  const own = retention.opts<Record<string, unknown>>();
  const stray = Object.entries(own).filter(([k, v]) => k !== 'json' && v !== undefined && !(k === 'name' && v === 'ad hoc'));
  if (stray.length > 0) {
    const flags = stray.map(([k]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ');
    throw new UsageLabError('cli_option_unknown', `retention apply does not take ${flags}`, {
      place: { field: flags },
      hint: 'usage: usagelab retention apply [--dry-run] [--json] (the limits come from retention: in usagelab.yaml)',
      exitCode: EXIT.usage,
    });
  }
  return own.json === true;
}

export function registerRetentionApplyCommand(retention: Command, ctx: CommandContext): void {
  retention
    .command('apply')
    .description('delete exports and warehouse events older than the retention: limits; audit log in .usagelab/ (docs/governance.md#retention)')
    .option('--dry-run', 'say what would be deleted; delete nothing')
    .option('--json', 'print JSON')
    .action(async (flags: { dryRun?: boolean; json?: boolean }) => {
      const opts = { ...flags, json: flags.json === true || inheritedJson(retention) };
      ctx.setJson(opts.json);
      const ws = await openWorkspace(ctx.workspace());
      try {
        const result = await applyRetention(ws, { dryRun: opts.dryRun === true });
        if (opts.json === true) printJson(ctx.io, result);
        else ctx.io.stdout(text(result));
        ctx.setExitCode(EXIT.ok);
      } finally {
        ws.close();
      }
    });
}
