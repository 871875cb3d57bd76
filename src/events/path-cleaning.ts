/**
 * Page path cleaning (docs/events.md): one rule set applied to every page URL at import, so paths, funnels,
 * breakdowns and friction hotspots group `/projects/123/board` and `/projects/456/board` together.
 * Built-in: drop scheme, host, query string and fragment; collapse id-like path segments to ":id"; drop a
 * trailing slash. Project rules (usagelab.yaml path_cleaning.rules) run after, in order.
 */

/** Segments that are ids: all digits, a UUID, or a hex token of 16+ characters ... */
export const ID_SEGMENT_PATTERN = '[0-9]+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{16,}';
/** ... or a token of 20+ letters, digits or _ with a digit in it (hyphenated slugs are kept). */
export const TOKEN_SEGMENT_PATTERN = '[A-Za-z0-9_]*[0-9][A-Za-z0-9_]*';
export const TOKEN_MIN_LENGTH = 20;

export interface PathRule {
  readonly pattern: string;
  readonly replacement: string;
}

export interface PathCleaning {
  readonly collapse_ids: boolean;
  readonly rules: readonly PathRule[];
}

/** The same cleaning in TypeScript (used by tests and by analyses that filter on a typed path). */
export function cleanPath(url: string | null | undefined, cleaning: PathCleaning): string | null {
  if (url === null || url === undefined || url.trim() === '') return null;
  let p = url.trim().replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/, '');
  p = p.replace(/[?#].*$/, '');
  if (cleaning.collapse_ids) {
    const idRe = new RegExp(`^(?:${ID_SEGMENT_PATTERN})$`);
    const tokenRe = new RegExp(`^(?:${TOKEN_SEGMENT_PATTERN})$`);
    p = p
      .split('/')
      .map((s) => (idRe.test(s) || (s.length >= TOKEN_MIN_LENGTH && tokenRe.test(s)) ? ':id' : s))
      .join('/');
  }
  if (p.length > 1 && p.endsWith('/')) p = p.replace(/\/+$/, '');
  if (p === '') p = '/';
  for (const rule of cleaning.rules) p = p.replace(new RegExp(rule.pattern, 'g'), rule.replacement);
  return p;
}
