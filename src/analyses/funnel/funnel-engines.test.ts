/**
 * Differential tests: the fast engines must give exactly the reference's answers. The reference is the plain
 * state machine (funnel-attempts.ts) over events streamed in (unit, time, event id) order; the fast path groups
 * events by unit (funnel-units-query.ts), orders each unit in TypeScript (funnel-unit-events.ts) and runs the
 * backward chain (funnel-chain.ts) or the typed state machine (funnel-unit-machine.ts).
 *
 * Two levels: the algorithms alone on thousands of random units (no warehouse), and whole runs on random
 * warehouses (seeded) with many ties, repeats, window edges, shuffled storage order and event ids that disagree
 * with insertion order.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ev, insertEvents, openTestWarehouse, type TestEvent } from '../../test-support/analysis-events.js';
import { bestAttempt, type AttemptRules, type UnitEvent } from './funnel-attempts.js';
import { evaluateFunnel, runFunnel, type FunnelRunOptions } from './funnel-analysis.js';
import { ChainScratch, chainApplies, chainAttempt } from './funnel-chain.js';
import { parseFunnelDefinition } from './funnel-definition.js';
import { withoutBreakdown } from './funnel-result.js';
import { buildFunnelEventsQuery, buildNextEventsQuery } from './funnel-query.js';
import { UnitEvents, type FoundAttempt } from './funnel-unit-events.js';
import { MachineScratch, machineAttempt } from './funnel-unit-machine.js';
import { RunLog } from './funnel-stored-units.js';
import { buildFunnelRowsQuery, buildFunnelUnitsQuery, storedOrderApplies, unitFields } from './funnel-units-query.js';

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('the algorithms alone agree with the reference state machine (random units)', () => {
  /** A random unit in time order; breakdown = the event's index, so the reference names its attempt's start. */
  function randomUnit(r: () => number, stepCount: number, exclusionCount: number, singleStep: boolean): UnitEvent[] {
    const n = Math.floor(r() * (r() < 0.1 ? 60 : 14));
    const times = Array.from({ length: n }, () => Math.floor(r() * 12) * 10).sort((a, b) => a - b);
    return times.map((t, i) => {
      let steps = 0;
      if (singleStep) {
        if (r() < 0.9) steps = 1 << Math.floor(r() * stepCount);
      } else {
        for (let k = 0; k < stepCount; k++) if (r() < 0.35) steps |= 1 << k;
      }
      let exclusions = 0;
      for (let x = 0; x < exclusionCount; x++) if (r() < 0.2) exclusions |= 1 << x;
      return { t, steps, exclusions, inRange: r() < 0.8, breakdown: String(i) };
    });
  }

  function typed(events: readonly UnitEvent[]): UnitEvents {
    const u = new UnitEvents();
    u.reset(events.length, null);
    events.forEach((e, i) => u.set(i, e.t, e.steps, e.exclusions, e.inRange, i));
    return u;
  }

  const summary = (found: FoundAttempt | undefined): unknown =>
    found === undefined ? undefined : { reached: found.reached, times: Array.from(found.times.subarray(0, found.reached)), breakdown: String(found.start) };

  it('the backward chain: ordered steps, one step per event, no exclusions (20,000 units)', () => {
    const r = rng(11);
    for (let i = 0; i < 20_000; i++) {
      const stepCount = 2 + Math.floor(r() * 5);
      const rules: AttemptRules = { stepCount, windowUs: 10 + Math.floor(r() * 6) * 10, order: 'ordered', exclusions: [], attempts: r() < 0.3 ? 'first' : 'best' };
      const events = randomUnit(r, stepCount, 0, true);
      expect(summary(chainAttempt(typed(events), rules, new ChainScratch(stepCount))), `unit ${i}`).toEqual(bestAttempt(events, rules));
    }
  });

  it('the typed state machine: every order, overlapping steps, exclusions (20,000 units)', () => {
    const r = rng(12);
    const orders = ['ordered', 'strict', 'unordered'] as const;
    for (let i = 0; i < 20_000; i++) {
      const stepCount = 2 + Math.floor(r() * 4);
      const order = orders[Math.floor(r() * 3)]!;
      const exclusionCount = order === 'unordered' ? 0 : Math.floor(r() * 3);
      const exclusions = Array.from({ length: exclusionCount }, () => {
        const from = 1 + Math.floor(r() * (stepCount - 1));
        return { from, to: from + 1 + Math.floor(r() * (stepCount - from)) };
      });
      const rules: AttemptRules = { stepCount, windowUs: 10 + Math.floor(r() * 6) * 10, order, exclusions, attempts: r() < 0.3 ? 'first' : 'best' };
      const events = randomUnit(r, stepCount, exclusionCount, r() < 0.3);
      // One scratch for many units, as in a run: nothing may leak from one unit to the next.
      expect(summary(machineAttempt(typed(events), rules, scratch(stepCount))), `unit ${i}`).toEqual(bestAttempt(events, rules));
    }
  });

  const scratches = new Map<number, MachineScratch>();
  const scratch = (stepCount: number): MachineScratch => {
    if (!scratches.has(stepCount)) scratches.set(stepCount, new MachineScratch(stepCount));
    return scratches.get(stepCount)!;
  };

  it('chain: steps at one instant are taken from the last step down; the first event of an instant starts', () => {
    const rules = { stepCount: 3, windowUs: 100, attempts: 'best' as const };
    // a, b, c all at t=5 (stored c, b, a): converts at the same instant.
    const u = typed([
      { t: 5, steps: 4, exclusions: 0, inRange: true, breakdown: null },
      { t: 5, steps: 2, exclusions: 0, inRange: true, breakdown: null },
      { t: 5, steps: 1, exclusions: 0, inRange: true, breakdown: null },
      { t: 5, steps: 1, exclusions: 0, inRange: true, breakdown: null },
    ]);
    expect(summary(chainAttempt(u, rules, new ChainScratch(3)))).toEqual({ reached: 3, times: [5, 5, 5], breakdown: '2' });
    // The window is inclusive and measured from step 1.
    const edge = typed([
      { t: 0, steps: 1, exclusions: 0, inRange: true, breakdown: null },
      { t: 60, steps: 2, exclusions: 0, inRange: true, breakdown: null },
      { t: 100, steps: 4, exclusions: 0, inRange: true, breakdown: null },
      { t: 101, steps: 4, exclusions: 0, inRange: true, breakdown: null },
    ]);
    expect(summary(chainAttempt(edge, rules, new ChainScratch(3)))).toEqual({ reached: 3, times: [0, 60, 100], breakdown: '0' });
    expect(summary(chainAttempt(edge, { ...rules, windowUs: 99 }, new ChainScratch(3)))).toEqual({ reached: 2, times: [0, 60], breakdown: '0' });
  });
});

