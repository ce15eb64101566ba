import fc from 'fast-check';
import type { ScalarType } from './types.js';
import { describe, expect, it } from 'vitest';
import { applyRule, enabled, holds, instanceBindings } from './interp.js';
import { buildModel } from './protocol.js';
import { fenceMigrate } from '../protocols/fenceMigrate/fenceMigrate.js';
import { fenceMigrateProperties } from '../protocols/fenceMigrate/fenceMigrateProperties.js';
import { stateArb } from '../../test/arbitraries.js';
import { compileModel } from './compile.js';

const configs: { variant: string | null; params: Record<string, string | number> }[] = [
  { variant: null, params: {} },
  { variant: null, params: { mode: 'zap-and-fault', pages: 3, frames: 4, slots: 2 } },
  { variant: 'unblock-before-copy', params: { pages: 2, slots: 2 } },
  { variant: 'no-invalidate', params: { mode: 'zap-and-fault' } },
];

describe('compiled rules agree with the interpreter (the reference semantics)', () => {
  for (const cfg of configs) {
    const model = buildModel(fenceMigrate, cfg);
    const properties = fenceMigrateProperties.build(model);
    const cm = compileModel(model, properties);
    it(`${cfg.variant ?? 'correct'} ${JSON.stringify(cfg.params)}: same successors, invariants and step verdicts on arbitrary states`, () => {
      fc.assert(
        fc.property(stateArb(model.layout), (s) => {
          const got: string[] = [];
          const t = new Int32Array(s.length);
          let err: unknown = null;
          try {
            cm.expand(s, t, (k, f) => got.push(`${k}:${f}:${t.join()}`));
          } catch (e) {
            err = e;
          }
          const want: string[] = [];
          let werr: unknown = null;
          try {
            for (const inst of model.instances) {
              if (!enabled(model, inst, s)) continue;
              const n = applyRule(model, inst, s);
              const f = cm.steps.findIndex(
                (p) => p.kind === 'step' && (p.rule === null || p.rule === inst.rule.name) && !holds(model, p.pred, n, s, instanceBindings(inst)),
              );
              want.push(`${inst.id}:${f}:${n.join()}`);
            }
          } catch (e) {
            werr = e;
          }
          // Arbitrary (unreachable) states can make a rule fail at run time: both must then fail.
          expect(err === null).toBe(werr === null);
          if (err === null) expect(got).toEqual(want);
          const inv = cm.invariants.findIndex((p) => p.kind === 'invariant' && !holds(model, p.pred, s));
          expect(cm.firstViolated(s)).toBe(inv);
        }),
        { numRuns: 400, seed: 42 },
      );
    });
    it(`${cfg.variant ?? 'correct'}: pack then unpack is the identity`, () => {
      const w = new Uint32Array(cm.words);
      const u = new Int32Array(model.layout.nSlots);
      fc.assert(
        fc.property(stateArb(model.layout), (s) => {
          cm.pack(s, w, 0);
          cm.unpack(w, 0, u);
          expect(Array.from(u)).toEqual(Array.from(s));
        }),
        { numRuns: 500, seed: 7 },
      );
    });
  }

  it('packs states into words sized from the schema', () => {
    const model = buildModel(fenceMigrate);
    const cm = compileModel(model, []);
    // Each slot takes the bits its type's values need (e.g. Frame of 3: 2 bits, option(Frame): 2
    // bits, bool: 1 bit), computed here from the schema on its own.
    const values = (t: ScalarType): number => {
      switch (t.kind) {
        case 'bool':
          return 2;
        case 'enum':
          return t.values.length;
        case 'range':
          return t.hi - t.lo + 1;
        case 'index':
          return t.size;
        case 'option':
          return values(t.inner) + 1;
      }
    };
    const bits = model.layout.slotTypes.reduce((n, t) => n + Math.max(1, Math.ceil(Math.log2(values(t)))), 0);
    expect(cm.bits).toBe(bits);
    expect(cm.words).toBe(Math.ceil(bits / 32));
  });
});
