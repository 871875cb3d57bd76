/**
 * `usagelab adoption [--features a,b] ...`: feature adoption over the catalog in queries/features.yaml, with the
 * same definition, defaults and validation as a saved `kind: adoption` query, and its terminal table / CSV rows.
 */
import type { Command } from 'commander';
import { EXIT } from '../../core/exit-codes.js';
import { adoptionAnalysis } from '../../analyses/adoption/adoption-analysis.js';
import type { AdoptionResult, FeatureAdoption, FeatureCore, RetentionInterval } from '../../analyses/adoption/adoption-result.js';
import { loadFeatureCatalog } from '../../library/feature-catalog-file.js';
import { openWorkspace } from '../../library/workspace.js';
import type { CommandContext } from '../command-context.js';
import { formatTable } from '../output.js';
import { percent, printResult, type ResultRenderer } from '../result-output.js';
import { addScopeOptions, listFlag, scopeFromFlags, type ScopeFlags } from '../scope-flags.js';

const num = (v: number | null, digits = 2): string => (v === null ? '' : Number.isInteger(v) ? String(v) : v.toFixed(digits));

/** A retention cell: the share, with * when users are still pending (the interval is not complete for all). */
const retentionCell = (k: RetentionInterval): string => (k.share === null ? (k.pending_users > 0 ? '*' : '') : `${percent(k.share)}${k.complete ? '' : '*'}`);

function featureRows(result: AdoptionResult): Record<string, unknown>[] {
  const unit = result.definition.interval;
  return result.features.map((f) => {
    const row: Record<string, unknown> = {
      feature: f.name,
      class: f.class,
      users: f.users,
      active: f.active_users,
      share: percent(f.share),
      'uses/user': num(f.frequency.uses_per_user_mean),
      'median uses': num(f.frequency.uses_per_user_median),
      'uses/user/week': num(f.frequency.uses_per_user_per_week),
    };
    for (const k of f.retention) row[`${unit} ${k.interval}`] = retentionCell(k);
    row.frustration = percent(f.frustration.rate);
    row.why = f.reason.text;
    return row;
  });
}

function groupRows(result: AdoptionResult): Record<string, unknown>[] {
  return (result.breakdown ?? []).flatMap((g) =>
    g.features.map((f) => ({
      [result.definition.breakdown ?? 'breakdown']: g.value ?? '(none)',
      feature: f.name,
      class: f.class,
      users: f.users,
      active: f.active_users,
      share: percent(f.share),
      frustration: percent(f.frustration.rate),
    })),
  );
}

export const adoptionRenderer: ResultRenderer<AdoptionResult> = {
  table(result) {
    const d = result.definition;
    const range = d.date_range === null ? 'all data' : `${d.date_range.from} to ${d.date_range.to}`;
    let out = `${result.name}  (${range}, time zone ${d.timezone}; ${result.active_users.toLocaleString('en-US')} active users; data through ${result.data_through ?? '—'})\n\n`;
    out += formatTable(featureRows(result));
    if (d.retention_intervals > 0) {
      out += `\n${d.interval} N: share of a feature's users who used it again N ${d.interval}s after the ${d.interval} of their first use; * = not complete yet (pending users left out)\n`;
    }
    const t = d.thresholds;
    out += `classes: adopted share ≥ ${percent(t.adopted_min_share)}, ignored share ≤ ${percent(t.ignored_max_share)}, frustrating rate ≥ ${percent(t.frustrating_min_rate)}, at least ${t.min_users} users\n`;
    if (result.breakdown !== undefined) out += `\nby ${d.breakdown}\n${formatTable(groupRows(result))}`;
    if (result.excluded.people > 0) out += `\nexcluded (${result.excluded.by.join(', ')}): ${result.excluded.people} people, ${percent(result.excluded.share_of_events)} of events\n`;
    return out;
  },
  csvRows(result) {
    const withGroups = result.breakdown !== undefined;
    const core = (f: FeatureCore): Record<string, unknown> => ({
      key: f.key,
      feature: f.name,
      class: f.class,
      reason_rule: f.reason.rule,
      reason: f.reason.text,
      period_from: f.period?.from ?? null,
      period_to: f.period?.to ?? null,
      active_users: f.active_users,
      users: f.users,
      share: f.share,
      uses: f.uses,
      frustration_sessions: f.frustration.sessions,
      frustrated_sessions: f.frustration.frustrated_sessions,
      frustration_rate: f.frustration.rate,
    });
    const full = (f: FeatureAdoption): Record<string, unknown> => {
      const row: Record<string, unknown> = {
        ...(withGroups ? { scope: 'all', breakdown_value: null } : {}),
        ...core(f),
        uses_per_user_mean: f.frequency.uses_per_user_mean,
        uses_per_user_median: f.frequency.uses_per_user_median,
        uses_per_week: f.frequency.uses_per_week,
        uses_per_user_per_week: f.frequency.uses_per_user_per_week,
      };
      for (const k of f.retention) {
        row[`retention_${k.interval}`] = k.share;
        row[`retention_${k.interval}_users`] = k.users;
        row[`retention_${k.interval}_pending`] = k.pending_users;
      }
      return row;
    };
    const rows = result.features.map(full);
    for (const g of result.breakdown ?? []) {
      for (const f of g.features) rows.push({ scope: 'breakdown', breakdown_value: g.value, ...core(f) });
    }
    return rows;
  },
};

