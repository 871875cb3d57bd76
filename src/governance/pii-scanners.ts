/**
 * The scanners: an ordered list of detectors, each a pattern (pii-patterns.ts), an optional validator
 * (pii-validators.ts) and the mask that replaces what it finds. Masking applies them one after another, each to
 * the output of the one before, so an earlier detector wins where two would overlap (a URL parameter named email
 * before the e-mail pattern, a card number before the phone patterns). The TypeScript scanner (here) and the SQL
 * masker (pii-sql.ts) walk this same list.
 */
import type { PiiConfig } from '../core/config-schema.js';
import { maskOf, type FindingKind, type PiiKind } from './pii-kinds.js';
import { GATES, PATTERNS } from './pii-patterns.js';
import {
  cardValidator,
  digitCountValidator,
  internationalPhoneValidator,
  ipv4Validator,
  ipv6Validator,
  notUuid,
  type Validator,
} from './pii-validators.js';

export interface Detector {
  /** Stable id, e.g. "email", "phone_nanp", "custom:order_ref". */
  readonly id: string;
  readonly kind: FindingKind;
  readonly pattern: string;
  readonly ignoreCase: boolean;
  /** Group 1 of the pattern (e.g. "token=", "Bearer ") stays in front of the mask. */
  readonly keepsPrefix: boolean;
  readonly mask: string;
  readonly validator?: Validator;
  /**
   * Literals of which the text must hold at least one for the pattern to match (case-insensitively when
   * ignoreCase): a cheap test that spares the regular expression most texts (a JSON document rarely holds `=`).
   */
  readonly needs?: readonly string[];
  /**
   * A pattern matching wherever a finding the validator accepts starts (pii-patterns.ts GATES): tested instead of
   * the pattern to decide whether a text needs the detector at all. Without it, the pattern is the gate.
   */
  readonly gate?: string;
  /**
   * A test every text holding a finding passes, cheaper than any regular expression (TypeScript scanner only; the
   * SQL masker has `needs`): e.g. IPv6's "::" or seven colons, which timestamps and URLs never hold.
   */
  readonly holds?: (text: string) => boolean;
}

/** "::" or seven colons: what every IPv6 address the validator accepts holds (pii-patterns.ts VALID.ipv6Any). */
export function mayHoldIpv6(text: string): boolean {
  if (text.includes('::')) return true;
  let colons = 0;
  for (let i = text.indexOf(':'); i >= 0; i = text.indexOf(':', i + 1)) if (++colons >= 7) return true;
  return false;
}

interface BuiltIn extends Omit<Detector, 'mask' | 'kind'> {
  readonly kind: PiiKind;
  readonly mask?: string;
}

const builtIn = (d: BuiltIn): BuiltIn => d;

