/**
 * Local wall-clock time of an instant without a per-row time-zone conversion. DuckDB's timezone(tz, instant)
 * goes through ICU and costs about 1 µs a row (10 s on 10M events), so the zone's UTC offsets are looked up
 * once for the span a query covers and each event adds its offset with integer arithmetic:
 *
 *   local_us = t_us + offset₀ + Σᵢ [t_us ≥ Tᵢ] · (offsetᵢ − offsetᵢ₋₁)
 *
 * where Tᵢ are the zone's transitions (DST changes) in the span. The offsets come from DuckDB's own ICU data
 * (not Node's), so these local times agree exactly with timezone() used elsewhere.
 */
import type { BoundParams } from '../../sql/bound-params.js';
import type { BuiltQuery } from '../common/run-support.js';
import { BoundParams as Params } from '../../sql/bound-params.js';

export const US_PER_HOUR = 3_600_000_000;
const US_PER_SECOND = 1_000_000;

/** The offset in force from the start of the span, then each transition (instant → new offset). */
export interface ZoneOffsets {
  initialUs: number;
  transitions: { atUs: number; offsetUs: number }[];
}

/** `CAST($n AS BIGINT)` of an integer number of microseconds. */
export function bigintParam(params: BoundParams, value: number): string {
  return `CAST(${params.bind(BigInt(value))} AS BIGINT)`;
}

/**
 * The zone's offset at `fromUs` and every transition up to `toUs`. Samples each whole hour, then finds the exact
 * second of a change within the hour where the offset differs from the hour before (tz transitions fall on whole
 * seconds; two transitions within one hour do not occur in the tz database's modern data).
 */
export function zoneOffsetsQuery(timezone: string, fromUs: number, toUs: number): BuiltQuery {
  const params = new Params();
  const tz = params.bind(timezone);
  const start = Math.floor(fromUs / US_PER_HOUR) * US_PER_HOUR;
  const end = Math.floor(toUs / US_PER_HOUR) * US_PER_HOUR + 2 * US_PER_HOUR;
  const offset = (x: string): string => `(epoch_us(timezone(${tz}, make_timestamptz(${x}))) - ${x})`;
  const sql = `WITH hourly AS (
  SELECT x, ${offset('x')} AS off FROM range(${bigintParam(params, start)}, ${bigintParam(params, end)}, ${US_PER_HOUR}) r(x)
), changes AS (
  SELECT x, prev FROM (SELECT x, off, lag(off) OVER (ORDER BY x) AS prev FROM hourly) WHERE prev IS NOT NULL AND off <> prev
), seconds AS (
  SELECT x AS hour_x, prev, y, ${offset('y')} AS off
  FROM (SELECT x, prev, unnest(range(x - ${US_PER_HOUR - US_PER_SECOND}, x + 1, ${US_PER_SECOND})) AS y FROM changes)
)
SELECT CAST(NULL AS BIGINT) AS at_us, (SELECT off FROM hourly ORDER BY x LIMIT 1) AS off_us
UNION ALL
SELECT min(y) AS at_us, arg_min(off, y) AS off_us FROM seconds WHERE off <> prev GROUP BY hour_x
ORDER BY at_us NULLS FIRST`;
  return { sql, params: [...params.values] };
}

export function zoneOffsetsFromRows(rows: readonly { at_us: number | null; off_us: number | null }[]): ZoneOffsets {
  const [first, ...rest] = rows;
  return {
    initialUs: Number(first?.off_us ?? 0),
    transitions: rest.map((r) => ({ atUs: Number(r.at_us), offsetUs: Number(r.off_us) })),
  };
}

/** SQL for the local wall-clock time (epoch microseconds as if UTC) of `instantUs`, an epoch-µs BIGINT expression. */
export function localMicrosSql(instantUs: string, offsets: ZoneOffsets, params: BoundParams): string {
  const terms = [instantUs, bigintParam(params, offsets.initialUs)];
  let previous = offsets.initialUs;
  for (const t of offsets.transitions) {
    terms.push(`CAST(${instantUs} >= ${bigintParam(params, t.atUs)} AS BIGINT) * ${bigintParam(params, t.offsetUs - previous)}`);
    previous = t.offsetUs;
  }
  return `(${terms.join(' + ')})`;
}

/**
 * Floor division of a BIGINT expression by a positive constant, naming `a` once (so the engine computes it once).
 * DuckDB's // truncates toward zero; adding a multiple of `b` near 4·10¹⁸ first makes every instant DuckDB can hold
 * in practice non-negative, where truncation is the floor.
 */
export function floorDivSql(a: string, b: number): string {
  const times = 4_000_000_000_000_000_000n / BigInt(b);
  return `((${a}) + ${times * BigInt(b)}) // ${b} - ${times}`;
}
