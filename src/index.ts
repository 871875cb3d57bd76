/** usagelab's library API: everything the CLI does, for scripts in a workspace's analysis/ folder. */
export { openWorkspace, Workspace, type OpenWorkspaceOptions } from './library/workspace.js';
export { initWorkspace, type InitResult } from './library/init-workspace.js';
export type { ImportOptions, ImportResult, FileImportResult, ImportProgress } from './warehouse/duckdb/duckdb-import.js';
export { UsageLabError } from './core/errors.js';
export type { UsageLabConfig } from './core/config-schema.js';
export { EVENT_COLUMNS, EVENT_KINDS, SOURCE_IDS, type EventKind, type SourceId } from './events/canonical-event.js';
export { runFunnel, evaluateFunnel, parseFunnelDefinition } from './analyses/funnel/funnel-analysis.js';
export type { FunnelResult } from './analyses/funnel/funnel-result.js';
export type { FunnelDefinition } from './analyses/funnel/funnel-definition.js';
export { runSavedQuery } from './library/saved-query.js';
