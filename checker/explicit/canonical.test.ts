import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { symmetricMutex, symmetricMutexProperties } from '../../bench/models/symmetricMutex.js';
import { rumurFlags, toMurphi } from '../../exporters/murphi.js';
import { runRumur, toolAvailable } from '../../exporters/runPeers.js';
import { type CompiledModel, compileModel } from '../../model/lang/compile.js';
import { initState } from '../../model/lang/interp.js';
import { type Builder, type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { arrayOf, bool, enumOf, option, range, record } from '../../model/lang/types.js';
import fenceMigrate from '../../model/protocols/fenceMigrate/index.js';
import { stateArb } from '../../test/arbitraries.js';
import { tinyModel } from '../../test/tinyModel.js';
import { explicitCheck } from './explicit.js';
import { Canonicalizer } from './symmetry.js';

/** A layout with everything symmetry must handle: arrays over two symmetric types, a matrix, pointers, options of pointers. */
const shapes = defineProtocol({
  name: 'shapes',
  summary: '',
  spec: '',
  params: {},
  variants: [],
  build(b) {
    const P = b.index('P', 4, { symmetric: true });
    const Q = b.index('Q', 3, { symmetric: true });
    const N = b.index('N', 2);
    b.v('pc', arrayOf(P, enumOf('Pc', ['a', 'b', 'c'])));
    b.v('next', arrayOf(P, option(P)));
    b.v('owner', arrayOf(Q, option(P)));
    b.v('edge', arrayOf(P, arrayOf(P, bool)));
    b.v('slot', arrayOf(N, arrayOf(Q, range(0, 2))));
    b.v('holder', option(Q));
    b.v('flag', bool);
    b.init('zero', () => []);
    return {};
  },
});

/** A model of the variables `build` declares and one start state (every slot at its least value). */
function modelOf(name: string, build: (b: Builder) => void): Model {
  return tinyModel(name, (b) => {
    build(b);
    b.init('zero', () => []);
    return {};
  });
}

/** Rows of 64 bits (a symmetric array of records of a 32-bit, a 31-bit and a 1-bit field): more than a float holds exactly. */
function wideRows(): Model {
  return modelOf('wide-rows', (b) => {
    b.v('w', arrayOf(b.index('T', 3, { symmetric: true }), record({ big: range(-(2 ** 31), 2 ** 31 - 1), z: range(0, 2 ** 31 - 1), c: range(0, 1) })));
  });
}

/** Every permutation of 0..n-1. */
function permutations(n: number): number[][] {
  if (n <= 1) return [[0]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

/** Applies a permutation per symmetric type to a state, by slot names (an independent reading of the layout). */
function permute(model: Model, s: Int32Array, perm: Record<string, number[]>): Int32Array {
  const names = model.layout.slotNames;
  const index = new Map(names.map((n, k) => [n, k]));
  const u = new Int32Array(s.length);
  // Which index type each bracket of a slot name belongs to, from the variable's type.
  names.forEach((name, k) => {
    const v = model.layout.vars.find((x) => name === x.name || name.startsWith(`${x.name}[`) || name.startsWith(`${x.name}.`));
    let t = v?.type;
    const moved = name.replace(/\[(\d+)\]/g, (_, i: string) => {
      const ix = t?.kind === 'array' ? t.index : null;
      t = t?.kind === 'array' ? t.elem : t;
      const p = ix ? perm[ix.name] : undefined;
      return `[${p ? p[Number(i)] : i}]`;
    });
    const st = model.layout.slotTypes[k];
    const target = st?.kind === 'index' ? st.name : st?.kind === 'option' && st.inner.kind === 'index' ? st.inner.name : null;
    const val = s[k] as number;
    const p = target ? perm[target] : undefined;
    u[index.get(moved) as number] = p && val >= 0 ? (p[val] as number) : val;
  });
  return u;
}

/** The canonical packed form of `s` under `canon`, as a string (`cm`: the model compiled once by the caller). */
function canonicalOf(cm: Pick<CompiledModel, 'words' | 'pack'>, canon: Canonicalizer, s: Int32Array): string {
  const w = new Uint32Array(cm.words);
  cm.pack(s, w, 0);
  canon.canonical(s, w);
  return Array.from(w).join(',');
}

describe('exact symmetry without n! permutations', () => {
  it('gives every permutation of any state the same canonical form, which is a permutation of the state', () => {
    const model = buildModel(shapes);
    const cm = compileModel(model, []);
    const sig = new Canonicalizer(model, cm.words, cm.pack, { wholeGroupMax: 0 });
    const perm = fc.record({ P: fc.constantFrom(...permutations(4)), Q: fc.constantFrom(...permutations(3)) });
    fc.assert(
      fc.property(stateArb(model.layout), perm, (s, p) => {
        const c = canonicalOf(cm, sig, s);
        expect(canonicalOf(cm, sig, permute(model, s, p))).toBe(c);
        // The canonical form is some permutation of the state.
        const w = new Uint32Array(cm.words);
        const images = permutations(4).flatMap((pp) => permutations(3).map((qq) => permute(model, s, { P: pp, Q: qq })));
        expect(
          images.some((x) => {
            cm.pack(x, w, 0);
            return Array.from(w).join(',') === c;
          }),
        ).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('reports the permutation it applied: it maps the state to its canonical form (signatures and whole group)', () => {
    const model = buildModel(shapes);
    const cm = compileModel(model, []);
    const names = ['P', 'Q'];
    for (const wholeGroupMax of [0, 24 * 6]) {
      const canon = new Canonicalizer(model, cm.words, cm.pack, { wholeGroupMax, track: true });
      expect(canon.types.map((t) => t.name)).toEqual(names);
      fc.assert(
        fc.property(stateArb(model.layout), (s) => {
          const w = new Uint32Array(cm.words);
          cm.pack(s, w, 0);
          canon.canonical(s, w);
          const perm = canon.permutation();
          const image = permute(model, s, { P: Array.from(perm[0] as Int32Array), Q: Array.from(perm[1] as Int32Array) });
          const v = new Uint32Array(cm.words);
          cm.pack(image, v, 0);
          expect(Array.from(v)).toEqual(Array.from(w));
        }),
        { numRuns: 100 },
      );
    }
  });

  it('finds as many classes among the reachable states as trying every permutation (n = 4 processes)', () => {
    const model = buildModel(symmetricMutex, { params: { procs: 4 } });
    const cm = compileModel(model, []);
    const reachable = new Map<string, Int32Array>();
    const todo = [initState(model, model.inits[0] as Model['inits'][number])];
    const t = new Int32Array(model.layout.nSlots);
    for (const s of todo) reachable.set(s.join(), s);
    while (todo.length) {
      cm.expand(todo.pop() as Int32Array, t, () => {
        if (reachable.has(t.join())) return;
        const c = new Int32Array(t);
        reachable.set(c.join(), c);
        todo.push(c);
      });
    }
    const whole = new Canonicalizer(model, cm.words, cm.pack, { wholeGroupMax: 24 });
    const sig = new Canonicalizer(model, cm.words, cm.pack, { wholeGroupMax: 0 });
    const classes = (c: Canonicalizer) => new Set([...reachable.values()].map((s) => canonicalOf(cm, c, s))).size;
    const full = explicitCheck({ model, properties: [], limits: {}, deadlock: false });
    expect(reachable.size).toBe(full.stats.engine === 'explicit' ? full.stats.states : -1);
    expect(classes(sig)).toBe(classes(whole));
    // Far fewer permutations than 4! per state.
    sig.tried = 0;
    classes(sig);
    expect(sig.tried / reachable.size).toBeLessThan(3);
  });

  it('reaches the state counts of Rumur exhaustive symmetry (pinned; checked live when Rumur is installed)', () => {
    const pinned: Record<number, [number, number]> = { 4: [2845, 8200], 5: [8686, 30030], 6: [22591, 90966] };
    for (const [n, [states, transitions]] of Object.entries(pinned)) {
      const model = buildModel(symmetricMutex, { params: { procs: Number(n) } });
      const r = explicitCheck({ model, properties: symmetricMutexProperties.build(model), limits: {}, symmetry: true });
      expect([n, r.status, r.stats.engine === 'explicit' && r.stats.states, r.stats.engine === 'explicit' && r.stats.transitions]).toEqual([
        n,
        'ok',
        states,
        transitions,
      ]);
    }
  });

  it.skipIf(!toolAvailable('rumur') || !toolAvailable('cc'))('Rumur exhaustive symmetry agrees, live (n = 4, 5)', () => {
    for (const n of [4, 5]) {
      const model = buildModel(symmetricMutex, { params: { procs: n } });
      const properties = symmetricMutexProperties.build(model);
      const ours = explicitCheck({ model, properties, limits: {}, symmetry: true });
      const peer = runRumur(toMurphi(model, properties, { symmetry: true }), { threads: 1, flags: rumurFlags(model, { symmetry: true }), cflags: ['-O0'] });
      expect(peer.states).toBe(ours.stats.engine === 'explicit' ? ours.stats.states : -1);
    }
  });

  it('a layout made of rows (one symmetric type, none of its values stored): sorting the rows gives the canonical form of the whole-group search, state by state', () => {
    const models = [
      modelOf('one-array', (b) => {
        b.v('on', arrayOf(b.index('T', 3, { symmetric: true }), bool));
      }),
      // Two arrays over T around a plain slot: a row is an element's slots in both, and the later
      // array decides first; values packed with a bias (1..4 as 0..3), one of 32 bits.
      modelOf('two-arrays', (b) => {
        const T = b.index('T', 4, { symmetric: true });
        b.v('a', arrayOf(T, record({ x: range(1, 4), y: bool, big: range(-(2 ** 31), 2 ** 31 - 1) })));
        b.v('flag', range(0, 3));
        b.v('b', arrayOf(T, enumOf('E', ['p', 'q', 'r', 's'])));
      }),
      wideRows(),
      // T inside a plain array: the rows interleave with the pages; a field of one value (no bits).
      modelOf('nested', (b) => {
        const T = b.index('T', 3, { symmetric: true });
        b.v('m', arrayOf(b.index('N', 2), arrayOf(T, range(0, 1))));
        b.v('last', arrayOf(T, record({ c: range(7, 7), d: bool })));
      }),
    ];
    for (const model of models) {
      const cm = compileModel(model, []);
      const rows = new Canonicalizer(model, cm.words, cm.pack);
      const whole = new Canonicalizer(model, cm.words, cm.pack, { rows: false, wholeGroupMax: 24 });
      rows.tried = 0;
      fc.assert(
        fc.property(stateArb(model.layout), (s) => {
          const [a, b] = [new Uint32Array(cm.words), new Uint32Array(cm.words)];
          cm.pack(s, a, 0);
          cm.pack(s, b, 0);
          expect([rows.canonical(s, a), Array.from(a)]).toEqual([whole.canonical(s, b), Array.from(b)]);
        }),
        { numRuns: 400 },
      );
      // One sort a state, not a permutation tried.
      expect(rows.tried).toBe(400);
    }
  });

  it('rows of 64 bits that differ only in the low bits of their least significant slot are told apart', () => {
    const model = wideRows();
    const cm = compileModel(model, []);
    const rows = new Canonicalizer(model, cm.words, cm.pack);
    const whole = new Canonicalizer(model, cm.words, cm.pack, { rows: false });
    // Slots: (big, z, c) of each element; z and c equal in every row, big apart by one.
    for (const bigs of [
      [5, 7, 6],
      [-3, -1, -2],
      [2 ** 31 - 3, 2 ** 31 - 1, 2 ** 31 - 2],
    ]) {
      const s = Int32Array.from(bigs.flatMap((big) => [big, 2 ** 30, 1]));
      const [a, b] = [new Uint32Array(cm.words), new Uint32Array(cm.words)];
      cm.pack(s, a, 0);
      cm.pack(s, b, 0);
      const changed = whole.canonical(s, b);
      expect([rows.canonical(s, a), Array.from(a)]).toEqual([changed, Array.from(b)]);
      // None is sorted: the canonical form moves rows.
      expect(changed).toBe(true);
    }
  });

  it('a layout that is not made of rows is never sorted as rows: two symmetric types, a value of the type (alone or in a row), a matrix', () => {
    const models = [
      buildModel(shapes),
      modelOf('pointer', (b) => {
        const T = b.index('T', 3, { symmetric: true });
        b.v('on', arrayOf(T, range(0, 3)));
        b.v('holder', option(T));
      }),
      modelOf('pointer-in-row', (b) => {
        const T = b.index('T', 3, { symmetric: true });
        b.v('next', arrayOf(T, option(T)));
      }),
      modelOf('two-types', (b) => {
        b.v('a', arrayOf(b.index('T', 3, { symmetric: true }), bool));
        b.v('b', arrayOf(b.index('U', 2, { symmetric: true }), range(0, 3)));
      }),
      modelOf('matrix', (b) => {
        const T = b.index('T', 3, { symmetric: true });
        b.v('on', arrayOf(T, range(0, 1)));
        b.v('edge', arrayOf(T, arrayOf(T, bool)));
      }),
    ];
    for (const model of models) {
      const cm = compileModel(model, []);
      // The same search either way (the whole group up to six permutations, signatures above).
      const byDefault = new Canonicalizer(model, cm.words, cm.pack);
      const noRows = new Canonicalizer(model, cm.words, cm.pack, { rows: false });
      fc.assert(
        fc.property(stateArb(model.layout), (s) => {
          expect(canonicalOf(cm, byDefault, s)).toBe(canonicalOf(cm, noRows, s));
        }),
        { numRuns: 300 },
      );
    }
  });

  it('a canonicaliser that keeps its permutations does not sort rows: the permutation kept maps the state to its canonical form', () => {
    const model = modelOf('row', (b) => {
      b.v('on', arrayOf(b.index('T', 3, { symmetric: true }), range(0, 3)));
    });
    const cm = compileModel(model, []);
    const canon = new Canonicalizer(model, cm.words, cm.pack, { track: true });
    const s = Int32Array.of(0, 3, 1);
    const w = new Uint32Array(cm.words);
    cm.pack(s, w, 0);
    expect(canon.canonical(s, w)).toBe(true);
    // The rows sorted, greatest first: element 1 (3) to 0, element 2 (1) to 1, element 0 (0) to 2.
    const want = new Uint32Array(cm.words);
    cm.pack(Int32Array.of(3, 1, 0), want, 0);
    expect(Array.from(w)).toEqual(Array.from(want));
    expect(Array.from(canon.permutation()[0] as Int32Array)).toEqual([2, 0, 1]);
  });

  it('fence-migrate with three slots: the signature canonical form gives the counts of the whole group', () => {
    const model = buildModel(fenceMigrate.protocol, { params: { pages: 2, frames: 3, slots: 3, migrations: 1, writes: 1 } });
    const cm = compileModel(model, []);
    const whole = new Canonicalizer(model, cm.words, cm.pack, { rows: false });
    const sig = new Canonicalizer(model, cm.words, cm.pack, { wholeGroupMax: 0, rows: false });
    // Its DMA slots are rows: the default sorts them.
    const rows = new Canonicalizer(model, cm.words, cm.pack);
    const r = explicitCheck({ model, properties: [], limits: {}, symmetry: false, deadlock: false });
    expect(r.status).toBe('ok');
    // Every reachable state, canonicalised both ways: the same number of classes.
    const reachable: Int32Array[] = [];
    const seen = new Set<string>();
    const todo = [initState(model, model.inits[0] as Model['inits'][number])];
    const t = new Int32Array(model.layout.nSlots);
    while (todo.length) {
      const s = todo.pop() as Int32Array;
      if (seen.has(s.join())) continue;
      seen.add(s.join());
      reachable.push(s);
      cm.expand(s, t, () => todo.push(new Int32Array(t)));
    }
    expect(reachable.length).toBe(r.stats.engine === 'explicit' ? r.stats.states : -1);
    const classes = (c: Canonicalizer) => new Set(reachable.map((s) => canonicalOf(cm, c, s))).size;
    // 37,386 reachable states (one write: writes=2 has 158,820 and took two minutes here); the
    // three slots are interchangeable in most of them, so the classes are far fewer.
    const n = classes(whole);
    expect(n).toBeLessThan(reachable.length / 2);
    expect(classes(sig)).toBe(n);
    rows.tried = 0;
    expect(reachable.findIndex((s) => canonicalOf(cm, rows, s) !== canonicalOf(cm, whole, s))).toBe(-1);
    expect(rows.tried).toBe(reachable.length);
  });
});
