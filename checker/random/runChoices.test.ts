/**
 * One run of the random engine, driven by a choice list (runChoices.ts), on a counter whose every
 * successor is known: a choice picks among the enabled instances modulo their number; the run
 * stops at a broken invariant (in the start state too), a broken step property, a deadlock, a legal
 * end state or a model error, and says how many steps it took and successors it generated; the
 * states are reported with their depth and recorded as copies; a swarm run takes held-back
 * instances only when nothing else is enabled; and a list of instances is run back as choices.
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../model/lang/compile.js';
import { add, and, eq, lt, ne } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { range } from '../../model/lang/types.js';
import { type Property, invariant, stepProperty } from '../../properties/property.js';
import { ChoiceRunner, type RecordedStep } from './runChoices.js';

/** n counts 0..3 by Inc or jumps from 1 to 3 (Jump); 3 is a legal end state unless `no-end`; `overflow`: Inc at 3 overflows. */
const counter = defineProtocol({
  name: 'choice-counter',
  summary: 'a counter',
  spec: 'checker/random/runChoices.test.ts',
  params: {},
  variants: [
    { name: 'no-end', summary: '3 is a deadlock', cites: 'test' },
    { name: 'overflow', summary: 'Inc overflows at 3', cites: 'test' },
  ],
  build(b, cfg) {
    const n = b.v('n', range(0, 3));
    b.init('zero', () => []);
    b.rule('Inc', {}, () => ({ guard: lt(n, cfg.is('overflow') ? 4 : 3), body: [assign(n, add(n, 1))] }));
    b.rule('Jump', {}, () => ({ guard: eq(n, 1), body: [assign(n, 3)] }));
    if (!cfg.is('no-end')) b.endState(() => eq(n, 3));
    return { n };
  },
});
const [INC, JUMP] = [0, 1];
const ZERO = Int32Array.from([0]);

function runner(variant: string | null = null, properties: Property[] = []) {
  const model = buildModel(counter, { variant });
  return new ChoiceRunner(compileModel(model, properties), model.layout.nSlots, model.instances.length);
}

describe('ChoiceRunner.run', () => {
  it('a choice picks among the enabled instances modulo their number', () => {
    const r = runner();
    // n = 0: Inc only; n = 1: Inc, Jump (choice 1 is Jump).
    expect(r.run(ZERO, [0, 1], { checkDeadlock: true })).toEqual({ length: 2, generated: 3, stop: null, ended: false });
    expect(r.current[0]).toBe(3);
    // Choice 7 at n = 0 is 7 mod 1 = Inc; choice 2 at n = 1 is 2 mod 2 = Inc.
    expect(r.run(ZERO, [7, 2], { checkDeadlock: true })).toEqual({ length: 2, generated: 3, stop: null, ended: false });
    expect(r.current[0]).toBe(2);
  });

  it('stops in a legal end state (ended), or reports a deadlock there unless deadlocks are not checked', () => {
    expect(runner().run(ZERO, [0, 0, 0, 0, 0], { checkDeadlock: true })).toEqual({ length: 3, generated: 4, stop: null, ended: true });
    expect(runner('no-end').run(ZERO, [0, 0, 0, 0, 0], { checkDeadlock: true })).toEqual({ length: 3, generated: 4, stop: { kind: 'deadlock' }, ended: false });
    expect(runner('no-end').run(ZERO, [0, 0, 0, 0, 0], { checkDeadlock: false })).toEqual({ length: 3, generated: 4, stop: null, ended: true });
  });

  it('stops at the first broken invariant (its index), in the start state too', () => {
    const model = buildModel(counter);
    const { n } = model.handles;
    const r = runner(null, [invariant('any', 'I-0', 'true', true), invariant('not-2', 'I-1', 'n is never 2', ne(n, 2))]);
    expect(r.run(ZERO, [0, 0, 0], { checkDeadlock: true })).toEqual({ length: 2, generated: 3, stop: { kind: 'invariant', index: 1 }, ended: false });
    const r0 = runner(null, [invariant('not-0', 'I-2', 'n is never 0', ne(n, 0))]);
    expect(r0.run(ZERO, [0, 0], { checkDeadlock: true })).toEqual({ length: 0, generated: 0, stop: { kind: 'invariant', index: 0 }, ended: false });
  });

  it('stops at a broken step property (its index), at the step that breaks it', () => {
    const model = buildModel(counter);
    const noJump = stepProperty(model, 'no-jump', 'I-3', 'nobody jumps', 'Jump', () => false);
    const r = runner(null, [noJump]);
    expect(r.run(ZERO, [0, 0, 0], { checkDeadlock: true }).stop).toBeNull();
    expect(r.run(ZERO, [0, 1, 0], { checkDeadlock: true })).toEqual({ length: 2, generated: 3, stop: { kind: 'step', index: 0 }, ended: false });
  });

  it('a model error while expanding a state stops the run there', () => {
    const out = runner('overflow').run(ZERO, [0, 0, 0, 0, 0], { checkDeadlock: true });
    expect([out.length, out.generated, out.stop?.kind, out.ended]).toEqual([3, 4, 'modelError', false]);
  });

  it('reports every state with its depth, and records each step as a copy', () => {
    const seen: [number, number][] = [];
    const rec: RecordedStep[] = [];
    runner().run(ZERO, [0, 1], { checkDeadlock: true, onState: (s, d) => seen.push([s[0] as number, d]), record: (st) => rec.push(st) });
    expect(seen).toEqual([
      [0, 0],
      [1, 1],
      [3, 2],
    ]);
    expect(rec.map((st) => [st.instance, Array.from(st.state)])).toEqual([
      [INC, [1]],
      [JUMP, [3]],
    ]);
  });

  it('a swarm run takes a held-back instance only when nothing else is enabled', () => {
    const r = runner();
    const holdInc = Uint8Array.from([1, 0]);
    // n = 0: only Inc (held back) is enabled, so it is taken; n = 1: Jump, whatever the choice.
    expect(r.run(ZERO, [0, 0], { checkDeadlock: true, heldBack: holdInc }).length).toBe(2);
    expect(r.current[0]).toBe(3);
    expect(r.run(ZERO, [0, 0], { checkDeadlock: true, heldBack: Uint8Array.from([0, 0]) }).length).toBe(2);
    expect(r.current[0]).toBe(2);
    // Nothing held back: the choice picks among all enabled instances (choice 1 at n = 1 is Jump).
    r.run(ZERO, [0, 1], { checkDeadlock: true, heldBack: Uint8Array.from([0, 0]) });
    expect(r.current[0]).toBe(3);
    const holdJump = Uint8Array.from([0, 1]);
    r.run(ZERO, [1, 1], { checkDeadlock: true, heldBack: holdJump });
    expect(r.current[0]).toBe(2);
  });
});

