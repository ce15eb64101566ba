/**
 * The one owner of z3 in the process. Why this module exists: the wasm build of z3 has sharp edges
 * (listed below; each was met in practice) and every SMT engine must avoid them the same way:
 * - z3 is loaded lazily (dynamic import), so commands that never use SMT start fast;
 * - objects freed by JavaScript finalizers while a check runs on a z3 worker thread corrupt memory.
 *   A session therefore uses the *low-level* API over its own non-reference-counted context: no
 *   wrapper object and no finalizer exists, every term lives until the session closes, and closing
 *   deletes the context deterministically (its solvers and models are released first);
 * - only one `check` runs at a time in the whole process;
 * - a `check` longer than 600 s lets Node exit silently (z3's own keep-alive timer is 600 s), so every
 *   check holds a keep-alive interval and a z3 timeout under 600 s.
 * `shutdownSmt` stops z3's worker threads; the CLI calls it in a `finally`. A worker that finishes
 *   while it is being stopped makes the wasm build print a notice; `z3PrintErr` drops that one line.
 *
 * A session can send its checks to a native z3 instead (`backend: 'native'`, see nativeZ3.ts): the
 * terms are still built in the wasm context, every solver is mirrored by a native z3 process that
 * receives the same assertions, pushes and pops as SMT-LIB 2, and a native model is loaded back into
 * the wasm context, so every engine works unchanged with either solver.
 */
import { writeSync } from 'node:fs';
import type { Z3_ast, Z3_context, Z3_model, Z3_solver, Z3LowLevel } from 'z3-solver';
import { NativeZ3Process, findNativeZ3, modelAssertions } from './nativeZ3.js';

/** Which z3 answers the checks: the wasm build in this process, or a native binary on the PATH. */
export type SolverBackend = 'wasm' | 'native';

type Api = Awaited<ReturnType<typeof import('z3-solver')['init']>>;
/** The low-level z3 functions. */
export type Z3Core = Z3LowLevel['Z3'];

/** Longest single z3 check we allow: under the 600 s after which the wasm build stops keeping Node alive. */
export const MAX_CHECK_MS = 590_000;

let loading: Promise<Api> | null = null;

/**
 * What the wasm build writes to stderr when a z3 worker thread reports back after `shutdownSmt`
 * terminated it (a race at exit: the thread finished its work and asked to be returned to the pool
 * while it was being killed). Harmless, and not the user's business, so it is dropped.
 */
const TERMINATED_WORKER_NOTICE = /^received "\w+" command from terminated worker: \d+$/;

/**
 * z3's stderr channel: every line reaches stderr as the wasm build would write it, except the
 * notice of a terminated worker (see `TERMINATED_WORKER_NOTICE`).
 */
export function z3PrintErr(...args: unknown[]): void {
  const line = args.join(' ');
  if (TERMINATED_WORKER_NOTICE.test(line)) return;
  writeSync(2, `${line}\n`);
}

/** Loads and initialises z3 once (the first call takes about 0.2-1 s). */
export function loadZ3(): Promise<Api> {
  loading ??= import('z3-solver').then((m) => m.init({ printErr: z3PrintErr }));
  return loading;
}

/** Stops z3's worker threads so the process can exit promptly. Safe to call when z3 was never loaded. */
export async function shutdownSmt(): Promise<void> {
  if (!loading) return;
  const api = await loading;
  loading = null;
  const { killThreads } = await import('z3-solver');
  await killThreads(api.em);
}

// One check at a time, process-wide.
let checking: Promise<unknown> = Promise.resolve();

/** z3's `Z3_L_FALSE` (the enum is not imported: a value imported from z3-solver would load z3 with this module). */
const Z3_L_FALSE = -1;

/** The answer of one check. */
export type CheckAnswer = 'sat' | 'unsat' | 'unknown';

/** A solver owned by a session. */
export interface SolverHandle {
  readonly ptr: Z3_solver;
}

/** A satisfying assignment, valid until released or until its session closes. */
export interface ModelHandle {
  readonly ptr: Z3_model;
}

/**
 * A z3 context with the solvers and models created in it. Terms built in the context stay valid
 * until `close()`. Always close a session (use `withSession`).
 */
export class SmtSession {
  readonly z: Z3Core;
  readonly ctx: Z3_context;
  private readonly solvers = new Set<Z3_solver>();
  private readonly models = new Set<Z3_model>();
  private closed = false;
  /** Why the last check answered `unknown`. */
  lastReason = '';
  /** `z3-wasm` or `z3-native`: recorded in the traces this session's answers produce. */
  readonly solverName: string;
  /** Native z3 runs (queries sent, time spent in them), for the benchmark. */
  readonly nativeStats = { queries: 0, ms: 0, modelsResolved: 0 };
  private readonly nativeBinary: string | null;
  // Native mode: the z3 process that mirrors each solver (started with the solver).
  private readonly natives = new Map<Z3_solver, NativeZ3Process>();
  // After a native `sat`: the solver of the original query -> a solver whose model is the native one.
  private readonly nativeModelSolver = new Map<Z3_solver, SolverHandle>();

