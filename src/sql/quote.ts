/**
 * The one place identifiers and literals are turned into SQL text. Analyses bind values as parameters; these
 * exist for the few places a parameter cannot go (identifiers, DDL) and must make any input inert.
 */
import { UsageLabError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';

/** A double-quoted identifier; embedded quotes are doubled, so no input can end the identifier early. */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.includes('\u0000')) {
    throw new UsageLabError('sql_identifier_invalid', `not a usable SQL identifier: ${JSON.stringify(name)}`, {
      exitCode: EXIT.internal,
      hint: 'this is likely a bug in usagelab; please report it',
    });
  }
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A single-quoted string literal in standard SQL, as DuckDB reads it (quotes doubled; a backslash is an ordinary
 * character). ClickHouse treats backslashes as escapes, so its dialect needs its own literal function.
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\u0000')) {
    throw new UsageLabError('sql_literal_invalid', 'a SQL string literal cannot contain a NUL character', {
      exitCode: EXIT.usage,
      hint: 'remove the NUL character from the value',
    });
  }
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * A ClickHouse identifier in backticks. ClickHouse reads backslash escapes inside quoted identifiers, so
 * backslashes are doubled as well as backticks escaped.
 */
export function quoteClickhouseIdent(name: string): string {
  quoteIdent(name); // the same refusals (empty, NUL)
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

/** A ClickHouse string literal (DDL only: queries bind values): backslashes and quotes escaped. */
export function quoteClickhouseLiteral(value: string): string {
  quoteLiteral(value);
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
