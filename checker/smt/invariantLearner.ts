/**
 * Inductive invariants learned from counterexamples to induction. Why this module exists: a proof
 * by induction needs an invariant stronger than the properties, and driver authors cannot be asked
 * to write one. This is IC3's blocking loop with an exact reachability oracle: at the built size the
 * reachable states are known (reachableSet.ts), so a cube is a valid lemma exactly when no reachable
 * state matches it, and no frames are needed.
 *
 * With lemmas L (empty at first) and P the obligations (every invariant, every step property, no
 * model error):
 * 1. z3 looks for a step s -> s' with L and P in s and L or P broken in s' (1-induction of L and P);
 * 2. none: L and P is an inductive invariant (it holds initially: every lemma holds in every
 *    reachable state, and P was checked on them);
 * 3. else s is unreachable (a reachable s has a reachable successor, which satisfies L and P), and
 *    is blocked: with a fact it breaks from a pool mined from the reachable states (stateFacts.ts),
 *    else with a new small cube of s that no reachable state matches. The cube starts from the
 *    slots the broken step depends on (found by the interpreter varying one slot at a time, or by
 *    z3's unsat core when that is not enough), so it talks about the step, not about whatever
 *    happens to separate s from the reachable states. The states around s (one slot changed, then
 *    around those) are tried without z3: each that satisfies L and P and has a successor breaking
 *    them is blocked too, which saves most z3 queries.
 * At the end unsat cores drop lemmas the induction does not need. The result is a candidate only:
 * proveInfer.ts prints it and has k-induction re-prove it independently.
 */
import type { Z3_ast } from 'z3-solver';
import { ModelRuntimeError } from '../../model/lang/errors.js';
import { applyRule, enabled, holds, instanceBindings } from '../../model/lang/interp.js';
import type { Model } from '../../model/lang/protocol.js';
import { cardinality, fromCode, toCode } from '../../model/lang/types.js';
import type { Invariant, StepProperty } from '../../properties/property.js';
import { type CompiledModel, compileModel } from '../../model/lang/compile.js';
import type { ReachableSet, SlotLit } from './reachableSet.js';
import { type Fact, factHolds, factSlots, mineFacts } from './stateFacts.js';
import { type BoolSym, type Sym, SymOps } from './symbolic.js';
import { Terms } from './terms.js';
import { SlotTranslator } from './translate.js';
import { Unrolling } from './unroll.js';
import type { SmtSession, SolverHandle } from './z3Host.js';

/** Progress of the learning loop. */
export interface LearnProgress {
  readonly phase: 'learn' | 'minimize';
  /** Counterexamples to induction blocked so far (found by z3 or around its answers). */
  readonly ctis: number;
  readonly lemmas: number;
  readonly queries: number;
  readonly elapsedMs: number;
}

export type LearnResult =
  | {
      readonly status: 'inductive';
      /** The lemmas kept: with the obligations, 1-inductive. */
      readonly lemmas: readonly Fact[];
      /** Facts mined from the reachable states at the start. */
      readonly mined: number;
      /** Lemmas learned from counterexamples to induction. */
      readonly learned: number;
      readonly ctis: number;
      readonly queries: number;
      readonly elapsedMs: number;
    }
  | { readonly status: 'incomplete'; readonly reason: string; readonly ctis: number; readonly lemmas: number; readonly elapsedMs: number }
  | { readonly status: 'disagree'; readonly message: string; readonly elapsedMs: number };

export interface LearnOptions {
  readonly deadline: number | null;
  readonly onProgress?: (p: LearnProgress) => void;
  /** Stop after this many counterexamples to induction (default 200000). */
  readonly maxCtis?: number;
}