describe('ChoiceRunner.runInstances', () => {
  it('runs instances by id, giving the positions among the enabled ones as choices', () => {
    const got = runner().runInstances(ZERO, [INC, JUMP], true);
    expect(got).toEqual({ outcome: { length: 2, generated: 3, stop: null, ended: false }, choices: [0, 1], taken: [INC, JUMP] });
  });

  it('an instance that is not enabled: null, or left out when asked to skip it', () => {
    expect(runner().runInstances(ZERO, [JUMP, INC], true)).toBeNull();
    expect(runner().runInstances(ZERO, [JUMP, INC, JUMP], true, true)).toEqual({
      outcome: { length: 2, generated: 3, stop: null, ended: false },
      choices: [0, 1],
      taken: [INC, JUMP],
    });
  });

  it('moves on to the whole successor of each instance taken, of a model of two slots: B, enabled only once A has run, is found after A', () => {
    /** Two slots: A raises a (to 2); B raises b once a > 0. */
    const pair = defineProtocol({
      name: 'choice-pair',
      summary: 'two slots',
      spec: 'checker/random/runChoices.test.ts',
      params: {},
      variants: [],
      build(b) {
        const a = b.v('a', range(0, 2));
        const c = b.v('b', range(0, 2));
        b.init('zero', () => []);
        b.rule('A', {}, () => ({ guard: lt(a, 2), body: [assign(a, add(a, 1))] }));
        b.rule('B', {}, () => ({ guard: and(lt(c, 2), lt(0, a)), body: [assign(c, add(c, 1))] }));
        return { a, c };
      },
    });
    const model = buildModel(pair);
    const r = new ChoiceRunner(compileModel(model, []), model.layout.nSlots, model.instances.length);
    // (0,0): A only; (1,0): A, B (B is choice 1); (1,1): A, B (A is choice 0); then (2,1).
    expect(r.runInstances(Int32Array.from([0, 0]), [0, 1, 0], true)).toEqual({
      outcome: { length: 3, generated: 5, stop: null, ended: false },
      choices: [0, 1, 0],
      taken: [0, 1, 0],
    });
    expect(Array.from(r.current)).toEqual([2, 1]);
  });

  it('a model error on the way: null', () => {
    expect(runner('overflow').runInstances(ZERO, [INC, INC, INC, INC], true)).toBeNull();
    expect(runner('overflow').runInstances(ZERO, [INC, INC, INC, INC], true, true)).toBeNull();
  });
});
