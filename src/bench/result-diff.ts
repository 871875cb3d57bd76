/**
 * Exact comparison of two analysis results for the engine columns of the analysis bench, with the equality the
 * engine tests assert (vitest `toEqual`): same structure and values, numbers compared with Object.is (no
 * tolerance: -0 and 0 differ, NaN equals NaN), key order ignored, a property holding `undefined` the same as a
 * missing one. Unlike `toEqual` it returns where the first difference is, so the bench can print it.
 */

/** A difference: the JSON path where the results part, and the value on each side. */
export interface ResultDifference {
  path: string;
  left: string;
  right: string;
}

const isPlain = (v: object): boolean => {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

const describe = (v: unknown): string => {
  if (v === undefined) return 'missing';
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Date) return `Date(${Number.isNaN(v.getTime()) ? 'invalid' : v.toISOString()})`;
  if (Array.isArray(v)) return `array(${v.length})`;
  if (typeof v === 'object' && v !== null) return isPlain(v) ? 'object' : (v.constructor?.name ?? 'object');
  return JSON.stringify(v) ?? String(v);
};

const kindOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : v instanceof Date ? 'date' : typeof v);

const child = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;

/** The first difference between two results (depth first, keys in sorted order), or undefined when equal. */
export function firstDifference(left: unknown, right: unknown, path = '$'): ResultDifference | undefined {
  const differ = (): ResultDifference => ({ path, left: describe(left), right: describe(right) });
  if (Object.is(left, right)) return undefined;
  if (kindOf(left) !== kindOf(right)) return differ();
  if (left instanceof Date && right instanceof Date) return Object.is(left.getTime(), right.getTime()) ? undefined : differ();
  if (Array.isArray(left) && Array.isArray(right)) {
    if (left.length !== right.length) return differ();
    for (let i = 0; i < left.length; i++) {
      const d = firstDifference(left[i], right[i], child(path, i));
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (typeof left === 'object' && left !== null && typeof right === 'object' && right !== null) {
    // Results are JSON-shaped: any other object (Map, Set, class instance) is reported rather than compared by
    // its enumerable keys, which would call two different Maps equal.
    if (!isPlain(left) || !isPlain(right)) return differ();
    const a = left as Record<string, unknown>;
    const b = right as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const d = firstDifference(a[key], b[key], child(path, key));
      if (d !== undefined) return d;
    }
    return undefined;
  }
  // Primitives of the same type that Object.is told apart (numbers, strings, booleans, bigints).
  return differ();
}

export const formatDifference = (d: ResultDifference): string => `${d.path}: DuckDB ${d.left}, ClickHouse ${d.right}`;
