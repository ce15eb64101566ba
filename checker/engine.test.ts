/**
 * The one computation of the engine interface: bytes per stored state, a figure the benchmarks and
 * `--format json` report. It must be null while a store holds fewer states than it preallocates
 * room for (the division would measure the preallocation), and rounded to one decimal after.
 */
import { describe, expect, it } from 'vitest';
import { PREALLOCATED_STATES, bytesPerStateOf } from './engine.js';

describe('bytesPerStateOf', () => {
  it('is null below the preallocated size, and a figure from exactly that size on', () => {
    expect(PREALLOCATED_STATES).toBe(65536);
    expect(bytesPerStateOf(10_000_000, PREALLOCATED_STATES - 1)).toBeNull();
    expect(bytesPerStateOf(10_000_000, 0)).toBeNull();
    expect(bytesPerStateOf(65536 * 40, PREALLOCATED_STATES)).toBe(40);
  });

  it('divides bytes by states and rounds to one decimal', () => {
    // 1,000,000 / 70,000 = 14.2857...: rounded to 14.3 (not truncated, not to an integer).
    expect(bytesPerStateOf(1_000_000, 70_000)).toBe(14.3);
    // 1,003,000 / 100,000 = 10.03: rounded down to 10.
    expect(bytesPerStateOf(1_003_000, 100_000)).toBe(10);
    expect(bytesPerStateOf(2_500_000, 100_000)).toBe(25);
  });
});
