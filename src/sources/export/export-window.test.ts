import { describe, expect, it } from 'vitest';
import {
  bisectHours,
  boundaryEnd,
  boundaryStart,
  floorToGrid,
  localDate,
  makeWindow,
  parseRangeBoundary,
  planWindows,
  startOfLocalDay,
  type WindowGrid,
} from './export-window.js';

const utc = (iso: string): number => Date.parse(iso);
const day24: WindowGrid = { kind: 'hours', size: 24 };
const ny: WindowGrid = { kind: 'days', timezone: 'America/New_York' };

describe('export windows', () => {
  it('cuts a range into whole grid cells, clipped at both ends', () => {
    const windows = planWindows(utc('2024-03-10T05:00:00Z'), utc('2024-03-12T03:00:00Z'), day24);
    expect(windows.map((w) => w.key)).toEqual(['20240310T0500Z_20240311T0000Z', '20240311T0000Z_20240312T0000Z', '20240312T0000Z_20240312T0300Z']);
    expect(windows.map((w) => w.label)).toEqual([
      '2024-03-10T05:00Z/2024-03-11T00:00Z',
      '2024-03-11T00:00Z/2024-03-12T00:00Z',
      '2024-03-12T00:00Z/2024-03-12T03:00Z',
    ]);
    expect(planWindows(utc('2024-03-10T00:00:00Z'), utc('2024-03-10T03:00:00Z'), { kind: 'hours', size: 1 })).toHaveLength(3);
  });

  it('day windows of a zone are 23 and 25 hours long on DST days, labelled by their local date', () => {
    const from = startOfLocalDay(2024, 3, 9, 'America/New_York');
    const to = startOfLocalDay(2024, 3, 12, 'America/New_York');
    expect(new Date(from).toISOString()).toBe('2024-03-09T05:00:00.000Z');
    const windows = planWindows(from, to, ny);
    expect(windows.map((w) => w.label)).toEqual(['2024-03-09', '2024-03-10', '2024-03-11']);
    expect(windows.map((w) => (w.end - w.start) / 3_600_000)).toEqual([24, 23, 24]);
    const fall = planWindows(startOfLocalDay(2024, 11, 3, 'America/New_York'), startOfLocalDay(2024, 11, 4, 'America/New_York'), ny);
    expect(fall.map((w) => (w.end - w.start) / 3_600_000)).toEqual([25]);
    expect(new Date(fall[0]!.end).toISOString()).toBe('2024-11-04T05:00:00.000Z');
  });

  it('finds the first instant of a day in a zone whose clocks skip midnight', () => {
    // America/Santiago moved from 00:00 to 01:00 on 2022-09-11: the day starts at 01:00 local (04:00 UTC).
    const start = startOfLocalDay(2022, 9, 11, 'America/Santiago');
    expect(new Date(start).toISOString()).toBe('2022-09-11T04:00:00.000Z');
    expect(localDate(start, 'America/Santiago')).toBe('2022-09-11');
    expect(localDate(start - 1000, 'America/Santiago')).toBe('2022-09-10');
    expect(startOfLocalDay(2024, 3, 10, 'Asia/Kolkata')).toBe(utc('2024-03-09T18:30:00Z'));
  });

  it('floors instants to the grid', () => {
    expect(floorToGrid(utc('2024-03-10T17:45:00Z'), day24)).toBe(utc('2024-03-10T00:00:00Z'));
    expect(floorToGrid(utc('2024-03-10T17:45:00Z'), { kind: 'hours', size: 6 })).toBe(utc('2024-03-10T12:00:00Z'));
    expect(floorToGrid(utc('2024-03-10T03:00:00Z'), ny)).toBe(utc('2024-03-09T05:00:00Z'));
  });

  it('reads --from / --to as dates (whole days on the grid) or UTC hours, both included', () => {
    const d = parseRangeBoundary('2024-03-10', '--from');
    expect(boundaryStart(d, day24, '--from')).toBe(utc('2024-03-10T00:00:00Z'));
    expect(boundaryEnd(d, day24, '--to')).toBe(utc('2024-03-11T00:00:00Z'));
    expect(boundaryStart(d, ny, '--from')).toBe(utc('2024-03-10T05:00:00Z'));
    expect(boundaryEnd(d, ny, '--to')).toBe(utc('2024-03-11T04:00:00Z'));
    const h = parseRangeBoundary('2024-03-10T05', '--to');
    expect(boundaryEnd(h, day24, '--to')).toBe(utc('2024-03-10T06:00:00Z'));
    expect(boundaryStart(parseRangeBoundary('2024-03-10T05:00Z', '--from'), day24, '--from')).toBe(utc('2024-03-10T05:00:00Z'));
  });

  it('refuses malformed dates, impossible dates and hours on a day grid', () => {
    for (const bad of ['2024-3-10', '2024-02-30', '2024-03-10T24', 'yesterday', "2024-03-10'; DROP TABLE x; --"]) {
      expect(() => parseRangeBoundary(bad, '--from'), bad).toThrow(expect.objectContaining({ code: 'export_range_invalid' }));
    }
    expect(() => boundaryStart(parseRangeBoundary('2024-03-10T05', '--from'), ny, '--from')).toThrow(/whole days/);
  });

  it('bisects at whole hours and stops at one hour', () => {
    const s = utc('2024-03-10T00:00:00Z');
    expect(bisectHours(s, s + 24 * 3_600_000)).toEqual([s, s + 12 * 3_600_000, s + 24 * 3_600_000]);
    expect(bisectHours(s, s + 3 * 3_600_000)).toEqual([s, s + 3_600_000, s + 3 * 3_600_000]);
    expect(bisectHours(s, s + 3_600_000)).toBeUndefined();
  });

  it('names windows with sortable, file-safe keys', () => {
    const w = makeWindow(utc('2024-03-10T00:00:00Z'), utc('2024-03-11T00:00:00Z'), { kind: 'days', timezone: 'UTC' });
    expect(w).toMatchObject({ key: '20240310T0000Z_20240311T0000Z', label: '2024-03-10' });
    expect(w.key).toMatch(/^[0-9TZ_]+$/);
  });
});
