import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../../checker/engine.js';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import type { Trace } from '../../../counterexamples/trace.js';
import { type Property, cover } from '../../../properties/property.js';
import { and, eq, exists, isSome, not } from '../../lang/expr.js';
import { type Model, buildModel } from '../../lang/protocol.js';
import { ODP_ACTORS_PARAMS, type OdpMirrorHandles, odpMirror } from './odpMirror.js';
import { odpMirrorProperties } from './odpMirrorProperties.js';

// The properties restated from the kernel's guarantees (spec/properties.md): S1 per event kind, S2 on
// every device install, S4 with the dirty state, L3 for non-blockable callbacks. For each: a model
// that breaks the guarantee is caught by that property alone, and a legal alternative is not flagged.

type Params = Record<string, string | number>;

const build = (variant: string | null, params: Params = {}) => buildModel(odpMirror, { variant, params }) as Model<OdpMirrorHandles>;
const named = (model: Model<OdpMirrorHandles>, name: string): Property => {
  const p = odpMirrorProperties.build(model).find((x) => x.name === name);
  if (!p) throw new Error(`no property ${name}`);
  return p;
};
const safety = (model: Model<OdpMirrorHandles>) => odpMirrorProperties.build(model).filter((p) => p.kind !== 'liveness');
const check = (model: Model, properties: readonly Property[]): CheckResult => explicitCheck({ model, properties, limits: {} });
/** The property a variant breaks when it is the only one checked (deadlock checking off), and the last step of the trace. */
function caughtAlone(variant: string, property: string, params: Params = {}): { property: string; last: string } {
  const model = build(variant, params);
  const r = explicitCheck({ model, properties: [named(model, property)], limits: {}, deadlock: false });
  if (r.status !== 'violated') throw new Error(`${variant}: ${r.status}`);
  const v = r.violations[0]!;
  return { property: v.property, last: (v.trace as Trace).steps.at(-1)?.label ?? '' };
}
const reached = (model: Model<OdpMirrorHandles>, c: Property) => {
  const r = check(model, [c]);
  return r.status === 'ok' && r.covers.every((x) => x.reached);
};

describe('S1 per event kind (ODP-R1 invalidation-complete)', () => {
  it('a callback that returns before its zap has drained the device is caught', () => {
    expect(caughtAlone('zap-without-drain', 'invalidation-complete').property).toBe('invalidation-complete');
  });

  it('a write-protect event handled by a downgrade (read-only entries kept) is legal: every property holds', () => {
    const model = build(null, { protect: 'downgrade' });
    expect(check(model, safety(model)).status).toBe('ok');
  });

  it('and the downgrade is not vacuous: the device keeps a read-only entry for a page whose write-protect callback has returned', () => {
    const model = build(null, { protect: 'downgrade' });
    const { Inv, Page, inv, dev } = model.handles;
    const kept = cover(
      'read-only-kept-after-protect',
      'test',
      'a returned write-protect callback left a read-only entry',
      exists(Inv, (i) =>
        exists(Page, (q) => and(eq(inv.at(i).f('event'), 'protect'), model.handles.returned(i, q), isSome(dev.at(q).f('frame')), not(dev.at(q).f('write')))),
      ),
    );
    expect(reached(model, kept)).toBe(true);
  });
});

describe('S2 on every install (ODP-R2 no-stale-translation)', () => {
  it('is a step property on every step, tied to no rule', () => {
    const model = build(null);
    const p = named(model, 'no-stale-translation');
    expect(p.kind === 'step' && p.rule).toBeNull();
  });

  it.each([
    ['valid-flag', {}],
    ['seq-per-chunk', {}],
    ['no-read-retry', { prefetch: 1, atomics: 0, invalidators: 1, invalidations: 1, retries: 1 }],
  ])('%s %j: the stale install is caught at the step that makes it, the device applying a UMR', (variant, params) => {
    const r = caughtAlone(variant, 'no-stale-translation', params as Params);
    expect(r).toEqual({ property: 'no-stale-translation', last: 'DevUmrComplete()' });
  });

  it('installs made by a second work item (prefetch) beside the fault handler, in two intervals, are legal: every property holds', () => {
    const model = build(null, ODP_ACTORS_PARAMS);
    expect(check(model, safety(model)).status).toBe('ok');
  });
});

describe('S4 with the dirty state (ODP-R12 dirty-before-unmap)', () => {
  it('an unmap that does not mark the page dirty is caught', () => {
    expect(caughtAlone('no-set-page-dirty', 'dirty-before-unmap')).toEqual({
      property: 'dirty-before-unmap',
      last: expect.stringMatching(/^DriverInvalidateUnmap/),
    });
  });

  it('dropping only write permission (a downgrade) is legal when the page is dirtied first: every property holds', () => {
    const model = build(null, { protect: 'downgrade' });
    expect(check(model, [named(model, 'dirty-before-unmap')]).status).toBe('ok');
  });

  it('the dirty flag is really consumed: writeback after page_mkclean leaves it clean again', () => {
    const model = build(null);
    const { Frame, dirty, inv, Inv } = model.handles;
    const written = cover(
      'dirty-written-back',
      'test',
      'a page_mkclean has written a page back and no page is dirty',
      and(
        exists(Inv, (i) => and(eq(inv.at(i).f('event'), 'protect'), eq(inv.at(i).f('pc'), 'end'))),
        not(exists(Frame, (f) => dirty.at(f))),
      ),
    );
    expect(reached(model, written)).toBe(true);
  });
});

describe('L3 for non-blockable callbacks (ODP-R13 nonblocking-callback-never-sleeps)', () => {
  it('a callback of a non-blockable range that sleeps for the lock and the zap is caught', () => {
    expect(caughtAlone('sleep-when-nonblockable', 'nonblocking-callback-never-sleeps').property).toBe('nonblocking-callback-never-sleeps');
  });

  it.each([
    ['trylock, giving up only when it would have to wait (dmirror)', { nonblock: 'trylock' }],
    ['giving up at once (mlx5)', { nonblock: 'eagain' }],
  ])('%s is legal: every property holds', (_name, params) => {
    const model = build(null, params as Params);
    expect(check(model, safety(model)).status).toBe('ok');
  });

  it('and it is not vacuous: a non-blockable callback finds something mapped and gives up (-EAGAIN) with the lock it took', () => {
    const model = build(null);
    const { Inv, inv } = model.handles;
    expect(
      reached(
        model,
        cover(
          'eagain-after-trylock',
          'test',
          'a non-blockable callback gives up',
          exists(Inv, (i) => eq(inv.at(i).f('pc'), 'eagain')),
        ),
      ),
    ).toBe(true);
  });
});
