/**
 * Executes one run of a model driven by a choice list. Why this module exists: the random engine
 * hands fast-check a property over choice lists, and the same execution must rebuild the trace of a
 * failing list afterwards; both go through this one function, so the trace is exactly the run that
 * failed. Each choice picks the i-th enabled rule instance modulo the number enabled, so every list
 * is a valid run, whatever fast-check generates or shrinks it to.
 *
 * It runs the compiled model (checker/explicit/compile.ts); the interpreter stays the reference and
 * the random engine's tests replay every trace through it.
 */
import type { Property } from '../../properties/property.js';
import type { CompiledModel } from '../../model/lang/compile.js';

/** What stopped a run early: a broken property, a deadlock, or a run-time model error. */
export type RunStop =
  | { readonly kind: 'invariant'; readonly index: number }
  | { readonly kind: 'step'; readonly index: number }
  | { readonly kind: 'deadlock' }
  | { readonly kind: 'modelError'; readonly error: unknown };

/** The outcome of one run. */
export interface RunOutcome {
  /** Steps taken (rule instances applied). */
  readonly length: number;
  /** Successors generated along the way. */
  readonly generated: number;
  readonly stop: RunStop | null;
  /** True when the run ended in a legal end state before using all its choices. */
  readonly ended: boolean;
}

/** A recorded step: the rule instance taken and a copy of the state it led to. */
export interface RecordedStep {
  readonly instance: number;
  readonly state: Int32Array;
}

/** Reusable buffers for runs of one compiled model, so a run allocates nothing. */
export class ChoiceRunner {
  private readonly cm: CompiledModel<Property>;
  private readonly nSlots: number;
  private readonly pool: Int32Array;
  private readonly ids: Int32Array;
  private readonly fails: Int32Array;
  private readonly free: Int32Array;
  private readonly s: Int32Array;
  private readonly t: Int32Array;
  private count = 0;
  private readonly emit: (k: number, f: number) => void;

  constructor(cm: CompiledModel<Property>, nSlots: number, nInstances: number) {
    this.cm = cm;
    this.nSlots = nSlots;
    this.pool = new Int32Array(Math.max(1, nInstances) * nSlots);
    this.ids = new Int32Array(Math.max(1, nInstances));
    this.fails = new Int32Array(Math.max(1, nInstances));
    this.free = new Int32Array(Math.max(1, nInstances));
    this.s = new Int32Array(nSlots);
    this.t = new Int32Array(nSlots);
    this.emit = (k, f) => {
      this.pool.set(this.t, this.count * this.nSlots);
      this.ids[this.count] = k;
      this.fails[this.count] = f;
      this.count++;
    };
  }

  /**
   * Runs `choices` from `init`. `onState` sees every state (after the start state and after each
   * step), for cover tracking; `record` receives each step taken, for building a trace.
   */
  run(
    init: Int32Array,
    choices: readonly number[],
    opts: {
      checkDeadlock: boolean;
      onState?: (s: Int32Array, depth: number) => void;
      record?: (step: RecordedStep) => void;
      /**
       * Swarm run: instances (by id) marked 1 are taken only when nothing else is enabled, so the
       * run explores with part of the protocol held back (see random.ts).
       */
      heldBack?: Uint8Array;
    },
  ): RunOutcome {
    const { cm, s, nSlots } = this;
    s.set(init);
    let generated = 0;
    const stop0 = this.stopAt(0, -1, opts.onState);
    if (stop0) return { length: 0, generated, stop: stop0, ended: false };
    for (let i = 0; i < choices.length; i++) {
      this.count = 0;
      try {
        cm.expand(s, this.t, this.emit);
      } catch (error) {
        return { length: i, generated, stop: { kind: 'modelError', error }, ended: false };
      }
      const n = this.count;
      generated += n;
      if (n === 0) {
        if (opts.checkDeadlock && !cm.isEnd(s)) return { length: i, generated, stop: { kind: 'deadlock' }, ended: false };
        return { length: i, generated, stop: null, ended: true };
      }
      let c = (choices[i] as number) % n;
      const held = opts.heldBack;
      if (held) {
        let m = 0;
        for (let j = 0; j < n; j++) if (held[this.ids[j] as number] === 0) this.free[m++] = j;
        if (m > 0) c = this.free[(choices[i] as number) % m] as number;
      }
      s.set(this.pool.subarray(c * nSlots, (c + 1) * nSlots));
      opts.record?.({ instance: this.ids[c] as number, state: new Int32Array(s) });
      const stop = this.stopAt(i + 1, this.fails[c] as number, opts.onState);
      if (stop) return { length: i + 1, generated, stop, ended: false };
    }
    return { length: choices.length, generated, stop: null, ended: false };
  }

  /**
   * What ends a run in the state just reached (held in `s`, at `depth`): the step property
   * `stepFail` broken by the step to it (-1: none), an invariant, or a model error. A property that
   * cannot be evaluated there (a cover's or an invariant's unwrap of none) is a model error of that
   * state, as in the other engines.
   */
  private stopAt(depth: number, stepFail: number, onState?: (s: Int32Array, depth: number) => void): RunStop | null {
    try {
      onState?.(this.s, depth);
      if (stepFail >= 0) return { kind: 'step', index: stepFail };
      const bad = this.cm.firstViolated(this.s);
      return bad >= 0 ? { kind: 'invariant', index: bad } : null;
    } catch (error) {
      return { kind: 'modelError', error };
    }
  }

  /**
   * Runs a list of rule instances (by id) from `init`. Returns null when one of them is not enabled
   * where it is taken; otherwise the outcome and the raw choice (position among the enabled
   * instances) of each step, so the same run can be given again as a choice list.
   */
  runInstances(
    init: Int32Array,
    instances: readonly number[],
    checkDeadlock: boolean,
    skipDisabled = false,
  ): { outcome: RunOutcome; choices: number[]; taken: number[] } | null {
    const pos: number[] = [];
    const taken: number[] = [];
    const { cm, s } = this;
    s.set(init);
    // Each step looks up its instance among the enabled ones; the run itself is then one ordinary run.
    // With `skipDisabled`, an instance that is not enabled where it comes is left out instead.
    for (const want of instances) {
      this.count = 0;
      try {
        cm.expand(s, this.t, this.emit);
      } catch {
        return null;
      }
      let c = -1;
      for (let j = 0; j < this.count; j++) if (this.ids[j] === want) c = j;
      if (c < 0) {
        if (skipDisabled) continue;
        return null;
      }
      pos.push(c);
      taken.push(want);
      s.set(this.pool.subarray(c * this.nSlots, (c + 1) * this.nSlots));
    }
    return { outcome: this.run(init, pos, { checkDeadlock }), choices: pos, taken };
  }

  /** The state the last run stopped in (valid until the next run). */
  get current(): Int32Array {
    return this.s;
  }
}
