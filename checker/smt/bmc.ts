/**
 * Bounded model checking with z3: the `smt` engine. Why this module exists: it finds violations
 * that need deep interleavings without enumerating states, on any protocol written in the
 * modelling language, through the same engine interface as the explicit engine.
 *
 * One solver grows one step at a time. After the start states are checked, query k asks for a path
 * of k steps ending in a state that is stuck (a model error or a deadlock) or followed by a step that
 * breaks a safety property (an invariant of state k+1 or a step property of step k -> k+1). That is
 * the order in which explicit BFS meets them (it expands level k), so both engines report the same
 * shortest depth. The step k -> k+1 is asserted only for states that are not stuck, which lets a
 * deadlocked state (where no step exists) satisfy the query.
 *
 * Every answer is decoded into a trace and replayed by the interpreter (replay.ts); a replay that
 * fails is an internal error MC040. A z3 timeout or `unknown` gives `incomplete`.
 */
import { ModelRuntimeError } from '../../model/lang/errors.js';
import { holds as holdsPred, initState } from '../../model/lang/interp.js';
import type { Model } from '../../model/lang/protocol.js';
import type { Cover, Invariant, StepProperty } from '../../properties/property.js';
import type { CheckJob, CheckResult, CoverReport, Engine, Hooks, SmtStats } from '../engine.js';
import { type DecodedPath, type Finding, coverErrorFinding, modelErrorOf, replayPath, stuckFinding, violationFinding, violationOf } from './replay.js';
import { type BoolSym, SmtUnsupported, SymOps } from './symbolic.js';
import { Terms } from './terms.js';
import { SlotTranslator } from './translate.js';
import { Unrolling } from './unroll.js';
import { type ModelHandle, type SmtSession, withSession } from './z3Host.js';

/** Depth searched when the job gives none. */
export const DEFAULT_BMC_DEPTH = 20;

/** Options of bounded model checking (`bmcCheck`). */
export interface BmcOptions {
  /** Also search for each cover's shortest witness (default true). */
  readonly covers?: boolean;
  /** Run inside this session instead of a fresh one (tests running many small models). */
  readonly session?: SmtSession;
}

/** The safety properties of a job, by kind. */
export function splitProperties(props: CheckJob['properties']): { invariants: Invariant[]; steps: StepProperty[]; covers: Cover[] } {
  return {
    invariants: props.filter((p): p is Invariant => p.kind === 'invariant'),
    steps: props.filter((p): p is StepProperty => p.kind === 'step'),
    covers: props.filter((p): p is Cover => p.kind === 'cover'),
  };
}

/** Decodes states 0..last and the choices that lead there. */
export function decodePath(u: Unrolling, m: ModelHandle, last: number, fromInit: boolean): DecodedPath {
  const choices = [fromInit ? u.decodeInit(m) : -1];
  const states = [u.decodeState(m, 0)];
  for (let t = 1; t <= last; t++) {
    choices.push(u.decodeChoice(m, t - 1));
    states.push(u.decodeState(m, t));
  }
  return { choices, states, fromInit };
}

class Bmc {
  private readonly start = Date.now();
  private readonly deadline: number | null;
  private readonly maxDepth: number;
  private readonly checkDeadlock: boolean;
  private readonly props: ReturnType<typeof splitProperties>;
  private readonly coverDepth: (number | null)[];
  private readonly model: Model;
  private bound = -1;
  private queries = 0;
  private solverMs = 0;
  private lastReport = Date.now();

  constructor(
    private readonly job: CheckJob,
    private readonly hooks: Hooks,
    private readonly session: SmtSession,
    private readonly withCovers: boolean,
  ) {
    this.model = job.model;
    this.deadline = job.limits.timeLimitSec === undefined ? null : this.start + job.limits.timeLimitSec * 1000;
    this.maxDepth = job.limits.depth ?? DEFAULT_BMC_DEPTH;
    this.checkDeadlock = job.deadlock ?? true;
    this.props = splitProperties(job.properties);
    this.coverDepth = this.props.covers.map(() => null);
  }

  private stats(): SmtStats {
    return { engine: 'smt', depth: Math.max(0, this.bound), queries: this.queries, solverMs: this.solverMs, elapsedMs: Date.now() - this.start };
  }

  /** One solver query, counted and timed. */
  private async query(solver: ReturnType<SmtSession['newSolver']>): Promise<Awaited<ReturnType<SmtSession['check']>>> {
    this.queries++;
    const t0 = Date.now();
    try {
      return await this.session.check(solver, this.deadline);
    } finally {
      this.solverMs += Date.now() - t0;
    }
  }

