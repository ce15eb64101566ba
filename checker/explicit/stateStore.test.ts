/**
 * The visited set (stateStore.ts) on its own: dense ids, duplicates found, parents and rule
 * instances kept, across a chunk boundary and several table growths, with narrow and wide
 * rule-instance numbers; and the packing of states into words (compile.ts) for slot types of 0 to
 * 32 bits, where a slot never straddles two words.
 */
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { bool, enumOf, option, range } from '../../model/lang/types.js';
import { stateArb } from '../../test/arbitraries.js';
import { referenceHash, xorshift } from '../../test/referenceHash.js';
import { compileModel } from '../../model/lang/compile.js';
import { ID_BLOCK, StateStore, hashWords } from './stateStore.js';

describe('StateStore', () => {
  it('after dropping its index, still reads every state by id and counts no index bytes, but refuses inserts', () => {
    const store = new StateStore(2, { tableBits: 4 });
    const w = new Uint32Array(2);
    for (let i = 0; i < 1000; i++) {
      w[0] = i;
      w[1] = ~i >>> 0;
      store.insert(w, 0);
    }
    const withIndex = store.bytes();
    store.dropIndex();
    expect(withIndex - store.bytes()).toBeGreaterThanOrEqual((1000 / 0.75) * 4);
    const back = new Uint32Array(2);
    for (const i of [0, 1, 999]) {
      store.read(i, back, 0);
      expect(Array.from(back)).toEqual([i, ~i >>> 0]);
    }
    expect(() => store.insert(w, 0)).toThrow(/index was dropped/);
  });

  it('a collapsing store whose index was dropped refuses a batch too: the error of its heads is not taken for a full store', () => {
    const store = new StateStore(3, { tableBits: 4, collapse: true });
    const w = Uint32Array.of(1, 2, 3, 4, 5, 6);
    expect(store.insert(w, 0)).toBe(0);
    store.dropIndex();
    expect(() => store.touchCollapsed(w, 2, new Uint32Array(4), new Int32Array(2), false)).toThrow(/index was dropped/);
    expect(store.headFull).toBeNull();
  });

  it('evicted to a file, gives back every state by id and in slices, holds no state bytes, leaves no file, and refuses reads once closed', () => {
    const W = 3;
    const N = 65536 + 700; // two chunks: a slice boundary inside the file
    const store = new StateStore(W, { tableBits: 4 });
    const w = new Uint32Array(W);
    const word = (i: number, k: number) => Math.imul(i + 1, 0x9e3779b1 + k) >>> 0;
    for (let i = 0; i < N; i++) {
      for (let k = 0; k < W; k++) w[k] = word(i, k);
      store.insert(w, 0);
    }
    expect(() => store.evict()).toThrow(/can still insert/);
    store.dropIndex();
    const before = store.bytes();
    const dir = mkdtempSync(join(tmpdir(), 'mc-evict-test-'));
    try {
      expect(store.evict(dir)).toBe(N * W * 4);
      expect(store.isEvicted).toBe(true);
      expect(before - store.bytes()).toBe(N * W * 4);
      // The file is unlinked at once: nothing is left in the folder, yet the states read back.
      expect(readdirSync(dir)).toEqual([]);
      const back = new Uint32Array(W + 2);
      for (const i of [0, 1, 65535, 65536, N - 1]) {
        store.read(i, back, 2);
        expect([i, ...back.subarray(2)]).toEqual([i, ...Array.from({ length: W }, (_, k) => word(i, k))]);
      }
      expect(() => store.read(N, back, 0)).toThrow(RangeError);
      let id = 0;
      let wrong = 0;
      const sizes: number[] = [];
      for (const slice of store.slices()) {
        sizes.push(slice.length / W);
        for (let off = 0; off < slice.length; off += W, id++) for (let k = 0; k < W; k++) if (slice[off + k] !== word(id, k)) wrong++;
      }
      expect([id, sizes, wrong]).toEqual([N, [65536, 700], 0]);
      const part = [...store.slices(65530, 65540)].map((x) => Array.from(x));
      expect(part.flat()).toEqual(Array.from({ length: 10 * W }, (_, j) => word(65530 + Math.floor(j / W), j % W)));
      expect(store.evict(dir)).toBe(0);
      store.closeEvicted();
      expect(() => store.read(0, back, 0)).toThrow(/closed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(platform() === 'linux')('an evicted store holds one descriptor, given back by closeEvicted', () => {
    const open = () => readdirSync('/proc/self/fd').length;
    const store = new StateStore(1, { tableBits: 4 });
    store.insert(Uint32Array.of(42), 0);
    store.dropIndex();
    const before = open();
    store.evict();
    expect(open()).toBe(before + 1);
    store.closeEvicted();
    store.closeEvicted();
    expect(open()).toBe(before);
  });

  it('gives dense ids in insertion order and finds every duplicate, across a chunk and many growths', () => {
    const store = new StateStore(2, { parents: true, maxVia: 10, tableBits: 4 });
    const w = new Uint32Array(2);
    const N = 70_000; // more than one chunk of 65536
    // One assertion over all ids (an expect per insert cost seconds under mutation testing).
    const wrongIds: number[] = [];
    for (let i = 0; i < N; i++) {
      w[0] = i;
      w[1] = i ^ 0x5a5a;
      if (store.insert(w, 0, i - 1, i % 11) !== i) wrongIds.push(i);
    }
    expect(wrongIds).toEqual([]);
    expect(store.count).toBe(N);
    for (const i of [0, 1, 65_535, 65_536, 65_537, N - 1]) {
      w[0] = i;
      w[1] = i ^ 0x5a5a;
      expect(store.insert(w, 0, 0, 0)).toBe(-(i + 1));
      const back = new Uint32Array(3);
      store.read(i, back, 1);
      expect(Array.from(back)).toEqual([0, i, i ^ 0x5a5a]);
      expect(store.parent(i)).toBe(i - 1);
      expect(store.via(i)).toBe(i % 11);
    }
    expect(store.count).toBe(N);
    // Only the word that differs: a state equal in the first word and not the second is new.
    w[0] = 5;
    w[1] = 0;
    expect(store.insert(w, 0, 3, 1)).toBe(N);
  });

  it('reads states at an offset, keeps start states parentless, and walks paths from a start state', () => {
    const store = new StateStore(1, { parents: true, maxVia: 3 });
    const w = Uint32Array.from([9, 7, 8, 6]);
    expect(store.insert(w, 1, -1, 2)).toBe(0);
    expect(store.insert(w, 2, 0, 1)).toBe(1);
    expect(store.insert(w, 3, 1, 3)).toBe(2);
    expect(store.insert(w, 0, -1, 0)).toBe(3);
    expect([store.parent(0), store.parent(3), store.parent(2)]).toEqual([-1, -1, 1]);
    expect(store.path(2)).toEqual([0, 1, 2]);
    expect(store.path(3)).toEqual([3]);
    expect([store.via(0), store.via(1), store.via(2)]).toEqual([2, 1, 3]);
  });

  it('keeps rule-instance numbers of 16 bits and more when told the largest one', () => {
    const narrow = new StateStore(1, { parents: true, maxVia: 0xfffe });
    const wide = new StateStore(1, { parents: true, maxVia: 0xffff });
    const w = new Uint32Array(1);
    narrow.insert(w, 0, -1, 0xfffe);
    wide.insert(w, 0, -1, 0x12345);
    expect(narrow.via(0)).toBe(0xfffe);
    expect(wide.via(0)).toBe(0x12345);
    expect(wide.bytes()).toBeGreaterThan(narrow.bytes());
  });

  it('hashes the same words the same way whatever the table, and differently for other words', () => {
    const a = new StateStore(2, { maxVia: 1 });
    const b = new StateStore(2, { maxVia: 1, tableBits: 10 });
    const w = Uint32Array.from([1, 2, 2, 1]);
    expect(a.hash(w, 0)).toBe(b.hash(w, 0));
    expect(a.hash(w, 0)).not.toBe(a.hash(w, 2));
    expect(new StateStore(1, { maxVia: 1 }).hash(w, 0)).not.toBe(a.hash(w, 0));
    expect(a.hash(w, 0)).toBeGreaterThanOrEqual(0);
  });

  it('counts the bytes of its table and of the states stored (chunk space not yet written is not counted)', () => {
    const s = new StateStore(3, { parents: true, maxVia: 5, tableBits: 8 });
    expect(s.bytes()).toBe(4 * 256);
    s.insert(new Uint32Array(3), 0, -1, 0);
    expect(s.bytes()).toBe(4 * 256 + (3 * 4 + 4 + 2));
    s.insert(Uint32Array.from([1, 0, 0]), 0, 0, 1);
    expect(s.bytes()).toBe(4 * 256 + 2 * (3 * 4 + 4 + 2));
  });
});

/** The indexes i of the states packed in `states` (`words` each) for which `op` does not give `want(i)` (`has`: -(i + 1) when found). */
function misses(store: StateStore, states: Uint32Array, words: number, want: (i: number) => number, op: 'insert' | 'insertShared' | 'has'): number[] {
  const bad: number[] = [];
  for (let i = 0; i * words < states.length; i++) {
    const got = op === 'has' ? (store.has(states, i * words) ? -(i + 1) : 0) : store[op](states, i * words);
    if (got !== want(i)) bad.push(i);
  }
  return bad;
}

/** Inserts of a round: [view 0-2, value]. */
const roundOps = fc.array(fc.tuple(fc.nat({ max: 2 }), fc.nat({ max: 400 })), { minLength: 1, maxLength: 600 });
/** The inserts after which a round ends (and the last one). */
const roundEndsArb = fc.array(fc.nat({ max: 599 }), { maxLength: 4 });

/**
 * Rounds of three views of `owner` inserting at once (`insertShared`), each ended by `settle` with
 * room reserved again before the next (as the search does): a value inserted again gets its id back,
 * every value keeps one id through every move, and at the end the ids are dense and every state is
 * read back at its id and found there. `fill` writes the packed state of a value.
 */
function settleRounds(owner: StateStore, ops: readonly [number, number][], roundEnds: readonly number[], fill: (w: Uint32Array, value: number) => void): void {
  const W = owner.words;
  const views = [owner, new StateStore(W, { buffers: owner.buffers() }), new StateStore(W, { buffers: owner.buffers() })];
  const reserve = () => {
    owner.reserve(ops.length + views.length * ID_BLOCK);
    for (const v of views) v.attach(owner.buffers());
  };
  reserve();
  // The expected id of each distinct state, followed through every settle.
  const idOf = new Map<number, number>();
  const w = new Uint32Array(W);
  ops.forEach(([view, value], i) => {
    fill(w, value);
    const r = (views[view] as StateStore).insertShared(w, 0);
    if (idOf.has(value)) expect(r).toBe(-((idOf.get(value) as number) + 1));
    else {
      expect(r).toBeGreaterThanOrEqual(0);
      idOf.set(value, r);
    }
    if (roundEnds.includes(i) || i === ops.length - 1) {
      for (const v of views.slice(1)) v.releaseIds();
      const moved = owner.settle();
      for (const [value2, id] of idOf) idOf.set(value2, moved.get(id) ?? id);
      expect(owner.count).toBe(idOf.size);
      reserve();
    }
  });
  const back = new Uint32Array(W);
  const want = new Uint32Array(W);
  for (const [value, id] of idOf) {
    owner.read(id, back, 0);
    fill(want, value);
    expect(Array.from(back)).toEqual(Array.from(want));
    expect(owner.insert(back, 0)).toBe(-(id + 1));
  }
  expect([...idOf.values()].sort((x, y) => x - y)).toEqual(Array.from({ length: idOf.size }, (_, i) => i));
}

/** `n` distinct two-word states (state i: i times an odd constant, and 7i), for the tables of 2^20 slots and more. */
function twoWordStates(n: number): Uint32Array {
  const states = new Uint32Array(2 * n);
  for (let i = 0; i < n; i++) {
    states[2 * i] = Math.imul(i, 0x9e3779b1) >>> 0;
    states[2 * i + 1] = (i * 7) >>> 0;
  }
  return states;
}

describe('StateStore: the hash, growth, shared views and figures', () => {
  it('hashes with MurmurHash3 mixing of exactly `words` words from `off` (pinned against an independent BigInt version: fingerprints and checkpoints depend on it)', () => {
    const next = xorshift(99);
    for (let n = 0; n <= 6; n++) {
      for (const seed of [undefined, 0x2545f491, 0, 0xffffffff]) {
        const buf = Uint32Array.from({ length: n + 4 }, next);
        const words = Array.from(buf.subarray(2, 2 + n));
        const got = seed === undefined ? hashWords(buf, 2, n) : hashWords(buf, 2, n, seed);
        expect([n, seed, got]).toEqual([n, seed, referenceHash(words, seed)]);
      }
    }
    // Two fixed values of the default seed (the hash of nothing is the finalizer of seed ^ 0).
    expect(hashWords(new Uint32Array(0), 0, 0)).toBe(referenceHash([]));
    expect(hashWords(Uint32Array.of(0xffffffff), 0, 1)).toBe(referenceHash([0xffffffff]));
  });

  it("finds every state inserted, whatever words surround it in the caller's buffer, after every growth of its table", () => {
    const next = xorshift(5);
    const W = 3;
    const N = 5000;
    const states = Uint32Array.from({ length: N * W }, () => next() & 0xff);
    // Distinct states: the first word is the index.
    for (let i = 0; i < N; i++) states[i * W] = i;
    const store = new StateStore(W, { tableBits: 4 });
    expect(misses(store, states, W, (i) => i, 'insert')).toEqual([]);
    // The same states again from a copy shifted by one word, between other words.
    const shifted = new Uint32Array(states.length + 2).fill(0xdeadbeef);
    shifted.set(states, 1);
    const again: number[] = [];
    const probe = new Uint32Array(W + 2);
    for (let i = 0; i < N; i++) {
      probe[0] = next();
      probe.set(states.subarray(i * W, (i + 1) * W), 1);
      probe[W + 1] = states[(i + 1) * W] ?? 0;
      if (store.insert(probe, 1) !== -(i + 1) || !store.has(probe, 1)) again.push(i);
    }
    expect(again).toEqual([]);
    expect(store.count).toBe(N);
    // A state that differs only in its last word is not there.
    const other = Uint32Array.of(7, states[7 * W + 1] as number, (states[7 * W + 2] as number) + 1);
    expect(store.has(other, 0)).toBe(false);
    expect(store.insert(other, 0)).toBe(N);
  });

  it('grows its table exactly when more than 3/4 of it would be used (the bytes count each slot)', () => {
    const store = new StateStore(3, { tableBits: 4 });
    const w = new Uint32Array(3);
    for (let i = 0; i < 12; i++) {
      w[0] = i;
      store.insert(w, 0);
    }
    expect(store.bytes()).toBe(12 * 12 + 16 * 4);
    w[0] = 12;
    store.insert(w, 0);
    expect(store.bytes()).toBe(13 * 12 + 32 * 4);
    // The default table has 2^16 slots.
    expect(new StateStore(1).bytes()).toBe(4 << 16);
    expect(new StateStore(1).capacity).toBe(0);
    expect(store.capacity).toBe(65536);
  });

  it('reserve makes room for exactly the states asked for: whole chunks, and the smallest doubling of the table under a load of 3/4', () => {
    const a = new StateStore(1, { tableBits: 4 });
    expect(a.reserve(96)).toBe(true);
    // 96 states: a table of 128 slots (96 = 128 * 3/4 is not above the load), one chunk.
    expect([a.capacity, a.bytes()]).toEqual([65536, 128 * 4]);
    expect(a.reserve(96)).toBe(false);
    expect(a.reserve(108)).toBe(false); // 108 <= 128 * 0.85: a round may fill it that far
    expect(a.reserve(109)).toBe(true);
    expect(a.bytes()).toBe(256 * 4);
    const b = new StateStore(1, { tableBits: 4 });
    b.reserve(65536);
    expect([b.capacity, b.bytes()]).toEqual([65536, 131072 * 4]);
    // The room is counted from the states already stored.
    const c = new StateStore(1, { tableBits: 4 });
    const w = new Uint32Array(1);
    for (let i = 0; i < 10; i++) {
      w[0] = i;
      c.insert(w, 0);
    }
    expect(c.reserve(65526)).toBe(true);
    expect(c.capacity).toBe(65536);
    expect(c.reserve(65527)).toBe(true);
    expect(c.capacity).toBe(131072);
    for (let i = 0; i < 10; i++) {
      w[0] = i;
      expect(c.insert(w, 0)).toBe(-(i + 1));
    }
  });

  it('rehashes states of two chunks and still finds each of them (reserve past 65,536 states)', () => {
    const N = 70_000;
    const states = Uint32Array.from({ length: N }, (_, i) => i * 7 + 3);
    const store = new StateStore(1, { tableBits: 4 });
    expect(misses(store, states, 1, (i) => i, 'insert')).toEqual([]);
    expect(store.reserve(60_000)).toBe(true);
    // 130,000 states: 262,144 slots; 131,072 states fit in two chunks.
    expect([store.capacity, store.bytes()]).toEqual([131072, N * 4 + 262144 * 4]);
    expect(misses(store, states, 1, (i) => -(i + 1), 'has')).toEqual([]);
    expect(misses(store, states, 1, (i) => -(i + 1), 'insert')).toEqual([]);
    expect(store.has(Uint32Array.of(1), 0)).toBe(false);
    // Chunk space past the last state (zeros) was not indexed: the zero state is new.
    expect(store.has(Uint32Array.of(0), 0)).toBe(false);
    expect(store.insert(Uint32Array.of(0), 0)).toBe(N);
  });

  it('a full table with few tag bits left (2^20 slots, 12 bits of hash a slot) finds none of 700,000 states never inserted, by has, insert or insertShared', () => {
    const N = 700_000;
    const store = new StateStore(1);
    const w = new Uint32Array(1);
    for (let i = 0; i < N; i++) {
      w[0] = Math.imul(i, 0x9e3779b1) >>> 0;
      store.insert(w, 0);
    }
    expect(store.bytes()).toBe(N * 4 + 2 ** 20 * 4);
    // Odd multiples of the constant against even ones: none equal, many share a slot's 12 tag bits.
    const absent = Uint32Array.from({ length: N }, (_, i) => Math.imul(i + N, 0x9e3779b1) >>> 0);
    expect(misses(store, absent, 1, () => 0, 'has')).toEqual([]);
    store.reserve(N);
    expect(misses(store, absent, 1, (i) => N + i, 'insertShared')).toEqual([]);
  });

  it('a table of 2^20 slots or more, filled by region in batches of 2^19 ids, holds exactly one entry an id (its tag and id) and finds every state at its id', () => {
    // 1.2 M states of two words: the table grows to 2^20 slots at 393,217 (one batch) and to 2^21 at 786,433 (two batches).
    const N = 1_200_000;
    const store = new StateStore(2);
    const states = twoWordStates(N);
    for (let i = 0; i < N; i++) store.insert(states, 2 * i);
    const table = (store as unknown as { table: Int32Array }).table;
    expect(table.length).toBe(2 ** 21);
    const expected = new Uint32Array(N);
    for (let id = 0; id < N; id++) expected[id] = (((hashWords(states, 2 * id, 2) >>> 21) << 21) | (id + 1)) >>> 0;
    expected.sort();
    const held = new Uint32Array(table.buffer.slice(0)).filter((v) => v !== 0).sort();
    expect(held.length).toBe(N);
    expect(held.findIndex((v, i) => v !== expected[i])).toBe(-1);
    expect(misses(store, states, 2, (i) => -(i + 1), 'insert')).toEqual([]);
    // Filled again at the same size (a checkpoint's appendAll does this), in three batches.
    const again = new StateStore(2);
    again.appendAll(states);
    expect(misses(again, states, 2, (i) => -(i + 1), 'insert')).toEqual([]);
    expect(again.insert(Uint32Array.of(1, 2), 0)).toBe(N);
  });
  it('a second view on the same buffers sees every state inserted by either (insertShared), and the grown table once it attaches again', () => {
    const owner = new StateStore(2, { tableBits: 4 });
    owner.reserve(2000);
    const view = new StateStore(2, { buffers: owner.buffers() });
    const next = xorshift(3);
    const N = 1500;
    const states = Uint32Array.from({ length: N * 2 }, next);
    const ids: number[] = [];
    for (let i = 0; i < N; i++) ids.push((i % 2 ? view : owner).insertShared(states, i * 2));
    // Each view takes its ids a block at a time: the owner from 0, the view from ID_BLOCK, ...
    expect(ids.slice(0, 4)).toEqual([0, ID_BLOCK, 1, ID_BLOCK + 1]);
    expect(owner.count).toBe(Math.ceil(N / 2 / ID_BLOCK) * 2 * ID_BLOCK);
    // Both give back what is left of their blocks; the ids are then 0 .. N-1.
    view.releaseIds();
    const moved = owner.settle();
    expect([owner.count, view.count]).toEqual([N, N]);
    const final = ids.map((id) => moved.get(id) ?? id);
    expect([...final].sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(moved.size).toBeGreaterThan(0);
    expect(misses(view, states, 2, (i) => -((final[i] as number) + 1), 'insertShared')).toEqual([]);
    expect(misses(owner, states, 2, (i) => -((final[i] as number) + 1), 'insert')).toEqual([]);
    expect(misses(view, states, 2, (i) => -(i + 1), 'has')).toEqual([]);
    // States never inserted are not found, by either view (their probes cross occupied slots).
    const absent = Uint32Array.from({ length: N * 2 }, (_, i) => (i % 2 ? 0x7fffffff - i : 0xa5a50000 + i));
    expect(misses(view, absent, 2, () => 0, 'has')).toEqual([]);
    expect(misses(owner, absent, 2, () => 0, 'has')).toEqual([]);
    const back = new Uint32Array(2);
    for (let i = 0; i < N; i++) {
      view.read(final[i] as number, back, 0);
      if (back[0] !== states[2 * i] || back[1] !== states[2 * i + 1]) throw new Error(`state ${i} is not at its id ${final[i]}`);
    }
    // The owner grows (chunks and table); the view, once attached, inserts into the new table.
    expect(owner.reserve(70_000)).toBe(true);
    view.attach(owner.buffers());
    expect(view.capacity).toBe(owner.capacity);
    expect(view.bytes()).toBe(owner.bytes());
    const more = Uint32Array.from({ length: 70_000 * 2 }, (_, i) => (i % 2 ? i : 0xf0000000 + i));
    const shared: number[] = [];
    for (let i = 0; i < 70_000; i++) if (view.insertShared(more, i * 2) !== N + i) shared.push(i);
    expect(shared).toEqual([]);
    view.releaseIds();
    // One view inserted alone: its ids are dense already, only the end of its last block is given back.
    expect(owner.settle().size).toBe(0);
    expect(owner.count).toBe(N + 70_000);
    expect(misses(owner, more, 2, (i) => -(N + i + 1), 'insert')).toEqual([]);
    expect(misses(owner, states, 2, (i) => -(i + 1), 'has')).toEqual([]);
    view.read(N + 69_999, back, 0);
    expect(Array.from(back)).toEqual(Array.from(more.subarray(139_998)));
  });

  it('settle after rounds of several views leaves dense ids, each state readable at its id and found by the table, and no state lost or doubled', () => {
    fc.assert(
      fc.property(roundOps, roundEndsArb, (ops, roundEnds) =>
        settleRounds(new StateStore(2, { tableBits: 4 }), ops, roundEnds, (w, value) => {
          w[0] = value;
          w[1] = ~value >>> 0;
        }),
      ),
      { numRuns: 200, seed: 7 },
    );
  });

  it('threads filling a larger table together (hashShared, fillPart in three parts, fillOverflow, useTable) give a table that finds every state at its id, and inserts go on in it', () => {
    const owner = new StateStore(2, { tableBits: 4 });
    const view = new StateStore(2, { buffers: owner.buffers() });
    const N = 40_000;
    const states = Uint32Array.from({ length: N * 2 }, xorshift(11));
    owner.reserveChunks(N);
    for (let i = 0; i < N; i++) owner.insert(states, i * 2);
    const n = owner.count;
    const size = owner.tableSizeFor(N) as number;
    // The table of one thread would grow to this size for N more states; none is needed for none.
    expect(size).toBeGreaterThanOrEqual(((n + N) / 0.75) | 0);
    expect(owner.tableSizeFor(0)).toBeNull();
    const table = owner.newTable(size);
    const ctrl = new Uint32Array(new SharedArrayBuffer(8));
    view.attach(owner.buffers());
    // The ids are hashed in claims from ctrl[1]: a thread coming after the others have claimed all adds nothing.
    owner.hashShared(ctrl, 1);
    expect(ctrl[1]).toBeGreaterThanOrEqual(n);
    view.hashShared(ctrl, 1);
    // Three parts (a share that is not a power of two), the owner two of them, the view one.
    const overflow = [...owner.fillPart(table, 0, 3), ...view.fillPart(table, 1, 3), ...owner.fillPart(table, 2, 3)];
    expect(new Int32Array(table).filter((v) => v !== 0).length).toBe(n - overflow.length);
    owner.fillOverflow(table, overflow);
    expect(new Int32Array(table).filter((v) => v !== 0).length).toBe(n);
    owner.useTable(table);
    view.attach(owner.buffers());
    expect(owner.bytes()).toBe(n * 8 + size * 4);
    const found: number[] = [];
    const back = new Uint32Array(2);
    for (let id = 0; id < n; id++) {
      owner.read(id, back, 0);
      if (owner.insert(back, 0) !== -(id + 1) || view.insertShared(back, 0) !== -(id + 1)) found.push(id);
    }
    expect(found).toEqual([]);
    expect(owner.insert(Uint32Array.of(1, 2), 0)).toBe(n);
  });

  it('a probe run that reaches the end of its part is left to fillOverflow, which puts it past the end (round to slot 0 from the last part): every state found at its id', () => {
    // A table of 64 slots in two parts: five states whose home is slot 31 (part 0's last) and five at slot 63 (the table's last).
    const picked: number[] = [];
    const homes = new Map<number, number>([
      [31, 0],
      [63, 0],
    ]);
    const w = new Uint32Array(2);
    for (let x = 1; picked.length < 20; x++) {
      w[0] = x;
      w[1] = ~x >>> 0;
      const home = hashWords(w, 0, 2) & 63;
      const seen = homes.get(home);
      if (seen === undefined || seen === 5) continue;
      homes.set(home, seen + 1);
      picked.push(x, ~x >>> 0);
    }
    const states = Uint32Array.from(picked);
    const owner = new StateStore(2, { tableBits: 4 });
    for (let i = 0; i * 2 < states.length; i++) owner.insert(states, 2 * i);
    const n = owner.count;
    expect(n).toBe(states.length / 2);
    const table = owner.newTable(64);
    const ctrl = new Uint32Array(new SharedArrayBuffer(4));
    owner.hashShared(ctrl, 0);
    const part0 = owner.fillPart(table, 0, 2);
    const part1 = owner.fillPart(table, 1, 2);
    // Slot 31 takes one of the five, slot 63 one of its five: four of each are left over.
    expect([part0.length, part1.length]).toEqual([4, 4]);
    const tab = new Int32Array(table);
    owner.fillOverflow(table, [...part0, ...part1]);
    // Part 0's four went on into part 1 (slots 32-35), part 1's round to the table's first slots (no state has its home there).
    expect(Array.from(tab, (v, i) => (v !== 0 ? i : -1)).filter((i) => i >= 0)).toEqual([0, 1, 2, 3, 31, 32, 33, 34, 35, 63]);
    expect(tab.filter((v) => v !== 0).length).toBe(n);
    owner.useTable(table);
    expect(misses(owner, states, 2, (i) => -(i + 1), 'insert')).toEqual([]);
  });

  it('threads filling a table of 2^20 slots or more together put each part by region: exactly one entry an id, every state found at its id', () => {
    // 800,000 two-word states: the hashes in claims of 16,384, then two parts, each sorting its ids by region in batches of 2^19.
    const N = 800_000;
    const owner = new StateStore(2);
    const states = twoWordStates(N);
    for (let i = 0; i < N; i++) owner.insert(states, 2 * i);
    const table = owner.newTable(2 ** 21);
    const ctrl = new Uint32Array(new SharedArrayBuffer(8));
    const view = new StateStore(2, { buffers: owner.buffers() });
    view.hashShared(ctrl, 0);
    // Every claim, and the one that found nothing left.
    expect(ctrl[0]).toBe(Math.ceil(N / 16384) * 16384 + 16384);
    owner.hashShared(ctrl, 0);
    const overflow = [...view.fillPart(table, 1, 2), ...owner.fillPart(table, 0, 2)];
    owner.fillOverflow(table, overflow);
    const expected = new Uint32Array(N);
    for (let id = 0; id < N; id++) expected[id] = (((hashWords(states, 2 * id, 2) >>> 21) << 21) | (id + 1)) >>> 0;
    expected.sort();
    const held = new Uint32Array(table.slice(0)).filter((v) => v !== 0).sort();
    expect(held.length).toBe(N);
    expect(held.findIndex((v, i) => v !== expected[i])).toBe(-1);
    owner.useTable(table);
    expect(misses(owner, states, 2, (i) => -(i + 1), 'insert')).toEqual([]);
  });

  it('a thread meeting a slot another thread is still filling waits for its id (has and insertShared)', async () => {
    const store = new StateStore(1, { tableBits: 4 });
    store.reserve(8);
    const w = Uint32Array.of(42);
    expect(store.insertShared(w, 0)).toBe(0);
    const table = new Int32Array(store.buffers().table);
    const slot = table.findIndex((v) => v !== 0);
    const published = table[slot] as number;
    // Marks the slot busy and lets another thread publish the id 50 ms after it starts.
    const publishLater = async () => {
      Atomics.store(table, slot, -1);
      const worker = new Worker(
        `const { workerData: d } = require('node:worker_threads');
         setTimeout(() => Atomics.store(new Int32Array(d.table), d.slot, d.v), 50);`,
        { eval: true, workerData: { table: store.buffers().table, slot, v: published } },
      );
      await once(worker, 'online');
      return worker;
    };
    let worker = await publishLater();
    expect(store.has(w, 0)).toBe(true);
    await worker.terminate();
    worker = await publishLater();
    expect(store.insertShared(w, 0)).toBe(-1);
    await worker.terminate();
    expect(store.count).toBe(ID_BLOCK);
    store.settle();
    expect(store.count).toBe(1);
  });

  it('clear forgets every state but keeps its chunks; keepsParents says whether parents are kept', () => {
    const store = new StateStore(1, { tableBits: 4 });
    const w = new Uint32Array(1);
    for (let i = 0; i < 20; i++) {
      w[0] = i + 100;
      store.insert(w, 0);
    }
    store.clear();
    expect([store.count, store.capacity]).toEqual([0, 65536]);
    w[0] = 105;
    expect(store.has(w, 0)).toBe(false);
    expect(store.insert(w, 0)).toBe(0);
    expect(store.insert(w, 0)).toBe(-1);
    expect([store.keepsParents, new StateStore(1, { parents: true }).keepsParents]).toEqual([false, true]);
  });

  it('slices gives the words of a range of states, one piece per chunk, and appendAll stores them again, each findable', () => {
    const N = 70_000;
    const W = 2;
    const states = Uint32Array.from({ length: N * W }, (_, i) => (i % 2 ? i * 3 : 0x80000000 + i));
    const store = new StateStore(W, { tableBits: 4 });
    expect(misses(store, states, W, (i) => i, 'insert')).toEqual([]);
    const pieces = (from?: number, to?: number) => [...store.slices(from, to)].map((s) => Array.from(s));
    expect(pieces(65_530, 65_540)).toEqual([Array.from(states.subarray(65_530 * W, 65_536 * W)), Array.from(states.subarray(65_536 * W, 65_540 * W))]);
    expect(pieces(3, 5)).toEqual([Array.from(states.subarray(3 * W, 5 * W))]);
    expect(pieces(10, 10)).toEqual([]);
    const all = [...store.slices()];
    expect(all.map((s) => s.length)).toEqual([65_536 * W, (N - 65_536) * W]);
    expect(all.every((s, k) => s.every((x, j) => x === states[k * 65_536 * W + j]))).toBe(true);
    // appendAll after two states already there: ids follow them, every state findable and readable.
    const copy = new StateStore(W, { tableBits: 4 });
    copy.insert(Uint32Array.of(1, 1), 0);
    copy.insert(Uint32Array.of(2, 2), 0);
    copy.appendAll(states);
    expect(copy.count).toBe(N + 2);
    expect(misses(copy, states, W, (i) => -(i + 3), 'insert')).toEqual([]);
    expect(copy.insert(Uint32Array.of(2, 2), 0)).toBe(-2);
    const back = new Uint32Array(W);
    copy.read(N + 1, back, 0);
    expect(Array.from(back)).toEqual(Array.from(states.subarray((N - 1) * W)));
    expect(copy.insert(Uint32Array.of(3, 3), 0)).toBe(N + 2);
  });

  it("reads exactly a state's words (the words after it in the caller's buffer are left alone); a start state inserted without a parent has none", () => {
    const store = new StateStore(2, { parents: true, maxVia: 3 });
    expect(store.insert(Uint32Array.of(4, 5), 0)).toBe(0);
    expect([store.parent(0), store.via(0), store.path(0)]).toEqual([-1, 0, [0]]);
    store.insert(Uint32Array.of(6, 7), 0, 0, 1);
    const out = Uint32Array.of(9, 9, 9, 9);
    store.read(0, out, 1);
    expect(Array.from(out)).toEqual([9, 4, 5, 9]);
  });

  it('appendAll of exactly one chunk of states fills it and no more', () => {
    const W = 1;
    const states = Uint32Array.from({ length: 65_536 * W }, (_, i) => i + 1);
    const store = new StateStore(W, { tableBits: 4 });
    store.appendAll(states);
    expect([store.count, store.capacity]).toEqual([65_536, 65_536]);
    expect(misses(store, states, W, (i) => -(i + 1), 'has')).toEqual([]);
  });

  it('counts 4 + 4 bytes of parent and rule instance a state when rule instances need more than 16 bits', () => {
    const wide = new StateStore(2, { parents: true, maxVia: 0x10000, tableBits: 8 });
    wide.insert(Uint32Array.of(1, 2), 0, -1, 0x10000);
    expect(wide.bytes()).toBe(4 * 256 + (2 * 4 + 4 + 4));
    expect(wide.via(0)).toBe(0x10000);
  });
});

/** Slots of 0 (a one-value range), 1, 2, 5, 16 and 31 bits: forces new words at the 32-bit boundary. */
/** A 4-word state whose first three words are one of `heads` head values (many states share a head). */
function headed(w: Uint32Array, off: number, i: number, heads: number): void {
  const h = i % heads;
  w[off] = h;
  w[off + 1] = Math.imul(h, 0x9e3779b1) >>> 0;
  w[off + 2] = h >>> 3;
  w[off + 3] = Math.floor(i / heads);
}

describe('StateStore with collapse', () => {
  it('keeps every state readable at its id, finds each duplicate, and none of the states never inserted (same head, other last word; unknown head)', () => {
    const store = new StateStore(4, { collapse: true, tableBits: 4 });
    const plain = new StateStore(4, { tableBits: 4 });
    const N = 150_000; // past two chunks
    const w = new Uint32Array(4);
    const wrong: string[] = [];
    for (let i = 0; i < N; i++) {
      headed(w, 0, i, 97);
      if (store.insert(w, 0) !== i) wrong.push(`insert ${i}`);
      plain.insert(w, 0);
    }
    const back = new Uint32Array(4);
    const want = new Uint32Array(4);
    for (let i = 0; i < N; i += 7) {
      headed(want, 0, i, 97);
      store.read(i, back, 0);
      if (back.some((x, k) => x !== want[k])) wrong.push(`read ${i}`);
      if (store.insert(want, 0) !== -(i + 1)) wrong.push(`duplicate ${i}`);
      if (store.find(want, 0) !== i) wrong.push(`find ${i}`);
      // The same head with a last word never stored, and a head never stored with a stored last word.
      want[3] = N;
      if (store.has(want, 0)) wrong.push(`other last word ${i}`);
      headed(want, 0, i, 97);
      want[2] = (want[2] as number) ^ 0x80000000;
      if (store.has(want, 0)) wrong.push(`unknown head ${i}`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(store.count).toBe(N);
    // Two words a state instead of four, plus the 97 heads of three words and the heads' table of 2^10 slots.
    expect(store.bytes()).toBe(plain.bytes() - N * 8 + 97 * 12 + 4 * 1024);
  });

  it('slices give whole states, equal to those of a plain store; appendAll (a checkpoint) and evict (liveness) give them back', () => {
    const store = new StateStore(3, { collapse: true });
    const plain = new StateStore(3);
    const N = 70_000;
    const w = new Uint32Array(3);
    for (let i = 0; i < N; i++) {
      w[0] = i % 13;
      w[1] = (i % 13) * 3;
      w[2] = i;
      store.insert(w, 0);
      plain.insert(w, 0);
    }
    const all = (st: StateStore, from: number, to: number) => {
      const out: number[] = [];
      for (const x of st.slices(from, to)) for (const v of x) out.push(v); // a slice of an evicted store is valid until the next
      return out;
    };
    expect(all(store, 0, N)).toEqual(all(plain, 0, N));
    expect(all(store, 65_530, 65_540)).toEqual(all(plain, 65_530, 65_540));
    const again = new StateStore(3, { collapse: true });
    again.appendAll(Uint32Array.from(all(plain, 0, N)));
    expect(again.count).toBe(N);
    const back = new Uint32Array(3);
    for (let i = 0; i < N; i += 101) {
      plain.read(i, back, 0);
      expect(again.find(back, 0)).toBe(i);
    }
    store.dropIndex();
    store.evict(mkdtempSync(join(tmpdir(), 'collapse-evict-')));
    try {
      expect(all(store, 0, N)).toEqual(all(plain, 0, N));
      store.read(N - 1, back, 0);
      expect(Array.from(back)).toEqual([(N - 1) % 13, ((N - 1) % 13) * 3, N - 1]);
    } finally {
      store.closeEvicted();
    }
  });

  it('several views inserting at once, then settle: dense ids, every state at its id, heads shared across views and never moved', () => {
    fc.assert(
      fc.property(roundOps, roundEndsArb, (ops, roundEnds) =>
        settleRounds(new StateStore(4, { collapse: true, tableBits: 4 }), ops, roundEnds, (w, value) => headed(w, 0, value, 11)),
      ),
      { numRuns: 200, seed: 7 },
    );
  });

  it('goes through 600 rounds of two views (more blocks of ids given back than one settle takes): heads given back are dropped, never reused or moved', () => {
    const owner = new StateStore(4, { collapse: true, tableBits: 4 });
    const view = new StateStore(4, { buffers: owner.buffers() });
    const w = new Uint32Array(4);
    let n = 0;
    for (let round = 0; round < 600; round++) {
      owner.reserve(4 + 2 * ID_BLOCK);
      view.attach(owner.buffers());
      for (const v of [owner, view]) {
        headed(w, 0, n++, 1_000_000); // a new head each state
        expect(v.insertShared(w, 0)).toBeGreaterThanOrEqual(0);
      }
      view.releaseIds();
      owner.settle();
    }
    expect(owner.count).toBe(n);
    const back = new Uint32Array(4);
    const want = new Uint32Array(4);
    for (let i = 0; i < n; i++) {
      headed(want, 0, i, 1_000_000);
      expect(owner.find(want, 0)).toBeGreaterThanOrEqual(0);
      owner.read(owner.find(want, 0), back, 0);
      expect(Array.from(back)).toEqual(Array.from(want));
    }
  });

  it('a store of fewer than three words is not collapsed (two words would not be fewer)', () => {
    const a = new StateStore(2, { collapse: true });
    const b = new StateStore(2);
    const w = new Uint32Array([5, 6]);
    a.insert(w, 0);
    b.insert(w, 0);
    expect(a.bytes()).toBe(b.bytes());
    expect(a.buffers().head).toBeUndefined();
  });
});

const widths = defineProtocol({
  name: 'widths',
  summary: 'slots of many widths',
  spec: 'checker/explicit/stateStore.test.ts',
  params: {},
  variants: [],
  build(b) {
    b.v('one', range(7, 7));
    b.v('flag', bool);
    b.v('mode', enumOf('M', ['a', 'b', 'c']));
    b.v('r', range(-3, 25));
    b.v('big', range(0, 65_535));
    b.v('opt', option(range(0, 2_000_000_000)));
    b.v('neg', range(-40_000, -39_990));
    b.v('wide', range(0, 2 ** 31 - 2));
    b.init('i', () => []);
    return {};
  },
});

describe('packing', () => {
  const model = buildModel(widths);
  const cm = compileModel(model, []);
  it('sizes the words from the types, a slot never straddling two words', () => {
    // Word 0: 0 + 1 + 2 + 5 + 16 = 24 bits; opt (31), neg (4) and wide (31) each start a word.
    expect(cm.bits).toBe(0 + 1 + 2 + 5 + 16 + 31 + 4 + 31);
    expect(cm.words).toBe(4);
  });
  it('unpack(pack(s)) is s for every state, including a one-value slot, negatives and the widest codes', () => {
    const w = new Uint32Array(cm.words + 2);
    const u = new Int32Array(model.layout.nSlots);
    fc.assert(
      fc.property(stateArb(model.layout), (s) => {
        w.fill(0xffffffff);
        cm.pack(s, w, 1);
        expect(w[0]).toBe(0xffffffff);
        expect(w[cm.words + 1]).toBe(0xffffffff);
        cm.unpack(w, 1, u);
        expect(Array.from(u)).toEqual(Array.from(s));
      }),
      { numRuns: 300, seed: 11 },
    );
    const top = Int32Array.from([7, 1, 2, 25, 65_535, 2_000_000_000, -39_990, 2 ** 31 - 2]);
    cm.pack(top, w, 0);
    cm.unpack(w, 0, u);
    expect(Array.from(u)).toEqual(Array.from(top));
  });
  it('different states pack to different words', () => {
    const a = new Uint32Array(cm.words);
    const b = new Uint32Array(cm.words);
    const s = Int32Array.from([7, 0, 0, -3, 0, -1, -40_000, 0]);
    cm.pack(s, a, 0);
    for (let k = 1; k < s.length; k++) {
      const t = new Int32Array(s);
      t[k] = (t[k] as number) + 1;
      cm.pack(t, b, 0);
      expect(Array.from(b)).not.toEqual(Array.from(a));
    }
  });
});
