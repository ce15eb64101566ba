/**
 * Liveness on the symmetry-reduced graph (livenessSymmetry.ts): where every fairness requirement
 * is mapped onto itself by the permutations, the reduced graph gives the full graph's verdicts, and
 * its lassos, walked again on concrete states, replay under the declared fairness; where a
 * requirement is per instance of a rule with a symmetric parameter, or a property is checked for
 * each value of a symmetric type, the annotated quotient decides (annotatedQuotient.ts) and a
 * violated property's lasso comes from the full graph.
 */
import { describe, expect, it } from 'vitest';
import { checkLasso } from '../../counterexamples/lasso.js';
import type { Trace } from '../../counterexamples/trace.js';
import { and, eq, exists, forall, not } from '../../model/lang/expr.js';
import { buildModel, defineProtocol, enumParam, intParam } from '../../model/lang/protocol.js';
import { assign, forEach } from '../../model/lang/stmt.js';
import { arrayOf, bool, enumOf } from '../../model/lang/types.js';
import { type Liveness, alwaysEventually, eventually, leadsToEach } from '../../properties/property.js';
import type { CheckResult, ExplicitStats } from '../engine.js';
import { livenessCheck } from './liveness.js';
import { MiB, countingLimit } from '../../test/countingLimit.js';

/**
 * n processes (a symmetric type) sharing one lock. Acquire's fairness: strong or weak over the
 * whole rule (a requirement the permutations map onto itself), or strong per process.
 */
const lockRing = defineProtocol({
  name: 'lock-ring',
  summary: 'symmetric processes sharing a lock',
  spec: 'checker/explicit/livenessSymmetry.test.ts',
  params: {
    n: intParam(3, 2, 5, 'processes'),
    acquire: enumParam('strong-rule', ['strong-rule', 'weak-rule', 'strong-instance'], 'fairness of Acquire'),
  },
  variants: [{ name: 'keep-lock', summary: 'Release leaves the lock held', cites: 'test' }],
  build(b, cfg) {
    const Proc = b.index('Proc', cfg.int('n'), { symmetric: true });
    const pc = b.v('pc', arrayOf(Proc, enumOf('Pc', ['idle', 'trying', 'critical'])));
    const held = b.v('held', bool);
    b.init('idle', () => []);
    b.rule('Request', { i: Proc }, ({ i }) => ({ guard: eq(pc.at(i), 'idle'), body: [assign(pc.at(i), 'trying')] }));
    const acq = cfg.str('acquire');
    b.rule('Acquire', { i: Proc }, ({ i }) => ({ guard: and(eq(pc.at(i), 'trying'), not(held)), body: [assign(pc.at(i), 'critical'), assign(held, true)] }), {
      fairness: acq === 'weak-rule' ? 'weak' : 'strong',
      fairnessScope: acq === 'strong-instance' ? 'instance' : 'rule',
    });
    b.rule(
      'Release',
      { i: Proc },
      ({ i }) => ({ guard: eq(pc.at(i), 'critical'), body: [assign(pc.at(i), 'idle'), ...(cfg.is('keep-lock') ? [] : [assign(held, false)])] }),
      { fairness: 'weak', fairnessScope: 'rule' },
    );
    return { Proc, pc, held };
  },
});
const lockRingModel = (params: Record<string, string | number>, variant: string | null = null) => buildModel(lockRing, { params, variant });

/** Properties over all processes (no value of the symmetric type singled out). */
function properties(model: ReturnType<typeof lockRingModel>): Liveness[] {
  const { Proc, pc, held } = model.handles;
  return [
    // Holds under fair Release: the lock is always freed again (not in keep-lock).
    alwaysEventually('lock-free-again', 'LR-1', 'the lock is free infinitely often', not(held)),
    // Fails: processes may keep requesting in turn, so some process is always trying.
    alwaysEventually(
      'all-quiet',
      'LR-2',
      'infinitely often no process is trying',
      forall(Proc, (i) => not(eq(pc.at(i), 'trying'))),
    ),
    // Holds: the first request is eventually served (the lock is free until then).
    eventually(
      'someone-enters',
      'LR-3',
      'some process enters',
      exists(Proc, (i) => eq(pc.at(i), 'critical')),
    ),
  ];
}

const figures = (r: CheckResult<ExplicitStats>) => r.stats;
const verdict = (r: CheckResult) => ({ status: r.status, violated: r.status === 'violated' ? r.violations.map((v) => v.property).sort() : [] });

