/**
 * Symmetry reduction on a model that stores values of its symmetric type, as `T` and as
 * `option(T)`, in arrays indexed by `T`: a permutation must rename those values as well as move
 * the array positions, or non-equivalent states are merged. The canonical state count must be the
 * number of classes of reachable states, which an independent, naive computation here gives (a
 * plain BFS over the interpreter, then every state renamed by every permutation); the counts are
 * pinned, and cross-checked with Rumur's exhaustive symmetry reduction when Rumur is installed.
 */
import { describe, expect, it } from 'vitest';
import { rumurFlags, toMurphi } from '../../exporters/murphi.js';
import { runRumur } from '../../exporters/runPeers.js';
import { add, and, count, eq, isNone, isSome, lt, ne, none, some, unwrap } from '../../model/lang/expr.js';
import { applyRule, enabled, initState } from '../../model/lang/interp.js';
import { type Value, decodeState, encodeState } from '../../model/lang/layout.js';
import { type Model, type ProtocolDef, buildModel, defineProtocol, intParam } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { type Type, arrayOf, option, range } from '../../model/lang/types.js';
import { type Property, invariant, stepProperty } from '../../properties/property.js';
import { peerAvailable } from '../../test/peers.js';
import { replayTrace } from '../../counterexamples/replay.js';
import { explicitCheck } from './explicit.js';

/**
 * Processes point at each other: `ptr[p]` is none or another process, `last` the process that
 * moved last, `hops` counts Follow steps. Every value of T is stored somewhere.
 */
const pointers = defineProtocol({
  name: 'pointers',
  summary: 'processes that point at processes',
  spec: 'checker/explicit/symmetryValues.test.ts',
  params: { procs: intParam(3, 1, 4, 'processes') },
  variants: [],
  build(b, cfg) {
    const T = b.index('T', cfg.int('procs'), { symmetric: true });
    const last = b.v('last', option(T));
    const ptr = b.v('ptr', arrayOf(T, option(T)));
    const mover = b.v('mover', arrayOf(T, T));
    const hops = b.v('hops', range(0, 2));
    b.init('none', () => []);
    b.rule('Point', { p: T, q: T }, ({ p, q }) => ({
      guard: and(isNone(ptr.at(p)), ne(p, q)),
      body: [assign(ptr.at(p), some(q)), assign(last, some(p)), assign(mover.at(q), p)],
    }));
    b.rule('Follow', { p: T }, ({ p }) => ({
      guard: and(isSome(ptr.at(p)), lt(hops, 2)),
      body: [assign(ptr.at(p), ptr.at(unwrap(ptr.at(p)))), assign(hops, add(hops, 1)), assign(last, some(p))],
    }));
    b.rule('Drop', { p: T }, ({ p }) => ({
      guard: isSome(ptr.at(p)),
      body: [assign(ptr.at(p), none), assign(mover.at(p), unwrap(last))],
    }));
    b.endState(() =>
      eq(
        count(T, (p) => isSome(ptr.at(p))),
        0,
      ),
    );
    return { T, ptr, last };
  },
});

/** Processes that remember a process (no option): what the Murphi exporter can print under symmetry. */
const movers = defineProtocol({
  name: 'movers',
  summary: 'processes that remember processes',
  spec: 'checker/explicit/symmetryValues.test.ts',
  params: { procs: intParam(3, 1, 4, 'processes') },
  variants: [
    { name: 'no-end', summary: 'no legal end state: the last states are deadlocks', cites: 'test' },
    { name: 'overflow', summary: 'a fourth move overflows the counter', cites: 'test' },
  ],
  build(b, cfg) {
    const T = b.index('T', cfg.int('procs'), { symmetric: true });
    const last = b.v('last', T);
    const mover = b.v('mover', arrayOf(T, T));
    const moves = b.v('moves', range(0, 3));
    b.init('zero', () => []);
    b.rule('Move', { p: T, q: T }, ({ p, q }) => ({
      guard: and(lt(moves, cfg.is('overflow') ? 4 : 3), ne(mover.at(p), q)),
      body: [assign(mover.at(p), q), assign(last, p), assign(moves, add(moves, 1))],
    }));
    if (!cfg.is('no-end')) b.endState(() => eq(moves, 3));
    return { mover, moves };
  },
});

/** A value with every value of T renamed by `pi` and every array over T permuted by it. */
function rename(t: Type, v: Value, pi: readonly number[], sym: string): Value {
  if (t.kind === 'index') return t.name === sym ? (pi[v as number] as number) : v;
  if (t.kind === 'option') return v === null ? null : rename(t.inner, v, pi, sym);
  if (t.kind === 'record')
    return Object.fromEntries(Object.entries(t.fields).map(([f, ft]) => [f, rename(ft, (v as Record<string, Value>)[f] as Value, pi, sym)]));
  if (t.kind === 'array') {
    const xs = v as Value[];
    const out: Value[] = new Array(xs.length);
    xs.forEach((x, i) => {
      out[t.index.name === sym ? (pi[i] as number) : i] = rename(t.elem, x, pi, sym);
    });
    return out;
  }
  return v;
}

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

/** Reachable states and their classes under renaming T, by a plain BFS over the interpreter. */
function naive(model: Model): { states: number; classes: number } {
  const seen = new Set<string>();
  let frontier = model.inits.map((i) => initState(model, i));
  for (const s of frontier) seen.add(s.join());
  while (frontier.length) {
    const next: Int32Array[] = [];
    for (const s of frontier) {
      for (const inst of model.instances) {
        if (!enabled(model, inst, s)) continue;
        const t = applyRule(model, inst, s);
        if (seen.has(t.join())) continue;
        seen.add(t.join());
        next.push(t);
      }
    }
    frontier = next;
  }
  const sym = model.indexes.find((i) => i.symmetric)!;
  const perms = permutations(sym.size);
  const classes = new Set<string>();
  for (const key of seen) {
    const dec = decodeState(model.layout, Int32Array.from(key.split(','), Number));
    const forms = perms.map((pi) => {
      const o = Object.fromEntries(model.vars.map((v) => [v.name, rename(v.type, dec[v.name] as Value, pi, sym.name)]));
      return (encodeState(model.layout, o) as Int32Array).join();
    });
    classes.add(forms.sort()[0] as string);
  }
  return { states: seen.size, classes: classes.size };
}

