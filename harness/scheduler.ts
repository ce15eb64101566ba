/**
 * Scheduling points and schedulers. Why this module exists: every concurrency choice of the simulated
 * system (which CPU thread, kernel work item, or HCA engine moves next) goes through one place, so any
 * interleaving can be named, reproduced and shrunk. Code that runs concurrently (the migration
 * sequence, the fault handler) is written as a generator that yields a `StepPoint` before each atomic
 * step: the point names the step and says when it may run; the code after the yield, up to the next
 * one, is the step. A choice list or a list of labels then fixes the interleaving.
 */

/**
 * A scheduling point: the next atomic step of a flow. `label` is the step's printed name; steps the
 * model also has use the model's rule-instance label (`DriverFenceDma(p=0)`), steps that exist only
 * in the implementation (a retry of the fault handler) are `internal`.
 */
export interface StepPoint {
  readonly label: string | (() => string);
  /** Whether the step can run now (a sleeping wait, a fence not yet complete, returns false). */
  readonly ready: () => boolean;
  /** True when the step has no counterpart in the model (it must leave the model state unchanged). */
  readonly internal: boolean | (() => boolean);
}

/** Code that runs concurrently: yields before each atomic step; may return a value to its caller. */
export type Flow<T = void> = Generator<StepPoint, T, void>;

const always = () => true;

/** Formats a step label the way the model prints rule instances: `Name(a=0, b=1)`. */
export function stepLabel(name: string, args: Readonly<Record<string, number>> = {}): string {
  return `${name}(${Object.entries(args)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')})`;
}

/** The rule name of a label `Name(a=1)`: the label up to its argument list. */
export function ruleName(label: string): string {
  const i = label.indexOf('(');
  return i < 0 ? label : label.slice(0, i);
}

/** A scheduling point for a step the model has. */
export function step(name: string, args: Readonly<Record<string, number>>, ready: () => boolean = always): StepPoint {
  return { label: stepLabel(name, args), ready, internal: false };
}

/** A scheduling point for an implementation-only step (no model counterpart). */
export function internalStep(name: string, args: Readonly<Record<string, number>>, ready: () => boolean = always): StepPoint {
  return { label: stepLabel(name, args), ready, internal: true };
}

/** The label of a point, evaluated now. */
export function labelOf(p: StepPoint): string {
  return typeof p.label === 'function' ? p.label() : p.label;
}

/** Whether a point is internal, evaluated now. */
export function isInternal(p: StepPoint): boolean {
  return typeof p.internal === 'function' ? p.internal() : p.internal;
}

/** One enabled atomic step of the whole system. */
export interface Action {
  readonly label: string;
  /** Which actor takes it: the CPU user, the mm, the driver, or the HCA. */
  readonly actor: 'cpu' | 'mm' | 'driver' | 'hca';
  readonly internal: boolean;
  /** Performs the step. */
  run(): void;
}

/** Picks the next action among the enabled ones; null ends the run. */
export interface Scheduler {
  choose(actions: readonly Action[]): number | null;
}

/**
 * A scheduler driven by a choice list: entry i picks action `choices[i] mod n` among the n enabled,
 * so every list is a valid schedule (the random engine's encoding). The run ends with the list.
 */
export function choiceListScheduler(choices: readonly number[]): Scheduler & { readonly used: number } {
  let i = 0;
  return {
    get used() {
      return i;
    },
    choose(actions) {
      if (i >= choices.length || actions.length === 0) return null;
      return (choices[i++] as number) % actions.length;
    },
  };
}

/**
 * A scheduler that follows a list of labels: step i takes the enabled action labelled `labels[i]`.
 * It throws when that action is not enabled, naming what was.
 */
export function labelScheduler(labels: readonly string[]): Scheduler & { readonly used: number } {
  let i = 0;
  return {
    get used() {
      return i;
    },
    choose(actions) {
      if (i >= labels.length) return null;
      const want = labels[i] as string;
      const k = actions.findIndex((a) => a.label === want);
      if (k < 0) throw new Error(`step ${i + 1}: ${want} is not enabled (enabled: ${actions.map((a) => a.label).join(', ') || 'none'})`);
      i++;
      return k;
    },
  };
}
