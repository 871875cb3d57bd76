/**
 * Errors a user can act on carry a stable code, a hint saying what to do, and the place (file, line, field,
 * source) where the problem is. Anything that is not a UsageLabError is a bug and is printed with its stack.
 */
import { EXIT, type ExitCode } from './exit-codes.js';

export interface ErrorPlace {
  file?: string;
  line?: number;
  column?: number;
  field?: string;
  source?: string;
}

export interface UsageLabErrorOptions {
  hint?: string;
  place?: ErrorPlace;
  exitCode?: ExitCode;
  cause?: unknown;
  /** Transient errors (network, rate limits) may be retried; terminal ones may not. */
  retryable?: boolean;
}

export class UsageLabError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly place: ErrorPlace;
  readonly exitCode: ExitCode;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: UsageLabErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UsageLabError';
    this.code = code;
    this.hint = options.hint;
    this.place = options.place ?? {};
    this.exitCode = options.exitCode ?? EXIT.usage;
    this.retryable = options.retryable ?? false;
  }

  /** "file:line:column" (whatever parts are known), for messages. */
  get where(): string | undefined {
    const { file, line, column } = this.place;
    if (file === undefined) return undefined;
    return [file, line, line === undefined ? undefined : column].filter((p) => p !== undefined).join(':');
  }

  toJSON(): Record<string, unknown> {
    return {
      error: this.message,
      code: this.code,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(Object.keys(this.place).length === 0 ? {} : { place: this.place }),
    };
  }
}

export function isUsageLabError(err: unknown): err is UsageLabError {
  return err instanceof UsageLabError;
}

/** Formats an error for a terminal: place, message, code and hint on their own lines. */
export function formatError(err: UsageLabError): string {
  const where = err.where;
  const fieldPart = err.place.field === undefined ? '' : ` (field ${err.place.field})`;
  // Some messages already start with the file; say it once.
  const file = err.place.file;
  const message = file !== undefined && err.message.startsWith(file) ? err.message.slice(file.length).replace(/^[:\s]+/, '') : err.message;
  const lines = [`error[${err.code}]: ${where === undefined ? '' : `${where}: `}${message}${fieldPart}`];
  if (err.hint !== undefined) lines.push(`  hint: ${err.hint}`);
  return lines.join('\n');
}
