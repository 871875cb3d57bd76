/** Data quality: what the imports removed, rejected and masked, and who the analyses left out. */
import { p, table, type Block, type ReportSection } from '../report-document.js';
import { count, pct } from '../report-format.js';
import type { ReportData } from '../report-data.js';
import type { PiiFacts } from '../report-warehouse-facts.js';

/** Masking kinds in words (docs/governance.md "What an import masked"). */
const KIND_WORDS: Readonly<Record<string, string>> = {
  email: 'e-mail addresses',
  phone: 'phone numbers',
  card: 'card numbers',
  ip: 'IP addresses',
  token: 'tokens',
  secret: 'secrets in URLs',
  hashed: 'identifiers hashed',
  dropped: 'values dropped',
  truncated: 'values truncated',
  member_rule: 'JSON documents changed by a rule',
};

export function piiKindWords(kind: string): string {
  if (kind.startsWith('custom:')) return `${kind.slice('custom:'.length)} (custom pattern)`;
  return KIND_WORDS[kind] ?? kind;
}

function piiBlocks(pii: PiiFacts): Block[] {
  if (!pii.recorded) {
    return [p('Masked PII: not recorded. This warehouse was written by a usagelab version that did not count masked values; imports made from now on record them.')];
  }
  if (pii.imports > 0 && pii.unrecorded_imports === pii.imports) {
    return [p('Masked PII: not recorded. The imports reaching into the month ran before this warehouse counted masked values.')];
  }
  const total = pii.kinds.reduce((a, k) => a + k.values, 0);
  const unrecorded = pii.unrecorded_imports === 0 ? '' : ` ${count(pii.unrecorded_imports)} of ${count(pii.imports)} imports ran before masking was counted: what they masked is not included.`;
  if (total === 0) return [p(`Masked PII: the imports reaching into the month masked no values.${unrecorded}`)];
  return [
    p(
      `Masked PII: the imports reaching into the month masked ${count(total)} values before they were stored (all imports: ${count(pii.all_values)}): `,
      pii.kinds.map((k) => `${count(k.values)} ${piiKindWords(k.kind)}`).join(', '),
      `.${unrecorded} Counts only: the values themselves are never kept.`,
    ),
    table(['field', 'masked', { title: 'values', align: 'right' }], pii.fields.map((f) => [f.field, piiKindWords(f.kind), count(f.values)])),
  ];
}

export function qualitySection(data: ReportData): ReportSection {
  const q = data.quality;
  // The friction run covers exactly the month, so its exclusion summary is the month's.
  const ex = data.friction.excluded;
  const by = ex.by.join(', ');
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
        ex.by.length === 0
          ? 'Nobody is excluded: the friction query the report runs sets exclude: [].'
          : ex.people === 0
            ? `Excluded from every analysis (${by}): no such people were active in the month.`
            : `Excluded from every analysis (${by}): ${count(ex.people)} people with ${count(ex.events)} events, ${pct(ex.share_of_events)} of the month's events.`,
      ),
      ...piiBlocks(data.pii),
    ],
  };
}
