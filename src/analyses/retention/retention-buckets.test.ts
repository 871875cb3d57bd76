import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { BoundParams } from '../../sql/bound-params.js';
import { openTestWarehouse } from '../../test-support/analysis-events.js';
import { bucketStart, type CalendarInterval, type WeekStart } from '../common/time-buckets.js';
import { queryRows } from '../common/run-support.js';
import { bigintParam, localMicrosSql, zoneOffsetsFromRows, zoneOffsetsQuery } from './local-time.js';
import { bucketIndexOfDate, bucketIndexSql, bucketStartDate } from './retention-buckets.js';

let session: Awaited<ReturnType<typeof openTestWarehouse>>;
beforeAll(async () => {
  session = await openTestWarehouse();
});
afterAll(() => session.close());

const us = (iso: string): number => Date.parse(iso) * 1000;

describe('interval numbers ↔ local dates (JavaScript)', () => {
  it('round-trips days, weeks for every week start, and months, before and after 1970', () => {
    for (const date of ['1969-12-31', '1970-01-01', '1970-01-05', '2024-02-29', '2024-03-10', '1901-07-04', '2100-12-31']) {
      expect(bucketStartDate('day', bucketIndexOfDate('day', date, 'monday'), 'monday')).toBe(date);
      expect(bucketStartDate('month', bucketIndexOfDate('month', date, 'monday'), 'monday')).toBe(`${date.slice(0, 8)}01`);
    }
    // 2024-03-10 is a Sunday.
    expect(bucketStartDate('week', bucketIndexOfDate('week', '2024-03-10', 'monday'), 'monday')).toBe('2024-03-04');
    expect(bucketStartDate('week', bucketIndexOfDate('week', '2024-03-10', 'sunday'), 'sunday')).toBe('2024-03-10');
    expect(bucketStartDate('week', bucketIndexOfDate('week', '2024-03-10', 'saturday'), 'saturday')).toBe('2024-03-09');
    expect(bucketStartDate('week', bucketIndexOfDate('week', '1969-12-31', 'monday'), 'monday')).toBe('1969-12-29');
    expect(bucketIndexOfDate('month', '2024-03-15', 'monday') - bucketIndexOfDate('month', '2023-12-01', 'monday')).toBe(3);
    expect(bucketIndexOfDate('week', '2024-03-11', 'monday') - bucketIndexOfDate('week', '2024-03-10', 'monday')).toBe(1);
  });
});

/**
 * The fast local time (offsets looked up once, integer arithmetic per event) must give exactly the local date
 * DuckDB's timezone() gives, in zones with DST, half- and quarter-hour offsets, a skipped day and midnight changes.
 */
describe('interval numbers from local time (SQL) agree with timezone()', () => {
  // Dense windows around transitions (steps of 97 s cross every local midnight), plus a coarse year.
  const cases: [string, string, string, number][] = [
    ['America/New_York', '2024-03-08T00:00:00Z', '2024-03-13T00:00:00Z', 97],
    ['America/New_York', '2024-11-01T00:00:00Z', '2024-11-06T00:00:00Z', 97],
    ['America/New_York', '2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z', 11_213],
    ['Europe/Berlin', '2024-03-29T00:00:00Z', '2024-04-02T00:00:00Z', 97],
    ['Europe/Berlin', '2024-10-25T00:00:00Z', '2024-10-29T00:00:00Z', 97],
    ['Australia/Lord_Howe', '2024-04-05T00:00:00Z', '2024-04-09T00:00:00Z', 97],
    ['Australia/Lord_Howe', '2024-10-04T00:00:00Z', '2024-10-08T00:00:00Z', 97],
    ['Asia/Kolkata', '2024-01-01T00:00:00Z', '2024-01-05T00:00:00Z', 97],
    ['Asia/Kathmandu', '2024-01-01T00:00:00Z', '2024-01-05T00:00:00Z', 97],
    ['Pacific/Chatham', '2024-04-05T00:00:00Z', '2024-04-09T00:00:00Z', 97],
    ['America/St_Johns', '2024-11-01T00:00:00Z', '2024-11-05T00:00:00Z', 97],
    // Samoa skipped 2011-12-30 (UTC−10 → UTC+14).
    ['Pacific/Apia', '2011-12-28T00:00:00Z', '2012-01-02T00:00:00Z', 97],
    // Brazil moved clocks at midnight: 2018-11-04 started at 01:00.
    ['America/Sao_Paulo', '2018-11-02T00:00:00Z', '2018-11-06T00:00:00Z', 97],
    // Before 1970 (negative epoch microseconds), around a DST change.
    ['America/New_York', '1965-04-23T00:00:00Z', '1965-04-27T00:00:00Z', 97],
  ];

  it.each(cases)('%s from %s', async (timezone, from, to, stepSeconds) => {
    const offsets = zoneOffsetsFromRows(await queryRows(session, zoneOffsetsQuery(timezone, us(from), us(to))));
    const params = new BoundParams();
    const tz = params.bind(timezone);
    const local = localMicrosSql('x', offsets, params);
    const intervals: [CalendarInterval, WeekStart][] = [
      ['day', 'monday'],
      ['week', 'monday'],
      ['week', 'sunday'],
      ['week', 'saturday'],
      ['month', 'monday'],
    ];
    const columns = intervals.map(
      ([interval, ws], i) => `${bucketIndexSql(interval, local, ws)} AS i${i}, CAST(${bucketStart(interval, 'make_timestamptz(x)', tz, ws)} AS VARCHAR) AS d${i}`,
    );
    const rows = await queryRows<Record<string, number | string>>(session, {
      sql: `SELECT x, ${columns.join(', ')} FROM range(${bigintParam(params, us(from))}, ${bigintParam(params, us(to))}, ${bigintParam(params, stepSeconds * 1_000_000)}) r(x)`,
      params: [...params.values],
    });
    expect(rows.length).toBeGreaterThan(100);
    const mismatches: string[] = [];
    for (const row of rows) {
      intervals.forEach(([interval, ws], i) => {
        const index = Number(row[`i${i}`]);
        const date = String(row[`d${i}`]);
        if (index !== bucketIndexOfDate(interval, date, ws) || bucketStartDate(interval, index, ws) !== date) {
          mismatches.push(`${new Date(Number(row.x) / 1000).toISOString()} ${interval}/${ws}: ${index} vs ${date}`);
        }
      });
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it('finds each transition to the second', async () => {
    const offsets = zoneOffsetsFromRows(await queryRows(session, zoneOffsetsQuery('America/New_York', us('2024-01-01T00:00:00Z'), us('2025-01-01T00:00:00Z'))));
    expect(offsets.initialUs).toBe(-5 * 3_600_000_000);
    expect(offsets.transitions).toEqual([
      { atUs: us('2024-03-10T07:00:00Z'), offsetUs: -4 * 3_600_000_000 },
      { atUs: us('2024-11-03T06:00:00Z'), offsetUs: -5 * 3_600_000_000 },
    ]);
    const lordHowe = zoneOffsetsFromRows(await queryRows(session, zoneOffsetsQuery('Australia/Lord_Howe', us('2024-03-01T00:00:00Z'), us('2024-05-01T00:00:00Z'))));
    // 02:00 local daylight time (UTC+11) on 2024-04-07 back to UTC+10:30.
    expect(lordHowe.transitions).toEqual([{ atUs: us('2024-04-06T15:00:00Z'), offsetUs: 10.5 * 3_600_000_000 }]);
  });
});
