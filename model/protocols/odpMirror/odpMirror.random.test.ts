/**
 * The random engine on odp-mirror: every bug variant is found with seed 7 by swarm runs, shrunk to
 * the BFS length; without swarm runs the ABA race of valid-flag is not found. Why here: these are
 * odp-mirror's expectations (its variants and their pinned lengths), kept in its package.
 */
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../../checker/engine.js';
import { randomCheck } from '../../../checker/random/random.js';
import { ChoiceRunner } from '../../../checker/random/runChoices.js';
import { compileModel } from '../../lang/compile.js';
import { applyRule, enabled, initState } from '../../lang/interp.js';
import { replayTrace } from '../../../counterexamples/replay.js';
import type { Trace } from '../../../counterexamples/trace.js';
import { safetyProperties } from '../../../properties/property.js';
import { buildModel } from '../../lang/protocol.js';
import { odpMirror } from './odpMirror.js';
import { odpMirrorProperties } from './odpMirrorProperties.js';

const traceOf = (r: CheckResult): Trace => {
  if (r.status !== 'violated') throw new Error(`expected a violation, got ${r.status}`);
  const t = r.violations[0]?.trace;
  if (!t) throw new Error('no trace');
  return t;
};

describe('random engine on odp-mirror (swarm runs)', () => {
  // Shortest lengths by explicit BFS at the default size (pinned in odpMirror.test.ts too), and, where
  // shrinking stops above it, the length it reaches (shrinking drops choices and is not guaranteed to
  // find a shortest trace; it is never below the BFS length).
  const ODP: [string, string, number, number?][] = [
    ['valid-flag', 'no-stale-translation', 17],
    ['end-skipped-after-eagain', 'start-end-paired', 4],
    ['missed-unlock-nonblocking', 'callback-releases-lock', 16],
    ['seq-per-chunk', 'no-stale-translation', 19, 22],
    ['retry-stale-seq', 'no-fault-timeout', 10],
    ['no-secondary-tlb-flush', 'device-matches-shadow', 35],
    ['no-owner-filter', 'no-fault-timeout', 22],
    ['lock-across-read-begin', 'deadlock', 12],
    ['no-set-seq', 'invalidation-complete', 13],
    ['no-read-retry', 'invalidation-complete', 12],
    ['zap-without-drain', 'invalidation-complete', 18],
    ['no-set-page-dirty', 'dirty-before-unmap', 18],
    ['sleep-when-nonblockable', 'nonblocking-callback-never-sleeps', 15],
    ['remove-unlocked-seq', 'interval-lifetime', 6, 7],
  ];
  it('covers every variant of the protocol', () => {
    expect(ODP.map(([v]) => v).sort()).toEqual(odpMirror.variants.map((v) => v.name).sort());
  });
  it.each(ODP)(
    'finds %s with seed 7 (%s), shrunk to the BFS length %i (or the pinned length above it), and the trace replays',
    (variant, property, len, shrunk) => {
      const model = buildModel(odpMirror, { variant });
      const properties = odpMirrorProperties.build(model);
      const r = randomCheck({ model, properties, limits: { depth: 80 }, runs: 20_000, seed: 7 });
      const t = traceOf(r);
      expect(t.property).toBe(property);
      expect(t.steps.length - 1).toBe(shrunk ?? len);
      expect(t.steps.length - 1).toBeGreaterThanOrEqual(len);
      const rep = replayTrace(model, properties, t);
      expect(rep.mismatch).toBeNull();
      expect(rep.violation?.property).toBe(property);
    },
  );
  it('a swarm run takes a held-back rule only when no other rule is enabled', () => {
    const model = buildModel(odpMirror, {});
    const properties = safetyProperties(odpMirrorProperties.build(model));
    const cm = compileModel(model, properties);
    const runner = new ChoiceRunner(cm, model.layout.nSlots, model.instances.length);
    // Hold back every rule but the device's: the run follows the device until it is stuck.
    const held = Uint8Array.from(model.instances, (i) => (i.rule.name.startsWith('Dev') ? 0 : 1));
    expect(held.some((x) => x === 1)).toBe(true);
    const steps: number[] = [];
    const init = initState(model, model.inits[0] as (typeof model.inits)[number]);
    runner.run(
      init,
      Array.from({ length: 80 }, (_, i) => (i * 7919) % 65_536),
      { checkDeadlock: false, heldBack: held, record: (st) => steps.push(st.instance) },
    );
    // Replay the run: wherever a held-back instance was taken, nothing else was enabled.
    let s = init;
    let heldTaken = 0;
    for (const id of steps) {
      const inst = model.instances[id] as (typeof model.instances)[number];
      if (held[id]) {
        heldTaken++;
        const others = model.instances.filter((x) => !held[x.id] && enabled(model, x, s));
        expect(others.map((x) => x.label)).toEqual([]);
      }
      s = applyRule(model, inst, s);
    }
    expect(steps.length).toBeGreaterThan(10);
    expect(heldTaken).toBeGreaterThan(0);
  });
});
