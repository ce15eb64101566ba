/**
 * Conformance of the odp-mr reference driver (an mlx5-like driver managing an ODP MR on the simulated
 * HCA) to the odp-mr model, for an implicit MR (the default: KSM parent, children created by faults,
 * deferred child free) and an explicit one, over thousands of fast-check schedules, and what catches
 * each knob on its variant model.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { buildModel, itfToTrace, parseItf } from 'mirrorcheck';
import { conformanceKit } from 'mirrorcheck/conformance';
import type { Scheduler } from 'mirrorcheck/harness';
import { MR_LARGE_PARAMS, odpMr } from '../odpMr.js';
import { odpMrProperties } from '../odpMrProperties.js';
import { odpMrHarness } from './harness.js';
import type { MrKnob } from './mlx5Odp.js';
import { MR_KNOBS } from './system.js';

const kit = conformanceKit(odpMrProperties, odpMrHarness);
const { setup } = kit;

describe('the correct odp-mr reference driver conforms to the model', () => {
  it.each([
    ['implicit (default)', {}],
    ['explicit', { kind: 'explicit' }],
  ])('%s: every step of 600 uniform and 900 swarm schedules is a model step; properties hold; no damage; every rule is exercised', (_name, params) => {
    const { model, properties } = setup(null, params);
    const uniform = kit.survey(model, properties, kit.uniform(600, 42));
    const swarm = kit.survey(model, properties, kit.swarm(model, 900, 43));
    expect(uniform.modelSteps + swarm.modelSteps).toBeGreaterThan(1500 * 20);
    expect(kit.unmatched(model, new Set([...uniform.rules, ...swarm.rules]))).toEqual([]);
  });

  it.each([
    ['large (implicit, invalidations=2)', MR_LARGE_PARAMS],
    ['implicit, three one-page children, three frames', { pages: 3, chunkPages: 1, children: 3, frames: 3 }],
    ['explicit, two invalidators, two invalidations, three pages, four frames', { kind: 'explicit', invalidators: 2, invalidations: 2, pages: 3, frames: 4 }],
    ['explicit, no prefetch, three invalidations', { kind: 'explicit', prefetch: 0, invalidations: 3 }],
  ])('also at %s, 250 swarm schedules', (_name, params) => {
    const { model, properties } = setup(null, params);
    kit.survey(model, properties, kit.swarm(model, 250, 7, 150));
  });

  it("the harness's start state is the model's start state", () => {
    for (const params of [{}, { kind: 'explicit' }, MR_LARGE_PARAMS]) {
      const { mapped, init } = kit.startStates(setup(null, params).model);
      expect(mapped).toEqual(init);
    }
  });

  it.each(MR_KNOBS.map((v) => [v]))(
    'the check is not vacuous (%s): along its corpus trace, the knob against the correct model and the correct driver against the variant model fail to conform; the knob against its variant does not',
    (v) => {
      const { header, doc } = parseItf(readFileSync(`model/protocols/odpMr/corpus/${v}.itf.json`, 'utf8'));
      const labels = itfToTrace(header, doc, buildModel(odpMr, { variant: header.variant, params: header.params }))
        .steps.slice(1)
        .map((x) => x.label);
      // Follows the trace's labels, taking the driver's internal steps (read_begin) in between.
      const along = (variant: string | null, knob: MrKnob | null) => {
        const { model, properties } = setup(variant, header.params as Record<string, string | number>);
        let i = 0;
        const sched: Scheduler = {
          choose(acts) {
            if (i >= labels.length) return null;
            const k = acts.findIndex((a) => a.label === labels[i]);
            if (k >= 0) {
              i++;
              return k;
            }
            const internal = acts.findIndex((a) => a.internal);
            return internal >= 0 ? internal : null;
          },
        };
        return kit.check(model, properties, sched, { knob }).failure;
      };
      expect(along(null, v), `knob ${v} on the correct model`).not.toBeNull();
      expect(along(v, null), `correct driver on variant ${v}`).not.toBeNull();
      expect(along(v, v)).toBeNull();
    },
  );

  it('a knob the driver does not have is refused with MC030', () => {
    const { model } = setup(null);
    expect(() => odpMrHarness.system(model, { knob: 'no-such-knob' })).toThrow(/no reference-driver knob for variant no-such-knob of odp-mr/);
  });
});

/**
 * What catches each knob over 500 swarm schedules of its variant model (implicit): the property on
 * mapped states, and the damage the harness saw (null: random schedules do not reach it; the corpus
 * replay shows it).
 */
const CAUGHT: Record<MrKnob, { property: string; damage: string | null }> = {
  'prefetch-before-fence': { property: 'mr-lifetime', damage: 'use-after-free' },
  'umr-on-revoked-mkey': { property: 'no-umr-on-dead-mkey', damage: 'umr-error' },
  'revoked-skips-unmap': { property: 'invalidation-complete', damage: 'freed-while-dma-mapped' },
  'ksm-update-unlocked': { property: 'ksm-matches-children', damage: null },
  'child-release-before-ksm-update': { property: 'ksm-names-live-child', damage: null },
};

describe('each bug knob conforms to its variant model, and what catches it', () => {
  it.each(MR_KNOBS.map((v) => [v]))('%s', (variant) => {
    const { model, properties } = setup(variant);
    const s = kit.survey(model, properties, kit.swarm(model, 500, 3), { stop: 'failure' });
    expect(s.violated).toContain(CAUGHT[variant].property);
    const d = CAUGHT[variant].damage;
    if (d) expect(s.damage).toContain(d);
  });
});
