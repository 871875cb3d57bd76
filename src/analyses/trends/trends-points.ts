/**
 * Turns query rows into series of points: one series per definition series and breakdown key, one point per
 * period (zeros where the warehouse had no row), each point flagged by how far its numbers can be trusted.
 * Everything that is a distinct count comes from SQL as such; here values are only looked up, averaged over
 * days, or negated (dormant).
 */
import { addDays, coveredBy, daysOf, outsideOf, shiftInterval, type DataSpan, type Period } from './trends-calendar.js';
import { seriesLabel, type TrendsDefinition } from './trends-definition.js';
import type {
  ActiveDaysCount,
  ActiveUsersPoint,
  ActiveUsersTotal,
  EventsPoint,
  EventsTotal,
  LifecyclePoint,
  LifecycleTotal,
  PeoplePoint,
  PeopleTotal,
  StickinessPoint,
  StickinessTotal,
  TrendsPointBase,
  TrendsSeries,
} from './trends-result.js';

/** A series of the result before its numbers: definition series × breakdown value. Its index in the key list is `k`. */
export interface SeriesKey {
  s: number;
  other: boolean;
  value: string | null;
}

/** Rows carry the integer series key `k` (trends-query.ts). */
export interface KeyedRow {
  k: number;
}

function seriesHead(def: TrendsDefinition, key: SeriesKey): Omit<TrendsSeries<never, never>, 'total' | 'points'> {
  const series = def.events[key.s]!;
  return { label: seriesLabel(series), series_index: key.s, event: series.event, breakdown_value: key.value, breakdown_other: key.other };
}

/** A point's interval and trust flags; `needsFrom` is the first day its numbers depend on. */
export function pointBase(p: Period, span: DataSpan | null, needsFrom: string): TrendsPointBase {
  const clipped = p.first !== p.start || p.last !== p.end;
  return {
    period_start: p.start,
    period_end: p.end,
    first_day: p.first,
    last_day: p.last,
    partial: clipped || !coveredBy(span, needsFrom, p.last),
    no_data: outsideOf(span, p.first, p.last),
  };
}

const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);

/** A window of `days` days ending on `day` starts before the data does. */
const windowPartial = (span: DataSpan | null, day: string, days: number): boolean => span === null || addDays(day, -(days - 1)) < span.first_day;

export interface CountRow extends KeyedRow {
  period: string | null;
  whole: number;
  events: number;
  people?: number;
}

function indexCounts(rows: readonly CountRow[]): { byPeriod: Map<string, CountRow>; whole: Map<number, CountRow> } {
  const byPeriod = new Map<string, CountRow>();
  const whole = new Map<number, CountRow>();
  for (const r of rows) {
    if (r.whole === 1) whole.set(r.k, r);
    else byPeriod.set(`${r.k}@${r.period ?? ''}`, r);
  }
  return { byPeriod, whole };
}

export function eventsSeries(def: TrendsDefinition, keys: readonly SeriesKey[], periods: readonly Period[], span: DataSpan | null, rows: readonly CountRow[]): TrendsSeries<EventsPoint, EventsTotal>[] {
  const { byPeriod, whole } = indexCounts(rows);
  return keys.map((key, id) => {
    return {
      ...seriesHead(def, key),
      total: { events: whole.get(id)?.events ?? 0 },
      points: periods.map((p) => ({ ...pointBase(p, span, p.first), events: byPeriod.get(`${id}@${p.start}`)?.events ?? 0 })),
    };
  });
}

export function peopleSeries(def: TrendsDefinition, keys: readonly SeriesKey[], periods: readonly Period[], span: DataSpan | null, rows: readonly CountRow[]): TrendsSeries<PeoplePoint, PeopleTotal>[] {
  const { byPeriod, whole } = indexCounts(rows);
  return keys.map((key, id) => {
    return {
      ...seriesHead(def, key),
      total: { people: whole.get(id)?.people ?? 0 },
      points: periods.map((p) => ({ ...pointBase(p, span, p.first), people: byPeriod.get(`${id}@${p.start}`)?.people ?? 0 })),
    };
  });
}

export interface DailyRow extends KeyedRow {
  day: string;
  dau: number;
  wau: number;
  mau: number;
}

export interface ActiveDaysRow extends KeyedRow {
  period: string | null;
  whole: number;
  days: number;
  people: number;
}

interface Daily {
  dau: number;
  wau: number;
  mau: number;
}

const NO_ACTIVITY: Daily = { dau: 0, wau: 0, mau: 0 };

/** Daily numbers and active-day histograms by series key, for active_users and stickiness. */
class ActivityIndex {
  private readonly daily = new Map<number, Map<string, Daily>>();
  private readonly histograms = new Map<string, ActiveDaysCount[]>();

  constructor(dailyRows: readonly DailyRow[], activeDaysRows: readonly ActiveDaysRow[]) {
    for (const r of dailyRows) {
      let days = this.daily.get(r.k);
      if (days === undefined) this.daily.set(r.k, (days = new Map()));
      days.set(r.day, { dau: r.dau, wau: r.wau, mau: r.mau });
    }
    for (const r of activeDaysRows) {
      const id = `${r.k}@${r.whole === 1 ? '' : (r.period ?? '')}`;
      let list = this.histograms.get(id);
      if (list === undefined) this.histograms.set(id, (list = []));
      list.push({ days: r.days, people: r.people });
    }
    for (const list of this.histograms.values()) list.sort((a, b) => a.days - b.days);
  }

