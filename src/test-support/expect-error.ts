/** Assertions that a call fails with a UsageLabError of a given code (and, optionally, field). */
import { expect } from 'vitest';
import { UsageLabError } from '../core/errors.js';

function expectUsageLabError(err: unknown, code: string, field?: string): void {
  expect(err).toBeInstanceOf(UsageLabError);
  expect((err as UsageLabError).code).toBe(code);
  if (field !== undefined) expect((err as UsageLabError).place.field).toBe(field);
}

export function expectCode(fn: () => unknown, code: string, field?: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) throw new Error(`expected ${code}, but nothing was thrown`);
  expectUsageLabError(thrown, code, field);
}

export async function expectRunCode(promise: Promise<unknown>, code: string, field?: string): Promise<void> {
  const failure = await promise.then(
    () => undefined,
    (e: unknown) => e ?? new Error('rejected with undefined'),
  );
  if (failure === undefined) throw new Error(`expected ${code}, but the call succeeded`);
  expectUsageLabError(failure, code, field);
}
