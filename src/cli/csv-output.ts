/**
 * CSV as usagelab writes it (RFC 4180): quoted when needed, CRLF-free values kept intact inside quotes, and
 * text cells that a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) prefixed with a
 * single quote (OWASP CSV injection guidance). Numbers stay numbers, so -3 is not touched.
 */

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text: string;
  if (typeof value === 'number' || typeof value === 'bigint') text = String(value);
  else if (typeof value === 'boolean') text = value ? 'true' : 'false';
  else if (typeof value === 'object') text = JSON.stringify(value);
  else {
    text = String(value);
    if (FORMULA_START.test(text)) text = `'${text}`;
  }
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Header from the union of the rows' keys, in first-seen order. */
export function formatCsv(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const lines = [cols.map(csvCell).join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))];
  return `${lines.join('\n')}\n`;
}
