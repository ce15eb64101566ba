import { describe, expect, it } from 'vitest';
import { registry } from '../../cli/registry.js';
import { buildModel } from '../../model/lang/protocol.js';
import fenceMigrate from '../../model/protocols/fenceMigrate/index.js';
import odpMirror from '../../model/protocols/odpMirror/index.js';
import type { ProtocolPackage } from '../../properties/package.js';
import type { CheckResult, ExplicitOptions } from '../engine.js';
import { explicitRun } from './explicit.js';

/** A check with the explicit options given (safety properties). */
async function run(pkg: ProtocolPackage, variant: string | null, params: Record<string, string | number>, explicit: ExplicitOptions, symmetry = false) {
  const model = buildModel(pkg.protocol, { variant, params });
  const properties = pkg.properties.build(model).filter((p) => p.kind !== 'liveness');
  return explicitRun({ model, properties, limits: {}, symmetry, explicit });
}

const figures = (r: CheckResult) => ({
  status: r.status,
  states: r.stats.engine === 'explicit' ? r.stats.states : -1,
  transitions: r.stats.engine === 'explicit' ? r.stats.transitions : -1,
  depth: r.stats.engine === 'explicit' ? r.stats.depth : -1,
  covers: 'covers' in r ? r.covers : [],
  violations: r.status === 'violated' ? r.violations.map((v) => [v.property, v.trace?.steps.length ?? null]) : [],
});

