/**
 * The weekly retention of new people that the report's heatmap shows (unless usagelab.yaml names a saved retention
 * query) and that the insights compare month over month: first-time cohorts per calendar week over the three
 * months ending with the report month, any event in, any event back, "as of" the end of that month (cells after it
 * stay incomplete, so re-running later gives the same numbers). Asked for the same way by both, so a report runs
 * it once for the two (the pool answers the second request).
 */
import type { AnalysisSession } from '../analyses/analysis-kind.js';
import type { DateRange } from '../analyses/common/definition-parts.js';
import { monthsEndingWith, reportMonth } from './report-period.js';
import { periodInstants } from './report-warehouse-facts.js';

export const NEW_PEOPLE_RETENTION = {
  kind: 'retention',
  name: 'Weekly retention of new people',
  target: '$any',
  returning: '$any',
  cohort: 'first_time',
  interval: 'week',
  intervals: 6,
} as const;

/** How many months of cohorts the retention heatmap shows (ending with the report month). */
export const RETENTION_MONTHS = 3;

/** The cohort range for a report month: the first day of RETENTION_MONTHS months back to the month's last day. */
export function retentionRange(month: string): DateRange {
  return { from: reportMonth(monthsEndingWith(month, RETENTION_MONTHS)[0]!).range.from, to: reportMonth(month).range.to };
}

/** The instant the month ends in the time zone: the run's `now`. */
export async function retentionNow(session: AnalysisSession, month: string, timezone: string): Promise<Date> {
  return new Date((await periodInstants(session, reportMonth(month).range, timezone)).end);
}
