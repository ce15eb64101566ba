/**
 * `spacerSolve` when z3's query answers what a real run of Spacer on a small model rarely or never
 * does: an error, a cancellation, Spacer's own "unknown", and derivations of `Err` that do not fit
 * the encoding or the interpreter. Why this file exists: these answers decide whether `prove --infer
 * --spacer` reports "unknown", fails loudly, or reports a counterexample, and the random protocols
 * of spacer.test.ts never produce them. z3 is the real wasm z3 with a few of its calls scripted (the
 * query's result, the error message, the reason for unknown, the names of the clauses along the
 * trace); every expectation is worked by hand on a three-valued counter with a flag: the clause
 * names the encoding has, the steps the interpreter takes or refuses, the state each step reaches.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Z3_error_code } from 'z3-solver';
import { add, le, lt, not, pre, sub } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { bool, range } from '../../model/lang/types.js';
import { invariant, stepProperty } from '../../properties/property.js';
import type { ChcProperties } from './chc.js';
import { type SpacerAnswer, spacerSolve } from './spacer.js';
import { type SmtSession, shutdownSmt, withSession } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

// Instances: Up() 0, Down() 1, Set() 2, Bump() 3 (x + 1, a model error at x = 2). Start: x = 0, b = false.
const model = buildModel(
  defineProtocol({
    name: 'spacer-answers',
    summary: '',
    spec: '',
    params: {},
    variants: [],
    build(b) {
      const x = b.v('x', range(0, 2));
      const flag = b.v('b', bool);
      b.init('zero', () => []);
      b.rule('Up', {}, () => ({ guard: lt(x, 2), body: [assign(x, add(x, 1))] }));
      b.rule('Down', {}, () => ({ guard: lt(0, x), body: [assign(x, sub(x, 1))] }));
      b.rule('Set', {}, () => ({ guard: true, body: [assign(flag, true)] }));
      b.rule('Bump', {}, () => ({ guard: true, body: [assign(x, add(x, 1))] }));
      return { x, flag };
    },
  }),
);
const { x, flag } = model.handles;
const props: ChcProperties = {
  invariants: [invariant('never-b', 'N', '', not(flag))],
  steps: [stepProperty(model, 'up-lowers', 'U', '', 'Up', () => le(x, pre(x)))],
};

/** What the scripted z3 calls do; the others are the real z3's. */
interface Script {
  /** The query's result (after `wait`, if any); `error` is first recorded in the context. */
  readonly result: number;
  readonly error?: Z3_error_code;
  readonly errorMsg?: string;
  readonly reasonUnknown?: string;
  readonly trace?: string;
  readonly wait?: () => Promise<void>;
}

