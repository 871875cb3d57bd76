/**
 * Reads the units query (funnel-units-query.ts) one unit at a time into typed arrays, its events ordered by
 * (time, event id) — the order the state machine's rules are written in. No object per event: the buffers are
 * reused from unit to unit, and the breakdown value and event id are read from the result only when needed (the
 * attempt's first event, or events at the same instant).
 */
import {
  DuckDBBooleanVector,
  DuckDBDoubleVector,
  DuckDBIntegerVector,
  DuckDBListVector,
  DuckDBStructVector,
  DuckDBUUIDVector,
  DuckDBVarCharVector,
  type DuckDBDataChunk,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { AnalysisSession } from '../analysis-kind.js';
import { queryFailed } from '../common/run-support.js';
import type { BuiltQuery } from './funnel-query.js';
import type { UnitFields } from './funnel-units-query.js';

/** One unit's events in (time, event id) order, as parallel arrays; entries past `n` are stale. */
export class UnitEvents {
  n = 0;
  /** Epoch microseconds. */
  t = new Float64Array(64);
  /** Bit k-1 set ⇔ matches step k. */
  steps = new Int32Array(64);
  /** Bit x set ⇔ matches exclusion x (0-based). */
  exclusions = new Int32Array(64);
  /**
   * 1 ⇔ may start an attempt (inside the date range). Allocated full of ones, so a reader without a date range
   * need not write it.
   */
  inRange = new Uint8Array(64).fill(1);
  /** Where each event sits in the result's list vector (for the lazy reads). */
  at = new Int32Array(64);
  private breakdowns: DuckDBVarCharVector | null = null;

  /** Breakdown value of event i (null without a breakdown). */
  breakdown(i: number): string | null {
    return this.breakdowns === null ? null : this.breakdowns.getItem(this.at[i]!);
  }

  /** Makes room for `n` events, dropping the current contents. */
  reset(n: number, breakdowns: DuckDBVarCharVector | null): void {
    this.n = n;
    this.breakdowns = breakdowns;
    if (n <= this.t.length) return;
    const size = Math.max(n, this.t.length * 2);
    this.t = new Float64Array(size);
    this.steps = new Int32Array(size);
    this.exclusions = new Int32Array(size);
    this.inRange = new Uint8Array(size).fill(1);
    this.at = new Int32Array(size);
  }

  /**
   * Appends rows [from, to) of a chunk's columns (the stored-order reader, which learns a unit's size only at its
   * end); returns false when they are not in time order after what the unit already holds. Without `x` the
   * exclusion masks are left as they are (nothing reads them when the definition has no exclusions); without
   * `r` the in-range flags are too (ones, unless an earlier append wrote them: a reader passes `r` always or never).
   */
  append(t: Float64Array, s: Int32Array, x: Int32Array | null, r: Uint8Array | null, from: number, to: number): boolean {
    let n = this.n;
    const end = n + to - from;
    while (end > this.t.length) this.grow();
    const tt = this.t;
    const ss = this.steps;
    let ordered = true;
    let previous = n > 0 ? tt[n - 1]! : -Infinity;
    for (let i = from; i < to; i++, n++) {
      const ti = t[i]!;
      if (ti < previous) ordered = false;
      previous = ti;
      tt[n] = ti;
      ss[n] = s[i]!;
    }
    const start = end - (to - from);
    if (x !== null) this.exclusions.set(x.subarray(from, to), start);
    if (r !== null) this.inRange.set(r.subarray(from, to), start);
    this.n = end;
    return ordered;
  }

  /** Doubles the capacity, keeping the contents. */
  private grow(): void {
    const size = this.t.length * 2;
    const copy = <A extends Float64Array | Int32Array | Uint8Array>(from: A, to: A): A => {
      to.set(from);
      return to;
    };
    this.t = copy(this.t, new Float64Array(size));
    this.steps = copy(this.steps, new Int32Array(size));
    this.exclusions = copy(this.exclusions, new Int32Array(size));
    this.inRange = copy(this.inRange, new Uint8Array(size).fill(1));
    this.at = copy(this.at, new Int32Array(size));
  }

  /** Fills event i (for tests; the reader writes the arrays directly). */
  set(i: number, t: number, steps: number, exclusions: number, inRange: boolean, at: number): void {
    this.t[i] = t;
    this.steps[i] = steps;
    this.exclusions[i] = exclusions;
    this.inRange[i] = inRange ? 1 : 0;
    this.at[i] = at;
  }
}

/** A unit's best attempt, as the typed engines find it. */
export interface FoundAttempt {
  /** Index (in the unit's ordered events) of the attempt's first event: its breakdown value counts. */
  start: number;
  /** Steps reached (≥ 1). */
  reached: number;
  /** Instants of the steps reached, in step order (unordered: in time order); read `reached` entries. */
  times: Float64Array;
}

/** The current unit's id, decoded from the result only when asked for (most units never are). */
export class UnitCursor {
  private vector: DuckDBVarCharVector | null = null;
  private row = 0;
  private pinned: string | null = null;

  /** Valid only inside the onUnit callback. */
  id(): string {
    return this.pinned ?? this.vector!.getItem(this.row)!;
  }

  /** @internal (null: the run carries no ids, and id() is never called) */
  moveTo(vector: DuckDBVarCharVector | null, row: number): void {
    this.vector = vector;
    this.row = row;
    this.pinned = null;
  }

  /** @internal Decodes the id now: the unit goes on in the next chunk, and this chunk's memory may not outlive it. */
  pin(): void {
    if (this.vector !== null) this.pinned = this.vector.getItem(this.row)!;
    this.vector = null;
  }
}

/** The struct members of the units query's list, as vectors of one chunk. */
interface ChunkVectors {
  units: DuckDBVarCharVector;
  lists: DuckDBListVector;
  t: DuckDBDoubleVector;
  s: DuckDBIntegerVector;
  x: DuckDBIntegerVector | null;
  r: DuckDBBooleanVector | null;
  b: DuckDBVarCharVector | null;
  id: DuckDBUUIDVector | null;
}

function expectVector<T>(vector: unknown, type: abstract new (...args: never[]) => T, what: string): T {
  if (!(vector instanceof type)) throw new Error(`funnel units query: unexpected vector type for ${what}`);
  return vector;
}

function chunkVectors(chunk: DuckDBDataChunk, fields: UnitFields): ChunkVectors {
  const lists = expectVector(chunk.getColumnVector(1), DuckDBListVector, 'ev');
  const members = expectVector(lists.childVector, DuckDBStructVector, 'ev[]');
  let m = 2;
  const next = <T>(on: boolean, type: abstract new (...args: never[]) => T, what: string): T | null => (on ? expectVector(members.entryVectorAt(m++), type, what) : null);
  return {
    units: expectVector(chunk.getColumnVector(0), DuckDBVarCharVector, 'unit_id'),
    lists,
    t: expectVector(members.entryVectorAt(0), DuckDBDoubleVector, 't'),
    s: expectVector(members.entryVectorAt(1), DuckDBIntegerVector, 's'),
    x: next(fields.exclusions, DuckDBIntegerVector, 'x'),
    r: next(fields.inRange, DuckDBBooleanVector, 'r'),
    b: next(fields.breakdown, DuckDBVarCharVector, 'b'),
    id: next(fields.eventId, DuckDBUUIDVector, 'id'),
  };
}

/** Orders a unit's events by (time, event id) in place, with reusable scratch. */
export class Sorter {
  private order = new Int32Array(64);
  private f64 = new Float64Array(64);
  private i32 = new Int32Array(64);
  private u8 = new Uint8Array(64);

  /**
   * `ids` is the result's event id vector (null when the query does not carry it: then simultaneous events keep
   * list order, which is fine because their order does not matter — see UnitFields.eventId).
   */
  sort(ev: UnitEvents, ids: DuckDBUUIDVector | null): void {
    const n = ev.n;
    if (this.order.length < n) {
      const size = Math.max(n, this.order.length * 2);
      this.order = new Int32Array(size);
      this.f64 = new Float64Array(size);
      this.i32 = new Int32Array(size);
      this.u8 = new Uint8Array(size);
    }
    const { order } = this;
    const { t, at } = ev;
    for (let i = 0; i < n; i++) order[i] = i;
    const cmp = (a: number, b: number): number => {
      const d = t[a]! - t[b]!;
      if (d !== 0) return d;
      if (ids !== null) {
        // Stored UUIDs compare as signed 128-bit integers exactly as DuckDB orders them.
        const ia = ids.getItem(at[a]!)!.hugeint;
        const ib = ids.getItem(at[b]!)!.hugeint;
        if (ia !== ib) return ia < ib ? -1 : 1;
      }
      return a - b;
    };
    if (n <= 32) {
      // Insertion sort: units are small and usually nearly in time order already.
      for (let i = 1; i < n; i++) {
        const x = order[i]!;
        let j = i;
        while (j > 0 && cmp(order[j - 1]!, x) > 0) {
          order[j] = order[j - 1]!;
          j--;
        }
        order[j] = x;
      }
    } else {
      order.subarray(0, n).sort(cmp);
    }
    this.permute(ev.t, this.f64, n);
    this.permute(ev.steps, this.i32, n);
    this.permute(ev.exclusions, this.i32, n);
    this.permute(ev.inRange, this.u8, n);
    this.permute(ev.at, this.i32, n);
  }

  private permute<A extends Float64Array | Int32Array | Uint8Array>(values: A, scratch: A, n: number): void {
    scratch.set(values.subarray(0, n));
    for (let i = 0; i < n; i++) values[i] = scratch[this.order[i]!]!;
  }
}

/** Copies list entries [offset, offset + n) of the chunk into `ev` and orders them. */
function readUnit(v: ChunkVectors, offset: number, n: number, ev: UnitEvents, sorter: Sorter): void {
  ev.reset(n, v.b);
  const { t, steps, exclusions, inRange, at } = ev;
  const needsIds = v.id !== null;
  let ordered = true;
  let previous = -Infinity;
  for (let i = 0; i < n; i++) {
    const j = offset + i;
    const ti = v.t.getItem(j)!;
    // Simultaneous events are ordered by id, which only the sort reads.
    if (ti < previous || (ti === previous && needsIds)) ordered = false;
    previous = ti;
    t[i] = ti;
    steps[i] = v.s.getItem(j)!;
    at[i] = j;
  }
  if (v.x === null) exclusions.fill(0, 0, n);
  else for (let i = 0; i < n; i++) exclusions[i] = v.x.getItem(offset + i)!;
  if (v.r === null) inRange.fill(1, 0, n);
  else for (let i = 0; i < n; i++) inRange[i] = v.r.getItem(offset + i) === true ? 1 : 0;
  if (!ordered) sorter.sort(ev, v.id);
}

/**
 * Streams the units query and calls `onUnit` with each unit's ordered events. Both arguments are reused from
 * unit to unit: read them inside the callback.
 */
export async function forEachUnitEvents(
  session: AnalysisSession,
  query: BuiltQuery,
  fields: UnitFields,
  onUnit: (events: UnitEvents, unit: UnitCursor) => void,
): Promise<void> {
  const events = new UnitEvents();
  const cursor = new UnitCursor();
  const sorter = new Sorter();
  try {
    const result = await session.connection.stream(query.sql, query.params as DuckDBValue[]);
    let next = result.fetchChunk();
    for (;;) {
      const chunk = await next;
      if (chunk === null) break;
      const rows = chunk.rowCount;
      if (rows === 0) break;
      // The driver fetches off the main thread: let DuckDB produce the next chunk while this one is read.
      next = result.fetchChunk();
      // Handled by the await above on the next turn; this only keeps an abandoned fetch (after an error below)
      // from surfacing as an unhandled rejection.
      next.catch(() => undefined);
      const v = chunkVectors(chunk, fields);
      for (let r = 0; r < rows; r++) {
        readUnit(v, v.lists.getEntryOffset(r), v.lists.getEntryLength(r), events, sorter);
        cursor.moveTo(v.units, r);
        onUnit(events, cursor);
      }
    }
  } catch (err) {
    throw queryFailed(err, query.sql);
  }
}
