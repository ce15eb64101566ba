import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { symmetricMutex, symmetricMutexProperties } from '../../bench/models/symmetricMutex.js';
import { rumurFlags, toMurphi } from '../../exporters/murphi.js';
import { runRumur, toolAvailable } from '../../exporters/runPeers.js';
import { type CompiledModel, compileModel } from '../../model/lang/compile.js';
import { initState } from '../../model/lang/interp.js';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { arrayOf, bool, enumOf, option, range } from '../../model/lang/types.js';
import fenceMigrate from '../../model/protocols/fenceMigrate/index.js';
import { stateArb } from '../../test/arbitraries.js';
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

  it('fence-migrate with three slots: the signature canonical form gives the counts of the whole group', () => {
    const model = buildModel(fenceMigrate.protocol, { params: { pages: 2, frames: 3, slots: 3, migrations: 1, writes: 1 } });
    const cm = compileModel(model, []);
    const whole = new Canonicalizer(model, cm.words, cm.pack);
    const sig = new Canonicalizer(model, cm.words, cm.pack, { wholeGroupMax: 0 });
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
  });
});