  constructor(api: Api, backend: SolverBackend = 'wasm') {
    this.solverName = `z3-${backend}`;
    if (backend === 'native') {
      this.nativeBinary = findNativeZ3();
      if (!this.nativeBinary) throw new Error('native z3 not found on the PATH');
    } else {
      this.nativeBinary = null;
    }
    this.z = api.Z3;
    const cfg = this.z.mk_config();
    this.z.set_param_value(cfg, 'model', 'true');
    this.ctx = this.z.mk_context(cfg);
    this.z.del_config(cfg);
  }

  /** Throws if z3 recorded an error in this context (sort mismatch and the like: a translator bug). */
  checkError(): void {
    const code = this.z.get_error_code(this.ctx);
    if (code !== 0) throw new Error(`z3 error: ${this.z.get_error_msg(this.ctx, code)}`);
  }

  /**
   * A new solver, released when the session closes (or earlier by `releaseSolver`). In native mode
   * a native z3 process mirrors it, unless `wasmOnly`.
   */
  newSolver(logic?: string, wasmOnly = false): SolverHandle {
    this.assertOpen();
    const ptr = logic ? this.z.mk_solver_for_logic(this.ctx, this.z.mk_string_symbol(this.ctx, logic)) : this.z.mk_solver(this.ctx);
    this.z.solver_inc_ref(this.ctx, ptr);
    this.solvers.add(ptr);
    if (this.nativeBinary && !wasmOnly) this.natives.set(ptr, new NativeZ3Process(this.nativeBinary, logic ?? null));
    return { ptr };
  }

  releaseSolver(s: SolverHandle): void {
    const holder = this.nativeModelSolver.get(s.ptr);
    if (holder) {
      this.nativeModelSolver.delete(s.ptr);
      this.releaseSolver(holder);
    }
    this.natives.get(s.ptr)?.close();
    this.natives.delete(s.ptr);
    if (this.closed || !this.solvers.delete(s.ptr)) return;
    this.z.solver_dec_ref(this.ctx, s.ptr);
  }

  add(s: SolverHandle, t: Z3_ast): void {
    this.z.solver_assert(this.ctx, s.ptr, t);
    this.natives.get(s.ptr)?.assertBenchmark(this.z.benchmark_to_smtlib_string(this.ctx, '', '', '', '', [], t));
  }

  push(s: SolverHandle): void {
    this.z.solver_push(this.ctx, s.ptr);
    this.natives.get(s.ptr)?.push();
  }

  pop(s: SolverHandle): void {
    this.z.solver_pop(this.ctx, s.ptr, 1);
    this.natives.get(s.ptr)?.pop();
  }

  /**
   * Runs one check: waits for any other check in the process, holds a keep-alive timer and sets a z3
   * timeout of the time left before `deadline` (epoch ms; null for none), capped at MAX_CHECK_MS.
   * A deadline already passed answers `unknown` without calling z3.
   */
  async check(s: SolverHandle, deadline: number | null, assumptions: readonly Z3_ast[] = []): Promise<CheckAnswer> {
    this.assertOpen();
    const run = checking.then(async () => {
      const left = deadline === null ? MAX_CHECK_MS : Math.min(MAX_CHECK_MS, deadline - Date.now());
      if (left <= 0) {
        this.lastReason = 'time limit reached';
        return 'unknown' as const;
      }
      const native = this.natives.get(s.ptr);
      if (native) return this.checkNative(native, s, left, deadline, assumptions);
      const p = this.z.mk_params(this.ctx);
      this.z.params_inc_ref(this.ctx, p);
      this.z.params_set_uint(this.ctx, p, this.z.mk_string_symbol(this.ctx, 'timeout'), Math.max(1, Math.floor(left)));
      this.z.solver_set_params(this.ctx, s.ptr, p);
      this.z.params_dec_ref(this.ctx, p);
      const keepAlive = setInterval(() => {}, 2 ** 30);
      let r: number;
      try {
        r = await this.z.solver_check_assumptions(this.ctx, s.ptr, [...assumptions]);
      } finally {
        clearInterval(keepAlive);
      }
      this.checkError();
      if (r === 1) return 'sat' as const;
      if (r === -1) return 'unsat' as const;
      this.lastReason = this.z.solver_get_reason_unknown(this.ctx, s.ptr);
      if (/timeout|canceled/i.test(this.lastReason) && deadline !== null && Date.now() >= deadline - 50) this.lastReason = 'time limit reached';
      return 'unknown' as const;
    });
    checking = run.catch(() => undefined);
    return run;
  }

