/**
 * The proof for every size (proveUnbounded.ts) on small hand-made models, each verdict with an
 * oracle of its own. Why this test exists: proveUnbounded.test.ts and proveUnboundedOdpMirror.test.ts
 * prove real protocols (a minute a run, too slow for mutation testing), proveUnboundedDifferential
 * and sortedStep.test.ts mostly exercise the translation; what the proof itself decides (which
 * obligations there are, which failure is reported, when an unknown stops the proof, the start
 * checks, the vacuity guard, the notes of a proof) was reached only by the slow files. Here:
 * - a token model (one owner at a time) is checked by explicit BFS at sizes 1..3 and proved or
 *   refuted for every size; counterexamples to induction are re-run by the interpreter at their sizes;
 * - the obligation lists are hand-counted from the rules, invariants and step properties;
 * - answers z3 would give only on hard or slow queries (unknown, a time limit) are scripted by
 *   replacing the session's `check` on chosen calls, the other calls answered by z3.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type Expr, add, and, count, eq, forall, implies, isNone, isSome, le, lit, lt, none, not, pre, some, unwrap } from '../../model/lang/expr.js';
import { applyRule, enabled, holds, initState } from '../../model/lang/interp.js';
import { encodeState } from '../../model/lang/layout.js';
import { type Model, buildModel, defineProtocol, enumParam, intParam } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { arrayOf, bool, option, range } from '../../model/lang/types.js';
import { type Invariant, type Property, invariant, stepProperty } from '../../properties/property.js';
import { explicitCheck } from '../explicit/explicit.js';
import { fakeZ3, removeFakes, startsOf } from './fakeZ3.testkit.js';
import type { ProofResult, UnboundedCti } from './proofResult.js';
import { prove } from './prove.js';
import { proveUnbounded } from './proveUnbounded.js';
import { type SmtSession, shutdownSmt, withSession } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

/**
 * Pages handed out one at a time: Take(p) when nobody owns one, Give(p) by the owner, Count bumps a
 * counter up to `cap`. Modes: `buggy` (Give forgets to clear held[p]), `overflow` (Count has no
 * guard, so it overflows its range at n = cap), `guard-unwrap` (Give's guard unwraps the owner,
 * a model error while nobody owns a page).
 */
const tokens = defineProtocol({
  name: 'unbounded-unit-tokens',
  summary: 'one owner of a page at a time, and a counter',
  spec: 'checker/smt/proveUnboundedUnit.test.ts',
  params: {
    pages: intParam(2, 1, 4, 'pages'),
    cap: intParam(2, 1, 3, 'largest counter value'),
    mode: enumParam('plain', ['plain', 'buggy', 'overflow', 'guard-unwrap', 'two-starts'], 'which fault'),
  },
  variants: [],
  build(b, cfg) {
    const P = b.index('P', cfg.int('pages'));
    const cap = cfg.int('cap');
    const mode = cfg.str('mode');
    const h = { P, held: b.v('held', arrayOf(P, bool)), owner: b.v('owner', option(P)), n: b.v('n', range(0, cap)) };
    b.init('empty', () => []);
    // A second start state in which page 0 is held without an owner (breaks held-is-owner).
    if (mode === 'two-starts') b.init('stray', () => [assign(h.held.at(0), true)]);
    b.rule('Take', { p: P }, ({ p }) => ({ guard: isNone(h.owner), body: [assign(h.owner, some(p, option(P))), assign(h.held.at(p), true)] }));
    b.rule('Give', { p: P }, ({ p }) => ({
      guard: mode === 'guard-unwrap' ? eq(unwrap(h.owner), p) : eq(h.owner, some(p, option(P))),
      body: [assign(h.held.at(unwrap(h.owner)), mode === 'buggy'), assign(h.owner, none)],
    }));
    b.rule('Count', {}, () => ({ guard: mode === 'overflow' ? lit(true) : lt(h.n, cap), body: [assign(h.n, add(h.n, 1))] }));
    return h;
  },
});

type Tokens = Model<ReturnType<typeof tokens.build>>;

const tokensAt = (pages: number, mode = 'plain', cap = 2): Tokens => buildModel(tokens, { params: { pages, mode, cap } });

