/**
 * A state graph past the sizes where the explicit engine's arrays grow (65,536 states, 262,144
 * edges): four counters 0..16, whose counts are known in closed form, so the store, the edge
 * arrays and the liveness check are checked exactly after every growth.
 */
import { describe, expect, it } from 'vitest';
import { add, and, eq, lt } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { range } from '../../model/lang/types.js';
import { eventually } from '../../properties/property.js';
import { explicitCheck } from './explicit.js';
import { buildGraph, graphState } from './graph.js';
import { livenessCheck } from './liveness.js';

const TOP = 16;
const four = defineProtocol({
  name: 'four-counters',
  summary: 'four counters that each count to 16',
  spec: 'checker/explicit/bigGraph.test.ts',
  params: {},
  variants: [],
  build(b) {
    const cs = ['a', 'b', 'c', 'd'].map((x) => b.v(x, range(0, TOP)));
    b.init('zero', () => []);
    cs.forEach((c, i) => {
      b.rule(`Inc${i}`, {}, () => ({ guard: lt(c, TOP), body: [assign(c, add(c, 1))] }));
    });
    b.endState(() => and(...cs.map((c) => eq(c, TOP))));
    return { cs };
  },
});
const model = buildModel(four);
const STATES = (TOP + 1) ** 4; // 83521
const EDGES = 4 * TOP * (TOP + 1) ** 3; // 314432: rule i is enabled wherever counter i < 16

describe('past the growth sizes', () => {
  it('the graph has every state and edge, in BFS order, with depths and labels', () => {
    const g = buildGraph(model, {});
    expect(g.status).toBe('complete');
    const { graph } = g;
    expect([graph.n, graph.m, graph.maxDepth]).toEqual([STATES, EDGES, 4 * TOP]);
    expect(graph.offsets.length).toBe(STATES + 1);
    expect(graph.offsets[STATES]).toBe(EDGES);
    for (const v of [0, 1, 65_535, 65_536, STATES - 1]) {
      const s = graphState(graph, v);
      const depth = s.reduce((x, y) => x + y, 0);
      expect(graph.depth[v]).toBe(depth);
      // One edge per counter below the top, labelled with its rule, to the state with it raised.
      const edges = Array.from({ length: (graph.offsets[v + 1] as number) - (graph.offsets[v] as number) }, (_, j) => (graph.offsets[v] as number) + j);
      expect(edges.map((e) => graph.labels[e])).toEqual([0, 1, 2, 3].filter((i) => (s[i] as number) < TOP));
      for (const e of edges) {
        const t = graphState(graph, graph.targets[e] as number);
        const i = graph.labels[e] as number;
        expect(Array.from(t)).toEqual(Array.from(s, (x, k) => (k === i ? x + 1 : x)));
      }
    }
    // BFS order: depths never decrease along the ids.
    let ok = true;
    for (let v = 1; v < STATES; v++) if ((graph.depth[v] as number) < (graph.depth[v - 1] as number)) ok = false;
    expect(ok).toBe(true);
    expect(graph.bytes).toBeGreaterThan(EDGES * 4);
  });

  it('the explicit engine counts the same, and the liveness check runs on the whole graph', () => {
    const r = explicitCheck({ model, properties: [], limits: {} });
    expect([r.status, r.stats.states, r.stats.transitions, r.stats.depth]).toEqual(['ok', STATES, EDGES, 4 * TOP]);
    const { cs } = model.handles;
    const all = and(...cs.map((c) => eq(c, TOP)));
    expect(livenessCheck({ model, properties: [eventually('all-top', 'B-1', 'every counter reaches the top', all)], limits: {} }).status).toBe('ok');
    const l = livenessCheck({ model, properties: [eventually('a-first', 'B-2', 'a tops while b is 0', and(eq(cs[0]!, TOP), eq(cs[1]!, 0)))], limits: {} });
    expect(l.status).toBe('violated');
    if (l.status === 'violated') {
      const t = l.violations[0]!.trace!;
      expect(t.extra?.lasso).toBe('end-state');
      expect(Array.from(t.steps.at(-1)!.state)).toEqual([TOP, TOP, TOP, TOP]);
      expect(t.loop).toBe(t.steps.length - 1);
    }
  });
});
