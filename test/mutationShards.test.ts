/**
 * The split of the mutated files into shards (`npm run mutation -- --shard I/N`, mutation/shards.mjs):
 * a CI matrix of N jobs must mutate every file exactly once, in jobs of about equal size, and a file
 * must stay in its shard when another file changes elsewhere.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript module of the mutation tooling, with JSDoc types only
import { shardOf } from '../mutation/shards.mjs';

const split = shardOf as (files: readonly string[], sizeOf: (f: string) => number, index: number, count: number) => string[];

function shards(sizes: readonly number[], count: number): string[][] {
  const files = sizes.map((_, i) => `f${String(i).padStart(3, '0')}.ts`);
  const size = new Map(files.map((f, i) => [f, sizes[i] as number]));
  return Array.from({ length: count }, (_, k) => split(files, (f) => size.get(f) ?? 0, k + 1, count));
}

describe('shards of the mutated files', () => {
  it('cover every file exactly once, each shard a run of consecutive files, for any sizes and count', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(50_000), { maxLength: 80 }), fc.integer({ min: 1, max: 12 }), (sizes, count) => {
        const parts = shards(sizes, count);
        expect(parts.flat()).toEqual(sizes.map((_, i) => `f${String(i).padStart(3, '0')}.ts`));
      }),
    );
  });

  it('are of about equal size: no shard holds more than 1/N of the bytes plus its largest file', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50_000 }), { minLength: 1, maxLength: 80 }), fc.integer({ min: 1, max: 12 }), (sizes, count) => {
        const total = sizes.reduce((a, b) => a + b, 0);
        const size = (f: string) => sizes[Number(f.slice(1, 4))] as number;
        for (const part of shards(sizes, count)) {
          const bytes = part.reduce((a, f) => a + size(f), 0);
          const largest = Math.max(0, ...part.map(size));
          expect(bytes).toBeLessThanOrEqual(total / count + largest);
        }
      }),
    );
  });

  it('eight files of 10 bytes in four shards are two consecutive files each', () => {
    expect(shards([10, 10, 10, 10, 10, 10, 10, 10], 4)).toEqual([
      ['f000.ts', 'f001.ts'],
      ['f002.ts', 'f003.ts'],
      ['f004.ts', 'f005.ts'],
      ['f006.ts', 'f007.ts'],
    ]);
  });

  it('a file that grows moves only the file at the cut to the next shard', () => {
    const before = shards([10, 10, 10, 10, 10, 10, 10, 10], 2);
    const after = shards([30, 10, 10, 10, 10, 10, 10, 10], 2);
    expect(before).toEqual([
      ['f000.ts', 'f001.ts', 'f002.ts', 'f003.ts'],
      ['f004.ts', 'f005.ts', 'f006.ts', 'f007.ts'],
    ]);
    expect(after).toEqual([
      ['f000.ts', 'f001.ts', 'f002.ts'],
      ['f003.ts', 'f004.ts', 'f005.ts', 'f006.ts', 'f007.ts'],
    ]);
  });
});
