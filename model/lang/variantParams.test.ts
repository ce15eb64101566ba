/**
 * A variant's own parameter values (`VariantSpec.params`): applied beneath the user's, refused by
 * `appliesTo` when the user overrides them, recorded in the trace so that replay rebuilds the model.
 */
import { describe, expect, it } from 'vitest';
import { explicitCheck } from '../../checker/explicit/explicit.js';
import { itfToTrace, parseItf, traceToItf } from '../../counterexamples/itf.js';
import { replayTrace } from '../../counterexamples/replay.js';
import type { Trace } from '../../counterexamples/trace.js';
import { invariant } from '../../properties/property.js';
import { add, lt, ne, not } from './expr.js';
import { McError } from './errors.js';
import { type ProtocolDef, buildModel, defineProtocol, enumParam, intParam, variantParams, variantProblem } from './protocol.js';
import { assign } from './stmt.js';
import { range } from './types.js';

// A counter that may count past its limit only in the 'overflow' variant, which needs mode=wide (the
// narrow range has no room to show it) and says so with its own params.
const counter = defineProtocol({
  name: 'counter',
  summary: 'a bounded counter',
  spec: '',
  params: { limit: intParam(2, 1, 4, 'largest value allowed'), mode: enumParam('narrow', ['narrow', 'wide'], 'room above the limit') },
  variants: [
    {
      name: 'overflow',
      summary: 'counts one past the limit',
      cites: 'test',
      params: { mode: 'wide' },
      appliesTo: (p) => (p.mode === 'wide' ? null : 'needs mode=wide'),
    },
    { name: 'plain', summary: 'no params of its own', cites: 'test' },
  ],
  build(b, cfg) {
    const limit = cfg.int('limit');
    const room = cfg.str('mode') === 'wide' ? 1 : 0;
    const n = b.v('n', range(0, limit + room));
    b.init('zero', () => [assign(n, 0)]);
    b.rule('Inc', {}, () => ({ guard: lt(n, cfg.is('overflow') ? limit + room : limit), body: [assign(n, add(n, 1))] }));
    b.rule('Reset', {}, () => ({ guard: not(lt(n, limit)), body: [assign(n, 0)] }));
    return { n, limit };
  },
});
const def = counter as ProtocolDef<unknown>;
const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'no error';
  } catch (e) {
    return e instanceof McError ? e.code : String(e);
  }
};

describe("a variant's own parameter values", () => {
  it('apply beneath the defaults: the variant is built at mode=wide, the correct protocol at the default', () => {
    expect(buildModel(counter, { variant: 'overflow' }).params).toEqual({ limit: 2, mode: 'wide' });
    expect(buildModel(counter).params).toEqual({ limit: 2, mode: 'narrow' });
    expect(buildModel(counter, { variant: 'plain' }).params).toEqual({ limit: 2, mode: 'narrow' });
    expect(variantParams(def, 'overflow', { limit: 3 })).toEqual({ limit: 3, mode: 'wide' });
    expect(variantParams(def, null, { limit: 3 })).toEqual({ limit: 3, mode: 'narrow' });
  });

  it("a user's explicit value wins, and appliesTo then refuses the variant with MC005", () => {
    expect(codeOf(() => buildModel(counter, { variant: 'overflow', params: { mode: 'narrow' } }))).toBe('MC005');
    expect(variantProblem(def, 'overflow', { mode: 'narrow' })).toBe('needs mode=wide');
    expect(variantProblem(def, 'overflow')).toBeNull();
    expect(buildModel(counter, { variant: 'overflow', params: { mode: 'wide', limit: 1 } }).params).toEqual({ limit: 1, mode: 'wide' });
    // Bad values and unknown variants are still refused as before.
    expect(codeOf(() => buildModel(counter, { variant: 'overflow', params: { limit: 9 } }))).toBe('MC004');
    expect(codeOf(() => buildModel(counter, { variant: 'nope' }))).toBe('MC002');
    expect(codeOf(() => variantProblem(def, 'nope'))).toBe('MC002');
  });

  it('the trace header records the resolved values, so replay rebuilds the same model and reproduces the violation', () => {
    const model = buildModel(counter, { variant: 'overflow' });
    const props = (m: typeof model) => [invariant('within-limit', 'T1', 'the counter never passes its limit', ne(m.handles.n, m.handles.limit + 1))];
    const r = explicitCheck({ model, properties: props(model), limits: {} });
    expect(r.status).toBe('violated');
    if (r.status !== 'violated') return;
    const { header, doc } = parseItf(JSON.stringify(traceToItf(r.violations[0]?.trace as Trace, model)));
    expect(header.variant).toBe('overflow');
    expect(header.params).toEqual({ limit: 2, mode: 'wide' });
    const again = buildModel(counter, { variant: header.variant, params: header.params });
    const rep = replayTrace(again, props(again), itfToTrace(header, doc, again));
    expect(rep.mismatch).toBeNull();
    expect(rep.violation?.property).toBe('within-limit');
    // The correct protocol at the same values holds.
    const correct = buildModel(counter, { params: header.params });
    expect(explicitCheck({ model: correct, properties: props(correct), limits: {} }).status).toBe('ok');
  });
});
