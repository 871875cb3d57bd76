/**
 * DuckDB macros shared by every source's staging SQL. They encode the parsing rules of docs/events.md once:
 * how any timestamp form becomes a UTC instant, and how flags and ids are read.
 */

/**
 * ul_instant(text) → TIMESTAMPTZ (UTC), NULL when unreadable.
 * - integer strings are epochs, unit by magnitude: |x| < 1e11 seconds, < 1e14 milliseconds, < 1e17
 *   microseconds, else nanoseconds (covers 1973..5138 for ms, so no real event is ambiguous);
 * - decimal strings are epoch seconds with a fraction (ms/µs magnitudes as above when ≥ 1e11);
 * - RFC 3339 / ISO 8601 with an offset or Z is that instant; a naive date-time (with T or a space) is UTC.
 * The session TimeZone is pinned to UTC, so the TIMESTAMP→TIMESTAMPTZ casts below never depend on TZ.
 */
export const STAGING_MACROS = [
  `CREATE OR REPLACE TEMP MACRO ul_epoch_us(us) AS (make_timestamp(us)::TIMESTAMPTZ)`,
  /** Epoch number → instant, the unit chosen by magnitude. */
  `CREATE OR REPLACE TEMP MACRO ul_epoch_number(n) AS (
    CASE
      WHEN abs(n) < 100000000000 THEN ul_epoch_us(CAST(round(n * 1000000) AS BIGINT))
      WHEN abs(n) < 100000000000000 THEN ul_epoch_us(CAST(round(n * 1000) AS BIGINT))
      WHEN abs(n) < 100000000000000000 THEN ul_epoch_us(CAST(round(n) AS BIGINT))
      ELSE ul_epoch_us(CAST(round(n / 1000) AS BIGINT))
    END)`,
  // An ISO date has "-" as its 5th character and no number does (a negative epoch has it 1st): one O(1) test sends
  // strings to the timestamp parser; numbers go through cheap numeric casts. (A failing try_cast is slow in
  // DuckDB, so the common ISO case must never try the numeric casts first.)
  `CREATE OR REPLACE TEMP MACRO ul_instant_text(s) AS (
    CASE
      WHEN s IS NULL OR s = '' THEN NULL
      WHEN substr(s, 5, 1) = '-' THEN try_cast(s AS TIMESTAMPTZ)
      WHEN NOT contains(s, '.') AND try_cast(s AS BIGINT) IS NOT NULL THEN ul_epoch_number(try_cast(s AS BIGINT))
      WHEN try_cast(s AS DECIMAL(38, 9)) IS NOT NULL THEN ul_epoch_number(try_cast(s AS DECIMAL(38, 9)))
      ELSE try_cast(s AS TIMESTAMPTZ)
    END)`,
  `CREATE OR REPLACE TEMP MACRO ul_instant(x) AS (ul_instant_text(trim(CAST(x AS VARCHAR))))`,
  /** A naive local wall-clock time in zone tz (IANA) → the UTC instant. */
  `CREATE OR REPLACE TEMP MACRO ul_local_to_instant(ts, tz) AS (timezone(tz, CAST(ts AS TIMESTAMP)))`,
  /** Truthy flags as sources write them: true/1/"true"/"1"/"yes"; NULL and anything else is false. */
  `CREATE OR REPLACE TEMP MACRO ul_flag(x) AS (coalesce(lower(trim(CAST(x AS VARCHAR))) IN ('true', '1', 'yes', 't', 'y'), false))`,
  /**
   * Empty strings and the literal "null"/"undefined" that some exports write become NULL. Values longer than 9
   * characters cannot be one of those, so most ids skip the trim-and-compare (5x faster on 10M rows).
   */
  `CREATE OR REPLACE TEMP MACRO ul_text_s(s) AS (
    CASE WHEN length(s) > 9 OR s IS NULL THEN s
         WHEN trim(s) = '' OR lower(trim(s)) = 'null' OR trim(s) = 'undefined' THEN NULL
         ELSE s END)`,
  `CREATE OR REPLACE TEMP MACRO ul_text(x) AS (ul_text_s(CAST(x AS VARCHAR)))`,
  /** Lower-cased dimension, NULL when empty. */
  `CREATE OR REPLACE TEMP MACRO ul_dim(x) AS (lower(ul_text(x)))`,
] as const;
