/**
 * Small pieces several writers share: documentation-range IP addresses, device labels, the UTC-day bucket key most
 * exports are cut by, and masking records member by member as they are built.
 */
import type { Tool } from '../catalog.js';
import { DAY_MS, dayStart, utcDate } from '../clock.js';
import type { Device, Person } from '../model.js';
import type { DemoRecordMasker } from '../record-masking.js';

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

/**
 * How a writer masks the records it builds (record-masking.ts `members`): each fragment member by member, so that
 * what repeats across events is masked once; or, when the policy replaces the field whose children the writer
 * masks (`properties: drop` makes it null), whole lines. Without a masker, members are written as they are.
 */
export class MemberMasking {
  /** The masker used member by member; undefined when not masking or masking whole lines. */
  readonly masker: DemoRecordMasker | undefined;
  /** The mask for whole lines (RollingGzipFiles), when the writer cannot mask member by member. */
  readonly lineMask: ((line: string) => string) | undefined;

  constructor(
    private readonly tool: Tool,
    masker: DemoRecordMasker | undefined,
    /** The field whose children the writer masks in pieces (PostHog's and Mixpanel's `properties`). */
    private readonly field?: string,
  ) {
    const byMember = masker !== undefined && (field === undefined || masker.childMembers(tool, 'events', field, {}) !== undefined);
    this.masker = byMember ? masker : undefined;
    this.lineMask = masker === undefined || byMember ? undefined : (line) => masker.line(tool, 'events', line);
  }

  /** Top-level members as JSON text (no braces), masked when masking member by member. */
  members(members: Record<string, unknown>): string {
    return this.masker === undefined ? JSON.stringify(members).slice(1, -1) : this.masker.members(this.tool, 'events', members);
  }

  /** Children of the writer's field as JSON text (no braces), masked when masking member by member. */
  children(members: Record<string, unknown>): string {
    return this.masker === undefined ? JSON.stringify(members).slice(1, -1) : this.masker.childMembers(this.tool, 'events', this.field!, members)!;
  }
}

/** Masked member texts remembered by the text they were made from (fragments repeat per page and element). */
export class TextMemo {
  private readonly map = new Map<string, string>();

  /** Remembers at most `limit` texts; then it starts again. */
  constructor(private readonly limit: number) {}

  /** The remembered result for `text`, or `make`'s (remembered unless undefined). */
  get<T extends string | undefined>(text: string, make: () => T): T {
    const hit = this.map.get(text);
    if (hit !== undefined) return hit as T;
    const made = make();
    if (made !== undefined) {
      if (this.map.size >= this.limit) this.map.clear();
      this.map.set(text, made);
    }
    return made;
  }
}
