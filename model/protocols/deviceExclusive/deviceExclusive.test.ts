import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckResult, Violation } from '../../../checker/engine.js';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { randomCheck } from '../../../checker/random/random.js';
import { bmcCheck } from '../../../checker/smt/bmc.js';
import { shutdownSmt } from '../../../checker/smt/z3Host.js';
import { itfToTrace, parseItf } from '../../../counterexamples/itf.js';
import { replayTrace } from '../../../counterexamples/replay.js';
import type { Trace } from '../../../counterexamples/trace.js';
import { deviceExclusiveProperties } from './deviceExclusiveProperties.js';
import { safetyProperties } from '../../../properties/property.js';
import { bruteForce } from '../../../test/bruteForce.js';
import { applyRule, enabled, initState } from '../../lang/interp.js';
import { type Model, buildModel } from '../../lang/protocol.js';
import { DX_VARIANTS, deviceExclusive } from './deviceExclusive.js';

afterAll(async () => {
  await shutdownSmt();
});

type Params = Record<string, string | number>;

/** The safety properties and covers of a built model (liveness is in deviceExclusive.liveness.test.ts). */
const safetyOf = (model: Model, drop: readonly string[] = []) =>
  deviceExclusiveProperties.build(model as never).filter((p) => p.kind !== 'liveness' && !drop.includes(p.name));

const check = (variant: string | null, params: Params = {}, opts: { strategy?: 'bfs' | 'dfs'; drop?: readonly string[] } = {}) => {
  const model = buildModel(deviceExclusive, { variant, params });
  const properties = safetyOf(model, opts.drop);
  return { model, properties, result: explicitCheck({ model, properties, limits: {}, ...(opts.strategy ? { strategy: opts.strategy } : {}) }) };
};
const firstViolation = (r: CheckResult): Violation => {
  expect(r.status).toBe('violated');
  if (r.status !== 'violated') throw new Error('not violated');
  return r.violations[0] as Violation;
};

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

describe('device-exclusive golden reachable-state counts (computed once, pinned)', () => {
  it.each([
    ['default', {}, 381, 654, 22, 4],
    ['two pages, three frames', { pages: 2, frames: 3 }, 874, 1604, 22, 4],
    ['three CPU threads', { cpus: 3 }, 681, 1315, 22, 4],
    ['re-exclusion in place (what-if)', { regrab: 'in-place' }, 420, 734, 24, 4],
  ])('%s %j: %i states, every safety property holds, every cover is reached', (_, params, states, transitions, depth, covers) => {
    const { result } = check(null, params as Params);
    expect(result.status).toBe('ok');
    expect([result.stats.states, result.stats.transitions, result.stats.depth]).toEqual([states, transitions, depth]);
    if (result.status === 'ok') {
      expect(result.guarantee).toBe('exhaustive');
      expect(result.covers.length).toBe(covers);
      expect(result.covers.filter((c) => !c.reached)).toEqual([]);
    }
  });

  it('symmetry reduction over CPU threads (a scalarset): 248 canonical states, the same verdicts and shortest traces', () => {
    const model = buildModel(deviceExclusive);
    const r = explicitCheck({ model, properties: safetyOf(model), limits: {}, symmetry: true });
    expect([r.status, r.stats.states]).toEqual(['ok', 248]);
    const bad = buildModel(deviceExclusive, { variant: 'exclusive-fault-no-ref' });
    const v = firstViolation(explicitCheck({ model: bad, properties: safetyOf(bad), limits: {}, symmetry: true }));
    expect([v.property, (v.trace as Trace).steps.length - 1]).toEqual(['refcount-exact', 6]);
    expect(replayTrace(bad, safetyOf(bad), v.trace as Trace).mismatch).toBeNull();
  });

  it('DFS and the brute-force search over the interpreter find the same states', () => {
    expect(check(null, {}, { strategy: 'dfs' }).result.stats.states).toBe(381);
    const { model, properties } = check(null);
    expect(bruteForce(model, properties)).toEqual({ states: 381, shortest: null });
  });

  it('a quiescent state with every budget spent is a legal end, not a deadlock; a run that stops elsewhere would be one', () => {
    const model = buildModel(deviceExclusive);
    expect(model.endState).not.toBeNull();
    expect(explicitCheck({ model, properties: [], limits: {} }).status).toBe('ok');
  });
});

/** Safety variants: the property the shortest counterexample violates, and its length. */
const DX_SAFETY: readonly (readonly [string, string, number])[] = [
  ['exclusive-fault-no-ref', 'refcount-exact', 6],
  ['filter-ignores-owner', 'atomic-mapping-exclusive', 9],
];

