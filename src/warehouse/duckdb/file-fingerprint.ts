/**
 * A cheap file fingerprint for import lineage: sha256 over the size, the first MiB and the last MiB. Hashing a
 * whole multi-gigabyte export would cost more than parsing it; this still tells re-runs of the same file apart
 * from a different export with high probability.
 */
import { createHash } from 'node:crypto';
import { openSync, readSync, closeSync, statSync } from 'node:fs';

const SPAN = 1024 * 1024;

export function fileFingerprint(path: string): string {
  const { size } = statSync(path);
  const hash = createHash('sha256').update(`size:${size};`);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(SPAN, size));
    hash.update(buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)));
    if (size > SPAN) hash.update(buf.subarray(0, readSync(fd, buf, 0, buf.length, Math.max(SPAN, size - SPAN))));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