/** The properties of the token model (built over `m`'s handles and rules). */
function propsOf(m: Tokens) {
  const { P, held, owner, n } = m.handles;
  const owns = (p: Expr) => eq(owner, some(p, option(P)));
  return {
    atMostOne: invariant(
      'at-most-one-held',
      'T-1',
      'no two pages held',
      forall(P, (p) => forall(P, (q) => implies(and(held.at(p), held.at(q)), eq(p, q)))),
    ),
    heldIsOwner: invariant(
      'held-is-owner',
      'T-2',
      'a page is held exactly when it is owned',
      forall(P, (p) => and(implies(held.at(p), owns(p)), implies(owns(p), held.at(p)))),
    ),
    nobodyHeld: invariant(
      'nobody-held',
      'T-3',
      'no page held (false once a page is taken)',
      forall(P, (p) => not(held.at(p))),
    ),
    giveReleases: stepProperty(m, 'give-releases', 'T-4', 'Give clears the page it gives back', 'Give', ({ p }) => not(held.at(p as Expr))),
    nGrows: stepProperty(m, 'n-grows', 'T-5', 'no rule lowers n', null, () => le(pre(n), n)),
    /** The start states as a size-generic formula. */
    startCondition: and(
      isNone(owner),
      forall(P, (p) => not(held.at(p))),
    ),
  };
}

/** Explicit BFS at the size built: ok, violated or error. */
const bfs = (model: Model, properties: readonly Property[]): string => explicitCheck({ model, properties, limits: {}, deadlock: false }).status;

/**
 * Re-runs a counterexample to induction on the token model at its size with the interpreter: every
 * invariant of `invs` holds before, the instance is enabled, `after` is its successor, and
 * `failing` does not hold after. Returns the model built at that size.
 */
function recheck(cti: UnboundedCti, invs: (m: Tokens) => Invariant[], failing: string, mode = 'plain'): Tokens {
  const model = tokensAt(cti.sizes.P as number, mode);
  const before = encodeState(model.layout, cti.before as Record<string, never>);
  const after = encodeState(model.layout, cti.after as Record<string, never>);
  if (typeof before === 'string' || typeof after === 'string') throw new Error(`undecodable counterexample: ${before} ${after}`);
  const list = invs(model);
  for (const p of list) expect(holds(model, p.pred, before), p.name).toBe(true);
  const inst = model.instances.find((i) => i.rule.name === cti.rule && i.rule.params.every((p, k) => i.args[k] === cti.args[p.name]));
  expect(inst, `${cti.rule} ${JSON.stringify(cti.args)}`).toBeDefined();
  expect(enabled(model, inst!, before)).toBe(true);
  expect(Array.from(applyRule(model, inst!, before))).toEqual(Array.from(after));
  expect(holds(model, list.find((p) => p.name === failing)!.pred, after)).toBe(false);
  return model;
}

/**
 * Runs `run` with the session's `check` replaced: the calls numbered in `unknownAt` (from 0) answer
 * `unknown` with that reason, as z3 does on a hard query or at a time limit; the others go to z3.
 * Returns the result and the deadline of every call.
 */
async function scripted(
  session: SmtSession,
  unknownAt: Readonly<Record<number, string>>,
  run: () => Promise<ProofResult>,
): Promise<{ r: ProofResult; deadlines: (number | null)[] }> {
  const real = session.check;
  const deadlines: (number | null)[] = [];
  session.check = async (s, deadline, assumptions) => {
    const i = deadlines.length;
    deadlines.push(deadline);
    if (unknownAt[i] !== undefined) {
      session.lastReason = unknownAt[i];
      return 'unknown';
    }
    return real.call(session, s, deadline, assumptions);
  };
  try {
    return { r: await run(), deadlines };
  } finally {
    session.check = real;
  }
}

