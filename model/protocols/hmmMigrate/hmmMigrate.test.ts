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
import { hmmMigrateProperties } from './hmmMigrateProperties.js';
import { type Property, safetyProperties } from '../../../properties/property.js';
import { bruteForce } from '../../../test/bruteForce.js';
import { applyRule, enabled, initState } from '../../lang/interp.js';
import { type Model, buildModel } from '../../lang/protocol.js';
import { HM_VARIANTS, hmmMigrate } from './hmmMigrate.js';

afterAll(async () => {
  await shutdownSmt();
});

type Params = Record<string, string | number>;

/** The safety properties and covers of a built model (liveness is in hmmMigrate.liveness.test.ts). */
const safetyOf = (model: Model, drop: readonly string[] = []) =>
  hmmMigrateProperties.build(model as never).filter((p) => p.kind !== 'liveness' && !drop.includes(p.name));

const check = (variant: string | null, params: Params = {}, opts: { strategy?: 'bfs' | 'dfs'; drop?: readonly string[] } = {}) => {
  const model = buildModel(hmmMigrate, { variant, params });
  const properties = safetyOf(model, opts.drop);
  return { model, properties, result: explicitCheck({ model, properties, limits: {}, ...(opts.strategy ? { strategy: opts.strategy } : {}) }) };
};
const firstViolation = (r: CheckResult): Violation => {
  expect(r.status).toBe('violated');
  if (r.status !== 'violated') throw new Error('not violated');
  return r.violations[0] as Violation;
};

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

describe('hmm-migrate golden reachable-state counts (computed once, pinned)', () => {
  it.each([
    ['default', {}, 6740, 24542, 20],
    ['two CPU threads', { cpus: 2 }, 18332, 90964, 21],
    ['dirty bit kept in the page flag only (fd35ca3d12cc as merged)', { dirty: 'page' }, 6784, 24678, 20],
    ['dirty bit kept in the migration entry only', { dirty: 'entry' }, 5680, 20298, 20],
  ])('%s %j: %i states, every safety property holds, every cover is reached', (_, params, states, transitions, depth) => {
    const { result } = check(null, params as Params);
    expect(result.status).toBe('ok');
    expect([result.stats.states, result.stats.transitions, result.stats.depth]).toEqual([states, transitions, depth]);
    if (result.status === 'ok') {
      expect(result.guarantee).toBe('exhaustive');
      expect(result.covers.length).toBe(7);
      expect(result.covers.filter((c) => !c.reached)).toEqual([]);
    }
  });

  it('symmetry reduction over CPU threads (a scalarset): 12290 canonical states at cpus=2, the same verdicts and shortest traces', () => {
    const model = buildModel(hmmMigrate, { params: { cpus: 2 } });
    const r = explicitCheck({ model, properties: safetyOf(model), limits: {}, symmetry: true });
    expect([r.status, r.stats.states]).toEqual(['ok', 12290]);
    const b11 = buildModel(hmmMigrate, { variant: 'flush-after-ptl-unlock', params: { cpus: 2 } });
    const v = firstViolation(explicitCheck({ model: b11, properties: safetyOf(b11), limits: {}, symmetry: true }));
    expect([v.property, (v.trace as Trace).steps.length - 1]).toEqual(['tlb-follows-pte', 5]);
    expect(replayTrace(b11, safetyOf(b11), v.trace as Trace).mismatch).toBeNull();
  });

  it('DFS visits exactly the same states as BFS', () => {
    expect(check(null, {}, { strategy: 'dfs' }).result.stats.states).toBe(6740);
  });

  it('the brute-force search over the interpreter finds the same states and no violation', () => {
    const { model, properties } = check(null);
    expect(bruteForce(model, properties)).toEqual({ states: 6740, shortest: null });
  });

  it('actors gated off by their parameters take their covers with them, and the rest still holds', () => {
    const sizes: Params[] = [{ reclaim: 0 }, { pins: 0 }, { zaps: 0 }, { migrations: 0 }, { frames: 1 }, { devframes: 2 }];
    for (const params of sizes) {
      const { result } = check(null, params);
      expect(result.status).toBe('ok');
      if (result.status === 'ok') expect(result.covers.every((c) => c.reached)).toBe(true);
    }
  });
});

