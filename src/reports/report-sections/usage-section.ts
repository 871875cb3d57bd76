/** What users do: the events and pages most people used this month (against the previous month) and top paths. */
import type { PeoplePoint, TrendsSeries, PeopleTotal } from '../../analyses/trends/trends-result.js';
import { stepText } from '../../analyses/paths/paths-result.js';
import { horizontalBars } from '../charts/chart-specs.js';
import { code, h3, p, table, type Block, type ReportSection } from '../report-document.js';
import { count, pct, relChange } from '../report-format.js';
import type { ReportData } from '../report-data.js';
import { isAutomaticEvent } from '../automatic-events.js';

export interface RankedValue {
  value: string;
  people: number;
  previous: number;
}

/** Breakdown series ranked by this month's people (then by value), "other" and absent values left out. */
export function rankSeries(series: readonly TrendsSeries<PeoplePoint, PeopleTotal>[], month: string, previous: string, top: number, keep: (value: string) => boolean = () => true): RankedValue[] {
  const at = (s: TrendsSeries<PeoplePoint, PeopleTotal>, m: string): number => s.points.find((pt) => pt.period_start.startsWith(m))?.people ?? 0;
  return series
    .filter((s) => !s.breakdown_other && s.breakdown_value !== null && keep(s.breakdown_value))
    .map((s) => ({ value: s.breakdown_value!, people: at(s, month), previous: at(s, previous) }))
    .filter((r) => r.people > 0)
    .sort((a, b) => b.people - a.people || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .slice(0, top);
}

function rankedBlocks(data: ReportData, rows: RankedValue[], what: string, file: string, active: number, none: string): Block[] {
  if (rows.length === 0) return [p(none)];
  return [
    table(
      [what, { title: 'people', align: 'right' }, { title: 'share of active', align: 'right' }, { title: data.month.previous.month, align: 'right' }, { title: 'change', align: 'right' }],
      rows.map((r) => [code(r.value), count(r.people), pct(active === 0 ? null : r.people / active), count(r.previous), relChange(r.people, r.previous)]),
    ),
    {
      type: 'chart',
      file,
      alt: `The ${what}s used by the most people in ${data.month.month}`,
      spec: horizontalBars(rows.map((r) => ({ label: r.value, value: r.people, text: count(r.people) })), { title: `Top ${what}s by people, ${data.month.month}`, valueTitle: 'people', format: ',d' }),
    },
  ];
}

export function usageSection(data: ReportData, active: number): ReportSection {
  const { month, config } = data;
  const events = rankSeries(data.topEvents.series, month.month, month.previous.month, config.top, (name) => !isAutomaticEvent(name));
  const pages = rankSeries(data.topPages.series, month.month, month.previous.month, config.top);
  const paths = data.paths;
  const pathRows = paths.paths.slice(0, config.top).map((entry, i) => [String(i + 1), entry.steps.map(stepText).join(' → '), count(entry.sessions), pct(entry.share)]);
  return {
    id: 'usage',
    title: 'What users do',
    blocks: [
      h3('Top events'),
      p("Product events (kind custom) by the people who did them; events the tools record on their own (page views, sessions, autocapture such as PostHog's $autocapture or GA4's scroll) are left out."),
      ...rankedBlocks(data, events, 'event', 'top-events.svg', active, 'No product events in the month.'),
      h3('Top pages'),
      ...rankedBlocks(data, pages, 'page', 'top-pages.svg', active, 'No page or screen views in the month.'),
      h3('Top paths'),
      p(
        `The most common sequences of ${paths.definition.step === 'page' ? 'pages' : 'steps'} within a session (up to ${paths.definition.depth} steps, repeats collapsed: ${paths.definition.collapse_repeats ? 'yes' : 'no'}); `,
        `${count(paths.sessions.with_path)} sessions had a path.`,
      ),
      ...(pathRows.length === 0
        ? [p('No paths in the month.')]
        : [table(['#', 'path', { title: 'sessions', align: 'right' }, { title: 'share', align: 'right' }], pathRows)]),
    ],
  };
}