describe('liveness on the symmetry-reduced graph', () => {
  for (const acquire of ['strong-rule', 'weak-rule'] as const) {
    for (const variant of [null, 'keep-lock']) {
      it(`Acquire ${acquire}${variant ? `, variant ${variant}` : ''}: the reduced graph gives the full graph's verdicts with fewer states, and its lassos replay`, () => {
        for (const n of [2, 3, 4]) {
          const model = lockRingModel({ n, acquire }, variant);
          const props = properties(model);
          const full = livenessCheck({ model, properties: props, limits: {} });
          const reduced = livenessCheck({ model, properties: props, limits: {}, symmetry: true });
          expect(figures(full).symmetry).toBe(false);
          expect(figures(reduced).symmetry).toBe(true);
          expect(figures(reduced).symmetryRefused).toBeUndefined();
          expect(verdict(reduced)).toEqual(verdict(full));
          expect(figures(reduced).states).toBeLessThan(figures(full).states);
          // all-quiet always fails; lock-free-again fails only when Release keeps the lock.
          expect(verdict(full).violated).toEqual(variant ? ['all-quiet', 'lock-free-again'] : ['all-quiet']);
          if (reduced.status !== 'violated') continue;
          for (const v of reduced.violations) {
            const prop = props.find((p) => p.name === v.property) as Liveness;
            const chk = checkLasso(model, v.trace as Trace, prop);
            expect({ n, property: v.property, ok: chk.ok }).toEqual({ n, property: v.property, ok: true });
          }
        }
      });
    }
  }

  it('counts: one state per class (n = 4: the full graph against the classes of its states)', () => {
    const model = lockRingModel({ n: 4 });
    const props = properties(model);
    // Classes of (pc per process, held): the multiset of pcs with held, reachable ones only.
    const full = livenessCheck({ model, properties: props, limits: {} });
    const reduced = livenessCheck({ model, properties: props, limits: {}, symmetry: true });
    // Full: held with exactly one critical (4 * 2^3 ways for the others) or free with none (2^4): 48.
    expect(figures(full).states).toBe(48);
    // Classes: held (0..3 others trying: 4) or free (0..4 trying: 5).
    expect(figures(reduced).states).toBe(9);
  });

  it('the annotated quotient past the memory limit: the liveness phase is incomplete, saying whether the quotient or the full graph stopped and what was found', () => {
    const model = lockRingModel({ n: 3, acquire: 'strong-instance' });
    const props = properties(model);
    const total = countingLimit(2 ** 50);
    const whole = livenessCheck({ model, properties: props, limits: {}, symmetry: true, explicit: { memoryLimit: total } });
    expect(whole.status === 'violated' ? whole.violations.map((v) => v.property) : whole.status).toEqual(['all-quiet']);
    const stopped = 'the fair-cycle analysis of the complete graph';
    const KINDS: [RegExp, string][] = [
      [new RegExp(`^${stopped} \\(7 states, \\d+ transitions\\) stopped \\(on the symmetry quotient\\): the memory limit `), 'quotient'],
      [
        new RegExp(
          `^${stopped} \\(7 states, \\d+ transitions\\) stopped \\(on the symmetry quotient, having found all-quiet violated: its lasso comes from the full graph, not built\\): `,
        ),
        'quotient, all-quiet found',
      ],
      [new RegExp(`^${stopped} \\(20 states, 48 transitions\\) stopped (before its first property|while checking all-quiet): `), 'full graph'],
      [/^the liveness graph is full at 2 states: the memory limit of .* more needed for the liveness graph's edges\)/, 'edges'],
    ];
    const kinds = new Set<string>();
    for (let k = 0; k < total.asked; k++) {
      const r = livenessCheck({ model, properties: props, limits: {}, symmetry: true, explicit: { memoryLimit: countingLimit(k * MiB - 1) } });
      const reason = r.status === 'incomplete' ? r.reason : r.status;
      // An incomplete liveness phase reports no cover (the safety search's are added by the engine).
      if (r.status === 'incomplete') expect([k, r.covers]).toEqual([k, []]);
      // (The graphs are too small to grow past their first tables, which the limit never refuses; their first edge asks for a MiB.)
      const kind = KINDS.find(([re]) => re.test(reason))?.[1] ?? reason;
      kinds.add(kind);
    }
    // Either graph is refused at its first edge (its two start states stored), the quotient (7 states) before or after it
    // finds all-quiet violated, or the full graph (20 states) for its lasso.
    expect([...kinds].sort()).toEqual(['edges', 'full graph', 'quotient', 'quotient, all-quiet found']);
  });

  it('per-instance fairness of a rule with a symmetric parameter: the annotated quotient gives the full graph verdicts', () => {
    for (const n of [2, 3]) {
      const model = lockRingModel({ n, acquire: 'strong-instance' });
      const props = properties(model);
      const full = livenessCheck({ model, properties: props, limits: {} });
      const r = livenessCheck({ model, properties: props, limits: {}, symmetry: true });
      expect(verdict(r)).toEqual(verdict(full));
      // all-quiet fails: its lasso comes from the full graph, and the statistics say so. Classes:
      // held with 0..n-1 others trying (n), or free with 0..n trying (n + 1).
      expect(figures(r).symmetryRefused).toBe(`the annotated quotient (${2 * n + 1} states) found all-quiet violated; the lassos come from the full graph`);
      // The properties that hold are proved on the quotient alone.
      const holding = props.filter((p) => p.name !== 'all-quiet');
      const q = livenessCheck({ model, properties: holding, limits: {}, symmetry: true });
      expect([q.status, figures(q).symmetry, figures(q).symmetryRefused]).toEqual(['ok', true, undefined]);
      expect(figures(q).states).toBeLessThan(figures(full).states);
    }
  });

  it('a property checked for each value of a symmetric type: the product with the tracked value gives the full graph verdicts', () => {
    const model = lockRingModel({ n: 3 });
    const { Proc, pc } = model.handles;
    const each = leadsToEach('trying-enters', 'LR-4', 'a trying process enters', Proc, (i) => [eq(pc.at(i), 'trying'), eq(pc.at(i), 'critical')]);
    const r = livenessCheck({ model, properties: [each], limits: {}, symmetry: true });
    // Strong fairness over the whole rule lets one process starve (the others take the lock in turn).
    expect(verdict(r)).toEqual({ status: 'violated', violated: ['trying-enters'] });
    expect(figures(r).symmetryRefused).toMatch(/^the annotated quotient \(7 states\) found trying-enters violated/);
    // Strong fairness per process does not: the renamed per-instance requirement is followed along the quotient.
    const fairModel = lockRingModel({ n: 3, acquire: 'strong-instance' });
    const each2 = leadsToEach('trying-enters', 'LR-4', 'a trying process enters', fairModel.handles.Proc, (i) => [
      eq(fairModel.handles.pc.at(i), 'trying'),
      eq(fairModel.handles.pc.at(i), 'critical'),
    ]);
    const q = livenessCheck({ model: fairModel, properties: [each2], limits: {}, symmetry: true });
    expect([q.status, figures(q).symmetry]).toEqual(['ok', true]);
    expect(livenessCheck({ model: fairModel, properties: [each2], limits: {} }).status).toBe('ok');
  });
});

describe('a property for each value of a type the permutations leave alone', () => {
  /** The lock ring (Acquire strongly fair per process, so the annotated quotient decides) and two pings, each answered by Pong: weakly fair per slot, or over the whole rule. */
  const pings = (pong: 'instance' | 'rule') =>
    buildModel(
      defineProtocol({
        name: 'lock-ring-pings',
        summary: '',
        spec: 'checker/explicit/livenessSymmetry.test.ts',
        params: {},
        variants: [],
        build(b) {
          const Proc = b.index('Proc', 2, { symmetric: true });
          const Slot = b.index('Slot', 2);
          const pc = b.v('pc', arrayOf(Proc, enumOf('Pc', ['idle', 'trying', 'critical'])));
          const held = b.v('held', bool);
          const ping = b.v('ping', arrayOf(Slot, bool));
          b.init('idle', () => []);
          b.rule('Request', { i: Proc }, ({ i }) => ({ guard: eq(pc.at(i), 'idle'), body: [assign(pc.at(i), 'trying')] }));
          b.rule(
            'Acquire',
            { i: Proc },
            ({ i }) => ({ guard: and(eq(pc.at(i), 'trying'), not(held)), body: [assign(pc.at(i), 'critical'), assign(held, true)] }),
            {
              fairness: 'strong',
              fairnessScope: 'instance',
            },
          );
          b.rule('Release', { i: Proc }, ({ i }) => ({ guard: eq(pc.at(i), 'critical'), body: [assign(pc.at(i), 'idle'), assign(held, false)] }), {
            fairness: 'weak',
            fairnessScope: 'rule',
          });
          b.rule('Ping', { s: Slot }, ({ s }) => ({ guard: not(ping.at(s)), body: [assign(ping.at(s), true)] }));
          b.rule('Pong', { s: Slot }, ({ s }) => ({ guard: ping.at(s), body: [assign(ping.at(s), false)] }), { fairness: 'weak', fairnessScope: pong });
          return { Proc, Slot, pc, ping };
        },
      }),
    );

  it('is decided per value on the annotated quotient as on the full graph: answered with per-slot fairness, starved with fairness over the rule', () => {
    for (const [pong, status] of [
      ['instance', 'ok'],
      ['rule', 'violated'],
    ] as const) {
      const model = pings(pong);
      const { Slot, ping } = model.handles;
      const answered = leadsToEach('ping-answered', 'LP-1', 'every ping is answered', Slot, (s) => [ping.at(s), not(ping.at(s))]);
      const reduced = livenessCheck({ model, properties: [answered], limits: {}, symmetry: true });
      const full = livenessCheck({ model, properties: [answered], limits: {} });
      expect([pong, verdict(full)]).toEqual([pong, { status, violated: status === 'ok' ? [] : ['ping-answered'] }]);
      expect([pong, verdict(reduced)]).toEqual([pong, verdict(full)]);
    }
  });
});

describe("a reduced lasso's steps rebuilt on concrete states", () => {
  /**
   * Two processes; Fair and Lazy move a process from `a` to `b` alike (the same successor), Back
   * moves one back once both are at `b`. Only Fair is fair (strongly, over the rule), and `done`
   * is never set, so `eventually done` fails on a loop `bb -Back-> ab -Fair-> bb`, whose Fair step
   * starts from a state with one process at each value: the reduced edge names the instance in the
   * canonical state's numbering, which the concrete state need not share. Which state of the
   * orbit {ab, ba} is canonical depends on the codes of `a` and `b`, so the protocol is built with
   * both orders of the values: in one of them the concrete walk reaches the Fair step in the other
   * state of the orbit, where the edge's own instance is disabled and another instance of Fair
   * (and one of Lazy, listed after Fair) gives the same canonical successor.
   */
  const twins = (values: readonly [string, string]) =>
    defineProtocol({
      name: 'twin-rules',
      summary: 'two rules with the same effect, one of them fair',
      spec: 'checker/explicit/livenessSymmetry.test.ts',
      params: {},
      variants: [],
      build(b) {
        const Proc = b.index('Proc', 2, { symmetric: true });
        const pc = b.v('pc', arrayOf(Proc, enumOf('Pc', values)));
        const done = b.v('done', bool);
        b.init('start', () => [forEach(Proc, (i) => assign(pc.at(i), 'a'))]);
        b.rule('Fair', { i: Proc }, ({ i }) => ({ guard: eq(pc.at(i), 'a'), body: [assign(pc.at(i), 'b')] }), {
          fairness: 'strong',
          fairnessScope: 'rule',
        });
        b.rule('Lazy', { i: Proc }, ({ i }) => ({ guard: eq(pc.at(i), 'a'), body: [assign(pc.at(i), 'b')] }));
        b.rule('Back', { i: Proc }, ({ i }) => ({ guard: forall(Proc, (j) => eq(pc.at(j), 'b')), body: [assign(pc.at(i), 'a')] }));
        return { done };
      },
    });

  it.each([[['a', 'b']], [['b', 'a']]] as const)(
    'takes each step by an instance of the rule the reduced edge names, so the lasso keeps the fairness it was found under (values %j)',
    (values) => {
      const model = buildModel(twins(values));
      const { done } = model.handles;
      const prop = eventually('done', 'T', 'never set', eq(done, true));
      const r = livenessCheck({ model, properties: [prop], limits: {}, symmetry: true });
      expect(figures(r).symmetry).toBe(true);
      expect(r.status).toBe('violated');
      if (r.status !== 'violated') return;
      const trace = r.violations[0]?.trace as Trace;
      const loop = trace.steps.slice((trace.loop ?? trace.steps.length) + 1);
      expect(loop.map((s) => s.label.split('(')[0]).sort()).toEqual(['Back', 'Fair']);
      expect(checkLasso(model, trace, prop)).toMatchObject({ ok: true });
    },
  );
});
