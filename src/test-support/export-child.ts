/**
 * Child process for the export crash test: `export-child.ts <workspace> <source> <endpoint> <now> [--from D]
 * [--to D] [--resume]` exports through the library (masking included) against a fake vendor server.
 */
import { exportSource, openExportWorkspace } from '../library/export-source.js';
import { clockAt, FAST_BACKOFF, FAST_TIMEOUTS } from './export-test-kit.js';

const [dir, source, endpoint, now, ...flags] = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = flags.indexOf(name);
  return i < 0 ? undefined : flags[i + 1];
};
const ws = openExportWorkspace(dir, {});
process.stdout.write('started\n');
const result = await exportSource(ws, source!, {
  from: flag('--from'),
  to: flag('--to'),
  resume: flags.includes('--resume'),
  endpoint,
  env: {},
  clock: clockAt(now!),
  backoff: FAST_BACKOFF,
  timeouts: FAST_TIMEOUTS,
});
process.stdout.write(`done ${result.exit_code}\n`);
