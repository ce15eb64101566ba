import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Model, type Property, buildModel, initState } from 'mirrorcheck';
import { type ConformanceReport, runConformance } from 'mirrorcheck/conformance';
import { fenceMigrate } from '../fenceMigrate.js';
import { fenceMigrateProperties } from '../fenceMigrateProperties.js';
import type { DriverKnob } from './driverOptions.js';
import { fenceMigrateHarness } from './harness.js';

/** One schedule given as a choice list, checked against `model` (with another knob when given). */
const checkConformance = (model: Model, properties: readonly Property[], choices: readonly number[], opts: { knob?: DriverKnob } = {}) =>
  runConformance(fenceMigrateHarness, model, properties, choices, opts);

const setup = (variant: string | null, params: Record<string, string | number> = {}) => {
  const model = buildModel(fenceMigrate, { variant, params });
  return { model, properties: fenceMigrateProperties.build(model) };
};

const schedules = (n: number, seed: number, maxLength = 60) => fc.sample(fc.array(fc.nat(), { minLength: 1, maxLength, size: 'max' }), { numRuns: n, seed });

const MODES: [string, Record<string, string>][] = [
  ['fence', { mode: 'fence' }],
  ['zap-and-fault, fault=atomic', { mode: 'zap-and-fault' }],
  ['zap-and-fault, fault=retry', { mode: 'zap-and-fault', fault: 'retry' }],
];

describe('the correct reference driver conforms to fence-migrate', () => {
  it.each(MODES)('every step of 2000 random schedules is a model step, properties hold, memory is intact (%s)', (_name, params) => {
    const { model, properties } = setup(null, params);
    const steps = new Set<string>();
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 60, size: 'max' }), (choices) => {
        const r = checkConformance(model, properties, choices);
        for (const l of r.labels) steps.add(l.slice(0, l.indexOf('(')));
        if (r.failure || r.violation || r.damage.length) throw new Error(JSON.stringify({ failure: r.failure, violation: r.violation, damage: r.damage }));
      }),
      { seed: 42, numRuns: 2000 },
    );
    // The schedules exercise every rule of the mode (not a vacuous pass): the concurrent zap
    // (MADV_DONTNEED), a failing migrate_vma_pages and the DMA failure after a zap included.
    for (const rule of model.rules) expect(steps).toContain(rule.name);
  });

  it.each(MODES)('also at pages=3 frames=5 slots=2 migrations=3 writes=4 (%s)', (_name, params) => {
    const { model, properties } = setup(null, { ...params, pages: 3, frames: 5, slots: 2, migrations: 3, writes: 4 });
    for (const ch of schedules(300, 9, 80)) {
      const r = checkConformance(model, properties, ch);
      expect(r.failure).toBeNull();
      expect(r.violation).toBeNull();
      expect(r.damage).toEqual([]);
    }
  });

  it('the fault handler retries on a collision and still conforms (fault=retry)', () => {
    const { model, properties } = setup(null, { mode: 'zap-and-fault', fault: 'retry' });
    let retries = 0;
    for (const ch of schedules(2000, 5)) {
      const r = checkConformance(model, properties, ch);
      expect(r.failure).toBeNull();
      r.labels.forEach((l, i) => {
        if (l.startsWith('DriverFaultCommit') && r.labels.slice(i + 1).some((x) => x.startsWith('DriverFaultBegin'))) retries++;
      });
    }
    expect(retries).toBeGreaterThan(0);
  });

  it.each([...MODES, ['fence, pages=3 frames=5 slots=2', { mode: 'fence', pages: 3, frames: 5, slots: 2 }] as const])(
    "the harness's start state is the model's start state (%s)",
    (_name, params) => {
      const { model } = setup(null, params);
      expect(model.inits.length).toBe(1);
      const mapped = fenceMigrateHarness.stateOf(model, fenceMigrateHarness.system(model));
      if (typeof mapped === 'string') throw new Error(`the start state does not map: ${mapped}`);
      expect([...mapped]).toEqual([...initState(model, model.inits[0]!)]);
    },
  );
});