  day(id: number, day: string): Daily {
    return this.daily.get(id)?.get(day) ?? NO_ACTIVITY;
  }

  days(id: number, days: readonly string[]): Daily[] {
    return days.map((d) => this.day(id, d));
  }

  /** Active-day histogram of a period (`period` '' for the whole range). */
  histogram(id: number, period: string): ActiveDaysCount[] {
    return this.histograms.get(`${id}@${period}`) ?? [];
  }
}

const peopleOf = (histogram: readonly ActiveDaysCount[]): number => histogram.reduce((sum, h) => sum + h.people, 0);

/** Mean of DAU ÷ MAU over the days with MAU above 0; null when there are none. */
function meanRatio(days: readonly Daily[]): number | null {
  const ratios = days.filter((d) => d.mau > 0).map((d) => d.dau / d.mau);
  return ratios.length === 0 ? null : mean(ratios);
}

export function activeUsersSeries(
  def: TrendsDefinition,
  keys: readonly SeriesKey[],
  periods: readonly Period[],
  range: { from: string; to: string },
  span: DataSpan | null,
  windows: { wau: number; mau: number },
  dailyRows: readonly DailyRow[],
  activeDaysRows: readonly ActiveDaysRow[],
): TrendsSeries<ActiveUsersPoint, ActiveUsersTotal>[] {
  const index = new ActivityIndex(dailyRows, activeDaysRows);
  const rangeDays = daysOf(range.from, range.to);
  return keys.map((key, id) => {
    const all = index.days(id, rangeDays);
    return {
      ...seriesHead(def, key),
      total: {
        people: peopleOf(index.histogram(id, '')),
        average_dau: mean(all.map((d) => d.dau)),
        average_wau: mean(all.map((d) => d.wau)),
        average_mau: mean(all.map((d) => d.mau)),
      },
      points: periods.map((p) => {
        const last = index.day(id, p.last);
        return {
          ...pointBase(p, span, p.first),
          people: peopleOf(index.histogram(id, p.start)),
          average_dau: mean(index.days(id, daysOf(p.first, p.last)).map((d) => d.dau)),
          dau: last.dau,
          wau: last.wau,
          mau: last.mau,
          wau_partial: windowPartial(span, p.last, windows.wau),
          mau_partial: windowPartial(span, p.last, windows.mau),
        };
      }),
    };
  });
}

export function stickinessSeries(
  def: TrendsDefinition,
  keys: readonly SeriesKey[],
  periods: readonly Period[],
  range: { from: string; to: string },
  span: DataSpan | null,
  mauDays: number,
  dailyRows: readonly DailyRow[],
  activeDaysRows: readonly ActiveDaysRow[],
): TrendsSeries<StickinessPoint, StickinessTotal>[] {
  const index = new ActivityIndex(dailyRows, activeDaysRows);
  const rangeDays = daysOf(range.from, range.to);
  return keys.map((key, id) => {
    const wholeHistogram = index.histogram(id, '');
    return {
      ...seriesHead(def, key),
      total: { people: peopleOf(wholeHistogram), dau_mau: meanRatio(index.days(id, rangeDays)), active_days: wholeHistogram },
      points: periods.map((p) => {
        const days = index.days(id, daysOf(p.first, p.last));
        const histogram = index.histogram(id, p.start);
        return {
          ...pointBase(p, span, p.first),
          dau_mau: meanRatio(days),
          average_dau: mean(days.map((d) => d.dau)),
          average_mau: mean(days.map((d) => d.mau)),
          people: peopleOf(histogram),
          active_days: histogram,
          mau_partial: windowPartial(span, p.first, mauDays),
        };
      }),
    };
  });
}

export interface LifecycleRow extends KeyedRow {
  period: string;
  status: 'new' | 'returning' | 'resurrecting' | 'dormant';
  people: number;
}

export function lifecycleSeries(
  def: TrendsDefinition,
  keys: readonly SeriesKey[],
  periods: readonly Period[],
  span: DataSpan | null,
  rows: readonly LifecycleRow[],
): TrendsSeries<LifecyclePoint, LifecycleTotal>[] {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(`${r.k}@${r.period}@${r.status}`, r.people);
  return keys.map((key, id) => {
    const points = periods.map((p): LifecyclePoint => {
      const n = (status: LifecycleRow['status']): number => counts.get(`${id}@${p.start}@${status}`) ?? 0;
      const [fresh, returning, resurrecting, dormant] = [n('new'), n('returning'), n('resurrecting'), n('dormant')];
      // Statuses depend on the previous interval, so its days must be in the data too.
      return {
        ...pointBase(p, span, shiftInterval(def.interval, p.start, -1)),
        new: fresh,
        returning,
        resurrecting,
        dormant: dormant === 0 ? 0 : -dormant, // never -0
        active: fresh + returning + resurrecting,
      };
    });
    const sum = (f: (p: LifecyclePoint) => number): number => points.reduce((a, p) => a + f(p), 0);
    return {
      ...seriesHead(def, key),
      total: { new: sum((p) => p.new), returning: sum((p) => p.returning), resurrecting: sum((p) => p.resurrecting), dormant: sum((p) => p.dormant) },
      points,
    };
  });
}
