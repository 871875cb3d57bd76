/**
 * Runs numbered tasks a few at a time on a fixed set of slots (the import's DuckDB connections), starting them in
 * order of number. The outcome is that of running them one after another: after a failure no further task starts,
 * the tasks in flight finish, and the error thrown is that of the lowest-numbered failing task.
 */
export interface SlotPoolOptions {
  /** Task i runs with nothing else in flight, and the next task waits for it (a large file: memory). */
  readonly alone?: (i: number) => boolean;
  /** Called when task i starts. */
  readonly onStart?: (i: number) => void;
}

export async function runInSlots<S>(
  count: number,
  slots: readonly S[],
  task: (i: number, slot: S) => Promise<void>,
  options: SlotPoolOptions = {},
): Promise<void> {
  if (slots.length === 0) throw new Error('runInSlots: no slots');
  const idle = [...slots];
  const running = new Map<number, Promise<void>>();
  const failures = new Map<number, unknown>();
  const settled = (): Promise<void> => Promise.race(running.values());
  for (let i = 0; i < count; i++) {
    const alone = options.alone?.(i) === true;
    while (running.size > 0 && (alone || idle.length === 0)) await settled();
    if (failures.size > 0) break;
    const slot = idle.pop()!;
    options.onStart?.(i);
    // Settles asynchronously, whatever the task does: the bookkeeping never runs before the entry exists.
    const done = Promise.resolve()
      .then(() => task(i, slot))
      .catch((err: unknown) => {
        failures.set(i, err);
      })
      .finally(() => {
        running.delete(i);
        idle.push(slot);
      });
    running.set(i, done);
    if (alone) await done;
  }
  await Promise.all(running.values());
  if (failures.size > 0) throw failures.get(Math.min(...failures.keys()));
}