let session: Awaited<ReturnType<typeof openTestWarehouse>>;
beforeEach(async () => {
  session = await openTestWarehouse();
});
afterEach(() => session.close());

const uuid = (r: () => number): string => {
  const hex = (digits: number): string => Array.from({ length: digits }, () => Math.floor(r() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`;
};

/**
 * Events of 40 people over 4 days at whole hours (ties and window edges are common), in shuffled order with
 * random event ids; device and plan vary per event, so the breakdown of simultaneous step-1 events differs.
 * One person has 80 events (a unit too big for the insertion sort), one has events from two sources (merged
 * identities), and some events have no person.
 */
function randomEvents(seed: number): TestEvent[] {
  const r = rng(seed);
  const names = ['a', 'b', 'c', 'd', 'x'];
  const out: TestEvent[] = [];
  for (let p = 0; p < 40; p++) {
    const n = p === 7 ? 80 : Math.floor(r() * 12);
    for (let i = 0; i < n; i++) {
      const hour = Math.floor(r() * 96);
      out.push(
        ev(p === 39 ? null : `p${p}`, new Date(Date.UTC(2024, 2, 8, hour)).toISOString(), names[Math.floor(r() * names.length)]!, {
          event_id: uuid(r),
          session_id: `p${p}-s${Math.floor(hour / 30)}`,
          device_type: r() < 0.5 ? 'mobile' : 'desktop',
          source: p === 3 && r() < 0.5 ? 'amplitude' : 'posthog',
          properties: { plan: r() < 0.5 ? 'pro' : 'free' },
        }),
      );
    }
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Definitions the backward chain runs (ordered, distinct step events, no exclusions). */
const CHAIN_DEFINITIONS: Record<string, unknown>[] = [
  { steps: ['a', 'b'], window: '1d' },
  { steps: ['a', 'b', 'c', 'd'], window: '2d' },
  { steps: ['b', 'a', 'c'], window: '30h', breakdown: 'device_type' },
  { steps: ['a', 'b', 'c'], window: '3d', unit: 'session' },
  { steps: ['a', 'b', 'c'], window: '1d', attempts: 'first', breakdown: 'properties.plan' },
  { steps: ['a', { event: 'b', where: { device_type: 'mobile' } }, 'c'], window: '2d', date_range: { from: '2024-03-09', to: '2024-03-10' } },
  { steps: ['a', { event: 'b', first_time: true }, 'c'], window: '2d', where: { 'properties.plan': 'pro' } },
];

/** Definitions the typed state machine runs. */
const MACHINE_DEFINITIONS: Record<string, unknown>[] = [
  { steps: ['a', 'b', 'c'], window: '2d', order: 'strict' },
  { steps: ['a', 'b', 'c'], window: '1d', order: 'unordered', breakdown: 'device_type' },
  { steps: ['a', 'b', 'a'], window: '2d', breakdown: 'device_type' },
  { steps: [{ event: 'a', where: { device_type: 'mobile' } }, { event: 'a', where: { 'properties.plan': 'pro' } }, 'b'], window: '2d' },
  { steps: ['a', 'b', 'c'], window: '2d', exclusions: [{ event: 'x', between: [1, 2] }, { event: 'd', where: { device_type: 'desktop' } }] },
  { steps: ['a', 'b', 'c'], window: '2d', exclusions: [{ event: 'x' }], attempts: 'first', breakdown: 'device_type' },
  { steps: ['a', 'b'], window: '1d', order: 'strict', date_range: { from: '2024-03-09', to: '2024-03-10' }, unit: 'session' },
];

describe('whole runs: the fast engines agree with the reference on random warehouses', () => {
  const engines: FunnelRunOptions['engine'][] = ['auto', 'typed-machine'];

  async function compare(definitions: Record<string, unknown>[], timezone: string): Promise<void> {
    const defs = definitions.map((d) => parseFunnelDefinition({ kind: 'funnel', name: 'diff', exclude: [], ...d }));
    for (let seed = 1; seed <= 5; seed++) {
      await session.run('DELETE FROM events');
      await insertEvents(session, randomEvents(seed * 7919));
      for (const def of defs) {
        const reference = await evaluateFunnel(session, def, { timezone, engine: 'state-machine' });
        expect(reference.result.steps[0]!.count, 'the data set exercises the funnel').toBeGreaterThan(0);
        for (const engine of engines) {
          const fast = await evaluateFunnel(session, def, { timezone, engine });
          const label = `seed ${seed}, ${engine}, ${JSON.stringify(def.steps)}`;
          expect(fast.result, label).toEqual(reference.result);
          for (let k = 1; k < def.steps.length; k++) expect(fast.droppedAfter(k), label).toEqual(reference.droppedAfter(k));
        }
      }
    }
  }

  it('chain definitions (UTC)', async () => compare(CHAIN_DEFINITIONS, 'UTC'), 120_000);
  it('state-machine definitions (UTC)', async () => compare(MACHINE_DEFINITIONS, 'UTC'), 120_000);
  // 2024-03-10 is New York's spring-forward day (23 hours): the range's bounds move with the zone.
  it('date ranges in America/New_York across the DST change', async () => compare([CHAIN_DEFINITIONS[5]!, MACHINE_DEFINITIONS[6]!], 'America/New_York'), 120_000);

  it('a run with a breakdown holds the run without it (withoutBreakdown)', async () => {
    const withGroups = [...CHAIN_DEFINITIONS, ...MACHINE_DEFINITIONS].filter((d) => d.breakdown !== undefined);
    expect(withGroups.length).toBeGreaterThan(3);
    for (let seed = 1; seed <= 3; seed++) {
      await session.run('DELETE FROM events');
      await insertEvents(session, randomEvents(seed * 104_729));
      for (const d of withGroups) {
        const def = parseFunnelDefinition({ kind: 'funnel', name: 'diff', exclude: [], ...d });
        const grouped = (await evaluateFunnel(session, def, { timezone: 'UTC', engine: 'auto' })).result;
        const plain = (await evaluateFunnel(session, { ...def, breakdown: null }, { timezone: 'UTC', engine: 'auto' })).result;
        expect(grouped.breakdown!.length, 'the data set has several groups').toBeGreaterThan(1);
        expect(withoutBreakdown(grouped), `seed ${seed}, ${JSON.stringify(d)}`).toEqual(plain);
      }
    }
  }, 120_000);

  it('each list runs the engine it is meant to test', () => {
    const applies = (d: Record<string, unknown>) => chainApplies(parseFunnelDefinition({ kind: 'funnel', name: 'f', ...d }));
    expect(CHAIN_DEFINITIONS.map(applies)).toEqual(CHAIN_DEFINITIONS.map(() => true));
    expect(MACHINE_DEFINITIONS.map(applies)).toEqual(MACHINE_DEFINITIONS.map(() => false));
  });

  it('the chain is used only where it is exact', () => {
    const p = (d: Record<string, unknown>) => chainApplies(parseFunnelDefinition({ kind: 'funnel', name: 'f', ...d }));
    expect(p({ steps: ['a', 'b'] })).toBe(true);
    expect(p({ steps: ['a', { event: 'b', where: { device_type: 'mobile' } }] })).toBe(true);
    expect(p({ steps: ['a', 'a'] })).toBe(false);
    expect(p({ steps: [{ event: 'a', where: { device_type: 'mobile' } }, { event: 'a', where: { device_type: 'desktop' } }] })).toBe(false);
    expect(p({ steps: ['a', 'b'], order: 'strict' })).toBe(false);
    expect(p({ steps: ['a', 'b'], order: 'unordered' })).toBe(false);
    expect(p({ steps: ['a', 'b'], exclusions: [{ event: 'x' }] })).toBe(false);
  });
});

describe('the stored-order stream (funnel-stored-units.ts)', () => {
  it('RunLog: a repeated unit is caught on all 64 bits of its hash, distinct ones pass', () => {
    const log = new RunLog();
    // Same top 53 bits (hi and the top 21 bits of lo), different low 11 bits: distinct.
    expect(log.add(7, 1 << 30)).toBe(true);
    expect(log.add(7 | 0x7f0, 1 << 30)).toBe(true);
    expect(log.add(-5, -1)).toBe(true);
    expect(log.distinct()).toBe(true);
    // Not sampled (low bits not 0 mod 16): only the final check sees it.
    expect(log.add(7 | 0x7f0, 1 << 30)).toBe(true);
    expect(log.distinct()).toBe(false);
  });

  it('RunLog: a sampled unit that comes back proves at once that the table is not clustered', () => {
    const log = new RunLog();
    expect(log.add(32, 9)).toBe(true);
    expect(log.add(48, 9)).toBe(true);
    expect(log.add(32, 10)).toBe(true);
    expect(log.add(32, 9)).toBe(false);
  });

  /** randomEvents with each person's events stored together (in shuffled time order inside the person). */
  const clustered = (seed: number): TestEvent[] => [...randomEvents(seed)].sort((a, b) => (a.person ?? '~').localeCompare(b.person ?? '~'));

  it('a warehouse clustered by person is read in stored order, with the reference answers', async () => {
    const defs = [...CHAIN_DEFINITIONS, ...MACHINE_DEFINITIONS].map((d) => parseFunnelDefinition({ kind: 'funnel', name: 'diff', exclude: [], ...d }));
    const stored = defs.filter((d) => d.unit === 'person' && storedOrderApplies(unitFields(d)));
    expect(stored.length, 'definitions the stored order carries').toBeGreaterThanOrEqual(6);
    for (let seed = 1; seed <= 4; seed++) {
      await session.run('DELETE FROM events');
      await insertEvents(session, clustered(seed * 104_729));
      for (const def of defs) {
        const reference = await evaluateFunnel(session, def, { timezone: 'UTC', engine: 'state-machine' });
        for (const engine of ['auto', 'typed-machine'] as const) {
          const fast = await evaluateFunnel(session, def, { timezone: 'UTC', engine });
          const label = `seed ${seed}, ${engine}, ${JSON.stringify(def.steps)}`;
          // Sessions are not stored together here (a person's events are shuffled), nor are breakdowns carried.
          expect(fast.stream, label).toBe(stored.includes(def) ? 'stored-order' : 'grouped');
          expect(fast.result, label).toEqual(reference.result);
          for (let k = 1; k < def.steps.length; k++) expect(fast.droppedAfter(k), label).toEqual(reference.droppedAfter(k));
        }
      }
    }
  }, 120_000);

  it('a unit stored in two places sends the run back to grouping, and nothing of the first pass is counted', async () => {
    // p1's events are split by p2's: the first pass sees p1, p2, p1 and must discard p1's first outcome.
    await insertEvents(session, [
      ev('p1', '2024-01-01T00:00:00Z', 'a'),
      ev('p2', '2024-01-01T00:00:00Z', 'a'),
      ev('p2', '2024-01-01T02:00:00Z', 'b'),
      ev('p1', '2024-01-01T01:00:00Z', 'b'),
      ev('p3', '2024-01-01T01:00:00Z', 'a'),
    ]);
    const def = parseFunnelDefinition({ kind: 'funnel', name: 't', steps: ['a', 'b'], exclude: [] });
    const r = await evaluateFunnel(session, def, { timezone: 'UTC' });
    expect(r.stream).toBe('grouped');
    expect(r.result.steps.map((s) => s.count)).toEqual([3, 2]);
    expect(r.result.steps[1]!.median_seconds_from_previous).toBe(5400);
    expect(r.droppedAfter(1)).toEqual(['p3']);
    const grouped = await evaluateFunnel(session, def, { timezone: 'UTC', stream: 'grouped' });
    expect(grouped.result).toEqual(r.result);
  });

  it('a unit that comes back after the probed rows: the full pass notices, discards its counts and regroups', async () => {
    const { fillAnalysisEvents } = await import('../../bench/analysis-warehouse.js');
    // strict: every event is relevant, so the 30,000 stored rows outnumber the 20,000 the probe reads.
    await fillAnalysisEvents(session, 30_000);
    const def = parseFunnelDefinition({ kind: 'funnel', name: 't', steps: ['signup', 'create_project'], order: 'strict', window: '14d', exclude: [] });
    const before = await evaluateFunnel(session, def, { timezone: 'UTC' });
    expect(before.stream).toBe('stored-order');
    // Person u:0 comes back at the very end of the table, with an event before all of its others.
    await insertEvents(session, [ev('u:0', '2023-12-31T00:00:00Z', 'signup', { event_kind: 'custom' })]);
    const reference = await evaluateFunnel(session, def, { timezone: 'UTC', engine: 'state-machine' });
    const after = await evaluateFunnel(session, def, { timezone: 'UTC' });
    expect(after.stream).toBe('grouped');
    expect(after.result).toEqual(reference.result);
    expect(after.droppedAfter(1)).toEqual(reference.droppedAfter(1));
  }, 60_000);

  it('carries only the columns the definition needs; values stay bound parameters', () => {
    const def = (d: Record<string, unknown>) => parseFunnelDefinition({ kind: 'funnel', name: 'f', ...d });
    const plain = def({ steps: ['a', 'b'] });
    const sql = buildFunnelRowsQuery(plain, { timezone: 'UTC' }, unitFields(plain), false).sql;
    expect(sql).toMatch(/^SELECT hash\(unit_id\) AS h, CAST\(t_us AS DOUBLE\) AS t, step_mask AS s\nFROM/);
    expect(sql).not.toContain('ORDER BY');
    expect(sql).not.toContain('GROUP BY');
    const full = def({ steps: ['a', 'b'], exclusions: [{ event: 'x' }], date_range: { from: '2024-01-01', to: '2024-01-02' } });
    expect(buildFunnelRowsQuery(full, { timezone: 'UTC' }, unitFields(full), true).sql).toContain('exclusion_mask AS x, CAST(coalesce(in_range, FALSE) AS UTINYINT) AS r, unit_id');
    expect(storedOrderApplies(unitFields(def({ steps: ['a', 'b'], breakdown: 'device_type' })))).toBe(false);
    expect(storedOrderApplies(unitFields(def({ steps: ['a', 'a'] })))).toBe(false);
  });
});

describe('whole runs: exact cases the random data may miss', () => {
  it('simultaneous step-1 events: the breakdown comes from the lowest event id, not the stored order', async () => {
    await insertEvents(session, [
      ev('p', '2024-01-01T00:00:00Z', 'a', { event_id: '00000000-0000-4000-8000-000000000009', device_type: 'mobile' }),
      ev('p', '2024-01-01T00:00:00Z', 'a', { event_id: '00000000-0000-4000-8000-000000000002', device_type: 'tablet' }),
      ev('p', '2024-01-01T00:00:00Z', 'a', { event_id: 'f0000000-0000-4000-8000-000000000001', device_type: 'desktop' }),
      ev('p', '2024-01-01T01:00:00Z', 'b'),
    ]);
    for (const engine of ['auto', 'typed-machine', 'state-machine'] as const) {
      const def = parseFunnelDefinition({ kind: 'funnel', name: 't', steps: ['a', 'b'], breakdown: 'device_type' });
      const r = await evaluateFunnel(session, def, { timezone: 'UTC', engine });
      expect(r.result.breakdown?.map((g) => [g.value, g.steps[1]!.count]), engine).toEqual([['tablet', 1]]);
    }
  });

  it('runFunnel decodes unit ids only when the result lists them', async () => {
    await insertEvents(session, [ev('b', '2024-01-01T00:00:00Z', 'a'), ev('a', '2024-01-01T00:00:00Z', 'a'), ev('c', '2024-01-01T00:00:00Z', 'a'), ev('c', '2024-01-01T01:00:00Z', 'b')]);
    const def = parseFunnelDefinition({ kind: 'funnel', name: 't', steps: ['a', 'b'] });
    const bare = await runFunnel(session, def, { timezone: 'UTC', nextEvents: false });
    expect(bare.steps.map((s) => s.count)).toEqual([3, 1]);
    expect(bare.dropped).toBeUndefined();
    expect(bare.dropped_people).toBeUndefined();
    const listed = await runFunnel(session, def, { timezone: 'UTC', nextEvents: false, listDroppedAfter: 1 });
    expect(listed.dropped_people).toEqual({ after_step: 1, unit: 'person', ids: ['a', 'b'] });
    const full = await runFunnel(session, def, { timezone: 'UTC' });
    expect(full.dropped?.[0]).toMatchObject({ after_step: 1, count: 2, no_next_event: 2 });
  });

  it('an empty warehouse: every engine, zero counts and null rates', async () => {
    for (const engine of ['auto', 'typed-machine', 'state-machine'] as const) {
      const def = parseFunnelDefinition({ kind: 'funnel', name: 't', steps: ['a', 'b'] });
      const r = await evaluateFunnel(session, def, { timezone: 'UTC', engine });
      expect(r.result.steps.map((s) => [s.count, s.conversion_from_first])).toEqual([
        [0, null],
        [0, null],
      ]);
      expect(r.droppedAfter(1)).toEqual([]);
    }
  });
});

describe('SQL of the fast path', () => {
  const hostile = "x'); DROP TABLE events; --";
  const shape = (event: string, value: string) =>
    parseFunnelDefinition({
      kind: 'funnel',
      name: 'f',
      steps: [event, { event: 'pay', where: { 'properties.plan': value } }],
      exclusions: [{ event: `${event}-x` }],
      breakdown: 'device_type',
      date_range: { from: '2024-01-01', to: '2024-01-31' },
    });

  it('names and values are bound parameters: the statement text does not change', () => {
    const benign = shape('signup', 'pro');
    const evil = shape(hostile, hostile);
    const options = { timezone: 'UTC' };
    const units = [buildFunnelUnitsQuery(benign, options), buildFunnelUnitsQuery(evil, { timezone: `UTC'; ${hostile}` })];
    expect(units[1]!.sql).toBe(units[0]!.sql);
    expect(units[1]!.sql).not.toContain('DROP');
    expect(units[1]!.params).toContain(hostile);
    const bounds = { fromUs: 0, toUs: 1 };
    expect(buildNextEventsQuery(evil, 't', options, bounds).sql).toBe(buildNextEventsQuery(benign, 't', options, bounds).sql);
    expect(buildFunnelEventsQuery(evil, options).sql).toBe(buildFunnelEventsQuery(benign, options).sql);
  });

  it('a hostile step name is just a name: it matches exactly and the warehouse stays intact', async () => {
    await insertEvents(session, [ev('p1', '2024-01-01T00:00:00Z', hostile), ev('p1', '2024-01-01T01:00:00Z', 'pay'), ev('p2', '2024-01-01T00:00:00Z', 'x')]);
    const def = parseFunnelDefinition({ kind: 'funnel', name: 'f', steps: [hostile, 'pay'] });
    const r = await evaluateFunnel(session, def, { timezone: 'UTC' });
    expect(r.result.steps.map((s) => s.count)).toEqual([1, 1]);
    const [row] = await session.all<{ n: string | number }>('SELECT count(*) AS n FROM events');
    expect(Number(row!.n)).toBe(3);
  });

  it('carries the event id only where the order of simultaneous events can matter', () => {
    const f = (d: Record<string, unknown>) => unitFields(parseFunnelDefinition({ kind: 'funnel', name: 'f', ...d }));
    expect(f({ steps: ['a', 'b'] })).toEqual({ exclusions: false, inRange: false, breakdown: false, eventId: false });
    expect(f({ steps: ['a', 'b'], breakdown: 'device_type' }).eventId).toBe(true);
    expect(f({ steps: ['a', 'a'] }).eventId).toBe(true);
    expect(f({ steps: ['a', 'b'], exclusions: [{ event: 'x' }], date_range: { from: '2024-01-01', to: '2024-01-02' } })).toEqual({ exclusions: true, inRange: true, breakdown: false, eventId: false });
  });
});

