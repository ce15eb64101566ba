/**
 * An independent, deliberately naive breadth-first search over the interpreter, used only by tests
 * to check the explicit engine: states are JSON strings in a Map, successors come from the
 * interpreter, not the compiler. It returns the length of the shortest path to any violation.
 */
import { applyRule, enabled, holds, initState, instanceBindings } from '../model/lang/interp.js';
import type { Model } from '../model/lang/protocol.js';
import type { Property } from '../properties/property.js';

export function bruteForce(model: Model, properties: readonly Property[]): { states: number; shortest: number | null } {
  const inv = properties.filter((p) => p.kind === 'invariant');
  const steps = properties.filter((p) => p.kind === 'step');
  const seen = new Set<string>();
  let frontier: Int32Array[] = [];
  const bad = (s: Int32Array) => inv.some((p) => !holds(model, p.pred, s));
  for (const init of model.inits) {
    const s = initState(model, init);
    if (bad(s)) return { states: 1, shortest: 0 };
    if (!seen.has(s.join())) {
      seen.add(s.join());
      frontier.push(s);
    }
  }
  for (let depth = 1; frontier.length; depth++) {
    const next: Int32Array[] = [];
    for (const s of frontier) {
      let any = false;
      for (const inst of model.instances) {
        if (!enabled(model, inst, s)) continue;
        any = true;
        const t = applyRule(model, inst, s);
        for (const p of steps) {
          if (p.kind === 'step' && (p.rule === null || p.rule === inst.rule.name) && !holds(model, p.pred, t, s, instanceBindings(inst)))
            return { states: seen.size, shortest: depth };
        }
        const k = t.join();
        if (seen.has(k)) continue;
        seen.add(k);
        if (bad(t)) return { states: seen.size, shortest: depth };
        next.push(t);
      }
      if (!any && !(model.endState && holds(model, model.endState, s))) return { states: seen.size, shortest: depth - 1 };
    }
    frontier = next;
  }
  return { states: seen.size, shortest: null };
}
