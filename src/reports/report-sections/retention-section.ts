/** Retention: the cohort heatmap of the last months' cohorts, with the size-weighted average. */
import { heatmap, type HeatCell } from '../charts/chart-specs.js';
import { p, table, type Block, type ReportSection } from '../report-document.js';
import { count, daysBetween, pct } from '../report-format.js';
import type { ReportData } from '../report-data.js';

export function retentionSection(data: ReportData): ReportSection {
  const r = data.retention;
  const def = r.definition;
  const ks = Array.from({ length: def.intervals + 1 }, (_, k) => k);
  const cohorts = r.cohorts.filter((c) => c.size > 0);
  const cells: HeatCell[] = cohorts.flatMap((c) => c.intervals.map((cell) => ({ row: `${c.start} (${count(c.size)})`, column: String(cell.k), value: cell.rate, text: cell.rate === null ? '' : pct(cell.rate, 0) })));
  const what = `${def.cohort === 'first_time' ? 'first-time' : 'recurring'} cohorts of ${def.target.event === '$any' ? 'any event' : def.target.event}`;
  return {
    id: 'retention',
    title: 'Retention',
    blocks: [
      p(
        `${def.name}: ${what}, by calendar ${def.interval} (weeks start on ${def.week_start}), returning with ${def.returning.event === '$any' ? 'any event' : def.returning.event}; `,
        `cohorts from ${def.date_range?.from ?? '–'} to ${def.date_range?.to ?? '–'}. Empty cells are not over yet at the end of the month.`,
      ),
      ...historyNote(data, def.date_range?.from ?? null, 'the cohorts of its first weeks also hold people who were active before it (their first event in the data is not their first ever), so those cohorts are larger than the real number of new people.'),
      ...(cohorts.length === 0
        ? [p('No cohorts in the period.')]
        : [
            {
              type: 'chart' as const,
              file: 'retention.svg',
              alt: `Retention heatmap: share of each ${def.interval}ly cohort active again k ${def.interval}s later`,
              spec: heatmap(cells, {
                title: `${def.name}`,
                rowTitle: `cohort (size)`,
                columnTitle: `${def.interval}s after entry`,
                rows: cohorts.map((c) => `${c.start} (${count(c.size)})`),
                columns: ks.map(String),
                legendTitle: 'retained',
              }),
            },
            table(
              [def.interval, ...ks.map((k) => ({ title: String(k), align: 'right' as const }))],
              [['average', ...ks.map((k) => pct(r.average.find((a) => a.k === k)?.rate ?? null))], ['cohorts in average', ...ks.map((k) => count(r.average.find((a) => a.k === k)?.cohorts ?? 0))]],
            ),
          ]),
    ],
  };
}

/** The first day of stored events (UTC), over all sources; null for an empty warehouse. */
export function historyStart(data: ReportData): string | null {
  const days = data.sources.flatMap((s) => (s.first_event === null ? [] : [s.first_event.slice(0, 10)]));
  return days.length === 0 ? null : days.sort()[0]!;
}

/**
 * "First time" and "new" mean first seen in the data: when the data begins less than 90 days before `from`, the
 * reader is told so (with `what` it changes).
 */
export function historyNote(data: ReportData, from: string | null, what: string): Block[] {
  const start = historyStart(data);
  if (start === null || from === null || daysBetween(start, from) >= 90) return [];
  const days = daysBetween(start, from);
  const when = days < 0 ? `, after ${from}` : days === 0 ? '' : `, ${days} day${days === 1 ? '' : 's'} before ${from}`;
  return [p(`The data begins on ${start}${when}: ${what}`)];
}
