import { describe, expect, it } from 'vitest';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { type ScalarType, enumOf } from '../../model/lang/types.js';
import { comparable, inferenceModel, reachableStates, slotValues } from './inferenceModel.testkit.js';
import { buildReachableSet } from './reachableSet.js';
import { type Fact, factHolds, factSlots, mineFacts } from './stateFacts.js';

const model = inferenceModel;
const reach = reachableStates(model);
const slot = (name: string) => {
  const j = model.layout.slotNames.indexOf(name);
  if (j < 0) throw new Error(`no slot ${name}`);
  return j;
};

/** A fact as a string, its literals in slot order (the same fact has one key however it is listed). */
function key(f: Fact): string {
  if (f.kind === 'cube')
    return `cube ${[...f.lits]
      .sort((a, b) => a.slot - b.slot)
      .map((l) => `${l.slot}=${l.value}`)
      .join(' ')}`;
  if (f.kind === 'sets') return `sets ${f.lits.map((l) => `${l.slot}:${l.values.join('|')}`).join(' ')}`;
  return `${f.kind} ${f.when ? `${f.when.slot}=${f.when.value}` : '-'} ${f.a} ${f.b}`;
}

describe('factHolds', () => {
  it('a cube fails exactly in the states matching every one of its literals', () => {
    const f: Fact = {
      kind: 'cube',
      lits: [
        { slot: 0, value: 1 },
        { slot: 2, value: -1 },
      ],
    };
    expect(factHolds(f, Int32Array.of(1, 5, -1))).toBe(false);
    expect(factHolds(f, Int32Array.of(1, 5, 0))).toBe(true);
    expect(factHolds(f, Int32Array.of(0, 5, -1))).toBe(true);
    expect(factHolds(f, Int32Array.of(0, 5, 0))).toBe(true);
    expect(factHolds({ kind: 'cube', lits: [{ slot: 1, value: 5 }] }, Int32Array.of(0, 5, 0))).toBe(false);
  });

  it('a fact of value sets fails exactly in the states where every slot holds one of its values', () => {
    const f: Fact = {
      kind: 'sets',
      lits: [
        { slot: 0, values: [1, 2] },
        { slot: 1, values: [-1] },
      ],
    };
    expect(factHolds(f, Int32Array.of(2, -1))).toBe(false);
    expect(factHolds(f, Int32Array.of(1, -1))).toBe(false);
    expect(factHolds(f, Int32Array.of(0, -1))).toBe(true);
    expect(factHolds(f, Int32Array.of(2, 0))).toBe(true);
    expect(factHolds(f, Int32Array.of(0, 0))).toBe(true);
  });

  it('an equality or disequality holds where its condition fails, and otherwise says whether the two slots are equal', () => {
    const eq = (when: { slot: number; value: number } | null): Fact => ({ kind: 'eq', when, a: 0, b: 1 });
    const ne = (when: { slot: number; value: number } | null): Fact => ({ kind: 'ne', when, a: 0, b: 1 });
    expect(factHolds(eq(null), Int32Array.of(3, 3, 0))).toBe(true);
    expect(factHolds(eq(null), Int32Array.of(3, 4, 0))).toBe(false);
    expect(factHolds(ne(null), Int32Array.of(3, 3, 0))).toBe(false);
    expect(factHolds(ne(null), Int32Array.of(3, 4, 0))).toBe(true);
    const w = { slot: 2, value: 1 };
    // Condition false: both hold whatever the slots hold.
    for (const s of [Int32Array.of(3, 3, 0), Int32Array.of(3, 4, 0), Int32Array.of(3, 4, -1)]) {
      expect(factHolds(eq(w), s)).toBe(true);
      expect(factHolds(ne(w), s)).toBe(true);
    }
    // Condition true: as without a condition.
    expect(factHolds(eq(w), Int32Array.of(3, 3, 1))).toBe(true);
    expect(factHolds(eq(w), Int32Array.of(3, 4, 1))).toBe(false);
    expect(factHolds(ne(w), Int32Array.of(3, 3, 1))).toBe(false);
    expect(factHolds(ne(w), Int32Array.of(3, 4, 1))).toBe(true);
    // A condition on value 0 is a condition too (not "no condition").
    const w0 = { slot: 2, value: 0 };
    expect(factHolds(eq(w0), Int32Array.of(3, 4, 1))).toBe(true);
    expect(factHolds(eq(w0), Int32Array.of(3, 4, 0))).toBe(false);
  });
});

