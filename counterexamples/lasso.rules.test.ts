/**
 * The lasso check (lasso.ts) on hand-written lassos of a walker whose every answer is known: when
 * the goal of each kind of liveness property counts as reached (in the prefix, in the loop, never
 * needed), which steps count as the loop's for fairness (those after the loop state, not the prefix
 * nor the step into the loop state), the fairness mode read from the trace, the exact wording of an
 * unfair loop and of a loop that is not a stopping state (at most three names, then how many more),
 * and the replay of every step up to the last one, including a stored state of the wrong length and
 * a model error.
 */
import { describe, expect, it } from 'vitest';
import { add, eq, lt, not, unwrap } from '../model/lang/expr.js';
import { buildModel, defineProtocol, intParam } from '../model/lang/protocol.js';
import { assign } from '../model/lang/stmt.js';
import { bool, option, range } from '../model/lang/types.js';
import { alwaysEventually, eventually, leadsTo } from '../properties/property.js';
import { checkLasso } from './lasso.js';
import type { Trace } from './trace.js';

/**
 * x walks 0 -> 1 -> 2 by Next; Stay does nothing; Poke (weakly fair, always enabled) flips b;
 * `nops` more weakly fair rules Nop0.. do nothing. Variant `bad`: Bad unwraps o (none) at x = 2.
 */
const walker = defineProtocol({
  name: 'walker',
  summary: 'a walk with fair pokes',
  spec: 'counterexamples/lasso.rules.test.ts',
  params: { nops: intParam(0, 0, 4, 'weakly fair rules that do nothing') },
  variants: [{ name: 'bad', summary: 'Bad unwraps none', cites: 'test' }],
  build(b, cfg) {
    const x = b.v('x', range(0, 2));
    const flag = b.v('b', bool);
    const o = b.v('o', option(range(0, 2)));
    b.init('start', () => []);
    b.rule('Next', {}, () => ({ guard: lt(x, 2), body: [assign(x, add(x, 1))] }));
    b.rule('Stay', {}, () => ({ guard: true, body: [] }));
    b.rule('Poke', {}, () => ({ guard: true, body: [assign(flag, not(flag))] }), { fairness: 'weak' });
    for (let k = 0; k < cfg.int('nops'); k++) b.rule(`Nop${k}`, {}, () => ({ guard: true, body: [] }), { fairness: 'weak' });
    if (cfg.is('bad')) b.rule('Bad', {}, () => ({ guard: eq(x, 2), body: [assign(x, unwrap(o))] }));
    return { x, b: flag };
  },
});

type M = ReturnType<typeof buildModel>;
const model = buildModel(walker);
const { x, b: flag } = model.handles as { x: never; b: never };

/** A lasso through the named rules, states computed by hand (x, b, o = none), looping back to `loop`. */
function lasso(m: M, rules: string[], loop: number, extra?: Record<string, unknown>): Trace {
  let s = [0, 0];
  const steps = [{ choice: 0, label: 'init start', state: Int32Array.from([...s, -1]) }];
  for (const r of rules) {
    if (r === 'Next') s = [(s[0] as number) + 1, s[1] as number];
    if (r === 'Poke') s = [s[0] as number, 1 - (s[1] as number)];
    const inst = m.instances.find((i) => i.rule.name === r);
    if (!inst) throw new Error(r);
    steps.push({ choice: inst.id, label: inst.label, state: Int32Array.from([...s, -1]) });
  }
  return {
    protocol: 'walker',
    variant: m.variant,
    params: m.params,
    engine: 'test',
    property: 'p',
    requirement: 'W-1',
    steps,
    loop,
    ...(extra ? { extra } : {}),
  };
}
/** 0 -> 1 -> 2, then Stay forever at 2. */
const walkThenStay = lasso(model, ['Next', 'Next', 'Stay'], 2);
const verdict = (r: ReturnType<typeof checkLasso>) => (r.ok ? `ok ${r.kind} ${r.loop} ${r.loopSteps} ${r.fairness}` : `fail ${r.step}: ${r.message}`);

describe('when the goal counts as reached', () => {
  const none = { fairness: 'none' as const };
  it('eventually: anywhere on the run, the prefix included', () => {
    expect(verdict(checkLasso(model, walkThenStay, eventually('one', 'W-1', 'x reaches 1', eq(x, 1)), none))).toBe(
      'fail null: the run reaches the goal of one: it is not a counterexample',
    );
    expect(verdict(checkLasso(model, walkThenStay, eventually('set', 'W-1', 'b is set', flag), none))).toBe('ok cycle 2 1 none');
  });

  it('alwaysEventually: only inside the loop', () => {
    expect(verdict(checkLasso(model, walkThenStay, alwaysEventually('one', 'W-1', 'x is 1 again and again', eq(x, 1)), none))).toBe('ok cycle 2 1 none');
    expect(verdict(checkLasso(model, walkThenStay, alwaysEventually('two', 'W-1', 'x is 2 again and again', eq(x, 2)), none))).toMatch(
      /^fail null: the run reaches the goal/,
    );
  });

  it('leadsTo: after each state where p holds (the loop counted from its start); never needed when p never holds', () => {
    // p at state 0, q at state 1 (before the loop): reached.
    expect(verdict(checkLasso(model, walkThenStay, leadsTo('zero-one', 'W-1', '0 leads to 1', eq(x, 0), eq(x, 1)), none))).toMatch(
      /^fail null: the run reaches/,
    );
    // p never holds: nothing to reach.
    expect(verdict(checkLasso(model, walkThenStay, leadsTo('set-set', 'W-1', 'b leads to b', flag, flag), none))).toMatch(/^fail null: the run reaches/);
    // p at state 1, q only at state 0: not reached.
    expect(verdict(checkLasso(model, walkThenStay, leadsTo('one-zero', 'W-1', '1 leads to 0', eq(x, 1), eq(x, 0)), none))).toBe('ok cycle 2 1 none');
  });
});

