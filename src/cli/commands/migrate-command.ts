import type { Command } from 'commander';
import { EXIT } from '../../core/exit-codes.js';
import { UsageLabError } from '../../core/errors.js';
import { migrateToClickhouse } from '../../library/migrate-warehouse.js';
import type { CommandContext } from '../command-context.js';
import { formatTable, printJson } from '../output.js';

/** `usagelab migrate --to clickhouse [--from FILE]`: copy the embedded warehouse into ClickHouse (docs/scaling.md). */
export function registerMigrateCommand(program: Command, ctx: CommandContext): void {
  program
    .command('migrate')
    .description('copy the embedded DuckDB warehouse into the ClickHouse of usagelab.yaml (idempotent; docs/scaling.md)')
    .requiredOption('--to <engine>', 'target engine: clickhouse')
    .option('--from <file>', 'DuckDB file to copy (default warehouse.staging_path, .usagelab/warehouse.duckdb)')
    .option('--json', 'print JSON')
    .action(async (opts: { to: string; from?: string; json?: boolean }) => {
      ctx.setJson(opts.json === true);
      if (opts.to !== 'clickhouse') {
        throw new UsageLabError('migrate_target_invalid', `cannot migrate to "${opts.to}"`, { hint: 'usagelab migrate --to clickhouse', exitCode: EXIT.usage, place: { field: '--to' } });
      }
      let last = '';
      const result = await migrateToClickhouse(ctx.workspace(), {
        ...(opts.from === undefined ? {} : { from: opts.from }),
        onProgress: (p) => {
          const line = `${p.table} ${p.partition}: ${p.sent}/${p.rows} rows`;
          if (line !== last) ctx.io.stderr(`${line}\n`);
          last = line;
        },
      });
      if (opts.json) printJson(ctx.io, result);
      else {
        ctx.io.stdout(`copied ${result.from} to ClickHouse ${result.to.url} database ${result.to.database}${result.to.cluster === null ? '' : ` (cluster ${result.to.cluster})`}\n\n`);
        ctx.io.stdout(formatTable(result.tables.map((t) => ({ table: t.table, rows: t.rows, sent: t.sent, unchanged: t.unchanged, dropped: t.dropped }))));
        ctx.io.stdout(`\n${result.rows_sent} rows sent; row counts equal on both sides\n`);
      }
      ctx.setExitCode(EXIT.ok);
    });
}
