/**
 * Runs one registered CLI command in-process, the way main.ts would, and keeps what it printed and the exit
 * code it set, so command tests need no child process.
 */
import { Command } from 'commander';
import type { ExitCode } from '../core/exit-codes.js';
import type { CommandContext } from '../cli/command-context.js';
import { reportError } from '../cli/output.js';

export interface CommandRun extends CommandContext {
  out: string;
  err: string;
  exitCode: ExitCode | undefined;
  json: boolean;
}

export type RegisterCommand = (program: Command, ctx: CommandContext) => void;

export function commandRun(workspaceDir: string | undefined): CommandRun {
  const run: CommandRun = {
    out: '',
    err: '',
    exitCode: undefined,
    json: false,
    io: { stdout: (t) => void (run.out += t), stderr: (t) => void (run.err += t), isTTY: false },
    workspace: () => workspaceDir,
    setJson: (json) => void (run.json = json),
    setExitCode: (code) => void (run.exitCode = code),
  };
  return run;
}

/** `usagelab <args...>` with only `register`'s command; errors propagate (UsageLabError for the test to inspect). */
export async function runCommand(register: RegisterCommand, workspaceDir: string | undefined, args: string[]): Promise<CommandRun> {
  const run = commandRun(workspaceDir);
  const program = new Command('usagelab').exitOverride();
  register(program, run);
  await program.parseAsync(args, { from: 'user' });
  return run;
}

/** Like runCommand, but errors are printed and turned into an exit code as main.ts does. */
export async function runCommandReportingErrors(register: RegisterCommand, workspaceDir: string | undefined, args: string[]): Promise<CommandRun> {
  const run = commandRun(workspaceDir);
  const program = new Command('usagelab').exitOverride();
  register(program, run);
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    run.exitCode = reportError(run.io, err, run.json);
  }
  return run;
}