/** The lemmas, indexed by the slots they mention (so a state changed in a few slots is re-checked cheaply). */
class LemmaIndex {
  readonly facts: Fact[] = [];
  private readonly bySlot: number[][];
  constructor(nSlots: number) {
    this.bySlot = Array.from({ length: nSlots }, () => []);
  }
  add(f: Fact): void {
    const id = this.facts.length;
    this.facts.push(f);
    for (const j of new Set(factSlots(f))) (this.bySlot[j] as number[]).push(id);
  }
  /** The first lemma numbered `since` or later that `s` breaks, or -1. */
  brokenSince(s: Int32Array, since: number): number {
    for (let id = since; id < this.facts.length; id++) if (!factHolds(this.facts[id] as Fact, s)) return id;
    return -1;
  }
  /** The first lemma mentioning one of `slots` that `s` breaks, or -1. */
  broken(s: Int32Array, slots: readonly number[]): number {
    for (const j of slots) for (const id of this.bySlot[j] as number[]) if (!factHolds(this.facts[id] as Fact, s)) return id;
    return -1;
  }
}

/** Slots where two states differ. */
function changed(a: Int32Array, b: Int32Array): number[] {
  const out: number[] = [];
  for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) out.push(j);
  return out;
}

/**
 * Learns lemmas that make the obligations `props` of `model` 1-inductive, with `reach` as the
 * oracle (the model's reachable states, on which `props` hold).
 */
