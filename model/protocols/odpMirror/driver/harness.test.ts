import { readFileSync } from 'node:fs';
import { McError, buildModel } from 'mirrorcheck';
import { describe, expect, it } from 'vitest';
import { fenceMigrate } from '../../fenceMigrate/fenceMigrate.js';
import { odpMirror } from '../odpMirror.js';
import { odpMirrorHarness } from './harness.js';
import { DRIVER_VARIANTS, WRONG_DRIVER_KNOBS } from './knobs.js';

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
  it("has a reference-driver knob for every variant of the model but those of the interval's insert and remove, and the wrong-driver knobs, which no variant has", () => {
    expect([...odpMirrorHarness.knobs].sort()).toEqual([...DRIVER_VARIANTS, ...WRONG_DRIVER_KNOBS].sort());
    expect(odpMirror.variants.map((v) => v.name).filter((v) => !(DRIVER_VARIANTS as readonly string[]).includes(v))).toEqual(['remove-unlocked-seq']);
    for (const v of DRIVER_VARIANTS) expect(odpMirrorHarness.system(buildModel(odpMirror, { variant: v })).config.knob).toBe(v);
    for (const k of WRONG_DRIVER_KNOBS) {
      expect(odpMirror.variants.map((v) => v.name)).not.toContain(k);
      expect(odpMirrorHarness.system(buildModel(odpMirror), { knob: k }).config.knob).toBe(k);
    }
  });

  it('refuses the models it does not run: the interval inserted and removed during the run, and the legacy counters (MC030)', () => {
    expect(thrown(() => odpMirrorHarness.system(buildModel(odpMirror, { params: { lifecycle: 1 } })))).toMatch(
      /^MC030 .*lifecycle=0 notifier=interval models only/,
    );
    expect(thrown(() => odpMirrorHarness.system(buildModel(odpMirror, { params: { notifier: 'legacy', atomics: 0, nonblock: 'eagain' } })))).toMatch(/^MC030/);
    expect(thrown(() => odpMirrorHarness.system(buildModel(odpMirror, { variant: 'remove-unlocked-seq' })))).toMatch(/^MC030 no reference-driver knob/);
  });

  it('the reference driver uses only kernel-shaped calls: no notifier sequence, no device access slots or tables', () => {
    const src = readFileSync(new URL('./mirrorDriver.ts', import.meta.url), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
    for (const peek of [
      'invalidateSeq',
      'readBeginWouldSleep',
      '.core.seq',
      'inflightOn',
      'umrCanComplete',
      '.slots',
      '.table',
      '.tlb',
      '.lockNow',
      '.unlockNow',
      'tryLockNow',
    ])
      expect(src, `mirrorDriver.ts uses ${peek}`).not.toContain(peek);
  });

  it('refuses, with MC030, a model of another protocol and a knob the driver lacks', () => {
    expect(thrown(() => odpMirrorHarness.system(buildModel(fenceMigrate)))).toMatch(/^MC030 the odp-mirror reference driver runs odp-mirror models only/);
    expect(thrown(() => odpMirrorHarness.system(buildModel(odpMirror), { knob: 'no-invalidate' }))).toMatch(
      /^MC030 no reference-driver knob for variant no-invalidate/,
    );
  });
});
