/**
 * `prove --infer` (proveInfer.ts) on hand-made models of a few states. Why this file exists: the
 * driver's other tests run real protocols and random models for minutes (proveInfer.test.ts,
 * proveInfer.large.test.ts, the CLI test), too slow for mutation testing and blind to the exact
 * fields of each answer. Here every verdict has an oracle of its own: the reachable states by a
 * plain breadth-first search over the interpreter (inferenceModel.testkit.ts), the explicit engine's
 * shortest trace, the trace replayed by counterexamples/replay.ts, a fresh k-induction run on the
 * printed invariant, and counts worked out by hand from the model.
 *
 * The model: `x` in 0..4 starts at 0 and `Jump` adds `stride` (default 2) while `x <= 3` (stride 2:
 * 0 -> 2 -> 4, three reachable states, and x = 4 has no enabled rule; stride 3: 0 -> 3, then 6 is out
 * of range, a model error). `x != 3` holds in every reachable state but is not 1-inductive
 * (x = 1 steps to 3), so a proof needs a learned invariant; `x != 4` fails two steps from the start.
 *
 * The engines the driver calls (learner, Spacer, reachable states, k-induction, explicit BFS) are
 * replaced only where a test says so (`stub`), to force the answers a tiny real model never gives
 * (the engines disagreeing, unknown answers, an untranslatable model, BFS traces that do not hold
 * up); everywhere else they run for real (calls and their arguments are recorded).
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { replayTrace } from '../../counterexamples/replay.js';
import { add, and, eq, le, lit, ne, not } from '../../model/lang/expr.js';
import type { Expr } from '../../model/lang/expr.js';
import { holds, initState } from '../../model/lang/interp.js';
import { type Model, buildModel, defineProtocol, intParam } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { arrayOf, bool, range } from '../../model/lang/types.js';
import { type Invariant, invariant, stepProperty } from '../../properties/property.js';
import { explicitCheck } from '../explicit/explicit.js';
import { needs } from '../../test/tools.js';
import { reachableStates } from './inferenceModel.testkit.js';
import { findNativeZ3 } from './nativeZ3.js';
import { prove } from './prove.js';
import { type InferProgress, DEFAULT_INFER_MAX_STATES, inferredInvariants, inferredName, proveInfer } from './proveInfer.js';
import { SmtUnsupported } from './symbolic.js';
import { shutdownSmt } from './z3Host.js';

/** Replacements of the engines the driver calls; null runs the real one. Calls are counted. */
const stub = vi.hoisted(() => ({
  learn: null as null | ((...a: unknown[]) => unknown),
  spacer: null as null | ((...a: unknown[]) => unknown),
  reach: null as null | ((...a: unknown[]) => unknown),
  prove: null as null | ((...a: unknown[]) => unknown),
  proveArgs: [] as unknown[][],
  learnArgs: [] as unknown[][],
  explicit: null as null | ((...a: unknown[]) => unknown),
  spacerCalls: 0,
}));
vi.mock('./invariantLearner.js', async (actual) => {
  const real = await actual<typeof import('./invariantLearner.js')>();
  return {
    ...real,
    learnInvariant: async (...a: Parameters<typeof real.learnInvariant>) => {
      stub.learnArgs.push(a);
      return stub.learn ? stub.learn(...a) : real.learnInvariant(...a);
    },
  };
});
vi.mock('./spacer.js', async (actual) => {
  const real = await actual<typeof import('./spacer.js')>();
  return {
    ...real,
    spacerSolve: async (...a: Parameters<typeof real.spacerSolve>) => {
      stub.spacerCalls++;
      return stub.spacer ? stub.spacer(...a) : real.spacerSolve(...a);
    },
  };
});
vi.mock('./reachableSet.js', async (actual) => {
  const real = await actual<typeof import('./reachableSet.js')>();
  return { ...real, buildReachableSet: (...a: Parameters<typeof real.buildReachableSet>) => (stub.reach ? stub.reach(...a) : real.buildReachableSet(...a)) };
});
vi.mock('../explicit/explicit.js', async (actual) => {
  const real = await actual<typeof import('../explicit/explicit.js')>();
  return {
    ...real,
    explicitCheck: (...a: Parameters<typeof real.explicitCheck>) => (stub.explicit ? stub.explicit(...a) : real.explicitCheck(...a)),
  };
});
vi.mock('./prove.js', async (actual) => {
  const real = await actual<typeof import('./prove.js')>();
  return {
    ...real,
    prove: async (...a: Parameters<typeof real.prove>) => {
      stub.proveArgs.push(a);
      return stub.prove ? stub.prove(...a) : real.prove(...a);
    },
  };
});

/** The options of the `i`-th call of `prove` (the guard) and of the learner. */
const guardOpts = (i: number) => {
  const a = stub.proveArgs[i];
  if (!a) throw new Error(`no guard call ${i}`);
  return a[2] as { strengthening: Invariant[]; maxK: number; timeLimitSec?: number };
};
const learnOpts = (i: number) => {
  const a = stub.learnArgs[i];
  if (!a) throw new Error(`no learner call ${i}`);
  return a[4] as object;
};

afterEach(() => {
  stub.learn = null;
  stub.spacer = null;
  stub.reach = null;
  stub.prove = null;
  stub.explicit = null;
  stub.proveArgs = [];
  stub.learnArgs = [];
  stub.spacerCalls = 0;
  vi.restoreAllMocks();
});
afterAll(() => shutdownSmt());