export async function learnInvariant(
  session: SmtSession,
  model: Model,
  props: { readonly invariants: readonly Invariant[]; readonly steps: readonly StepProperty[] },
  reach: ReachableSet,
  opts: LearnOptions,
): Promise<LearnResult> {
  const start = Date.now();
  const elapsed = () => Date.now() - start;
  const tm = new Terms(session);
  const ops = new SymOps(tm);
  const tr = new SlotTranslator(ops, model);
  const u = new Unrolling(tm, ops, tr, { ...props, covers: [] }, false);
  const cm = compileModel(model, [...props.invariants, ...props.steps]);
  const types = model.layout.slotTypes;
  const dom0 = u.addState();
  u.addState();
  // The pre-state satisfies the obligations (invariants evaluated first: their errors count in err).
  const pre = ops.and([dom0, ops.not(u.invViolated(0)), ops.not(u.err(0)), u.transition(0)]);
  const post = ops.or([u.violated(1), u.err(1)]);
  const litTerm = (l: SlotLit, t: number): Z3_ast => {
    const v = (u.vars[t] as Z3_ast[])[l.slot] as Z3_ast;
    const ty = types[l.slot];
    if (!ty) throw new Error('bad slot');
    if (ty.kind === 'bool') return l.value ? v : tm.not(v);
    return tm.eq(v, tm.bv(toCode(ty, l.value), ops.slotWidth(ty)));
  };
  const factTerm = (f: Fact, t: number): Z3_ast => {
    if (f.kind === 'cube') return tm.not(tm.and(f.lits.map((l) => litTerm(l, t))));
    if (f.kind === 'sets') return tm.not(tm.and(f.lits.map((l) => tm.or(l.values.map((value) => litTerm({ slot: l.slot, value }, t))))));
    const st = u.states[t] as Sym[];
    const e = ops.eq(st[f.a] as Sym, st[f.b] as Sym);
    const body = f.kind === 'eq' ? e.t : tm.not(e.t);
    return f.when ? tm.implies(litTerm(f.when, t), body) : body;
  };

  const main = session.newSolver('QF_BV');
  // Lifting runs on the wasm z3 (it needs unsat cores) whatever the session's backend.
  const lift = session.newSolver('QF_BV', true);
  const both = (t: Z3_ast) => {
    session.add(main, t);
    session.add(lift, t);
  };
  let queries = 0;
  let ctis = 0;
  const lemmas = new LemmaIndex(types.length);
  const broken: Z3_ast[] = [];
  let lastReport = start;
  const report = (phase: LearnProgress['phase']) => {
    const now = Date.now();
    if (!opts.onProgress || now - lastReport < 1000) return;
    lastReport = now;
    opts.onProgress({ phase, ctis, lemmas: lemmas.facts.length, queries, elapsedMs: now - start });
  };
  try {
    both(pre.t);
    // `npost` stands for "no obligation breaks in s'"; `broken[i]` for "lemma i breaks in s'".
    const npost = tm.boolConst('npost');
    both(tm.implies(npost, tm.not(post.t)));
    let sent = 0;
    const send = () => {
      for (; sent < lemmas.facts.length; sent++) {
        const f = lemmas.facts[sent] as Fact;
        const b = tm.boolConst(`broken!${sent}`);
        broken.push(b);
        both(factTerm(f, 0));
        both(tm.eq(b, tm.not(factTerm(f, 1))));
      }
    };
    const mined = mineFacts(model, reach);
    const pool = new FactPool(mined);
    const maxCtis = opts.maxCtis ?? 200_000;
    const blocker = new Blocker(reach, lemmas, pool);
    const explorer = new Explorer(model, cm, reach, lemmas, blocker, props.steps);
    const selEq = (via: number) => tm.eq(u.sels[0] as Z3_ast, tm.bv(via, u.selWidth));
    for (let round = 0; ; round++) {
      // Round query: some obligation or some lemma sent so far breaks in s'.
      const q = tm.boolConst(`round!${round}`);
      const known = broken.length;
      session.add(main, tm.implies(q, tm.or([post.t, ...broken])));
      let found = 0;
      for (;;) {
        if (ctis >= maxCtis)
          return {
            status: 'incomplete',
            reason: `stopped after ${ctis} counterexamples to induction`,
            ctis,
            lemmas: lemmas.facts.length,
            elapsedMs: elapsed(),
          };
        queries++;
        const ans = await session.check(main, opts.deadline, [q]);
        if (ans === 'unknown') return { status: 'incomplete', reason: session.lastReason, ctis, lemmas: lemmas.facts.length, elapsedMs: elapsed() };
        if (ans === 'unsat') break;
        const m = session.model(main);
        const s0 = u.decodeState(m, 0);
        const via = u.decodeChoice(m, 0);
        // What breaks: an obligation, else the first lemma that does.
        let cause: Z3_ast = npost;
        let causeLemma = -1;
        let causeSlots: readonly number[] = [];
        if (!u.holds(m, post)) {
          const i = broken.slice(0, known).findIndex((b) => tm.evalBool(m, b));
          if (i < 0) {
            session.releaseModel(m);
            return { status: 'disagree', message: 'z3 reports a broken obligation it cannot name', elapsedMs: elapsed() };
          }
          cause = tm.not(broken[i] as Z3_ast);
          causeLemma = i;
          causeSlots = factSlots(lemmas.facts[i] as Fact);
        }
        session.releaseModel(m);
        if (reach.has(s0)) {
          return {
            status: 'disagree',
            message: `z3 found a reachable state whose ${model.instances[via]?.label ?? via} step breaks an obligation, which the explicit search did not`,
            elapsedMs: elapsed(),
          };
        }
        // Lifting: which literals of s0 make the step via `via` break it? Tried slot by slot with
        // the interpreter first; z3's unsat core when that does not give an unreachable cube.
        let core = explorer.explicitCore(s0, { via, lemma: causeLemma });
        if (core === null || reach.meets(core.map((j) => ({ slot: j, value: s0[j] as number })))) {
          const lits = types.map((_, j) => litTerm({ slot: j, value: s0[j] as number }, 0));
          queries++;
          const la = await session.check(lift, opts.deadline, [selEq(via), cause, ...lits]);
          // The core says which literals force the step to break `cause` when it is taken; the slots
          // its guard reads are added, so that every state of the cube takes it.
          core = la === 'unsat' ? [...new Set([...coreIndexes(session, lift, lits), ...explorer.guardSlots(s0, via)])] : [];
        }
        const since = lemmas.facts.length;
        if (!blocker.block(s0, core, [...core, ...causeSlots]))
          return { status: 'disagree', message: 'a counterexample to induction starts in a reachable state', elapsedMs: elapsed() };
        ctis++;
        found++;
        ctis += explorer.around(s0, since);
        send();
        report('learn');
      }
      if (found === 0 && known === broken.length) {
        const onQuery = () => {
          queries++;
          report('minimize');
        };
        const kept = await minimize(session, u, lemmas.facts, factTerm, post, pre, opts.deadline, onQuery);
        if (kept === null) return { status: 'incomplete', reason: session.lastReason, ctis, lemmas: lemmas.facts.length, elapsedMs: elapsed() };
        return { status: 'inductive', lemmas: kept, mined: mined.length, learned: lemmas.facts.length, ctis, queries, elapsedMs: elapsed() };
      }
    }
  } finally {
    session.releaseSolver(main);
    session.releaseSolver(lift);
  }
}

