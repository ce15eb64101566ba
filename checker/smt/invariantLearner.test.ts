/**
 * The invariant learner of `prove --infer` (invariantLearner.ts) on its own, against brute force.
 * Why this file exists: proveInfer.test.ts checks the learner only through whole proofs on
 * fence-migrate, odp-mirror and hundreds of random protocols (minutes a run), far too slow to run
 * for each of its mutants; and there a wrong lemma shows only as a failed re-proof. Here the
 * learner runs on tiny models whose whole state space is enumerated with the interpreter:
 * - every lemma it returns holds in every reachable state (breadth-first search);
 * - lemmas and obligations together are 1-inductive, checked over every state of the types (every
 *   state where they hold and no rule raises a model error steps only to such states, and no step
 *   breaks a step property);
 * - on hand-made models the lemmas, the number of counterexamples to induction and the z3 queries
 *   are worked out by hand (the queries are counted at the session);
 * - the limits (counterexamples, deadline, `unknown`) and the disagreements with the reachable set
 *   end the run with the documented result;
 * - the result does not depend on the order z3 lists a minimizing core in (the same run again with
 *   those cores read back reversed).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ModelRuntimeError } from '../../model/lang/errors.js';
import { add, and, eq, implies, le, lit, lt, ne, none, not, or, pre, some, sub, unwrap } from '../../model/lang/expr.js';
import { applyRule, enabled, holds, instanceBindings } from '../../model/lang/interp.js';
import { type Builder, type Model, type ProtocolDef, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { bool, enumOf, option, range } from '../../model/lang/types.js';
import { type Invariant, type StepProperty, invariant, stepProperty } from '../../properties/property.js';
import { reachableStates, slotValues } from './inferenceModel.testkit.js';
import { type LearnProgress, type LearnResult, learnInvariant } from './invariantLearner.js';
import { build, planArb } from './randomProtocol.testkit.js';
import { type ReachableSet, buildReachableSet } from './reachableSet.js';
import { type Fact, factHolds, mineFacts } from './stateFacts.js';
import { type SmtSession, type SolverHandle, shutdownSmt, withSession } from './z3Host.js';

type Props = { invariants: Invariant[]; steps: StepProperty[] };

let session: SmtSession;
let release: () => void;
let closed: Promise<void>;

beforeAll(async () => {
  await new Promise<void>((ready) => {
    closed = withSession(async (s) => {
      session = s;
      ready();
      await new Promise<void>((r) => {
        release = r;
      });
    });
  });
});

afterAll(async () => {
  release();
  await closed;
  await shutdownSmt();
});

/** The interpreter's answer, or 'error' on a model error. */
function orError<T>(f: () => T): T | 'error' {
  try {
    return f();
  } catch (e) {
    if (e instanceof ModelRuntimeError) return 'error';
    throw e;
  }
}

/** Every state of the model's slot types (reachable or not). */
function allStates(model: Model): Int32Array[] {
  const vals = model.layout.slotTypes.map((_, j) => slotValues(model, j));
  let out: number[][] = [[]];
  for (const vs of vals) out = out.flatMap((p) => vs.map((v) => [...p, v]));
  return out.map((p) => Int32Array.from(p));
}

/** Whether `s` raises no model error (no guard, no enabled rule, no invariant) and every invariant holds in it. */
function good(model: Model, props: Props, s: Int32Array): boolean {
  for (const inv of props.invariants) if (orError(() => holds(model, inv.pred, s)) !== true) return false;
  for (const inst of model.instances) if (orError(() => (enabled(model, inst, s) ? applyRule(model, inst, s) : null)) === 'error') return false;
  return true;
}

/**
 * Brute-force 1-induction: the states (of all the types' states) where every lemma and invariant
 * holds and no model error is raised whose step leads out of them or breaks a step property.
 */
function notInductive(model: Model, props: Props, lemmas: readonly Fact[]): string[] {
  const bad: string[] = [];
  const memo = new Map<string, boolean>();
  const inside = (s: Int32Array) => {
    const k = s.join(',');
    let v = memo.get(k);
    if (v === undefined) {
      v = lemmas.every((f) => factHolds(f, s)) && good(model, props, s);
      memo.set(k, v);
    }
    return v;
  };
  for (const s of allStates(model)) {
    if (!inside(s)) continue;
    for (const inst of model.instances) {
      if (!enabled(model, inst, s)) continue;
      const t = applyRule(model, inst, s);
      const stepOk = props.steps.every(
        (p) => (p.rule !== null && p.rule !== inst.rule.name) || orError(() => holds(model, p.pred, t, s, instanceBindings(inst))) === true,
      );
      if (!stepOk || !inside(t)) bad.push(`${s.join(',')} --${inst.label}--> ${t.join(',')}`);
    }
  }
  return bad;
}

function reachOf(model: Model, props: Props): ReachableSet {
  const r = buildReachableSet(model, [...props.invariants, ...props.steps], 1e6, null);
  if (r.status !== 'complete') throw new Error(`reachable set: ${r.status}`);
  return r.set;
}

/** The session, with its checks counted (and, from check number `unknownFrom` on, answered `unknown`). */
function counted(unknownFrom = Number.POSITIVE_INFINITY) {
  const original = session.check.bind(session);
  let checks = 0;
  const spy = vi.spyOn(session, 'check').mockImplementation(async (...args) => {
    checks++;
    if (checks >= unknownFrom) {
      session.lastReason = 'stubbed unknown';
      return 'unknown';
    }
    return original(...args);
  });
  return {
    get checks() {
      return checks;
    },
    restore: () => spy.mockRestore(),
  };
}

/** learnInvariant in the shared session; the time it reports lies within the time the call took. */
/** `learn` with the session's z3 checks counted while it runs. */
async function learnCounted(...args: Parameters<typeof learn>): Promise<{ r: LearnResult; checks: number }> {
  const c = counted();
  try {
    const r = await learn(...args);
    return { r, checks: c.checks };
  } finally {
    c.restore();
  }
}

async function learn(model: Model, props: Props, opts: Parameters<typeof learnInvariant>[4] = { deadline: null }, reach = reachOf(model, props)) {
  const t0 = Date.now();
  const r = await learnInvariant(session, model, props, reach, opts);
  expect(r.elapsedMs).toBeGreaterThanOrEqual(0);
  expect(r.elapsedMs).toBeLessThanOrEqual(Date.now() - t0);
  return r;
}

/** Checks an `inductive` answer against the brute-force oracles. */
function checkInductive(model: Model, props: Props, r: LearnResult, reach: readonly Int32Array[] = reachableStates(model)): Fact[] {
  expect(r.status).toBe('inductive');
  if (r.status !== 'inductive') return [];
  for (const f of r.lemmas) for (const s of reach) expect(factHolds(f, s), `${JSON.stringify(f)} in ${s}`).toBe(true);
  expect(notInductive(model, props, r.lemmas)).toEqual([]);
  expect(r.learned).toBeGreaterThanOrEqual(r.lemmas.length);
  return [...r.lemmas];
}

// --- Hand-made models -------------------------------------------------------------------------

/** A model of this file's (no parameters, no variants) and its obligations. */
function tiny<H>(name: string, build: ProtocolDef<H>['build'], props: (h: H, m: Model<H>) => Partial<Props>) {
  const model = buildModel(defineProtocol({ name, summary: '', spec: 'checker/smt/invariantLearner.test.ts', params: {}, variants: [], build }));
  const p = props(model.handles, model);
  return { model, props: { invariants: p.invariants ?? [], steps: p.steps ?? [] } };
}

