/**
 * The `report:` section of usagelab.yaml (docs/reports.md#configuration): which saved queries and segments the
 * monthly report shows, and the thresholds its summary uses. Every key has a default, so a workspace without the
 * section gets the full report.
 */
import { z } from 'zod';

const queryName = z.string().min(1);

export const REPORT_DEFAULTS = {
  top: 10,
  headline_change: 0.1,
  late_data_days: { fullstory: 1, amplitude: 1, mixpanel: 1, heap: 1, posthog: 1, ga4: 3, generic: 0 } as Record<string, number>,
} as const;

export const reportConfigSchema = z
  .object({
    /** Saved funnels (queries/NAME.yaml) to show; default: every saved query with kind funnel. */
    funnels: z.array(queryName).nullish(),
    /** Saved queries replacing the built-in definitions of these sections (kind must match). */
    paths: queryName.nullish(),
    retention: queryName.nullish(),
    friction: queryName.nullish(),
    adoption: queryName.nullish(),
    /** Saved segments to compare; default: every saved segment. An empty list leaves the section out. */
    segments: z.array(queryName).nullish(),
    /** Rows in the top tables (events, pages, paths, hotspots). */
    top: z.number().int().min(1).max(100).default(REPORT_DEFAULTS.top),
    /** A relative change at least this large (0.1 = 10 %) is named in the summary. */
    headline_change: z.number().min(0).max(10).default(REPORT_DEFAULTS.headline_change),
    /** A Markdown template with ```usagelab query blocks, relative to the workspace (docs/reports.md#templates). */
    template: z.string().min(1).nullish(),
    /** Also write reports/YYYY-MM-usage-report.html (same as --html). */
    html: z.boolean().default(false),
  })
  .strict();

export type ReportConfig = z.output<typeof reportConfigSchema>;

/** The defaults, for a config without a `report:` section. */
export const defaultReportConfig = (): ReportConfig => reportConfigSchema.parse({});