/** Variant, the property its shortest counterexample violates, and that counterexample's length. */
const HM_CAUGHT: readonly (readonly [string, string, number])[] = [
  ['flush-after-ptl-unlock', 'tlb-follows-pte', 5],
  ['device-private-fault-no-ref', 'refcount-exact', 6],
  ['dirty-bit-dropped', 'dirty-tracked', 3],
  ['map-without-retry', 'device-mapping-coherent', 6],
];

describe('every bug variant is caught by the explicit engine with a shortest trace that replays', () => {
  it('the table covers every declared variant, in order', () => {
    expect(HM_CAUGHT.map(([v]) => v)).toEqual([...HM_VARIANTS]);
    expect(hmmMigrate.variants.map((v) => v.name)).toEqual([...HM_VARIANTS]);
  });

  it.each(HM_CAUGHT)('%s violates %s in %i steps', (variant, property, length) => {
    const { model, properties, result } = check(variant);
    const v = firstViolation(result);
    expect(v.property).toBe(property);
    const trace = v.trace as Trace;
    expect(trace.steps.length - 1).toBe(length);
    // The naive search over the interpreter agrees that no shorter violation exists.
    expect(bruteForce(model, properties).shortest).toBe(length);
    replaysThroughInterpreter(model, trace);
    const rep = replayTrace(model, properties, trace);
    expect(rep.mismatch).toBeNull();
    expect(rep.modelError).toBeNull();
    expect([rep.violation?.property, rep.violation?.step]).toEqual([property, length]);
  });

  it('variants are caught by DFS and with two CPU threads too', () => {
    for (const [variant, property] of HM_CAUGHT) {
      expect(check(variant, {}, { strategy: 'dfs' }).result.status).toBe('violated');
      expect(firstViolation(check(variant, { cpus: 2 }).result).property).toBe(property);
    }
  });

  it('variants that need an actor say so (MC005)', () => {
    expect(() => buildModel(hmmMigrate, { variant: 'flush-after-ptl-unlock', params: { zaps: 0 } })).toThrow(/does not apply/);
    expect(() => buildModel(hmmMigrate, { variant: 'map-without-retry', params: { zaps: 0 } })).toThrow(/does not apply/);
    expect(() => buildModel(hmmMigrate, { variant: 'dirty-bit-dropped', params: { migrations: 0 } })).toThrow(/does not apply/);
  });
});

describe('each variant does concrete damage, not only a broken rule of the protocol', () => {
  // With the structural property that catches it first removed, each variant still loses a write,
  // returns stale data, or uses a freed page.
  it.each([
    ['flush-after-ptl-unlock', ['tlb-follows-pte'], 'cpu-read-sees-last-write', 7],
    ['flush-after-ptl-unlock', ['tlb-follows-pte', 'cpu-read-sees-last-write'], 'content-preserved', 7],
    ['device-private-fault-no-ref', ['refcount-exact'], 'no-use-of-freed-page', 8],
    ['dirty-bit-dropped', ['dirty-tracked'], 'content-preserved', 6],
    ['dirty-bit-dropped', ['dirty-tracked', 'content-preserved'], 'cpu-read-sees-last-write', 8],
    ['map-without-retry', ['device-mapping-coherent'], 'no-use-of-freed-page', 7],
    ['map-without-retry', ['device-mapping-coherent', 'no-use-of-freed-page', 'content-preserved'], 'device-read-sees-last-write', 9],
  ] as const)('%s without %j: %s in %i steps', (variant, drop, property, length) => {
    const { model, properties, result } = check(variant, {}, { drop });
    const v = firstViolation(result);
    expect([v.property, (v.trace as Trace).steps.length - 1]).toEqual([property, length]);
    expect(replayTrace(model, properties, v.trace as Trace).violation?.property).toBe(property);
  });
});

describe('legal alternatives are not flagged', () => {
  it('keeping the dirty bit in the page flag only, or in the migration entry only, is correct; dropping it from both is not', () => {
    for (const dirty of ['page', 'entry']) {
      expect(check(null, { dirty }).result.status).toBe('ok');
      expect(firstViolation(check('dirty-bit-dropped', { dirty }).result).property).toBe('dirty-tracked');
    }
  });

  it('a racing MADV_DONTNEED may lose a store made while it runs: only stores after it returns must survive', () => {
    // The correct protocol never lets a stale TLB entry survive the zap, so the leniency during the
    // call is never needed there; the B11 trace shows it is not a loophole (the loss is caught once
    // madvise has returned).
    const { result } = check('flush-after-ptl-unlock', {}, { drop: ['tlb-follows-pte', 'cpu-read-sees-last-write'] });
    const labels = (firstViolation(result).trace as Trace).steps.map((s) => s.label);
    expect(labels.slice(-2)).toEqual(['MmZapEnd()', 'CpuWrite(c=0)']);
  });
});

