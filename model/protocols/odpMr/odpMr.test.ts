import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckResult, Violation } from '../../../checker/engine.js';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { itfToTrace, parseItf } from '../../../counterexamples/itf.js';
import { replayTrace } from '../../../counterexamples/replay.js';
import type { Trace } from '../../../counterexamples/trace.js';
import { odpMrProperties } from './odpMrProperties.js';
import { type Property, cover } from '../../../properties/property.js';
import { withRule, withoutWrites } from '../../../test/ruleMutation.js';
import { type Expr, type Ref, and, eq, exists, isSome, ne, not, or } from '../../lang/expr.js';
import { applyRule, enabled, initState } from '../../lang/interp.js';
import { type Model, buildModel } from '../../lang/protocol.js';
import { MR_VARIANTS, type OdpMrHandles, odpMr } from './odpMr.js';

type Params = Record<string, string | number>;

const safetyOf = (model: Model<OdpMrHandles>) => odpMrProperties.build(model).filter((p) => p.kind !== 'liveness');
const build = (variant: string | null, params: Params = {}) => buildModel(odpMr, { variant, params });
const check = (model: Model<OdpMrHandles>, properties: readonly Property[] = safetyOf(model), strategy: 'bfs' | 'dfs' = 'bfs') =>
  explicitCheck({ model, properties, limits: {}, strategy });
const firstViolation = (r: CheckResult): Violation => {
  expect(r.status).toBe('violated');
  if (r.status !== 'violated') throw new Error('not violated');
  return r.violations[0] as Violation;
};
const only = (model: Model<OdpMrHandles>, name: string) => safetyOf(model).filter((p) => p.name === name);

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

describe('odp-mr golden reachable-state counts (computed once, pinned)', () => {
  it.each([
    ['default (implicit, one child of two pages)', {}, 132775, 436550, 51],
    ['implicit, one page', { pages: 1, chunkPages: 1 }, 20752, 66110, 44],
    ['implicit, two one-page children', { pages: 2, chunkPages: 1 }, 120093, 414939, 49],
    ['explicit, two pages', { kind: 'explicit' }, 11813, 36759, 25],
  ])('%s %j: %i states, %i transitions, every safety property holds, every cover is reached', (_, params, states, transitions, depth) => {
    const model = build(null, params as Params);
    const r = check(model);
    expect(r.status).toBe('ok');
    expect([r.stats.states, r.stats.transitions, r.stats.depth]).toEqual([states, transitions, depth]);
    if (r.status === 'ok') {
      expect(r.guarantee).toBe('exhaustive');
      expect(r.covers.length).toBe((params as Params).kind === 'explicit' ? 6 : 8);
      expect(r.covers.filter((c) => !c.reached)).toEqual([]);
    }
  });

  it('DFS visits exactly the same states as BFS', () => {
    expect(check(build(null), undefined, 'dfs').stats.states).toBe(132775);
  });

  it('sizes that cannot work are refused (MC004, MC005)', () => {
    expect(() => build(null, { pages: 3, chunkPages: 2 })).toThrow(/must divide/);
    expect(() => build(null, { pages: 2, chunkPages: 1, children: 1 })).toThrow(/children/);
    expect(() => build(null, { frames: 1 })).toThrow(/frames/);
    expect(() => build('ksm-update-unlocked', { kind: 'explicit' })).toThrow(/does not apply/);
    expect(() => build('prefetch-before-fence', { prefetch: 0 })).toThrow(/does not apply/);
  });
});

/** Variant, the property its shortest counterexample violates, and that counterexample's length. */
const MR_CAUGHT: readonly (readonly [string, string, number])[] = [
  ['prefetch-before-fence', 'mr-lifetime', 4],
  ['umr-on-revoked-mkey', 'no-umr-on-dead-mkey', 15],
  ['revoked-skips-unmap', 'invalidation-complete', 18],
  ['ksm-update-unlocked', 'ksm-matches-children', 15],
  ['child-release-before-ksm-update', 'ksm-names-live-child', 12],
];

