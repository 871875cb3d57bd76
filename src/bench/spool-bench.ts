/**
 * What sealing a download costs (docs/exporting.md "Downloads are sealed"): the same body written to a scratch
 * file and read back once, in clear (what the exporters did before) and through a sealed spool (AES-256-GCM per
 * 64 KiB chunk). CPU time (user + sys) is the figure that matters: wall time depends on the disk and the load.
 * BENCH_SPOOL_MB sets the body size (default 100).
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SealedSpool } from '../sources/export/sealed-spool.js';

/** NDJSON-like text, 1 MiB, varied enough that nothing about it is special. */
function sampleMiB(): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < 1 << 20; i++) {
    const line = `{"event":"clicked_button","user_id":"user-${i % 977}","time":${1710000000000 + i * 37},"properties":{"url":"https://app.example.com/p/${(i * 7919) % 10007}","n":${i}}}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, 1 << 20);
}

function body(mib: number, sample: Buffer): Readable {
  let left = mib;
  return new Readable({
    read() {
      this.push(left-- > 0 ? sample : null);
    },
  });
}

const sink = (): Writable => new Writable({ write: (_c, _e, done) => done() });

async function measure(fn: () => Promise<void>): Promise<{ cpuMs: number; wallMs: number }> {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  await fn();
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - wall };
}

export async function runSpoolBench(): Promise<void> {
  const mib = Number(process.env.BENCH_SPOOL_MB ?? 100);
  const sample = sampleMiB();
  const dir = mkdtempSync(join(tmpdir(), 'usagelab-spool-bench-'));
  try {
    const rounds = 3;
    const plain: { cpuMs: number; wallMs: number }[] = [];
    const sealed: { cpuMs: number; wallMs: number }[] = [];
    for (let r = 0; r < rounds; r++) {
      const path = join(dir, `plain-${r}`);
      plain.push(
        await measure(async () => {
          await pipeline(body(mib, sample), createWriteStream(path));
          await pipeline(createReadStream(path, { highWaterMark: 1 << 16 }), sink());
        }),
      );
      rmSync(path);
      sealed.push(
        await measure(async () => {
          const spool = new SealedSpool(dir, `sealed-${r}`);
          await pipeline(body(mib, sample), spool.writer());
          await pipeline(spool.stream(), sink());
          spool.dispose();
        }),
      );
    }
    const best = (xs: { cpuMs: number; wallMs: number }[]) => xs.reduce((a, b) => (b.cpuMs < a.cpuMs ? b : a));
    const p = best(plain);
    const s = best(sealed);
    const line = (name: string, m: { cpuMs: number; wallMs: number }): string => `${name.padEnd(28)} cpu ${m.cpuMs.toFixed(0).padStart(6)} ms   wall ${m.wallMs.toFixed(0).padStart(6)} ms`;
    process.stdout.write(`spool: ${mib} MiB written once and read once (best of ${rounds} by CPU)\n`);
    process.stdout.write(`${line('clear scratch file', p)}\n${line('sealed spool (AES-256-GCM)', s)}\n`);
    process.stdout.write(`overhead: ${(s.cpuMs - p.cpuMs).toFixed(0)} ms CPU (${((s.cpuMs - p.cpuMs) / mib).toFixed(2)} ms per MiB)\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
