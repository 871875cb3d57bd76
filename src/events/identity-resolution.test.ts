import { describe, expect, it } from 'vitest';
import { resolveIdentities, type IdentityLink } from './identity-resolution.js';

const link = (anonymousId: string, userId: string | null, t: number, other: string | null = null, source = 'amplitude'): IdentityLink => ({
  source,
  anonymousId,
  userId,
  otherAnonymousId: other,
  linkedAt: t,
});

function persons(links: IdentityLink[]): Record<string, string> {
  return Object.fromEntries(resolveIdentities(links).personOfAnonymous);
}

describe('identity resolution', () => {
  it('joins every device of a user into that user', () => {
    expect(persons([link('d1', 'alice', 1), link('d2', 'alice', 2)])).toEqual({
      'a:amplitude:d1': 'u:alice',
      'a:amplitude:d2': 'u:alice',
    });
  });

  it('never merges two different user ids: a shared device stays with the first user', () => {
    const r = resolveIdentities([link('shared', 'bob', 5), link('shared', 'alice', 1)]);
    expect(Object.fromEntries(r.personOfAnonymous)).toEqual({ 'a:amplitude:shared': 'u:alice' });
    expect(r.conflicts).toBe(1);
  });

  it('does not merge users through a chain of anonymous links', () => {
    // d1 ~ alice, d2 ~ bob, then a migration d1 → d2 would join alice and bob: refused.
    const r = resolveIdentities([link('d1', 'alice', 1), link('d2', 'bob', 2), link('d1', null, 3, 'd2')]);
    expect(Object.fromEntries(r.personOfAnonymous)).toEqual({ 'a:amplitude:d1': 'u:alice', 'a:amplitude:d2': 'u:bob' });
    expect(r.conflicts).toBe(1);
  });

  it('anonymous-only components get their smallest anonymous id, whatever the order', () => {
    const a = persons([link('z9', null, 1, 'b2'), link('b2', null, 2, 'k5')]);
    const b = persons([link('b2', null, 2, 'k5'), link('z9', null, 1, 'b2')]);
    expect(a).toEqual(b);
    expect(new Set(Object.values(a))).toEqual(new Set(['a:amplitude:b2']));
  });

  it('scopes anonymous ids by source: the same device id in two tools is two nodes', () => {
    const r = persons([link('d1', 'alice', 1, null, 'amplitude'), link('d1', 'bob', 2, null, 'mixpanel')]);
    expect(r).toEqual({ 'a:amplitude:d1': 'u:alice', 'a:mixpanel:d1': 'u:bob' });
  });

  it('resolves a migration chain to the identified user', () => {
    const r = persons([link('h1', null, 1, 'h2'), link('h2', null, 2, 'h3'), link('h3', 'carol', 3)]);
    expect(r).toEqual({ 'a:amplitude:h1': 'u:carol', 'a:amplitude:h2': 'u:carol', 'a:amplitude:h3': 'u:carol' });
  });
});