/** Facts true in every reachable state, not yet used as lemmas. */
class FactPool {
  readonly facts: readonly Fact[];
  readonly used: Uint8Array;
  constructor(facts: readonly Fact[]) {
    this.facts = facts;
    this.used = new Uint8Array(facts.length);
  }
}

/**
 * Blocks an unreachable state: with a fact of the pool it breaks (the one sharing most slots with
 * `core`, then the one with fewest slots), else with a new cube no reachable state matches.
 */
class Blocker {
  constructor(
    private readonly reach: ReachableSet,
    private readonly lemmas: LemmaIndex,
    private readonly pool: FactPool,
  ) {}

  block(s: Int32Array, core: readonly number[], prefer: readonly number[]): boolean {
    const want = new Set(prefer);
    let best = -1;
    let bestScore = -1;
    let bestSize = 1e9;
    this.pool.facts.forEach((f, i) => {
      if (this.pool.used[i] || factHolds(f, s)) return;
      const slots = factSlots(f);
      const score = slots.filter((j) => want.has(j)).length;
      if (score > bestScore || (score === bestScore && slots.length < bestSize)) {
        best = i;
        bestScore = score;
        bestSize = slots.length;
      }
    });
    if (best >= 0) {
      this.pool.used[best] = 1;
      this.lemmas.add(this.pool.facts[best] as Fact);
      return true;
    }
    const cube = this.reach.unreachableCube(s, core, prefer);
    if (!cube) return false;
    const wide = this.reach.widen(cube);
    this.lemmas.add(
      wide.every((l) => l.values.length === 1)
        ? { kind: 'cube', lits: wide.map((l) => ({ slot: l.slot, value: l.values[0] as number })) }
        : { kind: 'sets', lits: wide },
    );
    return true;
  }
}

/** Why a step from a candidate is bad: it breaks an invariant or a step property, or a lemma. */
type BadStep = { readonly via: number; readonly lemma: number };

/**
 * Counterexamples to induction found without z3, around one z3 found: the states that differ from
 * it in one slot. A candidate counts when it satisfies every lemma and every invariant, is not
 * reachable, raises no model error, and one of its successors breaks an invariant, a step property
 * or a lemma. Before it is blocked, the slots that matter are found by trying every other value of
 * each slot (a slot whose every value keeps the step enabled and bad does not matter); the cube
 * starts from those.
 */
class Explorer {
  private readonly t: Int32Array;
  private readonly steps: readonly StepProperty[];
  constructor(
    private readonly model: Model,
    private readonly cm: CompiledModel,
    private readonly reach: ReachableSet,
    private readonly lemmas: LemmaIndex,
    private readonly blocker: Blocker,
    steps: readonly StepProperty[],
  ) {
    this.t = new Int32Array(model.layout.nSlots);
    this.steps = steps;
  }

