import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ev } from '../../test-support/analysis-events.js';
import { ENGINES, insertEvents, openEngineWarehouse, type TestSession } from '../../test-support/engine-warehouse.js';
import { UsageLabError } from '../../core/errors.js';
import { parseSegmentDefinition } from './segment-definition.js';
import { runSegment } from './segment-analysis.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof UsageLabError ? `${err.code}@${String(err.place.field)}` : 'not a UsageLabError';
  }
  return undefined;
}

describe.each(ENGINES)('segment on %s', (engine) => {
  let session: TestSession;
  beforeEach(async () => {
    session = await openEngineWarehouse(engine);
  });
  afterEach(() => session.close());

  async function members(def: Record<string, unknown>, timezone = 'UTC'): Promise<string[]> {
    const r = await runSegment(session, parseSegmentDefinition({ kind: 'segment', name: 's', ...def }), { timezone, listPeople: 100 });
    return r.person_ids ?? [];
  }

  describe(`segment: behaviour (${engine})`, () => {
    beforeEach(async () => {
      await insertEvents(session, [
        ev('a', '2024-01-01T10:00:00Z', 'export', { properties: { format: 'csv' } }),
        ev('a', '2024-01-02T10:00:00Z', 'export', { properties: { format: 'pdf' } }),
        ev('a', '2024-01-03T10:00:00Z', 'export', { properties: { format: 'csv' } }),
        ev('b', '2024-01-01T10:00:00Z', 'export', { properties: { format: 'csv' } }),
        ev('b', '2024-01-05T10:00:00Z', 'invite'),
        ev('c', '2024-02-01T10:00:00Z', 'signup'),
      ]);
    });

    it('did at_least / at_most, with filters and a period', async () => {
      expect(await members({ did: ['export'] })).toEqual(['a', 'b']);
      expect(await members({ did: [{ event: 'export', at_least: 3 }] })).toEqual(['a']);
      expect(await members({ did: [{ event: 'export', at_least: 1, at_most: 1 }] })).toEqual(['b']);
      expect(await members({ did: [{ event: 'export', at_least: 2, where: { 'properties.format': 'csv' } }] })).toEqual(['a']);
      expect(await members({ did: [{ event: 'export', at_least: 2, date_range: { from: '2024-01-02', to: '2024-01-03' } }] })).toEqual(['a']);
    });

    it('did_not, and all conditions must hold', async () => {
      expect(await members({ did: ['export'], did_not: ['invite'] })).toEqual(['a']);
      expect(await members({ did_not: ['export'] })).toEqual(['c']);
    });

    it('first_seen: the person’s first event in local days', async () => {
      expect(await members({ first_seen: { from: '2024-01-01', to: '2024-01-31' } })).toEqual(['a', 'b']);
      // 04:59:59Z on Feb 1 is 23:59:59 on Jan 31 in New York (UTC−5): the local day decides.
      await insertEvents(session, [ev('d', '2024-02-01T04:59:59Z', 'signup')]);
      expect(await members({ first_seen: { from: '2024-01-31', to: '2024-01-31' } }, 'America/New_York')).toEqual(['d']);
      expect(await members({ first_seen: { from: '2024-01-31', to: '2024-01-31' } }, 'UTC')).toEqual([]);
    });

    it('counts people and their share of everyone', async () => {
      const r = await runSegment(session, parseSegmentDefinition({ kind: 'segment', name: 'exporters', did: ['export'] }), { timezone: 'UTC' });
      expect(r).toMatchObject({ kind: 'segment', version: 1, name: 'exporters', people: 2, all_people: 3 });
      expect(r.share_of_people).toBeCloseTo(2 / 3, 12);
      expect(r.person_ids).toBeUndefined();
    });
  });

  describe(`segment: properties, latest known value (${engine})`, () => {
    it('uses the latest non-empty value of each field; older values and missing ones do not count', async () => {
      await insertEvents(session, [
        ev('a', '2024-01-01T00:00:00Z', 'x', { user_properties: { plan: 'free' } }),
        ev('a', '2024-01-02T00:00:00Z', 'x', { user_properties: { plan: 'pro' } }),
        ev('a', '2024-01-03T00:00:00Z', 'x'),
        ev('b', '2024-01-01T00:00:00Z', 'x', { user_properties: { plan: 'pro', seats: 5 } }),
        ev('b', '2024-01-02T00:00:00Z', 'x', { user_properties: { plan: 'free', seats: '5' } }),
        ev('c', '2024-01-01T00:00:00Z', 'x', { country: 'NL' }),
      ]);
      expect(await members({ properties: { 'user_properties.plan': 'pro' } })).toEqual(['a']);
      expect(await members({ properties: { 'user_properties.plan': ['pro', 'free'] } })).toEqual(['a', 'b']);
      expect(await members({ properties: { 'user_properties.seats': 5 } })).toEqual(['b']);
      expect(await members({ properties: { country: 'NL' } })).toEqual(['c']);
      expect(await members({ properties: { country: null } })).toEqual(['a', 'b']);
    });

    it('hostile names and values are values, not SQL', async () => {
      await insertEvents(session, [ev('a', '2024-01-01T00:00:00Z', "x'); DROP TABLE events; --")]);
      expect(await members({ did: ["x'); DROP TABLE events; --"], properties: { "user_properties.a'\"": "'; DROP TABLE events; --" } })).toEqual([]);
      expect(await members({ did: ["x'); DROP TABLE events; --"] })).toEqual(['a']);
    });
  });
});

describe('segment: validation codes', () => {
  const p = (def: Record<string, unknown>) => () => parseSegmentDefinition({ kind: 'segment', name: 's', ...def });
  it.each([
    [{}, 'segment_empty@name'],
    [{ properties: { nope: 1 } }, 'segment_field_unknown@properties.nope'],
    [{ did: [{ event: '' }] }, 'segment_event_missing@did.0.event'],
    [{ did: [{ event: 'x', at_least: 3, at_most: 2 }] }, 'segment_count_range@did.0.at_most'],
    [{ did: [{ event: 'x', at_least: 0 }] }, 'segment_invalid@did.0.at_least'],
    [{ first_seen: { from: '2024-02-30', to: '2024-03-01' } }, 'segment_date_range_invalid@first_seen.from'],
    [{ did: ['x'], extra: 1 }, 'segment_invalid@extra'],
  ])('%j → %s', (def, expected) => {
    expect(code(p(def))).toBe(expected);
  });
});
