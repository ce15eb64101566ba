/**
 * Bounded model checking through an instrumented z3 session (the `session` option of `bmcCheck`).
 * Why this test exists: what BMC does between the verdicts the other tests compare with BFS is
 * only visible at the session: how many queries it sends and with which deadline, that it releases
 * every model and solver, what it reports when z3 answers `unknown`, how often it reports progress,
 * and that its replay guard turns a wrong answer of the encoding into MC040 instead of a verdict.
 * The wrapper passes every call to a real session, and can answer `unknown` at a chosen query, or
 * drop chosen assertions (the transition relation, the start states, a query) to play a broken
 * encoding, whose answers the interpreter must then refuse.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { add, eq, lt, mul } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { range } from '../../model/lang/types.js';
import { type Property, cover, invariant } from '../../properties/property.js';
import { explicitCheck } from '../explicit/explicit.js';
import type { CheckJob, Progress } from '../engine.js';
import { bmcCheck } from './bmc.js';
import { findNativeZ3 } from './nativeZ3.js';
import { type CheckAnswer, type SmtSession, shutdownSmt, withSession } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** n counts from 0 to 3 (a legal end state), one step at a time. */
const counter = defineProtocol({
  name: 'bmc-session-counter',
  summary: 'a counter',
  spec: 'checker/smt/bmcSession.test.ts',
  params: {},
  variants: [],
  build(b) {
    const n = b.v('n', range(0, 3));
    b.init('zero', () => []);
    b.rule('Inc', {}, () => ({ guard: lt(n, 3), body: [assign(n, add(n, 1))] }));
    b.endState(() => eq(n, 3));
    return { n };
  },
});

interface Tamper {
  /** The answer of the query with this 1-based number, instead of z3's. */
  readonly unknownAt?: number;
  /** `lastReason` after that answer. */
  readonly reason?: string;
  /** Drop the assertions made outside push/pop whose 0-based number this accepts. */
  readonly dropTop?: (i: number) => boolean;
  /** Drop the first assertion after every push (BMC's query). */
  readonly dropQuery?: boolean;
  /** Milliseconds each check takes (a real wait), and how far a fake clock advances per check. */
  readonly waitMs?: number;
  readonly clock?: { now: number; step: number };
}

/** A session that passes everything to `real`, records it, and tampers as asked. */
function instrumented(real: SmtSession, tamper: Tamper = {}) {
  const log = { queries: 0, deadlines: [] as (number | null)[], openModels: 0, openSolvers: 0, depth: 0, tops: 0, afterPush: false };
  let reason: string | null = null;
  const session = new Proxy(real, {
    get(target, p) {
      switch (p) {
        case 'lastReason':
          return reason ?? target.lastReason;
        case 'newSolver':
          return (...a: Parameters<SmtSession['newSolver']>) => {
            log.openSolvers++;
            return target.newSolver(...a);
          };
        case 'releaseSolver':
          return (s: Parameters<SmtSession['releaseSolver']>[0]) => {
            log.openSolvers--;
            target.releaseSolver(s);
          };
        case 'model':
          return (s: Parameters<SmtSession['model']>[0]) => {
            log.openModels++;
            return target.model(s);
          };
        case 'releaseModel':
          return (m: Parameters<SmtSession['releaseModel']>[0]) => {
            log.openModels--;
            target.releaseModel(m);
          };
        case 'push':
          return (s: Parameters<SmtSession['push']>[0]) => {
            log.depth++;
            log.afterPush = true;
            target.push(s);
          };
        case 'pop':
          return (s: Parameters<SmtSession['pop']>[0]) => {
            log.depth--;
            target.pop(s);
          };
        case 'add':
          return (s: Parameters<SmtSession['add']>[0], t: Parameters<SmtSession['add']>[1]) => {
            const query = log.afterPush;
            log.afterPush = false;
            if (log.depth === 0 && tamper.dropTop?.(log.tops++)) return;
            if (query && tamper.dropQuery) return;
            target.add(s, t);
          };
        case 'check':
          return async (s: Parameters<SmtSession['check']>[0], deadline: number | null): Promise<CheckAnswer> => {
            log.queries++;
            log.deadlines.push(deadline);
            if (tamper.clock) tamper.clock.now += tamper.clock.step;
            if (tamper.waitMs) await new Promise((r) => setTimeout(r, tamper.waitMs));
            if (log.queries === tamper.unknownAt) {
              reason = tamper.reason ?? 'canceled';
              return 'unknown';
            }
            return target.check(s, deadline);
          };
        default: {
          const v = Reflect.get(target, p, target);
          return typeof v === 'function' ? v.bind(target) : v;
        }
      }
    },
  });
  return { session, log };
}

