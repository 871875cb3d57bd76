/**
 * What the report says about the data itself, read straight from the warehouse's bookkeeping tables: events per
 * source and their freshness (events, imports, import_files) and what the imports removed or rejected
 * (import_files, quarantine). Deterministic: only stored facts, never the clock.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { BoundParams } from '../sql/bound-params.js';
import { queryRows } from '../analyses/common/run-support.js';
import type { AnalysisSession } from '../analyses/analysis-kind.js';
import type { DateRange } from '../analyses/common/definition-parts.js';

export interface PeriodInstants {
  /** First instant of the range's first local day (ISO, UTC). */
  start: string;
  /** First instant after the range's last local day. */
  end: string;
}

export interface SourceFreshness {
  source: string;
  /** Events stored for the source in the report month (all people, before exclusions). */
  month_events: number;
  /** Events stored for the source, all time. */
  events: number;
  first_event: string | null;
  last_event: string | null;
  /** When the last import holding a file of this source finished. */
  last_import: string | null;
  late_data_days: number;
  /** The month's end plus the late-data window: imports before this may miss late events. */
  final_after: string;
  /** No import of this source finished after final_after: numbers for the month may still change. */
  provisional: boolean;
}

export interface QualityFacts {
  /**
   * Files of the imports whose events reach into the month (import_files records the event span per import), and
   * their counts.
   */
  files: number;
  read: number;
  imported: number;
  duplicates: number;
  rejected: number;
  /** The same counts over every import of the warehouse. */
  all: { files: number; read: number; imported: number; duplicates: number; rejected: number };
  /** Quarantined records of those imports, by reason (most first, at most 5). */
  reject_reasons: { reason: string; records: number }[];
}

async function rows<T>(session: AnalysisSession, build: (p: BoundParams) => string): Promise<T[]> {
  const params = new BoundParams();
  const sql = build(params);
  return queryRows<T>(session, { sql, params: params.values as DuckDBValue[] as never });
}

export async function periodInstants(session: AnalysisSession, range: DateRange, timezone: string): Promise<PeriodInstants> {
  const [r] = await rows<{ start: string; end: string }>(session, (p) => {
    const tz = p.bind(timezone);
    return `SELECT timezone(${tz}, CAST(CAST(${p.bind(range.from)} AS DATE) AS TIMESTAMP)) AS start,
                   timezone(${tz}, CAST(CAST(${p.bind(range.to)} AS DATE) + 1 AS TIMESTAMP)) AS "end"`;
  });
  return r!;
}

const DAY_MS = 86_400_000;

export async function sourceFreshness(session: AnalysisSession, period: PeriodInstants, lateDays: (source: string) => number): Promise<SourceFreshness[]> {
  const stats = await rows<{ source: string; month_events: number; events: number; first_event: string | null; last_event: string | null }>(session, (p) => {
    const lo = p.bind(period.start);
    const hi = p.bind(period.end);
    return `SELECT source,
        count(*) FILTER (WHERE occurred_at >= CAST(${lo} AS TIMESTAMPTZ) AND occurred_at < CAST(${hi} AS TIMESTAMPTZ)) AS month_events,
        count(*) AS events, min(occurred_at) AS first_event, max(occurred_at) AS last_event
      FROM events GROUP BY source ORDER BY source`;
  });
  const imports = await rows<{ source: string; last_import: string | null }>(
    session,
    () => `SELECT f.source, max(i.finished_at) AS last_import FROM import_files f JOIN imports i USING (import_id) GROUP BY f.source`,
  );
  const lastImport = new Map(imports.map((r) => [r.source, r.last_import]));
  return stats.map((s) => {
    const late = lateDays(s.source);
    const finalAfter = new Date(Date.parse(period.end) + late * DAY_MS).toISOString();
    const last = lastImport.get(s.source) ?? null;
    return { ...s, last_import: last, late_data_days: late, final_after: finalAfter, provisional: last === null || Date.parse(last) < Date.parse(finalAfter) };
  });
}

export async function qualityFacts(session: AnalysisSession, period: PeriodInstants): Promise<QualityFacts> {
  const sums = `count(*) AS files, coalesce(sum(read), 0) AS read, coalesce(sum(imported), 0) AS imported,
    coalesce(sum(duplicates), 0) AS duplicates, coalesce(sum(rejected), 0) AS rejected`;
  type Sums = { files: number; read: number; imported: number; duplicates: number; rejected: number };
  const overlap = (p: BoundParams): string =>
    `min_occurred_at < CAST(${p.bind(period.end)} AS TIMESTAMPTZ) AND max_occurred_at >= CAST(${p.bind(period.start)} AS TIMESTAMPTZ)`;
  const [month] = await rows<Sums>(session, (p) => `SELECT ${sums} FROM import_files WHERE ${overlap(p)}`);
  const [all] = await rows<Sums>(session, () => `SELECT ${sums} FROM import_files`);
  const reasons = await rows<{ reason: string; records: number }>(
    session,
    (p) => `SELECT reason, count(*) AS records FROM quarantine
      WHERE import_id IN (SELECT import_id FROM import_files WHERE ${overlap(p)})
      GROUP BY reason ORDER BY records DESC, reason LIMIT 5`,
  );
  return { ...month!, all: all!, reject_reasons: reasons };
}