/** n climbs 0 -> 1 -> 2 and stops; from n = 3 (never reached) the step Jump sets `bad`. */
const climbAndJump = (b: Builder) => {
  const n = b.v('n', range(0, 3));
  const bad = b.v('bad', bool);
  b.init('start', () => [assign(n, 0), assign(bad, false)]);
  b.rule('Inc', {}, () => ({ guard: lt(n, 2), body: [assign(n, add(n, 1))] }));
  b.rule('Jump', {}, () => ({ guard: eq(n, 3), body: [assign(bad, true)] }));
  return { n, bad };
};

/** `climbAndJump`, whose bad step breaks the invariant "never bad". */
const jump = tiny('jump', climbAndJump, (h) => ({ invariants: [invariant('ok', 'T', '', not(h.bad))] }));

/** x and y flip together; a step from a state where they differ sets `bad`. */
const twins = tiny(
  'twins',
  (b) => {
    const x = b.v('x', bool);
    const y = b.v('y', bool);
    const bad = b.v('bad', bool);
    b.init('start', () => [assign(x, false), assign(y, false), assign(bad, false)]);
    b.rule('Flip', {}, () => ({ guard: true, body: [assign(x, not(x)), assign(y, not(y))] }));
    b.rule('Break', {}, () => ({ guard: ne(x, y), body: [assign(bad, true)] }));
    return { x, y, bad };
  },
  (h) => ({ invariants: [invariant('ok', 'T', '', not(h.bad))] }),
);

/**
 * A chain: c climbs 0 -> 1 only; from 2 it climbs to 3, 4, and 5 is bad. So 4, then 3, then 2 are
 * counterexamples to induction, each found only once the next is blocked (or around it).
 */
const chain = tiny(
  'chain',
  (b) => {
    const c = b.v('c', range(0, 5));
    b.init('start', () => [assign(c, 0)]);
    b.rule('Start', {}, () => ({ guard: eq(c, 0), body: [assign(c, 1)] }));
    b.rule('Climb', {}, () => ({ guard: and(lt(1, c), lt(c, 5)), body: [assign(c, add(c, 1))] }));
    return { c };
  },
  (h) => ({ invariants: [invariant('ok', 'T', '', ne(h.c, 5))] }),
);

const Status = enumOf('Status', ['ok', 'broken']);

/**
 * x and y are set freely while `m` is off, and flipped together once it is on (it turns on only
 * when they are equal); a step with `m` on and x, y different breaks the status. The one fact that
 * blocks that: x = y whenever m is on (mined; no cube of one or two literals is absent).
 */
const locked = tiny(
  'locked',
  (b) => {
    const x = b.v('x', bool);
    const y = b.v('y', bool);
    const m = b.v('m', enumOf('M', ['off', 'on']));
    const st = b.v('st', Status);
    b.init('start', () => [assign(x, false), assign(y, false), assign(m, 'off'), assign(st, 'ok')]);
    b.rule('SetX', {}, () => ({ guard: eq(m, 'off'), body: [assign(x, not(x))] }));
    b.rule('SetY', {}, () => ({ guard: eq(m, 'off'), body: [assign(y, not(y))] }));
    b.rule('Lock', {}, () => ({ guard: and(eq(m, 'off'), eq(x, y)), body: [assign(m, 'on')] }));
    b.rule('Flip', {}, () => ({ guard: eq(m, 'on'), body: [assign(x, not(x)), assign(y, not(y))] }));
    b.rule('Unlock', {}, () => ({ guard: eq(m, 'on'), body: [assign(m, 'off')] }));
    b.rule('Break', {}, () => ({ guard: and(eq(m, 'on'), ne(x, y)), body: [assign(st, 'broken')] }));
    return { x, y, m, st };
  },
  (h) => ({ invariants: [invariant('ok', 'T', '', eq(h.st, 'ok'))] }),
);

/**
 * Slots of three enum types of their own (no equalities to mine); from the start, a `Go` step
 * reaches each listed triple, so every pair of values occurs but a1 & b1 & c1 and a1 & b1 & c2
 * never do. `Break` (a1, b1, c not c0) breaks the status: the cube a1 & b1 & c1 (the slots the
 * step depends on), widened to c in {c1, c2}, is the lemma.
 */
const widened = tiny(
  'widened',
  (b) => {
    const a = b.v('a', enumOf('A', ['a0', 'a1']));
    const bb = b.v('b', enumOf('B', ['b0', 'b1']));
    const c = b.v('c', enumOf('C', ['c0', 'c1', 'c2']));
    const st = b.v('st', Status);
    b.init('start', () => [assign(a, 'a0'), assign(bb, 'b0'), assign(c, 'c0'), assign(st, 'ok')]);
    const go: [string, string, string][] = [
      ['a1', 'b1', 'c0'],
      ['a1', 'b0', 'c1'],
      ['a1', 'b0', 'c2'],
      ['a0', 'b1', 'c1'],
      ['a0', 'b1', 'c2'],
    ];
    go.forEach(([x, y, z], i) => {
      b.rule(`Go${i}`, {}, () => ({ guard: true, body: [assign(a, x), assign(bb, y), assign(c, z)] }));
    });
    b.rule('Break', {}, () => ({ guard: and(eq(a, 'a1'), eq(bb, 'b1'), ne(c, 'c0')), body: [assign(st, 'broken')] }));
    return { a, b: bb, c, st };
  },
  (h) => ({ invariants: [invariant('ok', 'T', '', eq(h.st, 'ok'))] }),
);

/**
 * c toggles between 0 and 1; from 2 (never reached) `Up` leads to 3, where `Over` raises a model
 * error (4 is out of range). The obligation broken is "no model error", which the interpreter does
 * not see in the step itself: z3's unsat core names the slots.
 */
const overflow = tiny(
  'overflow',
  (b) => {
    const c = b.v('c', range(0, 3));
    b.init('start', () => [assign(c, 0)]);
    b.rule('Toggle', {}, () => ({ guard: lt(c, 2), body: [assign(c, sub(1, c))] }));
    b.rule('Up', {}, () => ({ guard: eq(c, 2), body: [assign(c, 3)] }));
    b.rule('Over', {}, () => ({ guard: eq(c, 3), body: [assign(c, add(c, 1))] }));
    return { c };
  },
  () => ({}),
);

/** As `jump`, but the bad step is named by a step property of rule Jump (never taken in a run). */
const jumpStep = tiny('jump-step', climbAndJump, (h, m) => ({
  steps: [
    stepProperty(m, 'no-jump', 'T', 'Jump is never taken', 'Jump', () => lit(false)),
    stepProperty(m, 'inc-by-one', 'T', 'Inc adds one', 'Inc', () => eq(h.n, add(pre(h.n), 1))),
    stepProperty(m, 'small', 'T', 'n stays below 3', null, () => lt(h.n, 3)),
  ],
}));

/**
 * v is some(0) while k toggles 0 <-> 1, and some(1) at k = 2 (`Up`, `Down`); `Bad` from k = 2 with
 * v not some(1) breaks the status. The invariant "unwrap(v) <= 1" cannot be evaluated where v is
 * none. The one counterexample to induction is (some(0), 2), blocked by the mined "never v = some(0)
 * and k = 2"; its neighbour (none, 2) holds that lemma and has a bad step, but is no pre-state of
 * a counterexample (its invariant raises a model error), so it is not blocked.
 */