describe('every bug variant is caught by its property, with a shortest trace that replays', () => {
  it('the table covers every declared variant, in order', () => {
    expect(MR_CAUGHT.map(([v]) => v)).toEqual([...MR_VARIANTS]);
    expect(odpMr.variants.map((v) => v.name)).toEqual([...MR_VARIANTS]);
  });

  it.each(MR_CAUGHT)('%s violates %s in %i steps', (variant, property, length) => {
    const model = build(variant);
    const properties = safetyOf(model);
    const v = firstViolation(check(model, properties));
    expect(v.property).toBe(property);
    const trace = v.trace as Trace;
    expect(trace.steps.length - 1).toBe(length);
    replaysThroughInterpreter(model, trace);
    const rep = replayTrace(model, properties, trace);
    expect(rep.mismatch).toBeNull();
    expect(rep.modelError).toBeNull();
    expect([rep.violation?.property, rep.violation?.step]).toEqual([property, length]);
  });

  it.each([
    ['prefetch-before-fence', 'mr-lifetime', 4],
    ['umr-on-revoked-mkey', 'no-umr-on-dead-mkey', 10],
    ['revoked-skips-unmap', 'invalidation-complete', 12],
  ])('on an explicit MR, %s violates %s in %i steps', (variant, property, length) => {
    const v = firstViolation(check(build(variant, { kind: 'explicit' })));
    expect([v.property, (v.trace as Trace).steps.length - 1]).toEqual([property, length]);
  });

  it('variants are caught by DFS too', () => {
    for (const [variant] of MR_CAUGHT) expect(check(build(variant), undefined, 'dfs').status).toBe('violated');
  });
});

// ----------------------------------------------------------------------------------------------
// Each property against a model that breaks it: a variant, or a one-step mutation of the correct
// model; and, where the kernel allows a behaviour close to the bug, that behaviour is reachable in
// the correct model without the property flagging it.

const correct = build(null);
const h = correct.handles;
const ruleVar = (model: Model, rule: string, k = 0): Expr => model.rules.find((r) => r.name === rule)!.params[k]!.v;

describe('each safety property catches a model that breaks it', () => {
  const cases: readonly (readonly [string, string, () => Model<OdpMrHandles>])[] = [
    ['invalidation-complete', 'the callback does not DMA-unmap', () => withoutWrites(correct, 'DriverInvalidateFinish', 'shadow')],
    ['invalidation-complete', 'revoked-skips-unmap', () => build('revoked-skips-unmap')],
    [
      'no-stale-translation',
      'set_seq does not mark the faults that read the seq (read_retry never fails)',
      () => withoutWrites(correct, 'DriverInvalidateBegin', 'wk'),
    ],
    [
      'no-dma-to-freed-page',
      'the ZAP completes without waiting for in-flight accesses',
      () => withRule(correct, 'DevCompleteZap', () => ({ guard: eq(h.inv.at(ruleVar(correct, 'DevCompleteZap')).f('pc'), 'zapWait') })),
    ],
    ['no-dma-mapping-of-freed-page', 'revoked-skips-unmap', () => build('revoked-skips-unmap')],
    ['device-matches-shadow', 'the fault maps the page but posts no MTT UMR', () => withoutWrites(correct, 'DriverCommit', 'mtt')],
    ['ksm-matches-children', 'ksm-update-unlocked', () => build('ksm-update-unlocked')],
    ['no-umr-on-dead-mkey', 'umr-on-revoked-mkey', () => build('umr-on-revoked-mkey')],
    ['mr-lifetime', 'prefetch-before-fence', () => build('prefetch-before-fence')],
    [
      'mr-lifetime',
      'the child free does not wait for the usecount',
      () => withRule(correct, 'DriverChildFreeWait', () => ({ guard: eq((h.fw as Ref).at(ruleVar(correct, 'DriverChildFreeWait')), 'wait') })),
    ],
    ['ksm-names-live-child', 'child-release-before-ksm-update', () => build('child-release-before-ksm-update')],
    ['callback-releases-lock', 'the callback returns without unlocking', () => withoutWrites(correct, 'DriverInvalidateFinish', 'mr', 'lock')],
    ['callback-releases-lock', 'the revoke never unlocks', () => withoutWrites(correct, 'DriverRevokeDone', 'mr', 'lock')],
    ['no-access-error', 'child-release-before-ksm-update', () => build('child-release-before-ksm-update')],
  ];
  it.each(cases)('%s catches: %s', (property, _, make) => {
    const model = make();
    const v = firstViolation(check(model, only(model, property)));
    expect(v.property).toBe(property);
    const rep = replayTrace(model, only(model, property), v.trace as Trace);
    expect(rep.violation?.property).toBe(property);
  });

  it('every safety property has a case', () => {
    const names = new Set(cases.map(([p]) => p));
    expect(
      safetyOf(correct)
        .filter((p) => p.kind !== 'cover' && !names.has(p.name))
        .map((p) => p.name),
    ).toEqual([]);
  });
});

