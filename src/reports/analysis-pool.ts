/**
 * How the report runs its analyses: each distinct definition once (the insights module asks for some the report
 * already ran, e.g. the month's adoption), and independent ones at the same time on their own DuckDB connections
 * of the workspace's database, so one query's single-threaded phases and the JavaScript work between queries
 * (funnel state machines, result shaping) overlap with another query. On ClickHouse the workspace's own session is
 * used, one run at a time.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { AnalysisKind, AnalysisSession } from '../analyses/analysis-kind.js';
import { runOnEngine } from '../analyses/analysis-kind.js';
import type { Workspace } from '../library/workspace.js';

/**
 * Told when a run ends: its wall time from the moment it had a connection, and the process's CPU time over that
 * span (only the run's own when runs do not overlap, i.e. with one connection).
 */
export type RunListener = (label: string, seconds: number, cpuSeconds: number) => void;

export type RunAnalysis = <D, R>(kind: AnalysisKind<D, R>, input: unknown, extra?: object, file?: string) => Promise<R>;

/** A stable text of a value: object keys sorted, so equal definitions give equal keys. */
function stableText(value: unknown): string {
  // A Date has no own keys: as an object it would read "{}" whatever its time.
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value instanceof Map) return stableText([...value.entries()]);
  if (Array.isArray(value)) return `[${value.map(stableText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableText((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/** The cache key leaves out the name and description: they label a result, they do not change it. */
function keyOf(kind: string, definition: unknown, extra: object | undefined): string {
  const { name: _name, description: _description, ...rest } = definition as Record<string, unknown>;
  return `${kind}|${stableText(rest)}|${stableText(extra ?? {})}`;
}

/** A cached result under the name the caller asked for. */
function renamed<R>(result: R, name: unknown): R {
  if (result === null || typeof result !== 'object' || !('name' in result) || (result as { name: unknown }).name === name) return result;
  const r = result as Record<string, unknown>;
  const definition = r.definition !== null && typeof r.definition === 'object' ? { definition: { ...(r.definition as object), name } } : {};
  return { ...r, name, ...definition } as R;
}

export class AnalysisPool {
  private readonly cache = new Map<string, Promise<unknown>>();
  private readonly idle: AnalysisSession[] = [];
  private readonly waiting: ((s: AnalysisSession) => void)[] = [];
  private readonly opened: DuckDBConnection[] = [];
  /** Shared by the pool's connections: the report reads a warehouse that does not change while it runs. */
  private readonly memo = new Map<string, Promise<unknown>>();
  /** Runs done and runs answered from the cache (the bench prints them). */
  readonly counts = { runs: 0, reused: 0 };

  private constructor(
    private readonly ws: Workspace,
    private readonly onRun?: RunListener,
  ) {}

  /** `size` connections (DuckDB); 1 on ClickHouse, where the workspace's session runs everything. */
  static async open(ws: Workspace, size: number, onRun?: RunListener): Promise<AnalysisPool> {
    const pool = new AnalysisPool(ws, onRun);
    if (ws.clickhouse !== undefined) return pool;
    try {
      for (let i = 0; i < Math.max(1, size); i++) {
        const connection = await ws.warehouse.instance.connect();
        pool.opened.push(connection);
        // As DuckdbSession.open does: results must not depend on the process time zone.
        await connection.run("SET TimeZone = 'UTC'");
        pool.idle.push({ connection, memo: pool.memo });
      }
    } catch (err) {
      pool.close();
      throw err;
    }
    return pool;
  }

  /** Parses like Workspace.runAnalysis, answers a definition seen before from the cache, else runs it on a free connection. */
  readonly run: RunAnalysis = <D, R>(kind: AnalysisKind<D, R>, input: unknown, extra?: object, file?: string): Promise<R> => {
    let definition: D;
    try {
      definition = kind.parse(input, file);
    } catch (err) {
      // Always a promise: callers start several runs and wait for all of them (insights.ts settled).
      return Promise.reject(err);
    }
    const key = keyOf(kind.kind, definition, extra);
    const name = (definition as { name?: unknown }).name;
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.counts.reused++;
      return hit.then((r) => renamed(r as R, name));
    }
    const label = `${kind.kind} ${String(name ?? '')}`.trim();
    const running = this.execute(kind, definition, extra, label);
    this.counts.runs++;
    this.cache.set(key, running);
    // A failed run is not cached: the caller sees the error, and a later identical request tries again.
    running.catch(() => this.cache.delete(key));
    return running;
  };

  private async execute<D, R>(kind: AnalysisKind<D, R>, definition: D, extra: object | undefined, label: string): Promise<R> {
    // As Workspace.runAnalysis: adoption measures the workspace's feature catalog unless given one.
    const catalog = kind.kind === 'adoption' && !(extra !== undefined && 'catalog' in extra) ? { catalog: this.ws.featureCatalog() } : {};
    const options = { ...this.ws.analysisOptions(), ...catalog, ...(extra ?? {}) };
    return this.onConnection(label, (session) => runOnEngine(kind, session ?? this.ws.analysisSession, definition, options));
  }

  /** A free connection for a query of the report's own (bookkeeping facts, weekly friction), told to onRun as `label`. */
  withSession<T>(label: string, body: (session: AnalysisSession) => Promise<T>): Promise<T> {
    return this.onConnection(label, (session) => body(session ?? this.ws.warehouse));
  }

  /**
   * `body` on a free connection of the pool (null on ClickHouse, where the pool has none), timed from the moment it
   * has one, so a run's time does not include its wait in the queue.
   */
  private async onConnection<T>(label: string, body: (session: AnalysisSession | null) => Promise<T>): Promise<T> {
    const session = this.opened.length === 0 ? null : await this.acquire();
    const started = performance.now();
    const cpu = process.cpuUsage();
    try {
      const result = await body(session);
      const used = process.cpuUsage(cpu);
      this.onRun?.(label, (performance.now() - started) / 1000, (used.user + used.system) / 1e6);
      return result;
    } finally {
      if (session !== null) this.release(session);
    }
  }

  private acquire(): Promise<AnalysisSession> {
    const free = this.idle.pop();
    return free !== undefined ? Promise.resolve(free) : new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(session: AnalysisSession): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(session);
    else this.idle.push(session);
  }

  close(): void {
    for (const c of this.opened.splice(0)) c.closeSync();
    this.idle.length = 0;
  }
}
