/** A progress bar on stderr for long imports (rows, bytes, rate, ETA); silent when not on a terminal. */
import cliProgress from 'cli-progress';
import type { ImportProgress } from '../warehouse/duckdb/duckdb-import.js';
import { redactedStderr, type Io } from './output.js';

function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/**
 * `update` is undefined when stderr is not a terminal: an import given no listener does not have DuckDB track its
 * statements' progress at all.
 */
export function importProgressBar(io: Io): { update: ((p: ImportProgress) => void) | undefined; stop: () => void } {
  if (!io.isTTY) return { update: undefined, stop: () => undefined };
  const started = Date.now();
  const bar = new cliProgress.SingleBar(
    {
      format: '{phase} [{bar}] {percentage}% | {done}/{size} | {rows} rows | {rate}/s | ETA {remaining} | {file}',
      hideCursor: true,
      stream: redactedStderr,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let startedBar = false;
  return {
    update(p) {
      const total = Math.max(1, Math.round(p.bytesTotal));
      const elapsed = Math.max(0.001, (Date.now() - started) / 1000);
      const perSecond = p.bytesDone / elapsed;
      const payload = {
        phase: p.phase.padEnd(10),
        done: bytes(p.bytesDone),
        size: bytes(p.bytesTotal),
        remaining: p.bytesDone <= 0 || perSecond <= 0 ? '…' : p.bytesDone >= p.bytesTotal ? '0s' : `${Math.ceil((p.bytesTotal - p.bytesDone) / perSecond)}s`,
        rows: p.rowsRead.toLocaleString('en-US'),
        rate: bytes(perSecond),
        file: p.file === undefined ? '' : p.file.split('/').pop(),
      };
      if (!startedBar) {
        bar.start(total, 0, payload);
        startedBar = true;
      }
      bar.update(Math.min(total, Math.round(p.bytesDone)), payload);
    },
    stop() {
      if (startedBar) bar.stop();
    },
  };
}
