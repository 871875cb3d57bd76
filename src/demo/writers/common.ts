/**
 * Small pieces several writers share: documentation-range IP addresses, device labels, and the UTC-day bucket
 * key most exports are cut by.
 */
import { DAY_MS, dayStart, utcDate } from '../clock.js';
import type { Device, Person } from '../model.js';

/** An address from the RFC 5737 documentation ranges, stable per person. */
export function ipFor(person: Person): string {
  const nets = ['192.0.2', '198.51.100', '203.0.113'];
  return `${nets[person.idx % 3]}.${(person.idx % 253) + 1}`;
}

export function isMobile(device: Device): boolean {
  return device.kind !== 'desktop';
}

/** "Desktop" / "Mobile", the capitalised labels FullStory, PostHog and Heap use. */
export function deviceLabel(device: Device): 'Desktop' | 'Mobile' {
  return isMobile(device) ? 'Mobile' : 'Desktop';
}

export function fullName(person: Person): string {
  return `${person.firstName} ${person.lastName}`;
}

export interface DayKey {
  readonly key: string;
  readonly end: number;
}

export function utcDay(t: number): DayKey {
  return { key: utcDate(t), end: dayStart(t) + DAY_MS };
}

/** JSON member texts (`"name":value,…`) joined, leaving out empty ones (all a masker dropped). */
export function joinMembers(...parts: string[]): string {
  let out = '';
  for (const part of parts) if (part !== '') out = out === '' ? part : `${out},${part}`;
  return out;
}
