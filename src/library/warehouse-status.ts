/**
 * What `usagelab check` says about the warehouse: the engine, and for ClickHouse the server it reached (url,
 * database, cluster, version) with its event count and how many months the load ledger holds. The connection was
 * made when the workspace opened, so a wrong url or password already failed there with its own code and hint.
 */
import type { Workspace } from './workspace.js';

export interface WarehouseStatus {
  engine: 'duckdb' | 'clickhouse';
  status: 'ok';
  /** ClickHouse only. */
  url?: string;
  database?: string;
  cluster?: string | null;
  transport?: 'server' | 'chdb';
  version?: string;
  events?: number;
  /** Event months loaded (usagelab_sync ledger). */
  months_loaded?: number;
}

export async function warehouseStatus(ws: Workspace): Promise<WarehouseStatus> {
  const wh = ws.config.warehouse;
  if (ws.clickhouse === undefined || wh.engine !== 'clickhouse') return { engine: 'duckdb', status: 'ok' };
  const ch = ws.clickhouse;
  const [events] = await ch.query<{ n: number }>('SELECT count() AS n FROM events');
  const [months] = await ch.query<{ n: number }>("SELECT uniqExact(partition) AS n FROM usagelab_sync WHERE table_name = 'events' AND rows > 0");
  return {
    engine: 'clickhouse',
    status: 'ok',
    url: wh.url,
    database: ch.database,
    cluster: wh.cluster ?? null,
    transport: ch.transport,
    version: await ch.version(),
    events: events?.n ?? 0,
    months_loaded: months?.n ?? 0,
  };
}

/** One line for the check table. */
export function warehouseLine(s: WarehouseStatus): string {
  if (s.engine === 'duckdb') return 'duckdb: ok';
  const cluster = s.cluster == null ? '' : `, cluster ${s.cluster}`;
  return `clickhouse: ok (${s.url} database ${s.database}${cluster}, ClickHouse ${s.version}, ${s.events} events in ${s.months_loaded} loaded months)`;
}
