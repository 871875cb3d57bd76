/**
 * Reads the stored-order rows (funnel-units-query.ts buildFunnelRowsQuery) one unit at a time: a unit is a run of
 * consecutive rows with the same unit hash. This holds only where the warehouse keeps each unit's events together
 * (stored clustered by person, or by session, and time), so the reader checks it — on the first rows before the
 * full read, then on every row: a unit whose hash shows up again after another unit's run means the table is not
 * clustered, and the reader says so (the run then regroups with buildFunnelUnitsQuery). Events inside a unit need not be in time order; they are
 * sorted when they are not.
 *
 * Why: grouping 10M events' relevant rows by unit (a hash aggregate building a list per unit) cost more than the
 * scan itself; reading them in stored order leaves DuckDB only the scan, and TypeScript compares two 32-bit
 * halves of a hash per row instead of a string. Units are told apart by a 64-bit hash of their id: two units would
 * merge only if their ids hashed alike *and* their runs met (≈ units ÷ 2^64), the same kind of assumption as the
 * warehouse's hashed event ids.
 */
import {
  DuckDBDoubleVector,
  DuckDBIntegerVector,
  DuckDBUBigIntVector,
  DuckDBUTinyIntVector,
  DuckDBVarCharVector,
  type DuckDBDataChunk,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { AnalysisSession } from '../analysis-kind.js';
import { queryFailed, runStatement } from '../common/run-support.js';
import type { BuiltQuery } from './funnel-query.js';
import { Sorter, UnitCursor, UnitEvents } from './funnel-unit-events.js';
import type { UnitFields } from './funnel-units-query.js';

/**
 * The units' hashes in the order their runs came, to prove afterwards that no unit had two runs: sorted, a
 * repeated hash shows up as two equal neighbours (exact, and one native sort instead of a hash-set probe per run,
 * which cost more than the whole per-row loop). To notice an unclustered table early, one unit in 16 (by hash) is
 * also kept in an exact set: in a table in no particular order one of those soon comes back, which proves it.
 */
export class RunLog {
  private halves = new Int32Array(2048);
  private runs = 0;
  private readonly sampled = new Set<string>();

  /** Records a run; false when it proves the table is not clustered (a sampled unit came back). */
  add(lo: number, hi: number): boolean {
    if (2 * this.runs + 2 > this.halves.length) {
      const grown = new Int32Array(this.halves.length * 2);
      grown.set(this.halves);
      this.halves = grown;
    }
    this.halves[2 * this.runs] = lo;
    this.halves[2 * this.runs + 1] = hi;
    this.runs++;
    if ((lo & 15) !== 0) return true;
    const key = `${lo}:${hi}`;
    if (this.sampled.has(key)) return false;
    this.sampled.add(key);
    return true;
  }

  /** True when every run was a different unit. */
  distinct(): boolean {
    const { halves, runs } = this;
    // The top 53 bits as a double sort natively and fast (a BigUint64Array sort is several times slower); equal
    // neighbours there are only candidates, settled on all 64 bits.
    const top = (r: number): number => halves[2 * r + 1]! * 2 ** 21 + (halves[2 * r]! >>> 11);
    const keys = new Float64Array(runs);
    for (let r = 0; r < runs; r++) keys[r] = top(r);
    keys.sort();
    const candidates = new Set<number>();
    for (let i = 1; i < runs; i++) if (keys[i] === keys[i - 1]) candidates.add(keys[i]!);
    if (candidates.size === 0) return true;
    const lows = new Map<number, Set<number>>();
    for (let r = 0; r < runs; r++) {
      const key = top(r);
      if (!candidates.has(key)) continue;
      const seen = lows.get(key) ?? new Set<number>();
      if (seen.has(halves[2 * r]!)) return false;
      lows.set(key, seen.add(halves[2 * r]!));
    }
    return true;
  }
}

function expectVector<T>(vector: unknown, type: abstract new (...args: never[]) => T, what: string): T {
  if (!(vector instanceof type)) throw new Error(`funnel rows query: unexpected vector type for ${what}`);
  return vector;
}

/** The typed arrays of one chunk's columns (DuckDB's own buffers, not copies). */
interface ChunkColumns {
  /** Hash halves: 2i and 2i + 1 (as int32, which V8 keeps unboxed). */
  h: Int32Array;
  t: Float64Array;
  s: Int32Array;
  x: Int32Array | null;
  r: Uint8Array | null;
  ids: DuckDBVarCharVector | null;
}

type TypedArray = Float64Array | Int32Array | Uint8Array | BigUint64Array;

/**
 * The vector's values as the typed array the driver itself reads them from (its `items`, typed private in
 * @duckdb/node-api 1.5 but present on every fixed-width vector), so a chunk costs no per-value call. Should a
 * driver version not have it, the values are copied through getItem — slower, same values. The columns read
 * this way are never NULL (hashes, instants, masks, coalesced flags).
 */
function typedItems<A extends TypedArray>(vector: { itemCount: number; getItem(i: number): unknown }, type: new (n: number) => A): A {
  const items = (vector as unknown as { items?: unknown }).items;
  if (items instanceof type && items.length === vector.itemCount) return items;
  const copy = new type(vector.itemCount);
  for (let i = 0; i < copy.length; i++) (copy as unknown as unknown[])[i] = vector.getItem(i);
  return copy;
}

function chunkColumns(chunk: DuckDBDataChunk, fields: UnitFields, withIds: boolean): ChunkColumns {
  let c = 0;
  const h = typedItems(expectVector(chunk.getColumnVector(c++), DuckDBUBigIntVector, 'h'), BigUint64Array);
  const t = typedItems(expectVector(chunk.getColumnVector(c++), DuckDBDoubleVector, 't'), Float64Array);
  const s = typedItems(expectVector(chunk.getColumnVector(c++), DuckDBIntegerVector, 's'), Int32Array);
  const x = fields.exclusions ? typedItems(expectVector(chunk.getColumnVector(c++), DuckDBIntegerVector, 'x'), Int32Array) : null;
  const r = fields.inRange ? typedItems(expectVector(chunk.getColumnVector(c++), DuckDBUTinyIntVector, 'r'), Uint8Array) : null;
  const ids = withIds ? expectVector(chunk.getColumnVector(c++), DuckDBVarCharVector, 'unit_id') : null;
  return { h: new Int32Array(h.buffer, h.byteOffset, h.length * 2), t, s, x, r, ids };
}

/** Rows of the stored order looked at before the full read. */
const PROBE_ROWS = 20_000;

/**
 * Whether the first PROBE_ROWS rows come one run per unit. The full read materializes every relevant row before
 * the first unit is looked at, so on a table in no particular order (where a unit soon comes back: among 20,000
 * rows of even 10M units, dozens do) this probe saves that whole query; a clustered table passes it, and the
 * full read still checks every row.
 */
async function looksClustered(session: AnalysisSession, query: BuiltQuery): Promise<boolean> {
  const sql = `SELECT h FROM (${query.sql}) LIMIT ${PROBE_ROWS}`;
  let rows: DuckDBValue[][];
  try {
    rows = (await session.connection.runAndReadAll(sql, query.params as DuckDBValue[])).getRows();
  } catch (err) {
    throw queryFailed(err, sql);
  }
  const seen = new Set<unknown>();
  for (let i = 0; i < rows.length; i++) {
    const h = rows[i]![0];
    if (i > 0 && h === rows[i - 1]![0]) continue;
    if (seen.has(h)) return false;
    seen.add(h);
  }
  return true;
}

/**
 * Calls `onUnit` with each unit's events in time order and returns true; or returns false when some unit came in
 * more than one run (the table is not clustered by unit) — `onUnit` has then been called for some or all units
 * already, and the caller must discard what it collected. Both arguments of `onUnit` are reused from unit to
 * unit: read them inside the callback. `withIds`: the query carries unit_id (UnitCursor.id() works).
 */
export async function forEachStoredUnit(
  session: AnalysisSession,
  query: BuiltQuery,
  fields: UnitFields,
  withIds: boolean,
  onUnit: (events: UnitEvents, unit: UnitCursor) => void,
): Promise<boolean> {
  const events = new UnitEvents();
  const cursor = new UnitCursor();
  const sorter = new Sorter();
  if (!(await looksClustered(session, query))) return false;
  // Materialized, not streamed, and its chunks read synchronously: DuckDB fills the result on all its threads at
  // once; a streamed fetch per chunk (~480 for 10M events) cost more CPU than the scan, and an asynchronous
  // fetchChunk per chunk more than getChunk.
  const result = await runStatement(session, query);
  const log = new RunLog();
  let open = false;
  let curLo = 0;
  let curHi = 0;
  let ordered = true;
  const chunks = result.chunkCount;
  for (let k = 0; k < chunks; k++) {
    const chunk = result.getChunk(k);
    const rows = chunk.rowCount;
    const { h, t, s, x, r, ids } = chunkColumns(chunk, fields, withIds);
    for (let i = 0; i < rows; ) {
      const lo = h[2 * i]!;
      const hi = h[2 * i + 1]!;
      let j = i + 1;
      while (j < rows && h[2 * j] === lo && h[2 * j + 1] === hi) j++;
      if (open && lo === curLo && hi === curHi) {
        // The unit's run goes on from the previous chunk.
        if (!events.append(t, s, x, r, i, j)) ordered = false;
      } else {
        if (open) {
          if (!ordered) sorter.sort(events, null);
          onUnit(events, cursor);
        }
        if (!log.add(lo, hi)) return false;
        open = true;
        curLo = lo;
        curHi = hi;
        events.reset(0, null);
        cursor.moveTo(ids, i);
        ordered = events.append(t, s, x, r, i, j);
      }
      i = j;
    }
    if (open) cursor.pin();
  }
  if (open) {
    if (!ordered) sorter.sort(events, null);
    onUnit(events, cursor);
  }
  return log.distinct();
}
