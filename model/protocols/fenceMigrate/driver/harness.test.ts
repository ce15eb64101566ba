import { McError, buildModel } from 'mirrorcheck';
import { describe, expect, it } from 'vitest';
import { odpMirror } from '../../odpMirror/odpMirror.js';
import { fenceMigrate } from '../fenceMigrate.js';
import { fenceMigrateHarness } from './harness.js';

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

describe('the fence-migrate harness binding', () => {
  it('has a reference-driver knob for every variant of the model, and no other', () => {
    expect([...fenceMigrateHarness.knobs].sort()).toEqual(fenceMigrate.variants.map((v) => v.name).sort());
    for (const v of fenceMigrate.variants) {
      const model = buildModel(fenceMigrate, { variant: v.name, params: v.name === 'stale-seq-retry' ? { mode: 'zap-and-fault', fault: 'retry' } : {} });
      expect(fenceMigrateHarness.system(model).config.knob).toBe(v.name);
    }
  });

  it('refuses, with MC030, a model of another protocol, a knob the driver lacks, and a migration order it does not follow', () => {
    expect(thrown(() => fenceMigrateHarness.system(buildModel(odpMirror)))).toMatch(/^MC030 the fence-migrate reference driver runs fence-migrate models only/);
    expect(thrown(() => fenceMigrateHarness.system(buildModel(fenceMigrate), { knob: 'valid-flag' }))).toMatch(
      /^MC030 no reference-driver knob for variant valid-flag/,
    );
    expect(thrown(() => fenceMigrateHarness.system(buildModel(fenceMigrate, { params: { order: 'device-first' } })))).toMatch(
      /^MC030 order=device-first is not simulated/,
    );
    // A variant keeps its own order whatever `order` says, so the driver with its knob still simulates it.
    expect(thrown(() => fenceMigrateHarness.system(buildModel(fenceMigrate, { variant: 'unblock-before-update', params: { order: 'device-first' } })))).toBe(
      'nothing thrown',
    );
  });
});
