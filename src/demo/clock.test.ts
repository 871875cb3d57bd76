import { describe, expect, it } from 'vitest';
import { ZoneCalendar, amplitudeTime, demoWindow, isoMicros, isoMs, utcDate } from './clock.js';
import { Rng } from './random.js';

describe('demoWindow', () => {
  it('ends at the end of the last complete month before now', () => {
    const w = demoWindow({ months: 3, now: new Date('2026-11-28T12:00:00Z') });
    expect(utcDate(w.start)).toBe('2026-08-01');
    expect(new Date(w.end).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(w.months).toEqual(['2026-08', '2026-09', '2026-10']);
  });

  it('crosses a year boundary and honours an explicit start', () => {
    expect(demoWindow({ months: 3, now: new Date('2027-01-01T00:00:00Z') }).months).toEqual(['2026-10', '2026-11', '2026-12']);
    const w = demoWindow({ months: 2, start: '2026-01-15', now: new Date() });
    expect(utcDate(w.start)).toBe('2026-01-15');
    expect(utcDate(w.end)).toBe('2026-03-15');
    expect(w.months).toEqual(['2026-01', '2026-02', '2026-03']);
  });
});

describe('timestamp spellings', () => {
  it('formats instants exactly like Date.toISOString, with microseconds where asked', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 2000; i++) {
      const t = 1_700_000_000_000 + Math.floor(rng.next() * 1e11);
      expect(isoMs(t)).toBe(new Date(t).toISOString());
    }
    expect(isoMicros(Date.UTC(2026, 7, 1, 9, 5, 7, 42), 7)).toBe('2026-08-01T09:05:07.042007Z');
    expect(amplitudeTime(Date.UTC(2026, 9, 31, 23, 59, 59, 999), 123)).toBe('2026-10-31 23:59:59.999123');
    expect(amplitudeTime(Date.UTC(2026, 0, 1))).toBe('2026-01-01 00:00:00.000000');
  });

  it('cuts property-time-zone days across DST changes', () => {
    const ny = new ZoneCalendar('America/New_York');
    // 2026-11-01 is the fall-back day in New York: 25 hours long.
    const t = Date.UTC(2026, 10, 1, 12);
    expect(ny.dateKey(t)).toBe('20261101');
    expect(new Date(ny.dayEnd(t)).toISOString()).toBe('2026-11-02T05:00:00.000Z');
    expect(ny.dateKey(Date.UTC(2026, 10, 1, 3, 59))).toBe('20261031');
    expect(new Date(ny.dayEnd(Date.UTC(2026, 6, 15, 12))).toISOString()).toBe('2026-07-16T04:00:00.000Z');
  });
});

describe('Rng', () => {
  it('is deterministic per seed and stream', () => {
    const a = new Rng(42, 3);
    const b = new Rng(42, 3);
    const c = new Rng(42, 4);
    const seqA = Array.from({ length: 20 }, () => a.u32());
    expect(Array.from({ length: 20 }, () => b.u32())).toEqual(seqA);
    expect(Array.from({ length: 20 }, () => c.u32())).not.toEqual(seqA);
  });

  it('draws in range', () => {
    const r = new Rng(5);
    for (let i = 0; i < 1000; i++) {
      const n = r.int(3, 7);
      expect(n).toBeGreaterThanOrEqual(3);
      expect(n).toBeLessThanOrEqual(7);
      const x = r.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
    expect(r.hex(13)).toMatch(/^[0-9a-f]{13}$/);
  });
});