interface AdoptionFlags extends ScopeFlags {
  features?: string;
  interval?: string;
  retentionIntervals?: string;
  adoptedMinShare?: string;
  ignoredMaxShare?: string;
  frustratingMinRate?: string;
  minUsers?: string;
}

/** The definition keys the adoption flags set (numbers left for the definition's rules to judge). */
export function adoptionFromFlags(opts: AdoptionFlags): Record<string, unknown> {
  const input: Record<string, unknown> = { kind: 'adoption', ...scopeFromFlags(opts) };
  const features = listFlag(opts.features);
  if (features !== undefined) input.features = features;
  if (opts.interval !== undefined) input.interval = opts.interval;
  if (opts.retentionIntervals !== undefined) input.retention_intervals = Number(opts.retentionIntervals);
  const thresholds: Record<string, number> = {};
  if (opts.adoptedMinShare !== undefined) thresholds.adopted_min_share = Number(opts.adoptedMinShare);
  if (opts.ignoredMaxShare !== undefined) thresholds.ignored_max_share = Number(opts.ignoredMaxShare);
  if (opts.frustratingMinRate !== undefined) thresholds.frustrating_min_rate = Number(opts.frustratingMinRate);
  if (opts.minUsers !== undefined) thresholds.min_users = Number(opts.minUsers);
  if (Object.keys(thresholds).length > 0) input.thresholds = thresholds;
  return input;
}

export function registerAdoptionCommand(program: Command, ctx: CommandContext): void {
  const command = program
    .command('adoption')
    .description('feature adoption: users, share, frequency, retention and frustration per feature of queries/features.yaml, classified (docs/analyses/adoption.md)')
    .option('--features <keys>', 'feature keys, comma-separated (default: every feature in queries/features.yaml)')
    .option('--interval <interval>', 'retention interval: day | week | month (default week)')
    .option('--retention-intervals <n>', 'intervals after the first use to follow (default 4; 0 leaves retention out)')
    .option('--adopted-min-share <share>', 'adopted when share ≥ this (default from features.yaml, else 0.2)')
    .option('--ignored-max-share <share>', 'ignored when share ≤ this (default from features.yaml, else 0.05)')
    .option('--frustrating-min-rate <rate>', 'frustrating when the frustration rate ≥ this (default from features.yaml, else 0.15)')
    .option('--min-users <n>', 'fewest people a rate is judged on (default from features.yaml, else 20)');
  addScopeOptions(command).action(async (opts: AdoptionFlags) => {
    ctx.setJson(opts.json === true);
    const input = adoptionFromFlags(opts);
    const ws = await openWorkspace(ctx.workspace());
    try {
      const catalog = loadFeatureCatalog(ws.paths.queries);
      const result = await ws.runAnalysis(adoptionAnalysis, input, { catalog });
      printResult(ctx.io, result, adoptionRenderer, opts);
      ctx.setExitCode(EXIT.ok);
    } finally {
      ws.close();
    }
  });
}