describe('behaviours the kernel allows are reachable and not flagged', () => {
  const FW = h.fw as Ref;
  const XA = h.xa as Ref;
  const KSM = h.ksm as Ref;
  const legal: readonly (readonly [string, Expr])[] = [
    // MR-R9: an access fails once destruction has begun (the application used a dying lkey).
    [
      'an access fails after ibv_dereg_mr',
      and(
        exists(h.Slot, (d) => eq(h.acc.at(d).f('state'), 'failed')),
        ne(h.dereg, 'idle'),
      ),
    ],
    // MR-R5: the KSM differs from implicit_children between the xarray change and its locked update.
    ['the KSM differs from implicit_children while an update is owed', exists(h.Chunk, (k) => and(h.pMkey as Ref, ne(KSM.at(k), XA.at(k))))],
    // MR-R5: the MTT differs from the pfn list while the callback holds umem_mutex (ZAP posted, not yet unmapped).
    [
      'the MTT differs from the pfn list inside a callback',
      exists(h.Mr, (m) => exists(h.Page, (p) => and(h.mr.at(m).f('mkey'), ne(h.mtt.at(m).at(p), h.shadow.at(m).at(p))))),
    ],
    // MR-R7: a fault holds a usecount on a child that an invalidation has already unlinked.
    ['a fault holds a child whose free is queued', exists(h.Worker, (w) => and(h.wk.at(w).f('ref'), eq(FW.at(h.wk.at(w).f('mr')), 'wait')))],
    // MR-R4: pages stay DMA mapped after the revoke, until the umem release.
    [
      'a revoked MR still has pages DMA mapped',
      exists(h.Mr, (m) =>
        and(
          not(h.mr.at(m).f('mkey')),
          h.mr.at(m).f('used'),
          exists(h.Page, (p) => isSome(h.shadow.at(m).at(p))),
        ),
      ),
    ],
    // MR-R1: an access is in flight on a page whose invalidation has started (the callback has not returned).
    [
      'an access is in flight while its page is being invalidated',
      exists(h.Inv, (i) =>
        and(
          or(eq(h.inv.at(i).f('pc'), 'cb'), eq(h.inv.at(i).f('pc'), 'zapWait')),
          exists(h.Slot, (d) => and(eq(h.acc.at(d).f('state'), 'inflight'), eq(h.acc.at(d).f('page'), h.inv.at(i).f('page')))),
        ),
      ),
    ],
  ];
  it.each(legal)('%s', (name, pred) => {
    const r = check(correct, [...safetyOf(correct), cover(name.replace(/\W+/g, '-'), 'test', name, pred)]);
    expect(r.status).toBe('ok');
    if (r.status === 'ok') expect(r.covers.every((c) => c.reached)).toBe(true);
  });
});

// ----------------------------------------------------------------------------------------------
// The corpus: one counterexample per variant, written by the CLI
// (`node dist/cli/main.js check odp-mr --variant V --out DIR`, then copied).

const CORPUS = join(import.meta.dirname, 'corpus');

describe('counterexample corpus (model/protocols/odpMr/corpus)', () => {
  const files = readdirSync(CORPUS)
    .filter((f) => f.endsWith('.itf.json'))
    .sort();
  it('holds one trace per variant', () => {
    expect(files).toEqual(MR_VARIANTS.map((v) => `${v}.itf.json`).sort());
  });

  it.each(files)('%s replays, still violates its property, names its bug, and is still the shortest', (f) => {
    const { header, doc } = parseItf(readFileSync(join(CORPUS, f), 'utf8'));
    expect(header.protocol).toBe('odp-mr');
    expect(`${header.variant}.itf.json`).toBe(f);
    const spec = odpMr.variants.find((v) => v.name === header.variant)!;
    expect(header.note).toContain(spec.cites);
    const model = buildModel(odpMr, { variant: header.variant, params: header.params });
    const trace = itfToTrace(header, doc, model);
    replaysThroughInterpreter(model, trace);
    const rep = replayTrace(model, safetyOf(model), trace);
    expect(rep.mismatch).toBeNull();
    expect(rep.violation?.property).toBe(header.property);
    expect(rep.violation?.step).toBe(trace.steps.length - 1);
    const row = MR_CAUGHT.find(([v]) => v === header.variant)!;
    expect([header.property, trace.steps.length - 1]).toEqual([row[1], row[2]]);
  });
});