const unwrapped = tiny(
  'unwrapped',
  (b) => {
    const V = option(range(0, 1));
    const v = b.v('v', V);
    const k = b.v('k', range(0, 2));
    const st = b.v('st', Status);
    b.init('start', () => [assign(v, some(0, V)), assign(k, 0), assign(st, 'ok')]);
    b.rule('Toggle', {}, () => ({ guard: lt(k, 2), body: [assign(k, sub(1, k))] }));
    b.rule('Up', {}, () => ({ guard: and(lt(k, 2), eq(v, some(0, V))), body: [assign(v, some(1, V)), assign(k, 2)] }));
    b.rule('Down', {}, () => ({ guard: eq(k, 2), body: [assign(v, some(0, V)), assign(k, 0)] }));
    b.rule('Bad', {}, () => ({ guard: and(eq(k, 2), ne(v, some(1, V))), body: [assign(st, 'broken')] }));
    return { v, k, st };
  },
  (h) => ({ invariants: [invariant('ok', 'T', '', eq(h.st, 'ok')), invariant('small', 'T', '', le(unwrap(h.v), 1))] }),
);

/**
 * a and b (enums of their own) are never both 1 and z is always z0; `Break` from a1, b1, z1 breaks
 * the status. Two mined facts fit that counterexample: "z is never z1" (one slot the step depends
 * on) and "never a1 and b1" (two of them): the learner takes the one sharing most slots with the
 * step's, though it has more slots.
 */
const pick = tiny(
  'pick',
  (b) => {
    const a = b.v('a', enumOf('A', ['a0', 'a1']));
    const bb = b.v('b', enumOf('B', ['b0', 'b1']));
    const z = b.v('z', enumOf('Z', ['z0', 'z1']));
    const st = b.v('st', Status);
    b.init('start', () => [assign(a, 'a0'), assign(bb, 'b0'), assign(z, 'z0'), assign(st, 'ok')]);
    b.rule('SetA', {}, () => ({ guard: eq(bb, 'b0'), body: [assign(a, 'a1')] }));
    b.rule('ClrA', {}, () => ({ guard: true, body: [assign(a, 'a0')] }));
    b.rule('SetB', {}, () => ({ guard: eq(a, 'a0'), body: [assign(bb, 'b1')] }));
    b.rule('ClrB', {}, () => ({ guard: true, body: [assign(bb, 'b0')] }));
    b.rule('Break', {}, () => ({ guard: and(eq(a, 'a1'), eq(bb, 'b1'), eq(z, 'z1')), body: [assign(st, 'broken')] }));
    return { a, b: bb, z, st };
  },
  (h) => ({ invariants: [invariant('ok', 'T', '', eq(h.st, 'ok'))] }),
);

/**
 * Four slots of enum types of their own, d declared first; from the start a `Go` step reaches each
 * listed state, so every pair of values occurs but a1 & b1 & c1 and b1 & c1 & d1 never do. The
 * invariant "never a1, b1, c1 and d0" holds in every run, so a counterexample with a1, b1, c1 has
 * d1, and both triples are unreachable cubes of it. With `viaError` false, `Break` (a1, b1, c1) sets
 * the status to broken; with it true, `Step` (a1, b1, c1, r = 0) sets r to 1, where `Over` raises a
 * model error (2 is out of range): the interpreter does not see that step as bad, z3's lifting and
 * the guard's slots name a, b, c. Either way the step depends on a, b, c, not on d: the cube starts
 * there and is a1 & b1 & c1, where a greedy choice from nothing would end with b1 & c1 & d1, and a
 * cube started from d, a, b, c too (dropping the last literal not needed first). The guards also read
 * d ("d is d0 or d1", true for every value of its type), so d is read but not depended on.
 */
function twoCubes(viaError: boolean) {
  return tiny(
    viaError ? 'two-cubes-error' : 'two-cubes',
    (b) => {
      const d = b.v('d', enumOf('D', ['d0', 'd1']));
      const a = b.v('a', enumOf('A', ['a0', 'a1']));
      const bb = b.v('b', enumOf('B', ['b0', 'b1']));
      const c = b.v('c', enumOf('C', ['c0', 'c1']));
      const last = viaError ? b.v('r', range(0, 1)) : b.v('st', Status);
      b.init('start', () => [assign(d, 'd0'), assign(a, 'a0'), assign(bb, 'b0'), assign(c, 'c0'), assign(last, viaError ? 0 : 'ok')]);
      // (a, b, c, d) of each listed state.
      for (const [i, abcd] of ['1100', '1010', '1001', '0110', '0101', '0011', '1101', '1011'].entries()) {
        const v = (k: number, x: string) => `${x}${abcd[k]}`;
        b.rule(`Go${i}`, {}, () => ({ guard: true, body: [assign(a, v(0, 'a')), assign(bb, v(1, 'b')), assign(c, v(2, 'c')), assign(d, v(3, 'd'))] }));
      }
      const abc = and(eq(a, 'a1'), eq(bb, 'b1'), eq(c, 'c1'), or(eq(d, 'd0'), eq(d, 'd1')));
      if (viaError) {
        b.rule('Step', {}, () => ({ guard: and(abc, eq(last, 0)), body: [assign(last, 1)] }));
        b.rule('Over', {}, () => ({ guard: eq(last, 1), body: [assign(last, add(last, 1))] }));
      } else {
        b.rule('Break', {}, () => ({ guard: abc, body: [assign(last, 'broken')] }));
      }
      return { d, a, b: bb, c, last };
    },
    (h) => ({
      invariants: [
        invariant('d1-with-abc', 'T', '', not(and(eq(h.a, 'a1'), eq(h.b, 'b1'), eq(h.c, 'c1'), eq(h.d, 'd0')))),
        ...(viaError ? [] : [invariant('ok', 'T', '', eq(h.last, 'ok'))]),
      ],
    }),
  );
}

/**
 * x toggles 0 <-> 1; from x >= 2 (never reached) `Break` is bad: it breaks the status (or a step
 * property: of rule Break, "Break is never taken"; or of every rule, "no step starts from x >= 2").
 * z3 finds one of x = 2, x = 3; the mined facts "x is never 2" and "x is never 3" block one each, and
 * the other, one slot away, is found around the first without z3 (its step breaks the obligation
 * itself, not a lemma).
 */
type LadderKind = 'invariant' | 'step property of Break' | 'step property of every rule';
function ladder(kind: LadderKind) {
  return tiny(
    `ladder-${kind.replaceAll(' ', '-')}`,
    (b) => {
      const x = b.v('x', range(0, 3));
      const st = b.v('st', Status);
      b.init('start', () => [assign(x, 0), assign(st, 'ok')]);
      b.rule('Toggle', {}, () => ({ guard: lt(x, 2), body: [assign(x, sub(1, x))] }));
      b.rule('Break', {}, () => ({ guard: le(2, x), body: [kind === 'invariant' ? assign(st, 'broken') : assign(x, 0)] }));
      return { x, st };
    },
    (h, m) =>
      kind === 'invariant'
        ? { invariants: [invariant('ok', 'T', '', eq(h.st, 'ok'))] }
        : kind === 'step property of Break'
          ? { steps: [stepProperty(m, 'no-break', 'T', 'Break is never taken', 'Break', () => lit(false))] }
          : { steps: [stepProperty(m, 'below-2', 'T', 'no step starts from x >= 2', null, () => lt(pre(h.x), 2))] },
  );
}

