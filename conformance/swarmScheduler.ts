/**
 * Swarm scheduling for harness runs. Why this module exists: a uniform choice list rarely builds the
 * few long interleavings some bugs need (the ABA of `valid-flag`, an OOM reaper whose trylock meets an
 * in-flight access), because every step spreads its probability over all enabled actions. As in the
 * random engine's swarm runs, each schedule holds back a subset of rules: actions of held-back rules
 * are taken only when nothing else is enabled. Every such schedule is still a valid schedule.
 */
import { type Scheduler, ruleName } from '../harness/scheduler.js';

/**
 * A choice-list scheduler (entry i picks `choices[i] mod n`) over the actions whose rule is not in
 * `held`, or over all actions when every enabled one is held back. The run ends with the list.
 */
export function swarmScheduler(held: ReadonlySet<string>, choices: readonly number[]): Scheduler {
  let i = 0;
  return {
    choose(actions) {
      if (i >= choices.length || actions.length === 0) return null;
      const c = choices[i++] as number;
      const free = actions.flatMap((a, k) => (held.has(ruleName(a.label)) ? [] : [k]));
      if (free.length === 0) return c % actions.length;
      return free[c % free.length] as number;
    },
  };
}
