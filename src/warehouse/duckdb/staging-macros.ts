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
  `CREATE OR REPLACE TEMP MACRO ul_instant(x) AS (
    CASE
      WHEN x IS NULL OR trim(CAST(x AS VARCHAR)) = '' THEN NULL
      WHEN regexp_full_match(trim(CAST(x AS VARCHAR)), '-?[0-9]{1,20}') THEN (
        CASE
          WHEN abs(trim(CAST(x AS VARCHAR))::HUGEINT) < 100000000000 THEN ul_epoch_us(trim(CAST(x AS VARCHAR))::BIGINT * 1000000)
          WHEN abs(trim(CAST(x AS VARCHAR))::HUGEINT) < 100000000000000 THEN ul_epoch_us(trim(CAST(x AS VARCHAR))::BIGINT * 1000)
          WHEN abs(trim(CAST(x AS VARCHAR))::HUGEINT) < 100000000000000000 THEN ul_epoch_us(trim(CAST(x AS VARCHAR))::BIGINT)
          ELSE ul_epoch_us((trim(CAST(x AS VARCHAR))::HUGEINT // 1000)::BIGINT)
        END)
      WHEN regexp_full_match(trim(CAST(x AS VARCHAR)), '-?[0-9]+\\.[0-9]+([eE][+-]?[0-9]+)?') THEN (
        CASE
          WHEN abs(trim(CAST(x AS VARCHAR))::DOUBLE) < 1e11 THEN ul_epoch_us(round(trim(CAST(x AS VARCHAR))::DECIMAL(38,9) * 1000000)::BIGINT)
          WHEN abs(trim(CAST(x AS VARCHAR))::DOUBLE) < 1e14 THEN ul_epoch_us(round(trim(CAST(x AS VARCHAR))::DECIMAL(38,9) * 1000)::BIGINT)
          ELSE ul_epoch_us(round(trim(CAST(x AS VARCHAR))::DOUBLE)::BIGINT)
        END)
      ELSE try_cast(trim(CAST(x AS VARCHAR)) AS TIMESTAMPTZ)
    END)`,
  /** A naive local wall-clock time in zone tz (IANA) → the UTC instant. */
  `CREATE OR REPLACE TEMP MACRO ul_local_to_instant(ts, tz) AS (timezone(tz, CAST(ts AS TIMESTAMP)))`,
  /** Truthy flags as sources write them: true/1/"true"/"1"/"yes"; NULL and anything else is false. */
  `CREATE OR REPLACE TEMP MACRO ul_flag(x) AS (coalesce(lower(trim(CAST(x AS VARCHAR))) IN ('true', '1', 'yes', 't', 'y'), false))`,
  /** Empty strings and the literal "null"/"undefined" that some exports write become NULL. */
  `CREATE OR REPLACE TEMP MACRO ul_text(x) AS (CASE WHEN x IS NULL OR trim(CAST(x AS VARCHAR)) IN ('', 'null', 'undefined', 'NULL') THEN NULL ELSE CAST(x AS VARCHAR) END)`,
  /** Lower-cased dimension, NULL when empty. */
  `CREATE OR REPLACE TEMP MACRO ul_dim(x) AS (lower(ul_text(x)))`,
] as const;