/**
 * Which mined fact blocks a counterexample. Blocker's rule (its doc comment and the module header):
 * a fact of the pool the state breaks, the one sharing most slots with the slots the bad step depends
 * on, then the one with fewest slots, the first of equals in the pool's order (one-literal cubes,
 * two-literal cubes, then equalities pair by pair); a new cube only when no fact fits. Slots, in this
 * order: a, b, c (enums of their own), x, y (one enum), p, q (ranges 0..2), u, w (enums of their own),
 * st. Reachable: (a, b, c) in 000, 110 (x, y set freely at c0), 101, 011 (entered only with x = y);
 * (p, q) in 01, 02, 10, 12; u and w never both 1. The facts mined are then, worked out by hand: c is
 * never c2, p is never 2, never p0 & q0, never p1 & q1, never u1 & w1, x = y when c is c1, p != q.
 * `Break` (a1, b1, c not c0, and q = 2 when `withQ`) breaks the status; the rules that set x, y, p,
 * q, u, w are disabled there, and the invariant `pin` fixes every other slot where Break is enabled,
 * so the one counterexample to induction is the pinned state, whose Break step depends on a, b, c
 * (and q). Every fact it breaks blocks it alone (with the pin, the fact excludes every state where
 * Break is enabled), so the choice is the lemma.
 */
interface Pins {
  readonly c: string;
  readonly xy: [string, string];
  readonly pq: [number, number];
  readonly uw: [string, string];
}
function choice(pins: Pins, withQ: boolean) {
  return tiny(
    `choice-${pins.c}-${pins.xy.join('')}-${pins.pq.join('')}-${pins.uw.join('')}${withQ ? '-q' : ''}`,
    (b) => {
      const a = b.v('a', enumOf('A', ['a0', 'a1']));
      const bb = b.v('b', enumOf('B', ['b0', 'b1']));
      const c = b.v('c', enumOf('C', ['c0', 'c1', 'c2']));
      const X = enumOf('X', ['x0', 'x1']);
      const x = b.v('x', X);
      const y = b.v('y', X);
      const p = b.v('p', range(0, 2));
      const q = b.v('q', range(0, 2));
      const u = b.v('u', enumOf('U', ['u0', 'u1']));
      const w = b.v('w', enumOf('W', ['w0', 'w1']));
      const st = b.v('st', Status);
      b.init('start', () => [
        assign(a, 'a0'),
        assign(bb, 'b0'),
        assign(c, 'c0'),
        assign(x, 'x0'),
        assign(y, 'x0'),
        assign(p, 0),
        assign(q, 1),
        assign(u, 'u0'),
        assign(w, 'w0'),
        assign(st, 'ok'),
      ]);
      const breakable = and(eq(a, 'a1'), eq(bb, 'b1'), ne(c, 'c0'));
      const calm = not(breakable);
      for (const [abc, sameXY] of [
        ['000', false],
        ['110', false],
        ['101', true],
        ['011', true],
      ] as const) {
        b.rule(`Go${abc}`, {}, () => ({ guard: sameXY ? eq(x, y) : true, body: [assign(a, `a${abc[0]}`), assign(bb, `b${abc[1]}`), assign(c, `c${abc[2]}`)] }));
      }
      for (const [slot, name] of [
        [x, 'X'],
        [y, 'Y'],
      ] as const) {
        for (const v of ['x0', 'x1']) b.rule(`${name}${v}`, {}, () => ({ guard: eq(c, 'c0'), body: [assign(slot, v)] }));
      }
      for (const [pv, qv] of [
        [0, 1],
        [0, 2],
        [1, 0],
        [1, 2],
      ] as const) {
        b.rule(`PQ${pv}${qv}`, {}, () => ({ guard: calm, body: [assign(p, pv), assign(q, qv)] }));
      }
      b.rule('SetU', {}, () => ({ guard: and(calm, eq(w, 'w0')), body: [assign(u, 'u1')] }));
      b.rule('ClrU', {}, () => ({ guard: calm, body: [assign(u, 'u0')] }));
      b.rule('SetW', {}, () => ({ guard: and(calm, eq(u, 'u0')), body: [assign(w, 'w1')] }));
      b.rule('ClrW', {}, () => ({ guard: calm, body: [assign(w, 'w0')] }));
      b.rule('Break', {}, () => ({ guard: withQ ? and(breakable, eq(q, 2)) : breakable, body: [assign(st, 'broken')] }));
      return { breakable, c, x, y, p, q, u, w, st };
    },
    (h) => ({
      invariants: [
        invariant('ok', 'T', '', eq(h.st, 'ok')),
        invariant(
          'pin',
          'T',
          '',
          implies(
            h.breakable,
            and(eq(h.c, pins.c), eq(h.x, pins.xy[0]), eq(h.y, pins.xy[1]), eq(h.p, pins.pq[0]), eq(h.q, pins.pq[1]), eq(h.u, pins.uw[0]), eq(h.w, pins.uw[1])),
          ),
        ),
      ],
    }),
  );
}

/**
 * A counterexample to induction z3 finds because its step breaks a lemma (not an obligation), two
 * slots away from the first one. x climbs nowhere (0 <-> 1), y is set freely there; `Step` takes
 * (2, y false) to (3, y true), where `Break` breaks the status; the invariant "y when x = 3" makes
 * (3, true) the one counterexample of round 0, blocked by the mined "x is never 3". Around it no state
 * has a bad step ((2, true) enables nothing), so z3 finds (2, false) in round 1, its Step breaking that
 * lemma; the interpreter sees the step as bad and names x and y, so no lifting query is made.
 */
const relay = tiny(
  'relay',
  (b) => {
    const x = b.v('x', range(0, 3));
    const y = b.v('y', bool);
    const st = b.v('st', Status);
    b.init('start', () => [assign(x, 0), assign(y, false), assign(st, 'ok')]);
    b.rule('Toggle', {}, () => ({ guard: lt(x, 2), body: [assign(x, sub(1, x))] }));
    b.rule('FlipY', {}, () => ({ guard: lt(x, 2), body: [assign(y, not(y))] }));
    b.rule('Step', {}, () => ({ guard: and(eq(x, 2), not(y)), body: [assign(x, 3), assign(y, true)] }));
    b.rule('Break', {}, () => ({ guard: eq(x, 3), body: [assign(st, 'broken')] }));
    return { x, y, st };
  },
  (h) => ({ invariants: [invariant('ok', 'T', '', eq(h.st, 'ok')), invariant('y-at-3', 'T', '', implies(eq(h.x, 3), h.y))] }),
);

/**
 * `ladder` with a slot y declared first, false in every run and pinned to true (an invariant) where
 * Break is enabled: both counterexamples (x = 2 and x = 3, y true) break the mined "y is never true"
 * (first in the pool) as well as "x is never 2" or "x is never 3". Break depends on x only, so each is
 * blocked by its x fact, the second one found around the first (its step breaks the status itself).
 */
const ladderY = tiny(
  'ladder-y',
  (b) => {
    const y = b.v('y', bool);
    const x = b.v('x', range(0, 3));
    const st = b.v('st', Status);
    b.init('start', () => [assign(y, false), assign(x, 0), assign(st, 'ok')]);
    b.rule('Toggle', {}, () => ({ guard: lt(x, 2), body: [assign(x, sub(1, x))] }));
    b.rule('Break', {}, () => ({ guard: le(2, x), body: [assign(st, 'broken')] }));
    return { y, x, st };
  },
  (h) => ({ invariants: [invariant('ok', 'T', '', eq(h.st, 'ok')), invariant('y-above-1', 'T', '', implies(le(2, h.x), h.y))] }),
);

/**
 * `chain` with a slot y declared first, false in every run and pinned to true from c = 2 up (an
 * invariant), and a second way up from c = 3: `Lift` (c = 3 and y) also leads to 4, declared after
 * Climb. z3 finds c = 4 (Climb breaks "c is never 5"), blocked by "c is never 4"; around it c = 3 is
 * found, whose first bad step is Climb (into the lemma), which depends on c only: "c is never 3", not
 * the mined "y is never true" (first in the pool, but sharing no slot with Climb's); then c = 2.
 */
