/**
 * Differential test: the ASOF-join query and the state machine must give identical results wherever the ASOF path
 * applies. Random event sets (seeded) with many ties, repeats and window edges.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ev, insertEvents, openTestWarehouse, type TestEvent } from '../../test-support/analysis-events.js';
import { evaluateFunnel } from './funnel-analysis.js';
import { asofFunnelApplies } from './funnel-asof-query.js';
import { parseFunnelDefinition } from './funnel-definition.js';

let session: Awaited<ReturnType<typeof openTestWarehouse>>;
beforeEach(async () => {
  session = await openTestWarehouse();
});
afterEach(() => session.close());

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

function randomEvents(seed: number): TestEvent[] {
  const r = rng(seed);
  const names = ['a', 'b', 'c', 'd', 'x'];
  const out: TestEvent[] = [];
  for (let p = 0; p < 40; p++) {
    const n = Math.floor(r() * 12);
    for (let i = 0; i < n; i++) {
      // Coarse times (whole hours over 4 days) so that ties and window edges are common.
      const hour = Math.floor(r() * 96);
      out.push(ev(`p${p}`, new Date(Date.UTC(2024, 0, 1, hour)).toISOString(), names[Math.floor(r() * names.length)]!, {
        session_id: `p${p}-s${Math.floor(hour / 30)}`,
        device_type: r() < 0.5 ? 'mobile' : 'desktop',
      }));
    }
  }
  return out;
}

describe('funnel engines agree', () => {
  const definitions = [
    { steps: ['a', 'b'], window: '1d' },
    { steps: ['a', 'b', 'c', 'd'], window: '2d' },
    { steps: ['b', 'a', 'c'], window: '30h', breakdown: 'device_type' },
    { steps: ['a', 'b', 'c'], window: '3d', unit: 'session' },
    { steps: ['a', 'b', 'c'], window: '1d', attempts: 'first' },
    { steps: ['a', { event: 'b', where: { device_type: 'mobile' } }, 'c'], window: '2d', date_range: { from: '2024-01-02', to: '2024-01-03' } },
  ];

  it.each(definitions.map((d, i) => [i, d] as const))('definition %i on 8 random data sets', async (_i, d) => {
    const def = parseFunnelDefinition({ kind: 'funnel', name: 'diff', ...d });
    expect(asofFunnelApplies(def)).toBe(true);
    for (let seed = 1; seed <= 8; seed++) {
      await session.run('DELETE FROM events');
      await insertEvents(session, randomEvents(seed * 7919));
      const fast = await evaluateFunnel(session, def, { timezone: 'UTC' });
      const reference = await evaluateFunnel(session, def, { timezone: 'UTC', engine: 'state-machine' });
      expect(fast.result, `seed ${seed}`).toEqual(reference.result);
      for (let k = 1; k < def.steps.length; k++) expect(fast.droppedAfter(k)).toEqual(reference.droppedAfter(k));
    }
  });

  it('the ASOF path is used only where it is exact', () => {
    const p = (d: Record<string, unknown>) => asofFunnelApplies(parseFunnelDefinition({ kind: 'funnel', name: 'f', ...d }));
    expect(p({ steps: ['a', 'b'] })).toBe(true);
    expect(p({ steps: ['a', 'a'] })).toBe(false);
    expect(p({ steps: ['a', 'b'], order: 'strict' })).toBe(false);
    expect(p({ steps: ['a', 'b'], order: 'unordered' })).toBe(false);
    expect(p({ steps: ['a', 'b'], exclusions: [{ event: 'x' }] })).toBe(false);
  });
});

describe('funnel engines agree on volume', () => {
  it('200,000 generated events (large inputs take other join plans)', async () => {
    const { fillAnalysisEvents } = await import('../../bench/analysis-warehouse.js');
    await fillAnalysisEvents(session, 200_000);
    for (const d of [{ steps: ['signup', 'create_project', 'invite_teammate', 'upgrade'], window: '14d' }, { steps: ['create_project', 'upgrade'], window: '3d', breakdown: 'device_type' }]) {
      const def = parseFunnelDefinition({ kind: 'funnel', name: 'volume', ...d });
      const fast = await evaluateFunnel(session, def, { timezone: 'UTC', nextEvents: false });
      const reference = await evaluateFunnel(session, def, { timezone: 'UTC', nextEvents: false, engine: 'state-machine' });
      expect(fast.result).toEqual(reference.result);
      expect(fast.result.steps[1]!.count).toBeGreaterThan(0);
    }
  }, 120_000);
});
