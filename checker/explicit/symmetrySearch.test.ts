/**
 * The signature search of symmetry reduction (symmetry.ts, `Canonicalizer` on groups too large to
 * search whole) against oracles that do not use symmetry.ts: which elements share a cell (their
 * signatures are sums of hashes, so two elements share one exactly when the multisets hashed are
 * equal, written here as sorted lists of strings), which elements are twins (exchanging them leaves
 * the state as it is), and from these the exact number of arrangements tried; the form found is the
 * least image over every permutation that keeps the cells in place, and the same for every image of
 * the state. Layouts of four and five elements with values of the symmetric types stored (T and
 * option(T)), matrices, records and two symmetric types at once; states are drawn mostly at their
 * least values, so that equal signatures and twins are common.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../model/lang/compile.js';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { arrayOf, bool, cardinality, enumOf, minValue, option, range, record } from '../../model/lang/types.js';
import { type Renaming, allPerms, packedLess, permutations, renamer, slotShapes, sparseState as sparseStateOf } from '../../test/symmetryOracle.js';
import { Canonicalizer } from './symmetry.js';

/** One symmetric type of five elements: states, pointers, a head, a plain value, a matrix, records holding option(T). */
const ring = buildModel(
  defineProtocol({
    name: 'ring',
    summary: '',
    spec: '',
    params: {},
    variants: [],
    build(b) {
      const T = b.index('T', 5, { symmetric: true });
      b.v('st', arrayOf(T, enumOf('St', ['idle', 'try', 'crit'])));
      b.v('next', arrayOf(T, option(T)));
      b.v('head', option(T));
      b.v('who', T);
      b.v('edge', arrayOf(T, arrayOf(T, bool)));
      b.v('rec', arrayOf(T, record({ at: option(T), n: range(0, 1) })));
      b.v('count', range(0, 2));
      b.init('zero', () => []);
      return {};
    },
  }),
);

/** Two symmetric types (P of 4, Q of 3) referring to each other, a P-by-Q matrix, a plain index over P, pointers within P, nested arrays of records. */
const pair = buildModel(
  defineProtocol({
    name: 'pair',
    summary: '',
    spec: '',
    params: {},
    variants: [],
    build(b) {
      const P = b.index('P', 4, { symmetric: true });
      const Q = b.index('Q', 3, { symmetric: true });
      const N = b.index('N', 2);
      b.v('owner', arrayOf(Q, option(P)));
      b.v('link', arrayOf(P, option(Q)));
      b.v('m', arrayOf(P, arrayOf(Q, range(0, 1))));
      b.v('grid', arrayOf(N, arrayOf(P, bool)));
      b.v('self', arrayOf(P, option(P)));
      b.v('holder', Q);
      // Nested arrays of records (the stride of the outer index is the inner array's slots), and
      // an option of an enum that happens to share Q's name: its values are not Q's elements.
      b.v('cell', arrayOf(P, arrayOf(N, record({ a: bool, b: option(Q) }))));
      b.v('tag', arrayOf(P, option(enumOf('Q', ['u', 'v', 'w']))));
      b.init('zero', () => []);
      return {};
    },
  }),
);

/** States with most slots at their least value (weights 4 to 1). */
const sparseState = (model: Model) => sparseStateOf(model, 4, 1);

/** A permutation of 0..n-1 drawn at random. */
const shuffled = (n: number) => fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n });

/** A state built from named slots, the others at their least value. */
function stateOf(model: Model, values: Record<string, number>): Int32Array {
  const s = Int32Array.from(model.layout.slotTypes, minValue);
  for (const [name, v] of Object.entries(values)) {
    const k = model.layout.slotNames.indexOf(name);
    if (k < 0) throw new Error(`no slot ${name}`);
    s[k] = v;
  }
  return s;
}

/**
 * States of `ring` shaped by a permutation σ of T: next[i] = σ(i) (none at a fixed point), an edge
 * from i to σ(i), rec[i].at = σ(σ(i)), the same st everywhere; elements on cycles of the same length
 * then have equal signatures without being twins, so the search tries many arrangements (a 5-cycle:
 * 120). One slot may then be changed, to split a cell.
 */
