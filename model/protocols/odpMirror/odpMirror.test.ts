import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckResult, Violation } from '../../../checker/engine.js';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { itfToTrace, parseItf, traceToItf } from '../../../counterexamples/itf.js';
import { replayTrace } from '../../../counterexamples/replay.js';
import type { Trace } from '../../../counterexamples/trace.js';
import { odpMirrorProperties } from './odpMirrorProperties.js';
import { applyRule, enabled, initState } from '../../lang/interp.js';
import { type Model, buildModel } from '../../lang/protocol.js';
import { ODP_ACTORS_PARAMS, ODP_LEGACY_PARAMS, ODP_LIFECYCLE_PARAMS, ODP_VARIANTS, odpMirror } from './odpMirror.js';

type Params = Record<string, string | number>;

/** The safety properties (invariants, step properties, covers) of a built model. */
const safetyOf = (model: Model) => odpMirrorProperties.build(model as never).filter((p) => p.kind !== 'liveness');

const check = (variant: string | null, params: Params = {}, strategy: 'bfs' | 'dfs' = 'bfs') => {
  const model = buildModel(odpMirror, { variant, params });
  const properties = safetyOf(model);
  return { model, properties, result: explicitCheck({ model, properties, limits: {}, strategy }) };
};
const firstViolation = (r: CheckResult): Violation => {
  expect(r.status).toBe('violated');
  if (r.status !== 'violated') throw new Error('not violated');
  return r.violations[0] as Violation;
};

describe('odp-mirror golden reachable-state counts (computed once, pinned)', () => {
  it.each([
    ['default', {}, 278725, 874094, 8],
    ['no atomic accesses', { atomics: 0 }, 180632, 563712, 7],
    ['raw kernel sequence values, no atomics', { seq: 'kernel', atomics: 0 }, 221514, 671408, 7],
    ['write-protect handled by a downgrade', { protect: 'downgrade' }, 301316, 946039, 9],
    ['non-blockable ranges refused at once (mlx5)', { nonblock: 'eagain' }, 258185, 814566, 8],
    ['every actor the default leaves out (size actors)', ODP_ACTORS_PARAMS, 748626, 2122517, 10],
    ['the interval inserted and removed during the run (lifecycle)', ODP_LIFECYCLE_PARAMS, 292629, 933498, 11],
    ['the legacy v4.x umem counters', ODP_LEGACY_PARAMS, 161050, 489026, 7],
  ])('%s %j: %i states, every safety property holds, every cover is reached', (_, params, states, transitions, covers) => {
    const { result } = check(null, params as Params);
    expect(result.status).toBe('ok');
    expect(result.stats.states).toBe(states);
    expect(result.stats.transitions).toBe(transitions);
    if (result.status === 'ok') {
      expect(result.guarantee).toBe('exhaustive');
      expect(result.covers.length).toBe(covers);
      expect(result.covers.filter((c) => !c.reached)).toEqual([]);
    }
  });

  it('DFS visits exactly the same states as BFS', () => {
    expect(check(null, {}, 'dfs').result.stats.states).toBe(278725);
  });
});

/** Variant, the property its shortest counterexample violates, and that counterexample's length. */
const ODP_CAUGHT: readonly (readonly [string, string, number])[] = [
  ['valid-flag', 'no-stale-translation', 17],
  ['end-skipped-after-eagain', 'start-end-paired', 4],
  ['missed-unlock-nonblocking', 'callback-releases-lock', 16],
  ['seq-per-chunk', 'no-stale-translation', 19],
  ['retry-stale-seq', 'no-fault-timeout', 10],
  ['no-secondary-tlb-flush', 'device-matches-shadow', 35],
  ['no-owner-filter', 'no-fault-timeout', 22],
  ['lock-across-read-begin', 'deadlock', 12],
  ['no-set-seq', 'invalidation-complete', 13],
  ['no-read-retry', 'invalidation-complete', 12],
  ['zap-without-drain', 'invalidation-complete', 18],
  ['no-set-page-dirty', 'dirty-before-unmap', 18],
  ['sleep-when-nonblockable', 'nonblocking-callback-never-sleeps', 15],
  // Built at its own params (lifecycle=1): an invalidation elsewhere opens a region, the insert
  // makes the seq odd (partially excluded), the MR is deregistered, remove defers its removal and
  // reads the seq, the final end bumps it and the remover's lockless read returns before the
  // deferred walk: the umem is freed while still in the tree and on the deferred list.
  ['remove-unlocked-seq', 'interval-lifetime', 6],
];

