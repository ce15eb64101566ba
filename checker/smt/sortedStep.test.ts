/**
 * One step of the sorted translation (sortedTranslator.ts, the translation of the proof for every
 * size, proveUnbounded.ts) compared with the interpreter (the reference semantics), state by state
 * and rule instance by rule instance. Why this test exists: the unbounded proofs of the protocols
 * (proveUnbounded.test.ts) say "proved" or give a counterexample to induction, which tells little
 * about which statement was translated wrongly and costs seconds per proof; a wrong translation of
 * a statement gives a false "proved". Here each index type's universe is pinned to exactly its
 * literals 0..n-1, so the sorted state is one state of the model as built, and for every state
 * z3 must agree with the interpreter on:
 * - each invariant in the state, and each instance's guard and whether it raises a model error;
 * - the successor of each enabled instance that raises none (every leaf function at every
 *   element), and the step properties of its rule on that step;
 * - the state decoded back from a z3 model (universes, literal order, option and enum values).
 * Each model runs twice: with open index sorts (quantifiers are z3 quantifiers, forEach runs
 * pointwise, `ord(a) < ord(b)` is the order relation, pinned here to the numbering) and with every
 * index type fixed (quantifiers, forEach, count and ord expanded over the literals).
 */
import fc from 'fast-check';
import type { Z3_ast } from 'z3-solver';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Expr,
  type Ref,
  add,
  and,
  count,
  eq,
  exists,
  forall,
  ge,
  gt,
  implies,
  isNone,
  isSome,
  ite,
  le,
  lit,
  lt,
  ne,
  none,
  not,
  or,
  ord,
  pre,
  some,
  unwrap,
} from '../../model/lang/expr.js';
import { applyRule, enabled, holds, instanceBindings } from '../../model/lang/interp.js';
import { decodeState, slotCount } from '../../model/lang/layout.js';
import { type Model, type RuleDef, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { type Stmt, assign, forEach, reset, when } from '../../model/lang/stmt.js';
import { type IndexType, type ScalarType, type Type, arrayOf, bool, enumOf, isScalar, option, range, record } from '../../model/lang/types.js';
import { type Invariant, type StepProperty, invariant, stepProperty } from '../../properties/property.js';
import { explicitCheck } from '../explicit/explicit.js';
import { proveUnbounded } from './proveUnbounded.js';
import { build, orError, planArb, statesOf } from './randomProtocol.testkit.js';
import { type LeafFn, SortedTranslator } from './sortedTranslator.js';
import { type BoolSym, type Sym, SymOps } from './symbolic.js';
import { Terms } from './terms.js';
import { type SmtSession, shutdownSmt, withSession } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

/** What the comparisons met, so that a test can require each outcome to occur. */
interface Compared {
  successors: number;
  errors: number;
  disabled: number;
  stepViolations: number;
}

/** One rule translated once, with its parameters as fresh elements. */
interface RuleTerms {
  readonly params: readonly Sym[];
  readonly guard: BoolSym;
  readonly guardErr: BoolSym;
  readonly bodyErr: BoolSym;
  readonly post: readonly LeafFn[];
  readonly steps: readonly { readonly p: StepProperty; readonly ok: BoolSym }[];
}

/**
 * Equalities fixing the leaf functions `fns` to the state `s` at every element of the pinned
 * universes. Leaves are numbered as the translator numbers them (variables in order, record fields
 * in order, one leaf for all the elements of an array); slots as the layout lays them out.
 */
function pinState(tr: SortedTranslator, ops: SymOps, fns: readonly LeafFn[], s: Int32Array): BoolSym[] {
  const out: BoolSym[] = [];
  const symOf = (t: ScalarType, v: number): Sym => {
    if (t.kind === 'bool') return ops.lit(v !== 0);
    if (t.kind === 'index') return tr.literal(t, v);
    if (t.kind === 'option' && t.inner.kind === 'index') return { k: 'o', some: ops.lit(v >= 0), val: tr.literal(t.inner, Math.max(v, 0)) };
    return { k: 'v', v };
  };
  // Returns the next leaf id; `off` is the slot of the value.
  const walk = (t: Type, off: number, args: Z3_ast[], id: number): number => {
    if (isScalar(t)) {
      out.push(ops.eq((fns[id] as LeafFn)(args), symOf(t, s[off] as number)));
      return id + 1;
    }
    if (t.kind === 'record') {
      let k = id;
      let o = off;
      for (const ft of Object.values(t.fields)) {
        k = walk(ft, o, args, k);
        o += slotCount(ft);
      }
      return k;
    }
    let end = id;
    const n = slotCount(t.elem);
    for (let i = 0; i < t.index.size; i++) end = walk(t.elem, off + i * n, [...args, tr.literal(t.index, i).t], id);
    return end;
  };
  let id = 0;
  for (const v of tr.model.layout.vars) id = walk(v.type, v.base, [], id);
  return out;
}

/** Compares one step of the sorted translation with the interpreter on `states`; differences go to `bad`. */
async function compareSortedStep(
  session: SmtSession,
  name: string,
  m: Model,
  invariants: readonly Invariant[],
  steps: readonly StepProperty[],
  states: readonly Int32Array[],
  fixed: boolean,
  bad: string[],
  compared: Compared,
): Promise<void> {
  const tm = new Terms(session);
  const ops = new SymOps(tm);
  const tr = new SortedTranslator(ops, m, new Set(fixed ? m.indexes.map((ix) => ix.name) : []));
  const mode = `${name} (${fixed ? 'fixed' : 'open'} sorts)`;
  // Every literal first: the distinctness axioms cover the literals made before they are built.
  const lits = new Map(m.indexes.map((ix) => [ix.name, Array.from({ length: ix.size }, (_, v) => tr.literal(ix, v))]));
  const st = tr.declareState('');
  const env = (cur: readonly LeafFn[], bind: Map<number, Sym>, prev: readonly LeafFn[] | null, errs: BoolSym[]) => ({
    cur: [...cur],
    pre: prev,
    bind,
    pc: ops.T,
    errs,
  });
  const invs = invariants.map((p) => tr.bool(p.pred, env(st.fns, new Map(), null, [])));
  const rules: RuleTerms[] = m.rules.map((rule) => {
    const bind = new Map<number, Sym>();
    const params = rule.params.map((p) => {
      const x = tr.fresh(p.index, `${rule.name}.${p.name}`);
      bind.set((p.v as { id: number }).id, x);
      return x;
    });
    const gErrs: BoolSym[] = [];
    const guard = tr.bool(rule.guard, env(st.fns, bind, null, gErrs));
    const bErrs: BoolSym[] = [];
    const body = env(st.fns, bind, st.fns, bErrs);
    tr.exec(rule.body, body);
    const post = body.cur;
    const mine = steps.filter((p) => p.rule === null || p.rule === rule.name);
    return {
      params,
      guard,
      guardErr: ops.or(gErrs),
      bodyErr: ops.or(bErrs),
      post,
      steps: mine.map((p) => ({ p, ok: tr.bool(p.pred, env(post, bind, st.fns, [])) })),
    };
  });
  // The order relation of each open sort, pinned to the numbering of the literals.
  const orderPins: BoolSym[] = [];
  if (!fixed) {
    for (const ix of m.indexes) {
      for (let a = 0; a < ix.size; a++) {
        for (let b = 0; b < ix.size; b++) {
          const less = tr.bool(lt(ord(lit(a, ix)), ord(lit(b, ix))), env(st.fns, new Map(), null, []));
          orderPins.push(ops.iff(less, ops.lit(a < b)));
        }
      }
    }
  }
  // Every literal of every index type is used: the proof covers the sizes built and above.
  const sizes = JSON.stringify(Object.fromEntries(m.indexes.map((ix) => [ix.name, ix.size])));
  if (JSON.stringify(tr.minSizes()) !== sizes) bad.push(`${mode}: smallest sizes ${JSON.stringify(tr.minSizes())}, literals up to ${sizes}`);
  const solver = session.newSolver();
  session.add(solver, ops.and([tr.literalAxioms(), ...st.axioms, ...orderPins]).t);
  // Each universe is exactly the literals of its index type.
  for (const ix of m.indexes) {
    const x = tm.constant(`${ix.name}#pin`, tr.sortOf(ix));
    session.add(solver, tm.forall([x], tm.or((lits.get(ix.name) ?? []).map((l) => tm.eq(x, l.t)))));
  }
  const where = (s: Int32Array) => `${mode} state [${s.join(',')}]`;
  for (const s of states) {
    if (bad.length >= 8) break;
    session.push(solver);
    session.add(solver, ops.and(pinState(tr, ops, st.fns, s)).t);
    // The state decodes back to itself.
    expect(await session.check(solver, null)).toBe('sat');
    const zm = session.model(solver);
    const u = tr.universes(zm);
    const back = JSON.stringify(tr.decodeState(u, zm, st.fns));
    if (back !== JSON.stringify(decodeState(m.layout, s))) bad.push(`${where(s)}: decodes as ${back}`);
    session.releaseModel(zm);
    // What z3 must agree on, each as a formula that must hold in the pinned state.
    const must: [string, BoolSym][] = [];
    invariants.forEach((p, i) => {
      const want = orError(() => holds(m, p.pred, s));
      if (want !== 'error') must.push([`invariant ${p.name} ${want}`, ops.iff(invs[i] as BoolSym, ops.lit(want))]);
    });
    if (!(await allHold(session, solver, ops, must, where(s), bad))) {
      session.pop(solver);
      continue;
    }
    for (const inst of m.instances) {
      const r = rules[inst.ruleIdx] as RuleTerms;
      const at = `${where(s)} ${inst.label}`;
      const checks: [string, BoolSym][] = [];
      const params = r.params.map((x, i) => ops.eq(x, tr.literal((inst.rule.params[i] as RuleDef['params'][number]).index, inst.args[i] as number)));
      const g = orError(() => enabled(m, inst, s));
      if (g === 'error') {
        checks.push(['the guard raises a model error', r.guardErr]);
        compared.errors++;
      } else {
        checks.push([`the guard is ${g} without error`, ops.and([ops.not(r.guardErr), ops.iff(r.guard, ops.lit(g))])]);
        if (!g) compared.disabled++;
      }
      let next: Int32Array | 'error' | null = null;
      if (g === true) {
        next = orError(() => applyRule(m, inst, s));
        if (next === 'error') {
          checks.push(['the body raises a model error', r.bodyErr]);
          compared.errors++;
        } else {
          const succ = next;
          checks.push(['the body raises no model error', ops.not(r.bodyErr)]);
          checks.push([`the successor is [${succ.join(',')}]`, ops.and(pinState(tr, ops, r.post, succ))]);
          for (const { p, ok } of r.steps) {
            const want = orError(() => holds(m, p.pred, succ, s, instanceBindings(inst)));
            if (want === 'error') continue;
            if (!want) compared.stepViolations++;
            checks.push([`step property ${p.name} is ${want}`, ops.iff(ok, ops.lit(want))]);
          }
          compared.successors++;
        }
      }
      session.push(solver);
      session.add(solver, ops.and(params).t);
      await allHold(session, solver, ops, checks, at, bad);
      // With every index type fixed nothing is quantified: the successor decodes from a model.
      if (fixed && next instanceof Int32Array) {
        expect(await session.check(solver, null)).toBe('sat');
        const zm2 = session.model(solver);
        const got = JSON.stringify(tr.decodeState(tr.universes(zm2), zm2, r.post));
        if (got !== JSON.stringify(decodeState(m.layout, next))) bad.push(`${at}: the successor decodes as ${got}`);
        const args = r.params.map((x) => tr.natural(tr.universes(zm2), zm2, x));
        if (args.join(',') !== inst.args.join(',')) bad.push(`${at}: the parameters decode as ${args.join(',')}`);
        session.releaseModel(zm2);
      }
      session.pop(solver);
    }
    session.pop(solver);
  }
  session.releaseSolver(solver);
}

/** Whether every formula of `checks` holds in every model of the solver (one query for all; on a failure, one per formula to name it). */
async function allHold(session: SmtSession, solver: ReturnType<SmtSession['newSolver']>, ops: SymOps, checks: [string, BoolSym][], at: string, bad: string[]) {
  const fails = async (f: BoolSym) => {
    session.push(solver);
    session.add(solver, ops.not(f).t);
    const ans = await session.check(solver, null);
    session.pop(solver);
    if (ans === 'unknown') throw new Error(`z3 answered unknown at ${at}`);
    return ans === 'sat';
  };
  if (!(await fails(ops.and(checks.map(([, f]) => f))))) return true;
  for (const [what, f] of checks) if (await fails(f)) bad.push(`${at}: smt disagrees that ${what}`);
  return false;
}

/** The two runs of a model, open and fixed. */
async function bothWays(m: Model, invariants: readonly Invariant[], steps: readonly StepProperty[], states: readonly Int32Array[], name: string) {
  const bad: string[] = [];
  const compared: Compared = { successors: 0, errors: 0, disabled: 0, stepViolations: 0 };
  await withSession(async (session) => {
    for (const fixed of [false, true]) await compareSortedStep(session, name, m, invariants, steps, states, fixed, bad, compared);
  });
  return { bad, compared };
}

describe('one step of the sorted translation agrees with the interpreter', () => {
  it('on random protocols: invariants, guards, model errors, every successor, step properties and the decoded state', async () => {
    const plans = fc.sample(planArb(), { numRuns: 6, seed: 20261206 });
    const bad: string[] = [];
    const total: Compared = { successors: 0, errors: 0, disabled: 0, stepViolations: 0 };
    for (const [pi, plan] of plans.entries()) {
      const { model: m, props } = build(plan);
      const invariants = props.filter((p): p is Invariant => p.kind === 'invariant');
      const steps = props.filter((p): p is StepProperty => p.kind === 'step');
      const r = await bothWays(m, invariants, steps, statesOf(m, 3, 2, pi + 1), `plan ${pi}`);
      bad.push(...r.bad);
      for (const k of Object.keys(total) as (keyof Compared)[]) total[k] += r.compared[k];
    }
    expect(bad).toEqual([]);
    // The plans must exercise every outcome, or the agreement says little.
    expect(total.successors).toBeGreaterThan(60);
    expect(total.errors).toBeGreaterThan(3);
    expect(total.disabled).toBeGreaterThan(10);
    expect(total.stepViolations).toBeGreaterThan(0);
  }, 120_000);

  it('on a model of every statement form over two index sorts: resets of records, rows and a whole variable, two-index updates, pointwise forEach, ord comparisons, options of an index, a quantifier whose body fails at some elements', async () => {
    const def = defineProtocol({
      name: 'sorted-statements',
      summary: 'every statement form the sorted translation takes',
      spec: 'checker/smt/sortedStep.test.ts',
      params: {},
      variants: [],
      build(b) {
        const P = b.index('P', 3);
        const Q = b.index('Q', 2);
        const op = option(P);
        const h = {
          o: b.v('o', op),
          who: b.v('who', Q),
          arr: b.v('arr', arrayOf(P, range(0, 3))),
          flag: b.v('flag', arrayOf(P, bool)),
          cell: b.v(
            'cell',
            arrayOf(P, record({ on: bool, lvl: range(0, 3), owner: option(Q), mode: enumOf('M', ['r', 'w', 'x']), peer: Q, cap: option(range(0, 3)) })),
          ),
          back: b.v('back', arrayOf(P, option(P))),
          grid: b.v('grid', arrayOf(P, arrayOf(Q, bool))),
          cmp: b.v('cmp', record({ lt: bool, le: bool, gt: bool, ge: bool, eq: bool, ne: bool })),
          n: b.v('n', range(0, 3)),
        };
        const { o, who, arr, flag, cell, grid, cmp, n, back } = h;
        b.init('zero', () => []);
        b.init('two', () => [assign(o, some(2, op)), assign(arr.at(1), 2), assign(cell.at(0).f('on'), true)]);
        b.rule('ResetAt', { p: P }, ({ p }) => ({ guard: lt(0, arr.at(p)), body: [reset(arr.at(p))] }));
        b.rule('ResetCell', { p: P }, ({ p }) => ({ guard: cell.at(p).f('on'), body: [reset(cell.at(p))] }));
        b.rule('ResetRow', { p: P }, ({ p }) => ({ guard: exists(Q, (q) => grid.at(p).at(q)), body: [reset(grid.at(p))] }));
        b.rule('Toggle', { p: P, q: Q }, ({ p, q }) => ({
          guard: not(eq(who, q)),
          body: [assign(grid.at(p).at(q), not(grid.at(p).at(q))), assign(cell.at(p).f('owner'), some(q, option(Q))), assign(who, q)],
        }));
        b.rule('ResetPicked', {}, () => ({ guard: isSome(o), body: [reset(arr.at(unwrap(o))), assign(o, none)] }));
        b.rule('Fill', {}, () => ({ guard: true, body: [forEach(P, (j) => [assign(arr.at(j), ite(flag.at(j), 3, arr.at(j)))])] }));
        // A pointwise loop whose body may fail (lvl past 3) and writes two fields of one record.
        b.rule('Raise', {}, () => ({
          guard: lt(n, 3),
          body: [forEach(P, (j) => [when(cell.at(j).f('on'), [assign(cell.at(j).f('lvl'), add(cell.at(j).f('lvl'), 1)), assign(cell.at(j).f('mode'), 'w')])])],
        }));
        // Pointwise, reading a variable the loop does not write at a fixed index.
        b.rule('Spread', {}, () => ({ guard: true, body: [forEach(P, (j) => [assign(flag.at(j), lt(0, arr.at(0)))])] }));
        b.rule('Flag', { p: P }, ({ p }) => ({ guard: not(flag.at(p)), body: [assign(flag.at(p), true), assign(o, some(p, op))] }));
        b.rule('Compare', { p: P, q: P }, ({ p, q }) => ({
          guard: true,
          body: [
            assign(cmp.f('lt'), lt(ord(p), ord(q))),
            assign(cmp.f('le'), le(ord(p), ord(q))),
            assign(cmp.f('gt'), gt(ord(p), ord(q))),
            assign(cmp.f('ge'), ge(ord(p), ord(q))),
            assign(cmp.f('eq'), eq(ord(p), ord(q))),
            assign(cmp.f('ne'), ne(ord(p), ord(q))),
          ],
        }));
        b.rule('Pick', {}, () => ({ guard: lt(n, 3), body: [assign(n, ite(isNone(o), 0, arr.at(unwrap(o))))] }));
        b.rule('Off', { p: P }, ({ p }) => ({
          guard: cell.at(p).f('on'),
          body: [assign(cell.at(p).f('on'), false), assign(cell.at(p).f('cap'), some(arr.at(p))), assign(cell.at(p).f('peer'), who)],
        }));
        // A pointwise loop assigning constants, an element of another sort and the loop's own element.
        b.rule('Clear', {}, () => ({
          guard: isSome(cell.at(0).f('owner')),
          body: [
            forEach(P, (j) => [
              assign(arr.at(j), 0),
              assign(flag.at(j), true),
              assign(cell.at(j).f('owner'), some(who, option(Q))),
              assign(cell.at(j).f('peer'), who),
              assign(back.at(j), some(j, op)),
            ]),
          ],
        }));
        b.rule('Unwrap', {}, () => ({ guard: flag.at(0), body: [assign(arr.at(unwrap(o)), 1)] }));
        // A quantifier over an open sort whose body raises a model error at some elements only (a
        // flagged cell without a back pointer; never true, so the interpreter reaches every
        // element), and a reset of a whole variable that is not an array.
        b.rule('Probe', {}, () => ({ guard: not(exists(P, (j) => and(flag.at(j), lt(arr.at(unwrap(back.at(j))), 0)))), body: [reset(cmp)] }));
        return h;
      },
    });
    const m = buildModel(def);
    const { arr, n, cell, o } = m.handles;
    const invariants = [
      invariant(
        'lvl-low',
        'T-1',
        'an unowned cell has a level below 3',
        forall(m.indexes[0] as IndexType, (j) => or(isSome(cell.at(j).f('owner')), lt(cell.at(j).f('lvl'), 3))),
      ),
      invariant('picked-low', 'T-2', 'the picked cell holds at most 2', implies(isSome(o), le(arr.at(unwrap(o)), 2))),
    ];
    const steps = [
      stepProperty(m, 'fill-keeps-0', 'T-3', 'Fill leaves cell 0 alone', 'Fill', () => eq(arr.at(0), pre(arr.at(0)))),
      stepProperty(m, 'pick-grows', 'T-4', 'Pick never lowers n', 'Pick', () => le(pre(n), n)),
    ];
    const { bad, compared } = await bothWays(m, invariants, steps, statesOf(m, 4, 5, 7), 'statements');
    expect(bad).toEqual([]);
    expect(compared.errors).toBeGreaterThan(3);
    expect(compared.stepViolations).toBeGreaterThan(1);
    expect(compared.successors).toBeGreaterThan(150);
  }, 120_000);
});

/**
 * The background facts of the sorted translation, through the proof for every size: each holds
 * only with its axiom, so a proof without it fails.
 */
describe('the background facts of the sorted translation', () => {
  const facts = defineProtocol({
    name: 'sorted-facts',
    summary: 'comparisons of ords, counts over a fixed index type, literals',
    spec: 'checker/smt/sortedStep.test.ts',
    params: {},
    variants: [],
    build(b) {
      const P = b.index('P', 3);
      const S = b.index('S', 2);
      const h = {
        P,
        S,
        both: b.v('both', bool),
        neither: b.v('neither', bool),
        self: b.v('self', bool),
        cycle: b.v('cycle', bool),
        marks: b.v('marks', arrayOf(S, bool)),
        at: b.v('at', option(P)),
        n: b.v('n', range(0, 2)),
      };
      b.init('zero', () => []);
      b.rule('Compare', { p: P, q: P }, ({ p, q }) => ({
        guard: true,
        body: [
          assign(h.both, and(lt(ord(p), ord(q)), gt(ord(p), ord(q)))),
          assign(h.neither, and(ne(p, q), not(lt(ord(p), ord(q))), not(lt(ord(q), ord(p))))),
          assign(h.self, and(eq(p, q), lt(ord(p), ord(q)))),
        ],
      }));
      b.rule('Chain', { p: P, q: P, r: P }, ({ p, q, r }) => ({
        guard: true,
        body: [assign(h.cycle, and(lt(ord(p), ord(q)), lt(ord(q), ord(r)), ge(ord(p), ord(r))))],
      }));
      b.rule('Mark', { s: S }, ({ s }) => ({ guard: not(h.marks.at(s)), body: [assign(h.marks.at(s), true), assign(h.n, ite(lt(h.n, 2), add(h.n, 1), h.n))] }));
      b.rule('Point', {}, () => ({ guard: true, body: [assign(h.at, some(2, option(P)))] }));
      return h;
    },
  });
  const m = buildModel(facts);
  const { both, neither, self, cycle, marks, at, n, S, P } = m.handles;
  const never = (name: string, x: Ref) => invariant(`never-${name}`, 'T-1', `${name} is never set`, not(x));

  it('ord comparisons over an open sort are proved asymmetric, total, irreflexive and transitive for every size', async () => {
    const props = [never('both', both), never('neither', neither), never('self', self), never('cycle', cycle)];
    expect(explicitCheck({ model: m, properties: props, limits: {}, deadlock: false }).status).toBe('ok');
    const r = await proveUnbounded(m, props, {});
    expect(r.status).toBe('proved');
    expect(r.status === 'proved' && r.obligations?.length).toBeGreaterThan(12);
  }, 60_000);

  it('an index type kept at its built size has exactly its values: a count over it proved (refused when open), a fact of its size proved (not when open)', async () => {
    // n counts the marks: inductive only if a rule's parameter is one of S's two values.
    const atMost = invariant(
      'n-counts-marks',
      'T-2',
      'n is the number of marks',
      eq(
        n,
        count(S, (s) => marks.at(s)),
      ),
    );
    const fixed = await proveUnbounded(m, [atMost], { fixedIndexes: ['S'] });
    expect(fixed.status).toBe('proved');
    if (fixed.status === 'proved') expect(fixed.notes[0]).toMatch(/S kept at its built size 2/);
    const open = await proveUnbounded(m, [atMost], {});
    expect(open.status === 'error' && open.code).toBe('MC010');
    // "Every value of S is 0 or 1" follows from a start condition that says nothing only when S is
    // kept at its two values.
    const two = invariant(
      'two-values',
      'T-3',
      'S has two values',
      forall(S, (s) => or(eq(s, 0), eq(s, 1))),
    );
    expect((await proveUnbounded(m, [two], { fixedIndexes: ['S'], initCondition: lit(true) })).status).toBe('proved');
    expect((await proveUnbounded(m, [two], { initCondition: lit(true) })).status).toBe('cti');
    // Kept at its two values also where no expression names them (S only as Mark's parameter and
    // an array index): a counterexample to induction is over both.
    const low = await proveUnbounded(m, [invariant('n-low', 'T-9', 'n stays below 2', lt(n, 2))], { fixedIndexes: ['S'] });
    expect(low.status === 'cti' && low.cti?.sizes.S).toBe(2);
  }, 60_000);

  it('a literal index is an element of its own: the proof covers the sizes above the largest literal used', async () => {
    const pointed = invariant('pointed-2', 'T-4', 'at points at 2 or nowhere', or(isNone(at), eq(unwrap(at), 2)));
    const r = await proveUnbounded(m, [pointed], {});
    expect(r.status).toBe('proved');
    // P's literal 2 is used; S's literals only in the start state, which the proof does not translate.
    if (r.status === 'proved') expect(r.notes[0]).toMatch(/P \(>= 3\), S \(>= 1\)/);
    // Literals are distinct: 2 is not 0.
    const notZero = invariant('not-0', 'T-5', 'at never points at 0', or(isNone(at), ne(unwrap(at), 0)));
    expect((await proveUnbounded(m, [notZero], {})).status).toBe('proved');
  }, 60_000);

  it('ord used as a number over an open sort is refused (MC010), on either side of a comparison', async () => {
    for (const pred of [forall(P, (p) => le(ord(p), 2)), forall(P, (p) => le(0, ord(p)))]) {
      const r = await proveUnbounded(m, [invariant('ord-number', 'T-6', 'ord compared with a number', pred)], {});
      expect(r.status === 'error' && r.code, JSON.stringify(r)).toBe('MC010');
    }
  });

  it('a counterexample to induction over a universe no larger than its largest literal reads as a state of that size', async () => {
    // With self set, P has exactly the two elements 0 and 2 (literals are distinct): a universe of
    // size 2 in which literal 2 has no position of its own. Point then breaks the second invariant.
    const two = invariant(
      'self-0-or-2',
      'T-7',
      'with self set, every P is 0 or 2',
      implies(
        self,
        forall(P, (p) => or(eq(p, 0), eq(p, 2))),
      ),
    );
    const nowhere = invariant('self-nowhere', 'T-8', 'with self set, at points nowhere', implies(self, isNone(at)));
    const r = await proveUnbounded(m, [two, nowhere], {});
    expect(r.status === 'cti' && r.property).toBe('Point preserves self-nowhere');
    const cti = r.status === 'cti' ? r.cti : null;
    expect(cti?.sizes.P).toBe(2);
    expect(cti?.before.self).toBe(true);
    expect([0, 1]).toContain(cti?.after.at);
  });

  it('a forEach over an open sort whose iterations may touch the same cell is refused (MC010); one whose cells are disjoint is proved', async () => {
    const loops = (body: (j: Expr, h: { P: IndexType; arr: Ref; flag: Ref; grid: Ref }) => Stmt[]) =>
      buildModel(
        defineProtocol({
          name: 'sorted-loops',
          summary: 'one forEach',
          spec: 'checker/smt/sortedStep.test.ts',
          params: {},
          variants: [],
          build(b) {
            const P = b.index('P', 2);
            const h = {
              P,
              arr: b.v('arr', arrayOf(P, range(0, 3))),
              flag: b.v('flag', arrayOf(P, bool)),
              grid: b.v('grid', arrayOf(P, arrayOf(P, bool))),
            };
            b.init('zero', () => []);
            b.rule('Loop', {}, () => ({ guard: true, body: [forEach(P, (j) => body(j, h))] }));
            return h;
          },
        }),
      );
    const refused = async (body: (j: Expr, h: { P: IndexType; arr: Ref; flag: Ref; grid: Ref }) => Stmt[]) => {
      const r = await proveUnbounded(loops(body), [], {});
      return r.status === 'error' && r.code === 'MC010' && /do not touch disjoint cells/.test(r.message);
    };
    // A write at a fixed cell, a read of a written variable elsewhere, two positions of one variable.
    expect(await refused((_, { arr }) => [assign(arr.at(0), 1)])).toBe(true);
    expect(await refused((_, { arr }) => [reset(arr.at(0))])).toBe(true);
    expect(await refused((j, { arr }) => [assign(arr.at(j), arr.at(0))])).toBe(true);
    expect(await refused((j, { grid }) => [assign(grid.at(j).at(0), true), assign(grid.at(0).at(j), true)])).toBe(true);
    expect(await refused((j, { grid }) => [assign(grid.at(j).at(0), grid.at(0).at(j))])).toBe(true);
    // A read of a written variable through another bound variable (a quantifier's) is not the loop's cell.
    expect(
      await refused((j, { arr }) => [
        assign(
          arr.at(j),
          ite(
            exists(arr.type.kind === 'array' ? (arr.type.index as IndexType) : (undefined as never), (k) => eq(arr.at(k), 3)),
            3,
            0,
          ),
        ),
      ]),
    ).toBe(true);
    // The state before the step (pre) is not written by the loop: reading it anywhere is allowed.
    expect(await refused((j, { arr }) => [assign(arr.at(j), pre(arr.at(0)))])).toBe(false);
    // Disjoint: each iteration reads and writes its own cells, and reads a variable it does not write anywhere.
    const ok = loops((j, h) => [assign(h.arr.at(j), ite(h.flag.at(j), 3, 0)), assign(h.grid.at(j).at(0), h.flag.at(0)), reset(h.grid.at(j))]);
    const r = await proveUnbounded(
      ok,
      [
        invariant(
          'small',
          'T-6',
          'every cell is 0 or 3',
          forall(ok.indexes[0] as IndexType, (j) => or(eq(ok.handles.arr.at(j), 0), eq(ok.handles.arr.at(j), 3))),
        ),
      ],
      {},
    );
    expect(r.status).toBe('proved');
    // Every element of an open sort is updated, not only the literals: a step property over all of them.
    const all = loops((j, h) => [assign(h.arr.at(j), 3)]);
    const everyCell = stepProperty(all, 'all-3', 'T-7', 'Loop sets every cell to 3', 'Loop', () =>
      forall(all.indexes[0] as IndexType, (j) => eq(all.handles.arr.at(j), 3)),
    );
    expect((await proveUnbounded(all, [everyCell], {})).status).toBe('proved');
  }, 60_000);
});

describe('one step of the sorted translation with every index type fixed agrees with the interpreter', () => {
  it('count (failing at an element after one whose body holds), ord as a number up to the last element, a loop summing over the elements, quantifiers stopping at the deciding element before one that fails, quantifiers whose first element is a constant that does not decide them; refused when the sort is open', async () => {
    const def = defineProtocol({
      name: 'sorted-fixed',
      summary: 'what only a fixed index type allows',
      spec: 'checker/smt/sortedStep.test.ts',
      params: {},
      variants: [],
      build(b) {
        const P = b.index('P', 3);
        const op = option(P);
        const h = {
          o: b.v('o', op),
          flag: b.v('flag', arrayOf(P, bool)),
          arr: b.v('arr', arrayOf(P, range(0, 3))),
          n: b.v('n', range(0, 3)),
          k: b.v('k', range(0, 3)),
        };
        const { o, flag, arr, n, k } = h;
        b.init('zero', () => []);
        b.init('some', () => [assign(o, some(1, op)), assign(flag.at(2), true)]);
        b.rule('Count', {}, () => ({
          guard: true,
          body: [
            assign(
              n,
              count(P, (j) => flag.at(j)),
            ),
          ],
        }));
        b.rule('Ord', { p: P }, ({ p }) => ({ guard: lt(ord(p), 2), body: [assign(k, ord(p)), assign(flag.at(p), not(flag.at(p)))] }));
        b.rule('Sum', {}, () => ({ guard: true, body: [forEach(P, (j) => [assign(k, ite(flag.at(j), add(k, 1), k))])] }));
        // exists stops at the first element whose body holds, forall at the first that fails: the
        // unwrap of a later element is never evaluated.
        b.rule('Any', {}, () => ({ guard: exists(P, (j) => or(flag.at(j), eq(arr.at(unwrap(o)), 0))), body: [assign(arr.at(0), add(arr.at(0), 1))] }));
        b.rule('All', {}, () => ({ guard: forall(P, (j) => and(not(flag.at(j)), eq(arr.at(unwrap(o)), 0))), body: [assign(o, none)] }));
        b.rule('Fill', { p: P }, ({ p }) => ({ guard: true, body: [assign(flag.at(p), true), assign(o, some(p, op))] }));
        // count evaluates every element: the unwrap fails at any unflagged element, even after a flagged one.
        b.rule('CountAll', {}, () => ({
          guard: le(
            count(P, (j) => or(flag.at(j), eq(arr.at(unwrap(o)), 0))),
            3,
          ),
          body: [],
        }));
        return h;
      },
    });
    const m = buildModel(def);
    const { flag } = m.handles;
    const P = m.indexes[0] as IndexType;
    const invariants = [
      invariant('k-counts', 'T-1', 'k stays below 3', lt(m.handles.k, 3)),
      // Quantifiers whose first element's body is a constant that does not decide them.
      invariant(
        'only-0-flagged',
        'T-2',
        'no element but 0 is flagged',
        forall(P, (j) => or(eq(j, 0), not(flag.at(j)))),
      ),
      invariant(
        'other-flagged',
        'T-3',
        'an element other than 0 is flagged',
        exists(P, (j) => and(ne(j, 0), flag.at(j))),
      ),
      // ord of the last element is its number.
      invariant(
        'ord-at-most-2',
        'T-4',
        'every ord is at most 2',
        forall(P, (p) => le(ord(p), 2)),
      ),
    ];
    const bad: string[] = [];
    const compared: Compared = { successors: 0, errors: 0, disabled: 0, stepViolations: 0 };
    await withSession(async (session) => {
      await compareSortedStep(session, 'fixed', m, invariants, [], statesOf(m, 14, 10, 5), true, bad, compared);
    });
    expect(bad).toEqual([]);
    expect(compared.errors).toBeGreaterThan(5);
    expect(compared.successors).toBeGreaterThan(80);
    const open = await proveUnbounded(m, invariants.slice(0, 1), {});
    expect(open.status === 'error' && open.code).toBe('MC010');
  }, 60_000);
});
