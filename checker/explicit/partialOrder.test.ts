import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { registry } from '../../cli/registry.js';
import { add, le, lt } from '../../model/lang/expr.js';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { arrayOf, range } from '../../model/lang/types.js';
import fenceMigrate from '../../model/protocols/fenceMigrate/index.js';
import odpMirror from '../../model/protocols/odpMirror/index.js';
import type { ProtocolPackage } from '../../properties/package.js';
import { invariant } from '../../properties/property.js';
import { build, compare, planArb } from './partialOrderRandom.testkit.js';

describe('partial-order reduction', () => {
  it('keeps every verdict of a few hundred random small protocols (with and without symmetry), and reduces some', () => {
    let smaller = 0;
    let smallerWithChange = 0;
    let runs = 0;
    fc.assert(
      fc.property(planArb, (plan) => {
        const { model, properties } = build(plan);
        for (const symmetry of plan.symmetric ? [false, true] : [false]) {
          const { full, reduced } = compare(model, properties, symmetry);
          runs++;
          if (reduced.stats.engine === 'explicit' && full.stats.engine === 'explicit' && reduced.stats.states < full.stats.states) {
            smaller++;
            if (plan.change) smallerWithChange++;
          }
        }
      }),
      { numRuns: 300, seed: 15 },
    );
    // Shared variables (a lock, a counter, a flag) and global invariants leave little to reduce in most.
    expect(smaller).toBeGreaterThan(5);
    // Those with a change-shaped step property of every rule reduce only through its trigger (without
    // it every instance would be the property's: 6 of them reduce with seed 15, none without).
    expect(smallerWithChange).toBeGreaterThan(2);
    expect(runs).toBeGreaterThan(300);
  });

  it('keeps the verdict and the shortest counterexample of every protocol and variant', () => {
    const chosen: [ProtocolPackage, Record<string, number | string>][] = [
      // One migration (9,172 states at the default size), the concurrent zap and the failure included.
      [fenceMigrate, { migrations: 1 }],
      [fenceMigrate, { migrations: 1, mode: 'zap-and-fault' }],
      [fenceMigrate, { pages: 1, frames: 2, slots: 2, migrations: 1 }],
      [odpMirror, { invalidations: 1, retries: 1 }],
    ];
    // Every built-in protocol (from the registry): the two above at the sizes chosen, the others at their defaults.
    const cases = registry.flatMap((pkg) => {
      const own = chosen.filter(([p]) => p === pkg);
      return own.length ? own : [[pkg, {}] as [ProtocolPackage, Record<string, number | string>]];
    });
    expect(new Set(cases.map(([p]) => p.protocol.name)).size).toBe(registry.length);
    for (const [pkg, params] of cases) {
      for (const variant of [null, ...pkg.protocol.variants.map((v) => v.name)]) {
        let model: Model;
        try {
          model = buildModel(pkg.protocol, { variant, params });
        } catch {
          continue;
        }
        const properties = pkg.properties.build(model).filter((p) => p.kind !== 'liveness');
        const symmetric = model.indexes.some((i) => i.symmetric);
        for (const symmetry of symmetric ? [false, true] : [false]) compare(model, properties, symmetry);
      }
    }
  });

  it('explores fewer states where actors are independent: n processes each stepping through a local counter', () => {
    const def = defineProtocol({
      name: 'independent',
      summary: '',
      spec: '',
      params: {},
      variants: [],
      build(b) {
        const P = b.index('P', 4);
        const x = b.v('x', arrayOf(P, range(0, 3)));
        b.init('zero', () => []);
        b.rule('Step', { p: P }, ({ p }) => ({ guard: lt(x.at(p), 3), body: [assign(x.at(p), add(x.at(p), 1))] }));
        b.endState(() => true);
        return { P, x };
      },
    });
    const model = buildModel(def);
    const { P, x } = model.handles;
    // An invariant of process 0 alone: the others' steps are independent of it.
    const properties = [invariant('bounded', 'B', '', le(x.at(0), 3))];
    void P;
    const { full, reduced } = compare(model, properties, false);
    expect(full.stats.engine === 'explicit' && full.stats.states).toBe(256);
    // One order of the independent steps is enough: 4 * 3 + 1 states on one interleaving.
    expect(reduced.stats.engine === 'explicit' && reduced.stats.states).toBe(13);
  });
});
