/**
 * The random engine on fence-migrate: each bug variant is found with a fixed seed, shrunk to the BFS
 * length, reproducibly, also at a size too large for exhaustive search. Why here: these are
 * fence-migrate's expectations (its variants, its sizes), kept in its package; checker/random tests
 * the engine itself on fixtures and on every built-in protocol from the registry.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEPTH, DEFAULT_RUNS, randomCheck } from '../../../checker/random/random.js';
import { ChoiceRunner } from '../../../checker/random/runChoices.js';
import type { CheckResult } from '../../../checker/engine.js';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { replayTrace } from '../../../counterexamples/replay.js';
import type { Trace } from '../../../counterexamples/trace.js';
import { compileModel } from '../../lang/compile.js';
import { initState } from '../../lang/interp.js';
import { buildModel } from '../../lang/protocol.js';
import { fenceMigrate } from './fenceMigrate.js';
import { fenceMigrateProperties } from './fenceMigrateProperties.js';

const job = (variant: string | null, params: Record<string, string | number> = {}, extra: { seed?: number; runs?: number; depth?: number } = {}) => {
  const model = buildModel(fenceMigrate, { variant, params });
  const properties = fenceMigrateProperties.build(model);
  return {
    model,
    properties,
    job: {
      model,
      properties,
      limits: extra.depth !== undefined ? { depth: extra.depth } : {},
      ...(extra.seed !== undefined ? { seed: extra.seed } : {}),
      ...(extra.runs !== undefined ? { runs: extra.runs } : {}),
    },
  };
};

const traceOf = (r: CheckResult): Trace => {
  if (r.status !== 'violated') throw new Error(`expected a violation, got ${r.status}`);
  const t = r.violations[0]?.trace;
  if (!t) throw new Error('no trace');
  return t;
};

const VARIANTS: [string, string][] = [
  ['unblock-before-update', 'fence'],
  ['fence-without-drain', 'fence'],
  ['unblock-before-copy', 'fence'],
  ['free-before-fence', 'fence'],
  ['no-invalidate', 'fence'],
  ['fence-without-drain', 'zap-and-fault'],
  ['free-before-fence', 'zap-and-fault'],
  ['no-invalidate', 'zap-and-fault'],
];

/** Too large for exhaustive search: BFS explores 16.6 million states to depth 7 in 50 s without finishing. */
const LARGE = { pages: 4, frames: 6, slots: 3, migrations: 4, writes: 6 };

