import { afterAll, describe, expect, it } from 'vitest';
import { count, forall, lt } from '../../model/lang/expr.js';
import { applyRule, enabled, holds, initState } from '../../model/lang/interp.js';
import { encodeState } from '../../model/lang/layout.js';
import { type Model, buildModel } from '../../model/lang/protocol.js';
import { type FenceMigrateHandles, fenceMigrate } from '../../model/protocols/fenceMigrate/fenceMigrate.js';
import { fenceMigrateProperties } from '../../model/protocols/fenceMigrate/fenceMigrateProperties.js';
import { type Invariant, invariant, safetyProperties } from '../../properties/property.js';
import type { UnboundedCti } from './proofResult.js';
import { proveUnbounded } from './proveUnbounded.js';
import { shutdownSmt } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

const safety = safetyProperties;
const configs: readonly Record<string, string>[] = [
  { mode: 'fence' },
  { mode: 'fence', order: 'device-first' },
  { mode: 'zap-and-fault' },
  { mode: 'zap-and-fault', fault: 'retry' },
];

/**
 * Re-checks an unbounded counterexample to induction with the interpreter: builds the model at the
 * counterexample's sizes, runs the rule on the decoded pre-state, and expects the decoded post-state
 * and the named invariant to fail there while every invariant holds before.
 */
function recheck(
  params: Record<string, string | number>,
  cti: UnboundedCti,
  invariants: (m: Model<FenceMigrateHandles>) => Invariant[],
  failing: string,
): void {
  const model = buildModel(fenceMigrate, {
    params: { ...params, pages: cti.sizes.Page!, frames: cti.sizes.Frame!, slots: cti.sizes.Slot! },
  });
  const before = encodeState(model.layout, cti.before as Record<string, never>);
  const after = encodeState(model.layout, cti.after as Record<string, never>);
  if (typeof before === 'string' || typeof after === 'string') throw new Error(`undecodable counterexample: ${before} ${after}`);
  const invs = invariants(model);
  for (const p of invs) expect(holds(model, p.pred, before), p.name).toBe(true);
  const inst = model.instances.find((i) => i.rule.name === cti.rule && i.rule.params.every((p, k) => i.args[k] === cti.args[p.name]))!;
  expect(enabled(model, inst, before)).toBe(true);
  expect(Array.from(applyRule(model, inst, before))).toEqual(Array.from(after));
  expect(holds(model, invs.find((p) => p.name === failing)!.pred, after)).toBe(false);
}

describe('inductive invariants of fence-migrate for every number of pages, frames and slots', () => {
  it.each(configs.map((c) => [JSON.stringify(c), c] as const))(
    'proves the safety properties: %s',
    async (_, params) => {
      const model = buildModel(fenceMigrate, { params });
      const hints = fenceMigrateProperties.proofHints!(model);
      const r = await proveUnbounded(model, safety(fenceMigrateProperties.build(model)), { ...hints, timeLimitSec: 120 });
      expect(r.status).toBe('proved');
      if (r.status !== 'proved') return;
      expect(r.obligations!.every((o) => o.status === 'proved')).toBe(true);
      expect(r.obligations!.length).toBeGreaterThan(50);
      expect(r.notes[0]).toMatch(/Page \(>= 1\), Frame \(>= 1\), Slot \(>= 1\)/);
      expect(r.notes[1]).toMatch(/writes=2/);
    },
    120_000,
  );

  it('the start condition holds in the start state at every size the parameters allow', () => {
    let n = 0;
    for (const params of configs) {
      for (let pages = 1; pages <= 4; pages++) {
        for (let frames = pages + 1; frames <= 6; frames++) {
          for (let slots = 1; slots <= 3; slots++) {
            const model = buildModel(fenceMigrate, { params: { ...params, pages, frames, slots } });
            const { initCondition } = fenceMigrateProperties.proofHints!(model);
            expect(holds(model, initCondition!, initState(model, model.inits[0]!))).toBe(true);
            n++;
          }
        }
      }
    }
    expect(n).toBe(4 * 14 * 3);
  });

  it('a missing strengthening invariant is rejected with a counterexample to induction that the interpreter confirms', async () => {
    const params = { mode: 'fence' };
    const model = buildModel(fenceMigrate, { params });
    const hints = fenceMigrateProperties.proofHints!(model);
    const keep = (m: Model<FenceMigrateHandles>) => [
      ...safety(fenceMigrateProperties.build(m)).filter((p): p is Invariant => p.kind === 'invariant'),
      ...fenceMigrateProperties.proofHints!(m).strengthening.filter((p) => p.name !== 'inflight-dma-targets-data-frame'),
    ];
    const r = await proveUnbounded(model, safety(fenceMigrateProperties.build(model)), {
      strengthening: hints.strengthening.filter((p) => p.name !== 'inflight-dma-targets-data-frame'),
      initCondition: hints.initCondition!,
    });
    expect(r.status).toBe('cti');
    if (r.status !== 'cti') return;
    expect(r.obligations!.some((o) => o.status === 'failed')).toBe(true);
    const m = /^(\w+) preserves ([\w-]+)$/.exec(r.property);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(r.cti!.rule);
    recheck(params, r.cti!, keep, m![2]!);
  }, 120_000);

  it('a buggy variant is not inductive', async () => {
    const model = buildModel(fenceMigrate, { variant: 'unblock-before-update' });
    const r = await proveUnbounded(model, safety(fenceMigrateProperties.build(model)), fenceMigrateProperties.proofHints!(model));
    expect(r.status).toBe('cti');
  }, 120_000);

  it('refuses what has no size-independent meaning; a strengthening invariant false at the start is refuted', async () => {
    const model = buildModel(fenceMigrate);
    const { Page, Slot, blocked } = model.handles;
    const counting = invariant(
      'few-blocked',
      'T-1',
      'uses count',
      lt(
        count(Page, (p) => blocked.at(p)),
        3,
      ),
    );
    const r = await proveUnbounded(model, [counting]);
    expect(r.status === 'error' && r.code).toBe('MC010');
    const impossible = invariant(
      'no-slot',
      'T-2',
      'false for every size',
      forall(Slot, () => false),
    );
    const v = await proveUnbounded(model, [], { strengthening: [impossible], initCondition: fenceMigrateProperties.proofHints!(model).initCondition! });
    // The start state breaks it, so it is refuted before any proof is attempted.
    expect(v.status).toBe('violated');
  }, 60_000);
});
