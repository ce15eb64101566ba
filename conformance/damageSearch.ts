/**
 * What the two harness replays (harness/replayOnHarness.ts, harness/odpReplayOnHarness.ts) share:
 * comparing a trace's state with the mapped harness state, and the search for the fewest extra model
 * steps after which damage is expected. Why this module exists: a shortest counterexample often stops
 * at the first broken property, before memory is damaged; both replays then search the model for a
 * short continuation that their protocol's damage guide flags, and confirm it on the harness.
 */
import type { CompiledModel } from '../model/lang/compile.js';
import type { Model } from '../model/lang/protocol.js';

/** Whether two model states are equal. */
export function sameState(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The first field where the trace's state and the harness's mapped state differ, in words. */
export function firstDiff(model: Model, want: Int32Array, got: Int32Array): string {
  for (let i = 0; i < want.length; i++) if (want[i] !== got[i]) return `${model.layout.slotNames[i]}: trace ${want[i]}, harness ${got[i]}`;
  return '';
}

/** A model-level guess that the step `inst` from `s` to `t` shows damage on the harness. */
export type DamageGuide = (s: Int32Array, inst: number, t: Int32Array) => boolean;

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
