/**
 * Which BigQuery table answers for a GA4 day, without double counting (vendor-export-apis.md §6.1):
 *  - the daily table `events_YYYYMMDD` when it exists — its day is final, the intraday rows of that day are
 *    never read (they are the same events, and GA4 deletes the intraday table once the daily one is complete);
 *  - else the streaming table `events_intraday_YYYYMMDD` — provisional: later runs read the day again;
 *  - else, for a day that may still get its daily table (GA4 writes it the next day and may rewrite it for up to
 *    72 hours), nothing yet — also provisional;
 *  - else the day is missing: an error, never an empty success.
 */
import { DAY_MS } from '../export/export-window.js';

export type Ga4TableKind = 'daily' | 'intraday';

export interface Ga4TableChoice {
  /** The table to read; null when the day has no table yet. */
  readonly table: string | null;
  readonly kind: Ga4TableKind | null;
  /** The day is not final: read again by later runs. */
  readonly provisional: boolean;
}

export interface Ga4MissingDay {
  readonly missing: true;
  /** The oldest daily table of the dataset, for the hint (GA4 does not backfill before the link existed). */
  readonly firstDaily: string | null;
}

/** "Analytics will update the daily tables … for up to three days after the dates of the events." */
export const GA4_REWRITE_DAYS = 3;

/** `20240331` from `2024-03-31`. */
export function tableDate(isoDate: string): string {
  return isoDate.replace(/-/g, '');
}

export const dailyTable = (isoDate: string): string => `events_${tableDate(isoDate)}`;
export const intradayTable = (isoDate: string): string => `events_intraday_${tableDate(isoDate)}`;

const DAILY = /^events_(\d{8})$/;

/**
 * The table for `isoDate` given the dataset's table names; `today` is the property's current date. A day later
 * than GA4's rewrite horizon without any table is missing.
 */
export function chooseGa4Table(isoDate: string, today: string, tables: ReadonlySet<string>, intraday: boolean): Ga4TableChoice | Ga4MissingDay {
  const daily = dailyTable(isoDate);
  if (tables.has(daily)) return { table: daily, kind: 'daily', provisional: false };
  const live = intradayTable(isoDate);
  if (intraday && tables.has(live)) return { table: live, kind: 'intraday', provisional: true };
  const ageDays = Math.round((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${isoDate}T00:00:00Z`)) / DAY_MS);
  if (ageDays <= GA4_REWRITE_DAYS) return { table: null, kind: null, provisional: true };
  let first: string | null = null;
  for (const name of tables) {
    const m = DAILY.exec(name);
    if (m !== null && (first === null || name < first)) first = name;
  }
  return { missing: true, firstDaily: first };
}

export function isMissingDay(choice: Ga4TableChoice | Ga4MissingDay): choice is Ga4MissingDay {
  return 'missing' in choice;
}