  /**
   * Blocks the counterexamples one slot away from `seed` (which satisfied every lemma numbered below
   * `since` when z3 found it), then one slot away from each of those, breadth-first, trying at most
   * `budget` states; returns how many were blocked.
   */
  around(seed: Int32Array, since: number, budget = 4000): number {
    const types = this.model.layout.slotTypes;
    let blocked = 0;
    let tried = 0;
    const queue: { s: Int32Array; since: number }[] = [{ s: seed, since }];
    for (let head = 0; head < queue.length && tried < budget; head++) {
      const { s: base, since: valid } = queue[head] as { s: Int32Array; since: number };
      const c = new Int32Array(base);
      for (let j = 0; j < types.length && tried < budget; j++) {
        const ty = types[j] as (typeof types)[number];
        const orig = base[j] as number;
        for (let code = 0; code < cardinality(ty); code++) {
          const v = fromCode(ty, code);
          if (v === orig) continue;
          c[j] = v;
          tried++;
          if (this.lemmas.broken(c, [j]) < 0 && this.lemmas.brokenSince(c, valid) < 0 && !this.breaksProperty(c) && !this.reach.has(c)) {
            const bad = this.badStep(c);
            if (bad) {
              // Only when the slots that matter already make an unreachable cube: a cube padded with
              // other slots would be true but rarely inductive; z3 finds such states with exact cores.
              const core = this.relevant(c, bad);
              const before = this.lemmas.facts.length;
              if (!this.reach.meets(core.map((k) => ({ slot: k, value: c[k] as number }))) && this.blocker.block(c, core, core)) {
                blocked++;
                queue.push({ s: new Int32Array(c), since: before });
              }
            }
          }
        }
        c[j] = orig;
      }
    }
    return blocked;
  }

  /**
   * Whether `c` breaks an invariant, or a property cannot even be evaluated in it (an unwrap of none
   * in a state no run reaches): either way `c` is no pre-state of a counterexample to induction.
   */
  private breaksProperty(c: Int32Array): boolean {
    try {
      return this.cm.firstViolated(c) >= 0;
    } catch (e) {
      if (e instanceof ModelRuntimeError) return true;
      throw e;
    }
  }

  /** The first bad step from `c`, or null (also when some rule raises a model error in `c`). */
  private badStep(c: Int32Array): BadStep | null {
    let bad: BadStep | null = null;
    const t = this.t;
    try {
      this.cm.expand(c, t, (k, f) => {
        if (bad) return;
        if (f >= 0 || this.cm.firstViolated(t) >= 0) {
          bad = { via: k, lemma: -1 };
          return;
        }
        const l = this.lemmas.broken(t, changed(c, t));
        if (l >= 0) bad = { via: k, lemma: l };
      });
    } catch (e) {
      if (e instanceof ModelRuntimeError) return null;
      throw e;
    }
    return bad;
  }

  /** Whether the step `bad.via` from `c` is enabled and still bad (interpreter). */
  private stillBad(c: Int32Array, bad: BadStep): boolean {
    const inst = this.model.instances[bad.via];
    if (!inst) return false;
    try {
      if (!enabled(this.model, inst, c)) return false;
      const t = applyRule(this.model, inst, c);
      if (bad.lemma >= 0) return !factHolds(this.lemmas.facts[bad.lemma] as Fact, t);
      if (this.cm.firstViolated(t) >= 0) return true;
      const bind = instanceBindings(inst);
      return this.steps.some((p) => (p.rule === null || p.rule === inst.rule.name) && !holds(this.model, p.pred, t, c, bind));
    } catch (e) {
      if (e instanceof ModelRuntimeError) return false;
      throw e;
    }
  }

  /**
   * The slots a bad step from `c` depends on (each tried alone, with the interpreter), or null when
   * the interpreter does not see the step as bad (a model error after it, say).
   */
  explicitCore(c: Int32Array, bad: BadStep): number[] | null {
    return this.stillBad(c, bad) ? this.relevant(c, bad) : null;
  }

  /** The slots of `c` whose change (each tried alone) disables instance `via`. */
  guardSlots(c: Int32Array, via: number): number[] {
    const inst = this.model.instances[via];
    if (!inst) return [];
    const types = this.model.layout.slotTypes;
    const out: number[] = [];
    const x = new Int32Array(c);
    const on = (s: Int32Array) => {
      try {
        return enabled(this.model, inst, s);
      } catch (e) {
        if (e instanceof ModelRuntimeError) return false;
        throw e;
      }
    };
    for (let j = 0; j < types.length; j++) {
      const ty = types[j] as (typeof types)[number];
      const orig = c[j] as number;
      let matters = false;
      for (let code = 0; code < cardinality(ty) && !matters; code++) {
        const v = fromCode(ty, code);
        if (v === orig) continue;
        x[j] = v;
        matters = !on(x);
      }
      x[j] = orig;
      if (matters) out.push(j);
    }
    return out;
  }

