/**
 * Conformance of the odp-mirror reference driver on the simulated hardware to the odp-mirror model.
 * Why this module exists: the model is checked exhaustively, the driver is code; this checks, one
 * schedule at a time, that every step of the code is a step of the model (the same check
 * harness/conformance.ts makes for fence-migrate):
 *
 * - a step with a model label must be an enabled rule instance of that label, and the mapped next
 *   state (harness/odpModelMapping.ts) must equal `applyRule` of that instance on the mapped state;
 * - an internal step must leave the mapped state unchanged;
 * - when the system can do nothing, the model must not be able to either (then it is a deadlock).
 *
 * The model's safety properties (and its step property) are evaluated on the mapped states, and the
 * system's monitor reports concrete damage. A report says what failed first; it never throws for a
 * mismatch. The check is harness/conformance.ts `runConformance`; this module supplies the
 * odp-mirror system and its mapping.
 */
import type { Model, Property } from 'mirrorcheck';
import { type ConformanceRun, runConformance } from 'mirrorcheck/conformance';
import { type Scheduler, choiceListScheduler } from 'mirrorcheck/harness';
import { odpModelStateOf, odpSystemConfigFor } from './stateMapping.js';
import { type OdpDamage, OdpSystem, type OdpSystemConfig } from './system.js';

export interface OdpConformanceReport extends ConformanceRun {
  readonly damage: readonly OdpDamage[];
  /** The system after the run (for reports). */
  readonly system: OdpSystem;
}

/**
 * Runs the system under `scheduler` (at most `maxSteps` steps) and checks every step against
 * `model` (harness/conformance.ts `runConformance`). `config` overrides the system configuration
 * derived from the model (for example a knob run against the correct model).
 */
export function checkOdpConformanceWith(
  model: Model,
  properties: readonly Property[],
  scheduler: Scheduler,
  opts: { maxSteps?: number; config?: Partial<OdpSystemConfig> } = {},
): OdpConformanceReport {
  const sys = new OdpSystem({ ...odpSystemConfigFor(model), ...opts.config });
  return { ...runConformance(model, properties, scheduler, sys, odpModelStateOf, opts.maxSteps), damage: sys.damage, system: sys };
}

/** Runs one schedule given as a choice list (entry i picks action `choices[i] mod n`). */
export function checkOdpConformance(
  model: Model,
  properties: readonly Property[],
  choices: readonly number[],
  opts: { config?: Partial<OdpSystemConfig> } = {},
): OdpConformanceReport {
  return checkOdpConformanceWith(model, properties, choiceListScheduler(choices), opts);
}
