import { describe, expect, it } from 'vitest';
import { codeOf } from '../../test/errorCode.js';
import { explicitCheck } from '../../checker/explicit/explicit.js';
import { invariant } from '../../properties/property.js';
import { add, and, count, eq, exists, forall, isSome, lt, none, not, some, unwrap } from './expr.js';
import { applyRule, enabled, initState } from './interp.js';
import { buildModel, defineProtocol, intParam } from './protocol.js';
import { assign, forEach, reset, when } from './stmt.js';
import { arrayOf, bool, enumOf, option, range, record } from './types.js';

describe('build-time errors name the rule', () => {
  const broken = (body: (b: Parameters<Parameters<typeof defineProtocol>[0]['build']>[0]) => void) =>
    defineProtocol({
      name: 'broken',
      summary: '',
      spec: '',
      params: {},
      variants: [],
      build: (b) => {
        body(b);
        b.init('i', () => []);
        return {};
      },
    });
  it('type mismatch', () => {
    const p = broken((b) => {
      const x = b.v('x', bool);
      const n = b.v('n', range(0, 3));
      b.rule('SetX', {}, () => ({ guard: true, body: [assign(x, n)] }));
    });
    expect(codeOf(() => buildModel(p))).toMatch(/^MC010 rule SetX: cannot assign 0\.\.3 to x/);
  });
  it('unknown field', () => {
    const p = broken((b) => {
      const r = b.v('r', record({ a: bool }));
      b.rule('Touch', {}, () => ({ guard: r.f('b'), body: [] }));
    });
    expect(codeOf(() => buildModel(p))).toMatch(/^MC010 rule Touch: r has no field 'b'/);
  });
  it('constant out of range', () => {
    const p = broken((b) => {
      const n = b.v('n', range(0, 3));
      b.rule('Big', {}, () => ({ guard: true, body: [assign(n, 7)] }));
    });
    expect(codeOf(() => buildModel(p))).toMatch(/^MC010 rule Big: constant 7 is out of range/);
  });
  it('unknown enum value and wrong index type', () => {
    const p = broken((b) => {
      const P = b.index('P', 2);
      const Q = b.index('Q', 2);
      const e = b.v('e', arrayOf(P, enumOf('E', ['a', 'b'])));
      b.rule('Bad', { q: Q }, ({ q }) => ({ guard: eq(e.at(q), 'a'), body: [] }));
    });
    expect(codeOf(() => buildModel(p))).toMatch(/^MC010 rule Bad: e is indexed by P, not by Q/);
    const p2 = broken((b) => {
      const e = b.v('e', enumOf('E', ['a', 'b']));
      b.rule('Bad2', {}, () => ({ guard: eq(e, 'c'), body: [] }));
    });
    expect(codeOf(() => buildModel(p2))).toMatch(/^MC010 rule Bad2: 'c' is not a value of enum E/);
  });
});

