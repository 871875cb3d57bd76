/**
 * How many values each import masked, per field and kind (table import_pii_counts, migration 3): what the report's
 * data-quality section and `import --json` show. Counts only, never the values.
 */
import type { PiiCount } from '../../governance/pii-value-masking.js';
import type { DuckdbSession } from './duckdb-connection.js';
import { sqlLiteral } from './duckdb-stage-context.js';

export async function recordPiiCounts(session: DuckdbSession, importId: number, counts: readonly PiiCount[]): Promise<void> {
  if (counts.length === 0) return;
  const rows = counts.map((c) => `(${importId}, ${sqlLiteral(c.field)}, ${sqlLiteral(c.kind)}, ${c.values})`);
  await session.run(`INSERT INTO import_pii_counts VALUES ${rows.join(', ')}`);
}