  private covers(): CoverReport[] {
    return this.props.covers.map((c, i) => ({
      name: c.name,
      requirement: c.requirement,
      reached: this.coverDepth[i] !== null,
      depth: this.coverDepth[i] ?? null,
    }));
  }

  private incomplete(what: string): CheckResult<SmtStats> {
    const why = this.session.lastReason;
    const reason =
      why === 'time limit reached' && this.job.limits.timeLimitSec !== undefined
        ? `time limit of ${this.job.limits.timeLimitSec}s reached ${what} (no violation within ${Math.max(0, this.bound)} steps)`
        : `z3 answered unknown ${what} (${why}); no violation within ${Math.max(0, this.bound)} steps`;
    return { status: 'incomplete', reason, stats: this.stats(), covers: this.covers() };
  }

  private disagree(depth: number, why: string): CheckResult<SmtStats> {
    return {
      status: 'error',
      code: 'MC040',
      trace: null,
      stats: this.stats(),
      message: `the SMT encoding and the interpreter disagree at depth ${depth}: ${why}`,
    };
  }

  private report(): void {
    const now = Date.now();
    if (!this.hooks.onProgress || now - this.lastReport < 1000) return;
    this.lastReport = now;
    const el = now - this.start;
    this.hooks.onProgress({ generated: this.queries, distinct: 0, queue: 0, depth: Math.max(0, this.bound), elapsedMs: el, statesPerSec: 0 });
  }

  /** Turns a replayed finding into the engine's result. */
  private resultOf(f: Finding, path: DecodedPath, depth: number): CheckResult<SmtStats> {
    const extra = { depth, solver: this.session.solverName };
    if (f.kind === 'error') {
      const { message, trace } = modelErrorOf(this.model, f, path, extra);
      return { status: 'error', code: 'MC011', stats: this.stats(), trace, message };
    }
    return { status: 'violated', guarantee: 'bounded', stats: this.stats(), covers: this.covers(), violations: [violationOf(this.model, f, path, extra)] };
  }

  /**
   * Asks whether `q` is satisfiable; on `sat` returns the replayed result. `k` is the query's level:
   * -1 for the start states, else the stuck state's depth (violations are at k+1).
   */
  private async ask(u: Unrolling, solver: ReturnType<SmtSession['newSolver']>, q: BoolSym, k: number): Promise<CheckResult<SmtStats> | null> {
    if (q.c === false) return null;
    const s = this.session;
    s.push(solver);
    try {
      s.add(solver, q.t);
      const ans = await this.query(solver);
      if (ans === 'unknown') return this.incomplete(`at depth ${k + 1}`);
      if (ans === 'unsat') return null;
      const m = s.model(solver);
      try {
        const stuck = k >= 0 && u.holds(m, u.stuck(k));
        const path = decodePath(u, m, stuck ? k : k + 1, true);
        const why = replayPath(this.model, path);
        if (why) return this.disagree(k + 1, why);
        const last = path.states[path.states.length - 1] as Int32Array;
        const f = stuck
          ? (stuckFinding(this.model, last, this.checkDeadlock) ?? coverErrorFinding(this.model, this.props.covers, last))
          : violationFinding(this.model, this.props.invariants, this.props.steps, path);
        if (!f)
          return this.disagree(
            path.states.length - 1,
            stuck ? 'z3 claims the last state is stuck; the interpreter runs every enabled rule' : 'z3 claims a property fails; the interpreter finds it holds',
          );
        return this.resultOf(f, path, path.states.length - 1);
      } finally {
        s.releaseModel(m);
      }
    } finally {
      s.pop(solver);
    }
  }

