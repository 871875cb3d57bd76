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

/** What the imports masked (table import_pii_counts, warehouse schema 3), for the data-quality section. */
export interface PiiFacts {
  /** False when the warehouse has no import_pii_counts table (written by a usagelab before schema 3). */
  recorded: boolean;
  /** Values masked by the imports reaching into the month, per kind (most first). */
  kinds: { kind: string; values: number }[];
  /** The same, per field and kind (most first, at most 10). */
  fields: { field: string; kind: string; values: number }[];
  /** Values masked by every import of the warehouse. */
  all_values: number;
  /** Imports reaching into the month. */
  imports: number;
  /** Those of them that ran before the table existed: what they masked was not counted. */
  unrecorded_imports: number;
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

/**
 * Masked-PII counts of the imports reaching into the month (as qualityFacts scopes them) and of all imports.
 * Imports that ran before migration 3 created the table have no counts: they are counted apart, not as zero.
 */
export async function piiFacts(session: AnalysisSession, period: PeriodInstants): Promise<PiiFacts> {
  const [table] = await rows<{ n: number }>(
    session,
    () => `SELECT CAST(count(*) AS INTEGER) AS n FROM information_schema.tables WHERE table_schema = 'main' AND table_name = 'import_pii_counts'`,
  );
  if ((table?.n ?? 0) === 0) return { recorded: false, kinds: [], fields: [], all_values: 0, imports: 0, unrecorded_imports: 0 };
  const scoped = (p: BoundParams): string =>
    `SELECT DISTINCT import_id FROM import_files
      WHERE min_occurred_at < CAST(${p.bind(period.end)} AS TIMESTAMPTZ) AND max_occurred_at >= CAST(${p.bind(period.start)} AS TIMESTAMPTZ)`;
  const kinds = await rows<{ kind: string; values: number }>(
    session,
    (p) => `SELECT kind, CAST(sum("values") AS BIGINT) AS "values" FROM import_pii_counts WHERE import_id IN (${scoped(p)})
      GROUP BY kind ORDER BY "values" DESC, kind`,
  );
  const fields = await rows<{ field: string; kind: string; values: number }>(
    session,
    (p) => `SELECT field, kind, CAST(sum("values") AS BIGINT) AS "values" FROM import_pii_counts WHERE import_id IN (${scoped(p)})
      GROUP BY field, kind ORDER BY "values" DESC, field, kind LIMIT 10`,
  );
  const [all] = await rows<{ values: number }>(session, () => `SELECT CAST(coalesce(sum("values"), 0) AS BIGINT) AS "values" FROM import_pii_counts`);
  const [imports] = await rows<{ n: number; unrecorded: number }>(
    session,
    (p) => `SELECT CAST(count(*) AS INTEGER) AS n,
        CAST(count(*) FILTER (WHERE started_at < (SELECT min(applied_at) FROM schema_migrations WHERE version = 3)) AS INTEGER) AS unrecorded
      FROM imports WHERE import_id IN (${scoped(p)})`,
  );
  return {
    recorded: true,
    kinds: kinds.map(num),
    fields: fields.map(num),
    all_values: Number(all?.values ?? 0),
    imports: imports?.n ?? 0,
    unrecorded_imports: imports?.unrecorded ?? 0,
  };
}

/** BIGINT sums arrive as text from the driver. */
const num = <T extends { values: number | string }>(r: T): T & { values: number } => ({ ...r, values: Number(r.values) });