/** Runs BMC on `job` in an instrumented session. */
async function run(job: CheckJob, tamper: Tamper = {}, opts: { covers?: boolean; onProgress?: (p: Progress) => void } = {}) {
  return withSession(async (real) => {
    const { session, log } = instrumented(real, tamper);
    const hooks = opts.onProgress ? { onProgress: opts.onProgress } : {};
    const r = await bmcCheck(job, hooks, { session, covers: opts.covers ?? true });
    return { r, log };
  });
}

describe('what BMC asks the solver', () => {
  it('one query per level and one for the last level; none for start states with nothing to violate; every model, push and solver released', async () => {
    const model = buildModel(counter);
    const before = Date.now();
    const { r, log } = await run({ model, properties: [], limits: { depth: 5 } }, { waitMs: 3 });
    const wall = Date.now() - before;
    expect(r.status === 'ok' && [r.guarantee, r.bound]).toEqual(['bounded', 5]);
    // Levels 0..4 (a state stuck at k, or a violation at k+1), then the states at depth 5.
    expect(log.queries).toBe(6);
    expect(r.stats).toMatchObject({ engine: 'smt', depth: 5, queries: 6 });
    expect(log.deadlines).toEqual([null, null, null, null, null, null]);
    expect(r.stats.solverMs).toBeGreaterThanOrEqual(6 * 3);
    expect(r.stats.solverMs).toBeLessThanOrEqual(r.stats.elapsedMs);
    expect(r.stats.elapsedMs).toBeLessThanOrEqual(wall);
    expect([log.openModels, log.depth, log.openSolvers]).toEqual([0, 0, 0]);
  }, 30_000);

  it('with a time limit, every query carries the deadline: start plus the limit', async () => {
    const model = buildModel(counter);
    const before = Date.now();
    const { r, log } = await run({ model, properties: [], limits: { depth: 3, timeLimitSec: 100 } });
    const after = Date.now();
    expect(r.status).toBe('ok');
    expect(log.deadlines.length).toBe(4);
    for (const d of log.deadlines) {
      expect(d).toBeGreaterThanOrEqual(before + 100_000);
      expect(d).toBeLessThanOrEqual(after + 100_000);
    }
    expect(new Set(log.deadlines).size).toBe(1);
  }, 30_000);

  it('a start state that breaks an invariant is found by the first query, at depth 0', async () => {
    const model = buildModel(counter);
    const { r, log } = await run({ model, properties: [invariant('n-positive', 'T-1', 'n is never 0', lt(0, model.handles.n))], limits: { depth: 4 } });
    expect(r.status === 'violated' && r.violations[0]?.trace?.steps.length).toBe(1);
    expect([r.stats.depth, log.queries]).toEqual([0, 1]);
  }, 30_000);

  it('a start state with no enabled rule is a deadlock at depth 0, as BFS finds it', async () => {
    const stuck = defineProtocol({
      name: 'bmc-session-stuck',
      summary: 'no rule is ever enabled',
      spec: 'checker/smt/bmcSession.test.ts',
      params: {},
      variants: [],
      build(b) {
        const n = b.v('n', range(0, 3));
        b.init('zero', () => []);
        b.rule('Inc', {}, () => ({ guard: lt(2, n), body: [assign(n, 0)] }));
        return { n };
      },
    });
    const model = buildModel(stuck);
    const bfs = explicitCheck({ model, properties: [], limits: {} });
    const { r, log } = await run({ model, properties: [], limits: { depth: 3 } });
    for (const x of [bfs, r]) expect(x.status === 'violated' && [x.violations[0]?.kind, x.violations[0]?.trace?.steps.length]).toEqual(['deadlock', 1]);
    expect([r.stats.depth, log.queries, log.openModels]).toEqual([0, 1, 0]);
  }, 30_000);

  it('a cover that holds in the start state is reached at depth 0; a cover query that cannot hold is not sent', async () => {
    const model = buildModel(counter);
    const { n } = model.handles;
    // 'never' folds to false before z3 (n + 10 is at most 13): it is reported unreached without a query.
    const covers: Property[] = [
      cover('start', 'C-1', 'n is 0', eq(n, 0)),
      cover('two', 'C-2', 'n is 2', eq(n, 2)),
      cover('never', 'C-3', 'n + 10 is 20', eq(add(n, 10), 20)),
    ];
    const bfs = explicitCheck({ model, properties: covers, limits: {} });
    const { r, log } = await run({ model, properties: covers, limits: { depth: 3 } });
    // BFS reports the unreached cover as a violation; BMC's verdict is bounded, so only the cover list is compared.
    if (r.status !== 'ok' || bfs.status !== 'violated') throw new Error(`${r.status} ${bfs.status}`);
    expect(r.covers).toEqual(bfs.covers);
    expect(r.covers.map((c) => c.depth)).toEqual([0, 2, null]);
    // Cover queries until one is unsatisfiable or none is pending: at depth 0 two ('start' found,
    // then nothing more), at 1 one (unsat), at 2 one ('two' found, none pending after it), none
    // later; plus levels 0..2 and the last level's stuck states.
    expect(log.queries).toBe(4 + 4);
    expect([log.openModels, log.depth, log.openSolvers]).toEqual([0, 0, 0]);
  }, 30_000);

  it('a model the SMT translation cannot express is MC010, and the solver is released', async () => {
    const wide = defineProtocol({
      name: 'bmc-session-wide',
      summary: 'a product too wide for the bit-vectors',
      spec: 'checker/smt/bmcSession.test.ts',
      params: {},
      variants: [],
      build(b) {
        const a = b.v('a', range(0, 40_000));
        b.init('zero', () => []);
        b.rule('Inc', {}, () => ({ guard: lt(a, 40_000), body: [assign(a, add(a, 1))] }));
        return { a };
      },
    });
    const model = buildModel(wide);
    const { r, log } = await run({
      model,
      properties: [invariant('square', 'T-1', 'a * a stays small', lt(mul(model.handles.a, model.handles.a), 5))],
      limits: { depth: 2 },
    });
    expect(r.status === 'error' && r.code).toBe('MC010');
    expect(log.openSolvers).toBe(0);
  }, 30_000);
});

