/** Friction: where frustration signals cluster (hotspots), and the share of sessions with a signal per week. */
import { horizontalBars, lineChart } from '../charts/chart-specs.js';
import { code, h3, p, table, type ReportSection } from '../report-document.js';
import { count, pct, ppChange } from '../report-format.js';
import type { ReportData } from '../report-data.js';

function elementLabel(h: { selector: string | null; text: string | null }): string {
  return h.text !== null && h.text !== '' ? `"${h.text}"` : (h.selector ?? '(no element)');
}

export function hotspotLabel(h: { page: string | null; selector: string | null; text: string | null }): string {
  return `${h.page ?? '(no page)'} · ${elementLabel(h)}`;
}

/** Two chart lines: the element, then the page it is on. */
export function hotspotLines(h: { page: string | null; selector: string | null; text: string | null }): string[] {
  return [elementLabel(h), `on ${h.page ?? '(no page)'}`];
}

export function frictionSection(data: ReportData): ReportSection {
  const f = data.friction;
  const o = f.overall;
  const prev = f.previous.totals;
  const hotspots = f.hotspots.slice(0, data.config.top);
  const weeks = data.frictionWeeks;
  const previousText = f.previous.compared && f.previous.date_range !== null ? `${f.previous.date_range.from} to ${f.previous.date_range.to}` : null;
  return {
    id: 'friction',
    title: 'Friction',
    blocks: [
      p(
        `${pct(o.share_of_sessions)} of ${count(o.sessions)} sessions had a frustration signal (${f.definition.signals.join(', ')} clicks): `,
        `${count(o.rage_clicks)} rage, ${count(o.dead_clicks)} dead and ${count(o.error_clicks)} error clicks; ${count(o.people_with_signal)} people were affected.`,
        previousText === null || prev === null
          ? ''
          : ` ${f.definition.compare === 'previous_month' ? 'In the month before' : 'In the same number of days before the month'} (${previousText}): ${pct(prev.share_of_sessions)} (${ppChange(o.share_of_sessions, prev.share_of_sessions)}).`,
      ),
      h3('Top hotspots'),
      ...(hotspots.length === 0
        ? [p(`No element had signals in at least ${f.definition.min_sessions} sessions.`)]
        : [
            table(
              ['#', 'page', 'element', { title: 'sessions', align: 'right' }, { title: 'share of page sessions', align: 'right' }, { title: 'rage', align: 'right' }, { title: 'dead', align: 'right' }, { title: 'error', align: 'right' }, 'vs before'],
              hotspots.map((h) => [
                String(h.rank),
                code(h.page ?? '(none)'),
                h.text !== null && h.text !== '' ? h.text : code(h.selector ?? '(none)'),
                count(h.sessions),
                pct(h.share_of_page_sessions),
                count(h.rage_clicks),
                count(h.dead_clicks),
                count(h.error_clicks),
                h.change === null ? '–' : h.change.new ? 'new' : ppChange(h.share_of_page_sessions, h.change.share_of_page_sessions.previous),
              ]),
            ),
            {
              type: 'chart' as const,
              file: 'friction-hotspots.svg',
              alt: `Sessions with frustration signals per element in ${data.month.month}`,
              spec: horizontalBars(hotspots.map((h) => ({ label: hotspotLines(h), value: h.sessions, text: count(h.sessions) })), { title: `Friction hotspots, ${data.month.month}`, valueTitle: 'sessions with a signal', format: ',d' }),
            },
          ]),
      h3('Frustration rate by week'),
      table(
        ['week', { title: 'sessions', align: 'right' }, { title: 'with a signal', align: 'right' }, { title: 'rate', align: 'right' }],
        weeks.map((w) => [`${w.range.from} to ${w.range.to}`, count(w.sessions), count(w.sessions_with_signal), pct(w.share_of_sessions)]),
      ),
      ...(weeks.some((w) => w.sessions > 0)
        ? [
            {
              type: 'chart' as const,
              file: 'frustration-rate.svg',
              alt: `Share of sessions with a frustration signal per week of ${data.month.month}`,
              spec: lineChart(
                weeks.filter((w) => w.share_of_sessions !== null).map((w) => ({ x: w.range.from.slice(5), series: 'sessions with a signal', value: w.share_of_sessions! })),
                { title: `Frustration rate by week, ${data.month.month}`, yTitle: 'share of sessions', xTitle: 'week starting (MM-DD)', format: '.0%' },
              ),
            },
          ]
        : []),
      p('Weeks start on ', code(data.weekStart), ' and are cut to the month.'),
    ],
  };
}