const chainY = tiny(
  'chain-y',
  (b) => {
    const y = b.v('y', bool);
    const c = b.v('c', range(0, 5));
    b.init('start', () => [assign(y, false), assign(c, 0)]);
    b.rule('Start', {}, () => ({ guard: eq(c, 0), body: [assign(c, 1)] }));
    b.rule('Climb', {}, () => ({ guard: and(lt(1, c), lt(c, 5)), body: [assign(c, add(c, 1))] }));
    b.rule('Lift', {}, () => ({ guard: and(eq(c, 3), y), body: [assign(c, 4)] }));
    return { y, c };
  },
  (h) => ({ invariants: [invariant('not-5', 'T', '', ne(h.c, 5)), invariant('y-above-1', 'T', '', implies(le(2, h.c), h.y))] }),
);

/**
 * k is 0 in every run, g is set freely; `Break` from k = 1 breaks the status, and the first invariant
 * is "k is never 2". The one counterexample (k = 1) is blocked by "k is never 1"; its neighbour k = 2
 * holds that lemma and every step from it stays at k = 2, but it breaks the first invariant, so it is
 * no counterexample to induction and is not blocked.
 */
const firstInvariant = tiny(
  'first-invariant',
  (b) => {
    const g = b.v('g', bool);
    const k = b.v('k', range(0, 2));
    const st = b.v('st', Status);
    b.init('start', () => [assign(g, false), assign(k, 0), assign(st, 'ok')]);
    b.rule('FlipG', {}, () => ({ guard: true, body: [assign(g, not(g))] }));
    b.rule('Break', {}, () => ({ guard: eq(k, 1), body: [assign(st, 'broken')] }));
    return { g, k, st };
  },
  (h) => ({ invariants: [invariant('k-not-2', 'T', '', ne(h.k, 2)), invariant('ok', 'T', '', eq(h.st, 'ok'))] }),
);

/**
 * `overflow` with Up's guard also reading an option v (some(1) in every run: the guard cannot be
 * evaluated where v is none), and a step property of rule Over ("Over is never taken"), which says
 * nothing about an Up step. From c = 2 Up leads to 3, where Over raises a model error: the interpreter
 * does not see that step as bad (no invariant, and Over's property is not Up's), so z3's lifting names
 * the slots (one extra check, as for `overflow`); the guard's slots, found by varying each, include v
 * (v = some(0) disables Up, v = none makes its guard raise). The lemma is "c is never 2".
 */
const overflowGuarded = tiny(
  'overflow-guarded',
  (b) => {
    const c = b.v('c', range(0, 3));
    const V = option(range(0, 1));
    const v = b.v('v', V);
    b.init('start', () => [assign(c, 0), assign(v, some(1, V))]);
    b.rule('Toggle', {}, () => ({ guard: lt(c, 2), body: [assign(c, sub(1, c))] }));
    b.rule('Up', {}, () => ({ guard: and(eq(c, 2), eq(unwrap(v), 1)), body: [assign(c, 3)] }));
    b.rule('Over', {}, () => ({ guard: eq(c, 3), body: [assign(c, add(c, 1))] }));
    return { c, v };
  },
  (_, m) => ({ steps: [stepProperty(m, 'no-over', 'T', 'Over is never taken', 'Over', () => lit(false))] }),
);

/**
 * c toggles 0 <-> 1 and v is some(0); from c = 2 (never reached) `Drop` sets v to none, where the
 * invariant "unwrap(v) <= 1" cannot be evaluated (a model error of the obligations after the step).
 * The interpreter raises on that step, so it does not count it as bad: z3's lifting names the slots
 * (one extra check, as for `overflow`). The lemma is "c is never 2".
 */
const dropped = tiny(
  'dropped',
  (b) => {
    const c = b.v('c', range(0, 2));
    const V = option(range(0, 1));
    const v = b.v('v', V);
    b.init('start', () => [assign(c, 0), assign(v, some(0, V))]);
    b.rule('Toggle', {}, () => ({ guard: lt(c, 2), body: [assign(c, sub(1, c))] }));
    b.rule('Drop', {}, () => ({ guard: eq(c, 2), body: [assign(v, none)] }));
    return { c, v };
  },
  (h) => ({ invariants: [invariant('small', 'T', '', le(unwrap(h.v), 1))] }),
);

/**
 * g and h are never both true, and differ whenever v (an option of a one-value enum) is some; `Up`
 * (g, h, and unwrap(v) = one: the guard cannot be evaluated where g and h hold and v is none, and no
 * run gets there) sets r to 1, where `Over` raises a model error. The one counterexample (g, h, v some,
 * r = 0) is lifted by z3 (the interpreter does not see the step as bad). Up's guard slots are g, h
 * (false disables it) and v (none makes the guard raise): with them preferred, the mined "g != h when
 * v is some" (three slots shared) beats "never g and h" (two).
 */
const raisingGuard = tiny(
  'raising-guard',
  (b) => {
    const g = b.v('g', bool);
    const h = b.v('h', bool);
    const V = option(enumOf('V', ['one']));
    const v = b.v('v', V);
    const r = b.v('r', range(0, 1));
    b.init('start', () => [assign(g, false), assign(h, false), assign(v, none), assign(r, 0)]);
    for (const [gv, hv, some_] of [
      [false, false, false],
      [true, false, false],
      [false, true, false],
      [true, false, true],
      [false, true, true],
    ] as const) {
      b.rule(`Set${Number(gv)}${Number(hv)}${some_ ? 's' : 'n'}`, {}, () => ({
        guard: true,
        body: [assign(g, gv), assign(h, hv), assign(v, some_ ? some('one', V) : none)],
      }));
    }
    b.rule('Up', {}, () => ({ guard: and(g, h, eq(unwrap(v), 'one')), body: [assign(r, 1)] }));
    b.rule('Over', {}, () => ({ guard: eq(r, 1), body: [assign(r, add(r, 1))] }));
    return { g, h, v, r };
  },
  () => ({}),
);

describe('learnInvariant on hand-made models', () => {
  it('jump: the one counterexample to induction (n = 3) is blocked by the mined fact "n is never 3", found with four z3 checks', async () => {
    const { model, props } = jump;
    const reach = reachOf(model, props);
    const { r, checks } = await learnCounted(model, props, { deadline: null }, reach);
    const lemmas = checkInductive(model, props, r);
    expect(lemmas).toEqual([{ kind: 'cube', lits: [{ slot: 0, value: 3 }] }]);
    if (r.status !== 'inductive') return;
    // (n = 3, bad = false) is the only state where `ok` holds and a step breaks it; its neighbours
    // are reachable or break `ok`.
    expect(r.ctis).toBe(1);
    expect(r.learned).toBe(1);
    expect(r.mined).toBe(mineFacts(model, reach).length);
    // Round 0: sat (the counterexample), unsat; round 1 (the lemma in s'): unsat; one minimizing check.
    expect(r.queries).toBe(4);
    expect(checks).toBe(r.queries);
  });

  it('twins: the states where x and y differ are blocked, and nothing else', async () => {
    const { model, props } = twins;
    const r = await learn(model, props);
    const lemmas = checkInductive(model, props, r);
    for (const s of allStates(model)) {
      if (s[2] === 1) continue; // `bad` set: excluded by the property itself
      expect(
        lemmas.every((f) => factHolds(f, s)),
        `${s}`,
      ).toBe(s[0] === s[1]);
    }
    // Each of (T, F) and (F, T) is found by z3 (around one, the other is two flips away): checks sat,
    // sat, unsat; unsat in round 1; one minimizing check.
    expect(r.status === 'inductive' && [r.ctis, r.queries]).toEqual([2, 5]);
  });

  it('chain: c in {2, 3, 4} is blocked, one counterexample leading to the next', async () => {
    const { model, props } = chain;
    const { r, checks } = await learnCounted(model, props);
    const lemmas = checkInductive(model, props, r);
    const allowed = allStates(model)
      .filter((s) => lemmas.every((f) => factHolds(f, s)))
      .map((s) => s[0]);
    expect(allowed.filter((v) => v !== 5)).toEqual([0, 1]);
    if (r.status !== 'inductive') return;
    // z3 finds c = 4; around it, c = 3 (its Climb breaks the new lemma), then around that c = 2.
    // Checks: the counterexample, unsat; unsat in round 1; one minimizing check (all three needed).
    expect([r.ctis, r.learned, r.queries]).toEqual([3, 3, 4]);
    expect(checks).toBe(4);
  });

  it('a property that is inductive alone needs no lemma (one z3 check, one minimizing check)', async () => {
    const { model } = jump;
    const props: Props = { invariants: [invariant('small', 'T', '', ne(model.handles.n, 3))], steps: [] };
    const r = await learn(model, props);
    expect(checkInductive(model, props, r)).toEqual([]);
    expect(r.status === 'inductive' && [r.ctis, r.learned, r.queries]).toEqual([0, 0, 2]);
  });
});