// Pinned: computed by the naive BFS above and by the engine, and cross-checked with Rumur
// (--symmetry-reduction exhaustive) below.
const PINNED: [string, number, number, number][] = [
  ['pointers', 2, 89, 45],
  ['pointers', 3, 5806, 981],
  ['movers', 2, 11, 7],
  ['movers', 3, 109, 34],
];
const PROTOCOLS = { pointers, movers } as const;

describe('symmetry reduction with values of the symmetric type stored in the state', () => {
  it.each(PINNED)('%s procs=%i: the canonical count is the number of classes of reachable states', (name, procs, full, canonical) => {
    const model: Model = buildModel(PROTOCOLS[name as keyof typeof PROTOCOLS] as ProtocolDef<unknown>, { params: { procs } });
    const plain = explicitCheck({ model, properties: [], limits: {} });
    const reduced = explicitCheck({ model, properties: [], limits: {}, symmetry: true });
    const n = naive(model);
    expect(plain.status).toBe('ok');
    expect(reduced.status).toBe('ok');
    expect(plain.stats.states).toBe(n.states);
    expect(reduced.stats.states).toBe(n.classes);
    expect(reduced.stats.states).toBeLessThan(plain.stats.states);
    expect([plain.stats.states, reduced.stats.states]).toEqual([full, canonical]);
  });

  it('a violation is found at the same depth with and without the reduction, and its trace replays', () => {
    const model = buildModel(pointers, { params: { procs: 3 } });
    const { T, ptr } = model.handles;
    const props: Property[] = [
      invariant(
        'no-shared-target',
        'P-1',
        'no two processes point at the same one',
        lt(
          count(T, (p) => isSome(ptr.at(p))),
          3,
        ),
      ),
    ];
    const plain = explicitCheck({ model, properties: props, limits: {} });
    const reduced = explicitCheck({ model, properties: props, limits: {}, symmetry: true });
    const depth = (r: typeof plain) => (r.status === 'violated' ? (r.violations[0]?.trace?.steps.length ?? 0) - 1 : -1);
    expect(depth(plain)).toBeGreaterThan(0);
    expect(depth(reduced)).toBe(depth(plain));
    const trace = reduced.status === 'violated' ? reduced.violations[0]?.trace : null;
    const rep = replayTrace(model, props, trace!);
    expect([rep.mismatch, rep.violation?.property]).toEqual([null, 'no-shared-target']);
  });

  it('every kind of violation under the reduction has the depth it has without, and a trace that replays concretely', () => {
    const cases: [string | null, (m: Model) => Property[]][] = [
      [null, (m) => [stepProperty(m, 'moves-away', 'P-2', 'a process never remembers itself', 'Move', ({ p, q }) => ne(p!, q!))]],
      [null, (m) => [invariant('not-all-moved', 'P-3', 'two moves are never made', lt((m.handles as { moves: never }).moves, 2))]],
      ['no-end', () => []],
    ];
    for (const [variant, props] of cases) {
      const model = buildModel(movers, { variant, params: { procs: 3 } });
      const ps = props(model);
      const plain = explicitCheck({ model, properties: ps, limits: {} });
      const reduced = explicitCheck({ model, properties: ps, limits: {}, symmetry: true });
      expect(reduced.status).toBe('violated');
      if (plain.status !== 'violated' || reduced.status !== 'violated') continue;
      const [vp, vr] = [plain.violations[0]!, reduced.violations[0]!];
      expect([vr.kind, vr.property, vr.trace!.steps.length]).toEqual([vp.kind, vp.property, vp.trace!.steps.length]);
      const rep = replayTrace(model, ps, vr.trace!);
      expect([rep.mismatch, rep.violation?.property, rep.violation?.step]).toEqual([null, vr.property, vr.trace!.steps.length - 1]);
    }
    const over = buildModel(movers, { variant: 'overflow', params: { procs: 3 } });
    const err = explicitCheck({ model: over, properties: [], limits: {}, symmetry: true });
    expect(err.status === 'error' && [err.code, err.trace?.steps.length]).toEqual(['MC011', 4]);
    if (err.status === 'error') expect(replayTrace(over, [], err.trace!).modelError?.step).toBe(4);
  });

  it('the Murphi exporter refuses option(T) under symmetry (Rumur has no none for a scalarset), so Rumur checks the movers', () => {
    expect(() => toMurphi(buildModel(pointers), [], { symmetry: true })).toThrow(/none \(-1\) is no value of the scalarset T/);
  });

  it.skipIf(!peerAvailable('rumur', 'cc'))('Rumur (exhaustive symmetry reduction) stores exactly our canonical states (needs rumur and cc)', () => {
    for (const procs of [2, 3]) {
      const model = buildModel(movers, { params: { procs } });
      const ours = explicitCheck({ model, properties: [], limits: {}, symmetry: true });
      const peer = runRumur(toMurphi(model, [], { symmetry: true }), { threads: 1, flags: rumurFlags(model, { symmetry: true }), cflags: ['-O0'] });
      expect(peer.status, peer.output).toBe('ok');
      expect(peer.states).toBe(ours.stats.states);
    }
  });
});