  /** Finds the covers first reached at depth d (each witness replayed). */
  private async coversAt(u: Unrolling, solver: ReturnType<SmtSession['newSolver']>, d: number): Promise<CheckResult<SmtStats> | null> {
    const ops = u.ops;
    const s = this.session;
    for (;;) {
      const pending = this.props.covers.map((c, i) => ({ c, i })).filter(({ i }) => this.coverDepth[i] === null);
      if (pending.length === 0) return null;
      const q = ops.or(pending.map(({ c }) => u.coverAt(d, c)));
      if (q.c === false) return null;
      s.push(solver);
      try {
        s.add(solver, q.t);
        const ans = await this.query(solver);
        if (ans === 'unknown') return this.incomplete(`while searching cover witnesses at depth ${d}`);
        if (ans === 'unsat') return null;
        const m = s.model(solver);
        try {
          const path = decodePath(u, m, d, true);
          const why = replayPath(this.model, path);
          if (why) return this.disagree(d, `cover witness: ${why}`);
          const last = path.states[d] as Int32Array;
          let hit = 0;
          for (const { c, i } of pending) {
            if (this.coverHoldsIn(c, last)) {
              this.coverDepth[i] = d;
              hit++;
            }
          }
          if (hit === 0) return this.disagree(d, 'z3 claims a cover holds; the interpreter finds none does');
        } finally {
          s.releaseModel(m);
        }
      } finally {
        s.pop(solver);
      }
    }
  }

  private coverHoldsIn(c: Cover, s: Int32Array): boolean {
    try {
      return holdsPred(this.model, c.pred, s);
    } catch (e) {
      if (e instanceof ModelRuntimeError) return false;
      throw e;
    }
  }

  async run(): Promise<CheckResult<SmtStats>> {
    const s = this.session;
    const tm = new Terms(s);
    const ops = new SymOps(tm);
    const tr = new SlotTranslator(ops, this.model);
    const u = new Unrolling(tm, ops, tr, this.props, this.checkDeadlock);
    // QF_BV selects z3's incremental bit-blasting SAT solver: about ten times faster here than the
    // default incremental solver.
    const solver = s.newSolver('QF_BV');
    const covers = this.withCovers && this.props.covers.length > 0;
    try {
      s.add(solver, u.addState().t);
      s.add(solver, u.initConstraint().t);
      let r = await this.ask(u, solver, u.violated(0), -1);
      if (r) return r;
      this.bound = 0;
      if (covers && (r = await this.coversAt(u, solver, 0))) return r;
      for (let k = 0; k < this.maxDepth; k++) {
        s.add(solver, u.addState().t);
        s.add(solver, ops.implies(ops.not(u.stuck(k)), u.transition(k)).t);
        r = await this.ask(u, solver, ops.or([u.stuck(k), u.violated(k + 1)]), k);
        if (r) return r;
        // Proved facts of every path so far; asserting them prunes the deeper searches.
        s.add(solver, ops.not(ops.or([u.stuck(k), u.violated(k + 1)])).t);
        this.bound = k + 1;
        if (covers && (r = await this.coversAt(u, solver, k + 1))) return r;
        this.report();
      }
      // The last level's states must not be stuck either.
      r = await this.ask(u, solver, u.stuck(this.maxDepth), this.maxDepth);
      if (r) return r;
      return { status: 'ok', guarantee: 'bounded', bound: this.maxDepth, stats: this.stats(), covers: this.covers() };
    } catch (e) {
      if (e instanceof SmtUnsupported)
        return { status: 'error', code: 'MC010', message: `the SMT translation cannot express this model: ${e.message}`, stats: this.stats(), trace: null };
      throw e;
    } finally {
      s.releaseSolver(solver);
    }
  }
}

/**
 * Bounded model checking of `job` to `job.limits.depth` steps (DEFAULT_BMC_DEPTH when unset).
 * Returns `violated` with the shortest counterexample, `ok` with guarantee `bounded` and `bound`
 * (no violation within that many steps), `incomplete` on a timeout or z3 `unknown`, or `error`
 * (MC011 a model error, with its trace; MC040 the encodings disagree).
 */
export async function bmcCheck(job: CheckJob, hooks: Hooks = {}, opts: BmcOptions = {}): Promise<CheckResult<SmtStats>> {
  for (const init of job.model.inits) {
    try {
      initState(job.model, init);
    } catch (e) {
      if (e instanceof ModelRuntimeError) {
        return {
          status: 'error',
          code: e.code,
          message: e.message,
          trace: null,
          stats: { engine: 'smt', depth: 0, queries: 0, solverMs: 0, elapsedMs: 0 },
        };
      }
      throw e;
    }
  }
  const go = (session: SmtSession) => new Bmc(job, hooks, session, opts.covers ?? true).run();
  return opts.session ? go(opts.session) : withSession(go, job.solver ?? 'wasm');
}

/** The SMT engine behind the common interface: bounded model checking with z3. */
export const smtEngine: Engine = {
  name: 'smt',
  run: (job, hooks) => bmcCheck(job, hooks),
};
