/**
 * Worker-thread entry of a demo part: runs generatePart on its workerData and posts the result back. A failure
 * is posted as { error } so the parent can name it (a thrown error would reach it without its message's context).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { generatePart, type PartInput } from './demo-part.js';

try {
  parentPort!.postMessage({ result: await generatePart(workerData as PartInput) });
} catch (err) {
  parentPort!.postMessage({ error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) });
}
