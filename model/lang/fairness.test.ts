/**
 * Fairness requirements as the rules declare them (one per instance, or one per rule), and when a
 * loop meets each kind: the definitions the liveness checker and lasso replay share.
 */
import { describe, expect, it } from 'vitest';
import { type FairnessRequirement, fairnessRequirements, metOnLoop } from './fairness.js';
import { buildModel, defineProtocol } from './protocol.js';
import { bool } from './types.js';

const workers = defineProtocol({
  name: 'workers',
  summary: 'two workers, a lock and an idle rule',
  spec: 'model/lang/fairness.test.ts',
  params: {},
  variants: [],
  build(b) {
    const W = b.index('W', 2);
    b.v('x', bool);
    b.init('i', () => []);
    b.rule('Idle', {}, () => ({ guard: true, body: [] }));
    b.rule('Run', { w: W }, () => ({ guard: true, body: [] }), { fairness: 'weak' });
    b.rule('Take', { w: W }, () => ({ guard: true, body: [] }), { fairness: 'strong', fairnessScope: 'rule' });
    return {};
  },
});
const model = buildModel(workers);

describe('fairnessRequirements', () => {
  it('one requirement per instance by default, one per rule with scope rule, none for unfair rules', () => {
    expect(fairnessRequirements(model)).toEqual([
      { kind: 'weak', label: 'weak Run(w=0)', instances: [1] },
      { kind: 'weak', label: 'weak Run(w=1)', instances: [2] },
      { kind: 'strong', label: 'strong Take(*)', instances: [3, 4] },
    ]);
    expect(fairnessRequirements(model, 'declared')).toHaveLength(3);
    expect(fairnessRequirements(model, 'none')).toEqual([]);
  });
});

describe('metOnLoop', () => {
  const weak: FairnessRequirement = { kind: 'weak', label: 'w', instances: [1] };
  const strongSet: FairnessRequirement = { kind: 'strong', label: 's', instances: [3, 4] };
  const en = (...ids: number[]) => new Set(ids);
  it('taken on the loop: met whatever is enabled', () => {
    expect(metOnLoop(weak, [en(1), en(1)], en(1))).toBe(true);
    expect(metOnLoop(strongSet, [en(3)], en(4))).toBe(true);
  });
  it('weak: met when disabled in some loop state, broken when enabled in all', () => {
    expect(metOnLoop(weak, [en(1), en()], en(2))).toBe(true);
    expect(metOnLoop(weak, [en(1), en(1, 2)], en(2))).toBe(false);
  });
  it('strong: broken when enabled in any loop state, met when never enabled', () => {
    expect(metOnLoop(strongSet, [en(), en(4)], en(1))).toBe(false);
    expect(metOnLoop(strongSet, [en(3), en()], en(1))).toBe(false);
    expect(metOnLoop(strongSet, [en(1), en(2)], en(1))).toBe(true);
  });
  it('a set is enabled when any one of its instances is', () => {
    const weakSet: FairnessRequirement = { kind: 'weak', label: 'ws', instances: [3, 4] };
    expect(metOnLoop(weakSet, [en(3), en(4)], en())).toBe(false);
    expect(metOnLoop(weakSet, [en(3), en()], en())).toBe(true);
  });
});