describe('safety variants are caught by the explicit engine with a shortest trace that replays', () => {
  it('the variant list is the declared one; no-owner-filter is the liveness variant (deviceExclusive.liveness.test.ts)', () => {
    expect(deviceExclusive.variants.map((v) => v.name)).toEqual([...DX_VARIANTS]);
    expect([...DX_SAFETY.map(([v]) => v), 'no-owner-filter'].sort()).toEqual([...DX_VARIANTS].sort());
  });

  it.each(DX_SAFETY)('%s violates %s in %i steps', (variant, property, length) => {
    const { model, properties, result } = check(variant);
    const v = firstViolation(result);
    expect(v.property).toBe(property);
    const trace = v.trace as Trace;
    expect(trace.steps.length - 1).toBe(length);
    expect(bruteForce(model, properties).shortest).toBe(length);
    replaysThroughInterpreter(model, trace);
    const rep = replayTrace(model, properties, trace);
    expect(rep.mismatch).toBeNull();
    expect([rep.violation?.property, rep.violation?.step]).toEqual([property, length]);
  });

  it('exclusive-fault-no-ref does the damage of 7c7b962938dd: two threads fault together, one restores, a migration frees the page the other waits on', () => {
    const { result } = check('exclusive-fault-no-ref', {}, { drop: ['refcount-exact'] });
    const v = firstViolation(result);
    const labels = (v.trace as Trace).steps.map((s) => s.label);
    expect([v.property, labels.length - 1]).toEqual(['no-use-of-freed-page', 12]);
    expect(labels.filter((l) => l.startsWith('CpuFaultExclusive')).length).toBe(2);
    expect(labels.slice(-4)).toEqual(['CpuFaultLockPage(c=0)', 'CpuFaultRestorePte(c=0)', 'MmMigrateLock(p=0)', 'MmMigrateMove(t=1)']);
    // With one CPU thread there is nobody left waiting: only the refcount rule is broken.
    expect(check('exclusive-fault-no-ref', { cpus: 1 }, { drop: ['refcount-exact'] }).result.status).toBe('ok');
  });

  it('variants are caught by DFS and at a larger size too', () => {
    for (const [variant, property] of DX_SAFETY) {
      expect(check(variant, {}, { strategy: 'dfs' }).result.status).toBe('violated');
      expect(firstViolation(check(variant, { pages: 2, frames: 3, cpus: 3 }).result).property).toBe(property);
    }
  });

  it('no-owner-filter breaks no safety property: it is a livelock only', () => {
    const { result } = check('no-owner-filter');
    // The device never gets its mapping: only the cover is missed.
    expect(result.status === 'violated' && result.violations.map((v) => [v.kind, v.property])).toEqual([['cover', 'device-atomic-mapped']]);
  });

  it('variants that need a CPU fault say so (MC005)', () => {
    expect(() => buildModel(deviceExclusive, { variant: 'exclusive-fault-no-ref', params: { accesses: 0 } })).toThrow(/does not apply/);
    expect(() => buildModel(deviceExclusive, { params: { pages: 2, frames: 2 } })).toThrow(/frames/);
  });
});

describe('BMC (z3) and the random engine find the safety variants at the BFS length', () => {
  it.each(DX_SAFETY)(
    'BMC: %s, %s in %i steps',
    async (variant, property, length) => {
      const model = buildModel(deviceExclusive, { variant });
      const props = safetyProperties(deviceExclusiveProperties.build(model));
      const r = await bmcCheck({ model, properties: props, limits: { depth: length } });
      expect(r.status).toBe('violated');
      if (r.status !== 'violated') return;
      const v = r.violations[0]!;
      expect([v.property, v.trace!.steps.length - 1, r.guarantee]).toEqual([property, length, 'bounded']);
      const rep = replayTrace(model, props, v.trace!);
      expect(rep.mismatch).toBeNull();
      expect(rep.violation?.property).toBe(property);
    },
    120_000,
  );

  it('BMC: the correct protocol and no-owner-filter have no safety violation within 10 steps', async () => {
    for (const variant of [null, 'no-owner-filter']) {
      const model = buildModel(deviceExclusive, { variant });
      const r = await bmcCheck({ model, properties: safetyProperties(deviceExclusiveProperties.build(model)), limits: { depth: 10 } });
      expect(r.status).toBe('ok');
    }
  }, 120_000);

  it.each(DX_SAFETY)('random (seed 7): %s, %s, shrunk to %i steps', (variant, property, length) => {
    const model = buildModel(deviceExclusive, { variant });
    const properties = safetyOf(model);
    const v = firstViolation(randomCheck({ model, properties, limits: {}, seed: 7 }));
    const t = v.trace as Trace;
    expect([v.property, t.steps.length - 1, t.engine]).toEqual([property, length, 'random']);
    expect(replayTrace(model, properties, t).violation?.property).toBe(property);
  });
});

// ----------------------------------------------------------------------------------------------
// The corpus: one counterexample per variant, written by `mirrorcheck check device-exclusive
// --variant V --out DIR` and copied to model/protocols/deviceExclusive/corpus/V.itf.json (the
// no-owner-filter trace is a lasso; its replay is in deviceExclusive.liveness.test.ts).

const CORPUS = join(import.meta.dirname, 'corpus');

describe('counterexample corpus (model/protocols/deviceExclusive/corpus)', () => {
  const files = existsSync(CORPUS)
    ? readdirSync(CORPUS)
        .filter((f) => f.endsWith('.itf.json'))
        .sort()
    : [];
  it('holds one trace per variant', () => {
    expect(files).toEqual(DX_VARIANTS.map((v) => `${v}.itf.json`).sort());
  });

  it.each(files.filter((f) => f !== 'no-owner-filter.itf.json'))('%s replays and still violates its property', (f) => {
    const { header, doc } = parseItf(readFileSync(join(CORPUS, f), 'utf8'));
    expect([header.protocol, `${header.variant}.itf.json`]).toEqual(['device-exclusive', f]);
    expect(header.note).toMatch(/^variant /);
    const model = buildModel(deviceExclusive, { variant: header.variant, params: header.params });
    const trace = itfToTrace(header, doc, model);
    replaysThroughInterpreter(model, trace);
    const rep = replayTrace(model, safetyOf(model), trace);
    expect(rep.mismatch).toBeNull();
    expect([rep.violation?.property, rep.violation?.step]).toEqual([header.property, trace.steps.length - 1]);
    const row = DX_SAFETY.find(([v]) => v === header.variant)!;
    expect([header.property, trace.steps.length - 1]).toEqual([row[1], row[2]]);
  });
});