const jumper = defineProtocol({
  name: 'jumper',
  summary: 'x jumps from 0 by stride while it is at most 2',
  spec: 'checker/smt/proveInferUnit.test.ts',
  params: { stride: intParam(2, 1, 3, 'how far Jump moves x') },
  variants: [
    { name: 'ends', summary: 'x = 4 is a legal end state', cites: 'test' },
    { name: 'bad-init', summary: 'the start state puts x out of its range', cites: 'test' },
  ],
  build(b, cfg) {
    const x = b.v('x', range(0, 4));
    b.init('zero', () => (cfg.is('bad-init') ? [assign(x, add(x, 5))] : []));
    b.rule('Jump', {}, () => ({ guard: le(x, 3), body: [assign(x, add(x, cfg.int('stride')))] }));
    if (cfg.is('ends')) b.endState(() => eq(x, 4));
    return { x };
  },
});
type X = Parameters<typeof ne>[0];
const build = (variant: string | null = null, params: Record<string, number> = {}) => buildModel(jumper, { variant, params });
const xOf = (m: Model) => (m.handles as { x: X }).x;
/** Holds (reachable x: 0, 2, 4) but is not 1-inductive (x = 1 steps to 3). */
const not3 = (m: Model) => invariant('x-not-3', 'J-1', 'x never equals 3', ne(xOf(m), 3));
/** Fails two steps from the start (0, 2, 4). */
const not4 = (m: Model) => invariant('x-not-4', 'J-2', 'x never equals 4', ne(xOf(m), 4));
/** A true hint: x is never 1. */
const not1 = (m: Model) => invariant('x-not-1', 'J-H1', 'x never equals 1', ne(xOf(m), 1));
/** A wrong hint: fails one step from the start. */
const not2 = (m: Model) => invariant('x-not-2', 'J-H2', 'x never equals 2', ne(xOf(m), 2));
/** A step property that holds: every step raises x. */
const rises = (m: Model) => stepProperty(m, 'x-rises', 'J-S', 'every Jump raises x', 'Jump', () => ne(xOf(m), 0));

/** Every printed conjunct holds in every state the breadth-first search reaches. */
function holdsEverywhere(m: Model, exprs: readonly Expr[]): boolean {
  const reach = reachableStates(m);
  return exprs.every((e) => reach.every((s) => holds(m, e, s)));
}

