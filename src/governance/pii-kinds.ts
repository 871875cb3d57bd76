/**
 * The kinds of personal data the scanners recognise, and the typed masks that replace what they find. A mask
 * says what was there (`[email]`), never any part of it, so masked text stays readable and countable.
 */
import { PII_KINDS, type PiiKind } from '../core/config-schema.js';

export { PII_KINDS, type PiiKind };

/** A finding's kind: a built-in kind, or a team's own pattern (`custom:NAME`). */
export type FindingKind = PiiKind | `custom:${string}`;

export function maskOf(kind: FindingKind): string {
  return `[${kind}]`;
}

