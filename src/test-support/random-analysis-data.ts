/**
 * Seeded random events and definition parts for differential tests (the same definition on DuckDB and on
 * ClickHouse must give the same result). Small value sets on purpose, so filters, breakdowns and segments hit
 * and miss often; instants cluster around DST changes of the zones used; properties mix strings, numbers (5, 5.5,
 * "5"), booleans, JSON null and absent keys, and names with dots and quotes.
 */
import type { TestEvent } from './analysis-events.js';

/** A small deterministic PRNG (mulberry32): the same seed gives the same data on every machine. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Up to `max` distinct items, in the list's order. */
  some<T>(items: readonly T[], max: number): T[] {
    const n = this.int(1, Math.min(max, items.length));
    const chosen = new Set<T>();
    while (chosen.size < n) chosen.add(this.pick(items));
    return items.filter((i) => chosen.has(i));
  }
}

export const RANDOM_EVENT_NAMES = ['signup', 'view', 'export', 'invite', "it's"] as const;
export const RANDOM_TIMEZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kathmandu', 'Australia/Lord_Howe'] as const;
const DEVICES = ['mobile', 'desktop', 'tablet', null] as const;
const COUNTRIES = ['NL', 'US', 'DE', null] as const;
const PLANS = ['free', 'pro', 'team'] as const;
const PROPERTY_VALUES: readonly unknown[] = ['csv', 'pdf', 5, 5.5, '5', 7, true, 'true', null];

/** Events of `people` people over ~10 weeks around the 2024 spring DST change (some without a person). */
export function randomEvents(r: Random, people: number, count: number): TestEvent[] {
  const start = Date.parse('2024-02-20T00:00:00Z');
  const span = 70 * 86_400_000;
  const out: TestEvent[] = [];
  for (let i = 0; i < count; i++) {
    // Whole seconds, and now and then the same instant as the previous event (ties).
    const at = r.chance(0.08) && out.length > 0 ? out[out.length - 1]!.at : new Date(start + Math.floor((r.next() * span) / 1000) * 1000).toISOString();
    const person = r.chance(0.03) ? null : `p${r.int(1, people)}`;
    const properties: Record<string, unknown> = {};
    if (r.chance(0.6)) properties.format = r.pick(PROPERTY_VALUES);
    if (r.chance(0.2)) properties['a.b'] = r.pick(['x', 'y']);
    const userProperties: Record<string, unknown> = {};
    if (r.chance(0.5)) userProperties.plan = r.pick(PLANS);
    if (r.chance(0.3)) userProperties.seats = r.pick([5, '5', 10, 5.0]);
    out.push({
      event_id: `00000000-0000-4000-8000-${(i + 1).toString(16).padStart(12, '0')}`,
      person,
      at,
      name: r.pick(RANDOM_EVENT_NAMES),
      device_type: r.pick(DEVICES),
      country: r.pick(COUNTRIES),
      rage_click: r.chance(0.1),
      ...(r.chance(0.8) ? { properties } : {}),
      ...(r.chance(0.7) ? { user_properties: userProperties } : {}),
    });
  }
  return out;
}

/** A `where` map of 0–2 filters over columns and properties. */
export function randomWhere(r: Random): Record<string, unknown> {
  const where: Record<string, unknown> = {};
  const n = r.int(0, 2);
  for (let i = 0; i < n; i++) {
    switch (r.int(0, 5)) {
      case 0:
        where.device_type = r.chance(0.3) ? ['mobile', 'tablet'] : r.pick(['mobile', 'desktop', null]);
        break;
      case 1:
        where.country = r.pick(['NL', 'US', null]);
        break;
      case 2:
        where['properties.format'] = r.pick([5, 'csv', '5', true, null, ['csv', 'pdf']]);
        break;
      case 3:
        where['user_properties.plan'] = r.pick(['pro', 'free', ['pro', 'team']]);
        break;
      case 4:
        where.rage_click = r.chance(0.5);
        break;
      default:
        where['properties.a.b'] = r.pick(['x', 'y']);
    }
  }
  return where;
}

/** A date range inside the data (or slightly outside it). */
export function randomRange(r: Random): { from: string; to: string } {
  const day = (offset: number): string => new Date(Date.parse('2024-02-18T00:00:00Z') + offset * 86_400_000).toISOString().slice(0, 10);
  const from = r.int(0, 60);
  return { from: day(from), to: day(from + r.int(0, 30)) };
}
