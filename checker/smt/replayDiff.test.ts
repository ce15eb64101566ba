/**
 * The SMT soundness guard names at most four of the slots where z3's state differs from the
 * interpreter's, in slot order, so that a disagreement on a big state stays one readable line.
 */
import { describe, expect, it } from 'vitest';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { bool } from '../../model/lang/types.js';
import { replayPath } from './replay.js';

const five = defineProtocol({
  name: 'five-flags',
  summary: 'five flags, all clear at the start',
  spec: 'checker/smt/replayDiff.test.ts',
  params: {},
  variants: [],
  build(b) {
    for (const name of ['a', 'b', 'c', 'd', 'e']) b.v(name, bool);
    b.init('clear', () => []);
    return {};
  },
});

describe('replayPath names the first four differing slots', () => {
  it('five differ: four are named; two differ: both', () => {
    const model = buildModel(five);
    expect(replayPath(model, { choices: [0], states: [Int32Array.from([1, 1, 1, 1, 1])], fromInit: true })).toBe(
      'start state differs: a: z3 true, interpreter false; b: z3 true, interpreter false; c: z3 true, interpreter false; d: z3 true, interpreter false',
    );
    expect(replayPath(model, { choices: [0], states: [Int32Array.from([0, 1, 0, 0, 1])], fromInit: true })).toBe(
      'start state differs: b: z3 true, interpreter false; e: z3 true, interpreter false',
    );
  });
});
