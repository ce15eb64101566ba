/**
 * What the explicit engine with liveness returns around the lasso search itself: the safety result
 * alone when there is no liveness property or the safety search did not finish; the liveness
 * phase's figures beside the safety figures (without an engine name of their own); a model error
 * met while building the graph, with the trace that leads to it; a liveness property that cannot be
 * evaluated; the covers of the safety search; and the states-per-second figure of a phase that took
 * no measurable time.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { add, eq, lt, unwrap } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { option, range } from '../../model/lang/types.js';
import { cover, eventually, invariant } from '../../properties/property.js';
import { explicitCheck } from './explicit.js';
import { explicitCheckWithLiveness, livenessCheck } from './liveness.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** n counts 0..3 by Inc (3 is a legal end state); `overflow`: Inc also runs at 3 and overflows. */
const counter = defineProtocol({
  name: 'live-counter',
  summary: 'a counter',
  spec: 'checker/explicit/livenessResult.test.ts',
  params: {},
  variants: [{ name: 'overflow', summary: 'Inc overflows at 3', cites: 'test' }],
  build(b, cfg) {
    const n = b.v('n', range(0, 3));
    const o = b.v('o', option(range(0, 3)));
    b.init('zero', () => []);
    b.rule('Inc', {}, () => ({ guard: lt(n, cfg.is('overflow') ? 4 : 3), body: [assign(n, add(n, 1))] }));
    b.endState(() => eq(n, 3));
    return { n, o };
  },
});
const model = buildModel(counter);
const { n, o } = model.handles;
const reaches3 = eventually('reaches-3', 'L-1', 'n reaches 3', eq(n, 3));
const reaches4 = eventually('reaches-4', 'L-2', 'n reaches 4', eq(n, 4 as never));

describe('explicitCheckWithLiveness', () => {
  it('without a liveness property: the safety result, with no liveness figures', () => {
    const props = [invariant('small', 'S-1', 'n at most 3', lt(n, 4))];
    const r = explicitCheckWithLiveness({ model, properties: props, limits: {} });
    expect(r.status).toBe('ok');
    expect(r.stats).not.toHaveProperty('liveness');
    expect(r.stats.states).toBe(4);
  });

  it('a safety search that stops at a limit, or meets a model error, is returned as it is: no liveness phase', () => {
    const inc = explicitCheckWithLiveness({ model, properties: [reaches3], limits: { maxStates: 2 } });
    expect(inc.status === 'incomplete' && inc.reason).toBe('state limit of 2 reached');
    expect(inc.stats).not.toHaveProperty('liveness');
    const err = explicitCheckWithLiveness({ model: buildModel(counter, { variant: 'overflow' }), properties: [reaches3], limits: {} });
    expect(err.status === 'error' && err.code).toBe('MC011');
    expect(err.stats).not.toHaveProperty('liveness');
  });

  it('with liveness: the liveness figures beside the safety ones, without an engine name; the covers of the safety search', () => {
    const reached = cover('two', 'C-1', 'n reaches 2', eq(n, 2));
    const r = explicitCheckWithLiveness({ model, properties: [reaches3, reached], limits: {} });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.guarantee).toBe('exhaustive');
    expect(r.covers).toEqual([{ name: 'two', requirement: 'C-1', reached: true, depth: 2 }]);
    expect(r.stats.engine).toBe('explicit');
    const live = r.stats.liveness;
    expect(live).toBeDefined();
    expect(live).not.toHaveProperty('engine');
    expect(live).not.toHaveProperty('liveness');
    expect([live?.states, live?.transitions, live?.depth, live?.symmetry, live?.bytesPerState]).toEqual([4, 3, 3, false, null]);
    expect(live?.storeBytes).toBeGreaterThan(0);
  });

  it('a liveness violation after a clean safety search: violated, exhaustive, with the lasso', () => {
    const r = explicitCheckWithLiveness({ model, properties: [reaches4], limits: {} });
    expect(r.status).toBe('violated');
    if (r.status !== 'violated') return;
    expect(r.guarantee).toBe('exhaustive');
    expect(r.violations.map((v) => [v.kind, v.property])).toEqual([['liveness', 'reaches-4']]);
    expect(r.stats.liveness?.states).toBe(4);
  });

  it('a liveness property that raises a model error is an error, with both phases figures', () => {
    const bad = eventually('bad', 'L-3', 'unwraps none', eq(unwrap(o), 1));
    const r = explicitCheckWithLiveness({ model, properties: [bad], limits: {} });
    expect(r.status).toBe('error');
    if (r.status !== 'error') return;
    expect(r.code).toBe('MC011');
    expect(r.message).toMatch(/^evaluating a liveness property: /);
    expect(r.trace).toBeNull();
    expect(r.stats.liveness?.states).toBe(4);
    expect(r.stats.states).toBe(4);
  });
});