/** In masking order. */
export const BUILT_IN_DETECTORS: readonly BuiltIn[] = [
  builtIn({ id: 'url_userinfo', kind: 'secret', pattern: PATTERNS.userinfo, ignoreCase: true, keepsPrefix: true, mask: '[secret]@', needs: ['@'] }),
  builtIn({ id: 'param_email', kind: 'email', pattern: PATTERNS.paramEmail, ignoreCase: true, keepsPrefix: true, needs: ['='] }),
  builtIn({ id: 'param_phone', kind: 'phone', pattern: PATTERNS.paramPhone, ignoreCase: true, keepsPrefix: true, needs: ['='] }),
  builtIn({ id: 'param_token', kind: 'token', pattern: PATTERNS.paramToken, ignoreCase: true, keepsPrefix: true, needs: ['='] }),
  builtIn({ id: 'param_secret', kind: 'secret', pattern: PATTERNS.paramSecret, ignoreCase: true, keepsPrefix: true, needs: ['='] }),
  builtIn({ id: 'jwt', kind: 'token', pattern: PATTERNS.jwt, ignoreCase: false, keepsPrefix: false, needs: ['eyJ'] }),
  builtIn({ id: 'bearer', kind: 'token', pattern: PATTERNS.bearer, ignoreCase: true, keepsPrefix: true, needs: ['bearer'] }),
  builtIn({ id: 'api_key', kind: 'token', pattern: PATTERNS.apiKey, ignoreCase: false, keepsPrefix: false }),
  builtIn({ id: 'email', kind: 'email', pattern: PATTERNS.email, ignoreCase: false, keepsPrefix: false, needs: ['@', '%40'] }),
  builtIn({ id: 'card', kind: 'card', pattern: PATTERNS.card, ignoreCase: false, keepsPrefix: false, validator: cardValidator, gate: GATES.card }),
  builtIn({ id: 'ipv6', kind: 'ip', pattern: PATTERNS.ipv6, ignoreCase: false, keepsPrefix: false, validator: ipv6Validator, needs: [':'], gate: GATES.ipv6, holds: mayHoldIpv6 }),
  builtIn({ id: 'ipv4', kind: 'ip', pattern: PATTERNS.ipv4, ignoreCase: false, keepsPrefix: false, validator: ipv4Validator, needs: ['.'], gate: GATES.ipv4 }),
  builtIn({ id: 'phone_tel', kind: 'phone', pattern: PATTERNS.phoneTel, ignoreCase: true, keepsPrefix: true, validator: digitCountValidator(7, 15), needs: ['tel:'] }),
  builtIn({ id: 'phone_international', kind: 'phone', pattern: PATTERNS.phoneIntl, ignoreCase: false, keepsPrefix: false, validator: internationalPhoneValidator, needs: ['+'] }),
  builtIn({ id: 'phone_00', kind: 'phone', pattern: PATTERNS.phone00, ignoreCase: false, keepsPrefix: false, validator: notUuid(digitCountValidator(10, 17)), needs: ['00'], gate: GATES.phone00 }),
  builtIn({ id: 'phone_nanp', kind: 'phone', pattern: PATTERNS.phoneNanp, ignoreCase: false, keepsPrefix: false }),
  builtIn({ id: 'phone_national', kind: 'phone', pattern: PATTERNS.phoneNational, ignoreCase: false, keepsPrefix: false, validator: notUuid(digitCountValidator(9, 12)), gate: GATES.phoneNational }),
  builtIn({ id: 'phone_national_paren', kind: 'phone', pattern: PATTERNS.phoneNationalParen, ignoreCase: false, keepsPrefix: false, validator: digitCountValidator(9, 12) }),
];

/** What the scanners of a policy look for: the detectors in order, and the allow-list of found values to keep. */
export interface Scanners {
  readonly detectors: readonly Detector[];
  /** Full-match patterns: a found value matching one of them is kept. Empty: nothing is kept. */
  readonly keep: readonly string[];
}

/**
 * The scanners a config asks for: the team's own patterns first (what the team knows beats what usagelab guesses),
 * then the built-in detectors of the enabled kinds.
 */
export function scannersFrom(pii: Pick<PiiConfig, 'scan' | 'keep'>): Scanners {
  const kinds = new Set<PiiKind>(pii.scan.kinds);
  const custom: Detector[] = pii.scan.custom.map((c) => ({
    id: `custom:${c.name}`,
    kind: `custom:${c.name}` as const,
    pattern: c.pattern,
    ignoreCase: c.ignore_case,
    keepsPrefix: false,
    mask: maskOf(`custom:${c.name}`),
  }));
  const builtIns: Detector[] = BUILT_IN_DETECTORS.filter((d) => kinds.has(d.kind)).map((d) => ({ ...d, mask: d.mask ?? maskOf(d.kind) }));
  return { detectors: [...custom, ...builtIns], keep: pii.keep };
}

export const DEFAULT_SCANNERS: Scanners = scannersFrom({
  scan: { kinds: ['email', 'phone', 'card', 'ip', 'token', 'secret'], custom: [] },
  keep: [],
});

