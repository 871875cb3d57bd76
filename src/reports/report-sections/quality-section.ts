/** Data quality: what the imports removed or rejected, who the analyses left out, and PII masking counts. */
import { code, p, table, type ReportSection } from '../report-document.js';
import { count, pct } from '../report-format.js';
import type { ReportData } from '../report-data.js';

export function qualitySection(data: ReportData): ReportSection {
  const q = data.quality;
  // The friction run covers exactly the month, so its exclusion summary is the month's.
  const ex = data.friction.excluded;
  return {
    id: 'data-quality',
    title: 'Data quality',
    blocks: [
      table(
        ['', { title: 'imports reaching into the month', align: 'right' }, { title: 'all imports', align: 'right' }],
        [
          ['files', count(q.files), count(q.all.files)],
          ['records read', count(q.read), count(q.all.read)],
          ['events imported', count(q.imported), count(q.all.imported)],
          ['duplicates removed', count(q.duplicates), count(q.all.duplicates)],
          ['records rejected (quarantined)', count(q.rejected), count(q.all.rejected)],
        ],
      ),
      ...(q.reject_reasons.length === 0
        ? []
        : [table(['reject reason', { title: 'records', align: 'right' }], q.reject_reasons.map((r) => [r.reason, count(r.records)]))]),
      p(
        `Excluded from every analysis (${ex.by.length === 0 ? 'nothing' : ex.by.map((b) => b).join(', ')}): ${count(ex.people)} people with ${count(ex.events)} events, `,
        `${pct(ex.share_of_events)} of the month's events.`,
      ),
      p('Masked PII: ', code('not recorded'), ' — this version of the warehouse does not record how many values were masked at import.'),
    ],
  };
}