describe('worker threads', () => {
  it('three threads store exactly the states, transitions and cover depths of one (exact store, with and without symmetry)', async () => {
    const params = { pages: 3, frames: 4, slots: 2, migrations: 1, writes: 2 };
    for (const symmetry of [false, true]) {
      const one = await run(fenceMigrate, null, params, { workers: 1 }, symmetry);
      const three = await run(fenceMigrate, null, params, { workers: 3, parallelFrom: 64 }, symmetry);
      expect(figures(three)).toEqual(figures(one));
      expect(three.stats.engine === 'explicit' && three.stats.workers).toBe(3);
      // The worker threads did take part (they start while the first levels are expanded).
      expect(three.stats.engine === 'explicit' && three.stats.workerShare).toBeGreaterThan(0);
    }
  });

  it('three threads over a collapsing exact store store exactly what one thread without collapse stores, with and without symmetry', async () => {
    const params = { pages: 3, frames: 4, slots: 2, migrations: 1, writes: 2 };
    for (const symmetry of [false, true]) {
      const plain = await run(fenceMigrate, null, params, { workers: 1 }, symmetry);
      const three = await run(fenceMigrate, null, params, { workers: 3, parallelFrom: 64, collapse: true }, symmetry);
      expect(figures(three)).toEqual(figures(plain));
      expect(three.stats.engine === 'explicit' && three.stats.workerShare).toBeGreaterThan(0);
    }
    // A violation under threads and collapse: the same shortest traces as one plain thread.
    const bug = { pages: 2, frames: 3, slots: 1, migrations: 2, writes: 2 };
    const plainBug = await run(fenceMigrate, 'free-before-fence', bug, { workers: 1 });
    const twoBug = await run(fenceMigrate, 'free-before-fence', bug, { workers: 2, parallelFrom: 64, collapse: true });
    expect(plainBug.status).toBe('violated');
    expect(figures(twoBug)).toEqual(figures(plainBug));
  });

  it('with compact stores too', async () => {
    const params = { pages: 3, frames: 4, slots: 1, migrations: 2, writes: 2 };
    for (const store of ['hash-compaction', 'bitstate'] as const) {
      const one = await run(fenceMigrate, null, params, { workers: 1, store, memoryBytes: 2 ** 24 });
      const two = await run(fenceMigrate, null, params, { workers: 2, store, memoryBytes: 2 ** 24, parallelFrom: 64 });
      expect(figures(two)).toEqual(figures(one));
      expect(two.stats.engine === 'explicit' && two.stats.workerShare).toBeGreaterThan(0);
    }
  });

  it("one shard of two, exact store and bitstate: two threads store exactly the states of one (the worker thread's bitstate set uses the shard's seed)", async () => {
    const params = { pages: 3, frames: 4, slots: 2, migrations: 1, writes: 2 };
    const shard = { index: 1, count: 2 };
    for (const x of [{ store: 'exact' }, { store: 'bitstate', memoryBytes: 2 ** 26 }] as const) {
      const one = await run(fenceMigrate, null, params, { workers: 1, shard, ...x });
      const two = await run(fenceMigrate, null, params, { workers: 2, parallelFrom: 64, shard, ...x });
      expect({ store: x.store, ...figures(two) }).toEqual({ store: x.store, ...figures(one) });
      expect(two.stats.engine === 'explicit' && two.stats.workerShare).toBeGreaterThan(0);
    }
  });

  it('under partial-order reduction too (the reduced graph does not depend on thread timing)', async () => {
    const one = await run(odpMirror, null, {}, { workers: 1, por: true });
    const two = await run(odpMirror, null, {}, { workers: 2, por: true, parallelFrom: 64 });
    expect(figures(two)).toEqual(figures(one));
    // The reduction was on (the split odp-mirror model has few independent steps, so it may store as many states as the full search).
    const full = await run(odpMirror, null, {}, { workers: 1 });
    expect(one.stats.engine === 'explicit' && one.stats.por).toBe(true);
    expect(one.stats.engine === 'explicit' && full.stats.engine === 'explicit' && one.stats.states <= full.stats.states).toBe(true);
  });

  it.each(registry.filter((p) => p !== fenceMigrate && p !== odpMirror).map((pkg) => [pkg.protocol.name, pkg] as const))(
    "%s (from the registry), correct and every variant at the default size: two threads give one thread's counts when it passes and its first, shortest violation otherwise, with the exact store, hash compaction and partial-order reduction",
    async (_name, pkg) => {
      const symmetry = buildModel(pkg.protocol).indexes.some((i) => i.symmetric);
      let shared = 0;
      for (const variant of [null, ...pkg.protocol.variants.map((v) => v.name)]) {
        try {
          buildModel(pkg.protocol, { variant });
        } catch {
          continue; // the variant does not apply at the default size
        }
        for (const x of [{}, { store: 'hash-compaction' as const }, { por: true }]) {
          const one = await run(pkg, variant, {}, { workers: 1, ...x }, symmetry);
          const two = await run(pkg, variant, {}, { workers: 2, parallelFrom: 16, ...x }, symmetry);
          // A search that stops at a violation stops mid-level, where each thread was: its counts are not
          // one thread's, its verdict and its first (shortest) violation are.
          const seen = (r: CheckResult) => (r.status === 'ok' ? figures(r) : { status: r.status, violations: figures(r).violations });
          expect({ variant, x, ...seen(two) }).toEqual({ variant, x, ...seen(one) });
          expect(one.status === 'ok' || one.status === 'violated').toBe(true);
          if (two.stats.engine === 'explicit' && (two.stats.workerShare ?? 0) > 0) shared++;
        }
      }
      // Levels wide enough to share were shared with the worker thread.
      expect(shared).toBeGreaterThan(0);
    },
  );

  it('the first violation reported is a shortest one: every fence-migrate variant, the deepest odp-mirror ones', async () => {
    let parallel = 0;
    const deepOdp = ['valid-flag', 'seq-per-chunk', 'zap-without-drain'];
    for (const [pkg, params] of [
      [fenceMigrate, { pages: 3, frames: 4, slots: 2, migrations: 1, writes: 2 }],
      [odpMirror, {}],
    ] as const) {
      for (const v of pkg.protocol.variants.filter((x) => pkg !== odpMirror || deepOdp.includes(x.name))) {
        let one: CheckResult;
        try {
          one = await run(pkg, v.name, params, { workers: 1 });
        } catch {
          continue; // the variant does not apply at these parameters
        }
        const two = await run(pkg, v.name, params, { workers: 2, parallelFrom: 16 });
        const [a, b] = [figures(one), figures(two)];
        expect({ variant: v.name, status: b.status, violations: b.violations }).toEqual({ variant: v.name, status: a.status, violations: a.violations });
        if (two.stats.engine === 'explicit' && (two.stats.workerShare ?? 0) > 0) parallel++;
      }
    }
    // Most variants are found after levels the worker threads shared.
    expect(parallel).toBeGreaterThan(3);
  });
});
