/**
 * The visited set (stateStore.ts) on its own: dense ids, duplicates found, parents and rule
 * instances kept, across a chunk boundary and several table growths, with narrow and wide
 * rule-instance numbers; and the packing of states into words (compile.ts) for slot types of 0 to
 * 32 bits, where a slot never straddles two words.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { bool, enumOf, option, range } from '../../model/lang/types.js';
import { stateArb } from '../../test/arbitraries.js';
import { compileModel } from '../../model/lang/compile.js';
import { StateStore } from './stateStore.js';

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

  it('gives dense ids in insertion order and finds every duplicate, across a chunk and many growths', () => {
    const store = new StateStore(2, { parents: true, maxVia: 10, tableBits: 4 });
    const w = new Uint32Array(2);
    const N = 70_000; // more than one chunk of 65536
    for (let i = 0; i < N; i++) {
      w[0] = i;
      w[1] = i ^ 0x5a5a;
      expect(store.insert(w, 0, i - 1, i % 11)).toBe(i);
    }
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

/** Slots of 0 (a one-value range), 1, 2, 5, 16 and 31 bits: forces new words at the 32-bit boundary. */
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