describe('factSlots', () => {
  it('names the slots of the literals, or the condition and the two compared slots', () => {
    expect(
      factSlots({
        kind: 'cube',
        lits: [
          { slot: 4, value: 1 },
          { slot: 2, value: 0 },
        ],
      }),
    ).toEqual([4, 2]);
    expect(factSlots({ kind: 'sets', lits: [{ slot: 3, values: [0, 1] }] })).toEqual([3]);
    expect(factSlots({ kind: 'eq', when: null, a: 1, b: 5 })).toEqual([1, 5]);
    expect(factSlots({ kind: 'ne', when: { slot: 7, value: 0 }, a: 1, b: 5 })).toEqual([7, 1, 5]);
  });
});

/** The facts mineFacts must find in `m`, by brute force over its reachable states `states`. */
function expectedFacts(m: Model, states: readonly Int32Array[]): Fact[] {
  const out: Fact[] = [];
  const n = m.layout.nSlots;
  const types = m.layout.slotTypes;
  const taken = (j: number, v: number) => states.some((s) => s[j] === v);
  const lits: { slot: number; value: number }[] = [];
  for (let j = 0; j < n; j++) {
    for (const v of slotValues(m, j)) {
      if (taken(j, v)) lits.push({ slot: j, value: v });
      else out.push({ kind: 'cube', lits: [{ slot: j, value: v }] });
    }
  }
  for (const x of lits) {
    for (const y of lits) {
      if (y.slot <= x.slot) continue;
      if (!states.some((s) => s[x.slot] === x.value && s[y.slot] === y.value)) out.push({ kind: 'cube', lits: [x, y] });
    }
  }
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      if (!comparable(types[a] as ScalarType, types[b] as ScalarType)) continue;
      const vb = slotValues(m, b);
      if (!slotValues(m, a).some((v) => vb.includes(v))) continue;
      const same = (s: Int32Array) => s[a] === s[b];
      if (states.every(same)) out.push({ kind: 'eq', when: null, a, b });
      else if (!states.some(same)) out.push({ kind: 'ne', when: null, a, b });
      else {
        for (const w of lits) {
          if (w.slot === a || w.slot === b) continue;
          const under = states.filter((s) => s[w.slot] === w.value);
          if (under.every(same)) out.push({ kind: 'eq', when: w, a, b });
          else if (!under.some(same)) out.push({ kind: 'ne', when: w, a, b });
        }
      }
    }
  }
  return out;
}

/** The reachable set of `m` (built inside each test: code run while the file is collected is not attributed to a test, so a mutation run would not run its mutants). */
function reachSet(m: Model) {
  const built = buildReachableSet(m, [], 100_000, null);
  if (built.status !== 'complete') throw new Error(`reachable set: ${built.status}`);
  return built.set;
}

