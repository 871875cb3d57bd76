/**
 * The shared keys of every analysis as command-line flags (docs/analyses.md#common-fields), so an ad hoc
 * `usagelab retention ...` takes the same date range, filters, segment, breakdown and exclusions as a saved query.
 */
import type { Command } from 'commander';
import { UsageLabError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';

export interface ScopeFlags {
  from?: string;
  to?: string;
  where?: string[];
  segment?: string;
  breakdown?: string;
  exclude?: string;
  includeAll?: boolean;
  json?: boolean;
  csv?: boolean;
  name?: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Adds --from --to --where --segment --breakdown --exclude --include-all --json --csv --name. */
export function addScopeOptions(command: Command): Command {
  return command
    .option('--from <date>', 'first day, YYYY-MM-DD in the configured time zone')
    .option('--to <date>', 'last day (included), YYYY-MM-DD')
    .option('--where <field=value>', 'filter events (repeatable; value a,b means any of them)', collect)
    .option('--segment <name>', 'only people in this saved segment')
    .option('--breakdown <field>', 'break down by a field (device_type, properties.plan, ...) or segment:NAME')
    .option('--exclude <list>', 'tags/segments to leave out, comma-separated (default internal,bot)')
    .option('--include-all', 'exclude nobody (same as --exclude "")')
    .option('--name <name>', 'name shown in the result', 'ad hoc')
    .option('--json', 'print the documented JSON result (docs/json-output.md)')
    .option('--csv', 'print the result as CSV');
}

/** `a=b` → { a: 'b' }; `a=b,c` → { a: ['b', 'c'] }; `a=true` stays text unless the field is a flag (validated later). */
function parseWhere(items: readonly string[]): Record<string, string | boolean | string[]> {
  const where: Record<string, string | boolean | string[]> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      throw new UsageLabError('cli_where_invalid', `--where ${JSON.stringify(item)} is not field=value`, {
        hint: 'write --where device_type=mobile or --where properties.plan=pro,team',
        exitCode: EXIT.usage,
      });
    }
    const field = item.slice(0, eq).trim();
    const raw = item.slice(eq + 1);
    where[field] = raw === 'true' ? true : raw === 'false' ? false : raw.includes(',') ? raw.split(',').map((v) => v.trim()) : raw;
  }
  return where;
}

/** The definition keys the flags set (only those given, so the kind's defaults apply to the rest). */
export function scopeFromFlags(flags: ScopeFlags): Record<string, unknown> {
  const out: Record<string, unknown> = { name: flags.name ?? 'ad hoc' };
  if (flags.from !== undefined || flags.to !== undefined) {
    if (flags.from === undefined || flags.to === undefined) {
      throw new UsageLabError('cli_date_range_incomplete', 'give both --from and --to', { hint: 'e.g. --from 2024-01-01 --to 2024-01-31', exitCode: EXIT.usage });
    }
    out.date_range = { from: flags.from, to: flags.to };
  }
  if (flags.where !== undefined && flags.where.length > 0) out.where = parseWhere(flags.where);
  if (flags.segment !== undefined) out.segment = flags.segment;
  if (flags.breakdown !== undefined) out.breakdown = flags.breakdown;
  if (flags.includeAll === true) out.exclude = [];
  else if (flags.exclude !== undefined) out.exclude = flags.exclude.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return out;
}

/** Comma-separated list flag → array ('' → []). */
export function listFlag(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}