describe('parameters and variants are validated', () => {
  const p = defineProtocol({
    name: 'counter',
    summary: '',
    spec: '',
    params: { max: intParam(2, 1, 5, 'largest value') },
    variants: [{ name: 'off-by-one', summary: 'counts one too far', cites: 'test' }],
    build(b, cfg) {
      const n = b.v('n', range(0, cfg.int('max')));
      b.init('zero', () => []);
      b.rule('Inc', {}, () => ({ guard: lt(n, cfg.int('max') + (cfg.is('off-by-one') ? 1 : 0)), body: [assign(n, add(n, 1))] }));
      b.endState(() => eq(n, cfg.int('max')));
      return { n };
    },
  });
  it('rejects unknown parameters, bad values and unknown variants with stable codes', () => {
    expect(codeOf(() => buildModel(p, { params: { nope: 1 } }))).toMatch(/^MC003/);
    expect(codeOf(() => buildModel(p, { params: { max: 9 } }))).toMatch(/^MC004/);
    expect(codeOf(() => buildModel(p, { params: { max: 'x' } }))).toMatch(/^MC004/);
    expect(codeOf(() => buildModel(p, { variant: 'nope' }))).toMatch(/^MC002/);
  });
  it('a range overflow while checking is an error with the trace that led to it', () => {
    const model = buildModel(p, { variant: 'off-by-one', params: { max: 3 } });
    const r = explicitCheck({ model, properties: [], limits: {} });
    expect(r.status).toBe('error');
    if (r.status !== 'error') return;
    expect(r.code).toBe('MC011');
    expect(r.message).toMatch(/Inc\(\).*out of range 0\.\.3 assigned to n/);
    expect(r.trace!.steps.map((s) => s.state[0])).toEqual([0, 1, 2, 3]);
  });
  it('end states are not deadlocks; other stuck states are', () => {
    const model = buildModel(p, { params: { max: 2 } });
    expect(explicitCheck({ model, properties: [], limits: {} }).status).toBe('ok');
    const stuck = defineProtocol({
      ...p,
      name: 'stuck',
      build: (b) => {
        b.v('n', range(0, 1));
        b.init('zero', () => []);
        return {};
      },
    });
    const r = explicitCheck({ model: buildModel(stuck), properties: [], limits: {} });
    expect(r.status).toBe('violated');
    if (r.status === 'violated') expect(r.violations[0]!.property).toBe('deadlock');
  });
});

describe('language semantics', () => {
  it('quantifiers, options, records, forEach and sequential assignment', () => {
    const p = defineProtocol({
      name: 'sem',
      summary: '',
      spec: '',
      params: {},
      variants: [],
      build(b) {
        const I = b.index('I', 3);
        const a = b.v('a', arrayOf(I, record({ on: bool, v: range(0, 5) })));
        const o = b.v('o', option(I));
        const c = b.v('c', range(0, 9));
        b.init('i', () => [assign(a.at(1).f('on'), true), assign(a.at(1).f('v'), 4)]);
        b.rule('Go', { i: I }, ({ i }) => ({
          guard: and(a.at(i).f('on'), not(isSome(o))),
          body: [
            assign(o, some(i)),
            assign(
              c,
              count(I, (j) => a.at(j).f('on')),
            ),
            forEach(I, (j) => assign(a.at(j).f('on'), true)),
            assign(
              c,
              add(
                c,
                count(I, (j) => a.at(j).f('on')),
              ),
            ), // sees the forEach above
            when(
              exists(I, (j) => eq(a.at(j).f('v'), 4)),
              assign(a.at(unwrap(o)).f('v'), 5),
            ),
            when(
              forall(I, (j) => a.at(j).f('on')),
              reset(a.at(0)),
            ),
          ],
        }));
        b.rule('Clear', {}, () => ({ guard: isSome(o), body: [assign(o, none)] }));
        return { c };
      },
    });
    const model = buildModel(p);
    const s0 = initState(model, model.inits[0]!);
    const go1 = model.instances.find((x) => x.label === 'Go(i=1)')!;
    expect(enabled(model, go1, s0)).toBe(true);
    expect(model.instances.filter((x) => enabled(model, x, s0)).map((x) => x.label)).toEqual(['Go(i=1)']);
    const s1 = applyRule(model, go1, s0);
    // a[0] reset; a[1] = {on, 5}; a[2].on; o = 1; c = 1 + 3
    expect(Array.from(s1)).toEqual([0, 0, 1, 5, 1, 0, 1, 4]);
    // Go, Clear, Go: the second Go counts two slots on, then adds three: c = 5.
    const r = explicitCheck({ model, properties: [invariant('c-small', 'T-1', 'c stays below 5', lt(model.handles.c, 5))], limits: {} });
    expect(r.status).toBe('violated');
    if (r.status === 'violated') expect(r.violations[0]!.trace!.steps.map((x) => x.label)).toEqual(['init i', 'Go(i=1)', 'Clear()', 'Go(i=1)']);
  });
});
