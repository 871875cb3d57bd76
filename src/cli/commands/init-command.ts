import { initWorkspace } from '../../library/init-workspace.js';
import { printJson, type Io } from '../output.js';
import { EXIT, type ExitCode } from '../../core/exit-codes.js';

export function initCommand(io: Io, dir: string, json: boolean): ExitCode {
  const result = initWorkspace(dir);
  if (json) printJson(io, result);
  else {
    io.stdout(`workspace: ${result.root}\n`);
    for (const f of result.created) io.stdout(`  created  ${f}\n`);
    for (const f of result.kept) io.stdout(`  kept     ${f} (already there, not changed)\n`);
    io.stdout(`next: usagelab import FILE...   (or: usagelab demo to try it on sample data)\n`);
  }
  return EXIT.ok;
}
