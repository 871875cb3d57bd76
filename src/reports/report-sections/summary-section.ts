/**
 * The summary: 3–5 headline findings in plain words, picked by fixed rules from the other sections' numbers
 * (never invented): active people and their change, stickiness, the biggest funnel drop, the top friction
 * hotspot, features that frustrate or are ignored; and a warning first when numbers are provisional.
 */
import type { Inline, ReportSection } from '../report-document.js';
import { count, pct, relative } from '../report-format.js';
import type { ReportData } from '../report-data.js';
import type { ActiveSummary } from './active-users-section.js';
import { biggestDrop, overallConversion } from './funnels-section.js';
import { hotspotLabel } from './friction-section.js';

function changeWords(r: number | null, threshold: number): string {
  if (r === null) return '';
  if (Math.abs(r) < threshold) return ', about the same as the month before';
  return `, ${r > 0 ? 'up' : 'down'} ${(Math.abs(r) * 100).toFixed(0)}% on the month before`;
}

export function headlines(data: ReportData, cur: ActiveSummary, prev: ActiveSummary): string[] {
  const t = data.config.headline_change;
  const out: string[] = [];
  const provisional = data.sources.filter((s) => s.provisional).map((s) => s.source);
  if (provisional.length > 0) out.push(`Numbers are provisional: ${provisional.join(', ')} may still deliver late events for the month.`);
  out.push(`${count(cur.monthly)} people were active in ${data.month.month}${changeWords(relative(cur.monthly, prev.monthly), t)}; ${count(cur.new)} of them were new.`);
  if (cur.stickiness !== null) out.push(`On an average day ${pct(cur.stickiness)} of the month's active people came back (DAU ÷ MAU), against ${pct(prev.stickiness)} the month before.`);
  const funnel = data.funnels.find((f) => (f.current.steps[0]?.count ?? 0) > 0);
  if (funnel !== undefined) {
    const drop = biggestDrop(funnel.current);
    const step = drop === null ? undefined : funnel.current.steps[drop.afterStep - 1];
    out.push(
      `${funnel.current.name}: ${pct(overallConversion(funnel.current))} converted` +
        (drop === null || step === undefined ? '.' : `; the biggest loss is after "${step.name}", where ${pct(drop.share)} (${count(drop.count)}) dropped.`),
    );
  }
  const hot = data.friction.hotspots[0];
  if (hot !== undefined) out.push(`Most frustration is at ${hotspotLabel(hot)}: ${count(hot.sessions)} sessions with a signal (${pct(hot.share_of_page_sessions)} of the page's sessions).`);
  if (data.adoption.ok) {
    const frustrating = data.adoption.value.features.filter((f) => f.class === 'frustrating').map((f) => f.name);
    const ignored = data.adoption.value.features.filter((f) => f.class === 'ignored').map((f) => f.name);
    if (frustrating.length > 0) out.push(`Frustrating features: ${frustrating.join(', ')}.`);
    else if (ignored.length > 0) out.push(`Ignored features: ${ignored.join(', ')}.`);
  }
  return out.slice(0, 5);
}

export function summarySection(data: ReportData, cur: ActiveSummary, prev: ActiveSummary): ReportSection {
  const items: Inline[][] = headlines(data, cur, prev).map((h) => [h]);
  return { id: 'summary', title: 'Summary', blocks: [{ type: 'list', items }] };
}
