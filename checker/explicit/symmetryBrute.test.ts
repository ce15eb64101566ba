/**
 * The canonical forms of symmetry reduction (symmetry.ts, `Canonicalizer`) against brute force over
 * every permutation of the symmetric types: each of a state's images gets the same form, that form
 * is one of its images (so two states share a form exactly when a permutation maps one to the
 * other), the whole-group search gives the least image, and the permutation reported maps the state
 * to its form. States are drawn with most slots at their least value, so that elements are often
 * interchangeable (twins) and signatures often equal, the cases the search prunes. Also the shortcut
 * for successors (`unchangedFrom`): a state that agrees with a least image on every slot a permutation
 * can change (read from the slot names) is the least of its own images, and no other state is let through.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../model/lang/compile.js';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { arrayOf, bool, cardinality, enumOf, minValue, option, range, record } from '../../model/lang/types.js';
import { allPerms, packedLess, permute, slotShapes, sparseState as sparseStateOf } from '../../test/symmetryOracle.js';
import { Canonicalizer } from './symmetry.js';

/** Two symmetric types (P of 3, Q of 2), a plain index type, a one-element symmetric type: arrays, matrices, pointers, records. */
const mixed = buildModel(
  defineProtocol({
    name: 'mixed',
    summary: '',
    spec: '',
    params: {},
    variants: [],
    build(b) {
      const P = b.index('P', 3, { symmetric: true });
      const Q = b.index('Q', 2, { symmetric: true });
      const N = b.index('N', 2);
      const Z = b.index('Z', 1, { symmetric: true });
      b.v('pc', arrayOf(P, enumOf('Pc', ['a', 'b', 'c'])));
      b.v('next', arrayOf(P, option(P)));
      b.v('owner', arrayOf(Q, option(P)));
      b.v('edge', arrayOf(P, arrayOf(P, bool)));
      b.v('slot', arrayOf(N, arrayOf(Q, range(0, 2))));
      b.v('holder', option(Q));
      b.v('who', P);
      b.v('rec', arrayOf(Q, record({ at: P, n: range(0, 1) })));
      b.v('z', arrayOf(Z, Z));
      b.init('zero', () => []);
      return {};
    },
  }),
);

/** One symmetric type of four processes: many idle twins. */
const procs = buildModel(
  defineProtocol({
    name: 'procs',
    summary: '',
    spec: '',
    params: {},
    variants: [],
    build(b) {
      const T = b.index('T', 4, { symmetric: true });
      b.v('st', arrayOf(T, enumOf('St', ['idle', 'try', 'crit'])));
      b.v('ptr', arrayOf(T, option(T)));
      b.v('turn', option(T));
      b.v('count', range(0, 3));
      b.init('zero', () => []);
      return {};
    },
  }),
);

/** States with most slots at their least value (weights 3 to 2). */
const sparseState = (model: Model) => sparseStateOf(model, 3, 2);

for (const [name, model] of [
  ['mixed', mixed],
  ['procs', procs],
] as const) {
  describe(`canonical forms against every permutation (${name})`, () => {
    const cm = compileModel(model, []);
    const perms = allPerms(model);
    const packed = (s: Int32Array) => {
      const w = new Uint32Array(cm.words);
      cm.pack(s, w, 0);
      return w;
    };
    const formOf = (c: Canonicalizer, s: Int32Array) => {
      const w = packed(s);
      const before = Array.from(w);
      const changed = c.canonical(s, w);
      expect(changed).toBe(before.join() !== Array.from(w).join());
      return Array.from(w).join();
    };

    for (const [mode, wholeGroupMax] of [
      ['signatures', 0],
      ['whole group', 1000],
    ] as const) {
      it(`${mode}: every image of a state has its form, which is an image of it (the least one for the whole group), and the permutation reported maps it there`, () => {
        const canon = new Canonicalizer(model, cm.words, cm.pack, { wholeGroupMax, track: true });
        const types = canon.types.map((t) => t.name);
        fc.assert(
          fc.property(sparseState(model), (s) => {
            const images = perms.map((p) => packed(permute(model, s, p)));
            const form = formOf(canon, s);
            // The permutation applied, by type name.
            const applied = Object.fromEntries(types.map((t, i) => [t, Array.from(canon.permutation()[i] as Int32Array)]));
            expect(packed(permute(model, s, applied)).join()).toBe(form);
            expect(images.some((w) => w.join() === form)).toBe(true);
            if (wholeGroupMax > 0) {
              const least = images.reduce((m, w) => (packedLess(w, m) ? w : m));
              expect(form).toBe(least.join());
            }
            for (const p of perms) expect(formOf(canon, permute(model, s, p))).toBe(form);
          }),
          { numRuns: 120, seed: 7 },
        );
      });
    }
  });
}

