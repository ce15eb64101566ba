import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Model, type Property, buildModel, initState, itfToTrace, parseItf } from 'mirrorcheck';
import { type ConformanceOptions, type ConformanceReport, replayOnHarness, runConformance, swarmScheduler } from 'mirrorcheck/conformance';
import { type Scheduler, labelScheduler, ruleName } from 'mirrorcheck/harness';
import { ODP_ACTORS_PARAMS, ODP_LARGE_PARAMS, odpMirror } from '../odpMirror.js';
import { DRIVER_VARIANTS, type DriverVariant } from './knobs.js';
import { odpMirrorProperties } from '../odpMirrorProperties.js';
import { odpMirrorHarness } from './harness.js';
import { WRONG_DRIVER_KNOBS, type WrongDriverKnob } from './knobs.js';
import { seqTriple } from './stateMapping.js';

/** Runs the odp-mirror reference driver under a schedule (a choice list or a scheduler) and checks it against `model`. */
const checkOdpConformance = (model: Model, properties: readonly Property[], schedule: Scheduler | readonly number[], opts: ConformanceOptions = {}) =>
  runConformance(odpMirrorHarness, model, properties, schedule, opts);

const setup = (variant: string | null, params: Record<string, string | number> = {}) => {
  const model = buildModel(odpMirror, { variant, params });
  return { model, properties: odpMirrorProperties.build(model) };
};

/** Swarm schedules (a held-back rule subset and a choice list), fixed seed. */
const swarmSchedules = (names: readonly string[], n: number, seed: number, maxLength = 200) =>
  fc.sample(fc.record({ held: fc.subarray([...names]), choices: fc.array(fc.nat(), { minLength: 1, maxLength, size: 'max' }) }), { numRuns: n, seed });

const explain = (r: ConformanceReport) => JSON.stringify({ failure: r.failure, violation: r.violation, damage: r.damage, labels: r.labels.slice(-30) });