// ----------------------------------------------------------------------------------------------
// The other engines find the same bugs.

describe('BMC (z3) finds every variant at the BFS length, and nothing in the correct protocol', () => {
  it.each(HM_CAUGHT)(
    '%s: %s in %i steps',
    async (variant, property, length) => {
      const model = buildModel(hmmMigrate, { variant });
      const props = safetyProperties(hmmMigrateProperties.build(model));
      const r = await bmcCheck({ model, properties: props, limits: { depth: length } });
      expect(r.status).toBe('violated');
      if (r.status !== 'violated') return;
      expect(r.guarantee).toBe('bounded');
      const v = r.violations[0]!;
      expect([v.property, v.trace!.steps.length - 1]).toEqual([property, length]);
      expect(v.trace!.engine).toBe('smt');
      const rep = replayTrace(model, props, v.trace!);
      expect(rep.mismatch).toBeNull();
      expect([rep.violation?.property, rep.violation?.step]).toEqual([property, length]);
    },
    120_000,
  );

  it('the correct protocol has no violation within 7 steps', async () => {
    const model = buildModel(hmmMigrate);
    const r = await bmcCheck({ model, properties: safetyProperties(hmmMigrateProperties.build(model)), limits: { depth: 7 } });
    expect(r.status).toBe('ok');
    if (r.status === 'ok') expect([r.guarantee, r.bound]).toEqual(['bounded', 7]);
  }, 120_000);
});

describe('the random engine finds every variant, shrunk to the BFS length', () => {
  it.each(HM_CAUGHT)('%s (seed 7)', (variant, property, length) => {
    const model = buildModel(hmmMigrate, { variant });
    const properties = safetyOf(model);
    const r = randomCheck({ model, properties, limits: {}, seed: 7 });
    const v = firstViolation(r);
    expect(r.status === 'violated' && r.guarantee).toBe('sampled');
    const t = v.trace as Trace;
    expect([v.property, t.steps.length - 1, t.engine]).toEqual([property, length, 'random']);
    const rep = replayTrace(model, properties, t);
    expect(rep.mismatch).toBeNull();
    expect(rep.violation?.property).toBe(property);
  });

  it('finds nothing in the correct protocol (sampled, not a proof)', () => {
    const model = buildModel(hmmMigrate);
    const r = randomCheck({ model, properties: safetyOf(model), limits: {}, seed: 7, runs: 300 });
    expect(r.status).toBe('ok');
    if (r.status === 'ok') expect(r.guarantee).toBe('sampled');
  });
});

// ----------------------------------------------------------------------------------------------
// The corpus: one counterexample per variant, written by `mirrorcheck check hmm-migrate --variant V
// --out DIR` and copied to model/protocols/hmmMigrate/corpus/V.itf.json.

const CORPUS = join(import.meta.dirname, 'corpus');

describe('counterexample corpus (model/protocols/hmmMigrate/corpus)', () => {
  const files = existsSync(CORPUS)
    ? readdirSync(CORPUS)
        .filter((f) => f.endsWith('.itf.json'))
        .sort()
    : [];
  it('holds one trace per variant', () => {
    expect(files).toEqual(HM_VARIANTS.map((v) => `${v}.itf.json`).sort());
  });

  it.each(files)('%s replays, still violates its property, and says what it guards against', (f) => {
    const { header, doc } = parseItf(readFileSync(join(CORPUS, f), 'utf8'));
    expect(header.protocol).toBe('hmm-migrate');
    expect(`${header.variant}.itf.json`).toBe(f);
    expect(header.note).toMatch(/^variant /);
    const model = buildModel(hmmMigrate, { variant: header.variant, params: header.params });
    const trace = itfToTrace(header, doc, model);
    replaysThroughInterpreter(model, trace);
    const rep = replayTrace(model, safetyOf(model) as readonly Property[], trace);
    expect(rep.mismatch).toBeNull();
    expect(rep.violation?.property).toBe(header.property);
    expect(rep.violation?.step).toBe(trace.steps.length - 1);
    // The saved trace is still the engine's shortest one.
    const row = HM_CAUGHT.find(([v]) => v === header.variant)!;
    expect([header.property, trace.steps.length - 1]).toEqual([row[1], row[2]]);
  });
});
