/**
 * Id shapes as each tool mints them (UUID v4/v7, GA client ids, 64-bit integers), drawn from the seeded PRNG.
 */
import type { Rng } from './random.js';

/** 2^53: ids at or above it cannot be held exactly by a JS number, which is the point of minting some. */
export const TWO_POW_53 = 9_007_199_254_740_992n;

const VARIANT = ['8', '9', 'a', 'b'] as const;

export function uuidV4(rng: Rng): string {
  const h = rng.hex(30);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(12, 15)}-${VARIANT[rng.u32() & 3]}${h.slice(15, 18)}-${h.slice(18, 30)}`;
}

const HEX2 = Array.from({ length: 256 }, (_v, i) => i.toString(16).padStart(2, '0'));

/** The 48-bit millisecond time as 12 hex digits (per-event hot path: no toString/padStart). */
function hex48(t: number): string {
  const ms = Math.floor(t);
  const hi = Math.floor(ms / 0x1000000);
  const lo = ms % 0x1000000;
  return HEX2[(hi >>> 16) & 255]! + HEX2[(hi >>> 8) & 255]! + HEX2[hi & 255]! + HEX2[lo >>> 16]! + HEX2[(lo >>> 8) & 255]! + HEX2[lo & 255]!;
}

/** UUID v7: the first 48 bits are the epoch-ms time (PostHog session and device ids look like this). */
export function uuidV7(rng: Rng, t: number): string {
  const ts = hex48(t);
  const h = rng.hex(18);
  return `${ts.slice(0, 8)}-${ts.slice(8, 12)}-7${h.slice(0, 3)}-${VARIANT[rng.u32() & 3]}${h.slice(3, 6)}-${h.slice(6, 18)}`;
}

/**
 * A 64-bit id as a tool with random int64 ids mints it. About half land above 2^53, so exactness is exercised
 * everywhere such ids travel.
 */
export function int64Id(rng: Rng): bigint {
  return rng.chance(0.5) ? rng.bigint(1_000_000_000_000_000n, TWO_POW_53) : rng.bigint(TWO_POW_53, 9_223_372_036_854_775_807n);
}

/** GA4 user_pseudo_id: "<random 9-10 digits>.<first visit, epoch seconds>". */
export function gaClientId(rng: Rng, firstSeen: number): string {
  return `${rng.int(100_000_000, 2_147_483_647)}.${Math.floor(firstSeen / 1000)}`;
}

/** Mixpanel JS device id: hex parts joined by "-", the first and last the first-seen time in hex. */
export function mixpanelWebDeviceId(rng: Rng, firstSeen: number): string {
  const t = Math.floor(firstSeen).toString(16);
  return `${t}${rng.hex(1)}-0${rng.hex(13)}-${rng.hex(8)}-${rng.hex(6)}-${t}${rng.hex(1)}`;
}
