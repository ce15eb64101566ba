import { describe, expect, it } from 'vitest';
import { McError } from '../model/lang/errors.js';
import { mergeShards, mergedExit } from './mergeCommand.js';

/** A shard's JSON record, as check --shard I/N --format json prints it (only what merge reads). */
function shard(i: number, n: number, over: Record<string, unknown> = {}) {
  return {
    protocol: 'p',
    variant: null,
    params: {},
    engine: 'explicit',
    status: 'ok',
    guarantee: 'shard',
    states: 100,
    transitions: 300,
    depth: 7,
    elapsedMs: 1000 * i,
    statesPerSec: 1,
    storeBytes: 1,
    bytesPerState: 1,
    symmetry: false,
    shard: `${i}/${n}`,
    shardCheck: 'abc',
    covers: [{ name: 'c', requirement: 'R', reached: i === 2, depth: i === 2 ? 5 : null }],
    violations: i === 2 ? [] : [{ property: 'c', requirement: 'R', kind: 'cover', length: null, trace: null, message: 'never reached' }],
    ...over,
  } as never;
}

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof McError ? e.code : 'other';
  }
  return 'none';
};

describe('merge of shards', () => {
  it('a cover one shard reaches is reached; all shards complete with exact stores: exhaustive', () => {
    const m = mergeShards([shard(1, 2, { status: 'violated' }), shard(2, 2)]);
    expect([m.status, m.guarantee, m.statesSum, m.elapsedMsMax]).toEqual(['ok', 'exhaustive', 200, 2000]);
    expect(mergedExit(m)).toBe(0);
  });

  it('keeps the shortest violation over the shards', () => {
    const v = (length: number) => ({ property: 'inv', requirement: 'R', kind: 'invariant', length, trace: `t${length}`, message: 'm' });
    const m = mergeShards([shard(1, 2, { status: 'violated', violations: [v(9)] }), shard(2, 2, { status: 'violated', violations: [v(4)] })]);
    expect([m.status, m.violations.map((x) => x.length)]).toEqual(['violated', [4]]);
    expect(mergedExit(m)).toBe(1);
  });

  it("hash compaction: the probability of a missed state is bounded by the sum of the shards'", () => {
    const hc = (i: number, p: number) => shard(i, 2, { store: 'hash-compaction', omissionProbability: p, covers: [], violations: [] });
    const m = mergeShards([hc(1, 1e-9), hc(2, 2e-9)]);
    expect(m.guarantee).toBe('hash-compaction');
    expect(m.omissionProbability).toBeCloseTo(3e-9, 20);
  });

  it('a missing or incomplete shard: incomplete (exit 3); another check or a repeated shard: MC032', () => {
    const missing = mergeShards([shard(1, 3), shard(2, 3)]);
    expect([missing.status, missing.reason]).toEqual(['incomplete', 'shard 3/3 missing']);
    expect(mergedExit(missing)).toBe(3);
    expect(mergeShards([shard(1, 2), shard(2, 2, { status: 'incomplete', reason: 'time limit' })]).status).toBe('incomplete');
    expect(code(() => mergeShards([shard(1, 2), shard(2, 2, { shardCheck: 'other' })]))).toBe('MC032');
    expect(code(() => mergeShards([shard(1, 2), shard(1, 2)]))).toBe('MC032');
  });
});