describe('random engine on fence-migrate', () => {
  it.each(VARIANTS)('finds %s (%s) with seed 7; the shrunk trace is as short as the BFS one and replays', (variant, mode) => {
    const { model, properties, job: j } = job(variant, { mode }, { seed: 7 });
    const r = randomCheck(j);
    expect(r.status).toBe('violated');
    if (r.status !== 'violated') return;
    expect(r.guarantee).toBe('sampled');
    const t = traceOf(r);
    const bfs = traceOf(explicitCheck({ model, properties, limits: {} }));
    expect(t.property).toBe(bfs.property);
    expect(t.steps.length).toBe(bfs.steps.length);
    expect(t.engine).toBe('random');
    expect(t.seed).toBe('7');
    const rep = replayTrace(model, properties, t);
    expect(rep.mismatch).toBeNull();
    expect(rep.modelError).toBeNull();
    expect(rep.violation?.property).toBe(t.property);
    expect(rep.violation?.step).toBe(t.steps.length - 1);
  });

  it('the recorded raw choice list reproduces the trace exactly', () => {
    const { model, properties, job: j } = job('unblock-before-copy', {}, { seed: 7 });
    const t = traceOf(randomCheck(j));
    const raw = t.extra?.rawChoices as number[];
    const runner = new ChoiceRunner(compileModel(model, properties), model.layout.nSlots, model.instances.length);
    const taken: number[] = [];
    const out = runner.run(initState(model, model.inits[raw[0] as number]!), raw.slice(1), { checkDeadlock: true, record: (s) => taken.push(s.instance) });
    expect(out.stop).not.toBeNull();
    expect(taken).toEqual(t.steps.slice(1).map((s) => s.choice));
  });

  it('the same seed gives the same trace; another seed still finds the bug; the fast-check path replays it', () => {
    const a = traceOf(randomCheck(job('unblock-before-update', LARGE, { seed: 7 }).job));
    const b = traceOf(randomCheck(job('unblock-before-update', LARGE, { seed: 7 }).job));
    expect(b.steps.map((s) => s.label)).toEqual(a.steps.map((s) => s.label));
    expect(b.steps.map((s) => Array.from(s.state))).toEqual(a.steps.map((s) => Array.from(s.state)));
    expect(b.extra).toEqual(a.extra);
    const c = traceOf(randomCheck(job('unblock-before-update', LARGE, { seed: 12345 }).job));
    expect(c.property).toBe('fence-complete');
    const viaPath = traceOf(randomCheck(job('unblock-before-update', LARGE, { seed: 7 }).job, {}, { path: a.extra?.fcPath as string }));
    expect(viaPath.steps.map((s) => s.label)).toEqual(a.steps.map((s) => s.label));
  });

  it.each(['fence', 'zap-and-fault'])('the correct protocol (%s) is sampled, never proved, and reaches every cover', (mode) => {
    const r = randomCheck(job(null, { mode }, { seed: 7 }).job);
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.guarantee).toBe('sampled');
    expect(r.stats.runs).toBe(DEFAULT_RUNS);
    expect(r.bound).toBe(DEFAULT_DEPTH);
    expect(r.covers.every((c) => c.reached)).toBe(true);
  });

  it('without a seed it draws a fresh one, reports it in the statistics and the trace, and that seed reproduces the trace', () => {
    const first = randomCheck(job('no-invalidate').job);
    const t = traceOf(first);
    expect(Number.isInteger(first.stats.seed)).toBe(true);
    expect(t.seed).toBe(String(first.stats.seed));
    const again = traceOf(randomCheck(job('no-invalidate', {}, { seed: first.stats.seed }).job));
    expect(again.steps.map((s) => s.label)).toEqual(t.steps.map((s) => s.label));
  });

  it('counts sampled runs, their steps and the distinct states they visit apart from shrinking', () => {
    const { model, properties } = job(null);
    const reachable = explicitCheck({ model, properties, limits: {} }).stats.states;
    const ok = randomCheck(job(null, {}, { seed: 7, runs: 300 }).job);
    expect(ok.stats.runs).toBe(300);
    expect(ok.stats.shrinkRuns).toBe(0);
    expect(ok.stats.steps).toBeGreaterThan(ok.stats.states);
    expect(ok.stats.states).toBeGreaterThan(1);
    expect(ok.stats.states).toBeLessThanOrEqual(reachable);
    const bad = randomCheck(job('unblock-before-copy', {}, { seed: 7 }).job);
    expect(bad.status).toBe('violated');
    expect(bad.stats.shrinkRuns).toBeGreaterThan(0);
    expect(bad.stats.runs).toBe(traceOf(bad).extra?.runs);
  });

  it.each(['unblock-before-update', 'fence-without-drain', 'unblock-before-copy', 'free-before-fence', 'no-invalidate'])(
    'finds %s at a size too large for exhaustive search, with a trace no longer than the BFS shortest at the default size',
    (variant) => {
      const small = job(variant);
      const bfsDefault = traceOf(explicitCheck({ model: small.model, properties: small.properties, limits: {} }));
      const { model, properties, job: j } = job(variant, LARGE, { seed: 7 });
      const t = traceOf(randomCheck(j));
      expect(t.steps.length).toBeLessThanOrEqual(bfsDefault.steps.length);
      const rep = replayTrace(model, properties, t);
      expect(rep.mismatch).toBeNull();
      expect(rep.violation?.property).toBe(t.property);
    },
  );
});