describe('learnInvariant: the kinds of lemma and where they come from', () => {
  const slot = (model: Model, name: string) => model.layout.slotNames.indexOf(name);

  it('locked: the mined conditional equality "x = y when m is on" is the one lemma', async () => {
    const { model, props } = locked;
    const r = await learn(model, props);
    const lemmas = checkInductive(model, props, r);
    expect(lemmas).toEqual([{ kind: 'eq', when: { slot: slot(model, 'm'), value: 1 }, a: slot(model, 'x'), b: slot(model, 'y') }]);
    // Either counterexample (x, y = T, F or F, T with m on) is blocked by it; the other is then no
    // counterexample, and its neighbours are reachable or break the status.
    expect(r.status === 'inductive' && [r.ctis, r.queries]).toEqual([1, 4]);
  });

  it('widened: no mined fact fits, so the cube of the slots Break depends on is learned, widened to c in {c1, c2}', async () => {
    const { model, props } = widened;
    const r = await learn(model, props);
    const lemmas = checkInductive(model, props, r);
    expect(lemmas).toEqual([
      {
        kind: 'sets',
        lits: [
          { slot: slot(model, 'a'), values: [1] },
          { slot: slot(model, 'b'), values: [1] },
          { slot: slot(model, 'c'), values: [1, 2] },
        ],
      },
    ]);
    // The interpreter names the slots (no lifting): four checks as for `jump`.
    expect(r.status === 'inductive' && [r.ctis, r.learned, r.queries]).toEqual([1, 1, 4]);
  });

  it('overflow: a step into a model error is blocked through z3 lifting (one extra check): the lemma is "c is never 2"', async () => {
    const { model, props } = overflow;
    const { r, checks } = await learnCounted(model, props);
    expect(checkInductive(model, props, r)).toEqual([{ kind: 'cube', lits: [{ slot: 0, value: 2 }] }]);
    // c = 3 raises the error itself (no pre-state); c = 2 is the one counterexample. Checks: the
    // counterexample, its lifting, unsat; unsat in round 1; one minimizing check.
    expect(r.status === 'inductive' && [r.ctis, r.queries]).toEqual([1, 5]);
    expect(checks).toBe(5);
  });

  it('jump with step properties: the step Jump breaks (only its rule`s properties and the unrestricted one apply) is blocked by "n is never 3"', async () => {
    const { model, props } = jumpStep;
    const { r, checks } = await learnCounted(model, props);
    expect(checkInductive(model, props, r)).toEqual([{ kind: 'cube', lits: [{ slot: 0, value: 3 }] }]);
    // The interpreter sees the step as bad (no lifting): four checks as for `jump`.
    expect(r.status === 'inductive' && [r.ctis, r.queries]).toEqual([1, 4]);
    expect(checks).toBe(4);
  });
});

describe('learnInvariant: which states are blocked, and with which fact', () => {
  it('unwrapped: a neighbour where the invariant cannot be evaluated is not blocked', async () => {
    const { model, props } = unwrapped;
    const r = await learn(model, props);
    expect(checkInductive(model, props, r)).toEqual([
      {
        kind: 'cube',
        lits: [
          { slot: 0, value: 0 },
          { slot: 1, value: 2 },
        ],
      },
    ]);
    expect(r.status === 'inductive' && [r.ctis, r.learned]).toEqual([1, 1]);
  });

  it('pick: of the mined facts the counterexample breaks, the one sharing most slots with the bad step is the lemma', async () => {
    const { model, props } = pick;
    const r = await learn(model, props);
    expect(checkInductive(model, props, r)).toEqual([
      {
        kind: 'cube',
        lits: [
          { slot: 0, value: 1 },
          { slot: 1, value: 1 },
        ],
      },
    ]);
    expect(r.status === 'inductive' && [r.ctis, r.learned, r.queries]).toEqual([1, 1, 4]);
  });
});

describe('learnInvariant: the cube starts from the slots the bad step depends on', () => {
  for (const viaError of [false, true]) {
    it(`${viaError ? 'a step into a model error (lifting by z3)' : 'a step that breaks an invariant (the interpreter)'}: the lemma is a1 & b1 & c1, not b1 & c1 & d1`, async () => {
      const { model, props } = twoCubes(viaError);
      const r = await learn(model, props);
      expect(checkInductive(model, props, r)).toEqual([
        {
          kind: 'cube',
          lits: [
            { slot: 1, value: 1 },
            { slot: 2, value: 1 },
            { slot: 3, value: 1 },
          ],
        },
      ]);
      expect(r.status === 'inductive' && r.ctis).toBe(1);
    });
  }
});

describe('learnInvariant: counterexamples found around one z3 found', () => {
  for (const kind of ['invariant', 'step property of Break', 'step property of every rule'] as const) {
    it(`ladder (${kind}): the second counterexample is found without z3 (four checks, not five)`, async () => {
      const { model, props } = ladder(kind);
      const { r, checks } = await learnCounted(model, props);
      const lemmas = checkInductive(model, props, r);
      expect(lemmas.map((f) => (f.kind === 'cube' ? f.lits.map((l) => `${l.slot}=${l.value}`).join('&') : f.kind)).sort()).toEqual(['0=2', '0=3']);
      // Checks: the counterexample, unsat; unsat in round 1; one minimizing check.
      expect(r.status === 'inductive' && [r.ctis, r.queries]).toEqual([2, 4]);
      expect(checks).toBe(4);
    });
  }
});

