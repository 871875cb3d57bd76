/**
 * Masking JSON text without ever breaking it. First the members the rules name are found (`"email": ...`, any
 * depth, by name); each gets its rule's action on its value (its key is scanned like any string). The text between
 * them is cut into tokens — strings, and
 * the text between strings (punctuation, numbers, true/false/null) — strings are decoded, scanned and re-encoded; a
 * number is replaced (by the quoted string "[card]") only when it is a card number. Everything else is copied, so the
 * output is valid JSON whenever the input is. pii-sql.ts builds the same algorithm in DuckDB SQL.
 */
import { hashValue, isHashed, piiKeyMissing } from './pii-hash.js';
import { truncateIp } from './pii-ip.js';
import { globPattern, JSON_TOKENS, MEMBER_HEAD, memberPattern, ruleKeysPattern } from './pii-patterns.js';
import type { MemberRule, PiiAction } from './pii-policy.js';
import { scanText, type Finding, type Scanners } from './pii-scanners.js';
import { jsonNumberCardValidator } from './pii-validators.js';

export interface JsonMaskContext {
  readonly scanners: Scanners;
  readonly rules: readonly MemberRule[];
  readonly key: string | undefined;
  /** Names the column in a missing-key error. */
  readonly column: string;
  readonly onFinding?: ((f: Finding) => void) | undefined;
}

/** The pattern that finds the members the rules name. */
export function rulesMemberPattern(rules: readonly MemberRule[]): string {
  return memberPattern(ruleKeysPattern(rules));
}

/** Strings whole, and everything between strings. */
const PLAIN_TOKENS = `${JSON_TOKENS.string}|${JSON_TOKENS.between}`;

/** Consecutive rules with one action act as one (the first match is the same), so they share one pattern. */
export function groupRules(rules: readonly MemberRule[]): { action: PiiAction; pattern: string }[] {
  const groups: { action: PiiAction; globs: string[] }[] = [];
  for (const r of rules) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last.action === r.action) last.globs.push(globPattern(r.glob));
    else groups.push({ action: r.action, globs: [globPattern(r.glob)] });
  }
  return groups.map((g) => ({ action: g.action, pattern: g.globs.join('|') }));
}

const NUMBER = new RegExp(JSON_TOKENS.number, 'gu');
const MEMBER_HEAD_RE = new RegExp(MEMBER_HEAD, 'u');

interface Compiled {
  readonly members: RegExp | undefined;
  readonly tokens: RegExp;
  readonly groups: { action: PiiAction; re: RegExp }[];
  readonly keep: RegExp | undefined;
  readonly cards: boolean;
}

const cache = new WeakMap<readonly MemberRule[], WeakMap<Scanners, Compiled>>();

function compile(ctx: JsonMaskContext): Compiled {
  let byScanners = cache.get(ctx.rules);
  if (byScanners === undefined) {
    byScanners = new WeakMap();
    cache.set(ctx.rules, byScanners);
  }
  let c = byScanners.get(ctx.scanners);
  if (c === undefined) {
    c = {
      members: ctx.rules.length === 0 ? undefined : new RegExp(rulesMemberPattern(ctx.rules), 'gu'),
      tokens: new RegExp(PLAIN_TOKENS, 'gu'),
      groups: groupRules(ctx.rules).map((g) => ({ action: g.action, re: new RegExp(`^(?:${g.pattern})$`, 'u') })),
      keep: ctx.scanners.keep.length === 0 ? undefined : new RegExp(`^(?:${ctx.scanners.keep.map((k) => `(?:${k})`).join('|')})$`, 'u'),
      cards: ctx.scanners.detectors.some((d) => d.id === 'card'),
    };
    byScanners.set(ctx.scanners, c);
  }
  return c;
}

function decode(token: string): string {
  return token.includes('\\') ? (JSON.parse(token) as string) : token.slice(1, -1);
}

function maskString(token: string, ctx: JsonMaskContext): string {
  if (token.includes('\\')) return JSON.stringify(scanText(JSON.parse(token) as string, ctx.scanners, ctx.onFinding));
  return `"${scanText(token.slice(1, -1), ctx.scanners, ctx.onFinding)}"`;
}

/** Numbers between strings: a card number becomes the string "[card]"; nothing else changes. */
function maskBetween(text: string, ctx: JsonMaskContext, c: Compiled): string {
  if (!c.cards) return text;
  return text.replace(NUMBER, (n) => {
    if (!jsonNumberCardValidator.ts(n) || c.keep?.test(n) === true) return n;
    ctx.onFinding?.({ kind: 'card', detector: 'card_json_number', value: n });
    return '"[card]"';
  });
}

/** JSON text made of whole tokens (no named members in it). */
function maskTokens(text: string, ctx: JsonMaskContext, c: Compiled): string {
  let out = '';
  // exec on the compiled expression, not matchAll: matchAll clones the RegExp on every call, which for the member
  // pattern (thousands of characters) cost more than the matching itself.
  const re = c.tokens;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const t = m[0];
    out += t[0] === '"' ? maskString(t, ctx) : maskBetween(t, ctx, c);
  }
  return out;
}

function hashed(ctx: JsonMaskContext, value: string): string {
  if (isHashed(value)) return `"${value}"`;
  if (ctx.key === undefined) throw piiKeyMissing(`a ${ctx.column} member is to be hashed`);
  return `"${hashValue(ctx.key, value)}"`;
}

/** A member value (JSON text) under an action. */
function applyAction(action: PiiAction, value: string, ctx: JsonMaskContext, c: Compiled): string {
  const first = value[0];
  const isString = first === '"';
  const isContainer = first === '{' || first === '[';
  switch (action) {
    case 'keep':
      return value;
    case 'drop':
      return 'null';
    case 'mask':
      return isString ? maskString(value, ctx) : isContainer ? maskTokens(value, ctx, c) : maskBetween(value, ctx, c);
    case 'hash':
      if (isContainer) return 'null';
      if (isString) return hashed(ctx, decode(value));
      return value === 'null' ? 'null' : hashed(ctx, value);
    case 'hash_if_pii': {
      if (isContainer) return 'null';
      if (isString) {
        const s = decode(value);
        return scanText(s, ctx.scanners) !== s ? hashed(ctx, s) : value;
      }
      return maskBetween(value, { ...ctx, onFinding: undefined }, c) !== value ? hashed(ctx, value) : value;
    }
    case 'truncate': {
      if (!isString) return 'null';
      const t = truncateIp(decode(value));
      return t === null ? 'null' : `"${t}"`;
    }
  }
}

/** Masks JSON text (valid JSON in, valid JSON out). */
export function maskJsonText(json: string, ctx: JsonMaskContext): string {
  const c = compile(ctx);
  if (c.members === undefined) return maskTokens(json, ctx, c);
  let out = '';
  let at = 0;
  const members = c.members;
  members.lastIndex = 0;
  for (let m = members.exec(json); m !== null; m = members.exec(json)) {
    const whole = m[0];
    const [head, before, key, sep] = MEMBER_HEAD_RE.exec(whole) as unknown as [string, string, string, string];
    const value = whole.slice(head.length);
    out += maskTokens(json.slice(at, m.index), ctx, c);
    const name = key.slice(1, -1);
    const group = c.groups.find((g) => g.re.test(name));
    out += before + maskString(key, ctx) + sep + (group === undefined ? value : applyAction(group.action, value, ctx, c));
    at = m.index + whole.length;
  }
  return out + maskTokens(json.slice(at), ctx, c);
}