/** One value a detector found: what kind, and the found text itself (for tests; never printed by usagelab). */
export interface Finding {
  readonly kind: FindingKind;
  readonly detector: string;
  readonly value: string;
}

interface Compiled {
  readonly detector: Detector;
  readonly re: RegExp;
  /** The gate (or the pattern itself): whether the text needs the detector at all. */
  readonly test: RegExp;
}

const compiledCache = new WeakMap<Scanners, { list: Compiled[]; keep: RegExp | undefined }>();

function compiled(scanners: Scanners): { list: Compiled[]; keep: RegExp | undefined } {
  let c = compiledCache.get(scanners);
  if (c === undefined) {
    c = {
      list: scanners.detectors.map((d) => {
        const re = new RegExp(d.pattern, d.ignoreCase ? 'giu' : 'gu');
        return { detector: d, re, test: d.gate === undefined ? re : new RegExp(d.gate, d.ignoreCase ? 'iu' : 'u') };
      }),
      keep: scanners.keep.length === 0 ? undefined : new RegExp(`^(?:${scanners.keep.map((k) => `(?:${k})`).join('|')})$`, 'u'),
    };
    compiledCache.set(scanners, c);
  }
  return c;
}

/** A text's lower-case form, made the first time a case-insensitive detector needs it (most texts never do). */
interface Lowered {
  lower?: string;
}

/**
 * Whether the detector may find something in `text`: its literals (`needs`) and its gate both occur in it. Written
 * without closures: the demo's generator asks this of every id and timestamp it writes (mayHoldFindings), and a
 * closure per detector per call was most of the cost.
 */
function mayFind({ detector, test }: Compiled, text: string, lowered: Lowered): boolean {
  if (detector.needs !== undefined) {
    const haystack = detector.ignoreCase ? (lowered.lower ??= text.toLowerCase()) : text;
    let any = false;
    for (const n of detector.needs) {
      if (haystack.includes(n)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  if (detector.holds !== undefined && !detector.holds(text)) return false;
  test.lastIndex = 0;
  return test.test(text);
}

/** Whether any detector may find something in `text`; when none may, scanText returns it unchanged. */
export function mayHoldFindings(text: string, scanners: Scanners): boolean {
  const lowered: Lowered = {};
  for (const c of compiled(scanners).list) if (mayFind(c, text, lowered)) return true;
  return false;
}

/**
 * Replaces everything the scanners find with its mask and reports each finding. A candidate a validator rejects,
 * or that the keep list allows, stays as it is, and scanning resumes after it (it is not searched again for a
 * shorter match) — the SQL masker does exactly the same.
 */
export function scanText(text: string, scanners: Scanners, onFinding?: (f: Finding) => void): string {
  let out = text;
  const { list, keep } = compiled(scanners);
  let lowered: Lowered = {};
  for (const c of list) {
    const { detector, re } = c;
    if (!mayFind(c, out, lowered)) continue;
    re.lastIndex = 0;
    out = out.replace(re, (match: string, ...rest: unknown[]) => {
      const prefix = detector.keepsPrefix && typeof rest[0] === 'string' ? rest[0] : '';
      const value = match.slice(prefix.length);
      if (detector.validator !== undefined && !detector.validator.ts(value)) return match;
      if (keep !== undefined && keep.test(value)) return match;
      onFinding?.({ kind: detector.kind, detector: detector.id, value });
      return prefix + detector.mask;
    });
    // The text may have changed: its lower-case form is made again when needed.
    lowered = {};
  }
  return out;
}

/** The findings in a text, without masking it. */
export function findPii(text: string, scanners: Scanners = DEFAULT_SCANNERS): Finding[] {
  const found: Finding[] = [];
  scanText(text, scanners, (f) => found.push(f));
  return found;
}

export function maskText(text: string, scanners: Scanners = DEFAULT_SCANNERS): string {
  return scanText(text, scanners);
}
