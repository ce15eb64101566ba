/**
 * Liveness on the annotated quotient (annotatedQuotient.ts): with symmetry reduction the verdicts
 * (and the properties violated) equal those of the full graph when fairness is per instance of a
 * rule with a symmetric parameter and when a property is checked for each value of a symmetric
 * type, on handmade models where reading the quotient's edges without their permutations would be
 * wrong, on random symmetric models, and on the built-in protocols with symmetric types; the lassos
 * of violated properties replay.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLasso } from '../../counterexamples/lasso.js';
import type { Trace } from '../../counterexamples/trace.js';
import { type Expr, and, eq, ite, ne, not, or } from '../../model/lang/expr.js';
import { type Fairness, type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { arrayOf, bool, range } from '../../model/lang/types.js';
import { deviceExclusive } from '../../model/protocols/deviceExclusive/deviceExclusive.js';
import { deviceExclusiveProperties } from '../../model/protocols/deviceExclusive/deviceExclusiveProperties.js';
import { fenceMigrate } from '../../model/protocols/fenceMigrate/fenceMigrate.js';
import { fenceMigrateProperties } from '../../model/protocols/fenceMigrate/fenceMigrateProperties.js';
import { type Liveness, eventually, leadsToEach } from '../../properties/property.js';
import type { CheckResult, ExplicitStats } from '../engine.js';
import { livenessCheck } from './liveness.js';

const verdict = (r: CheckResult) => ({ status: r.status, violated: r.status === 'violated' ? r.violations.map((v) => v.property).sort() : [] });

/** Checks with and without symmetry reduction; returns both, and that every lasso replays. */
function both(model: Model, props: readonly Liveness[]): { full: CheckResult<ExplicitStats>; sym: CheckResult<ExplicitStats> } {
  const full = livenessCheck({ model, properties: props, limits: {} });
  const sym = livenessCheck({ model, properties: props, limits: {}, symmetry: true });
  for (const r of [full, sym]) {
    if (r.status !== 'violated') continue;
    for (const v of r.violations) expect(checkLasso(model, v.trace as Trace, props.find((p) => p.name === v.property) as Liveness).ok).toBe(true);
  }
  return { full, sym };
}

/**
 * Two processes pass a token (Pass(i, j): the holder hands it to the other; the quotient has one
 * state with a self-loop whose permutation swaps them); a process without the token may finish
 * the run (Work(i)), weakly fair per process. On the quotient's self-loop Work(1) is enabled in
 * every state and never taken, so its edges read without their permutations say no fair cycle
 * avoids `done`; but each pass renames the processes: concretely Work(1) is disabled whenever
 * process 1 holds the token, the passing loop is fair, and `eventually done` fails.
 */
const tokenPass = defineProtocol({
  name: 'token-pass',
  summary: 'two processes pass a token; the one without it may finish',
  spec: 'checker/explicit/annotatedQuotient.test.ts',
  params: {},
  variants: [{ name: 'strong-work', summary: 'Work is strongly fair', cites: 'test' }],
  build(b, cfg) {
    const Proc = b.index('Proc', 2, { symmetric: true });
    const has = b.v('has', arrayOf(Proc, bool));
    const done = b.v('done', bool);
    b.init('first', () => [assign(has.at(0), true)]);
    b.rule('Pass', { i: Proc, j: Proc }, ({ i, j }) => ({ guard: and(has.at(i), not(has.at(j))), body: [assign(has.at(i), false), assign(has.at(j), true)] }));
    b.rule('Work', { i: Proc }, ({ i }) => ({ guard: and(not(has.at(i)), not(done)), body: [assign(done, true)] }), {
      fairness: cfg.is('strong-work') ? 'strong' : 'weak',
      fairnessScope: 'instance',
    });
    return { Proc, has, done };
  },
});

/**
 * The opposite trap: a cycle that looks fair on the quotient but is not. Two processes toggle
 * between idle and busy (Step(i), weakly fair per process); a process leaving idle after the other
 * one was last to leave it sets `switched`. Concretely, a run where process 0 toggles alone never
 * switches, but it is unfair: Step(1) is enabled in every state and never taken, so every fair run
 * switches. On the quotient the names flip along that loop: with both idle the canonical form
 * names the last to leave idle 0, with one busy it names the busy one 1 (the idle bits are packed
 * above `last`, and the least form is kept). So the loop reads Step(0) from the start state and
 * Step(1) back: both instances seem taken, and read without its permutations the loop would be a
 * fair cycle that never switches, a false violation.
 */
