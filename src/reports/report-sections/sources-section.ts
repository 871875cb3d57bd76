/** Data sources and freshness: per source, the month's events, the stored range, the last import, provisional or final. */
import { code, p, table, type ReportSection } from '../report-document.js';
import { count } from '../report-format.js';
import type { ReportData } from '../report-data.js';

const day = (iso: string | null): string => (iso === null ? '–' : iso.slice(0, 10));
const minute = (iso: string | null): string => (iso === null ? '–' : `${iso.slice(0, 16).replace('T', ' ')} UTC`);

export function sourcesSection(data: ReportData): ReportSection {
  const provisional = data.sources.filter((s) => s.provisional);
  return {
    id: 'sources',
    title: 'Data sources and freshness',
    blocks: [
      ...(data.sources.length === 0
        ? [p('The warehouse holds no events.')]
        : [
            table(
              ['source', { title: 'events in month', align: 'right' }, { title: 'events stored', align: 'right' }, 'stored range (UTC days)', 'last import', { title: 'late-data window', align: 'right' }, 'status'],
              data.sources.map((s) => [
                code(s.source),
                count(s.month_events),
                count(s.events),
                `${day(s.first_event)} to ${day(s.last_event)}`,
                minute(s.last_import),
                `${s.late_data_days} d`,
                s.provisional ? `provisional (final after an import from ${minute(s.final_after)})` : 'final',
              ]),
            ),
          ]),
      p(
        provisional.length === 0
          ? 'Every source was imported after its late-data window for the month closed: the numbers are final.'
          : `Provisional: ${provisional.map((s) => s.source).join(', ')} had no import after the month's end plus its late-data window, so late events may still change this month's numbers. Re-run the report after the next import.`,
      ),
    ],
  };
}
