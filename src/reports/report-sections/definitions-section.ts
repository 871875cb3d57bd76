/** The definitions footer: windows, unit, time zone, presets and where each number is defined. */
import { code, type Inline, type ReportSection } from '../report-document.js';
import type { ReportData } from '../report-data.js';
import { windowWords } from '../report-format.js';

export function definitionsSection(data: ReportData): ReportSection {
  const w = data.activeDaily.definition.active_windows;
  const items: Inline[][] = [
    ['Time zone ', code(data.timezone), `; days, weeks and months are local calendar days; weeks start on ${data.weekStart}. Month: ${data.month.range.from} to ${data.month.range.to}.`],
    ['Unit: a person (identities merged across sources). Internal and bot people are excluded unless a saved query says otherwise.'],
    [`DAU: people active on a day; WAU / MAU: people active in the ${w?.wau ?? 7} / ${w?.mau ?? 30} days ending that day; averages are over the month's days. Stickiness: mean daily DAU ÷ MAU. `, code('docs/analyses/trends.md')],
    ['Funnels: ', ...data.funnels.flatMap((f, i): Inline[] => [i === 0 ? '' : '; ', code(f.query), `: ${f.current.definition.order}, ${windowWords(f.current.definition.window)} window, ${f.current.definition.unit}, ${f.current.definition.attempts} attempt${f.current.definition.preset === null ? '' : `, preset ${f.current.definition.preset}`}`]), data.funnels.length === 0 ? 'none. ' : '. ', code('docs/analyses.md')],
    [`Friction: share of sessions with a ${data.friction.definition.signals.join(' / ')} click signal; hotspots need ${data.friction.definition.min_sessions} sessions. `, code('docs/analyses/friction.md')],
    [`Paths: ${data.paths.definition.step} steps per session, depth ${data.paths.definition.depth}. `, code('docs/analyses/paths.md')],
    [`Retention: ${data.retention.definition.cohort.replace('_', '-')} cohorts, calendar ${data.retention.definition.interval}s${data.retention.definition.preset === null ? '' : `, preset ${data.retention.definition.preset}`}. `, code('docs/analyses/retention.md')],
    ['Features: the catalog in ', code('queries/features.yaml'), '. ', code('docs/analyses/adoption.md')],
    ['How each number of this report is defined (usagelab documentation): ', code('docs/reports.md')],
  ];
  return { id: 'definitions', title: 'Definitions', blocks: [{ type: 'list', items }] };
}
