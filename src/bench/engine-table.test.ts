import { describe, expect, it } from 'vitest';
import { UsageLabError } from '../core/errors.js';
import { benchEngines, equalCell, formatEngineTable, targetCell, type EngineRow } from './engine-table.js';

describe('benchEngines (BENCH_ENGINES)', () => {
  it('runs both engines by default and on "both"', () => {
    expect(benchEngines(undefined)).toEqual(['duckdb', 'clickhouse']);
    expect(benchEngines('')).toEqual(['duckdb', 'clickhouse']);
    expect(benchEngines('both')).toEqual(['duckdb', 'clickhouse']);
  });

  it('runs one side when named, in any case', () => {
    expect(benchEngines('duckdb')).toEqual(['duckdb']);
    expect(benchEngines(' ClickHouse ')).toEqual(['clickhouse']);
  });

  it('refuses anything else with a usage error', () => {
    let thrown: unknown;
    try {
      benchEngines('chdb');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(UsageLabError);
    expect((thrown as UsageLabError).code).toBe('bench_engines_invalid');
    expect((thrown as UsageLabError).exitCode).toBe(2);
  });
});

const timing = (wall: number, cpu: number) => ({ wall, cpu, cold: wall * 2 });

describe('the side-by-side table', () => {
  it('marks a missed DuckDB target, never a chDB one', () => {
    expect(targetCell({ label: 'a', target: 0.5, duckdb: timing(0.6, 0.4), clickhouse: timing(0.1, 0.1) })).toBe('≤ 0.5 s MISSED');
    expect(targetCell({ label: 'a', target: 0.5, duckdb: timing(0.5, 0.4), clickhouse: timing(9, 9) })).toBe('≤ 0.5 s');
    expect(targetCell({ label: 'a', target: 0.5, clickhouse: timing(9, 9) })).toBe('≤ 0.5 s');
    expect(targetCell({ label: 'a' })).toBe('—');
  });

  it('says whether results were compared, and what differed', () => {
    expect(equalCell({ label: 'a', duckdb: timing(1, 1), clickhouse: timing(1, 1) })).toBe('yes');
    expect(equalCell({ label: 'a', duckdb: timing(1, 1) })).toBe('not compared');
    expect(equalCell({ label: 'a', duckdb: timing(1, 1), clickhouse: timing(1, 1), difference: { path: '$.people', left: '553', right: '554' } })).toBe(
      '**NO**: $.people: DuckDB 553, ClickHouse 554',
    );
  });

  it('prints one Markdown table, numbers right-aligned to three decimals, dashes for an engine not run', () => {
    const rows: EngineRow[] = [
      { label: '4-step funnel', target: 0.5, duckdb: timing(0.1039, 0.1), clickhouse: timing(0.512, 0.325) },
      { label: 'segment', duckdb: timing(12.3456, 11), clickhouse: timing(0.373, 0.185), difference: { path: '$.people', left: '553', right: '554' } },
      { label: 'paths', duckdb: timing(0.659, 0.647) },
    ];
    expect(formatEngineTable(rows).split('\n')).toEqual([
      '| benchmark     | DuckDB s | DuckDB CPU s | chDB s | chDB CPU s | target (DuckDB) | results equal                                |',
      '| ------------- | -------: | -----------: | -----: | ---------: | --------------- | -------------------------------------------- |',
      '| 4-step funnel |    0.104 |        0.100 |  0.512 |      0.325 | ≤ 0.5 s         | yes                                          |',
      '| segment       |   12.346 |       11.000 |  0.373 |      0.185 | —               | **NO**: $.people: DuckDB 553, ClickHouse 554 |',
      '| paths         |    0.659 |        0.647 |      — |          — | —               | not compared                                 |',
    ]);
  });
});