describe('fairness on the loop', () => {
  const unset = eventually('never', 'W-1', 'x is never 3', lt(2, x));
  it('the mode stored in the trace is used unless one is given; an unknown one is read as declared', () => {
    const unfair = 'fail null: the loop is unfair: weak Poke() not met';
    expect(verdict(checkLasso(model, walkThenStay, unset))).toBe(unfair);
    expect(verdict(checkLasso(model, { ...walkThenStay, extra: { fairness: 'none' } }, unset))).toBe('ok cycle 2 1 none');
    expect(verdict(checkLasso(model, { ...walkThenStay, extra: { fairness: 'declared' } }, unset))).toBe(unfair);
    expect(verdict(checkLasso(model, { ...walkThenStay, extra: { fairness: 'strong' } }, unset))).toBe(unfair);
    expect(verdict(checkLasso(model, { ...walkThenStay, extra: { fairness: 'none' } }, unset, { fairness: 'declared' }))).toBe(unfair);
  });

  it('a fair rule taken in the prefix, or by the step into the loop state, is not taken on the loop', () => {
    // 0 -> 1 -> 2, Poke into state 3, then Stay: Poke is enabled on the loop and never taken there.
    const pokeIntoLoop = lasso(model, ['Next', 'Next', 'Poke', 'Stay'], 3);
    expect(verdict(checkLasso(model, pokeIntoLoop, unset))).toBe('fail null: the loop is unfair: weak Poke() not met');
    const pokeFirst = lasso(model, ['Poke', 'Next', 'Next', 'Stay'], 3);
    expect(verdict(checkLasso(model, pokeFirst, unset))).toBe('fail null: the loop is unfair: weak Poke() not met');
    // Poke twice inside the loop: fair.
    expect(verdict(checkLasso(model, lasso(model, ['Next', 'Next', 'Poke', 'Poke'], 2), unset))).toBe('ok cycle 2 2 declared');
  });

  it('at most three unmet requirements are named, then how many more', () => {
    const unmet = (nops: number) => {
      const m = buildModel(walker, { params: { nops } });
      return verdict(checkLasso(m, lasso(m, ['Next', 'Next', 'Stay'], 2), unset));
    };
    expect(unmet(1)).toBe('fail null: the loop is unfair: weak Poke(), weak Nop0() not met');
    expect(unmet(2)).toBe('fail null: the loop is unfair: weak Poke(), weak Nop0(), weak Nop1() not met');
    expect(unmet(3)).toBe('fail null: the loop is unfair: weak Poke(), weak Nop0(), weak Nop1(), and 1 more not met');
    expect(unmet(4)).toBe('fail null: the loop is unfair: weak Poke(), weak Nop0(), weak Nop1(), and 2 more not met');
  });
});

describe('a loop on the last state alone must be a stopping state', () => {
  it('names at most three of the rule instances enabled there (only those), then ...', () => {
    const stop = (nops: number) => {
      const m = buildModel(walker, { params: { nops } });
      return verdict(checkLasso(m, lasso(m, ['Next', 'Next'], 2), eventually('never', 'W-1', 'never', lt(2, m.handles.x as never))));
    };
    // At x = 2, Next is disabled.
    expect(stop(0)).toBe('fail 2: the loop is the last state alone, but it is not a stopping state: Stay(), Poke() enabled');
    expect(stop(1)).toBe('fail 2: the loop is the last state alone, but it is not a stopping state: Stay(), Poke(), Nop0() enabled');
    expect(stop(2)).toBe('fail 2: the loop is the last state alone, but it is not a stopping state: Stay(), Poke(), Nop0(), ... enabled');
  });
});

describe('every step is replayed, the last one included', () => {
  const unset = eventually('never', 'W-1', 'x is never 3', lt(2, x));
  const none = { fairness: 'none' as const };
  it('the closing step must be enabled, even when its stored state closes the loop', () => {
    const t = walkThenStay;
    const next = model.instances.find((i) => i.rule.name === 'Next')?.id as number;
    const tampered = { ...t, steps: t.steps.map((s, i) => (i === 3 ? { ...s, choice: next, label: 'Next()' } : s)) };
    expect(verdict(checkLasso(model, tampered, unset, none))).toBe('fail 3: Next() is not enabled in the state before step 3');
  });

  it('a stored start state with a slot too many differs from the start state', () => {
    const t = walkThenStay;
    const longer = { ...t, steps: t.steps.map((s, i) => (i === 0 ? { ...s, state: Int32Array.from([0, 0, -1, 0]) } : s)) };
    expect(verdict(checkLasso(model, longer, unset, none))).toBe("fail 0: the stored start state differs from start state 'start'");
  });

  it('a model error while replaying is a failed check that says so', () => {
    const m = buildModel(walker, { variant: 'bad' });
    const t = lasso(m, ['Next', 'Next', 'Stay'], 2);
    const bad = m.instances.find((i) => i.rule.name === 'Bad')?.id as number;
    const withBad = { ...t, steps: [...t.steps.slice(0, 3), { choice: bad, label: 'Bad()', state: Int32Array.from([2, 0, -1]) }] };
    expect(verdict(checkLasso(m, withBad, unset, none))).toMatch(/^fail null: replay raised a model error: .*Bad\(\)/);
  });
});
