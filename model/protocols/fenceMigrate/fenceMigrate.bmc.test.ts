/**
 * BMC (z3) against explicit BFS on fence-migrate: every mode and variant at small sizes, and the
 * variants at the default size at their pinned BFS lengths. Why here: these are fence-migrate's
 * expectations (its modes, variants and lengths), kept in its package; checker/smt/bmc.test.ts tests
 * the engine itself.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../../checker/engine.js';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { bmcCheck, smtEngine } from '../../../checker/smt/bmc.js';
import { replayPath } from '../../../checker/smt/replay.js';
import { shutdownSmt } from '../../../checker/smt/z3Host.js';
import { type Property, safetyProperties } from '../../../properties/property.js';
import { buildModel } from '../../lang/protocol.js';
import { fenceMigrate } from './fenceMigrate.js';
import { fenceMigrateProperties } from './fenceMigrateProperties.js';

afterAll(async () => {
  await shutdownSmt();
});

const safety = safetyProperties;
const covers = (ps: readonly Property[]) => ps.filter((p) => p.kind === 'cover');

/** Status, and for a counterexample its kind and length: what both engines must agree on. */
function verdict(r: CheckResult): string {
  if (r.status === 'violated') {
    const v = r.violations[0];
    return `violated ${v?.kind === 'deadlock' ? 'deadlock' : 'safety'} ${(v?.trace?.steps.length ?? 0) - 1}`;
  }
  if (r.status === 'error') return `error ${r.code} ${(r.trace?.steps.length ?? 0) - 1}`;
  return r.status;
}

const modes: readonly Record<string, string>[] = [
  { mode: 'fence' },
  { mode: 'fence', order: 'device-first' },
  { mode: 'zap-and-fault' },
  { mode: 'zap-and-fault', fault: 'retry' },
];
const small = { pages: 1, frames: 2, migrations: 1, writes: 1 };

function applicable(params: Record<string, string | number>): { variant: string | null; params: Record<string, string | number> }[] {
  const out: { variant: string | null; params: Record<string, string | number> }[] = [];
  for (const variant of [null, ...fenceMigrate.variants.map((v) => v.name)]) {
    try {
      buildModel(fenceMigrate, { variant, params });
      out.push({ variant, params });
    } catch {
      // the variant does not apply to this mode
    }
  }
  return out;
}

describe('BMC and explicit BFS agree on fence-migrate at small sizes', () => {
  const cases = modes.flatMap((m) => applicable({ ...small, ...m }));
  it.each(cases.map((c) => [`${JSON.stringify(c.params)} ${c.variant ?? 'correct'}`, c] as const))(
    '%s',
    async (_, c) => {
      const model = buildModel(fenceMigrate, c);
      const props = fenceMigrateProperties.build(model);
      const ex = explicitCheck({ model, properties: safety(props), limits: {} });
      // Deep enough to cover every reachable state: BFS depth of the whole space, or the violation.
      const depth = ex.stats.depth + 1;
      const smt = await bmcCheck({ model, properties: [...safety(props), ...covers(props)], limits: { depth } });
      expect(verdict(smt)).toBe(verdict(ex));
      if (ex.status === 'ok' && smt.status === 'ok') {
        expect(smt.bound).toBe(depth);
        // Shortest cover witnesses: the same depths as BFS finds.
        const exCov = explicitCheck({ model, properties: [...safety(props), ...covers(props)], limits: {} });
        expect(exCov.status).toBe('ok');
        if (exCov.status === 'ok') expect(smt.covers.map((x) => x.depth)).toEqual(exCov.covers.map((x) => x.depth));
      }
      if (ex.status === 'violated' && smt.status === 'violated') {
        const t = smt.violations[0]!.trace!;
        expect(t.engine).toBe('smt');
        expect(replayPath(model, { choices: t.steps.map((s) => s.choice), states: t.steps.map((s) => s.state), fromInit: true })).toBeNull();
      }
    },
    60_000,
  );
});

describe('BMC at the default size finds the variants at the BFS lengths', () => {
  // Shortest counterexample lengths measured with explicitCheck (BFS), then pinned.
  const golden: Record<string, number> = {
    'unblock-before-update': 7,
    'fence-without-drain': 4,
    'unblock-before-copy': 7,
    'free-before-fence': 2,
    'no-invalidate': 3,
  };
  it.each(Object.entries(golden))(
    '%s',
    async (variant, len) => {
      const model = buildModel(fenceMigrate, { variant });
      const props = safety(fenceMigrateProperties.build(model));
      const ex = explicitCheck({ model, properties: props, limits: {} });
      expect(verdict(ex)).toBe(`violated safety ${len}`);
      const smt = await smtEngine.run({ model, properties: props, limits: { depth: 10 } });
      expect(verdict(smt)).toBe(`violated safety ${len}`);
      if (smt.status === 'violated' && ex.status === 'violated') {
        expect(smt.guarantee).toBe('bounded');
        expect(smt.violations[0]!.property).toBe(ex.violations[0]!.property);
      }
    },
    60_000,
  );

  it('the correct protocol has no violation within 8 steps', async () => {
    const model = buildModel(fenceMigrate);
    const r = await smtEngine.run({ model, properties: safety(fenceMigrateProperties.build(model)), limits: { depth: 8 } });
    expect(r.status).toBe('ok');
    if (r.status === 'ok') expect([r.guarantee, r.bound]).toEqual(['bounded', 8]);
  }, 60_000);
});