describe('proofs with a learned invariant', () => {
  it('proves x != 3 at stride 2: the printed invariant holds in every reachable state, is re-proved by a fresh 1-induction, and is needed', async () => {
    const m = build();
    const props = [not3(m)];
    const r = await proveInfer(m, props);
    if (r.status !== 'proved' || !r.invariant) throw new Error(`expected a proof, got ${r.status}`);
    expect(r.method).toBe('inferred-invariant');
    expect(r.properties).toEqual(['x-not-3']);
    const { conjuncts, invariants } = r.invariant;
    expect(conjuncts.length).toBeGreaterThan(0);
    expect(
      holdsEverywhere(
        m,
        conjuncts.map((c) => c.expr),
      ),
    ).toBe(true);
    // The named invariants are the printed conjuncts, in order.
    expect(invariants.map((i) => [i.name, i.requirement, i.pred])).toEqual(conjuncts.map((c, i) => [`inferred-${i + 1}`, 'INFERRED', c.expr]));
    const again = await prove(m, props, { strengthening: invariants, maxK: 1 });
    expect(again.status === 'proved' && again.k).toBe(1);
    const bare = await prove(m, props, { maxK: 1 });
    expect(bare.status).toBe('cti');
    // The guard was run as the driver says: the printed invariants as strengthening, k = 1, no time limit.
    const g = guardOpts(0);
    expect(g.strengthening).toEqual(invariants);
    expect(g.maxK).toBe(1);
    expect('timeLimitSec' in g).toBe(false);
    // The notes, worked out from the model: parameters, 3 reachable states (0, 2, 4), one of them
    // (x = 4) with no enabled rule and no end state declared.
    expect(reachableStates(m).length).toBe(3);
    expect(r.notes[0]).toBe('at {"stride":2}: holds in every reachable state at these parameter values only');
    expect(r.notes[1]).toMatch(
      new RegExp(
        `^inferred invariant: ${conjuncts.length} conjuncts \\(\\d+ facts; 3 reachable states, \\d+ counterexamples to induction blocked, \\d+ z3 queries\\)$`,
      ),
    );
    expect(r.notes[2]).toMatch(/^soundness guard: .*1-inductive/);
    expect(r.notes[3]).toMatch(/^proved: every invariant listed/);
    expect(r.notes[4]).toBe(
      'deadlock freedom (not part of the proof) does not hold: 1 reachable states have no enabled rule and are not legal end states; check reports one with a trace',
    );
    expect(r.notes.length).toBe(5);
  }, 30_000);

  it('with x = 4 a legal end state: no deadlock note, and the variant is named in the first note', async () => {
    const m = build('ends');
    const r = await proveInfer(m, [not3(m)]);
    if (r.status !== 'proved') throw new Error(`expected a proof, got ${r.status}`);
    expect(r.notes[0]).toBe('at {"stride":2} (variant ends): holds in every reachable state at these parameter values only');
    expect(r.notes.length).toBe(4);
    expect(r.notes.some((n) => n.includes('deadlock freedom (not part'))).toBe(false);
  }, 30_000);

  it('a true hint and a step property are proved with the invariants, listed invariants, hints, then steps', async () => {
    const m = build();
    const hint = not1(m);
    const r = await proveInfer(m, [rises(m), not3(m)], { hints: [hint] });
    if (r.status !== 'proved' || !r.invariant) throw new Error(`expected a proof, got ${r.status}`);
    expect(r.properties).toEqual(['x-not-3', 'x-not-1', 'x-rises']);
    // The hint goes to the guard before the printed invariants.
    expect(guardOpts(0).strengthening).toEqual([hint, ...r.invariant.invariants]);
    // The learner was given the hint as an obligation with the invariants, the step property apart.
    const obligations = stub.learnArgs[0]?.[2] as { invariants: Invariant[]; steps: unknown[] } | undefined;
    if (!obligations) throw new Error('the learner was not called');
    expect(obligations.invariants.map((p) => p.name)).toEqual(['x-not-3', 'x-not-1']);
    expect(obligations.steps.length).toBe(1);
  }, 30_000);

  it('reports its phases in order: reach (0 states), reach (3 states), learning, then the guard with the number of conjuncts', async () => {
    const m = build();
    const seen: InferProgress[] = [];
    const r = await proveInfer(m, [not3(m)], { onProgress: (p) => seen.push(p) });
    if (r.status !== 'proved' || !r.invariant) throw new Error(`expected a proof, got ${r.status}`);
    expect(seen[0]).toEqual({ phase: 'reach', states: 0, elapsedMs: 0 });
    expect(seen[1]).toMatchObject({ phase: 'reach', states: 3 });
    const last = seen[seen.length - 1];
    expect(last).toMatchObject({ phase: 'guard', conjuncts: r.invariant.conjuncts.length });
    const middle = seen.slice(2, -1).map((p) => p.phase);
    expect(middle.every((p) => p === 'learn' || p === 'minimize')).toBe(true);
    // Without a listener the learner is not handed one.
    await proveInfer(m, [not3(m)]);
    expect('onProgress' in learnOpts(1)).toBe(false);
    expect('onProgress' in learnOpts(0)).toBe(true);
  }, 30_000);

  it('the state budget: exactly the 3 reachable states enumerate; one fewer hands the model to Spacer with the reason', async () => {
    const m = build();
    const seen: InferProgress[] = [];
    const r = await proveInfer(m, [not3(m)], { maxStates: 3, onProgress: (p) => seen.push(p) });
    expect(r.status).toBe('proved');
    expect(stub.spacerCalls).toBe(0);
    expect(seen.some((p) => p.phase === 'spacer')).toBe(false);
    const seen2: InferProgress[] = [];
    const r2 = await proveInfer(m, [not3(m)], { maxStates: 2, onProgress: (p) => seen2.push(p) });
    expect(stub.spacerCalls).toBe(1);
    expect(seen2.find((p) => p.phase === 'spacer')).toMatchObject({ phase: 'spacer', reason: 'more than 2 reachable states: too many to enumerate' });
    expect(r2.status).toBe('proved');
    expect(r2.status === 'proved' && r2.notes[1]).toMatch(/found by z3's Spacer engine/);
  }, 30_000);

  it.skipIf(findNativeZ3() === null)(
    `the solver asked for answers the learner and the guard (native z3: ${needs('z3')}), wasm by default`,
    async () => {
      const m = build();
      const r = await proveInfer(m, [not3(m)], { solver: 'native' });
      expect(r.status).toBe('proved');
      const nameOf = (x: unknown) => (x as { solverName: string } | undefined)?.solverName;
      expect([nameOf(stub.learnArgs[0]?.[0]), nameOf((guardOpts(0) as { session?: unknown }).session)]).toEqual(['z3-native', 'z3-native']);
      await proveInfer(m, [not3(m)]);
      expect(nameOf(stub.learnArgs[1]?.[0])).toBe('z3-wasm');
    },
    30_000,
  );

  it('the default state budget is 3,000,000', async () => {
    expect(DEFAULT_INFER_MAX_STATES).toBe(3_000_000);
    const m = build();
    let budget = -1;
    stub.reach = (...a: unknown[]) => {
      budget = a[2] as number;
      return { status: 'limit', reason: 'stop here', states: 1, elapsedMs: 0 };
    };
    stub.spacer = async () => ({ status: 'unknown', reason: 'canceled', elapsedMs: 0 });
    await proveInfer(m, [not3(m)]);
    expect(budget).toBe(3_000_000);
  });

  it('inferred names count from 1', () => {
    expect([0, 1, 9].map(inferredName)).toEqual(['inferred-1', 'inferred-2', 'inferred-10']);
    const m = build();
    const e = ne(xOf(m), 1);
    expect(inferredInvariants([{ expr: e }]).map((i) => [i.kind, i.name, i.requirement, i.doc, i.pred])).toEqual([
      ['invariant', 'inferred-1', 'INFERRED', 'found by prove --infer', e],
    ]);
  });
});

describe('counterexamples: explicit BFS is the oracle', () => {
  it('x != 4 fails: the violation has the BFS property and length (3 states), replays, and is marked as the shortest trace', async () => {
    const m = build();
    const props = [not3(m), not4(m)];
    const ex = explicitCheck({ model: m, properties: props, limits: {}, deadlock: false });
    const r = await proveInfer(m, props);
    if (r.status !== 'violated' || ex.status !== 'violated' || !r.violation.trace) throw new Error(`expected violations, got ${r.status}`);
    expect(r.method).toBe('inferred-invariant');
    expect(r.violation.property).toBe('x-not-4');
    expect(ex.violations[0]?.property).toBe('x-not-4');
    expect(r.violation.trace.steps.length).toBe(3);
    expect(ex.violations[0]?.trace?.steps.length).toBe(3);
    expect(r.violation.trace.steps.map((s) => s.state[0])).toEqual([0, 2, 4]);
    expect(r.violation.trace.extra?.method).toBe('prove --infer (breadth-first: a shortest trace)');
    const rep = replayTrace(m, props, r.violation.trace, { checkDeadlock: false });
    expect(rep.mismatch).toBeNull();
    expect(rep.violation?.property).toBe('x-not-4');
    expect(r.elapsedMs).toBeGreaterThanOrEqual(0);
  }, 30_000);

  it('a property naming one element of a symmetric index type: found without symmetry reduction, as BFS finds it (one step), and replays', async () => {
    const slots = defineProtocol({
      name: 'slots',
      summary: 'interchangeable slots are taken one by one',
      spec: 'checker/smt/proveInferUnit.test.ts',
      params: {},
      variants: [],
      build(b) {
        const Slot = b.index('Slot', 2, { symmetric: true });
        const taken = b.v('taken', arrayOf(Slot, bool));
        b.init('free', () => []);
        b.rule('Take', { s: Slot }, ({ s }) => ({ guard: not(taken.at(s)), body: [assign(taken.at(s), true)] }));
        return { taken };
      },
    });
    const m = buildModel(slots);
    const props = [invariant('slot-1-free', 'S-1', 'slot 1 is never taken', not(m.handles.taken.at(1)))];
    const ex = explicitCheck({ model: m, properties: props, limits: {}, deadlock: false });
    const r = await proveInfer(m, props);
    if (r.status !== 'violated' || ex.status !== 'violated' || !r.violation.trace) throw new Error(`expected violations, got ${r.status}`);
    expect(r.violation.property).toBe('slot-1-free');
    expect(r.violation.trace.steps.length).toBe(2);
    expect(ex.violations[0]?.trace?.steps.length).toBe(2);
    expect(replayTrace(m, props, r.violation.trace, { checkDeadlock: false }).violation?.property).toBe('slot-1-free');
  }, 30_000);

  it('a wrong hint alone: a cti saying the hint does not fit, with the BFS trace to it (one step)', async () => {
    const m = build();
    const hint = not2(m);
    const r = await proveInfer(m, [not3(m)], { hints: [hint] });
    if (r.status !== 'cti' || !r.trace) throw new Error(`expected a cti, got ${r.status}`);
    expect([r.method, r.property, r.requirement, r.hintFailed]).toEqual(['inferred-invariant', 'x-not-2', 'J-H2', true]);
    expect(r.trace.steps.map((s) => s.state[0])).toEqual([0, 2]);
    expect(r.message).toBe(
      'the hint x-not-2 does not hold: 1 steps lead to a state where it fails (the properties themselves hold there); the hints do not fit this model',
    );
    const rep = replayTrace(m, [hint], r.trace, { checkDeadlock: false });
    expect(rep.mismatch).toBeNull();
    expect(rep.violation?.property).toBe('x-not-2');
    expect(r.elapsedMs).toBeGreaterThanOrEqual(0);
  }, 30_000);

  it('a property failing deeper than a wrong hint is still reported as the violation (properties first)', async () => {
    const m = build();
    const r = await proveInfer(m, [not4(m)], { hints: [not2(m)] });
    expect(r.status === 'violated' && [r.violation.property, r.violation.trace?.steps.length]).toEqual(['x-not-4', 3]);
  }, 30_000);

  it('a model error two steps from the start (stride 3: 0, 3, then 6 is out of range): MC011 with the explicit engine trace', async () => {
    const m = build(null, { stride: 3 });
    const props = [not1(m)];
    const ex = explicitCheck({ model: m, properties: props, limits: {}, deadlock: false });
    const r = await proveInfer(m, props);
    if (r.status !== 'error' || ex.status !== 'error') throw new Error(`expected errors, got ${r.status} and ${ex.status}`);
    expect([r.method, r.code]).toEqual(['inferred-invariant', 'MC011']);
    expect(r.code).toBe(ex.code);
    expect(r.message).toBe(ex.message);
    expect(r.trace?.steps.length).toBe(ex.trace?.steps.length);
    expect(r.trace?.steps.map((s) => s.state[0]).slice(0, 2)).toEqual([0, 3]);
    expect(r.message).toMatch(/Jump/);
  }, 30_000);

  it('a start state out of range: MC011 at once, no trace, nothing enumerated', async () => {
    const m = build('bad-init');
    let thrown: unknown = null;
    try {
      initState(m, m.inits[0] as never);
    } catch (e) {
      thrown = e;
    }
    const seen: InferProgress[] = [];
    const r = await proveInfer(m, [not3(m)], { onProgress: (p) => seen.push(p) });
    expect(r).toMatchObject({ status: 'error', method: 'inferred-invariant', code: 'MC011', trace: null, message: (thrown as Error).message });
    expect(seen).toEqual([]);
  });

  it('an error that is not a model error in a start state is thrown, not reported', async () => {
    const m = build();
    const broken = { ...m, inits: [{ name: 'broken', body: null }] } as unknown as Model;
    await expect(proveInfer(broken, [])).rejects.toThrow();
  });
});

describe('Spacer (asked for, or past the state budget)', () => {
  it('proves x != 3: its printed invariant holds in every reachable state and is re-proved by 1-induction', async () => {
    const m = build();
    const props = [not3(m)];
    const seen: InferProgress[] = [];
    const r = await proveInfer(m, props, { spacer: true, onProgress: (p) => seen.push(p) });
    if (r.status !== 'proved' || !r.invariant) throw new Error(`expected a proof, got ${r.status}`);
    expect(seen[0]).toMatchObject({ phase: 'spacer', reason: 'asked for' });
    expect(seen.some((p) => p.phase === 'reach')).toBe(false);
    expect(r.properties).toEqual(['x-not-3']);
    expect(r.invariant.conjuncts.every((c) => c.covers === 1)).toBe(true);
    expect(
      holdsEverywhere(
        m,
        r.invariant.conjuncts.map((c) => c.expr),
      ),
    ).toBe(true);
    const again = await prove(m, props, { strengthening: r.invariant.invariants, maxK: 1 });
    expect(again.status).toBe('proved');
    expect(r.notes).toEqual([
      'at {"stride":2}: holds in every reachable state at these parameter values only',
      `inferred invariant: ${r.invariant.conjuncts.length} conjuncts, found by z3's Spacer engine (IC3/PDR on the Horn clauses of the model)`,
      'soundness guard: the printed conjuncts hold initially and, with the properties, are 1-inductive (z3 k-induction, k = 1), so every property holds in every reachable state',
      'proved: every invariant listed, every step property, and that no enabled rule raises a model error; deadlock freedom is not part of the proof',
    ]);
  }, 30_000);

  it('an unsafe answer within the state budget is shortened to the BFS trace (3 states) and replays', async () => {
    const m = build('ends');
    const props = [not4(m)];
    const r = await proveInfer(m, props, { spacer: true });
    if (r.status !== 'violated' || !r.violation.trace) throw new Error(`expected a violation, got ${r.status}`);
    expect(r.violation.property).toBe('x-not-4');
    expect(r.violation.trace.steps.length).toBe(3);
    expect(r.violation.trace.extra?.method).toBe('prove --infer (breadth-first: a shortest trace)');
    expect(replayTrace(m, props, r.violation.trace, { checkDeadlock: false }).mismatch).toBeNull();
  }, 30_000);

  it("past the state budget (1 state), Spacer's own derivation is reported: it replays and breaks the property", async () => {
    const m = build();
    const props = [not4(m)];
    const r = await proveInfer(m, props, { spacer: true, maxStates: 1 });
    if (r.status !== 'violated' || !r.violation.trace) throw new Error(`expected a violation, got ${r.status}`);
    expect(r.method).toBe('inferred-invariant');
    expect(r.violation.property).toBe('x-not-4');
    const extra = r.violation.trace.extra as Record<string, unknown>;
    expect(extra.method).toBe('prove --infer (Spacer derivation)');
    expect(extra.depth).toBe(r.violation.trace.steps.length - 1);
    expect(extra.solver).toBe('z3-wasm');
    // No trace to x = 4 is shorter than the BFS one.
    expect(r.violation.trace.steps.length).toBeGreaterThanOrEqual(3);
    const rep = replayTrace(m, props, r.violation.trace, { checkDeadlock: false });
    expect(rep.mismatch).toBeNull();
    expect(rep.violation?.property).toBe('x-not-4');
  }, 30_000);

  it('past the state budget, a wrong hint found by Spacer is a cti on the hint with its derivation', async () => {
    const m = build();
    // Two steps deep: beyond what a search of 1 state reaches.
    const hint = not4(m);
    const r = await proveInfer(m, [not3(m)], { spacer: true, maxStates: 1, hints: [hint] });
    if (r.status !== 'cti' || !r.trace) throw new Error(`expected a cti, got ${r.status}`);
    expect([r.method, r.property, r.requirement, r.hintFailed]).toEqual(['inferred-invariant', 'x-not-4', 'J-2', true]);
    const n = r.trace.steps.length - 1;
    expect(n).toBeGreaterThanOrEqual(2);
    expect(r.message).toBe(
      `the hint x-not-4 does not hold: ${n} steps lead to a state where it fails (the properties themselves hold there); the hints do not fit this model`,
    );
    expect(r.trace.extra?.method).toBe('prove --infer (Spacer derivation)');
    const rep = replayTrace(m, [hint], r.trace, { checkDeadlock: false });
    expect(rep.mismatch).toBeNull();
    expect(rep.violation?.property).toBe('x-not-4');
  }, 30_000);

  it('within the state budget, a wrong hint found by Spacer is the BFS cti (one step)', async () => {
    const m = build();
    const r = await proveInfer(m, [not3(m)], { spacer: true, hints: [not2(m)] });
    expect(r.status === 'cti' && [r.property, r.hintFailed, r.trace?.steps.length]).toEqual(['x-not-2', true, 2]);
  }, 30_000);

  it('past the state budget, a model error found by Spacer is MC011 with its derivation, which replays to the error', async () => {
    const m = build(null, { stride: 3 });
    const props = [not1(m)];
    const ex = explicitCheck({ model: m, properties: props, limits: {}, deadlock: false });
    const r = await proveInfer(m, props, { spacer: true, maxStates: 1 });
    if (r.status !== 'error' || ex.status !== 'error') throw new Error(`expected errors, got ${r.status} and ${ex.status}`);
    expect([r.method, r.code]).toEqual(['inferred-invariant', 'MC011']);
    expect(r.trace?.extra?.method).toBe('prove --infer (Spacer derivation)');
    expect(r.message).toMatch(/Jump/);
    const rep = r.trace ? replayTrace(m, props, r.trace, { checkDeadlock: false }) : null;
    expect(rep?.mismatch).toBeNull();
    expect(rep?.modelError).not.toBeNull();
  }, 30_000);

  it('within the state budget, a model error found by Spacer is the explicit engine error', async () => {
    const m = build(null, { stride: 3 });
    const props = [not1(m)];
    const ex = explicitCheck({ model: m, properties: props, limits: {}, deadlock: false });
    const r = await proveInfer(m, props, { spacer: true });
    if (r.status !== 'error' || ex.status !== 'error') throw new Error(`expected errors, got ${r.status} and ${ex.status}`);
    expect(r.code).toBe('MC011');
    expect(r.trace?.steps.length).toBe(ex.trace?.steps.length);
    expect(r.trace?.extra?.method).not.toBe('prove --infer (Spacer derivation)');
  }, 30_000);
});

describe('limits and deadlines', () => {
  it('a time limit of 0 s: the learner stops at once, reported with the limit and its counts', async () => {
    const m = build();
    const r = await proveInfer(m, [not3(m)], { timeLimitSec: 0 });
    expect(r.status).toBe('incomplete');
    expect(r.status === 'incomplete' && r.reason).toMatch(
      /^time limit of 0s reached while learning the invariant \(\d+ lemmas, \d+ counterexamples to induction blocked\)$/,
    );
  }, 30_000);

  it('a time limit of 0 s with Spacer: incomplete, time limit reached in Spacer', async () => {
    const m = build();
    const r = await proveInfer(m, [not3(m)], { timeLimitSec: 0, spacer: true });
    expect(r).toMatchObject({ status: 'incomplete', method: 'inferred-invariant', reason: 'time limit of 0s reached in Spacer' });
  }, 30_000);

  it('enumeration stopped at the deadline exactly (clock frozen at the start): incomplete, with the states so far; before it: Spacer', async () => {
    const m = build();
    const t0 = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => t0);
    let deadline: unknown;
    stub.reach = (...a: unknown[]) => {
      deadline = a[3];
      return { status: 'limit', reason: 'time limit reached while enumerating the reachable states', states: 17, elapsedMs: 0 };
    };
    stub.spacer = async () => ({ status: 'unknown', reason: 'canceled', elapsedMs: 0 });
    const r = await proveInfer(m, [not3(m)], { timeLimitSec: 0 });
    expect(deadline).toBe(t0);
    expect(r).toEqual({
      status: 'incomplete',
      method: 'inferred-invariant',
      elapsedMs: 0,
      reason: 'time limit of 0s reached while enumerating the reachable states (17 so far)',
    });
    expect(stub.spacerCalls).toBe(0);
    // One second left: not time up, so the limit hands over to Spacer.
    const r2 = await proveInfer(m, [not3(m)], { timeLimitSec: 1 });
    expect(deadline).toBe(t0 + 1000);
    expect(stub.spacerCalls).toBe(1);
    expect(r2).toEqual({ status: 'incomplete', method: 'inferred-invariant', elapsedMs: 0, reason: 'Spacer answered unknown (canceled)' });
    // No time limit: no deadline, and a limit is never time up.
    await proveInfer(m, [not3(m)]);
    expect(deadline).toBeNull();
    expect(stub.spacerCalls).toBe(2);
  });

  it('the guard gets the time left in seconds, at least 1', async () => {
    const m = build();
    const real = Date.now.bind(Date);
    let offset = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => real() + offset);
    const r = await proveInfer(m, [not3(m)], { timeLimitSec: 1000 });
    expect(r.status).toBe('proved');
    const left = guardOpts(0).timeLimitSec;
    expect(left).toBeGreaterThan(990);
    expect(left).toBeLessThanOrEqual(1000);
    // The learner ends 999.9 s into a 1000 s limit: the guard still gets 1 s.
    stub.proveArgs = [];
    stub.prove = async () => ({ status: 'incomplete', method: 'k-induction', reason: 'stopped', elapsedMs: 0 });
    const learnReal = (await vi.importActual<typeof import('./invariantLearner.js')>('./invariantLearner.js')).learnInvariant;
    stub.learn = async (...a: unknown[]) => {
      const out = await learnReal(...(a as Parameters<typeof learnReal>));
      offset = 999_900;
      return out;
    };
    const r2 = await proveInfer(m, [not3(m)], { timeLimitSec: 1000 });
    expect(guardOpts(0).timeLimitSec).toBe(1);
    expect(r2).toMatchObject({ status: 'incomplete', method: 'inferred-invariant', reason: 'while re-proving the inferred invariant: stopped' });
  }, 30_000);

  it("Spacer's guard gets the time left too, and none without a limit", async () => {
    const m = build();
    await proveInfer(m, [not3(m)], { spacer: true, timeLimitSec: 1000 });
    const left = guardOpts(0);
    expect(left.timeLimitSec).toBeGreaterThan(990);
    expect(left.timeLimitSec).toBeLessThanOrEqual(1000);
    expect(left.maxK).toBe(1);
    await proveInfer(m, [not3(m)], { spacer: true, hints: [not1(m)] });
    const opts = guardOpts(1);
    expect('timeLimitSec' in opts).toBe(false);
    expect(opts.strengthening[0]?.name).toBe('x-not-1');
    expect(opts.strengthening.slice(1).every((i, k) => i.name === `inferred-${k + 1}`)).toBe(true);
  }, 30_000);
});