  /** The slots of `c` on which the bad step depends (each tried alone). */
  private relevant(c: Int32Array, bad: BadStep): number[] {
    const types = this.model.layout.slotTypes;
    const out: number[] = [];
    const x = new Int32Array(c);
    for (let j = 0; j < types.length; j++) {
      const ty = types[j] as (typeof types)[number];
      const orig = c[j] as number;
      let matters = false;
      for (let code = 0; code < cardinality(ty) && !matters; code++) {
        const v = fromCode(ty, code);
        if (v === orig) continue;
        x[j] = v;
        matters = !this.stillBad(x, bad);
      }
      x[j] = orig;
      if (matters) out.push(j);
    }
    return out;
  }
}

/** Positions in `assumptions` of the literals in the last unsat core of `s` (wasm solvers only). */
function coreIndexes(session: SmtSession, s: SolverHandle, assumptions: readonly Z3_ast[]): number[] {
  const { z, ctx } = session;
  const vec = z.solver_get_unsat_core(ctx, s.ptr);
  z.ast_vector_inc_ref(ctx, vec);
  try {
    const n = z.ast_vector_size(ctx, vec);
    const index = new Map<number, number>();
    assumptions.forEach((a, i) => {
      index.set(z.get_ast_id(ctx, a), i);
    });
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const k = index.get(z.get_ast_id(ctx, z.ast_vector_get(ctx, vec, i)));
      if (k !== undefined) out.push(k);
    }
    return out;
  } finally {
    z.ast_vector_dec_ref(ctx, vec);
  }
}

/**
 * The lemmas the induction needs: each lemma is assumed in the pre-state under an activation
 * literal, and the unsat core of "an obligation or a kept lemma breaks in s'" names the lemmas
 * used. Every unsat answer proves the set it assumed inductive, so the loop may stop at any round;
 * it repeats while the core shrinks the set by more than 5%. Null on `unknown`.
 */
async function minimize(
  session: SmtSession,
  u: Unrolling,
  lemmas: readonly Fact[],
  factTerm: (f: Fact, t: number) => Z3_ast,
  post: BoolSym,
  pre: BoolSym,
  deadline: number | null,
  onQuery: () => void,
): Promise<Fact[] | null> {
  const tm = u.tm;
  const s = session.newSolver('QF_BV', true);
  try {
    session.add(s, pre.t);
    const acts = lemmas.map((_, i) => tm.boolConst(`lemma!${i}`));
    const brk = lemmas.map((_, i) => tm.boolConst(`lemmaBroken!${i}`));
    lemmas.forEach((l, i) => {
      session.add(s, tm.implies(acts[i] as Z3_ast, factTerm(l, 0)));
      session.add(s, tm.implies(brk[i] as Z3_ast, tm.not(factTerm(l, 1))));
    });
    let kept = lemmas.map((_, i) => i);
    for (let round = 0; ; round++) {
      const q = tm.boolConst(`keep!${round}`);
      session.add(s, tm.implies(q, tm.or([post.t, ...kept.map((i) => brk[i] as Z3_ast)])));
      onQuery();
      const ans = await session.check(s, deadline, [q, ...kept.map((i) => acts[i] as Z3_ast)]);
      if (ans === 'unknown') return null;
      if (ans === 'sat') throw new Error('the learned lemmas are not inductive together');
      const core = coreIndexes(
        session,
        s,
        kept.map((i) => acts[i] as Z3_ast),
      )
        .map((k) => kept[k] as number)
        .sort((a, b) => a - b);
      if (core.length >= kept.length * 0.95) return kept.map((i) => lemmas[i] as Fact);
      kept = core;
    }
  } finally {
    session.releaseSolver(s);
  }
}
