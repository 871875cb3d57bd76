/**
 * PII the demo plants in free-text event properties, so that its masking has something to find: e-mail addresses,
 * phone numbers (international and national), IPv4 and IPv6 addresses, Luhn-valid card numbers, links carrying
 * `?email=…&token=…`, and JWTs. The values come from a pool drawn from the seed, and which events carry one from a
 * random stream of their own (per visit), so the rest of the demo — people, visits, events, the planted
 * behaviours — is the same with or without them. A test regenerates the pool from the seed and checks that none
 * of it reaches exports/ or the warehouse (src/library/run-demo.test.ts; docs/governance.md).
 *
 * The properties go on custom events (every tool but Heap and FullStory, whose demo files hold none, keeps them)
 * and on FullStory's form inputs; their names are ones no PII member rule names, so the scanners, not the rules,
 * must catch the values. Heap gets none: its demo tables have no free-text property.
 */
import { Rng } from './random.js';
import type { Tool } from './catalog.js';
import type { SimEvent } from './model.js';

export type PlantedKind = 'email' | 'phone_international' | 'phone_national' | 'ipv4' | 'ipv6' | 'card' | 'url_params' | 'jwt';

export const PLANTED_KINDS: readonly PlantedKind[] = ['email', 'phone_international', 'phone_national', 'ipv4', 'ipv6', 'card', 'url_params', 'jwt'];

export interface PlantedValue {
  readonly kind: PlantedKind;
  /** The property that carries it. */
  readonly property: string;
  /** The property's text. */
  readonly text: string;
  /** The personal data in the text: what must never appear in exports/ or the warehouse. */
  readonly secrets: readonly string[];
}

/** Values per kind in the pool. */
export const POOL_PER_KIND = 40;
/** Share of custom events that carry a planted value. */
export const PLANT_RATE = 0.06;
const POOL_STREAM = 7_000_000;
/** Plus the visit's sequence number (visits stay far below a million). */
const VISIT_STREAM = 7_000_001;

const FIRST = ['maria', 'jonas', 'aiko', 'tomas', 'leila', 'priya', 'omar', 'sofia', 'lucas', 'nina'];
const LAST = ['lopez', 'berg', 'tanaka', 'novak', 'haddad', 'iyer', 'farah', 'rossi', 'moreau', 'keller'];
const MAIL_DOMAINS = ['mailbox.example', 'example.org', 'inbox.example.net'];

function digits(rng: Rng, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += String(rng.int(0, 9));
  return out;
}

/** A 16-digit Visa-like number with a valid Luhn check digit, printed in groups of four. */
function luhnCard(rng: Rng): string {
  const body = `4${digits(rng, 14)}`;
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    // Doubling starts from the digit left of the check digit.
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  const all = body + String((10 - (sum % 10)) % 10);
  return all.replace(/(\d{4})(?=\d)/g, '$1 ');
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

function email(rng: Rng): string {
  return `${rng.pick(FIRST)}.${rng.pick(LAST)}${rng.int(10, 99)}@${rng.pick(MAIL_DOMAINS)}`;
}

function plant(kind: PlantedKind, rng: Rng): PlantedValue {
  switch (kind) {
    case 'email': {
      const e = email(rng);
      return { kind, property: 'comment', text: `Please add ${e} to the workspace`, secrets: [e] };
    }
    case 'phone_international': {
      const p = rng.chance(0.5) ? `+44 20 7946 0${digits(rng, 3)}` : `+1 415 555 01${digits(rng, 2)}`;
      return { kind, property: 'support_note', text: `Call me back on ${p} after 3pm`, secrets: [p] };
    }
    case 'phone_national': {
      const p = rng.chance(0.5) ? `020 7946 0${digits(rng, 3)}` : `(415) 555-01${digits(rng, 2)}`;
      return { kind, property: 'support_note', text: `My number is ${p}, thanks`, secrets: [p] };
    }
    case 'ipv4': {
      // Not the documentation ranges the demo gives its people (writers/common.ts ipFor).
      const ip = `77.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
      return { kind, property: 'support_note', text: `Sync fails from office IP ${ip} since Monday`, secrets: [ip] };
    }
    case 'ipv6': {
      const ip = `2001:db8:${rng.hex(4)}:${rng.hex(4)}::${rng.hex(3)}1`;
      return { kind, property: 'support_note', text: `Our VPN exits at ${ip} - please allow it`, secrets: [ip] };
    }
    case 'card': {
      const card = luhnCard(rng);
      return { kind, property: 'billing_form_input', text: card, secrets: [card, card.replace(/ /g, '')] };
    }
    case 'url_params': {
      const e = email(rng);
      const token = rng.hex(32);
      return { kind, property: 'shared_link', text: `https://app.acmeboards.com/invite/accept?email=${e}&token=${token}`, secrets: [e, token] };
    }
    case 'jwt': {
      const payload = base64url(JSON.stringify({ sub: `usr_${rng.hex(12)}`, iat: 1_780_000_000 + rng.int(0, 9_999_999) }));
      const jwt = `${base64url('{"alg":"HS256","typ":"JWT"}')}.${payload}.${base64url(rng.hex(32))}`;
      return { kind, property: 'shared_link', text: `https://app.acmeboards.com/share/${jwt}`, secrets: [jwt] };
    }
  }
}

/** The pool of planted values for a seed: POOL_PER_KIND of each kind, kinds interleaved. */
export function plantedPiiPool(seed: number): PlantedValue[] {
  const rng = new Rng(seed, POOL_STREAM);
  const pool: PlantedValue[] = [];
  for (let i = 0; i < POOL_PER_KIND; i++) for (const kind of PLANTED_KINDS) pool.push(plant(kind, rng));
  return pool;
}

const pools = new Map<number, PlantedValue[]>();

/** Adds a planted value to some of a visit's custom events, from the visit's own random stream. */
export class PiiPlanter {
  private readonly rng: Rng;
  private readonly pool: PlantedValue[];

  constructor(seed: number, visitSeq: number) {
    this.rng = new Rng(seed, VISIT_STREAM + visitSeq);
    let pool = pools.get(seed);
    if (pool === undefined) pools.set(seed, (pool = plantedPiiPool(seed)));
    this.pool = pool;
  }

  /**
   * The event, or a copy with one planted property: custom events for every tool; form inputs for FullStory too,
   * whose change events then carry the typed value as an event variable (its demo files hold no custom events).
   */
  plant(ev: SimEvent, tool: Tool): SimEvent {
    const eligible = ev.kind === 'custom' ? ev.name !== undefined && !ev.name.startsWith('$') : ev.kind === 'input' && tool === 'fullstory';
    if (!eligible || !this.rng.chance(PLANT_RATE)) return ev;
    const v = this.rng.pick(this.pool);
    return { ...ev, props: { ...ev.props, [v.property]: v.text } };
  }
}
