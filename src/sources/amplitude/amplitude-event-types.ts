/**
 * Amplitude event types with a canonical meaning (vendor-export-apis.md §2.5). The SDKs send autocapture events
 * with an "[Amplitude] " prefix while Amplitude's web autocapture schema doc shows them stored without it, so
 * both spellings are matched.
 */
import type { EventKind } from '../../events/canonical-event.js';

const PREFIX = '[Amplitude] ';

/** Both spellings of an autocapture name or property key: prefixed first. */
export function bothSpellings(name: string): [string, string] {
  return [`${PREFIX}${name}`, name];
}

/** Autocapture event names (without prefix) → kind. */
const AUTOCAPTURE_KINDS: Readonly<Record<string, EventKind>> = {
  'Page Viewed': 'page_view',
  'Screen Viewed': 'screen_view',
  'Element Clicked': 'click',
  // Mobile autocapture's tap event.
  'Element Interacted': 'click',
  // Frustration events describe a click; the flag columns carry what kind of trouble it was.
  'Rage Click': 'click',
  'Dead Click': 'click',
  'Error Click': 'click',
  'Element Changed': 'input',
  'Form Submitted': 'submit',
};

/** Exact event types (no prefix variants) → kind. */
const EXACT_KINDS: Readonly<Record<string, EventKind>> = {
  $identify: 'identify',
};

/** Event type → kind, every spelling listed, for a SQL CASE. */
export function amplitudeKindTable(): [string, EventKind][] {
  const rows: [string, EventKind][] = [];
  for (const [name, kind] of Object.entries(AUTOCAPTURE_KINDS)) {
    for (const spelling of bothSpellings(name)) rows.push([spelling, kind]);
  }
  for (const [name, kind] of Object.entries(EXACT_KINDS)) rows.push([name, kind]);
  return rows;
}

export const RAGE_CLICK_TYPES = bothSpellings('Rage Click');
export const DEAD_CLICK_TYPES = bothSpellings('Dead Click');
export const ERROR_CLICK_TYPES = bothSpellings('Error Click');
/** Network request autocapture: an error when the request failed (no status, 0, or ≥ 400). */
export const NETWORK_REQUEST_TYPES = bothSpellings('Network Request');
