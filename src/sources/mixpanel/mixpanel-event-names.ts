/**
 * Mixpanel event names with a canonical meaning (vendor-export-apis.md §3.5): autocapture events start with
 * `$mp_`; identity-management events start with `$`.
 */
import type { EventKind } from '../../events/canonical-event.js';

export const MIXPANEL_KINDS: Readonly<Record<string, EventKind>> = {
  $mp_web_page_view: 'page_view',
  // track_pageview() of older JS SDKs.
  mp_page_view: 'page_view',
  $mp_click: 'click',
  // Frustration events describe a click; the flag columns say which kind.
  $mp_rage_click: 'click',
  $mp_dead_click: 'click',
  $mp_input_change: 'input',
  $mp_submit: 'submit',
  $identify: 'identify',
  $create_alias: 'identify',
  $merge: 'identify',
};

export const RAGE_CLICK_EVENT = '$mp_rage_click';
export const DEAD_CLICK_EVENT = '$mp_dead_click';