describe('the solver', () => {
  it.skipIf(findNativeZ3() === null)(
    'is the one the job names: a counterexample found with native z3 says so',
    async () => {
      const model = buildModel(counter);
      const props = [invariant('below-2', 'T-1', 'n stays below 2', lt(model.handles.n, 2))];
      const r = await bmcCheck({ model, properties: props, limits: { depth: 3 }, solver: 'native' });
      expect(r.status === 'violated' && r.violations[0]?.trace?.extra).toEqual({ depth: 2, solver: 'z3-native' });
    },
    30_000,
  );
});

describe('a failure that is not the model', () => {
  it('an internal error of the solver is thrown, not reported as a model the translation cannot express', async () => {
    const model = buildModel(counter);
    await expect(
      withSession(async (real) => {
        const session = new Proxy(real, {
          get(target, p) {
            if (p === 'check') return async () => Promise.reject(new Error('solver crashed'));
            const v = Reflect.get(target, p, target);
            return typeof v === 'function' ? v.bind(target) : v;
          },
        });
        return bmcCheck({ model, properties: [], limits: { depth: 2 } }, {}, { session });
      }),
    ).rejects.toThrow('solver crashed');
  }, 30_000);
});

describe('z3 answering unknown', () => {
  it('gives incomplete, naming the depth of the query and how deep the search got', async () => {
    const model = buildModel(counter);
    for (const q of [1, 3]) {
      const { r, log } = await run({ model, properties: [], limits: { depth: 6 } }, { unknownAt: q, reason: 'canceled' });
      expect(r.status).toBe('incomplete');
      if (r.status !== 'incomplete') return;
      // Query q is level q-1: a state stuck at q-1 or a violation at q; levels below passed.
      expect(r.reason).toBe(`z3 answered unknown at depth ${q} (canceled); no violation within ${q - 1} steps`);
      expect([r.stats.depth, log.queries, log.openModels, log.depth, log.openSolvers]).toEqual([q - 1, q, 0, 0, 0]);
    }
  }, 30_000);

  it("is a time limit only when the job has one; without it, the solver's reason is given", async () => {
    const model = buildModel(counter);
    const timed = await run({ model, properties: [], limits: { depth: 6, timeLimitSec: 50 } }, { unknownAt: 3, reason: 'time limit reached' });
    expect(timed.r.status === 'incomplete' && timed.r.reason).toBe('time limit of 50s reached at depth 3 (no violation within 2 steps)');
    const canceled = await run({ model, properties: [], limits: { depth: 6, timeLimitSec: 50 } }, { unknownAt: 3, reason: 'canceled' });
    expect(canceled.r.status === 'incomplete' && canceled.r.reason).toBe('z3 answered unknown at depth 3 (canceled); no violation within 2 steps');
    const untimed = await run({ model, properties: [], limits: { depth: 6 } }, { unknownAt: 3, reason: 'time limit reached' });
    expect(untimed.r.status === 'incomplete' && untimed.r.reason).toBe('z3 answered unknown at depth 3 (time limit reached); no violation within 2 steps');
  }, 30_000);

  it('while searching cover witnesses', async () => {
    const model = buildModel(counter);
    const covers = [cover('two', 'C-1', 'n is 2', eq(model.handles.n, 2))];
    const { r } = await run({ model, properties: covers, limits: { depth: 4 } }, { unknownAt: 1, reason: 'canceled' });
    expect(r.status === 'incomplete' && r.reason).toBe(
      'z3 answered unknown while searching cover witnesses at depth 0 (canceled); no violation within 0 steps',
    );
    expect(r.status === 'incomplete' && r.covers).toEqual([{ name: 'two', requirement: 'C-1', reached: false, depth: null }]);
  }, 30_000);
});

