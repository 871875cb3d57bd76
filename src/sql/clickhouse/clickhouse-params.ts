/**
 * ClickHouse query parameters: `{p1:String}` placeholders with the values kept apart and sent with the query
 * (server-side binding), so user-supplied names and values never become SQL text. ClickHouse needs a type in
 * every placeholder; the default follows the JS value, and callers name the type where it matters (Date, Float64).
 */
import type { BoundValue } from '../bound-params.js';

export type ClickhouseParamValue = BoundValue | null | readonly (string | number | boolean)[];

/** A statement and its parameter values, by placeholder name. */
export interface ClickhouseQuery {
  sql: string;
  params: Record<string, ClickhouseParamValue>;
}

/** The ClickHouse type a JS value binds as when the caller names none. */
function defaultType(value: ClickhouseParamValue): string {
  if (Array.isArray(value)) return 'Array(String)';
  if (typeof value === 'boolean') return 'Bool';
  if (typeof value === 'bigint') return 'Int64';
  if (typeof value === 'number') return Number.isInteger(value) ? 'Int64' : 'Float64';
  return 'String';
}

const TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9]*(\((?:[A-Za-z0-9_, ']|\([A-Za-z0-9_, ']*\))*\))?$/;

export class ClickhouseParams {
  private readonly map: Record<string, ClickhouseParamValue> = {};
  private count = 0;

  /** Adds a value and returns its placeholder, e.g. `{p3:Date}`. */
  bind(value: ClickhouseParamValue, type?: string): string {
    const t = type ?? defaultType(value);
    // The type is written into the SQL text: only ever a type name from the code, never input.
    if (!TYPE_PATTERN.test(t)) throw new Error(`not a ClickHouse parameter type: ${t}`);
    this.count++;
    const name = `p${this.count}`;
    this.map[name] = value;
    return `{${name}:${t}}`;
  }

  get values(): Record<string, ClickhouseParamValue> {
    return { ...this.map };
  }
}