describe('learnInvariant: which mined fact blocks a counterexample', () => {
  const slot = (model: Model, name: string) => model.layout.slotNames.indexOf(name);
  type Case = { title: string; pins: Pins; withQ: boolean; broken: (s: (n: string) => number) => Fact[]; lemma: (s: (n: string) => number) => Fact };
  const cube = (...lits: [number, number][]): Fact => ({ kind: 'cube', lits: lits.map(([slot, value]) => ({ slot, value })) });
  const cases: Case[] = [
    {
      title: 'a fact sharing no slot with the step is still taken before a new cube',
      pins: { c: 'c1', xy: ['x0', 'x0'], pq: [0, 1], uw: ['u1', 'w1'] },
      withQ: false,
      broken: (s) => [cube([s('u'), 1], [s('w'), 1])],
      lemma: (s) => cube([s('u'), 1], [s('w'), 1]),
    },
    {
      title: 'one shared slot beats none, though the other fact has more slots',
      pins: { c: 'c2', xy: ['x0', 'x0'], pq: [0, 1], uw: ['u1', 'w1'] },
      withQ: false,
      broken: (s) => [cube([s('c'), 2]), cube([s('u'), 1], [s('w'), 1])],
      lemma: (s) => cube([s('c'), 2]),
    },
    {
      title: 'of two facts sharing one slot, the first and smaller is kept against a later larger one',
      pins: { c: 'c2', xy: ['x0', 'x0'], pq: [2, 2], uw: ['u0', 'w0'] },
      withQ: true,
      broken: (s) => [cube([s('c'), 2]), cube([s('p'), 2]), { kind: 'ne', when: null, a: s('p'), b: s('q') }],
      lemma: (s) => cube([s('c'), 2]),
    },
    {
      title: 'a fact sharing one slot is kept against a later smaller one sharing none',
      pins: { c: 'c1', xy: ['x0', 'x1'], pq: [2, 2], uw: ['u0', 'w0'] },
      withQ: false,
      broken: (s) => [
        cube([s('p'), 2]),
        { kind: 'eq', when: { slot: s('c'), value: 1 }, a: s('x'), b: s('y') },
        { kind: 'ne', when: null, a: s('p'), b: s('q') },
      ],
      lemma: (s) => ({ kind: 'eq', when: { slot: s('c'), value: 1 }, a: s('x'), b: s('y') }),
    },
    {
      title: 'of two facts sharing one slot, a later smaller one replaces the first',
      pins: { c: 'c1', xy: ['x0', 'x1'], pq: [2, 2], uw: ['u0', 'w0'] },
      withQ: true,
      broken: (s) => [
        cube([s('p'), 2]),
        { kind: 'eq', when: { slot: s('c'), value: 1 }, a: s('x'), b: s('y') },
        { kind: 'ne', when: null, a: s('p'), b: s('q') },
      ],
      lemma: (s) => ({ kind: 'ne', when: null, a: s('p'), b: s('q') }),
    },
  ];
  for (const { title, pins, withQ, broken, lemma } of cases) {
    it(`choice: ${title}`, async () => {
      const { model, props } = choice(pins, withQ);
      const s = (n: string) => slot(model, n);
      const reach = reachOf(model, props);
      // The premise, worked out by hand (see `choice`): the facts the pinned state breaks, in the pool's order.
      const cti = Int32Array.from(model.layout.slotNames.map(() => 0));
      for (const [n, v] of [
        ['a', 1],
        ['b', 1],
        ['c', Number(pins.c.slice(1))],
        ['x', Number(pins.xy[0].slice(1))],
        ['y', Number(pins.xy[1].slice(1))],
        ['p', pins.pq[0]],
        ['q', pins.pq[1]],
        ['u', Number(pins.uw[0].slice(1))],
        ['w', Number(pins.uw[1].slice(1))],
      ] as const)
        cti[s(n)] = v;
      expect(mineFacts(model, reach).filter((f) => !factHolds(f, cti))).toEqual(broken(s));
      const { r, checks } = await learnCounted(model, props, { deadline: null }, reach);
      expect(checkInductive(model, props, r)).toEqual([lemma(s)]);
      // One counterexample, blocked by the interpreter's slots (no lifting): four checks as for `jump`.
      expect(r.status === 'inductive' && [r.ctis, r.learned, r.queries]).toEqual([1, 1, 4]);
      expect(checks).toBe(4);
    });
  }
});

describe('learnInvariant: counterexamples whose step breaks a lemma, and the first bad step', () => {
  const cube1 = (slot: number, value: number): Fact => ({ kind: 'cube', lits: [{ slot, value }] });

  it('relay: z3 finds a state whose step breaks a lemma; the interpreter names its slots (six checks, no lifting)', async () => {
    const { model, props } = relay;
    const { r, checks } = await learnCounted(model, props);
    // x is slot 0: (3, true) is blocked by "x is never 3" in round 0, (2, false) by "x is never 2" in round 1.
    expect(checkInductive(model, props, r)).toEqual([cube1(0, 3), cube1(0, 2)]);
    // Checks: round 0 sat, unsat; round 1 (the lemma in s') sat, unsat; round 2 unsat; one minimizing check.
    expect(r.status === 'inductive' && [r.ctis, r.learned, r.queries]).toEqual([2, 2, 6]);
    expect(checks).toBe(6);
  });

  it('ladder-y: the second counterexample (found around the first) is blocked by its fact on x, not by "y is never true"', async () => {
    const { model, props } = ladderY;
    const { r, checks } = await learnCounted(model, props);
    const lemmas = checkInductive(model, props, r);
    // y is slot 0, x slot 1.
    expect(lemmas.map((f) => JSON.stringify(f)).sort()).toEqual([cube1(1, 2), cube1(1, 3)].map((f) => JSON.stringify(f)).sort());
    expect(r.status === 'inductive' && [r.ctis, r.learned, r.queries]).toEqual([2, 2, 4]);
    expect(checks).toBe(4);
  });

  it('chain-y: around c = 4, c = 3 is blocked through its first bad step (Climb, on c alone), then c = 2', async () => {
    const { model, props } = chainY;
    const { r, checks } = await learnCounted(model, props);
    // y is slot 0, c slot 1; learned in this order.
    expect(checkInductive(model, props, r)).toEqual([cube1(1, 4), cube1(1, 3), cube1(1, 2)]);
    // As for `chain`: the counterexample, unsat; unsat in round 1; one minimizing check.
    expect(r.status === 'inductive' && [r.ctis, r.learned, r.queries]).toEqual([3, 3, 4]);
    expect(checks).toBe(4);
  });

  it('first-invariant: a neighbour that breaks the first invariant is not blocked', async () => {
    const { model, props } = firstInvariant;
    const r = await learn(model, props);
    // k is slot 1.
    expect(checkInductive(model, props, r)).toEqual([cube1(1, 1)]);
    expect(r.status === 'inductive' && [r.ctis, r.learned, r.queries]).toEqual([1, 1, 4]);
  });
});

describe('learnInvariant: steps the interpreter does not see as bad are lifted by z3', () => {
  it('overflow-guarded: another rule`s step property says nothing about Up, and a guard that raises is no guard slot error (five checks)', async () => {
    const { model, props } = overflowGuarded;
    const { r, checks } = await learnCounted(model, props);
    expect(checkInductive(model, props, r)).toEqual([{ kind: 'cube', lits: [{ slot: 0, value: 2 }] }]);
    // As for `overflow`: the counterexample, its lifting, unsat; unsat in round 1; one minimizing check.
    expect(r.status === 'inductive' && [r.ctis, r.queries]).toEqual([1, 5]);
    expect(checks).toBe(5);
  });

  it('raising-guard: a slot whose other value makes the guard raise is one of its slots (the lemma shares three slots with them)', async () => {
    const { model, props } = raisingGuard;
    const { r, checks } = await learnCounted(model, props);
    const lemmas = checkInductive(model, props, r);
    expect(lemmas).toEqual([{ kind: 'ne', when: { slot: 2, value: 0 }, a: 0, b: 1 }]);
    expect(r.status === 'inductive' && [r.ctis, r.queries]).toEqual([1, 5]);
    expect(checks).toBe(5);
  });

  it('dropped: a step after which the invariant cannot be evaluated is lifted by z3 (five checks)', async () => {
    const { model, props } = dropped;
    const { r, checks } = await learnCounted(model, props);
    expect(checkInductive(model, props, r)).toEqual([{ kind: 'cube', lits: [{ slot: 0, value: 2 }] }]);
    expect(r.status === 'inductive' && [r.ctis, r.queries]).toEqual([1, 5]);
    expect(checks).toBe(5);
  });
});

