/**
 * The explicit search (search.ts, expander.ts, explicit.ts) against an independent one
 * (test/searchWalk.ts): a naive walk over the interpreter (not the compiled rules), states as
 * strings in a Set, that follows the order the engine documents (start states in init order, then breadth-first levels, each state's
 * rule instances in order; depth-first: a stack). On random small protocols, with every store,
 * with and without state and depth limits, the engine must report exactly what that walk reports:
 * the verdict, the property, the state the trace ends in and its length, the number of states and
 * transitions, the deepest level, the depth of each cover, and where a limit stops it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STORES, build, counters, expectSame, planArb, walk } from '../../test/searchWalk.js';
import type { StoreKind } from '../engine.js';
import { explicitCheck, explicitRun } from './explicit.js';

describe('the explicit search against an independent walk over the interpreter', () => {
  it('random protocols, breadth-first, every store: same verdict, end state, trace length, states, transitions, depth and cover depths', () => {
    let violated = 0;
    let ok = 0;
    fc.assert(
      fc.property(planArb(false), (plan) => {
        const { model, properties } = build(plan);
        const covers = properties.filter((p) => p.kind === 'cover').map((p) => p.name);
        const w = walk(model, properties, plan.deadlock, 'bfs', {});
        if (w.end === 'found') violated++;
        else ok++;
        for (const store of STORES) {
          const r = explicitCheck({ model, properties, limits: {}, deadlock: plan.deadlock, explicit: { store, memoryBytes: 1 << 16 } });
          expectSame(r, w, covers, {}, store);
        }
      }),
      { numRuns: 60, seed: 4101 },
    );
    // Both outcomes are exercised.
    expect([violated > 5, ok > 5]).toEqual([true, true]);
  });

  it('random protocols, depth-first: same verdict, end state, trace length, states, transitions, deepest path and first cover depths', () => {
    fc.assert(
      fc.property(planArb(false), (plan) => {
        const { model, properties } = build(plan);
        const covers = properties.filter((p) => p.kind === 'cover').map((p) => p.name);
        const r = explicitCheck({ model, properties, limits: {}, deadlock: plan.deadlock, strategy: 'dfs' });
        expectSame(r, walk(model, properties, plan.deadlock, 'dfs', {}), covers, {}, 'dfs');
      }),
      { numRuns: 60, seed: 4102 },
    );
  });

  it('random protocols with model errors: the first failing state in search order, with its trace and the figures so far, breadth-first and depth-first', () => {
    let errors = 0;
    fc.assert(
      fc.property(planArb(true), (plan) => {
        const { model, properties } = build(plan);
        const covers = properties.filter((p) => p.kind === 'cover').map((p) => p.name);
        for (const strategy of ['bfs', 'dfs'] as const) {
          const w = walk(model, properties, plan.deadlock, strategy, {});
          if (w.found?.kind === 'error') errors++;
          const stores = strategy === 'bfs' ? STORES : (['exact'] as StoreKind[]);
          for (const store of stores) {
            const r = explicitCheck({ model, properties, limits: {}, deadlock: plan.deadlock, strategy, explicit: { store, memoryBytes: 1 << 16 } });
            expectSame(r, w, covers, {}, [strategy, store]);
          }
        }
      }),
      { numRuns: 40, seed: 4103 },
    );
    expect(errors).toBeGreaterThan(10);
  });

  it('state limits: the search stops after the state at which the store holds the limit, never as a pass, with the same figures', () => {
    let limited = 0;
    fc.assert(
      fc.property(planArb(false), fc.integer({ min: 1, max: 40 }), (plan, maxStates) => {
        const { model, properties } = build(plan);
        const covers = properties.filter((p) => p.kind === 'cover').map((p) => p.name);
        const limits = { maxStates };
        for (const strategy of ['bfs', 'dfs'] as const) {
          const w = walk(model, properties, plan.deadlock, strategy, limits);
          if (w.end === 'limit') limited++;
          const stores = strategy === 'bfs' ? STORES : (['exact'] as StoreKind[]);
          for (const store of stores) {
            const r = explicitCheck({ model, properties, limits, deadlock: plan.deadlock, strategy, explicit: { store, memoryBytes: 1 << 16 } });
            expectSame(r, w, covers, limits, [strategy, store, maxStates]);
          }
        }
      }),
      { numRuns: 60, seed: 4104 },
    );
    expect(limited).toBeGreaterThan(20);
  });

  it('depth limits: the levels up to the limit are stored and checked, the last is not expanded; breadth-first names the states left', () => {
    let limited = 0;
    fc.assert(
      fc.property(planArb(false), fc.integer({ min: 0, max: 6 }), (plan, depth) => {
        const { model, properties } = build(plan);
        const covers = properties.filter((p) => p.kind === 'cover').map((p) => p.name);
        const limits = { depth };
        for (const strategy of ['bfs', 'dfs'] as const) {
          const w = walk(model, properties, plan.deadlock, strategy, limits);
          if (w.end === 'limit') limited++;
          const stores = strategy === 'bfs' ? STORES : (['exact'] as StoreKind[]);
          for (const store of stores) {
            const r = explicitCheck({ model, properties, limits, deadlock: plan.deadlock, strategy, explicit: { store, memoryBytes: 1 << 16 } });
            expectSame(r, w, covers, limits, [strategy, store, depth]);
          }
        }
      }),
      { numRuns: 60, seed: 4105 },
    );
    expect(limited).toBeGreaterThan(20);
  });

  it('symmetry reduction: one state per class (counters as a multiset), the same transitions, depth and cover depths, every store', () => {
    let classes = 0;
    for (const n of [2, 3]) {
      for (const top of [5, 9]) {
        for (const bad of [-1, 4, 7]) {
          const { model, properties, key } = counters(n, top, bad);
          const w = walk(model, properties, false, 'bfs', {}, key);
          if (w.end === 'complete') classes += w.states;
          for (const store of STORES) {
            const r = explicitCheck({ model, properties, limits: {}, symmetry: true, explicit: { store, memoryBytes: 1 << 16 } });
            const v = r.status === 'violated' ? r.violations[0] : undefined;
            const steps = v?.trace?.steps;
            const lastState = steps?.[steps.length - 1]?.state;
            expect({
              status: r.status,
              end: w.found ? [v?.property, lastState && key(lastState), (steps?.length ?? 0) - 1] : null,
              figures: [r.stats.states, r.stats.transitions, r.stats.depth],
              covers: r.status === 'error' ? [] : r.covers.map((c) => c.depth),
            }).toEqual({
              status: w.end === 'complete' ? 'ok' : 'violated',
              end: w.found && w.found.kind === 'invariant' ? [w.found.property, key(w.found.state), w.found.depth] : null,
              figures: [w.states, w.transitions, w.maxDepth],
              covers: w.coverDepth,
            });
          }
        }
      }
    }
    // Without symmetry the same models have more states: the reduction did something.
    const plain = counters(3, 9, -1);
    const full = walk(plain.model, plain.properties, false, 'bfs', {});
    expect([classes > 0, full.states > walk(plain.model, plain.properties, false, 'bfs', {}, plain.key).states]).toEqual([true, true]);
  });

  it('the asynchronous run (explicitRun, yielding to the event loop) reports what the synchronous one does, with limits too', async () => {
    const runs = fc.sample(fc.tuple(planArb(true), fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined })), { numRuns: 30, seed: 4106 });
    for (const [plan, maxStates] of runs) {
      const { model, properties } = build(plan);
      const covers = properties.filter((p) => p.kind === 'cover').map((p) => p.name);
      const limits = maxStates === undefined ? {} : { maxStates };
      for (const store of STORES) {
        const r = await explicitRun({ model, properties, limits, deadlock: plan.deadlock, explicit: { store, memoryBytes: 1 << 16 } });
        expectSame(r, walk(model, properties, plan.deadlock, 'bfs', limits), covers, limits, ['async', store, maxStates]);
      }
    }
  });
});
