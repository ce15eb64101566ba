/**
 * The swarm scheduler (swarmScheduler.ts) on hand-made action lists: which action each entry of the
 * choice list picks with rules held back, when every enabled action is held back, and when the run
 * ends. Every expected index below is worked out by hand from the rule "entry i picks
 * choices[i] mod n over the actions not held back".
 */
import { describe, expect, it } from 'vitest';
import type { Action } from '../harness/scheduler.js';
import { swarmScheduler } from './swarmScheduler.js';

const act = (label: string): Action => ({ label, actor: 'driver', internal: false, run: () => {} });
const actions = [act('Fault(p=0)'), act('Give(p=1)'), act('Invalidate(p=0)'), act('Give(p=0)')];

describe('swarmScheduler', () => {
  it('picks choices[i] mod n among the actions whose rule is not held back', () => {
    const s = swarmScheduler(new Set(['Give']), [0, 1, 3, 4]);
    // Free actions: 0 (Fault) and 2 (Invalidate).
    expect([s.choose(actions), s.choose(actions), s.choose(actions), s.choose(actions)]).toEqual([0, 2, 2, 0]);
  });

  it('picks among all actions when every enabled one is held back', () => {
    const s = swarmScheduler(new Set(['Give']), [1, 5]);
    const gives = [act('Give(p=1)'), act('Give(p=0)')];
    expect([s.choose(gives), s.choose(gives)]).toEqual([1, 1]);
  });

  it('ends the run when the choice list is used up, and at a state with no action without using an entry', () => {
    const s = swarmScheduler(new Set(), [2, 1]);
    expect(s.choose([])).toBeNull();
    expect(s.choose(actions)).toBe(2);
    expect(s.choose(actions)).toBe(1);
    expect(s.choose(actions)).toBeNull();
    expect(swarmScheduler(new Set(), []).choose(actions)).toBeNull();
  });
});
