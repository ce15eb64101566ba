/**
 * The random engine on small fixtures (deadlock, shrinking, model errors) and on every built-in
 * protocol from the registry. Each protocol's own expectations of the engine (its variants found
 * with a seed, at its sizes) are in its package: model/protocols/<name>/<name>.random.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { registry } from '../../cli/registry.js';
import { replayTrace } from '../../counterexamples/replay.js';
import type { Trace } from '../../counterexamples/trace.js';
import { type Ref, add, lt } from '../../model/lang/expr.js';
import { buildModel, defineProtocol, intParam, variantProblem } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { range } from '../../model/lang/types.js';
import { invariant } from '../../properties/property.js';
import type { CheckResult } from '../engine.js';
import { explicitCheck } from '../explicit/explicit.js';
import { randomCheck } from './random.js';

const traceOf = (r: CheckResult): Trace => {
  if (r.status !== 'violated') throw new Error(`expected a violation, got ${r.status}`);
  const t = r.violations[0]?.trace;
  if (!t) throw new Error('no trace');
  return t;
};

describe('random engine on small fixtures', () => {
  const counter = defineProtocol<{ n: Ref }>({
    name: 'counter',
    summary: 'counts up to a limit and stops',
    spec: 'test',
    params: { max: intParam(3, 1, 8, 'limit'), overflow: intParam(0, 0, 1, '1: the last increment overflows the range') },
    variants: [],
    build(b, cfg) {
      const max = cfg.int('max');
      const n = b.v('n', range(0, max));
      b.init('zero', () => []);
      b.rule('Inc', {}, () => ({ guard: lt(n, max + cfg.int('overflow')), body: [assign(n, add(n, 1))] }));
      return { n };
    },
  });

  it('reports a deadlock, with the trace that leads to it', () => {
    const model = buildModel(counter, { params: { max: 3 } });
    const r = randomCheck({ model, properties: [], limits: {} });
    expect(r.status).toBe('violated');
    const t = traceOf(r);
    expect(t.property).toBe('deadlock');
    expect(t.steps.length - 1).toBe(3);
  });

  it('finds an invariant violation and keeps only the steps it needs', () => {
    const model = buildModel(counter, { params: { max: 6 } });
    const props = [invariant('below-four', 'T-1', 'n stays below 4', lt(model.handles.n, 4))];
    const t = traceOf(randomCheck({ model, properties: props, limits: {}, seed: 3 }));
    expect(t.property).toBe('below-four');
    expect(t.steps.length - 1).toBe(4);
  });

  it('a run-time model error is an error result whose trace leads to it', () => {
    const model = buildModel(counter, { params: { max: 2, overflow: 1 } });
    const r = randomCheck({ model, properties: [], limits: {} });
    expect(r.status).toBe('error');
    if (r.status !== 'error') return;
    expect(r.code).toBe('MC011');
    expect(r.trace?.steps.length).toBe(3);
  });
});

describe('random engine on every built-in protocol (from the registry)', () => {
  it.each(registry.map((pkg) => [pkg.protocol.name, pkg] as const))(
    '%s: the correct protocol at its default size is sampled without a violation, within what the exhaustive search reaches',
    (_, pkg) => {
      const model = buildModel(pkg.protocol);
      const properties = pkg.properties.build(model).filter((p) => p.kind !== 'liveness');
      const r = randomCheck({ model, properties, limits: { depth: 60 }, runs: 300, seed: 7 });
      expect(r.status).toBe('ok');
      if (r.status !== 'ok') return;
      expect(r.guarantee).toBe('sampled');
      const reachable = explicitCheck({ model, properties, limits: {} }).stats.states;
      expect(r.stats.states).toBeGreaterThan(1);
      expect(r.stats.states).toBeLessThanOrEqual(reachable);
    },
  );

  // Every variant whose shortest violation (BFS) breaks a safety property: the random engine finds a
  // violation of a property too, no shorter than the shortest one, and its trace replays.
  const cases = registry.flatMap((pkg) =>
    pkg.protocol.variants.filter((v) => !variantProblem(pkg.protocol, v.name)).map((v) => [`${pkg.protocol.name} ${v.name}`, pkg, v.name] as const),
  );
  it.each(cases)('%s: a violation found is a real one, no shorter than the BFS shortest, and replays', (_, pkg, variant) => {
    const model = buildModel(pkg.protocol, { variant });
    const properties = pkg.properties.build(model).filter((p) => p.kind !== 'liveness');
    const bfs = explicitCheck({ model, properties, limits: {} });
    const r = randomCheck({ model, properties, limits: { depth: 60 }, runs: 500, seed: 7 });
    if (r.status !== 'violated') {
      // Sampling may miss a deep race: that is 'ok' with the sampled guarantee, never a wrong pass.
      expect(r.status).toBe('ok');
      if (r.status === 'ok') expect(r.guarantee).toBe('sampled');
      return;
    }
    expect(bfs.status).toBe('violated');
    const t = traceOf(r);
    const shortest = bfs.status === 'violated' ? (bfs.violations.find((v) => v.trace)?.trace?.steps.length ?? 0) : 0;
    if (bfs.status === 'violated' && bfs.violations.every((v) => v.kind !== 'cover')) expect(t.steps.length).toBeGreaterThanOrEqual(shortest);
    const rep = replayTrace(model, properties, t);
    expect(rep.mismatch).toBeNull();
    expect(rep.violation?.property).toBe(t.property);
  });
});