/** Runs spacerSolve on the model with some z3 calls scripted; counts the queries and the fixedpoints taken and released. */
async function run(session: SmtSession, script: Script, deadline: number | null) {
  const real = session.z;
  const { ctx } = session;
  const count = { queries: 0, incRef: 0, decRef: 0 };
  const over: Record<string, unknown> = {
    fixedpoint_query: async () => {
      count.queries++;
      await script.wait?.();
      if (script.error !== undefined) real.set_error(ctx, script.error);
      return script.result;
    },
    fixedpoint_inc_ref: (c: never, fp: never) => {
      count.incRef++;
      real.fixedpoint_inc_ref(c, fp);
    },
    fixedpoint_dec_ref: (c: never, fp: never) => {
      count.decRef++;
      real.fixedpoint_dec_ref(c, fp);
    },
    ...(script.errorMsg === undefined ? {} : { get_error_msg: () => script.errorMsg }),
    ...(script.reasonUnknown === undefined ? {} : { fixedpoint_get_reason_unknown: () => script.reasonUnknown }),
    ...(script.trace === undefined ? {} : { fixedpoint_get_rule_names_along_trace: () => real.mk_string_symbol(ctx, script.trace as string) }),
  };
  const z = new Proxy(real, { get: (t, p) => (typeof p === 'string' && p in over ? over[p] : Reflect.get(t, p)) });
  const scripted = new Proxy(session, {
    get: (t, p) => {
      if (p === 'z') return z;
      const v = Reflect.get(t, p);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const timersBefore = timers();
  const start = Date.now();
  let answer: SpacerAnswer | Error;
  try {
    answer = await spacerSolve(scripted, model, props, deadline);
  } catch (e) {
    answer = e as Error;
  }
  const took = Date.now() - start;
  // timersLeft: timers started and not stopped (other timers of the process may end meanwhile).
  return { answer, took, count, timersLeft: timers() - timersBefore, errorLeft: real.get_error_code(ctx) };
}

/** The answer without its time, after checking the time is within the call's. */
function timed(r: Awaited<ReturnType<typeof run>>): unknown {
  if (r.answer instanceof Error) return r.answer;
  const { elapsedMs, ...rest } = r.answer;
  expect(elapsedMs).toBeGreaterThanOrEqual(0);
  expect(elapsedMs).toBeLessThanOrEqual(r.took);
  return rest;
}

/** What a run left behind: a z3 error code, its queries, references taken and released, and whether no timer is left. */
const leftOver = (r: Awaited<ReturnType<typeof run>>) => ({ errorLeft: r.errorLeft, ...r.count, timersLeft: r.timersLeft <= 0 });
/** A run that asked `queries` queries, released its fixedpoint once, and left no error and no timer. */
const clean = (queries: number) => ({ errorLeft: 0, queries, incRef: 1, decRef: 1, timersLeft: true });
const sleepUntil = (t: number) => () => new Promise<void>((res) => setTimeout(res, Math.max(0, t - Date.now())));

describe('spacerSolve on scripted answers of z3', () => {
  it('a z3 error that is not a cancellation is thrown with z3 message, the error cleared and the fixedpoint released', async () => {
    await withSession(async (session) => {
      const r = await run(session, { result: 0, error: Z3_error_code.Z3_INVALID_ARG }, null);
      expect(r.answer).toEqual(new Error(`z3 error: ${session.z.get_error_msg(session.ctx, Z3_error_code.Z3_INVALID_ARG)}`));
      expect(leftOver(r)).toEqual(clean(1));
    });
  }, 60_000);

  it('a cancelled or timed-out query is unknown with z3 message, or as a time limit when it ends within the last second before the deadline', async () => {
    await withSession(async (session) => {
      const cancelled = (msg: string, deadline: number | null, wait?: () => Promise<void>) =>
        run(session, { result: 0, error: Z3_error_code.Z3_EXCEPTION, errorMsg: msg, wait }, deadline);
      const got: unknown[] = [];
      for (const r of [
        await cancelled('canceled', null),
        await cancelled('timeout', null),
        await cancelled('Canceled', Date.now() + 60_000),
        await (async () => {
          const deadline = Date.now() + 1500;
          return cancelled('canceled', deadline, sleepUntil(deadline - 700));
        })(),
      ]) {
        expect(leftOver(r)).toEqual(clean(1));
        got.push(timed(r));
      }
      expect(got).toEqual([
        { status: 'unknown', reason: 'canceled' },
        { status: 'unknown', reason: 'timeout' },
        { status: 'unknown', reason: 'Canceled' },
        { status: 'unknown', reason: 'time limit reached' },
      ]);
    });
  }, 60_000);

  it("Spacer's own unknown gives its reason, as a time limit only for a timeout or cancellation within the last 50 ms before the deadline", async () => {
    await withSession(async (session) => {
      const unknown = async (why: string, far: boolean | null) => {
        const deadline = far === null ? null : Date.now() + (far ? 60_000 : 600);
        const r = await run(session, { result: 0, reasonUnknown: why, wait: deadline !== null && !far ? sleepUntil(deadline - 30) : undefined }, deadline);
        expect(leftOver(r)).toEqual(clean(1));
        return timed(r);
      };
      expect([
        await unknown('incomplete', null),
        await unknown('incomplete', false),
        await unknown('timeout', null),
        await unknown('timeout', true),
        await unknown('timeout', false),
        await unknown('canceled', false),
      ]).toEqual([
        { status: 'unknown', reason: 'incomplete' },
        { status: 'unknown', reason: 'incomplete' },
        { status: 'unknown', reason: 'timeout' },
        { status: 'unknown', reason: 'timeout' },
        { status: 'unknown', reason: 'time limit reached' },
        { status: 'unknown', reason: 'time limit reached' },
      ]);
    });
  }, 60_000);

  it('a deadline already passed is a time limit at once, without a query', async () => {
    await withSession(async (session) => {
      const r = await run(session, { result: 1, trace: 'init:0;step:2;invariant:never-b' }, Date.now() - 1);
      expect(timed(r)).toEqual({ status: 'unknown', reason: 'time limit reached' });
      expect(leftOver(r)).toEqual(clean(0));
    });
  }, 60_000);

  it('a derivation of Err is replayed from the start state in either order: Set breaks never-b, Bump at x = 2 is a model error, Up breaks up-lowers at once', async () => {
    await withSession(async (session) => {
      const unsafe = async (trace: string) => {
        const r = await run(session, { result: 1, trace }, Date.now() + 60_000);
        expect(leftOver(r)).toEqual(clean(1));
        const a = timed(r) as { path?: { states: Int32Array[] } };
        return a.path ? { ...a, path: { ...a.path, states: a.path.states.map((s) => [...s]) } } : a;
      };
      const path = (choices: number[], states: number[][]) => ({ choices, states, fromInit: true });
      expect(await unsafe('init:0;step:2;invariant:never-b;<null>')).toEqual({
        status: 'unsafe',
        clause: 'invariant:never-b',
        path: path(
          [0, 2],
          [
            [0, 0],
            [0, 1],
          ],
        ),
      });
      // From the query back to the fact, with spaces around the names.
      expect(await unsafe('<null>; invariant:never-b ;step:2 ; init:0 ')).toEqual({
        status: 'unsafe',
        clause: 'invariant:never-b',
        path: path(
          [0, 2],
          [
            [0, 0],
            [0, 1],
          ],
        ),
      });
      expect(await unsafe('init:0;step:0;step:0;error:3')).toEqual({
        status: 'unsafe',
        clause: 'error:3',
        path: path(
          [0, 0, 0],
          [
            [0, 0],
            [1, 0],
            [2, 0],
          ],
        ),
      });
      expect(await unsafe('init:0;stepProperty:up-lowers:0')).toEqual({
        status: 'unsafe',
        clause: 'stepProperty:up-lowers:0',
        path: path(
          [0, 0],
          [
            [0, 0],
            [1, 0],
          ],
        ),
      });
    });
  }, 60_000);

  it('a derivation that does not fit is a disagreement: an unknown clause, no start fact or no obligation at its ends, an obligation inside, a step the interpreter finds disabled, a model error on the way', async () => {
    await withSession(async (session) => {
      const answers: unknown[] = [];
      const traces = [
        'init:0;step:9;invariant:never-b',
        'init:0;step:2;invariant:no-such',
        'step:2;invariant:never-b',
        'invariant:never-b;step:2;invariant:never-b',
        'init:0;step:2',
        '<null>',
        'init:0;invariant:never-b;step:2;invariant:never-b',
        'init:0;step:2;error:3;invariant:never-b',
        'init:0;step:1;invariant:never-b',
        'init:0;step:0;step:0;step:3;step:2;invariant:never-b',
      ];
      for (const trace of traces) {
        const r = await run(session, { result: 1, trace }, Date.now() + 60_000);
        expect(leftOver(r)).toEqual(clean(1));
        answers.push(timed(r));
      }
      const no = (message: string) => ({ status: 'disagree', message });
      expect(answers).toEqual([
        no(`Spacer's derivation names clauses this encoding does not have: ${traces[0]}`),
        no(`Spacer's derivation names clauses this encoding does not have: ${traces[1]}`),
        no(`Spacer's derivation is not a start fact, steps and an obligation: ${traces[2]}`),
        no(`Spacer's derivation is not a start fact, steps and an obligation: ${traces[3]}`),
        no(`Spacer's derivation is not a start fact, steps and an obligation: ${traces[4]}`),
        no("Spacer's derivation is not a start fact, steps and an obligation: "),
        no(`Spacer's derivation has an obligation in the middle: ${traces[6]}`),
        no(`Spacer's derivation has an obligation in the middle: ${traces[7]}`),
        no("Spacer's derivation takes Down(), which the interpreter finds disabled"),
        no("the interpreter raises a model error along Spacer's derivation: in rule Bump(): value 3 out of range 0..2 assigned to x"),
      ]);
    });
  }, 60_000);
});