describe('the proof for every size on a token model, against explicit BFS at sizes 1 to 3', () => {
  it('proved with the strengthening invariant where BFS finds nothing; without it a counterexample to induction of two held pages, re-run by the interpreter', async () => {
    await withSession(async (session) => {
      for (const pages of [1, 2, 3]) {
        const m = tokensAt(pages);
        const p = propsOf(m);
        expect(bfs(m, [p.atMostOne, p.heldIsOwner, p.giveReleases, p.nGrows]), `BFS at ${pages}`).toBe('ok');
        const r = await proveUnbounded(m, [p.atMostOne, p.giveReleases, p.nGrows], { strengthening: [p.heldIsOwner], session });
        expect(r.status, `proof at ${pages}`).toBe('proved');
        if (r.status === 'proved') expect(r.properties).toEqual(['at-most-one-held', 'held-is-owner', 'give-releases', 'n-grows']);
        // at-most-one-held is true at every size but not inductive alone: Take from a state that
        // holds a page without an owner (only Take raises a held flag) gives two held pages,
        // which needs two pages.
        const c = await proveUnbounded(m, [p.atMostOne], { session });
        expect(c.status === 'cti' && c.property).toBe('Take preserves at-most-one-held');
        if (c.status !== 'cti') continue;
        expect(c.cti!.sizes.P).toBeGreaterThanOrEqual(2);
        expect(c.message).toMatch(/not inductive/);
        expect(c.obligations?.filter((o) => o.status === 'failed').map((o) => o.name)).toEqual(['Take preserves at-most-one-held']);
        recheck(c.cti!, (mm) => [propsOf(mm).atMostOne], 'at-most-one-held');
      }
    });
  }, 60_000);

  it('the obligations: start goals for each invariant, then per rule its model error, each invariant and the step properties of that rule or of every rule', async () => {
    const m = tokensAt(2);
    const p = propsOf(m);
    const r = await proveUnbounded(m, [p.atMostOne, p.giveReleases, p.nGrows], { strengthening: [p.heldIsOwner], initCondition: p.startCondition });
    expect(r.status).toBe('proved');
    const invs = ['at-most-one-held', 'held-is-owner'];
    const expected = [
      ...invs.map((i) => `start condition implies ${i}`),
      ...['Take', 'Give', 'Count'].flatMap((rule) => [
        `${rule} raises no model error`,
        ...invs.map((i) => `${rule} preserves ${i}`),
        ...(rule === 'Give' ? ['Give keeps step property give-releases'] : []),
        `${rule} keeps step property n-grows`,
      ]),
    ];
    expect(r.status === 'proved' && r.obligations).toEqual(expected.map((name) => ({ name, status: 'proved' })));
  }, 30_000);

  it('the notes of a proof: every open index type with its least size, the numeric parameters, the start condition; an index type kept at its size named as such', async () => {
    const m = tokensAt(2, 'plain', 3);
    const p = propsOf(m);
    const open = await proveUnbounded(m, [p.heldIsOwner], { initCondition: p.startCondition });
    expect(open.status).toBe('proved');
    if (open.status !== 'proved') return;
    expect(open.notes[0]).toMatch(/every size of P \(>= 1\)$/);
    expect(open.notes[1]).toMatch(/\(pages=2, cap=3; /);
    expect(open.notes[2]).toMatch(/^start: the start condition implies every invariant/);
    const fixed = await proveUnbounded(m, [p.heldIsOwner], { fixedIndexes: ['P'] });
    expect(fixed.status).toBe('proved');
    if (fixed.status !== 'proved') return;
    expect(fixed.notes[0]).toMatch(/every size of ; P kept at its built size 2 \(the model numbers its values\)$/);
    expect(fixed.notes[2]).toMatch(/^start: no start condition given/);
  }, 30_000);

  it('a Give that keeps the page held: BFS finds the violation at every size; the proof fails first on the invariant, also on the step property, and goes on with the other rules', async () => {
    await withSession(async (session) => {
      for (const pages of [1, 2, 3]) {
        const m = tokensAt(pages, 'buggy');
        const p = propsOf(m);
        expect(bfs(m, [p.heldIsOwner]), `BFS at ${pages}`).toBe('violated');
        expect(bfs(m, [p.giveReleases]), `BFS at ${pages}`).toBe('violated');
        const r = await proveUnbounded(m, [p.heldIsOwner, p.giveReleases], { session });
        expect(r.status === 'cti' && r.property).toBe('Give preserves held-is-owner');
        if (r.status !== 'cti') continue;
        expect(r.requirement).toBe('T-2');
        expect(r.obligations).toEqual([
          { name: 'Take raises no model error', status: 'proved' },
          { name: 'Take preserves held-is-owner', status: 'proved' },
          { name: 'Give raises no model error', status: 'proved' },
          { name: 'Give preserves held-is-owner', status: 'failed' },
          { name: 'Give keeps step property give-releases', status: 'failed' },
          { name: 'Count raises no model error', status: 'proved' },
          { name: 'Count preserves held-is-owner', status: 'proved' },
        ]);
        const at = recheck(r.cti!, (mm) => [propsOf(mm).heldIsOwner], 'held-is-owner', 'buggy');
        // The parameter given back is the owner of the pre-state.
        expect(r.cti!.before.owner).toBe(r.cti!.args.p);
        expect(at.handles.P.size).toBe(r.cti!.sizes.P);
      }
    });
  }, 60_000);

  it('model errors: a counter bumped past its range fails only at n = cap (each cap 1 to 3), a guard unwrapping the owner fails with no owner; BFS finds both', async () => {
    await withSession(async (session) => {
      for (const cap of [1, 2, 3]) {
        const m = tokensAt(2, 'overflow', cap);
        expect(bfs(m, [])).toBe('error');
        const r = await proveUnbounded(m, [], { session });
        expect(r.status === 'cti' && r.property).toBe('Count raises no model error');
        expect(r.status === 'cti' && r.requirement).toBe('model error');
        expect(r.status === 'cti' && r.cti?.before.n).toBe(cap);
      }
      const m = tokensAt(2, 'guard-unwrap');
      expect(bfs(m, [])).toBe('error');
      const r = await proveUnbounded(m, [], { session });
      expect(r.status === 'cti' && r.property).toBe('Give raises no model error');
      expect(r.status === 'cti' && r.cti?.before.owner).toBe(null);
    });
  }, 60_000);
});

/**
 * An option that starts as some(1) and is cleared once by Drop: a property that unwraps it cannot
 * be evaluated after Drop, which explicit search and k-induction report as a model error.
 */
const dropped = defineProtocol({
  name: 'unbounded-unit-dropped',
  summary: 'a value cleared once',
  spec: 'checker/smt/proveUnboundedUnit.test.ts',
  params: {},
  variants: [],
  build(b) {
    const o = b.v('o', option(range(0, 3)));
    const gone = b.v('gone', bool);
    b.init('start', () => [assign(o, some(1, option(range(0, 3))))]);
    b.rule('Drop', {}, () => ({ guard: not(gone), body: [assign(o, none), assign(gone, true)] }));
    return { o };
  },
});

describe('properties that cannot be evaluated', () => {
  it('an invariant or a step property unwrapping a value a step clears is a model error of that step, as BFS and k-induction say; guarded by isSome, proved', async () => {
    const model = buildModel(dropped);
    const { o } = model.handles;
    const bare = invariant('small', 'T-1', 'the value is at most 3', le(unwrap(o), 3));
    const step = stepProperty(model, 'small-after', 'T-2', 'after Drop the value is at most 3', 'Drop', () => le(unwrap(o), 3));
    const guarded = invariant('small-if-some', 'T-3', 'the value, if any, is at most 3', implies(isSome(o), le(unwrap(o), 3)));
    await withSession(async (session) => {
      for (const p of [bare, step]) {
        expect(bfs(model, [p])).toBe('error');
        expect((await prove(model, [p], { session })).status).toBe('error');
        const r = await proveUnbounded(model, [p], { session });
        expect(r.status === 'cti' && r.property, p.name).toBe('Drop raises no model error');
        // Before the step: Drop enabled; the invariant, assumed there, can be evaluated (some value).
        expect(r.status === 'cti' && r.cti?.before.gone, p.name).toBe(false);
        if (p === bare) expect(r.status === 'cti' && r.cti?.before.o, p.name).not.toBe(null);
        expect(r.status === 'cti' && r.cti?.after.o, p.name).toBe(null);
      }
      expect(bfs(model, [guarded])).toBe('ok');
      expect((await proveUnbounded(model, [guarded], { session })).status).toBe('proved');
    });
  }, 60_000);
});

describe('the start of the proof: start states, start condition, vacuity', () => {
  it('a start condition weaker than an invariant gives a counterexample to induction from the start condition, whose state the interpreter confirms', async () => {
    const m = tokensAt(2);
    const p = propsOf(m);
    // `true` holds in the start state, but does not imply held-is-owner at any size.
    const r = await proveUnbounded(m, [p.heldIsOwner], { initCondition: lit(true) });
    expect(r.status === 'cti' && r.property).toBe('start condition implies held-is-owner');
    if (r.status !== 'cti') return;
    expect(r.message).toMatch(/start condition does not imply held-is-owner$/);
    expect(r.cti!.rule).toBe('(start condition)');
    expect(r.cti!.args).toEqual({});
    expect(r.cti!.after).toEqual({});
    // The rules keep held-is-owner: only the start goal fails.
    expect(r.obligations?.filter((o) => o.status !== 'proved').map((o) => o.name)).toEqual(['start condition implies held-is-owner']);
    const at = tokensAt(r.cti!.sizes.P as number);
    const before = encodeState(at.layout, r.cti!.before as Record<string, never>);
    if (typeof before === 'string') throw new Error(before);
    expect(holds(at, propsOf(at).heldIsOwner.pred, before)).toBe(false);
  }, 30_000);

  it('a start state breaking an invariant is a violation at the start: the first broken invariant, with a one-state trace from that start state (BFS finds it too)', async () => {
    const m = tokensAt(2, 'two-starts');
    const p = propsOf(m);
    // The second start state holds page 0 without an owner: at-most-one holds, nobody-held and
    // held-is-owner do not; nobody-held is listed first.
    const props = [p.atMostOne, p.nobodyHeld, p.heldIsOwner];
    const ex = explicitCheck({ model: m, properties: props, limits: {}, deadlock: false });
    expect(ex.status).toBe('violated');
    const r = await proveUnbounded(m, props);
    expect(r.status).toBe('violated');
    if (r.status !== 'violated') return;
    expect(r.violation.property).toBe('nobody-held');
    expect(r.violation.requirement).toBe('T-3');
    expect(r.violation.kind).toBe('invariant');
    const steps = r.violation.trace!.steps;
    expect(steps.map((s) => [s.choice, s.label])).toEqual([[1, 'init stray']]);
    // A trace of no steps after the start state: found at depth 0.
    expect(r.violation.trace!.extra).toEqual({ depth: 0 });
    expect(r.violation.trace!.property).toBe('nobody-held');
    expect(Array.from(steps[0]!.state)).toEqual(Array.from(initState(m, m.inits[1]!)));
    // The same start state with the invariant it breaks only as a strengthening one.
    const s = await proveUnbounded(m, [p.atMostOne], { strengthening: [p.heldIsOwner] });
    expect(s.status === 'violated' && s.violation.property).toBe('held-is-owner');
  }, 30_000);

  it('a start condition false in the second start state only is refused naming that state; one true in both goes on to the proof', async () => {
    const m = tokensAt(2, 'two-starts');
    const { P, held, owner } = m.handles;
    const r = await proveUnbounded(m, [], { initCondition: forall(P, (p) => not(held.at(p))) });
    expect(r.status === 'error' && r.code).toBe('MC010');
    expect(r.status === 'error' && r.message).toMatch(/does not hold in start state 'stray'/);
    const ok = await proveUnbounded(m, [], { initCondition: isNone(owner) });
    expect(ok.status).toBe('proved');
  }, 30_000);

  it('the vacuity guard (a model without start states, which the builder refuses, so that nothing else catches it): contradictory invariants, then a contradictory start condition, refused', async () => {
    const m: Tokens = { ...tokensAt(2), inits: [] };
    const p = propsOf(m);
    const never = invariant('never', 'T-6', 'false', lit(false));
    const r = await proveUnbounded(m, [p.heldIsOwner, never], { initCondition: lit(false) });
    expect(r.status === 'error' && r.code).toBe('MC010');
    expect(r.status === 'error' && r.message).toMatch(/^the invariants cannot hold in any state/);
    const s = await proveUnbounded(m, [p.heldIsOwner], { initCondition: lit(false) });
    expect(s.status === 'error' && s.code).toBe('MC010');
    expect(s.status === 'error' && s.message).toMatch(/^the start condition cannot hold in any state/);
    // Both satisfiable: the proof runs (and the start goals are met).
    const t = await proveUnbounded(m, [p.heldIsOwner], { initCondition: p.startCondition });
    expect(t.status).toBe('proved');
  }, 30_000);

  it('a count over an open sort in a rule guard is refused (MC010): its meaning depends on the size', async () => {
    const def = defineProtocol({
      name: 'unbounded-unit-refused',
      summary: 'a guard that counts',
      spec: 'checker/smt/proveUnboundedUnit.test.ts',
      params: {},
      variants: [],
      build(b) {
        const P = b.index('P', 2);
        const flag = b.v('flag', arrayOf(P, bool));
        b.init('zero', () => []);
        b.rule('Set', { p: P }, ({ p }) => ({
          guard: lt(
            count(P, (q) => flag.at(q)),
            1,
          ),
          body: [assign(flag.at(p), true)],
        }));
        return { flag };
      },
    });
    const r = await proveUnbounded(buildModel(def), []);
    expect(r.status === 'error' && r.code).toBe('MC010');
    expect(r.status === 'error' && r.message).toMatch(/^the unbounded translation cannot express this model: count over P/);
  }, 30_000);
});

describe('answers z3 gives on hard queries, scripted', () => {
  it('queries: one for the invariants, one for the start condition, then one per obligation not decided by the translation alone; every solver and model released', async () => {
    await withSession(async (session) => {
      const m = tokensAt(2, 'buggy');
      const p = propsOf(m);
      const counts = { solvers: 0, released: 0, models: 0, modelsReleased: 0 };
      const { newSolver, releaseSolver, model, releaseModel } = session;
      session.newSolver = (...a) => {
        counts.solvers++;
        return newSolver.apply(session, a);
      };
      session.releaseSolver = (s) => {
        counts.released++;
        releaseSolver.call(session, s);
      };
      session.model = (s) => {
        counts.models++;
        return model.call(session, s);
      };
      session.releaseModel = (x) => {
        counts.modelsReleased++;
        releaseModel.call(session, x);
      };
      try {
        // A literal true is kept by every rule without a query; Take's body can raise no error.
        // Left: the errors of Give (unwrap) and Count (range), and the two vacuity checks.
        const always = invariant('always', 'T-7', 'true', lit(true));
        const { r, deadlines } = await scripted(session, {}, () => proveUnbounded(m, [always], { session, initCondition: p.startCondition }));
        expect(r.status).toBe('proved');
        expect(deadlines.length).toBe(2 + 2);
        const c = await proveUnbounded(m, [p.heldIsOwner], { session });
        expect(c.status).toBe('cti');
        expect(counts).toEqual({ solvers: 2, released: 2, models: 1, modelsReleased: 1 });
      } finally {
        Object.assign(session, { newSolver, releaseSolver, model, releaseModel });
      }
    });
  }, 30_000);

  // Query 0 asks whether the invariants can hold; query 1 is Take preserves held-is-owner (Take's
  // model-error goal needs none, see above), query 3 Give preserves held-is-owner.
  it('an unknown on an obligation (not a time limit) leaves it unknown and goes on: incomplete naming the first unknown, or the later counterexample', async () => {
    await withSession(async (session) => {
      const plain = tokensAt(2);
      const inv = [propsOf(plain).heldIsOwner];
      const all = await scripted(session, {}, () => proveUnbounded(plain, inv, { session }));
      expect(all.r.status).toBe('proved');
      expect(all.deadlines.every((d) => d === null)).toBe(true);
      const one = await scripted(session, { 1: 'canceled' }, () => proveUnbounded(plain, inv, { session }));
      expect(one.r.status === 'incomplete' && one.r.reason).toBe('z3 answered unknown on Take preserves held-is-owner: canceled');
      expect(one.deadlines.length).toBe(all.deadlines.length);
      const two = await scripted(session, { 1: 'first', 2: 'second' }, () => proveUnbounded(plain, inv, { session }));
      expect(two.r.status === 'incomplete' && two.r.reason).toBe('z3 answered unknown on Take preserves held-is-owner: first');
      const buggy = tokensAt(2, 'buggy');
      const c = await scripted(session, { 1: 'canceled' }, () => proveUnbounded(buggy, [propsOf(buggy).heldIsOwner], { session }));
      expect(c.r.status === 'cti' && c.r.property).toBe('Give preserves held-is-owner');
      expect(c.r.status === 'cti' && c.r.obligations?.filter((o) => o.status !== 'proved')).toEqual([
        { name: 'Take preserves held-is-owner', status: 'unknown' },
        { name: 'Give preserves held-is-owner', status: 'failed' },
      ]);
    });
  }, 30_000);

  it('a time limit reached on an obligation stops the proof there: incomplete with the limit, no later query, every query with the same deadline', async () => {
    await withSession(async (session) => {
      const buggy = tokensAt(2, 'buggy');
      const t0 = Date.now();
      const { r, deadlines } = await scripted(session, { 1: 'time limit reached' }, () =>
        proveUnbounded(buggy, [propsOf(buggy).heldIsOwner], { session, timeLimitSec: 30 }),
      );
      const t1 = Date.now();
      // Give preserves held-is-owner would fail (query 3): it is never asked.
      expect(r.status === 'incomplete' && r.reason).toBe('time limit of 30s reached (Take preserves held-is-owner: time limit reached)');
      expect(deadlines.length).toBe(2);
      expect(deadlines[0]).toBe(deadlines[1]);
      expect(deadlines[0]).toBeGreaterThanOrEqual(t0 + 30_000);
      expect(deadlines[0]).toBeLessThanOrEqual(t1 + 30_000);
    });
  }, 30_000);

  it('an unknown on whether the invariants or the start condition can hold is incomplete, naming which', async () => {
    await withSession(async (session) => {
      const m = tokensAt(2);
      const p = propsOf(m);
      const a = await scripted(session, { 0: 'canceled' }, () => proveUnbounded(m, [p.heldIsOwner], { session, initCondition: p.startCondition }));
      expect(a.r.status === 'incomplete' && a.r.reason).toBe('z3 answered unknown on whether the invariants can hold (canceled)');
      expect(a.deadlines.length).toBe(1);
      const b = await scripted(session, { 1: 'canceled' }, () => proveUnbounded(m, [p.heldIsOwner], { session, initCondition: p.startCondition }));
      expect(b.r.status === 'incomplete' && b.r.reason).toBe('z3 answered unknown on whether the start condition can hold (canceled)');
      expect(b.deadlines.length).toBe(2);
      // A real time limit passed before the first query: z3 is not asked.
      const c = await proveUnbounded(m, [p.heldIsOwner], { session, timeLimitSec: 1e-9 });
      expect(c.status === 'incomplete' && c.reason).toBe('z3 answered unknown on whether the invariants can hold (time limit reached)');
    });
  }, 30_000);

  it('elapsedMs is the time the call took, for every kind of result', async () => {
    await withSession(async (session) => {
      const timed = async (run: () => Promise<ProofResult>): Promise<ProofResult> => {
        const t0 = Date.now();
        const r = await run();
        expect(r.elapsedMs, r.status).toBeGreaterThanOrEqual(0);
        expect(r.elapsedMs, r.status).toBeLessThanOrEqual(Date.now() - t0);
        return r;
      };
      const m = tokensAt(2);
      const p = propsOf(m);
      const buggy = tokensAt(2, 'buggy');
      const kinds = [
        await timed(() => proveUnbounded(m, [p.heldIsOwner], { session })),
        await timed(() => proveUnbounded(tokensAt(2, 'two-starts'), [p.heldIsOwner], { session })),
        await timed(() => proveUnbounded(tokensAt(2, 'two-starts'), [], { session, initCondition: p.nobodyHeld.pred })),
        await timed(() => proveUnbounded(m, [], { session, fixedIndexes: ['Q'] })),
        await timed(() =>
          proveUnbounded(
            m,
            [
              invariant(
                'few',
                'T-8',
                'counts',
                lt(
                  count(m.handles.P, (q) => m.handles.held.at(q)),
                  2,
                ),
              ),
            ],
            { session },
          ),
        ),
        await timed(() => proveUnbounded({ ...m, inits: [] }, [invariant('never', 'T-6', 'false', lit(false))], { session })),
        await timed(() => proveUnbounded(m, [p.heldIsOwner], { session, timeLimitSec: 1e-9 })),
        (await scripted(session, { 1: 'canceled' }, () => timed(() => proveUnbounded(m, [p.heldIsOwner], { session })))).r,
      ];
      expect(kinds.map((r) => r.status)).toEqual(['proved', 'violated', 'error', 'error', 'error', 'error', 'incomplete', 'incomplete']);
      // A counterexample to induction takes several z3 queries: at least a millisecond.
      const c = await timed(() => proveUnbounded(buggy, [propsOf(buggy).heldIsOwner], { session }));
      expect(c.status).toBe('cti');
      expect(c.elapsedMs).toBeGreaterThan(0);
    });
  }, 30_000);

  it('a failure that is not a model error nor untranslatable (a broken expression, a solver that throws) is thrown, not reported as a result; the solver is still released', async () => {
    await withSession(async (session) => {
      const m = tokensAt(2);
      // Not an expression of the language: the interpreter cannot evaluate it.
      const broken = { op: 'no-such-op', type: bool } as unknown as Expr;
      await expect(proveUnbounded(m, [], { session, initCondition: broken })).rejects.toThrow();
      let released = 0;
      const { releaseSolver } = session;
      session.releaseSolver = (s) => {
        released++;
        releaseSolver.call(session, s);
      };
      const real = session.check;
      session.check = () => Promise.reject(new Error('the solver died'));
      try {
        await expect(proveUnbounded(m, [propsOf(m).heldIsOwner], { session })).rejects.toThrow('the solver died');
      } finally {
        session.check = real;
        session.releaseSolver = releaseSolver;
      }
      expect(released).toBe(1);
    });
  }, 30_000);

  it('a state type the sorted translation cannot hold (an option of a range from 1, which the type builder refuses, made by hand) is refused (MC010)', async () => {
    const def = defineProtocol({
      name: 'unbounded-unit-option',
      summary: 'an option of 1..2',
      spec: 'checker/smt/proveUnboundedUnit.test.ts',
      params: {},
      variants: [],
      build(b) {
        const o = b.v('o', { kind: 'option', inner: range(1, 2) } as ReturnType<typeof option>);
        b.init('zero', () => []);
        b.rule('Tick', {}, () => ({ guard: true, body: [] }));
        return { o };
      },
    });
    const r = await proveUnbounded(buildModel(def), []);
    expect(r.status === 'error' && r.code).toBe('MC010');
    expect(r.status === 'error' && r.message).toMatch(/^the unbounded translation cannot express this model: o: option of a range not starting at 0/);
  }, 30_000);

  it('the solver asked for answers the queries: a native z3 (a scripted stand-in) that calls the invariants contradictory is believed, the default wasm z3 proves them', async () => {
    const m = tokensAt(2);
    const inv = [propsOf(m).heldIsOwner];
    expect((await proveUnbounded(m, inv)).status).toBe('proved');
    const saved = process.env.MIRRORCHECK_Z3;
    const { bin, starts } = fakeZ3({ answers: ['unsat'] });
    process.env.MIRRORCHECK_Z3 = bin;
    try {
      const r = await proveUnbounded(m, inv, { solver: 'native' });
      expect(r.status === 'error' && r.message).toMatch(/^the invariants cannot hold in any state/);
      expect(startsOf(starts)).toBe(1);
    } finally {
      if (saved === undefined) delete process.env.MIRRORCHECK_Z3;
      else process.env.MIRRORCHECK_Z3 = saved;
      removeFakes();
    }
  }, 30_000);
});