const loneToggle = defineProtocol({
  name: 'lone-toggle',
  summary: 'two processes toggle; a run with one toggling alone is unfair',
  spec: 'checker/explicit/annotatedQuotient.test.ts',
  params: {},
  variants: [{ name: 'unfair-step', summary: 'Step has no fairness', cites: 'test' }],
  build(b, cfg) {
    const Proc = b.index('Proc', 2, { symmetric: true });
    // Declared before `idle`: packed below it, so the idle bits decide the canonical form first.
    const last = b.v('last', Proc);
    const switched = b.v('switched', bool);
    const idle = b.v('idle', arrayOf(Proc, bool));
    b.init('idle', () => [assign(idle.at(0), true), assign(idle.at(1), true)]);
    b.rule(
      'Step',
      { i: Proc },
      ({ i }) => ({
        guard: true,
        body: [assign(switched, or(switched, and(idle.at(i), ne(last, i)))), assign(last, ite(idle.at(i), i, last)), assign(idle.at(i), not(idle.at(i)))],
      }),
      { fairness: cfg.is('unfair-step') ? 'none' : 'weak', fairnessScope: 'instance' },
    );
    return { Proc, idle, last, switched };
  },
});

describe('the annotated quotient against the full graph', () => {
  it('a cycle that looks unfair on the quotient is fair once renamed (weak Work), and unfair under strong Work', () => {
    const weak = buildModel(tokenPass);
    const done = eventually('done', 'AQ-1', 'the run finishes', weak.handles.done);
    const a = both(weak, [done]);
    expect(verdict(a.full)).toEqual({ status: 'violated', violated: ['done'] });
    expect(verdict(a.sym)).toEqual(verdict(a.full));
    // Strong fairness: Work of the process without the token is enabled infinitely often on the passing loop.
    const strong = buildModel(tokenPass, { variant: 'strong-work' });
    const b = both(strong, [eventually('done', 'AQ-1', 'the run finishes', strong.handles.done)]);
    expect([verdict(b.full), verdict(b.sym), b.sym.stats.symmetry]).toEqual([{ status: 'ok', violated: [] }, { status: 'ok', violated: [] }, true]);
    expect(b.sym.stats.states).toBeLessThan(b.full.stats.states);
  });

  it('a cycle that looks fair on the quotient is unfair once renamed: a process toggling alone (weak Step per process)', () => {
    const fair = buildModel(loneToggle);
    const r = both(fair, [eventually('switch', 'AQ-3', 'the other process leaves idle', fair.handles.switched)]);
    expect([verdict(r.full), verdict(r.sym), r.sym.stats.symmetry]).toEqual([{ status: 'ok', violated: [] }, { status: 'ok', violated: [] }, true]);
    expect(r.sym.stats.states).toBeLessThan(r.full.stats.states);
    // Without fairness the lone toggler's loop is a legal run: both checks find it.
    const unfair = buildModel(loneToggle, { variant: 'unfair-step' });
    const u = both(unfair, [eventually('switch', 'AQ-3', 'the other process leaves idle', unfair.handles.switched)]);
    expect([verdict(u.full), verdict(u.sym)]).toEqual([
      { status: 'violated', violated: ['switch'] },
      { status: 'violated', violated: ['switch'] },
    ]);
  });

  it('a property for each process, with the value tracked along the renamings: fails under weak Work, holds under strong Work', () => {
    for (const [variant, status] of [
      [null, 'violated'],
      ['strong-work', 'ok'],
    ] as const) {
      const model = buildModel(tokenPass, { variant });
      const { Proc, has, done } = model.handles;
      // Once a process holds the token the run finishes: the passing loop (fair under weak Work) never does.
      const finishes = leadsToEach('holder-finishes', 'AQ-2', 'a holder sees the run finish', Proc, (i) => [has.at(i), done]);
      const r = both(model, [finishes]);
      expect([verdict(r.full).status, verdict(r.sym).status]).toEqual([status, status]);
      if (status === 'ok') expect(r.sym.stats.symmetry).toBe(true);
    }
  });

  it('random symmetric models: same verdicts with symmetry reduction, lassos replay', () => {
    const fairArb = fc.constantFrom<Fairness>('none', 'weak', 'strong');
    const ruleArb = fc.record({
      pair: fc.boolean(),
      from: fc.integer({ min: -1, max: 2 }),
      other: fc.integer({ min: -1, max: 2 }),
      g: fc.integer({ min: -1, max: 1 }),
      to: fc.integer({ min: 0, max: 2 }),
      otherTo: fc.integer({ min: -1, max: 2 }),
      gTo: fc.integer({ min: -1, max: 1 }),
      fairness: fairArb,
      perInstance: fc.boolean(),
    });
    const arb = fc.record({
      n: fc.integer({ min: 2, max: 3 }),
      rules: fc.array(ruleArb, { minLength: 1, maxLength: 4 }),
      p: fc.integer({ min: 0, max: 2 }),
      q: fc.integer({ min: 0, max: 2 }),
      goal: fc.integer({ min: 0, max: 1 }),
    });
    fc.assert(
      fc.property(arb, (spec) => {
        const def = defineProtocol({
          name: 'random-symmetric',
          summary: 'random symmetric processes',
          spec: '-',
          params: {},
          variants: [],
          build(b) {
            const Proc = b.index('Proc', spec.n, { symmetric: true });
            const x = b.v('x', arrayOf(Proc, range(0, 2)));
            const g = b.v('g', range(0, 1));
            b.init('zero', () => []);
            spec.rules.forEach((r, k) => {
              const opts = { fairness: r.fairness, fairnessScope: r.perInstance ? ('instance' as const) : ('rule' as const) };
              const guardOf = (i: Expr, j: Expr | null) =>
                and(
                  ...(r.from >= 0 ? [eq(x.at(i), r.from)] : []),
                  ...(j && r.other >= 0 ? [eq(x.at(j), r.other)] : []),
                  ...(j ? [ne(i, j)] : []),
                  ...(r.g >= 0 ? [eq(g, r.g)] : []),
                  true,
                );
              const bodyOf = (i: Expr, j: Expr | null) => [
                assign(x.at(i), r.to),
                ...(j && r.otherTo >= 0 ? [assign(x.at(j), r.otherTo)] : []),
                ...(r.gTo >= 0 ? [assign(g, r.gTo)] : []),
              ];
              if (r.pair) b.rule(`R${k}`, { i: Proc, j: Proc }, ({ i, j }) => ({ guard: guardOf(i, j), body: bodyOf(i, j) }), opts);
              else b.rule(`R${k}`, { i: Proc }, ({ i }) => ({ guard: guardOf(i, null), body: bodyOf(i, null) }), opts);
            });
            return { Proc, x, g };
          },
        });
        const model = buildModel(def);
        const { Proc, x, g } = model.handles;
        const props: Liveness[] = [
          leadsToEach('each', 'RS-1', 'p leads to q for each process', Proc, (i) => [eq(x.at(i), spec.p), eq(x.at(i), spec.q)]),
          eventually('shared', 'RS-2', 'the shared bit is reached', eq(g, spec.goal)),
        ];
        const r = both(model, props);
        expect(verdict(r.sym)).toEqual(verdict(r.full));
      }),
      { numRuns: 50 },
    );
  });

  it('built-in protocols with symmetric types: fence-migrate (two slots) and device-exclusive, correct and buggy', () => {
    const cases: [Model, Liveness[]][] = [];
    for (const variant of [null, 'never-unblock']) {
      const m = buildModel(fenceMigrate, { params: { pages: 1, frames: 2, slots: 2, migrations: 1, writes: 1 }, variant });
      cases.push([m, fenceMigrateProperties.build(m).filter((p): p is Liveness => p.kind === 'liveness')]);
    }
    for (const variant of [null, 'exclusive-fault-no-ref']) {
      const m = buildModel(deviceExclusive, { variant });
      cases.push([m, deviceExclusiveProperties.build(m).filter((p): p is Liveness => p.kind === 'liveness')]);
    }
    for (const [model, props] of cases) {
      const r = both(model, props);
      expect({ variant: model.variant, ...verdict(r.sym) }).toEqual({ variant: model.variant, ...verdict(r.full) });
      if (r.sym.status === 'ok') expect(r.sym.stats.symmetry).toBe(true);
    }
  });
});