describe('the correct odp-mirror reference driver conforms to the model', () => {
  it('every step of 3000 uniform schedules is a model step or a stutter; properties hold; no damage', () => {
    const { model, properties } = setup(null);
    const rules = new Set<string>();
    let steps = 0;
    let stutters = 0;
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 150, size: 'max' }), (choices) => {
        const r = checkOdpConformance(model, properties, choices);
        steps += r.steps;
        stutters += r.steps - r.modelSteps;
        for (const l of r.matched) if (l) rules.add(ruleName(l));
        if (r.failure || r.violation || r.damage.length) throw new Error(explain(r));
      }),
      { seed: 42, numRuns: 3000 },
    );
    // Not vacuous: long runs, driver steps the model does not see (waits for a UMR, mmget), and the
    // fault path, the callback and the device all matched.
    expect(steps).toBeGreaterThan(3000 * 60);
    expect(stutters).toBeGreaterThan(3000);
    for (const rule of [
      'DriverReadRetry',
      'DriverDmaMap',
      'DriverUmrPost',
      'DevUmrComplete',
      'DriverUnlock',
      'DriverResume',
      'DriverInvalidateLock',
      'MmUpdatePte',
    ])
      expect(rules).toContain(rule);
  });

  it('and over 2000 swarm schedules, which match every rule but the error report of a failed fault', () => {
    const { model, properties } = setup(null);
    const rules = new Set<string>();
    for (const s of swarmSchedules(
      model.rules.map((r) => r.name),
      2000,
      43,
    )) {
      const r = checkOdpConformance(model, properties, swarmScheduler(new Set(s.held), s.choices));
      for (const l of r.matched) if (l) rules.add(ruleName(l));
      if (r.failure || r.violation || r.damage.length) throw new Error(explain(r));
    }
    expect(model.rules.map((x) => x.name).filter((n) => !rules.has(n))).toEqual(['DevReportError']);
  });

  it.each([
    ['large (invalidations=3 retries=3)', ODP_LARGE_PARAMS],
    [
      'slots=2 pages=3 frames=4 invalidators=3, ranges over three pages on two intervals',
      { slots: 2, pages: 3, frames: 4, invalidators: 3, span: 3, intervals: 2 },
    ],
    ['raw kernel sequences (seq=kernel atomics=0)', { seq: 'kernel', atomics: 0 }],
    ['write-protect handled by a downgrade', { protect: 'downgrade' }],
    ['non-blockable ranges refused at once', { nonblock: 'eagain' }],
  ])('also at %s, 500 schedules', (_name, params) => {
    const { model, properties } = setup(null, params);
    for (const ch of fc.sample(fc.array(fc.nat(), { minLength: 1, maxLength: 150, size: 'max' }), { numRuns: 500, seed: 7 })) {
      const r = checkOdpConformance(model, properties, ch);
      if (r.failure || r.violation || r.damage.length) throw new Error(explain(r));
    }
  });

  it('with every actor the default leaves out (size actors): prefetch beside the fault handler, spanning ranges, two intervals, the mm exit', () => {
    const { model, properties } = setup(null, ODP_ACTORS_PARAMS);
    const rules = new Set<string>();
    for (const s of swarmSchedules(
      model.rules.map((r) => r.name),
      1500,
      11,
    )) {
      const r = checkOdpConformance(model, properties, swarmScheduler(new Set(s.held), s.choices));
      for (const l of r.matched) if (l) rules.add(ruleName(l));
      if (r.failure || r.violation || r.damage.length) throw new Error(explain(r));
    }
    // Every rule is matched, the report of a fault failed because the mm died included.
    expect(model.rules.map((x) => x.name).filter((n) => !rules.has(n))).toEqual([]);
  });

  it.each([
    ['default', {}],
    ['large', ODP_LARGE_PARAMS],
    ['slots=2 pages=3 frames=4 invalidators=3', { slots: 2, pages: 3, frames: 4, invalidators: 3 }],
    ['raw kernel sequences (seq=kernel atomics=0)', { seq: 'kernel', atomics: 0 }],
    ['actors', ODP_ACTORS_PARAMS],
  ])("the harness's start state is the model's start state (%s)", (_name, params) => {
    const { model } = setup(null, params);
    expect(model.inits.length).toBe(1);
    const mapped = odpMirrorHarness.stateOf(model, odpMirrorHarness.system(model));
    if (typeof mapped === 'string') throw new Error(`the start state does not map: ${mapped}`);
    expect([...mapped]).toEqual([...initState(model, model.inits[0]!)]);
  });

  it('maps raw sequences to the canonical form of spec 4.3', () => {
    expect(seqTriple(true, 2, 1, null)).toEqual([2, 1, 0]);
    expect(seqTriple(true, 5, 5, 3)).toEqual([3, 3, 1]); // open region has called back; snapshot stale
    expect(seqTriple(true, 6, 5, 5)).toEqual([2, 1, 1]); // quiescent, snapshot current
    expect(seqTriple(true, 6, 5, 3)).toEqual([2, 1, -1]); // quiescent, snapshot stale
    expect(seqTriple(false, 6, 5, 3)).toEqual([6, 5, 3]);
  });

  it('the check is not vacuous: the correct driver is caught against a variant model, and a knob against the correct model', () => {
    const a = setup('no-set-seq');
    const b = setup(null);
    const mism = (m: typeof a, knob: DriverVariant | null) =>
      fc
        .sample(fc.array(fc.nat(), { minLength: 1, maxLength: 150, size: 'max' }), { numRuns: 300, seed: 5 })
        .map((ch) => checkOdpConformance(m.model, m.properties, ch, { knob }).failure)
        .filter((f) => f !== null);
    const f1 = mism(a, null);
    expect(f1.length).toBeGreaterThan(0);
    expect(f1[0]?.kind).toBe('wrong-effect');
    expect(f1[0]?.label).toMatch(/^DriverInvalidateLock/);
    expect(mism(b, 'no-owner-filter').some((f) => f.label === 'DriverExclusiveInvalidate()')).toBe(true);
  });
});

/**
 * What each knob is caught by over 2000 swarm schedules (seed 3) of its variant model: the model
 * properties broken on the mapped states, and the concrete damage the harness saw. Progress bugs
 * show as a fault that never completed (`failed-fault`) or a hang, not as corrupted memory.
 */
