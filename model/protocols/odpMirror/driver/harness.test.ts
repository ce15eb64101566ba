import { McError, buildModel } from 'mirrorcheck';
import { describe, expect, it } from 'vitest';
import { fenceMigrate } from '../../fenceMigrate/fenceMigrate.js';
import { odpMirror } from '../odpMirror.js';
import { odpMirrorHarness } from './harness.js';

/** The McError code and message `fn` throws. */
const thrown = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof McError) return `${e.code} ${e.message}`;
    throw e;
  }
  return 'nothing thrown';
};

describe('the odp-mirror harness binding', () => {
  it('has a reference-driver knob for every variant of the model, and no other', () => {
    expect([...odpMirrorHarness.knobs].sort()).toEqual(odpMirror.variants.map((v) => v.name).sort());
    for (const v of odpMirror.variants) expect(odpMirrorHarness.system(buildModel(odpMirror, { variant: v.name })).config.knob).toBe(v.name);
  });

  it('refuses, with MC030, a model of another protocol and a knob the driver lacks', () => {
    expect(thrown(() => odpMirrorHarness.system(buildModel(fenceMigrate)))).toMatch(/^MC030 the odp-mirror reference driver runs odp-mirror models only/);
    expect(thrown(() => odpMirrorHarness.system(buildModel(odpMirror), { knob: 'no-invalidate' }))).toMatch(
      /^MC030 no reference-driver knob for variant no-invalidate/,
    );
  });
});