/** Runs `n` schedules and sums up what went wrong. */
function survey(variant: string | null, params: Record<string, string>, n: number, knob?: DriverKnob) {
  const { model, properties } = setup(variant, params);
  const reports: ConformanceReport[] = schedules(n, 11).map((ch) => checkConformance(model, properties, ch, knob ? { knob } : {}));
  return {
    failures: reports.filter((r) => r.failure).map((r) => r.failure!),
    violated: new Set(reports.flatMap((r) => (r.violation ? [r.violation.property] : []))),
    damage: new Set(reports.flatMap((r) => r.damage.map((d) => d.kind))),
  };
}

const KNOBS: [DriverKnob, Record<string, string>, string[]][] = [
  ['unblock-before-update', { mode: 'fence' }, ['mirror-coherent']],
  ['fence-without-drain', { mode: 'fence' }, ['fence-complete']],
  ['fence-without-drain', { mode: 'zap-and-fault' }, ['fence-complete']],
  ['unblock-before-copy', { mode: 'fence' }, ['mirror-coherent']],
  ['free-before-fence', { mode: 'fence' }, ['no-translation-to-freed-frame']],
  ['free-before-fence', { mode: 'zap-and-fault' }, ['no-translation-to-freed-frame']],
  ['no-invalidate', { mode: 'fence' }, ['mirror-coherent']],
  ['no-invalidate', { mode: 'zap-and-fault' }, ['mirror-coherent']],
  // The migration's window closes inside migrate_vma_setup: the device update must check read_retry
  // (a MADV_DONTNEED may have zapped the page since) and migrate_vma_pages' outcome.
  ['update-without-retry', { mode: 'fence' }, ['mirror-coherent']],
  ['update-after-failure', { mode: 'fence' }, ['mirror-coherent']],
];

describe('each bug knob of the reference driver', () => {
  it.each(KNOBS)("%s (%j): its steps are the variant model's, a mapped property breaks, and memory shows concrete damage", (knob, params, props) => {
    const s = survey(knob, params, 800);
    // Every step of the knobbed driver is a step of the variant model (the model's drain, like the
    // HCA's fence, waits only for the page's own DMA, so even after an early free they agree).
    expect(s.failures).toEqual([]);
    for (const p of props) expect(s.violated).toContain(p);
    expect([...s.damage].filter((k) => k !== 'hung-dma').length).toBeGreaterThan(0);
  });

  it.each(KNOBS)('%s (%j) does not conform to the correct model', (knob, params) => {
    const s = survey(null, params, 300, knob);
    expect(s.failures.length + s.violated.size).toBeGreaterThan(0);
  });

  it('never-unblock leaves DMA hung on the blocked page (a deadlock of the model)', () => {
    const s = survey('never-unblock', { mode: 'fence' }, 300);
    expect(s.failures).toEqual([]);
    expect(s.violated).toContain('deadlock');
    expect(s.damage).toContain('hung-dma');
  });

  it('stale-seq-retry conforms to its variant and retries a collision without a fresh read_begin', () => {
    const { model, properties } = setup('stale-seq-retry', { mode: 'zap-and-fault', fault: 'retry' });
    let stale = 0;
    for (const ch of schedules(2000, 5)) {
      const r = checkConformance(model, properties, ch);
      expect(r.failure).toBeNull();
      r.labels.forEach((l, i) => {
        const next = r.labels.slice(i + 1).find((x) => x.startsWith('DriverFault') && x.endsWith(l.slice(l.indexOf('('))));
        if (l.startsWith('DriverFaultCommit') && next?.startsWith('DriverFaultWalk')) stale++;
      });
    }
    expect(stale).toBeGreaterThan(0);
  });
});