const ringPatterned = fc
  .record({
    sigma: shuffled(5),
    st: fc.nat(2),
    edge: fc.boolean(),
    at: fc.boolean(),
    head: fc.integer({ min: -1, max: 4 }),
    who: fc.nat(4),
    poke: fc.option(fc.tuple(fc.nat(ring.layout.nSlots - 1), fc.nat(3)), { freq: 2 }),
  })
  .map(({ sigma, st, edge, at, head, who, poke }) => {
    const values: Record<string, number> = { head, who };
    sigma.forEach((j, i) => {
      values[`st[${i}]`] = st;
      values[`next[${i}]`] = j === i ? -1 : j;
      if (edge) values[`edge[${i}][${j}]`] = 1;
      if (at) values[`rec[${i}].at`] = sigma[j] as number;
    });
    const s = stateOf(ring, values);
    if (poke) {
      const t = ring.layout.slotTypes[poke[0]] as Parameters<typeof minValue>[0];
      s[poke[0]] = minValue(t) + (poke[1] % cardinality(t));
    }
    return s;
  });

/** States of `pair` shaped by a permutation σ of P (self pointers, grid rows) and a matching of Q into P (owner, link, m). */
const pairPatterned = fc
  .record({
    sigma: shuffled(4),
    match: shuffled(4),
    linked: fc.nat(3),
    m: fc.boolean(),
    grid: fc.tuple(fc.boolean(), fc.boolean()),
    holder: fc.nat(2),
    poke: fc.option(fc.tuple(fc.nat(pair.layout.nSlots - 1), fc.nat(3)), { freq: 2 }),
  })
  .map(({ sigma, match, linked, m, grid, holder, poke }) => {
    const values: Record<string, number> = { holder };
    sigma.forEach((j, i) => {
      values[`self[${i}]`] = j === i ? -1 : j;
      grid.forEach((g, n) => {
        if (g && j !== i) values[`grid[${n}][${i}]`] = 1;
      });
    });
    for (let q = 0; q < linked; q++) {
      const p = match[q] as number;
      values[`owner[${q}]`] = p;
      values[`link[${p}]`] = q;
      if (m) values[`m[${p}][${q}]`] = 1;
    }
    const s = stateOf(pair, values);
    if (poke) {
      const t = pair.layout.slotTypes[poke[0]] as Parameters<typeof minValue>[0];
      s[poke[0]] = minValue(t) + (poke[1] % cardinality(t));
    }
    return s;
  });

