/**
 * JSON in and out without losing integer digits. Vendors send 64-bit ids as JSON numbers (Amplitude's
 * `amplitude_id`, `event_id`); JSON.parse rounds anything past 2^53, and an export that rewrites a record must not
 * change an id. Integers that are not safe come back as `bigint`, and `stringifyLossless` writes them as the same
 * digits. Fractions keep JavaScript's double precision (their last digit may change: documented).
 */

/**
 * Whether the text holds a digit run long enough to be an unsafe integer (|n| > 2^53 = 9007199254740992: 17 digits,
 * or 16 starting with 9); lines without one take JSON.parse's fast path. GA4's microsecond timestamps (16 digits,
 * starting with 1) are safe. A loop over the characters: the equivalent /9\d{15}|\d{17}/ cost the demo's
 * generation 3 s of its masking.
 */
export function hasLongDigitRun(text: string): boolean {
  let run = 0;
  let first = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (run === 0) first = c;
      run++;
      if (run >= 17 || (run === 16 && first === 57)) return true;
    } else run = 0;
  }
  return false;
}
const MARK = '\u0000usagelab-int:';
const MARKED = /"\\u0000usagelab-int:(-?\d+)"/g;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Rewrites unsafe integer literals outside strings as marked strings. */
function markUnsafeIntegers(text: string): string {
  let out = '';
  let copied = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i += 2;
        else if (d === 34) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === 45 /* - */ || isDigit(c)) {
      const startNum = i;
      if (c === 45) i++;
      while (i < n && isDigit(text.charCodeAt(i))) i++;
      const intEnd = i;
      let fraction = false;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 46 || d === 101 || d === 69 || d === 43 || d === 45 || isDigit(d)) {
          fraction = true;
          i++;
        } else break;
      }
      if (!fraction) {
        const literal = text.slice(startNum, intEnd);
        if (!Number.isSafeInteger(Number(literal))) {
          out += `${text.slice(copied, startNum)}"\\u0000usagelab-int:${literal}"`;
          copied = intEnd;
        }
      }
      continue;
    }
    i++;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

function revive(_key: string, value: unknown): unknown {
  return typeof value === 'string' && value.startsWith(MARK) ? BigInt(value.slice(MARK.length)) : value;
}

/** JSON.parse, except that integers beyond ±2^53 become bigint. Throws SyntaxError like JSON.parse. */
export function parseLossless(text: string): unknown {
  if (!hasLongDigitRun(text)) return JSON.parse(text);
  const marked = markUnsafeIntegers(text);
  return marked === text ? JSON.parse(text) : JSON.parse(marked, revive);
}

/** JSON.stringify that writes bigint values as plain integer literals. */
export function stringifyLossless(value: unknown): string {
  let sawBigint = false;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    sawBigint = true;
    return `${MARK}${v.toString()}`;
  });
  return sawBigint ? text.replace(MARKED, '$1') : text;
}