describe('refusals: the engines disagree or cannot answer (forced)', () => {
  const mc040 = (why: string) => ({
    status: 'error',
    method: 'inferred-invariant',
    code: 'MC040',
    trace: null,
    message: `the invariant inference and the independent check disagree: ${why}`,
  });

  it('the learner stops on an unknown answer: incomplete with its reason', async () => {
    const m = build();
    stub.learn = async () => ({ status: 'incomplete', reason: 'canceled', ctis: 4, lemmas: 2, elapsedMs: 0 });
    const r = await proveInfer(m, [not3(m)], { timeLimitSec: 50 });
    expect(r).toMatchObject({ status: 'incomplete', method: 'inferred-invariant', reason: 'z3 answered unknown while learning the invariant (canceled)' });
    stub.learn = async () => ({ status: 'incomplete', reason: 'time limit reached', ctis: 4, lemmas: 2, elapsedMs: 0 });
    const r2 = await proveInfer(m, [not3(m)], { timeLimitSec: 7 });
    expect(r2).toMatchObject({ reason: 'time limit of 7s reached while learning the invariant (2 lemmas, 4 counterexamples to induction blocked)' });
  });

  it('the learner disagrees with the reachable states: MC040 with its message', async () => {
    const m = build();
    stub.learn = async () => ({ status: 'disagree', message: 'a reachable state breaks a lemma', elapsedMs: 0 });
    expect(await proveInfer(m, [not3(m)])).toMatchObject(mc040('a reachable state breaks a lemma'));
  });

  it('a learned invariant too weak for 1-induction (no lemma at all) is refused with MC040 by the real guard', async () => {
    const m = build();
    stub.learn = async () => ({ status: 'inductive', lemmas: [], mined: 0, learned: 0, ctis: 0, queries: 0, elapsedMs: 0 });
    const r = await proveInfer(m, [not3(m)]);
    expect(r).toMatchObject({ status: 'error', code: 'MC040', trace: null });
    expect(r.status === 'error' && r.message).toMatch(
      /^the invariant inference and the independent check disagree: the inferred invariant was not re-proved by 1-induction \(cti: .+\)$/,
    );
  }, 30_000);

  it('a guard answering violated or error: MC040 naming the status (with the message for an error)', async () => {
    const m = build();
    stub.prove = async () => ({ status: 'violated', method: 'k-induction', violation: {}, elapsedMs: 0 });
    expect(await proveInfer(m, [not3(m)])).toMatchObject(mc040('the inferred invariant was not re-proved by 1-induction (violated)'));
    stub.prove = async () => ({ status: 'error', method: 'k-induction', code: 'MC040', message: 'boom', trace: null, elapsedMs: 0 });
    expect(await proveInfer(m, [not3(m)])).toMatchObject(mc040('the inferred invariant was not re-proved by 1-induction (error: boom)'));
  }, 30_000);

  it('Spacer disagreeing, or unknown: MC040, or incomplete with its reason', async () => {
    const m = build();
    stub.spacer = async () => ({ status: 'disagree', message: 'its invariant fails initially', elapsedMs: 0 });
    expect(await proveInfer(m, [not3(m)], { spacer: true })).toMatchObject(mc040('its invariant fails initially'));
    stub.spacer = async () => ({ status: 'unknown', reason: 'canceled', elapsedMs: 0 });
    expect(await proveInfer(m, [not3(m)], { spacer: true, timeLimitSec: 3 })).toMatchObject({
      status: 'incomplete',
      method: 'inferred-invariant',
      reason: 'Spacer answered unknown (canceled)',
    });
  });

  it('a model Spacer cannot translate: MC010 with the reason; any other exception is thrown', async () => {
    const m = build();
    stub.spacer = async () => {
      throw new SmtUnsupported('count over Page depends on its size');
    };
    expect(await proveInfer(m, [not3(m)], { spacer: true })).toMatchObject({
      status: 'error',
      method: 'inferred-invariant',
      code: 'MC010',
      trace: null,
      message: 'the SMT translation cannot express this model: count over Page depends on its size',
    });
    stub.spacer = async () => {
      throw new RangeError('out of memory');
    };
    await expect(proveInfer(m, [not3(m)], { spacer: true })).rejects.toThrow('out of memory');
  });

  it("Spacer's safe answer without a printable invariant: incomplete with why", async () => {
    const m = build();
    stub.spacer = async () => ({ status: 'safe', invariant: null, why: 'a quantifier', elapsedMs: 0 });
    expect(await proveInfer(m, [not3(m)], { spacer: true })).toMatchObject({
      status: 'incomplete',
      method: 'inferred-invariant',
      reason: 'Spacer proved the properties, but its invariant cannot be printed as model code (a quantifier)',
    });
  });

  it("Spacer's invariant split at its top conjunction; too weak a one is refused with MC040 by the real guard", async () => {
    const m = build();
    const x = xOf(m);
    // x != 1 and x != 3: the conjunction is 1-inductive with x != 3 (0 -> 2 -> 4, 1 and 3 excluded).
    stub.spacer = async () => ({ status: 'safe', invariant: and(ne(x, 1), ne(x, 3)), why: '', elapsedMs: 0 });
    const r = await proveInfer(m, [not3(m)], { spacer: true });
    if (r.status !== 'proved' || !r.invariant) throw new Error(`expected a proof, got ${r.status}`);
    expect(r.invariant.conjuncts.map((c) => c.source)).toEqual(['ne(x, 1)', 'ne(x, 3)']);
    expect(r.invariant.invariants.map((i) => i.name)).toEqual(['inferred-1', 'inferred-2']);
    // A single non-conjunction stays one conjunct.
    stub.spacer = async () => ({ status: 'safe', invariant: ne(x, 1), why: '', elapsedMs: 0 });
    const one = await proveInfer(m, [not3(m)], { spacer: true });
    expect(one.status === 'proved' && one.invariant?.conjuncts.map((c) => c.source)).toEqual(['ne(x, 1)']);
    // `true` says nothing: x = 1 steps to 3, so 1-induction fails.
    stub.spacer = async () => ({ status: 'safe', invariant: lit(true), why: '', elapsedMs: 0 });
    expect(await proveInfer(m, [not3(m)], { spacer: true })).toMatchObject(mc040("Spacer's invariant was not re-proved by 1-induction (cti)"));
  }, 30_000);

  it("Spacer's derivation that breaks nothing (the start state alone) is refused with MC040", async () => {
    const m = build();
    const s0 = initState(m, m.inits[0] as never);
    stub.spacer = async () => ({ status: 'unsafe', path: { choices: [0], states: [s0], fromInit: true }, clause: 'query-1', elapsedMs: 0 });
    expect(await proveInfer(m, [not3(m)], { spacer: true, maxStates: 1 })).toMatchObject(mc040("Spacer's derivation (query-1) replays but breaks nothing"));
  });

  describe('the shortest trace is checked before it is reported', () => {
    const m = build();
    const props = [not4(m)];
    const real = explicitCheck({ model: m, properties: props, limits: {}, deadlock: false });
    if (real.status !== 'violated' || !real.violations[0]?.trace) throw new Error('x-not-4 must fail');
    const v = real.violations[0];
    const trace = v.trace as NonNullable<typeof v.trace>;
    const withSteps = (steps: typeof trace.steps) => ({ ...real, violations: [{ ...v, trace: { ...trace, steps } }] });

    it('a BFS trace that does not replay (x = 1 after the first jump): MC040', async () => {
      const bad = trace.steps.map((st, j) => (j === 1 ? { ...st, state: Int32Array.from([1]) } : st));
      stub.explicit = () => withSteps(bad);
      const r = await proveInfer(m, props);
      expect(r).toMatchObject({ status: 'error', code: 'MC040', trace: null });
      expect(r.status === 'error' && r.message).toMatch(/^the invariant inference and the independent check disagree: the shortest trace does not replay: .+/);
    });

    it('a BFS trace that replays but stops at x = 2, where nothing fails: MC040', async () => {
      stub.explicit = () => withSteps(trace.steps.slice(0, 2));
      expect(await proveInfer(m, props)).toMatchObject(mc040('the shortest trace replays but breaks no property'));
    });

    it('a BFS trace whose first state is not a start state (it starts at x = 2): MC040, the start is replayed too', async () => {
      stub.explicit = () => withSteps(trace.steps.slice(1).map((st, j) => (j === 0 ? { ...st, choice: 0 } : st)));
      const r = await proveInfer(m, props);
      expect(r.status === 'error' && [r.code, r.message]).toEqual(['MC040', expect.stringMatching(/: the shortest trace does not replay: .+/)]);
    });

    it('a BFS trace ending where no rule is enabled (x = 4) but x != 3 holds breaks nothing: MC040, a deadlock is not a finding', async () => {
      // The wrong hint makes the reachable states stop; the BFS then claims x != 3 fails at x = 4.
      stub.explicit = (...a: unknown[]) => {
        const ps = (a[0] as { properties: { name: string }[] }).properties;
        return ps[0]?.name === 'x-not-3'
          ? { ...withSteps(trace.steps), violations: [{ ...v, property: 'x-not-3', trace }] }
          : { ...real, status: 'ok', violations: [] };
      };
      expect(await proveInfer(m, [not3(m)], { hints: [not2(m)] })).toMatchObject(mc040('the shortest trace replays but breaks no property'));
    });

    it("the BFS trace's own extra data is kept next to the method", async () => {
      stub.explicit = () => ({ ...real, violations: [{ ...v, trace: { ...trace, extra: { searched: 'breadth-first' } } }] });
      const r = await proveInfer(m, props);
      expect(r.status === 'violated' && r.violation.trace?.extra).toEqual({
        searched: 'breadth-first',
        method: 'prove --infer (breadth-first: a shortest trace)',
      });
    });

    it('BFS finding nothing where the reachable states broke a property or hint: MC040', async () => {
      stub.explicit = () => ({ ...real, status: 'ok', violations: [] });
      expect(await proveInfer(m, props)).toMatchObject(mc040('the reachable-state search found a violation that breadth-first search does not reproduce'));
      expect(await proveInfer(m, [not3(m)], { hints: [not2(m)] })).toMatchObject(
        mc040('the reachable-state search found a violation that breadth-first search does not reproduce'),
      );
    });
  });
});
