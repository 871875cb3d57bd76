/** Every saved funnel: steps with conversion and drop-off, change against the previous month, where dropped people went. */
import { horizontalBars } from '../charts/chart-specs.js';
import { code, h3, p, table, type Block, type ReportSection } from '../report-document.js';
import { count, pct, ppChange, seconds, slug, windowWords } from '../report-format.js';
import type { FunnelReport, ReportData } from '../report-data.js';

/** Overall conversion: last step ÷ first step; null when nobody entered. */
export function overallConversion(r: FunnelReport['current']): number | null {
  const last = r.steps[r.steps.length - 1];
  return last?.conversion_from_first ?? null;
}

/** The step after which most units dropped (1-based), or null when nobody dropped. */
export function biggestDrop(r: FunnelReport['current']): { afterStep: number; count: number; share: number | null } | null {
  let best: { afterStep: number; count: number; share: number | null } | null = null;
  r.steps.forEach((s, i) => {
    if (i === 0 || s.drop_off <= 0) return;
    if (best === null || s.drop_off > best.count) best = { afterStep: i, count: s.drop_off, share: r.steps[i - 1]!.count === 0 ? null : s.drop_off / r.steps[i - 1]!.count };
  });
  return best;
}

export function funnelBlocks(data: ReportData, f: FunnelReport): Block[] {
  const { current, previous } = f;
  const def = current.definition;
  const blocks: Block[] = [
    h3(current.name),
    p(
      'Saved query ', code(f.query), ': ',
      `${def.order} steps, counted per ${def.unit}, within ${windowWords(def.window)} of step 1 (step 1 in the month). `,
      `Overall conversion ${pct(overallConversion(current))} (${data.month.previous.month}: ${pct(overallConversion(previous))}, ${ppChange(overallConversion(current), overallConversion(previous))}).`,
    ),
    table(
      ['step', { title: `${def.unit === 'person' ? 'people' : 'sessions'}`, align: 'right' }, { title: 'from previous', align: 'right' }, { title: 'from first', align: 'right' }, { title: 'dropped', align: 'right' }, { title: 'median time', align: 'right' }, { title: `from first, ${data.month.previous.month}`, align: 'right' }, { title: 'change', align: 'right' }],
      current.steps.map((s, i) => {
        const prev = previous.steps[i];
        return [`${i + 1}. ${s.name}`, count(s.count), pct(s.conversion_from_previous), pct(s.conversion_from_first), count(s.drop_off), seconds(s.median_seconds_from_previous), pct(prev?.conversion_from_first), ppChange(s.conversion_from_first, prev?.conversion_from_first)];
      }),
    ),
  ];
  const first = current.steps[0]?.count ?? 0;
  if (first > 0) {
    blocks.push({
      type: 'chart',
      file: `funnel-${slug(f.query)}.svg`,
      alt: `Funnel ${current.name}: ${current.steps.map((s) => `${s.name} ${count(s.count)}`).join(', ')}`,
      spec: horizontalBars(
        current.steps.map((s, i) => ({ label: `${i + 1}. ${s.name}`, value: s.count, text: `${count(s.count)} (${pct(s.conversion_from_first)})` })),
        { title: `${current.name}, ${data.month.month}`, valueTitle: def.unit === 'person' ? 'people' : 'sessions', format: ',d' },
      ),
    });
  } else {
    blocks.push(p('Nobody entered the funnel in the month.'));
  }
  const dropped = (current.dropped ?? []).filter((d) => d.count > 0);
  if (dropped.length > 0) {
    blocks.push(p('Where dropped people went: the event each did next within the window (top 5 per step).'));
    blocks.push(
      table(
        ['dropped after', { title: 'dropped', align: 'right' }, 'next events', { title: 'nothing else', align: 'right' }],
        dropped.map((d) => [`${d.after_step}. ${d.step_name}`, count(d.count), d.next_events.map((n) => `${n.event} (${count(n.count)})`).join(', ') || '–', count(d.no_next_event)]),
      ),
    );
  }
  if (current.breakdown !== undefined && current.breakdown.length > 0 && def.breakdown !== null) {
    blocks.push(
      table(
        [def.breakdown, { title: 'entered', align: 'right' }, { title: 'converted', align: 'right' }, { title: 'conversion', align: 'right' }],
        current.breakdown.map((g) => {
          const last = g.steps[g.steps.length - 1];
          return [g.value ?? '(none)', count(g.steps[0]?.count), count(last?.count), pct(last?.conversion_from_first)];
        }),
      ),
    );
  }
  return blocks;
}

export function funnelsSection(data: ReportData): ReportSection {
  return {
    id: 'funnels',
    title: 'Funnels',
    blocks: data.funnels.length === 0
      ? [p('No saved funnels: add one to queries/ (kind: funnel), or list them under report.funnels in usagelab.yaml.')]
      : data.funnels.flatMap((f) => funnelBlocks(data, f)),
  };
}
