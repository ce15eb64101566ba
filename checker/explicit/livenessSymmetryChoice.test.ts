/**
 * When liveness runs on the symmetry-reduced graph, and how (livenessSymmetry.ts,
 * `livenessSymmetry`): the rules of its header, case by case. The plain reduced graph needs
 * properties and fairness that every permutation leaves alone; a property checked for each value
 * of a symmetric type, or fairness per instance of a rule with a symmetric parameter, needs the
 * annotated quotient; that is refused past an orbit of 32 renamed requirements (the product of the
 * sizes of the rule's symmetric parameters) or a group of more than 65536 permutations.
 */
import { describe, expect, it } from 'vitest';
import { eq } from '../../model/lang/expr.js';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { type IndexType, arrayOf, bool } from '../../model/lang/types.js';
import { eventually, leadsToEach } from '../../properties/property.js';
import { livenessCheck, livenessRun } from './liveness.js';
import { livenessSymmetry } from './livenessSymmetry.js';

interface Shape {
  /** Size of the symmetric type T (and whether it is symmetric), of a second symmetric type S (0: none), of a plain type N. */
  readonly t: number;
  readonly tSymmetric?: boolean;
  readonly s?: number;
  /** Parameters of rule Go: how many of type T, and whether it has one of type N. */
  readonly params: number;
  readonly plainParam?: boolean;
  readonly fairness: 'weak' | 'strong' | 'none';
  readonly scope: 'rule' | 'instance';
}

/** A model with a rule Go over `params` parameters of T (and maybe one of N), fair as asked. */
function model(sh: Shape): Model {
  return buildModel(
    defineProtocol({
      name: 'choice',
      summary: '',
      spec: '',
      params: {},
      variants: [],
      build(b) {
        const T = b.index('T', sh.t, { symmetric: sh.tSymmetric ?? true });
        const N = b.index('N', 2);
        if (sh.s) b.index('S', sh.s, { symmetric: true });
        const on = b.v('on', arrayOf(T, bool));
        const flag = b.v('flag', arrayOf(N, bool));
        b.init('i', () => []);
        const ps: Record<string, typeof T> = {};
        for (let i = 0; i < sh.params; i++) ps[`p${i}`] = T;
        if (sh.plainParam) ps.n = N;
        b.rule('Go', ps, () => ({ guard: true, body: [assign(flag.at(0), true)] }), {
          fairness: sh.fairness,
          fairnessScope: sh.scope,
        });
        return { T, N, on, flag };
      },
    }),
  );
}

const base: Shape = { t: 3, params: 1, fairness: 'weak', scope: 'rule' };

