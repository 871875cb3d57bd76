/**
 * Generates benchmark inputs of any size with DuckDB itself (fast, bounded memory): canonical Parquet, a
 * generic CSV event log, and Amplitude-shaped NDJSON (the Export API's line format). Deterministic: row i is a
 * function of i only.
 */
import { DuckdbSession } from '../warehouse/duckdb/duckdb-connection.js';

export type BenchFormat = 'parquet' | 'csv' | 'ndjson';

const EVENTS = `['page_view','click','signup','create_project','invite_teammate','upgrade','search','export','settings','logout']`;

function rowsSql(n: number): string {
  // 50 events per person in 5 visits of 10 events (2 minutes apart) on different days of a 30-day span.
  return `SELECT i,
      'p' || (i // 50) AS person,
      ${EVENTS}[1 + (hash(i) % 10)::INTEGER] AS event_name,
      TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_microseconds((hash(i // 50) % (20 * 86400000000))::BIGINT)
        + to_microseconds(((i % 50) // 10) * 2 * 86400000000 + (i % 10) * 120000000) AS occurred_at,
      '/projects/' || (hash(i) % 1000) || '/board' AS path
    FROM range(${n}) t(i)`;
}

export async function generateBenchFile(format: BenchFormat, n: number, path: string): Promise<void> {
  const session = await DuckdbSession.open({ path: ':memory:' });
  try {
    const q = `'${path.replace(/'/g, "''")}'`;
    if (format === 'parquet') {
      await session.run(`COPY (SELECT 'evt-' || i AS event_id, person AS user_id, 'dev-' || person AS anonymous_id, event_name,
          occurred_at, 'https://app.example.com' || path AS page_url, 'sess-' || person || '-' || (epoch(occurred_at)::BIGINT // 1800) AS session_id
        FROM (${rowsSql(n)})) TO ${q} (FORMAT parquet, ROW_GROUP_SIZE 1000000)`);
    } else if (format === 'csv') {
      await session.run(`COPY (SELECT 'evt-' || i AS event_id, person AS user_id, event_name, strftime(occurred_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS timestamp,
          'https://app.example.com' || path AS url FROM (${rowsSql(n)})) TO ${q} (FORMAT csv, HEADER)`);
    } else {
      await session.run(`COPY (SELECT md5(i::VARCHAR)::UUID::VARCHAR AS uuid, event_name AS event_type,
          strftime(occurred_at, '%Y-%m-%d %H:%M:%S.%f') AS event_time, strftime(occurred_at, '%Y-%m-%d %H:%M:%S.%f') AS server_upload_time,
          person AS user_id, 'dev-' || person AS device_id, (epoch_ms(occurred_at) // 1800000) * 1800000 AS session_id,
          1000000000 + (hash(person) % 1000000000) AS amplitude_id, i AS event_id, 'Web' AS platform, 'Chrome' AS os_name,
          'Desktop' AS device_type, 'Netherlands' AS country,
          json_object('[Amplitude] Page URL', 'https://app.example.com' || path, 'plan', 'pro') AS event_properties,
          json_object('plan', 'pro') AS user_properties
        FROM (${rowsSql(n)})) TO ${q} (FORMAT json)`);
    }
  } finally {
    session.close();
  }
}
