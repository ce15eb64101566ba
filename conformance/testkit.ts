/**
 * Scaffolding for a protocol package's conformance tests: build the model and its properties, draw
 * fast-check schedules (uniform choice lists and swarm schedules), run the reference driver under
 * each and sum up what happened, and the two checks every package makes (the harness starts in the
 * model's start state; a knob and a model of different variants do not conform). Why this module
 * exists: every driver package's conformance test needs the same loops, and each copy had to draw
 * its schedules and sum up its reports the same way for the counts in the specs to mean the same.
 *
 * It asserts nothing itself: a survey returns what it saw, or throws (with the failing run) when asked
 * to stop at a failure, and the test states what it expects. The schedules are those fast-check draws
 * for the given seed, so a test keeps running exactly the schedules it ran before.
 */
import fc from 'fast-check';
import type { HarnessBinding } from '../harness/binding.js';
import { type Scheduler, ruleName } from '../harness/scheduler.js';
import type { SimSystem } from '../harness/simSystem.js';
import { initState } from '../model/lang/interp.js';
import { type Model, buildModel } from '../model/lang/protocol.js';
import type { Property, PropertySet } from '../properties/property.js';
import { type ConformanceFailure, type ConformanceOptions, type ConformanceReport, runConformance } from './conformance.js';
import { swarmScheduler } from './swarmScheduler.js';

/** Parameters of a built model, as the tests write them. */
export type KitParams = Readonly<Record<string, string | number>>;

/** When a survey stops: at a run with a failure, violation or damage (a correct driver), at a failure only (a knob on its own variant), or never. */
export type StopAt = 'anything' | 'failure' | 'never';

/** What a survey saw over its schedules. */
export interface Survey {
  /** Schedules run. */
  readonly runs: number;
  /** Driver steps matched to model steps, summed. */
  readonly modelSteps: number;
  /** Rules some driver step was matched to. */
  readonly rules: ReadonlySet<string>;
  /** Properties broken on mapped states. */
  readonly violated: ReadonlySet<string>;
  /** Kinds of damage the system's monitor reported. */
  readonly damage: ReadonlySet<string>;
  /** Conformance failures, as `kind label` (only when the survey does not stop at them). */
  readonly failures: ReadonlySet<string>;
}

/** Options of a survey. */
export interface SurveyOptions<S extends SimSystem> extends ConformanceOptions {
  /** Default `anything`. */
  readonly stop?: StopAt;
  /** Told of every report, for what a test sums up itself. */
  readonly each?: (r: ConformanceReport<S>) => void;
}

/** The conformance-test scaffolding of one protocol package (see the module header). */
export interface ConformanceKit<S extends SimSystem> {
  /** The package's model for `variant` and `params`, with its properties. */
  setup(variant: string | null, params?: KitParams): { readonly model: Model; readonly properties: readonly Property[] };
  /** One run of the reference driver under `schedule`. */
  check(model: Model, properties: readonly Property[], schedule: Scheduler | readonly number[], opts?: ConformanceOptions): ConformanceReport<S>;
  /** A run's failure, violation, damage and labels, as one line (the message a stopped survey throws). */
  explain(r: ConformanceReport<S>): string;
  /** `n` uniform choice lists of 1 to `maxLength` entries (default 120), drawn with `seed`. */
  uniform(n: number, seed: number, maxLength?: number): readonly (readonly number[])[];
  /** `n` swarm schedules over the model's rules (choice lists of 1 to `maxLength` entries, default 120), drawn with `seed`; each schedules one run. */
  swarm(model: Model, n: number, seed: number, maxLength?: number): readonly Scheduler[];
  /** Runs every schedule and sums up what happened; throws `explain` of the run where `opts.stop` says to stop. */
  survey(model: Model, properties: readonly Property[], schedules: Iterable<Scheduler | readonly number[]>, opts?: SurveyOptions<S>): Survey;
  /** The model's rules no driver step was matched to. */
  unmatched(model: Model, rules: ReadonlySet<string>): string[];
  /** The harness's mapped start state and the model's start state (throws when the start state does not map). */
  startStates(model: Model): { readonly mapped: number[]; readonly init: number[] };
  /** The first failure of the driver with `knob` against the model of `variant` over `schedules`, or null. */
  firstFailure(variant: string | null, knob: string | null, schedules: Iterable<Scheduler | readonly number[]>, params?: KitParams): ConformanceFailure | null;
}

/** The kit for the package whose properties are `properties` (their protocol is the model's) and whose harness binding is `harness`. */
export function conformanceKit<S extends SimSystem, H>(properties: PropertySet<H>, harness: HarnessBinding<S>): ConformanceKit<S> {
  const check = (model: Model, props: readonly Property[], schedule: Scheduler | readonly number[], opts: ConformanceOptions = {}) =>
    runConformance(harness, model, props, schedule, opts);
  const explain = (r: ConformanceReport<S>) => JSON.stringify({ failure: r.failure, violation: r.violation, damage: r.damage, labels: r.labels });
  const setup = (variant: string | null, params: KitParams = {}) => {
    const model = buildModel(properties.protocol, { variant, params });
    return { model: model as Model, properties: properties.build(model) };
  };
  return {
    setup,
    check,
    explain,
    uniform: (n, seed, maxLength = 120) => fc.sample(fc.array(fc.nat(), { minLength: 1, maxLength, size: 'max' }), { numRuns: n, seed }),
    swarm: (model, n, seed, maxLength = 120) =>
      fc
        .sample(fc.record({ held: fc.subarray(model.rules.map((r) => r.name)), choices: fc.array(fc.nat(), { minLength: 1, maxLength, size: 'max' }) }), {
          numRuns: n,
          seed,
        })
        .map((s) => swarmScheduler(new Set(s.held), s.choices)),
    survey(model, props, schedules, opts = {}) {
      const { stop = 'anything', each, ...runOpts } = opts;
      let runs = 0;
      let modelSteps = 0;
      const rules = new Set<string>();
      const violated = new Set<string>();
      const damage = new Set<string>();
      const failures = new Set<string>();
      for (const schedule of schedules) {
        const r = check(model, props, schedule, runOpts);
        runs++;
        if (stop !== 'never' && (r.failure || (stop === 'anything' && (r.violation || r.damage.length > 0)))) throw new Error(explain(r));
        modelSteps += r.modelSteps;
        for (const l of r.matched) if (l) rules.add(ruleName(l));
        if (r.violation) violated.add(r.violation.property);
        for (const d of r.damage) damage.add(d.kind);
        if (r.failure) failures.add(`${r.failure.kind} ${r.failure.label}`);
        each?.(r);
      }
      return { runs, modelSteps, rules, violated, damage, failures };
    },
    unmatched: (model, rules) => model.rules.map((r) => r.name).filter((n) => !rules.has(n)),
    startStates(model) {
      const mapped = harness.stateOf(model, harness.system(model));
      if (typeof mapped === 'string') throw new Error(`the start state does not map: ${mapped}`);
      return { mapped: [...mapped], init: [...initState(model, model.inits[0] as Model['inits'][number])] };
    },
    firstFailure(variant, knob, schedules, params = {}) {
      const { model, properties: props } = setup(variant, params);
      for (const schedule of schedules) {
        const r = check(model, props, schedule, { knob });
        if (r.failure) return r.failure;
      }
      return null;
    },
  };
}
