/**
 * Conformance of the fence-migrate reference driver on the simulated hardware to the fence-migrate
 * model: the generic check (mirrorcheck/conformance `runConformance`) on this package's system and
 * state mapping.
 */
import type { Model, Property } from 'mirrorcheck';
import { type ConformanceRun, runConformance } from 'mirrorcheck/conformance';
import { type Scheduler, choiceListScheduler } from 'mirrorcheck/harness';
import { modelStateOf, systemConfigFor } from './stateMapping.js';
import { type Damage, MirrorSystem, type SystemConfig } from './system.js';

export interface ConformanceReport extends ConformanceRun {
  /** Concrete damage the harness saw. */
  readonly damage: readonly Damage[];
}

/**
 * Runs the fence-migrate system under `scheduler` (at most `maxSteps` steps) and checks every step
 * against `model`. `config` overrides the system configuration derived from the model (its params
 * and variant), for example to run a driver knob against the correct model.
 */
export function checkConformanceWith(
  model: Model,
  properties: readonly Property[],
  scheduler: Scheduler,
  opts: { maxSteps?: number; config?: Partial<SystemConfig> } = {},
): ConformanceReport {
  const sys = new MirrorSystem({ ...systemConfigFor(model), describeSteps: false, ...opts.config });
  return { ...runConformance(model, properties, scheduler, sys, modelStateOf, opts.maxSteps), damage: sys.damage };
}

/** Runs one schedule given as a choice list (entry i picks action `choices[i] mod n`). */
export function checkConformance(
  model: Model,
  properties: readonly Property[],
  choices: readonly number[],
  opts: { config?: Partial<SystemConfig> } = {},
): ConformanceReport {
  return checkConformanceWith(model, properties, choiceListScheduler(choices), opts);
}
