/**
 * Events the analytics tools record on their own (page and session bookkeeping, autocapture): the report's "top
 * events" lists what people did in the product, so these are left out there. Names follow the vendors' documented
 * automatic events (docs/reports.md "What users do").
 */

/** Exact names: GA4 automatically collected and enhanced-measurement events, Amplitude session events, Heap's. */
const AUTOMATIC_NAMES = new Set([
  // GA4
  'first_visit',
  'first_open',
  'session_start',
  'user_engagement',
  'page_view',
  'screen_view',
  'scroll',
  'click',
  'file_download',
  'form_start',
  'form_submit',
  'view_search_results',
  'video_start',
  'video_progress',
  'video_complete',
  'app_update',
  'os_update',
  'app_remove',
  'app_clear_data',
  'notification_receive',
  'notification_open',
  'notification_dismiss',
  // Amplitude (browser SDK sessions, unprefixed spellings)
  'session_end',
  'Page Viewed',
  'Element Clicked',
  'Element Changed',
  // Heap
  'pageviews',
  'sessions',
]);

/** `$…` (PostHog and Mixpanel reserved events) and `[Amplitude] …` (Amplitude autocapture) are automatic. */
export function isAutomaticEvent(name: string): boolean {
  return name.startsWith('$') || name.startsWith('[Amplitude]') || AUTOMATIC_NAMES.has(name);
}
