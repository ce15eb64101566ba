import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { inFreshTmpdir } from '../../test/tmpdir.js';
import { registry } from '../../cli/registry.js';
import { replayTrace } from '../../counterexamples/replay.js';
import { buildModel } from '../../model/lang/protocol.js';
import fenceMigrate from '../../model/protocols/fenceMigrate/index.js';
import odpMirror from '../../model/protocols/odpMirror/index.js';
import type { ProtocolPackage } from '../../properties/package.js';
import type { CheckResult, StoreKind } from '../engine.js';
import { explicitCheck } from './explicit.js';

type Case = { pkg: ProtocolPackage; params: Record<string, string | number>; symmetry: boolean };
/** Sizes chosen for two protocols; every other built-in one is checked at its defaults. */
const chosen = new Map<ProtocolPackage, Case[]>([
  [
    fenceMigrate,
    [
      { pkg: fenceMigrate, params: { migrations: 1 }, symmetry: false },
      { pkg: fenceMigrate, params: { migrations: 1, mode: 'zap-and-fault' }, symmetry: false },
      { pkg: fenceMigrate, params: { pages: 1, frames: 2, slots: 2, migrations: 1 }, symmetry: true },
    ],
  ],
  [odpMirror, [{ pkg: odpMirror, params: { invalidations: 1, retries: 1 }, symmetry: false }]],
]);
/** Every built-in protocol (from the registry), correct and each variant that applies (safety properties); symmetry where the model has a symmetric type. */
const cases: Case[] = registry.flatMap((pkg) => chosen.get(pkg) ?? [{ pkg, params: {}, symmetry: buildModel(pkg.protocol).indexes.some((i) => i.symmetric) }]);

function check(pkg: ProtocolPackage, variant: string | null, params: Record<string, string | number>, symmetry: boolean, store: StoreKind | 'collapse') {
  const model = buildModel(pkg.protocol, { variant, params });
  const properties = pkg.properties.build(model).filter((p) => p.kind !== 'liveness');
  const explicit = store === 'collapse' ? { store: 'exact' as const, collapse: true } : { store, memoryBytes: 2 ** 26 };
  const result = explicitCheck({ model, properties, limits: {}, symmetry, explicit });
  return { model, properties, result };
}

const summary = (r: CheckResult) => ({
  status: r.status,
  states: r.stats.engine === 'explicit' ? r.stats.states : -1,
  transitions: r.stats.engine === 'explicit' ? r.stats.transitions : -1,
  violations: r.status === 'violated' ? r.violations.map((v) => [v.property, v.trace?.steps.length ?? null]) : [],
});

describe('compact stores and the collapsing exact store find what the exact store finds', () => {
  for (const { pkg, params, symmetry } of cases) {
    const variants = [null, ...pkg.protocol.variants.map((v) => v.name)].filter((v) => {
      try {
        buildModel(pkg.protocol, { variant: v, params });
        return true;
      } catch {
        return false;
      }
    });
    it(`${pkg.protocol.name} ${JSON.stringify(params)}${symmetry ? ' with symmetry' : ''}: same verdict, states and shortest traces; traces replay; compact stores never 'exhaustive', collapse always`, () => {
      for (const variant of variants) {
        const exact = check(pkg, variant, params, symmetry, 'exact');
        expect(exact.result.status === 'ok' || exact.result.status === 'violated').toBe(true);
        for (const store of ['hash-compaction', 'bitstate', 'collapse'] as const) {
          const { model, properties, result } = check(pkg, variant, params, symmetry, store);
          expect({ variant, store, ...summary(result) }).toEqual({ variant, store, ...summary(exact.result) });
          if (result.status !== 'ok' && result.status !== 'violated') continue;
          expect(result.guarantee).toBe(store === 'collapse' ? 'exhaustive' : store);
          if (result.status !== 'violated') continue;
          for (const v of result.violations) {
            if (!v.trace) continue;
            const replay = replayTrace(model, properties, v.trace);
            expect(replay.mismatch, `${variant} ${store}`).toBe(null);
            expect(replay.violation?.property ?? null).toBe(v.property);
          }
        }
      }
    });
  }

  it('hash compaction stores at most 8 bytes a state (with the probability of a missed state), bitstate a fixed array', () => {
    // Half a million states: fence-migrate without its zap and failure actors, as a workload.
    const params = { pages: 3, frames: 4, slots: 2, migrations: 2, writes: 3, discards: 0, failures: 0 };
    const hc = check(fenceMigrate, null, params, false, 'hash-compaction').result;
    expect(hc.status).toBe('ok');
    expect(hc.stats.engine === 'explicit' && hc.stats.states).toBe(560909);
    if (hc.stats.engine !== 'explicit') return;
    expect(hc.stats.bytesPerState).toBeLessThanOrEqual(8);
    expect(hc.stats.omissionProbability).toBeGreaterThan(0);
    expect(hc.stats.omissionProbability).toBeLessThan(1e-6);
    const bits = check(fenceMigrate, null, params, false, 'bitstate').result;
    expect(bits.stats.engine === 'explicit' && bits.stats.storeBytes).toBe(2 ** 26);
    expect(bits.stats.engine === 'explicit' && bits.stats.coverage).toBeGreaterThan(0.999);
  });

  it('a compact search without a checkpoint folder leaves no level file behind, whether it passes or finds a violation', async () => {
    await inFreshTmpdir('mc-compact-tmp-', (dir) => {
      expect(tmpdir()).toBe(dir);
      for (const variant of [null, 'free-before-fence']) {
        for (const store of ['hash-compaction', 'bitstate'] as const) {
          const { result } = check(fenceMigrate, variant, { migrations: 1 }, false, store);
          expect([variant, store, result.status]).toEqual([variant, store, variant ? 'violated' : 'ok']);
          expect(readdirSync(dir)).toEqual([]);
        }
      }
    });
  });
});

describe('the bitstate store at its default size', () => {
  it('1 GiB of bits (2^33: positions past 2^32) finds the states and transitions of the exact store on hmm-migrate', () => {
    const pkg = registry.find((p) => p.protocol.name === 'hmm-migrate') as ProtocolPackage;
    const model = buildModel(pkg.protocol);
    const properties = pkg.properties.build(model).filter((p) => p.kind !== 'liveness');
    // A state limit three times the count, so that a store which forgets states ends (incomplete) instead of running on.
    const run = (explicit: { store: StoreKind }) => summary(explicitCheck({ model, properties, limits: { maxStates: 20_000 }, explicit }));
    const exact = run({ store: 'exact' });
    expect(exact.states).toBe(6740);
    expect(run({ store: 'bitstate' })).toEqual(exact);
  });
});