const CAUGHT: Record<DriverVariant, { properties: string[]; damage: string[] }> = {
  'valid-flag': { properties: [], damage: [] }, // not reached by random schedules: see the corpus replay test
  'end-skipped-after-eagain': { properties: ['start-end-paired'], damage: ['hung'] },
  // The reaper's callback gives up (and keeps U) only when something is mapped: rarer at random.
  'missed-unlock-nonblocking': { properties: ['callback-releases-lock'], damage: [] },
  'seq-per-chunk': { properties: ['no-stale-translation'], damage: ['freed-frame-access'] },
  'retry-stale-seq': { properties: ['no-fault-timeout'], damage: ['failed-fault'] },
  'no-secondary-tlb-flush': { properties: ['device-matches-shadow'], damage: ['stale-tlb-fault'] },
  'no-owner-filter': { properties: ['no-fault-timeout'], damage: ['failed-fault'] },
  'lock-across-read-begin': { properties: ['deadlock'], damage: ['hung'] },
  'no-set-seq': { properties: ['invalidation-complete', 'no-stale-translation'], damage: ['freed-frame-access', 'lost-write'] },
  'no-read-retry': { properties: ['invalidation-complete', 'no-stale-translation'], damage: ['freed-frame-access'] },
  'zap-without-drain': { properties: ['invalidation-complete'], damage: ['freed-frame-access'] },
  'no-set-page-dirty': { properties: ['dirty-before-unmap'], damage: ['lost-write'] },
  'sleep-when-nonblockable': { properties: ['nonblocking-callback-never-sleeps'], damage: ['sleep-in-nonblocking-callback'] },
};

describe('each bug knob conforms to its variant model, and what catches it', () => {
  it.each(DRIVER_VARIANTS.map((v) => [v]))('%s', (variant) => {
    const { model, properties } = setup(variant);
    const violated = new Set<string>();
    const damage = new Set<string>();
    for (const s of swarmSchedules(
      model.rules.map((r) => r.name),
      2000,
      3,
    )) {
      const r = checkOdpConformance(model, properties, swarmScheduler(new Set(s.held), s.choices));
      if (r.failure) throw new Error(explain(r));
      if (r.violation) violated.add(r.violation.property);
      for (const d of r.damage) damage.add(d.kind);
    }
    const want = CAUGHT[variant];
    expect([...violated].sort()).toEqual([...want.properties].sort());
    expect([...damage].sort()).toEqual([...want.damage].sort());
  });
});

describe('each knob, driven along its variant corpus trace, conforms and breaks the trace property on mapped states', () => {
  const dir = 'model/protocols/odpMirror/corpus';
  // The driver has knobs for the driver variants only (the interval's insert and remove are not in it).
  it.each(
    readdirSync(dir)
      .filter((f) => f.endsWith('.itf.json') && (DRIVER_VARIANTS as readonly string[]).includes(f.replace('.itf.json', '')))
      .map((f) => [f]),
  )('%s', (file) => {
    const { header, doc } = parseItf(readFileSync(join(dir, file), 'utf8'));
    const { model, properties } = setup(header.variant, header.params as Record<string, string | number>);
    const trace = itfToTrace(header, doc, model);
    // The driver steps that follow the trace (found by the replay), scheduled by their labels.
    const path = replayOnHarness(odpMirrorHarness, model, trace, { extend: false });
    expect(path.mismatch).toBeNull();
    const r = checkOdpConformance(model, properties, labelScheduler(path.steps.map((s) => s.record.label)));
    expect(r.failure).toBeNull();
    expect(r.modelSteps).toBe(trace.steps.length - 1);
    expect(r.matched.filter((m) => m !== null)).toEqual(trace.steps.slice(1).map((s) => s.label));
    expect(r.violation?.property).toBe(header.property);
  });
});

/**
 * Drivers that get one kernel call's place wrong, with no model variant: each must be caught by the
 * conformance check against the correct model (a step the model does not allow, a property broken
 * on the mapped states, or damage), in most of 1000 swarm schedules. The first failure's kind and
 * the step it names say where the driver left the model: the step after which its next call is not
 * the one the model's next step makes (a thread's stage is the call it waits at).
 */
