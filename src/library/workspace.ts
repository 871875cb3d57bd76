/**
 * The library's entry point: `openWorkspace(dir)` gives analysis scripts everything the CLI can do — import
 * files, run SQL on the warehouse, and (as analysis kinds land) every analysis — with the same config.
 */
import { join } from 'node:path';
import { loadConfig, type LoadedConfig } from '../core/config-load.js';
import type { UsageLabConfig } from '../core/config-schema.js';
import { findWorkspace, workspacePaths, type WorkspacePaths } from '../core/workspace.js';
import type { DuckdbSession, Row } from '../warehouse/duckdb/duckdb-connection.js';
import { openWarehouse } from '../warehouse/duckdb/duckdb-warehouse.js';
import { importFiles, type ImportOptions, type ImportResult } from '../warehouse/duckdb/duckdb-import.js';
import { mkdirSync } from 'node:fs';
import { runOnEngine, type AnalysisKind, type AnalysisRunOptions, type EngineSession } from '../analyses/analysis-kind.js';
import type { ClickhouseExecutor } from '../warehouse/clickhouse/clickhouse-executor.js';
import { openClickhouse, openStagingWarehouse } from '../warehouse/clickhouse/clickhouse-warehouse.js';
import { syncToClickhouse, type SyncResult } from '../warehouse/clickhouse/clickhouse-sync.js';
import type { SegmentDefinition } from '../analyses/segment/segment-definition.js';
import { loadSavedSegments } from './saved-segments.js';
import { loadFeatureCatalog } from './feature-catalog-file.js';
import type { FeatureCatalog } from '../analyses/adoption/feature-catalog.js';

export interface OpenWorkspaceOptions {
  /** Environment for ${VAR} interpolation (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

export class Workspace {
  private constructor(
    readonly paths: WorkspacePaths,
    readonly loaded: LoadedConfig,
    private readonly session: DuckdbSession,
    /** With warehouse.engine clickhouse: the server analyses run on (`session` is then the import staging DuckDB). */
    readonly clickhouse?: ClickhouseExecutor,
  ) {}

  static async open(dir: string | undefined, options: OpenWorkspaceOptions = {}): Promise<Workspace> {
    const root = findWorkspace(dir, process.cwd(), options.env ?? process.env);
    const paths = workspacePaths(root);
    const loaded = loadConfig(root, options.env ?? process.env);
    if (loaded.config.warehouse.engine === 'clickhouse') {
      const staging = await openStagingWarehouse(root, loaded.config);
      try {
        return new Workspace(paths, loaded, staging, await openClickhouse(loaded.config));
      } catch (err) {
        staging.close();
        throw err;
      }
    }
    const session = await openWarehouse(root, loaded.config);
    return new Workspace(paths, loaded, session);
  }

  get config(): UsageLabConfig {
    return this.loaded.config;
  }

  get root(): string {
    return this.paths.root;
  }

  /** The warehouse session, for analyses in this package. */
  get warehouse(): DuckdbSession {
    return this.session;
  }

  /**
   * Imports files (see docs/events.md): one transaction, idempotent. On ClickHouse the files are imported into
   * the staging DuckDB and what changed is then loaded into ClickHouse (docs/scaling.md#loading).
   */
  async import(options: ImportOptions): Promise<ImportResult & { clickhouse?: SyncResult }> {
    const tmp = join(this.paths.state, 'tmp');
    mkdirSync(tmp, { recursive: true });
    const result = await importFiles(this.session, this.config, options, tmp);
    if (this.clickhouse === undefined) return result;
    return { ...result, clickhouse: await this.syncClickhouse() };
  }

  /** Loads ClickHouse with what changed in the staging DuckDB (a no-op when both hold the same rows). */
  async syncClickhouse(onProgress?: Parameters<typeof syncToClickhouse>[2]['onProgress']): Promise<SyncResult> {
    if (this.clickhouse === undefined) throw new Error('syncClickhouse: the workspace warehouse is not ClickHouse');
    return syncToClickhouse(this.session, this.clickhouse, { tmpDir: join(this.paths.state, 'tmp', 'clickhouse-load'), ...(onProgress === undefined ? {} : { onProgress }) });
  }

  /** The session analyses run on: ClickHouse when configured, else the embedded DuckDB. */
  get analysisSession(): EngineSession {
    return this.clickhouse === undefined ? this.session : { engine: 'clickhouse', clickhouse: this.clickhouse };
  }

  /** Saved segments of queries/ by file name and by `name` (read afresh on each call: files may change). */
  segments(): Map<string, SegmentDefinition> {
    return loadSavedSegments(this.paths.queries);
  }

  /** queries/features.yaml, parsed and checked (features_file_missing when absent). */
  featureCatalog(): FeatureCatalog {
    return loadFeatureCatalog(this.paths.queries);
  }

  /** Run options every analysis gets from the workspace: time zone, week start and saved segments. */
  analysisOptions(): AnalysisRunOptions {
    return { timezone: this.config.timezone, weekStart: this.config.week_start, segments: this.segments() };
  }

  /**
   * Parses a definition (defaults filled, rules checked: the same path a saved query takes) and runs it.
   * `extra` adds kind-specific run options (e.g. how many people to list).
   */
  async runAnalysis<D, R, O extends object = object>(kind: AnalysisKind<D, R>, input: unknown, extra?: O, file?: string): Promise<R> {
    const definition = kind.parse(input, file);
    // Adoption measures the features of the workspace's catalog; other kinds do not read it.
    const catalog = kind.kind === 'adoption' && !(extra !== undefined && 'catalog' in extra) ? { catalog: this.featureCatalog() } : {};
    return runOnEngine(kind, this.analysisSession, definition, { ...this.analysisOptions(), ...catalog, ...(extra ?? {}) });
  }

  /** Runs read-only SQL on the warehouse and returns JSON-compatible rows. */
  async sql<T = Row>(query: string): Promise<T[]> {
    return this.session.all<T>(query);
  }

  close(): void {
    // The HTTP client only holds idle sockets; closing it need not be awaited.
    void this.clickhouse?.close();
    this.session.close();
  }
}

export function openWorkspace(dir?: string, options: OpenWorkspaceOptions = {}): Promise<Workspace> {
  return Workspace.open(dir, options);
}
