/**
 * The options and edge cases every engine must honour, on a counter small enough to know every
 * answer: deadlock checking switched off, covers reached (with their shortest depth) or not, step
 * properties, model errors in a start state or a step, bad run parameters (MC030), swarm runs off,
 * and BMC without cover witnesses.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { add, eq, lt, pre } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { range } from '../../model/lang/types.js';
import { type Property, cover, invariant, stepProperty } from '../../properties/property.js';
import type { CheckResult } from '../engine.js';
import { explicitCheck } from '../explicit/explicit.js';
import { bmcCheck } from '../smt/bmc.js';
import { shutdownSmt } from '../smt/z3Host.js';
import { randomCheck } from './random.js';

afterAll(async () => {
  await shutdownSmt();
});

/** n counts to 4 by Inc, or leaps by 2 (Leap); `no-end`: 4 is a deadlock; `bad-init`: the start overflows. */
const counter = defineProtocol({
  name: 'options-counter',
  summary: 'a counter',
  spec: 'checker/random/engineOptions.test.ts',
  params: {},
  variants: [
    { name: 'no-end', summary: '4 is a deadlock', cites: 'test' },
    { name: 'bad-init', summary: 'the start state overflows', cites: 'test' },
    { name: 'overflow', summary: 'Leap overflows at 3', cites: 'test' },
  ],
  build(b, cfg) {
    const n = b.v('n', range(0, 4));
    const start = b.v('start', range(0, 1));
    b.init('zero', () => (cfg.is('bad-init') ? [assign(start, add(start, 2))] : []));
    b.rule('Inc', {}, () => ({ guard: lt(n, 4), body: [assign(n, add(n, 1))] }));
    b.rule('Leap', {}, () => ({ guard: lt(n, cfg.is('overflow') ? 4 : 3), body: [assign(n, add(n, 2))] }));
    if (!cfg.is('no-end')) b.endState(() => eq(n, 4));
    return { n };
  },
});
const model = buildModel(counter);
const noEnd = buildModel(counter, { variant: 'no-end' });
const { n } = model.handles;
const reach3 = cover('reach-3', 'O-1', 'n reaches 3', eq(n, 3));
const never = cover('never', 'O-2', 'n exceeds 4', lt(4, n));
const small = stepProperty(model, 'small-steps', 'O-3', 'every step adds one', null, () => eq(n, add(pre(n), 1)));

const engines: [string, (props: Property[], m?: typeof model, extra?: object) => Promise<CheckResult>][] = [
  ['explicit', async (props, m = model, extra = {}) => explicitCheck({ model: m, properties: props, limits: {}, ...extra })],
  ['random', async (props, m = model, extra = {}) => randomCheck({ model: m, properties: props, limits: { depth: 6 }, runs: 300, ...extra })],
  ['smt', async (props, m = model, extra = {}) => bmcCheck({ model: m, properties: props, limits: { depth: 5 }, ...extra })],
];

describe.each(engines)('%s engine', (_name, run) => {
  it('reports a deadlock unless deadlock checking is off', async () => {
    const r = await run([], noEnd);
    expect(r.status === 'violated' && r.violations[0]?.kind).toBe('deadlock');
    expect((await run([], noEnd, { deadlock: false })).status).toBe('ok');
  });

  it('reports covers reached at their shortest depth, and unreached ones as unreached', async () => {
    const r = await run([reach3, never]);
    expect(r.status === 'violated' || r.status === 'ok').toBe(true);
    if (r.status !== 'ok' && r.status !== 'violated') return;
    expect(r.covers).toEqual([
      { name: 'reach-3', requirement: 'O-1', reached: true, depth: 2 },
      { name: 'never', requirement: 'O-2', reached: false, depth: null },
    ]);
  });

  it('a step property broken by the second kind of step', async () => {
    const r = await run([small]);
    expect(r.status).toBe('violated');
    if (r.status !== 'violated') return;
    const v = r.violations[0]!;
    expect([v.kind, v.property, v.trace?.steps.length]).toEqual(['step', 'small-steps', 2]);
    expect(v.message).toBe('step property small-steps (O-3) violated by Leap(): every step adds one');
  });

  it('a model error in a start state or in a step is an error with code MC011', async () => {
    const bad = await run([], buildModel(counter, { variant: 'bad-init' }));
    expect(bad.status === 'error' && bad.code).toBe('MC011');
    const over = await run([invariant('ok', 'O-4', 'true', true)], buildModel(counter, { variant: 'overflow' }));
    expect(over.status).toBe('error');
    if (over.status !== 'error') return;
    expect(over.code).toBe('MC011');
    expect(over.message).toMatch(/Leap\(\).*out of range 0\.\.4/);
    expect(over.trace?.steps.at(-1)?.state[0]).toBe(3);
    expect(over.trace?.extra?.failingChoice).toBe(1);
  });
});

describe('random engine parameters', () => {
  it('refuses runs, depths and seeds that are not positive integers (MC030)', () => {
    const code = (job: object) => {
      try {
        randomCheck({ model, properties: [], limits: {}, ...job });
        return 'none';
      } catch (e) {
        return (e as { code?: string }).code;
      }
    };
    expect([code({ runs: 0 }), code({ runs: 1.5 }), code({ limits: { depth: 0 } }), code({ seed: 0.5 }), code({ runs: 1 })]).toEqual([
      'MC030',
      'MC030',
      'MC030',
      'MC030',
      'none',
    ]);
  });

  it('runs exactly the runs asked for, with the depth and seed it records; without swarm nothing is held back', () => {
    const r = randomCheck({ model, properties: [], limits: { depth: 3 }, runs: 17, seed: 5 });
    expect(r.status === 'ok' && [r.guarantee, r.stats.runs, r.bound]).toEqual(['sampled', 17, 3]);
    const v = randomCheck({ model, properties: [small], limits: {}, runs: 50 }, {}, { swarm: false });
    expect(v.status === 'violated' && v.violations[0]?.trace?.extra?.swarmHeldBack).toBeUndefined();
    // No seed given: a fresh one, recorded in the statistics and in the trace.
    expect(v.status === 'violated' && v.violations[0]?.trace?.seed).toBe(String(v.stats.seed));
  });
});

describe('BMC options', () => {
  it('without cover witnesses, covers are reported unreached', async () => {
    const r = await bmcCheck({ model, properties: [reach3], limits: { depth: 3 } }, {}, { covers: false });
    expect(r.status === 'ok' && r.covers).toEqual([{ name: 'reach-3', requirement: 'O-1', reached: false, depth: null }]);
  });

  it('a violation in the start state is found at depth 0', async () => {
    const r = await bmcCheck({ model, properties: [invariant('never-zero', 'O-5', 'n is never 0', lt(0, n))], limits: { depth: 3 } });
    expect(r.status === 'violated' && r.violations[0]?.trace?.steps.length).toBe(1);
  });
});
