/**
 * What a command registration needs from main.ts: where to print, the global --workspace flag, and how to
 * report its exit code (and whether errors should print as JSON). Keeps each command in its own file.
 */
import type { ExitCode } from '../core/exit-codes.js';
import type { Io } from './output.js';

export interface CommandContext {
  readonly io: Io;
  /** The global -w/--workspace flag. */
  workspace(): string | undefined;
  /** Errors print as JSON on stderr (set before any work that may throw). */
  setJson(json: boolean): void;
  setExitCode(code: ExitCode): void;
}
