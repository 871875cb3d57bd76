/**
 * Schema pieces every analysis kind shares (docs/analyses.md#common-fields): the date range, global filters, a
 * segment, a breakdown and the people excluded by tag or segment. A kind spreads `scopeFields` into its own
 * strict schema, so the same YAML keys mean the same thing in every kind.
 */
import { z } from 'zod';

const filterScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const filterValueSchema = z.union([filterScalar, z.array(z.union([z.string(), z.number(), z.boolean()]))]);

/** field → value; a list means any of its values. Fields: canonical columns or properties.<key>. */
export const whereSchema = z.record(z.string(), filterValueSchema);
export type WhereFilter = z.output<typeof whereSchema>;

/** YAML 1.1 tools (and JS callers) may hand over a Date; a calendar date is all that is meant. */
export const calendarDate = z.preprocess(
  (v) => (v instanceof Date && !Number.isNaN(v.getTime()) ? v.toISOString().slice(0, 10) : v),
  z.string(),
);

export const dateRangeSchema = z.strictObject({ from: calendarDate, to: calendarDate });
export type DateRange = z.output<typeof dateRangeSchema>;

/** Person tags that analyses leave out unless told otherwise (tagged by governance, never deleted). */
export const DEFAULT_EXCLUDE = ['internal', 'bot'] as const;
export const PERSON_TAGS = ['internal', 'bot'] as const;

/**
 * Shared keys. `segment` and `exclude` entries name segments (queries/*.yaml with kind: segment) or, for
 * `exclude`, the person tags internal and bot; `breakdown` is a field or `segment:NAME`.
 */
export const scopeFields = {
  date_range: dateRangeSchema.nullish(),
  where: whereSchema.nullish(),
  segment: z.string().nullish(),
  breakdown: z.string().nullish(),
  exclude: z.array(z.string()).default([...DEFAULT_EXCLUDE]),
};

export interface AnalysisScope {
  date_range?: DateRange | null | undefined;
  where?: WhereFilter | null | undefined;
  segment?: string | null | undefined;
  breakdown?: string | null | undefined;
  exclude: readonly string[];
}

/** The scope as run, every default filled in (part of each result's `definition`). */
export interface ResolvedScope {
  date_range: DateRange | null;
  where: WhereFilter;
  segment: string | null;
  breakdown: string | null;
  exclude: string[];
  timezone: string;
}

export function resolveScope(scope: AnalysisScope, timezone: string): ResolvedScope {
  return {
    date_range: scope.date_range == null ? null : { from: scope.date_range.from, to: scope.date_range.to },
    where: { ...(scope.where ?? {}) },
    segment: scope.segment ?? null,
    breakdown: scope.breakdown ?? null,
    exclude: [...scope.exclude],
    timezone,
  };
}
