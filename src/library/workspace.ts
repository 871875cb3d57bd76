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

export interface OpenWorkspaceOptions {
  /** Environment for ${VAR} interpolation (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

export class Workspace {
  private constructor(
    readonly paths: WorkspacePaths,
    readonly loaded: LoadedConfig,
    private readonly session: DuckdbSession,
  ) {}

  static async open(dir: string | undefined, options: OpenWorkspaceOptions = {}): Promise<Workspace> {
    const root = findWorkspace(dir, process.cwd(), options.env ?? process.env);
    const paths = workspacePaths(root);
    const loaded = loadConfig(root, options.env ?? process.env);
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

  /** Imports files (see docs/events.md): one transaction, idempotent. */
  async import(options: ImportOptions): Promise<ImportResult> {
    const tmp = join(this.paths.state, 'tmp');
    mkdirSync(tmp, { recursive: true });
    return importFiles(this.session, this.config, options, tmp);
  }

  /** Runs read-only SQL on the warehouse and returns JSON-compatible rows. */
  async sql<T = Row>(query: string): Promise<T[]> {
    return this.session.all<T>(query);
  }

  close(): void {
    this.session.close();
  }
}

export function openWorkspace(dir?: string, options: OpenWorkspaceOptions = {}): Promise<Workspace> {
  return Workspace.open(dir, options);
}
