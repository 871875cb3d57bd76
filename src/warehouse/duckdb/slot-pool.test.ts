import { describe, expect, it } from 'vitest';
import { runInSlots } from './slot-pool.js';

/** A task log: which tasks ran at once, in what order they started, on which slot. */
function recorder(delays: readonly number[], fail: ReadonlySet<number> = new Set()) {
  const started: number[] = [];
  const slotOf = new Map<number, string>();
  const inFlight = new Set<number>();
  let most = 0;
  const overlaps = new Map<number, number[]>();
  const task = async (i: number, slot: string): Promise<void> => {
    started.push(i);
    slotOf.set(i, slot);
    for (const j of inFlight) {
      overlaps.set(i, [...(overlaps.get(i) ?? []), j]);
      overlaps.set(j, [...(overlaps.get(j) ?? []), i]);
    }
    inFlight.add(i);
    most = Math.max(most, inFlight.size);
    await new Promise((r) => setTimeout(r, delays[i] ?? 1));
    inFlight.delete(i);
    if (fail.has(i)) throw new Error(`task ${i} failed`);
  };
  return { task, started, slotOf, overlaps, most: () => most };
}

describe('runInSlots', () => {
  it('starts tasks in order, at most one per slot at a time, and runs them side by side', async () => {
    const r = recorder([200, 5, 5, 5, 5, 5, 20]);
    await runInSlots(7, ['a', 'b'], r.task);
    expect(r.started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(r.most()).toBe(2);
    // Task 0 is long: the other slot ran tasks 1..4 meanwhile.
    expect(r.overlaps.get(0)).toEqual(expect.arrayContaining([1, 2, 3]));
    // No slot ran two tasks at once.
    for (const [i, others] of r.overlaps) for (const j of others) expect(r.slotOf.get(i)).not.toBe(r.slotOf.get(j));
  });

  it('runs a task marked alone with nothing else in flight, and the next one after it', async () => {
    const r = recorder([20, 20, 5, 20, 20, 5]);
    await runInSlots(6, ['a', 'b', 'c'], r.task, { alone: (i) => i === 2 || i === 5 });
    expect(r.overlaps.get(2)).toBeUndefined();
    expect(r.overlaps.get(5)).toBeUndefined();
    expect(r.overlaps.get(0)).toEqual([1]);
    expect(r.overlaps.get(3)).toEqual([4]);
  });

  it('after a failure starts nothing new and throws the lowest failing task’s error, as one at a time would', async () => {
    // Task 2 fails first in time; task 1, started earlier and still running, fails later: 1 is reported.
    const r = recorder([5, 40, 1, 5, 5, 5, 5, 5], new Set([1, 2]));
    await expect(runInSlots(8, ['a', 'b'], r.task)).rejects.toThrow('task 1 failed');
    expect(r.started).toEqual([0, 1, 2]);
  });

  it('waits for the tasks in flight before throwing', async () => {
    let finished = false;
    const task = async (i: number): Promise<void> => {
      if (i === 0) throw new Error('first');
      await new Promise((r) => setTimeout(r, 30));
      finished = true;
    };
    await expect(runInSlots(2, ['a', 'b'], task)).rejects.toThrow('first');
    expect(finished).toBe(true);
  });

  it('a task that throws before it awaits anything is a failure like any other', async () => {
    const task = (i: number): Promise<void> => {
      if (i === 1) throw new Error('sync');
      return Promise.resolve();
    };
    await expect(runInSlots(3, ['a'], task)).rejects.toThrow('sync');
  });
});
