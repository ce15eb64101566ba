/**
 * The search for the fewest extra model steps after which damage is expected on the harness. Why
 * this module exists: a shortest counterexample often stops at the first broken property, before
 * anything is damaged; the replay on the harness (conformance/replayOnHarness.ts) then searches the
 * model for a short continuation that the protocol's damage guide flags, and confirms it on the
 * harness.
 */
import type { DamageGuide } from '../harness/binding.js';
import type { CompiledModel } from '../model/lang/compile.js';

/**
 * Shortest model continuations (rule-instance paths) from `start` whose last step `guide` flags, up
 * to `limit` of them, breadth first to `maxDepth` steps; at most `maxSeen` states are remembered.
 * With `deadlocks`, a path to a state with no enabled rule counts too (the harness will hang there).
 */
export function continuationsToDamage(
  cm: CompiledModel,
  start: Int32Array,
  guide: DamageGuide,
  opts: { readonly maxDepth: number; readonly limit: number; readonly maxSeen: number; readonly deadlocks: boolean },
): number[][] {
  const { maxDepth, limit, maxSeen } = opts;
  const seen = new Set<string>([start.join(',')]);
  let level: { s: Int32Array; path: number[] }[] = [{ s: start, path: [] }];
  const found: number[][] = [];
  const t = new Int32Array(start.length);
  for (let depth = 0; depth < maxDepth && level.length > 0 && found.length < limit; depth++) {
    const next: typeof level = [];
    for (const node of level) {
      let moves = 0;
      cm.expand(node.s, t, (k) => {
        moves++;
        if (found.length >= limit) return;
        if (guide(node.s, k, t)) {
          found.push([...node.path, k]);
          return;
        }
        const key = t.join(',');
        if (seen.has(key) || seen.size > maxSeen) return;
        seen.add(key);
        next.push({ s: new Int32Array(t), path: [...node.path, k] });
      });
      if (opts.deadlocks && moves === 0 && node.path.length > 0) found.push(node.path);
      if (found.length >= limit) break;
    }
    level = next;
  }
  return found;
}