/** Replays a trace state by state through the interpreter (the reference semantics). */
function replaysThroughInterpreter(model: Model, trace: Trace): void {
  const steps = trace.steps;
  let s = initState(model, model.inits[steps[0]!.choice]!);
  expect(Array.from(s)).toEqual(Array.from(steps[0]!.state));
  for (let i = 1; i < steps.length; i++) {
    const inst = model.instances[steps[i]!.choice]!;
    expect(inst.label).toBe(steps[i]!.label);
    expect(enabled(model, inst, s)).toBe(true);
    s = applyRule(model, inst, s);
    expect(Array.from(s)).toEqual(Array.from(steps[i]!.state));
  }
}

describe('every bug variant is caught by its property, with a trace that replays', () => {
  it('the table covers every declared variant', () => {
    expect(ODP_CAUGHT.map(([v]) => v)).toEqual([...ODP_VARIANTS]);
    expect(odpMirror.variants.map((v) => v.name)).toEqual([...ODP_VARIANTS]);
  });

  it.each(ODP_CAUGHT)('%s violates %s in %i steps', (variant, property, length) => {
    const { model, properties, result } = check(variant);
    const v = firstViolation(result);
    expect(v.property).toBe(property);
    const trace = v.trace as Trace;
    expect(trace.steps.length - 1).toBe(length);
    replaysThroughInterpreter(model, trace);
    const rep = replayTrace(model, properties, trace);
    expect(rep.mismatch).toBeNull();
    expect(rep.modelError).toBeNull();
    expect(rep.violation?.property).toBe(property);
    expect(rep.violation?.step).toBe(length);
  });

  it('variants are caught by DFS too', () => {
    for (const [variant] of ODP_CAUGHT) expect(check(variant, {}, 'dfs').result.status).toBe('violated');
  });

  it('the shortest traces of the variants whose step property is the first symptom end with the step that breaks it, whatever rule it is', () => {
    // no-stale-translation is checked on every step that installs a device entry: the install is the
    // UMR's completion, a device step, not a driver rule.
    for (const variant of ['valid-flag', 'seq-per-chunk']) {
      const { result } = check(variant);
      expect((firstViolation(result).trace as Trace).steps.at(-1)?.label).toBe('DevUmrComplete()');
    }
    // dirty-before-unmap is checked on every step that drops a writable DMA mapping.
    expect((firstViolation(check('no-set-page-dirty').result).trace as Trace).steps.at(-1)?.label).toMatch(/^DriverInvalidateUnmap\(i=\d\)$/);
  });

  it('the lock bugs are real deadlocks too: with no property but deadlock checking, the engine finds one', () => {
    for (const variant of ['missed-unlock-nonblocking', 'end-skipped-after-eagain', 'lock-across-read-begin']) {
      const model = buildModel(odpMirror, { variant });
      const v = firstViolation(explicitCheck({ model, properties: [], limits: {} }));
      expect(v.property).toBe('deadlock');
      const rep = replayTrace(model, [], v.trace as Trace);
      expect(rep.violation?.property).toBe('deadlock');
    }
  });

  it('variants that need a size say so (MC005)', () => {
    expect(() => buildModel(odpMirror, { variant: 'seq-per-chunk', params: { pages: 1, frames: 1 } })).toThrow(/does not apply/);
    expect(() => buildModel(odpMirror, { variant: 'no-owner-filter', params: { atomics: 0 } })).toThrow(/does not apply/);
    expect(() => buildModel(odpMirror, { params: { retries: 1, invalidations: 2 } })).toThrow(/retries/);
    expect(() => buildModel(odpMirror, { params: { seq: 'kernel' } })).toThrow(/atomics=0/);
    expect(() => buildModel(odpMirror, { variant: 'missed-unlock-nonblocking', params: { nonblock: 'eagain' } })).toThrow(/does not apply/);
    expect(() => buildModel(odpMirror, { variant: 'seq-per-chunk', params: { intervals: 2 } })).toThrow(/does not apply/);
    expect(() => buildModel(odpMirror, { params: { span: 3 } })).toThrow(/span/);
    expect(() => buildModel(odpMirror, { params: { pages: 1, frames: 1, intervals: 2 } })).toThrow(/intervals/);
    // remove-unlocked-seq is built at lifecycle=1 by its own params; a user's lifecycle=0 wins and is refused.
    expect(buildModel(odpMirror, { variant: 'remove-unlocked-seq' }).params.lifecycle).toBe(1);
    expect(() => buildModel(odpMirror, { variant: 'remove-unlocked-seq', params: { lifecycle: 0 } })).toThrow(/does not apply.*lifecycle=1/);
    expect(() => buildModel(odpMirror, { params: { lifecycle: 1, intervals: 2 } })).toThrow(/lifecycle=1/);
    expect(() => buildModel(odpMirror, { params: { notifier: 'legacy' } })).toThrow(/notifier=legacy needs atomics=0/);
    expect(() => buildModel(odpMirror, { params: { notifier: 'legacy', atomics: 0 } })).toThrow(/nonblock=eagain/);
    // The variants whose knob is on the interval notifier's sequence scheme do not apply to the legacy counters.
    for (const variant of [
      'valid-flag',
      'no-set-seq',
      'no-read-retry',
      'retry-stale-seq',
      'seq-per-chunk',
      'end-skipped-after-eagain',
      'lock-across-read-begin',
    ])
      expect(() => buildModel(odpMirror, { variant, params: ODP_LEGACY_PARAMS })).toThrow(/does not apply/);
  });

  it('the variants that apply to the legacy counters are caught there too', () => {
    for (const [variant, property] of [
      ['zap-without-drain', 'invalidation-complete'],
      ['no-set-page-dirty', 'dirty-before-unmap'],
    ] as const) {
      const v = firstViolation(check(variant, ODP_LEGACY_PARAMS).result);
      expect(v.property).toBe(property);
    }
  });

  it('with lifecycle=1 the sequence bugs are still caught, by the same property (a fault through an interval inserted mid-run is still checked)', () => {
    for (const [variant, property] of ODP_CAUGHT) {
      if (!['no-set-seq', 'no-read-retry', 'retry-stale-seq'].includes(variant)) continue;
      expect(firstViolation(check(variant, ODP_LIFECYCLE_PARAMS).result).property).toBe(property);
    }
  });
});