describe('livenessSymmetry: whether the reduced graph gives the verdicts, and whether it needs the annotations', () => {
  it('no symmetric type of two or more elements: not used', () => {
    expect(livenessSymmetry(model({ ...base, tSymmetric: false }), [], 'declared')).toEqual({ use: false, reason: 'no symmetric type' });
    expect(livenessSymmetry(model({ ...base, t: 1 }), [], 'declared')).toEqual({ use: false, reason: 'no symmetric type' });
  });

  it('fairness per rule, or per instance of a rule without a symmetric parameter, and a plain property: the plain reduced graph', () => {
    const m = model(base);
    const { flag } = m.handles as unknown as { flag: { at: (x: number) => never } };
    expect(livenessSymmetry(m, [eventually('flag', 'L-1', '', eq(flag.at(0), true))], 'declared')).toEqual({ use: true, annotated: false });
    // Per instance of a rule whose only parameter is of the plain type N: no permutation renames it.
    expect(livenessSymmetry(model({ ...base, params: 0, plainParam: true, scope: 'instance' }), [], 'declared')).toEqual({ use: true, annotated: false });
    // Per instance of a rule with a parameter of T: renamed, so annotated.
    expect(livenessSymmetry(model({ ...base, scope: 'instance' }), [], 'declared')).toEqual({ use: true, annotated: true });
    // Unfair rules, or fairness ignored: nothing is renamed.
    expect(livenessSymmetry(model({ ...base, scope: 'instance', fairness: 'none' }), [], 'declared')).toEqual({ use: true, annotated: false });
    expect(livenessSymmetry(model({ ...base, scope: 'instance' }), [], 'none')).toEqual({ use: true, annotated: false });
  });

  it('a property for each value: annotated when its index is symmetric, plain when it is not', () => {
    const m = model(base);
    const { T, N, on, flag } = m.handles as unknown as {
      T: Parameters<typeof leadsToEach>[3];
      N: Parameters<typeof leadsToEach>[3];
      on: { at: (x: unknown) => never };
      flag: { at: (x: unknown) => never };
    };
    const perT = leadsToEach('eachT', 'L-2', '', T, (d) => [on.at(d), on.at(d)]);
    const perN = leadsToEach('eachN', 'L-3', '', N, (d) => [flag.at(d), flag.at(d)]);
    expect(livenessSymmetry(m, [perT], 'declared')).toEqual({ use: true, annotated: true });
    expect(livenessSymmetry(m, [perN], 'declared')).toEqual({ use: true, annotated: false });
    expect(livenessSymmetry(m, [perN, perT], 'declared')).toEqual({ use: true, annotated: true });
  });

  it('an orbit of renamed requirements up to 32 is followed (T of 2, five parameters: 2^5); 2^6 is refused', () => {
    expect(livenessSymmetry(model({ t: 2, params: 5, fairness: 'weak', scope: 'instance' }), [], 'declared')).toEqual({ use: true, annotated: true });
    const r = livenessSymmetry(model({ t: 2, params: 6, fairness: 'strong', scope: 'instance' }), [], 'declared');
    expect(r).toEqual({ use: false, reason: 'strong fairness per instance of Go: 64 renamed instances, more than the 32 the threads follow' });
    // A plain parameter does not add to the orbit.
    expect(livenessSymmetry(model({ t: 2, params: 5, plainParam: true, fairness: 'weak', scope: 'instance' }), [], 'declared')).toEqual({
      use: true,
      annotated: true,
    });
    // Per rule, any number of parameters: nothing renamed.
    expect(livenessSymmetry(model({ t: 2, params: 6, fairness: 'weak', scope: 'rule' }), [], 'declared')).toEqual({ use: true, annotated: false });
  });

  it('the annotations hold 65536 permutations: 8! = 40320 is taken, 8! x 2! = 80640 and 9! are refused, unless nothing needs them', () => {
    const inst = { params: 1, fairness: 'weak', scope: 'instance' } as const;
    expect(livenessSymmetry(model({ t: 8, ...inst }), [], 'declared')).toEqual({ use: true, annotated: true });
    expect(livenessSymmetry(model({ t: 8, s: 2, ...inst }), [], 'declared')).toEqual({
      use: false,
      reason: "80640 permutations: more than an edge's permutation index holds (65536)",
    });
    expect(livenessSymmetry(model({ t: 9, ...inst }), [], 'declared')).toEqual({
      use: false,
      reason: "362880 permutations: more than an edge's permutation index holds (65536)",
    });
    expect(livenessSymmetry(model({ t: 9, params: 1, fairness: 'weak', scope: 'rule' }), [], 'declared')).toEqual({ use: true, annotated: false });
  });

  it('exactly 65536 permutations (sixteen symmetric pairs, 2!^16) fit; seventeen pairs do not', () => {
    const pairs = (k: number) =>
      buildModel(
        defineProtocol({
          name: 'pairs',
          summary: '',
          spec: '',
          params: {},
          variants: [],
          build(b) {
            const types = Array.from({ length: k }, (_, i) => b.index(`S${i}`, 2, { symmetric: true }));
            const on = b.v('on', arrayOf(types[0] as IndexType, bool));
            b.init('i', () => []);
            b.rule('Go', { s: types[0] as IndexType }, ({ s }) => ({ guard: true, body: [assign(on.at(s), true)] }), {
              fairness: 'weak',
              fairnessScope: 'instance',
            });
            return {};
          },
        }),
      );
    expect(livenessSymmetry(pairs(16), [], 'declared')).toEqual({ use: true, annotated: true });
    expect(livenessSymmetry(pairs(17), [], 'declared')).toEqual({
      use: false,
      reason: "131072 permutations: more than an edge's permutation index holds (65536)",
    });
  });
});

describe('the liveness check asks livenessSymmetry with its own fairness mode (LivenessOptions.fairness, `declared` by default)', () => {
  // Strong fairness per instance of Go over six parameters of T of 2: an orbit of 2^6 renamed
  // requirements, refused under the declared fairness (the case above); with no fairness nothing is
  // renamed and the plain reduced graph is used.
  const m = model({ t: 2, params: 6, fairness: 'strong', scope: 'instance' });
  const { flag } = m.handles as unknown as { flag: { at: (x: number) => never } };
  const job = { model: m, properties: [eventually('flag', 'L-1', '', eq(flag.at(0), true))], limits: {}, symmetry: true };
  const refused = 'strong fairness per instance of Go: 64 renamed instances, more than the 32 the threads follow';

  it('fairness none: the reduced graph, nothing refused; declared (given or by default): refused for the orbit', async () => {
    for (const r of [livenessCheck(job, {}, { fairness: 'none' }), await livenessRun(job, {}, { fairness: 'none' })]) {
      expect([r.stats.symmetry, r.stats.symmetryRefused]).toEqual([true, undefined]);
    }
    for (const r of [livenessCheck(job, {}, { fairness: 'declared' }), livenessCheck(job), await livenessRun(job)]) {
      expect([r.stats.symmetry, r.stats.symmetryRefused]).toEqual([false, refused]);
    }
  });
});
