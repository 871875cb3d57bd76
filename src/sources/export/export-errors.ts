/**
 * The export error taxonomy: a stable code per failure with a hint saying what to do (vendor-export-apis.md and
 * the "error messages must say what to do" need). Retryable ones are retried by the HTTP client or the window
 * loop; the rest fail a window (exit 5 for the run) or, for auth and config problems, stop the run.
 */
import { UsageLabError, type UsageLabErrorOptions } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { redactSecrets } from '../../core/secret-redaction.js';

export type ExportErrorCode =
  | 'export_auth_failed'
  | 'export_remote_unavailable'
  | 'export_host_unreachable'
  | 'export_request_rejected'
  | 'export_rate_limited'
  | 'export_network_error'
  | 'export_timeout'
  | 'export_body_truncated'
  | 'export_body_corrupt'
  | 'export_body_terminated'
  | 'export_window_too_large'
  | 'export_incomplete'
  | 'export_record_invalid'
  | 'export_job_failed'
  | 'export_job_timeout'
  | 'export_url_expired'
  | 'export_file_missing'
  | 'export_file_short'
  | 'export_spool_corrupt';

/** Errors that mean "this window's data is not trustworthy yet": retried, then the window fails. */
export function transientError(code: ExportErrorCode, message: string, options: UsageLabErrorOptions = {}): UsageLabError {
  return new UsageLabError(code, message, { exitCode: EXIT.partial, retryable: true, ...options });
}

/** A window that cannot be exported as asked; not retried. */
export function windowError(code: ExportErrorCode, message: string, options: UsageLabErrorOptions = {}): UsageLabError {
  return new UsageLabError(code, message, { exitCode: EXIT.partial, retryable: false, ...options });
}

export function authError(source: string, status: number, hint: string): UsageLabError {
  return new UsageLabError('export_auth_failed', `${source} refused the credentials (HTTP ${status})`, {
    exitCode: EXIT.auth,
    hint,
    place: { source },
  });
}

/** Replaces every known secret, plus this client's (its auth header values), in a message (core/secret-redaction). */
export function redact(text: string, secrets: readonly string[]): string {
  return redactSecrets(text, secrets);
}
