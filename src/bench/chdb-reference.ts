/**
 * The reference the funnel benchmark is held against: the same events in ClickHouse (in-process, chDB), a
 * MergeTree ordered by (person, time), and ClickHouse's own windowFunnel over the same steps and window.
 */
import { existsSync, rmSync } from 'node:fs';
import { Session } from 'chdb';
import { DuckdbSession } from '../warehouse/duckdb/duckdb-connection.js';
import { quoteLiteral } from '../sql/quote.js';

/** A ClickHouse string literal: unlike standard SQL, ClickHouse reads backslash escapes. */
const chString = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export interface ChdbFunnelReference {
  /** People per furthest level reached (index 0 = reached step 1 at least). */
  levels: number[];
  seconds: number;
}

/** Exports (person_id, occurred_at, event_name) of a DuckDB warehouse to Parquet, once. */
export async function exportForChdb(warehouse: string, parquet: string): Promise<void> {
  if (existsSync(parquet)) return;
  const session = await DuckdbSession.open({ path: warehouse });
  try {
    await session.run(`COPY (SELECT person_id, occurred_at, event_name FROM events ORDER BY person_id, occurred_at) TO ${quoteLiteral(parquet)} (FORMAT parquet)`);
  } finally {
    session.close();
  }
}

export class ChdbReference {
  private readonly session: Session;

  constructor(readonly dir: string) {
    this.session = new Session(dir);
  }

  /** Loads the Parquet file into a MergeTree table `ev` (replacing it). */
  load(parquet: string): void {
    this.session.query('DROP TABLE IF EXISTS ev');
    this.session.query(`CREATE TABLE ev (person_id String, ts DateTime64(6, 'UTC'), event_name LowCardinality(String))
      ENGINE = MergeTree ORDER BY (person_id, ts)`);
    this.session.query(`INSERT INTO ev SELECT person_id, occurred_at, event_name FROM file(${chString(parquet)}, Parquet)`);
    this.session.query('OPTIMIZE TABLE ev FINAL');
  }

  /** windowFunnel over the steps (window in seconds); people per level. */
  funnel(steps: readonly string[], windowSeconds: number): ChdbFunnelReference {
    const conditions = steps.map((s) => `event_name = ${chString(s)}`).join(', ');
    const sql = `SELECT level, count() AS people FROM (
      SELECT person_id, windowFunnel(${windowSeconds})(toDateTime(ts), ${conditions}) AS level
      FROM ev WHERE event_name IN (${steps.map(chString).join(', ')}) GROUP BY person_id
    ) GROUP BY level ORDER BY level FORMAT JSONCompact`;
    const started = performance.now();
    const out = JSON.parse(this.session.query(sql, 'JSONCompact')) as { data: [number, string | number][] };
    const seconds = (performance.now() - started) / 1000;
    const byLevel = new Map(out.data.map(([level, n]) => [Number(level), Number(n)]));
    const levels = steps.map((_s, i) => [...byLevel].filter(([level]) => level >= i + 1).reduce((sum, [, n]) => sum + n, 0));
    return { levels, seconds };
  }

  close(): void {
    this.session.cleanup();
  }

  static reset(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
  }
}
