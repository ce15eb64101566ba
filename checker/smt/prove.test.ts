import { afterAll, describe, expect, it } from 'vitest';
import { explicitCheck } from '../explicit/explicit.js';
import { forall, not } from '../../model/lang/expr.js';
import { holds } from '../../model/lang/interp.js';
import { buildModel } from '../../model/lang/protocol.js';
import { fenceMigrate } from '../../model/protocols/fenceMigrate/fenceMigrate.js';
import { fenceMigrateProperties } from '../../model/protocols/fenceMigrate/fenceMigrateProperties.js';
import { invariant, safetyProperties } from '../../properties/property.js';
import { prove } from './prove.js';
import { replayPath } from './replay.js';
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

describe('k-induction on fence-migrate', () => {
  it.each(configs.map((c) => [JSON.stringify(c), c] as const))(
    'proves the safety properties at the default size with the strengthening invariants: %s',
    async (_, params) => {
      const model = buildModel(fenceMigrate, { params });
      const hints = fenceMigrateProperties.proofHints!(model);
      // The strengthening invariants are true: explicit search finds them in every reachable state.
      const props = safety(fenceMigrateProperties.build(model));
      expect(explicitCheck({ model, properties: [...props, ...hints.strengthening], limits: {} }).status).toBe('ok');
      const r = await prove(model, props, { maxK: 3, strengthening: hints.strengthening });
      expect(r.status).toBe('proved');
      if (r.status === 'proved') {
        expect(r.k).toBe(1);
        expect(r.properties).toEqual(
          expect.arrayContaining([
            'mirror-coherent',
            'fence-complete',
            'no-dma-to-freed-frame',
            'no-translation-to-freed-frame',
            'no-lost-write',
            'no-stale-dma-read',
            'pte-frame-owned',
          ]),
        );
      }
    },
    60_000,
  );

  it('without strengthening the properties are not 2-inductive: the counterexample to induction replays', async () => {
    const model = buildModel(fenceMigrate);
    const props = safety(fenceMigrateProperties.build(model));
    const r = await prove(model, props, { maxK: 2 });
    expect(r.status).toBe('cti');
    if (r.status !== 'cti') return;
    expect(r.k).toBe(2);
    const t = r.trace!;
    expect(t.steps[0]!.choice).toBe(-1);
    const path = { choices: t.steps.map((s) => s.choice), states: t.steps.map((s) => s.state), fromInit: false };
    expect(replayPath(model, path)).toBeNull();
    // Every state but the last satisfies every invariant; the last breaks the one named.
    const invs = props.filter((p) => p.kind === 'invariant');
    for (const s of t.steps.slice(0, -1)) for (const p of invs) expect(holds(model, p.pred, s.state)).toBe(true);
    // The property named is a safety property; an invariant is broken by the last state (a step
    // property by the last step, which the replay above has re-executed).
    expect(props.map((p) => p.name)).toContain(r.property);
    const broken = invs.find((p) => p.name === r.property);
    if (broken) expect(holds(model, broken.pred, t.steps[t.steps.length - 1]!.state)).toBe(false);
    else expect(props.find((p) => p.name === r.property)?.kind).toBe('step');
    // Such a first state is unreachable: explicit search proves the properties at this size.
    expect(explicitCheck({ model, properties: props, limits: {} }).status).toBe('ok');
  }, 60_000);

  it('a missing strengthening invariant gives a counterexample to induction', async () => {
    const model = buildModel(fenceMigrate);
    const hints = fenceMigrateProperties.proofHints!(model);
    const weakened = hints.strengthening.filter((p) => p.name !== 'inflight-dma-targets-data-frame');
    const r = await prove(model, safety(fenceMigrateProperties.build(model)), { maxK: 1, strengthening: weakened });
    expect(r.status).toBe('cti');
    if (r.status === 'cti') expect(r.trace!.steps).toHaveLength(2);
  }, 60_000);

  it('a false strengthening invariant is refuted by the base case with a real trace, reported as hints that do not fit (not as a violation)', async () => {
    const model = buildModel(fenceMigrate);
    const { blocked, Page } = model.handles;
    const wrong = invariant(
      'never-blocked',
      'T-1',
      'wrong on purpose: DMA is never blocked',
      forall(Page, (p) => not(blocked.at(p))),
    );
    const r = await prove(model, safety(fenceMigrateProperties.build(model)), { maxK: 4, strengthening: [wrong] });
    expect(r.status).toBe('cti');
    if (r.status === 'cti') {
      expect(r.hintFailed).toBe(true);
      expect(r.property).toBe('never-blocked');
      expect(r.message).toMatch(/the hints do not fit/);
      // MmMigrateStart, DriverFenceDma: two steps, as BFS finds.
      const ex = explicitCheck({ model, properties: [wrong], limits: {} });
      expect(ex.status === 'violated' && ex.violations[0]!.trace!.steps.length).toBe(r.trace!.steps.length);
    }
  }, 60_000);

  it('a variant that breaks a hint early and a requirement later reports the requirement (unblock-before-copy: FM-R1 after 6 steps, its BFS length)', async () => {
    const model = buildModel(fenceMigrate, { variant: 'unblock-before-copy' });
    const r = await prove(model, safety(fenceMigrateProperties.build(model)), { strengthening: fenceMigrateProperties.proofHints!(model).strengthening });
    expect(r.status).toBe('violated');
    if (r.status === 'violated') {
      expect(r.violation.property).toBe('mirror-coherent');
      expect(r.violation.trace!.steps.length - 1).toBe(6);
    }
  }, 60_000);

  it('a buggy variant is refuted by the base case at its shortest depth', async () => {
    const model = buildModel(fenceMigrate, { variant: 'free-before-fence' });
    const r = await prove(model, safety(fenceMigrateProperties.build(model)), { maxK: 4 });
    expect(r.status).toBe('violated');
    if (r.status === 'violated') expect(r.violation.trace!.steps.length - 1).toBe(2);
  }, 60_000);
});
