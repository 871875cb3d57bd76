import { describe, expect, it } from 'vitest';
import { lastCompleteDemoMonth } from './run-demo.js';

describe('the month the demo reports on', () => {
  it('is the last calendar month the window covers whole', () => {
    expect(lastCompleteDemoMonth({ start: '2026-08-01', end: '2026-10-31', months: ['2026-08', '2026-09', '2026-10'] })).toBe('2026-10');
    // A window starting mid-month ends mid-month: its last month is not complete.
    expect(lastCompleteDemoMonth({ start: '2026-01-15', end: '2026-04-14', months: ['2026-01', '2026-02', '2026-03', '2026-04'] })).toBe('2026-03');
    expect(lastCompleteDemoMonth({ start: '2024-02-01', end: '2024-02-29', months: ['2024-02'] })).toBe('2024-02');
    // No whole month: the last one, as far as it goes.
    expect(lastCompleteDemoMonth({ start: '2026-01-15', end: '2026-02-14', months: ['2026-01', '2026-02'] })).toBe('2026-02');
  });
});