const WRONG: Record<WrongDriverKnob | 'no-set-page-dirty' | 'sleep-when-nonblockable', { kind: string; label: RegExp; atLeast: number }> = {
  // After the DMA map its next call is the unlock, where the model posts the UMR with U held.
  'unlock-before-device-write': { kind: 'wrong-effect', label: /^DriverDmaMap\(h=0\)$/, atLeast: 500 },
  // After the UMR post its next call is the resume, where the model waits for the completion.
  'resume-before-umr-complete': { kind: 'wrong-effect', label: /^DriverUmrPost\(h=0\)$/, atLeast: 500 },
  // After the walk its next call is read_retry, where the model takes U first.
  'retry-before-lock': { kind: 'wrong-effect', label: /^DriverWalkSnapshot\(h=0, q=1\)$/, atLeast: 500 },
  // Its unmap leaves the page clean where the model's marks it dirty.
  'no-set-page-dirty': { kind: 'wrong-effect', label: /^DriverInvalidateUnmap\(i=\d\)$/, atLeast: 5 },
  // Its might_sleep report is damage in every run where the OOM reaper calls back.
  'sleep-when-nonblockable': { kind: 'damage', label: /./, atLeast: 400 },
};

describe('wrong drivers are caught: each moves one kernel call, and the correct model rejects it', () => {
  it('the table lists every wrong-driver knob', () => {
    for (const k of WRONG_DRIVER_KNOBS) expect(Object.keys(WRONG)).toContain(k);
  });

  it.each(Object.entries(WRONG))('%s', (knob, want) => {
    const { model, properties } = setup(null);
    let caught = 0;
    const kinds = new Set<string>();
    for (const s of swarmSchedules(
      model.rules.map((r) => r.name),
      1000,
      3,
    )) {
      const r = checkOdpConformance(model, properties, swarmScheduler(new Set(s.held), s.choices), { knob });
      if (!r.failure && !r.violation && r.damage.length === 0) continue;
      caught++;
      if (r.failure) {
        kinds.add(r.failure.kind);
        if (want.kind !== 'damage') expect(r.failure.label).toMatch(want.label);
      }
      if (r.damage.length) kinds.add('damage');
    }
    expect(caught).toBeGreaterThanOrEqual(want.atLeast);
    expect(kinds).toContain(want.kind);
  });

  it('unlock-before-device-write, run free along one schedule, maps a freed frame into the device: the read goes to freed memory', () => {
    const { model } = setup(null);
    const sys = odpMirrorHarness.system(model, { knob: 'unlock-before-device-write' });
    const schedule = [
      'DevIssueRead(d=0, p=0)',
      'DevTranslate(d=0)',
      'DriverTakeFault(d=0)',
      'DriverMmget(h=0)',
      'DriverReadBegin(h=0)',
      'DriverCheckRetry(h=0)',
      'DriverWalkSnapshot(h=0, q=0)',
      'DriverWalkSnapshot(h=0, q=1)',
      'DriverLock(h=0)',
      'DriverReadRetry(h=0)',
      'DriverDmaMap(h=0)',
      // The knob: U is dropped here, with the translation update built but not posted.
      'DriverUnlock(h=0)',
      'MmMadviseStart(i=0, p=0, q=0)',
      'DriverInvalidateLock(i=0)',
      'DriverInvalidateZap(i=0)',
      'DevUmrComplete()',
      'DriverInvalidateUnmap(i=0)',
      'DriverInvalidateUnmap(i=0)',
      'DriverInvalidateUnlock(i=0)',
      'MmUpdatePte(i=0)',
      'MmInvalidateEnd(i=0)',
      // The stale update lands after the zap: page 0 maps freed frame 0 again.
      'DriverUmrPost(h=0)',
      'DevUmrComplete()',
      'DriverUnlock(h=0)',
      'DriverResume()',
      'DevTranslate(d=0)',
      'DevCompleteAccess(d=0)',
    ];
    const s = labelScheduler(schedule);
    for (let k = s.choose(sys.enabled()); k !== null; k = s.choose(sys.enabled())) sys.perform(sys.enabled()[k]!);
    expect(s.used).toBe(schedule.length);
    expect(sys.damage.map((d) => d.kind)).toEqual(['freed-frame-access']);
    expect(sys.damage[0]?.message).toMatch(/device read of page 0 .* read frame 0 after it was freed/);
    // The correct driver cannot take this schedule: its unlock comes after the UMR's completion.
    const ok = odpMirrorHarness.system(model);
    const t = labelScheduler(schedule);
    expect(() => {
      for (let k = t.choose(ok.enabled()); k !== null; k = t.choose(ok.enabled())) ok.perform(ok.enabled()[k]!);
    }).toThrow(/step 12: DriverUnlock\(h=0\) is not enabled/);
  });
});