describe('livenessCheck on its own', () => {
  it('a model error while building the graph: the trace that leads to the failing state, its message as the note', () => {
    const m = buildModel(counter, { variant: 'overflow' });
    const r = livenessCheck({ model: m, properties: [reaches3], limits: {} });
    expect(r.status).toBe('error');
    if (r.status !== 'error') return;
    expect(r.code).toBe('MC011');
    expect(r.trace?.steps.map((s) => [s.choice, s.label, s.state[0]])).toEqual([
      [0, 'init zero', 0],
      [0, 'Inc()', 1],
      [0, 'Inc()', 2],
      [0, 'Inc()', 3],
    ]);
    expect(r.trace?.note).toBe(r.message);
    expect([r.trace?.engine, r.trace?.property, r.trace?.protocol]).toEqual(['explicit', null, 'live-counter']);
  });

  it("a model error in a start state's own assignments: an error with no trace (there is no state to lead to)", () => {
    // The start state cannot be made (unwrap of none): the graph search stops before storing any state.
    const badStart = defineProtocol({
      name: 'bad-start',
      summary: '',
      spec: 'checker/explicit/livenessResult.test.ts',
      params: {},
      variants: [],
      build(b) {
        const k = b.v('k', range(0, 3));
        const none = b.v('none', option(range(0, 3)));
        b.init('unwraps', () => [assign(k, unwrap(none))]);
        b.rule('Inc', {}, () => ({ guard: lt(k, 3), body: [assign(k, add(k, 1))] }));
        return { k };
      },
    });
    const m = buildModel(badStart);
    const r = livenessCheck({ model: m, properties: [eventually('k3', 'L-4', '', eq(m.handles.k, 3))], limits: {} });
    expect(r.status).toBe('error');
    if (r.status !== 'error') return;
    expect([r.code, r.trace, r.stats.states]).toEqual(['MC011', null, 0]);
  });

  it('ignores properties that are not liveness ones', () => {
    const never = invariant('never', 'S-2', 'n is never 1', lt(1, n));
    expect(livenessCheck({ model, properties: [never, reaches3], limits: {} }).status).toBe('ok');
  });

  it('a phase that took no measurable time reports a thousand times its states per second; otherwise states over seconds', () => {
    vi.spyOn(Date, 'now').mockReturnValue(5_000_000);
    const still = livenessCheck({ model, properties: [reaches3], limits: {} });
    expect([still.stats.elapsedMs, still.stats.statesPerSec]).toEqual([0, 4000]);
    vi.restoreAllMocks();
    let t = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => {
      t += 250;
      return t;
    });
    const r = livenessCheck({ model, properties: [reaches3], limits: {} });
    expect(r.stats.elapsedMs).toBeGreaterThan(0);
    expect(r.stats.statesPerSec).toBe(Math.round((4 * 1000) / r.stats.elapsedMs));
  });

  it('the same states as the safety search', () => {
    expect(livenessCheck({ model, properties: [reaches3], limits: {} }).stats.states).toBe(explicitCheck({ model, properties: [], limits: {} }).stats.states);
  });
});
