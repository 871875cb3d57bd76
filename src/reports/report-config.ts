/**
 * The report settings of a workspace: the `report:` section of usagelab.yaml, checked with the schema of
 * src/core/report-config-schema.ts (defaults when the section is absent).
 */
import { UsageLabError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import type { UsageLabConfig } from '../core/config-schema.js';
import { defaultReportConfig, reportConfigSchema, type ReportConfig } from '../core/report-config-schema.js';

export function reportConfigOf(config: UsageLabConfig): ReportConfig {
  const raw = (config as { report?: unknown }).report;
  if (raw === undefined || raw === null) return defaultReportConfig();
  const parsed = reportConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = ['report', ...issue.path.map(String)].join('.');
    throw new UsageLabError('report_config_invalid', `${field}: ${issue.message}`, {
      place: { file: 'usagelab.yaml', field },
      hint: 'see docs/reports.md#configuration for the keys of the report section',
      exitCode: EXIT.usage,
    });
  }
  return parsed.data;
}