describe("the canonicaliser's group", () => {
  it('permutes the symmetric types of more than one element, counts their group, and tries every other permutation in a whole-group search', () => {
    const cm = compileModel(mixed, []);
    const whole = new Canonicalizer(mixed, cm.words, cm.pack, { wholeGroupMax: 12 });
    expect([whole.active, whole.types.map((t) => t.name), whole.group]).toEqual([true, ['P', 'Q'], 12]);
    const s = new Int32Array(mixed.layout.nSlots);
    const w = new Uint32Array(cm.words);
    cm.pack(s, w, 0);
    whole.canonical(s, w);
    expect(whole.tried).toBe(11);
    // A group just above the bound: the signatures; a state whose elements all differ needs one permutation.
    const sig = new Canonicalizer(mixed, cm.words, cm.pack, { wholeGroupMax: 11 });
    const distinct = new Int32Array(mixed.layout.nSlots);
    const names = mixed.layout.slotNames;
    distinct[names.indexOf('pc[1]')] = 1;
    distinct[names.indexOf('pc[2]')] = 2;
    distinct[names.indexOf('slot[0][1]')] = 1;
    cm.pack(distinct, w, 0);
    sig.canonical(distinct, w);
    expect(sig.tried).toBe(1);
    // The default bound (6) searches procs' 24 permutations by signatures: the all-idle state, all twins, needs one.
    const pm = compileModel(procs, []);
    const byDefault = new Canonicalizer(procs, pm.words, pm.pack);
    const idle = new Int32Array(procs.layout.nSlots).fill(-1);
    idle.fill(0, 0, 4);
    idle[procs.layout.slotNames.indexOf('count')] = 0;
    const iw = new Uint32Array(pm.words);
    pm.pack(idle, iw, 0);
    expect(byDefault.canonical(idle, iw)).toBe(false);
    expect([byDefault.group, byDefault.tried]).toEqual([24, 1]);
    // Three elements whose group is 6 or less: the whole group by default.
    const small = new Canonicalizer({ ...procs, indexes: procs.indexes.map((t) => ({ ...t, size: 3 })) }, pm.words, pm.pack);
    expect(small.group).toBe(6);
  });

  it('is inactive without a symmetric type of two or more elements, and keeps no permutation unless asked to', () => {
    const plain = buildModel(
      defineProtocol({
        name: 'plain',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const Z = b.index('Z', 1, { symmetric: true });
          const N = b.index('N', 3);
          b.v('a', arrayOf(N, bool));
          b.v('z', Z);
          b.init('zero', () => []);
          return {};
        },
      }),
    );
    const cm = compileModel(plain, []);
    const c = new Canonicalizer(plain, cm.words, cm.pack);
    expect([c.active, c.types, c.group]).toEqual([false, [], 1]);
    const m = compileModel(mixed, []);
    expect(() => new Canonicalizer(mixed, m.words, m.pack).permutation()).toThrow(/does not keep/);
  });
});

describe('a successor that agrees with a canonical state on every slot a permutation can change', () => {
  for (const [name, model] of [
    ['mixed', mixed],
    ['procs', procs],
  ] as const) {
    it(`${name}: is reported canonical exactly when it agrees there, and is then the least of its images; the permutation kept is the identity`, () => {
      const cm = compileModel(model, []);
      const perms = allPerms(model);
      const packed = (s: Int32Array) => {
        const w = new Uint32Array(cm.words);
        cm.pack(s, w, 0);
        return w;
      };
      // The slots a permutation can change, from the slot names: indexed by a symmetric type of more than one element, or holding one of its values.
      const permuted = new Set(model.indexes.filter((t) => t.symmetric && t.size > 1).map((t) => t.name));
      const affected = slotShapes(model).map(
        (sh) => sh.steps.some((st) => 'at' in st && permuted.has(st.at.name)) || (sh.valueType !== null && permuted.has(sh.valueType)),
      );
      expect(affected.some((a) => a) && affected.some((a) => !a)).toBe(true);
      const others = affected.flatMap((a, k) => (a ? [] : [k]));
      const changeable = affected.flatMap((a, k) => (a ? [k] : []));
      const canon = new Canonicalizer(model, cm.words, cm.pack, { wholeGroupMax: 1000, track: true });
      const identity = canon.types.map((t) => Array.from({ length: t.size }, (_, i) => i));
      const slotValue = (k: number, x: number) => {
        const t = model.layout.slotTypes[k] as Parameters<typeof minValue>[0];
        return minValue(t) + (x % cardinality(t));
      };
      let agreeing = 0;
      let moved = 0;
      fc.assert(
        fc.property(
          sparseState(model),
          fc.array(fc.tuple(fc.nat(others.length - 1), fc.nat(7))),
          fc.option(fc.tuple(fc.nat(changeable.length - 1), fc.nat(7))),
          (s, edits, poke) => {
            // The source: the least image of s over every permutation (brute force).
            const src = perms.map((p) => permute(model, s, p)).reduce((m, u) => (packedLess(packed(u), packed(m)) ? u : m));
            const t = Int32Array.from(src);
            for (const [i, x] of edits) t[others[i] as number] = slotValue(others[i] as number, x);
            if (poke) t[changeable[poke[0]] as number] = slotValue(changeable[poke[0]] as number, poke[1]);
            const agrees = changeable.every((k) => t[k] === src[k]);
            // First an image of the source whose canonicalisation applies another permutation than the identity (none when every image is the source itself).
            for (const p of perms) {
              const u = permute(model, src, p);
              canon.canonical(u, packed(u));
              if (canon.permutation().some((q, i) => q.join() !== (identity[i] as number[]).join())) {
                moved++;
                break;
              }
            }
            expect(canon.unchangedFrom(packed(src), packed(t))).toBe(agrees);
            if (!agrees) return;
            agreeing++;
            expect(canon.permutation().map((p) => Array.from(p))).toEqual(identity);
            const images = perms.map((p) => packed(permute(model, t, p)));
            expect(images.every((u) => !packedLess(u, packed(t)))).toBe(true);
          },
        ),
        { numRuns: 100, seed: 13 },
      );
      expect(agreeing).toBeGreaterThan(20);
      expect(moved).toBeGreaterThan(50);
    });
  }
});