/** The oracles of one model: cells, twins, images. */
function oracle(model: Model) {
  const shapes = slotShapes(model);
  const types = model.indexes.filter((t) => t.symmetric && t.size > 1);
  const permuted = new Set(types.map((t) => t.name));
  // A slot's template: its variable and path with the indexes of permuted types abstracted.
  const template = shapes.map(
    (sh) => sh.variable + sh.steps.map((st) => ('field' in st ? `.${st.field}` : permuted.has(st.at.name) ? '[*]' : `[${st.i}]`)).join(''),
  );
  const coords = shapes.map((sh) => sh.steps.flatMap((st) => ('at' in st && permuted.has(st.at.name) ? [{ type: st.at.name, i: st.i }] : [])));
  const valueType = shapes.map((sh) => (sh.valueType && permuted.has(sh.valueType) ? sh.valueType : null));

  /** What element i of `type` sees at s, as a sorted list: each slot it indexes (template, position, value code) and each slot referring to it. */
  const seen = (s: Int32Array, type: string, i: number): string => {
    const out: string[] = [];
    shapes.forEach((_, k) => {
      const v = s[k] as number;
      const vt = valueType[k];
      (coords[k] ?? []).forEach((c, j) => {
        if (c.type !== type || c.i !== i) return;
        const code = vt === null ? `v${v}` : v < 0 ? 'none' : vt === type && v === i ? 'self' : 'other';
        out.push(`${template[k]}#${j}=${code}`);
      });
      if (vt === type && v === i) out.push(`->${template[k]}`);
    });
    return out.sort().join(' ');
  };

  /** Per type: its cells (elements that see the same), each a list of elements. */
  const cells = (s: Int32Array): Map<string, number[][]> =>
    new Map(
      types.map((t) => {
        const by = new Map<string, number[]>();
        for (let i = 0; i < t.size; i++) {
          const key = seen(s, t.name, i);
          by.set(key, [...(by.get(key) ?? []), i]);
        }
        return [t.name, [...by.values()]];
      }),
    );

  const swaps = new Map<string, (s: Int32Array) => Int32Array>();
  /** Whether exchanging a and b of `type` leaves s as it is. */
  const twins = (s: Int32Array, type: string, a: number, b: number): boolean => {
    const key = `${type}:${a}:${b}`;
    let f = swaps.get(key);
    if (!f) {
      const size = (types.find((t) => t.name === type) as { size: number }).size;
      const p = Array.from({ length: size }, (_, x) => (x === a ? b : x === b ? a : x));
      f = renamer(model, { [type]: p }, shapes);
      swaps.set(key, f);
    }
    return f(s).join() === s.join();
  };

  /** The number of arrangements of twin classes within the cells: per cell, |cell|! over the product of its classes' sizes!. */
  const arrangements = (s: Int32Array): number => {
    let n = 1;
    for (const [type, cs] of cells(s)) {
      for (const cell of cs) {
        const classes: number[][] = [];
        for (const x of cell) {
          const c = classes.find((cl) => twins(s, type, cl[0] as number, x));
          if (c) c.push(x);
          else classes.push([x]);
        }
        n *= factorial(cell.length) / classes.reduce((d, cl) => d * factorial(cl.length), 1);
      }
    }
    return n;
  };

  return { types, cells, twins, arrangements };
}

function factorial(n: number): number {
  return n <= 1 ? 1 : n * factorial(n - 1);
}

/** Every renaming that sends each cell onto the positions `applied` sends it to (the cells kept in place, any order within each). */
function cellKeeping(cellsOf: Map<string, number[][]>, applied: Renaming): Renaming[] {
  let out: Renaming[] = [{}];
  for (const [type, cs] of cellsOf) {
    const base = applied[type] as number[];
    let perms: number[][] = [Array.from(base, () => -1)];
    for (const cell of cs) {
      const targets = cell.map((x) => base[x] as number);
      perms = perms.flatMap((p) =>
        permutations(cell.length).map((q) => {
          const r = [...p];
          cell.forEach((x, j) => {
            r[x] = targets[q[j] as number] as number;
          });
          return r;
        }),
      );
    }
    out = out.flatMap((c) => perms.map((p) => ({ ...c, [type]: p })));
  }
  return out;
}

