/** Segments compared: people active in each saved segment this month and the month before. */
import { p, table, type ReportSection } from '../report-document.js';
import { count, pct, relChange } from '../report-format.js';
import type { ReportData } from '../report-data.js';

export function segmentsSection(data: ReportData, activeThisMonth: number): ReportSection | null {
  if (data.segments.length === 0) return null;
  const at = (points: { period_start: string; people: number; average_dau: number }[], month: string): { people: number; dau: number } => {
    const pt = points.find((x) => x.period_start.startsWith(month));
    return { people: pt?.people ?? 0, dau: pt?.average_dau ?? 0 };
  };
  return {
    id: 'segments',
    title: 'Segments',
    blocks: [
      table(
        ['segment', { title: 'active people', align: 'right' }, { title: 'share of all active', align: 'right' }, { title: 'average DAU', align: 'right' }, { title: data.month.previous.month, align: 'right' }, { title: 'change', align: 'right' }],
        data.segments.map((s) => {
          const points = s.result.series[0]?.points ?? [];
          const cur = at(points, data.month.month);
          const prev = at(points, data.month.previous.month);
          return [s.name, count(cur.people), pct(activeThisMonth === 0 ? null : cur.people / activeThisMonth), count(cur.dau, 1), count(prev.people), relChange(cur.people, prev.people)];
        }),
      ),
      p('A segment is evaluated by its saved definition (queries/); people in several segments count in each.'),
    ],
  };
}