  /**
   * One check on the native z3 that mirrors `s` (assumptions are asserted in a scope of their own).
   * On `sat` the native model's constants are asserted as equalities in a second wasm solver, whose
   * model `model(s)` then returns; a model that is not made of constants (functions over
   * uninterpreted sorts) is found again by the wasm z3 instead, and counted.
   */
  private async checkNative(
    native: NativeZ3Process,
    s: SolverHandle,
    left: number,
    deadline: number | null,
    assumptions: readonly Z3_ast[],
  ): Promise<CheckAnswer> {
    const old = this.nativeModelSolver.get(s.ptr);
    if (old) {
      this.nativeModelSolver.delete(s.ptr);
      this.releaseSolver(old);
    }
    if (assumptions.length) {
      native.push();
      for (const a of assumptions) native.assertBenchmark(this.z.benchmark_to_smtlib_string(this.ctx, '', '', '', '', [], a));
    }
    const t0 = Date.now();
    const keepAlive = setInterval(() => {}, 2 ** 30);
    let ans: Awaited<ReturnType<NativeZ3Process['check']>>;
    try {
      ans = await native.check(left);
    } finally {
      clearInterval(keepAlive);
      if (assumptions.length) native.pop();
      this.nativeStats.queries++;
      this.nativeStats.ms += Date.now() - t0;
    }
    if (ans.answer === 'unsat') return 'unsat';
    if (ans.answer === 'unknown') {
      this.lastReason = deadline !== null && Date.now() >= deadline - 50 ? 'time limit reached' : ans.reason;
      return 'unknown';
    }
    const fixed = ans.model === null ? null : modelAssertions(ans.model);
    const holder = this.newSolver(undefined, true);
    if (fixed !== null) {
      this.z.solver_from_string(this.ctx, holder.ptr, fixed);
      this.checkError();
    } else {
      // Re-solve the same query in wasm to obtain a model in this context.
      this.z.solver_from_string(this.ctx, holder.ptr, this.z.solver_to_string(this.ctx, s.ptr));
      for (const a of assumptions) this.z.solver_assert(this.ctx, holder.ptr, a);
      this.nativeStats.modelsResolved++;
    }
    // The holder is registered first, so the next check or release of `s` frees it even if this one throws.
    this.nativeModelSolver.set(s.ptr, holder);
    const r = await this.z.solver_check(this.ctx, holder.ptr);
    this.checkError();
    if (r !== 1 || (fixed !== null && this.falsifies(holder, s, assumptions))) throw new Error('the native z3 model does not satisfy the query in the wasm z3');
    return 'sat';
  }

  /**
   * Whether the model of `holder` (the native model's constants) makes an assertion of `s` or an
   * assumption false, evaluated by the wasm z3 with model completion. A native z3 that disagrees
   * with the wasm one must not hand the decoder a state the query excludes. An assertion the
   * evaluator leaves undecided (a quantifier) is not held against the model.
   */
  private falsifies(holder: SolverHandle, s: SolverHandle, assumptions: readonly Z3_ast[]): boolean {
    const m = this.z.solver_get_model(this.ctx, holder.ptr);
    this.z.model_inc_ref(this.ctx, m);
    const vec = this.z.solver_get_assertions(this.ctx, s.ptr);
    this.z.ast_vector_inc_ref(this.ctx, vec);
    try {
      const n = this.z.ast_vector_size(this.ctx, vec);
      const all = [...Array.from({ length: n }, (_, i) => this.z.ast_vector_get(this.ctx, vec, i)), ...assumptions];
      return all.some((a) => {
        const v = this.z.model_eval(this.ctx, m, a, true);
        return v !== null && this.z.get_bool_value(this.ctx, v) === Z3_L_FALSE;
      });
    } finally {
      this.z.ast_vector_dec_ref(this.ctx, vec);
      this.z.model_dec_ref(this.ctx, m);
    }
  }

  /** The model of the last `sat` answer of `s`; release it (or close the session) when done. */
  model(s: SolverHandle): ModelHandle {
    this.assertOpen();
    const src = this.nativeModelSolver.get(s.ptr) ?? s;
    const ptr = this.z.solver_get_model(this.ctx, src.ptr);
    this.checkError();
    this.z.model_inc_ref(this.ctx, ptr);
    this.models.add(ptr);
    return { ptr };
  }

  releaseModel(m: ModelHandle): void {
    if (this.closed || !this.models.delete(m.ptr)) return;
    this.z.model_dec_ref(this.ctx, m.ptr);
  }

  /** SMT-LIB 2 text of everything asserted in `s` (used to run the same query on a native z3). */
  smtlib(s: SolverHandle): string {
    return this.z.solver_to_string(this.ctx, s.ptr);
  }

  /** Releases every model and solver, then deletes the context and all its terms. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const n of this.natives.values()) n.close();
    this.natives.clear();
    for (const m of this.models) this.z.model_dec_ref(this.ctx, m);
    for (const s of this.solvers) this.z.solver_dec_ref(this.ctx, s);
    this.models.clear();
    this.solvers.clear();
    this.z.del_context(this.ctx);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('SMT session used after close');
  }
}

/** Runs `fn` with a fresh session and always closes it, after the last check `fn` awaited. */
export async function withSession<T>(fn: (s: SmtSession) => Promise<T>, backend: SolverBackend = 'wasm'): Promise<T> {
  const api = await loadZ3();
  const session = new SmtSession(api, backend);
  try {
    return await fn(session);
  } finally {
    // A check of this session may still be queued if fn threw while awaiting; wait for the queue.
    await checking;
    session.close();
  }
}