for (const [name, model, patterned] of [
  ['ring, five elements', ring, ringPatterned],
  ['pair, four and three elements', pair, pairPatterned],
] as const) {
  describe(`the signature search against brute force (${name})`, () => {
    const cm = compileModel(model, []);
    const o = oracle(model);
    const every = allPerms(model);
    const renamers = new Map<string, (s: Int32Array) => Int32Array>();
    const image = (s: Int32Array, perm: Renaming) => {
      const key = JSON.stringify(perm);
      let f = renamers.get(key);
      if (!f) {
        f = renamer(model, perm);
        renamers.set(key, f);
      }
      return f(s);
    };
    const packed = (s: Int32Array) => {
      const w = new Uint32Array(cm.words);
      cm.pack(s, w, 0);
      return w;
    };

    it('tries exactly one permutation per arrangement of twin classes within the cells, and finds the least image over the renamings that keep the cells in place', () => {
      // The default bound searches groups of more than six permutations by signatures.
      const canon = new Canonicalizer(model, cm.words, cm.pack, { track: true });
      const names = canon.types.map((t) => t.name);
      expect(names).toEqual(o.types.map((t) => t.name));
      fc.assert(
        fc.property(fc.oneof(sparseState(model), patterned), (s) => {
          const w = packed(s);
          const before = canon.tried;
          const changed = canon.canonical(s, w);
          expect(canon.tried - before).toBe(o.arrangements(s));
          const applied: Renaming = Object.fromEntries(names.map((t, i) => [t, Array.from(canon.permutation()[i] as Int32Array)]));
          // The permutation applied sends each cell onto consecutive positions (the cells are ordered by signature).
          for (const [type, cs] of o.cells(s)) {
            for (const cell of cs) {
              const at = cell.map((x) => (applied[type] as number[])[x] as number).sort((a, b) => a - b);
              expect(at[at.length - 1] as number).toBe((at[0] as number) + cell.length - 1);
            }
          }
          const least = cellKeeping(o.cells(s), applied)
            .map((p) => packed(image(s, p)))
            .reduce((m, x) => (packedLess(x, m) ? x : m));
          expect(Array.from(w)).toEqual(Array.from(least));
          expect(changed).toBe(packed(s).join() !== w.join());
        }),
        { numRuns: 150, seed: 11 },
      );
    });

    it('gives every image of a state its form, which is an image of the state', () => {
      const canon = new Canonicalizer(model, cm.words, cm.pack);
      const formOf = (s: Int32Array) => {
        const w = packed(s);
        canon.canonical(s, w);
        return w.join();
      };
      fc.assert(
        fc.property(fc.oneof(sparseState(model), patterned), fc.nat(), (s, pick) => {
          const form = formOf(s);
          const images = every.map((p) => image(s, p));
          expect(images.some((u) => packed(u).join() === form)).toBe(true);
          // Every image for the smaller group, a sample of 24 for the larger one.
          const step = Math.max(1, Math.floor(images.length / 24));
          for (let k = pick % step; k < images.length; k += step) expect(formOf(images[k] as Int32Array)).toBe(form);
        }),
        { numRuns: 80, seed: 5 },
      );
    });

    it('whole-group search: the least image over every permutation, trying every permutation but the identity', () => {
      const canon = new Canonicalizer(model, cm.words, cm.pack, { wholeGroupMax: every.length });
      fc.assert(
        fc.property(fc.oneof(sparseState(model), patterned), (s) => {
          const w = packed(s);
          const before = canon.tried;
          expect(canon.canonical(s, w)).toBe(every.some((p) => packedLess(packed(image(s, p)), packed(s))));
          expect(canon.tried - before).toBe(every.length - 1);
          const least = every.map((p) => packed(image(s, p))).reduce((m, x) => (packedLess(x, m) ? x : m));
          expect(Array.from(w)).toEqual(Array.from(least));
        }),
        { numRuns: 40, seed: 3 },
      );
    });
  });
}

describe('where the search is whole and where it uses signatures', () => {
  it('a group of six permutations (three elements) is searched whole by default: five tried besides the identity; seven or more by signatures', () => {
    const three = buildModel(
      defineProtocol({
        name: 'three',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const T = b.index('T', 3, { symmetric: true });
          b.v('on', arrayOf(T, bool));
          b.init('zero', () => []);
          return {};
        },
      }),
    );
    const cm = compileModel(three, []);
    const s = Int32Array.from([1, 0, 0]);
    const w = new Uint32Array(cm.words);
    cm.pack(s, w, 0);
    // (Its one array over T is made of rows, which are sorted unless told not to.)
    const whole = new Canonicalizer(three, cm.words, cm.pack, { rows: false });
    whole.canonical(s, w);
    expect([whole.group, whole.tried]).toEqual([6, 5]);
    // With a bound of five, the signatures: 0 alone in its cell, 1 and 2 twins in theirs: one arrangement.
    const sig = new Canonicalizer(three, cm.words, cm.pack, { wholeGroupMax: 5, rows: false });
    cm.pack(s, w, 0);
    sig.canonical(s, w);
    expect(sig.tried).toBe(1);
  });
});