describe('progress', () => {
  it('at most one report a second, with the depth reached and the queries sent', async () => {
    const clock = { now: 1_000_000, step: 500 };
    vi.spyOn(Date, 'now').mockImplementation(() => clock.now);
    const reports: Progress[] = [];
    const model = buildModel(counter);
    const { r } = await run({ model, properties: [], limits: { depth: 6 } }, { clock }, { onProgress: (p) => reports.push(p) });
    expect(r.status).toBe('ok');
    // Each query takes 500 ms of the clock: after levels 0..5 the clock reads 500, 1000, ...
    expect(reports.map((p) => [p.depth, p.elapsedMs, p.generated])).toEqual([
      [2, 1000, 2],
      [4, 2000, 4],
      [6, 3000, 6],
    ]);
  }, 30_000);
});

describe('the replay guard refuses what a broken encoding answers', () => {
  const model = buildModel(counter);
  const props = [invariant('below-3', 'T-1', 'n stays below 3', lt(model.handles.n, 3))];

  it('the right answer first: n reaches 3 in three steps', async () => {
    const { r } = await run({ model, properties: props, limits: { depth: 5 } });
    expect(r.status === 'violated' && r.violations[0]?.trace?.steps.length).toBe(4);
  }, 30_000);

  it('no transition relation: a path the rules do not take is MC040', async () => {
    // Top-level assertions: state 0's domain, the start states, then state 1's domain and the step.
    const { r, log } = await run({ model, properties: props, limits: { depth: 5 } }, { dropTop: (i) => i >= 2 });
    expect(r.status === 'error' && [r.code, r.trace]).toEqual(['MC040', null]);
    // The first level's query: state 1 is not what the step from state 0 gives.
    expect(r.status === 'error' && r.message).toMatch(/^the SMT encoding and the interpreter disagree at depth 1: /);
    expect(r.status === 'error' && r.message).not.toMatch(/claims/);
    expect([log.openModels, log.depth, log.openSolvers]).toEqual([0, 0, 0]);
  }, 30_000);

  it('no query: a claimed violation the interpreter does not find is MC040', async () => {
    const { r } = await run({ model, properties: props, limits: { depth: 5 } }, { dropQuery: true });
    expect(r.status === 'error' && r.code).toBe('MC040');
    // The start states' query, unconstrained: the start state, where every invariant holds.
    expect(r.status === 'error' && r.message).toMatch(/disagree at depth 0: z3 claims a property fails/);
  }, 30_000);

  it('no start states: a cover witness from a state that is not a start state is MC040', async () => {
    const covers = [cover('three', 'C-1', 'n is 3', eq(model.handles.n, 3))];
    const { r, log } = await run({ model, properties: covers, limits: { depth: 5 }, deadlock: false }, { dropTop: (i) => i === 1 });
    expect(r.status === 'error' && r.code).toBe('MC040');
    expect(r.status === 'error' && r.message).toMatch(/cover witness/);
    expect([log.openModels, log.depth, log.openSolvers]).toEqual([0, 0, 0]);
  }, 30_000);

  it('no cover query: a witness in which no cover holds is MC040', async () => {
    const covers = [cover('three', 'C-1', 'n is 3', eq(model.handles.n, 3))];
    const { r } = await run({ model, properties: covers, limits: { depth: 5 }, deadlock: false }, { dropQuery: true });
    expect(r.status === 'error' && r.code).toBe('MC040');
    expect(r.status === 'error' && r.message).toMatch(/cover holds/);
  }, 30_000);
});
