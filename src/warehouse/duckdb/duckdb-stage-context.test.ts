import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../core/config-schema.js';
import { DuckdbSession } from './duckdb-connection.js';
import { DuckdbStageContext } from './duckdb-stage-context.js';

let session: DuckdbSession;
let ctx: DuckdbStageContext;

beforeEach(async () => {
  session = await DuckdbSession.open({ path: ':memory:', threads: 1 });
  ctx = await DuckdbStageContext.create(session, configSchema.parse({}), { columnMap: {} }, '/nonexistent');
});
afterEach(() => session.close());

async function stageRelations(): Promise<string[]> {
  const rows = await session.all<{ name: string }>(
    `SELECT table_name AS name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, '_stage_')
     UNION ALL SELECT view_name FROM duckdb_views() WHERE temporary AND starts_with(view_name, '_stage_') ORDER BY name`,
  );
  return rows.map((r) => r.name);
}

describe('stage context: dropping a file’s reading relations', () => {
  it('drops the tables and views named after the mark, views first, and keeps the rest', async () => {
    const earlier = ctx.tempName('lines');
    await session.run(`CREATE TEMP TABLE ${earlier} AS SELECT 1 AS x`);
    const mark = ctx.issued;
    const lines = ctx.tempName('lines');
    const docs = ctx.tempName('docs');
    const unused = ctx.tempName('concat'); // a name used for a file: no relation
    const rows = ctx.tempName('rows');
    const links = ctx.tempName('links');
    await session.run(`CREATE TEMP TABLE ${lines} AS SELECT 1 AS x`);
    await session.run(`CREATE TEMP VIEW ${docs} AS SELECT x FROM ${lines}`);
    await session.run(`CREATE TEMP TABLE ${rows} AS SELECT x FROM ${docs}`);
    await session.run(`CREATE TEMP TABLE ${links} AS SELECT x FROM ${docs}`);
    expect(unused).toMatch(/^_stage_concat_\d+$/);

    await ctx.dropRelationsAfter(mark, new Set([rows, links]));

    expect(await stageRelations()).toEqual([earlier, links, rows].sort());
    expect(await session.all(`SELECT x FROM ${rows}`)).toEqual([{ x: 1 }]);
  });

  it('drops nothing while a kept relation is a view, which still reads what lies below it', async () => {
    const mark = ctx.issued;
    const lines = ctx.tempName('lines');
    const staged = ctx.tempName('staged');
    await session.run(`CREATE TEMP TABLE ${lines} AS SELECT 1 AS x`);
    await session.run(`CREATE TEMP VIEW ${staged} AS SELECT x FROM ${lines}`);

    await ctx.dropRelationsAfter(mark, new Set([staged]));

    expect(await stageRelations()).toEqual([lines, staged].sort());
    expect(await session.all(`SELECT x FROM ${staged}`)).toEqual([{ x: 1 }]);
  });
});