describe('whole runs on volume', () => {
  it('200,000 generated events (large inputs take other plans)', async () => {
    const { fillAnalysisEvents } = await import('../../bench/analysis-warehouse.js');
    await fillAnalysisEvents(session, 200_000);
    for (const d of [
      { steps: ['signup', 'create_project', 'invite_teammate', 'upgrade'], window: '14d' },
      { steps: ['create_project', 'upgrade'], window: '3d', breakdown: 'device_type' },
      { steps: ['signup', 'create_project', 'upgrade'], window: '7d', exclusions: [{ event: 'delete_project', between: [2, 3] }] },
    ]) {
      const def = parseFunnelDefinition({ kind: 'funnel', name: 'volume', ...d });
      const reference = await evaluateFunnel(session, def, { timezone: 'UTC', engine: 'state-machine' });
      expect(reference.result.steps[1]!.count).toBeGreaterThan(0);
      for (const engine of ['auto', 'typed-machine'] as const) {
        const fast = await evaluateFunnel(session, def, { timezone: 'UTC', engine });
        // The generated warehouse is stored by person and time, like the benchmark's.
        expect(fast.stream, engine).toBe(def.breakdown == null ? 'stored-order' : 'grouped');
        expect(fast.result, engine).toEqual(reference.result);
        expect(fast.droppedAfter(1), engine).toEqual(reference.droppedAfter(1));
      }
    }
  }, 180_000);
});