// ----------------------------------------------------------------------------------------------
// The corpus: one counterexample per variant. `ODP_WRITE_CORPUS=1 npx vitest run <this file>`
// writes the missing files (never overwriting: an existing file that differs fails the test).

const CORPUS = join(import.meta.dirname, 'corpus');

function corpusText(variant: string, model: Model, trace: Trace): string {
  const spec = odpMirror.variants.find((x) => x.name === variant)!;
  const note = `variant ${variant}: ${spec.summary}. Guards against ${spec.cites}.`;
  return `${JSON.stringify(traceToItf({ ...trace, note }, model), null, 2)}\n`;
}

describe('counterexample corpus (model/protocols/odpMirror/corpus)', () => {
  if (process.env.ODP_WRITE_CORPUS === '1') {
    it.each(ODP_CAUGHT)('writes %s.itf.json if missing', (variant) => {
      const { model, result } = check(variant);
      const text = corpusText(variant, model, firstViolation(result).trace as Trace);
      const path = join(CORPUS, `${variant}.itf.json`);
      mkdirSync(CORPUS, { recursive: true });
      if (existsSync(path)) expect(readFileSync(path, 'utf8'), `${path} exists and differs; delete it to regenerate`).toBe(text);
      else writeFileSync(path, text, { flag: 'wx' });
    });
  }

  const files = existsSync(CORPUS)
    ? readdirSync(CORPUS)
        .filter((f) => f.endsWith('.itf.json'))
        .sort()
    : [];
  it('holds one trace per variant', () => {
    expect(files).toEqual(ODP_VARIANTS.map((v) => `${v}.itf.json`).sort());
  });

  it.each(files)('%s replays, still violates its property, and says what it guards against', (f) => {
    const { header, doc } = parseItf(readFileSync(join(CORPUS, f), 'utf8'));
    expect(header.protocol).toBe('odp-mirror');
    expect(`${header.variant}.itf.json`).toBe(f);
    expect(header.note).toMatch(/Guards against/);
    const model = buildModel(odpMirror, { variant: header.variant, params: header.params });
    const trace = itfToTrace(header, doc, model);
    replaysThroughInterpreter(model, trace);
    const rep = replayTrace(model, safetyOf(model), trace);
    expect(rep.mismatch).toBeNull();
    expect(rep.violation?.property).toBe(header.property);
    expect(rep.violation?.step).toBe(trace.steps.length - 1);
    // The saved trace is still the engine's shortest one.
    const row = ODP_CAUGHT.find(([v]) => v === header.variant)!;
    expect([header.property, trace.steps.length - 1]).toEqual([row[1], row[2]]);
  });
});