describe('learnInvariant: limits and disagreements', () => {
  it('stops at the counterexample limit, saying how many it blocked', async () => {
    // twins has two counterexamples to induction, one slot flip apart from each other's neighbours
    // only through a state that breaks the property: z3 finds each.
    const { model, props } = twins;
    const r0 = await learn(model, props, { deadline: null, maxCtis: 0 });
    expect(r0).toMatchObject({ status: 'incomplete', reason: 'stopped after 0 counterexamples to induction', ctis: 0, lemmas: 0 });
    const r1 = await learn(model, props, { deadline: null, maxCtis: 1 });
    expect(r1).toMatchObject({ status: 'incomplete', reason: 'stopped after 1 counterexamples to induction', ctis: 1, lemmas: 1 });
    const r3 = await learn(model, props, { deadline: null, maxCtis: 3 });
    expect(r3).toMatchObject({ status: 'inductive', ctis: 2 });
  });

  it('a deadline already passed ends the run as incomplete with the time limit as the reason', async () => {
    const { model, props } = jump;
    const r = await learn(model, props, { deadline: Date.now() - 1 });
    expect(r).toMatchObject({ status: 'incomplete', reason: 'time limit reached', ctis: 0, lemmas: 0 });
  });

  it('an unknown answer while learning or while minimizing ends the run as incomplete with z3 reason', async () => {
    const { model, props } = chain;
    const { r: full, checks: n } = await learnCounted(model, props);
    expect(full.status).toBe('inductive');
    for (const at of [1, 2, n]) {
      const c = counted(at);
      try {
        const r = await learn(model, props);
        expect(r, `unknown at check ${at}`).toMatchObject({ status: 'incomplete', reason: 'stubbed unknown' });
        expect(c.checks).toBe(at);
      } finally {
        c.restore();
      }
    }
  });

  it('a reachable state whose step breaks an obligation (a reachable set that missed it) is a disagreement naming the step', async () => {
    const { model, props } = jump;
    // The reachable set of `ok`, but the obligation "n is never 1", which the start state's Inc step breaks.
    const wrong: Props = { invariants: [invariant('n-not-1', 'T', '', ne(model.handles.n, 1))], steps: [] };
    const r = await learn(model, wrong, { deadline: null }, reachOf(model, props));
    expect(r.status).toBe('disagree');
    if (r.status !== 'disagree') return;
    expect(r.message).toContain('z3 found a reachable state whose Inc() step breaks an obligation');
  });
});

describe('learnInvariant: progress', () => {
  it('reports at most once a second, with the counts of the moment (a clock that moves 500 ms a z3 check)', async () => {
    const { model, props } = twins;
    // Not zero at the start, so that a time measured from the wrong origin shows.
    let clock = 1_000_000;
    const now = vi.spyOn(Date, 'now').mockImplementation(() => clock);
    const original = session.check.bind(session);
    const check = vi.spyOn(session, 'check').mockImplementation(async (...args) => {
      clock += 500;
      return original(...args);
    });
    const seen: LearnProgress[] = [];
    let r: LearnResult;
    try {
      r = await learn(model, props, { deadline: null, onProgress: (p) => seen.push(p) });
    } finally {
      check.mockRestore();
      now.mockRestore();
    }
    // twins' checks (see above): sat at 500 ms (no report: less than a second), sat at 1000 (a
    // report: two counterexamples, two lemmas, two queries), unsat at 1500 and 2000; the minimizing
    // check is counted at 2000, a second after the last report.
    expect(seen).toEqual([
      { phase: 'learn', ctis: 2, lemmas: 2, queries: 2, elapsedMs: 1000 },
      { phase: 'minimize', ctis: 2, lemmas: 2, queries: 5, elapsedMs: 2000 },
    ]);
    expect(r.elapsedMs).toBe(2500);
  });
});

describe('learnInvariant on random tiny protocols', () => {
  it('every lemma holds in every reachable state, and the lemmas with the obligations are 1-inductive (brute force over every state)', async () => {
    const plans = fc.sample(planArb(), { numRuns: 120, seed: 20261206 }).filter((p) => p.size <= 2 && p.nMax <= 2);
    let inductive = 0;
    let withLemmas = 0;
    let dropped = 0;
    for (const [i, plan] of plans.entries()) {
      const { model, props: ps } = build(plan);
      const props: Props = {
        invariants: ps.filter((p): p is Invariant => p.kind === 'invariant'),
        steps: ps.filter((p): p is StepProperty => p.kind === 'step'),
      };
      const rb = buildReachableSet(model, ps, 1e6, null);
      if (rb.status !== 'complete') continue;
      // A session of its own: z3's answers (which cores, so what minimizing drops) depend on the
      // queries a context has seen, and this sample must not depend on the tests run before it.
      const r = await withSession((own) => learnInvariant(own, model, props, rb.set, { deadline: null }));
      expect(r.status, `plan ${i}`).toBe('inductive');
      if (r.status !== 'inductive') continue;
      inductive++;
      if (r.lemmas.length) withLemmas++;
      if (r.learned > r.lemmas.length) dropped++;
      checkInductive(model, props, r);
    }
    // The sample must exercise the learner: most plans need lemmas, and minimizing drops some.
    expect(inductive).toBeGreaterThanOrEqual(20);
    expect(withLemmas).toBeGreaterThanOrEqual(15);
    expect(dropped).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('the lemmas kept do not depend on the order z3 lists a minimizing core in (plans where minimizing drops lemmas and keeps two or more)', async () => {
    const plans = fc.sample(planArb(), { numRuns: 120, seed: 20261206 }).filter((p) => p.size <= 2 && p.nMax <= 2);
    // The unsat cores of the minimizing solver (the one created last) read back in reverse order.
    const reversedCores = (own: SmtSession) => {
      let last: SolverHandle | null = null;
      const original = own.newSolver.bind(own);
      const made = vi.spyOn(own, 'newSolver').mockImplementation((...args) => {
        last = original(...args);
        return last;
      });
      const { z, ctx } = own;
      const core = z.solver_get_unsat_core.bind(z);
      const read = vi.spyOn(z, 'solver_get_unsat_core').mockImplementation((c, s) => {
        const vec = core(c, s);
        if (s !== last?.ptr) return vec;
        z.ast_vector_inc_ref(ctx, vec);
        const out = z.mk_ast_vector(ctx);
        for (let i = z.ast_vector_size(ctx, vec) - 1; i >= 0; i--) z.ast_vector_push(ctx, out, z.ast_vector_get(ctx, vec, i));
        z.ast_vector_dec_ref(ctx, vec);
        return out;
      });
      return () => {
        read.mockRestore();
        made.mockRestore();
      };
    };
    let compared = 0;
    for (const [i, plan] of plans.entries()) {
      const { model, props: ps } = build(plan);
      const props: Props = {
        invariants: ps.filter((p): p is Invariant => p.kind === 'invariant'),
        steps: ps.filter((p): p is StepProperty => p.kind === 'step'),
      };
      const rb = buildReachableSet(model, ps, 1e6, null);
      if (rb.status !== 'complete') continue;
      const plain = await withSession((own) => learnInvariant(own, model, props, rb.set, { deadline: null }));
      if (plain.status !== 'inductive' || plain.learned === plain.lemmas.length || plain.lemmas.length < 2) continue;
      const reversed = await withSession(async (own) => {
        const restore = reversedCores(own);
        try {
          return await learnInvariant(own, model, props, rb.set, { deadline: null });
        } finally {
          restore();
        }
      });
      expect(reversed, `plan ${i}`).toEqual({ ...plain, elapsedMs: reversed.elapsedMs });
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
