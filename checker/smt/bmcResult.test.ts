/**
 * What bounded model checking returns besides the verdict, checked against the explicit engine
 * (BFS) where both answer: the depth of every cover, including several first reached at the same
 * depth; the default depth bound when the job gives none (a violation at exactly that depth is
 * found, one step deeper is not); the depth and solver recorded in a counterexample; the figures
 * of a finished search; and a model error in a start state, reported before any query.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { add, eq, lt } from '../../model/lang/expr.js';
import { buildModel, defineProtocol, intParam } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { range } from '../../model/lang/types.js';
import { cover, invariant } from '../../properties/property.js';
import { explicitCheck } from '../explicit/explicit.js';
import { DEFAULT_BMC_DEPTH, bmcCheck, splitProperties } from './bmc.js';
import { shutdownSmt } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

/** a and b count up independently to `max`; `bad-init` starts a out of range. */
const pair = defineProtocol({
  name: 'bmc-pair',
  summary: 'two counters',
  spec: 'checker/smt/bmcResult.test.ts',
  params: { max: intParam(3, 1, 30, 'largest value') },
  variants: [{ name: 'bad-init', summary: 'a starts out of range', cites: 'test' }],
  build(b, cfg) {
    const max = cfg.int('max');
    const a = b.v('a', range(0, max));
    const c = b.v('b', range(0, max));
    b.init('zero', () => (cfg.is('bad-init') ? [assign(a, add(a, max + 1))] : []));
    b.rule('IncA', {}, () => ({ guard: lt(a, max), body: [assign(a, add(a, 1))] }));
    b.rule('IncB', {}, () => ({ guard: lt(c, max), body: [assign(c, add(c, 1))] }));
    b.endState(() => eq(a, max));
    return { a, b: c };
  },
});

describe('covers', () => {
  it('each at its shortest depth, several at the same depth, as BFS finds them', async () => {
    const model = buildModel(pair, { params: { max: 2 } });
    const { a, b } = model.handles;
    const covers = [
      cover('a-2', 'C-1', 'a reaches 2', eq(a, 2)),
      cover('b-2', 'C-2', 'b reaches 2', eq(b, 2)),
      cover('both-1', 'C-3', 'a and b are 1', eq(add(a, b), 2)),
      cover('both-2', 'C-4', 'a and b are 2', eq(add(a, b), 4)),
      cover('a-1', 'C-5', 'a reaches 1', eq(a, 1)),
    ];
    const smt = await bmcCheck({ model, properties: covers, limits: { depth: 4 } });
    const bfs = explicitCheck({ model, properties: covers, limits: {} });
    expect(smt.status).toBe('ok');
    if (smt.status !== 'ok' || bfs.status !== 'ok') throw new Error(`${smt.status} ${bfs.status}`);
    expect(smt.covers).toEqual(bfs.covers);
    expect(smt.covers.map((c) => c.depth)).toEqual([2, 2, 2, 4, 1]);
  }, 60_000);
});

describe('the depth bound', () => {
  it(`is ${DEFAULT_BMC_DEPTH} steps when the job gives none: a violation at exactly that depth is found, one deeper is not`, async () => {
    expect(DEFAULT_BMC_DEPTH).toBe(20);
    const model = buildModel(pair, { params: { max: 25 } });
    const { a, b } = model.handles;
    const at = (k: number) => invariant(`sum-below-${k}`, 'S-1', `a + b stays below ${k}`, lt(add(a, b), k));
    const found = await bmcCheck({ model, properties: [at(20)], limits: {} });
    expect(found.status === 'violated' && found.violations[0]?.trace?.steps.length).toBe(21);
    const missed = await bmcCheck({ model, properties: [at(21)], limits: {} });
    expect(missed.status === 'ok' && [missed.guarantee, missed.bound, missed.stats.depth]).toEqual(['bounded', 20, 20]);
  }, 120_000);
});

describe('a counterexample and the figures', () => {
  it('records the depth and the solver, and the figures say how deep the search went', async () => {
    const model = buildModel(pair);
    const { a } = model.handles;
    const r = await bmcCheck({ model, properties: [invariant('a-below-2', 'S-2', 'a stays below 2', lt(a, 2))], limits: { depth: 5 } });
    expect(r.status).toBe('violated');
    if (r.status !== 'violated') return;
    const t = r.violations[0]?.trace;
    expect(t?.extra).toEqual({ depth: 2, solver: 'z3-wasm' });
    expect(t?.steps.map((s) => s.label)).toEqual(['init zero', 'IncA()', 'IncA()']);
    expect([t?.engine, t?.property, t?.requirement]).toEqual(['smt', 'a-below-2', 'S-2']);
    expect(r.violations[0]?.message).toBe('invariant a-below-2 (S-2) violated: a stays below 2');
    expect(r.guarantee).toBe('bounded');
    expect(r.stats.depth).toBe(1);
    expect(r.stats.queries).toBeGreaterThanOrEqual(2);
    expect(r.stats.engine).toBe('smt');
  }, 60_000);

  it('a model error in a start state is reported before any query, with no trace', async () => {
    const r = await bmcCheck({ model: buildModel(pair, { variant: 'bad-init' }), properties: [], limits: { depth: 3 } });
    expect(r.status).toBe('error');
    if (r.status !== 'error') return;
    expect(r.code).toBe('MC011');
    expect(r.trace).toBeNull();
    expect(r.stats).toEqual({ engine: 'smt', depth: 0, queries: 0, solverMs: 0, elapsedMs: 0 });
  });

  it("splitProperties sorts a job's safety properties by kind and leaves the others out", () => {
    const model = buildModel(pair);
    const { a } = model.handles;
    const inv = invariant('i', 'S-3', 'i', lt(a, 9));
    const cov = cover('c', 'C-6', 'c', eq(a, 1));
    const parts = splitProperties([cov, inv]);
    expect(parts).toEqual({ invariants: [inv], steps: [], covers: [cov] });
  });
});
