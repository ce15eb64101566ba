import { describe, expect, it } from 'vitest';
import { buildModel } from '../model/lang/protocol.js';
import { definePackage } from '../properties/package.js';
import poolPackage, { pool, poolProperties } from '../test/fixtures/poolDriver.js';
import { harnessFor } from './replayCommand.js';

describe('replay --on harness refuses, before running, what has no reference driver', () => {
  const model = buildModel(pool, { variant: 'overdraw' });

  it('a protocol whose package has no harness binding (MC030)', () => {
    const bare = definePackage({ properties: poolProperties });
    expect(() => harnessFor(bare, model)).toThrow(
      expect.objectContaining({ code: 'MC030', message: expect.stringMatching(/^no reference driver for protocol pool/) }),
    );
  });

  it('a variant its reference driver has no knob for (MC030)', () => {
    const noKnobs = definePackage({ properties: poolProperties, harness: { ...poolPackage.harness!, knobs: [] } });
    expect(() => harnessFor(noKnobs, model)).toThrow(
      expect.objectContaining({ code: 'MC030', message: expect.stringMatching(/^no reference-driver knob for variant overdraw of pool/) }),
    );
  });

  it("and gives the package's binding otherwise", () => {
    expect(harnessFor(poolPackage, model)).toBe(poolPackage.harness);
    expect(harnessFor(poolPackage, buildModel(pool))).toBe(poolPackage.harness);
  });
});