describe('mineFacts on a model enumerated by the interpreter', () => {
  const mine = () => mineFacts(model, reachSet(model));

  it('the enumeration agrees with the reachable set (same number of states)', () => {
    expect(reachSet(model).n).toBe(reach.length);
  });

  it('every mined fact holds in every reachable state', () => {
    for (const f of mine()) {
      const bad = reach.find((s) => !factHolds(f, s));
      expect(bad, key(f)).toBeUndefined();
    }
  });

  it('finds exactly the facts a brute-force search over the reachable states finds, each once', () => {
    const got = mine().map(key);
    expect(new Set(got).size).toBe(got.length);
    expect([...got].sort()).toEqual(expectedFacts(model, reach).map(key).sort());
  });

  it('the brute-force search finds every kind of fact here, so the comparison above is not vacuous', () => {
    const expected = expectedFacts(model, reach);
    const count = (p: (f: Fact) => boolean) => expected.filter(p).length;
    const kinds = (f: Fact) => (f.kind === 'eq' || f.kind === 'ne' ? [f.a, f.b].map((j) => model.layout.slotTypes[j]?.kind).join('-') : '');
    // Equalities between two Booleans and between two slots of one enum.
    expect(count((f) => kinds(f) === 'bool-bool')).toBeGreaterThan(0);
    expect(count((f) => kinds(f) === 'enum-enum')).toBeGreaterThan(0);
    expect(count((f) => f.kind === 'cube' && f.lits.length === 1)).toBeGreaterThan(0);
    expect(count((f) => f.kind === 'cube' && f.lits.length === 2)).toBeGreaterThan(0);
    expect(count((f) => f.kind === 'eq' && f.when === null)).toBeGreaterThan(0);
    expect(count((f) => f.kind === 'ne' && f.when === null)).toBeGreaterThan(0);
    expect(count((f) => f.kind === 'eq' && f.when !== null)).toBeGreaterThan(0);
    expect(count((f) => f.kind === 'ne' && f.when !== null)).toBeGreaterThan(0);
  });

  it('compares an option with its inner type, and never slots of different enums, index types or kinds', () => {
    const mined = mine();
    const has = (kind: 'eq' | 'ne', a: string, b: string) => mined.some((f) => f.kind === kind && f.when === null && f.a === slot(a) && f.b === slot(b));
    // cnt is always some(n): an option equal to a plain range.
    expect(has('eq', 'n', 'cnt')).toBe(true);
    // far (5..6) shares no value with n (0..2): the disequality is implied by the types, left out.
    expect(mined.some((f) => (f.kind === 'eq' || f.kind === 'ne') && [f.a, f.b].includes(slot('far')))).toBe(false);
    // Different enums (Step, Mode), index types (Frame, option of Page) and kinds (bool, enum) are not compared.
    const pairs = [
      ['mig[0].step', 'mode'],
      ['owner[0]', 'last'],
      ['mig[0].dst', 'owner[1]'],
      ['busy[0]', 'mode'],
    ];
    for (const [a, b] of pairs) {
      const ja = slot(a as string);
      const jb = slot(b as string);
      const compared = mined.some((f) => (f.kind === 'eq' || f.kind === 'ne') && ((f.a === ja && f.b === jb) || (f.a === jb && f.b === ja)));
      expect(compared, `${a} ${b}`).toBe(false);
    }
  });
});

describe('mineFacts: an enum and an index type of the same name', () => {
  // Slots x1 (enum X), i (index X), x2 (enum X), all 0 in the one reachable state: x1 and x2 are
  // equal; an index value is never compared with an enum value, whatever the names.
  const proto = defineProtocol({
    name: 'same-names',
    summary: '',
    spec: '',
    params: {},
    variants: [],
    build(b) {
      const X = b.index('X', 2);
      const E = enumOf('X', ['a', 'b']);
      b.v('x1', E);
      b.v('i', X);
      b.v('x2', E);
      b.init('start', () => []);
      return {};
    },
  });
  it('finds exactly the brute-force facts: the two enum slots equal, the index slot compared with neither', () => {
    const m = buildModel(proto);
    const states = reachableStates(m);
    const got = mineFacts(m, reachSet(m)).map(key).sort();
    expect(got).toEqual(expectedFacts(m, states).map(key).sort());
    expect(got).toContain('eq - 0 2');
    expect(got.filter((k) => k.startsWith('eq') || k.startsWith('ne'))).toEqual(['eq - 0 2']);
  });
});
