import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../model/lang/protocol.js';
import { fenceMigrate } from '../model/protocols/fenceMigrate/fenceMigrate.js';
import { stateArb } from '../test/arbitraries.js';
import { McError } from '../model/lang/errors.js';
import { itfToTrace, parseItf, traceToItf } from './itf.js';
import type { Trace } from './trace.js';

const model = buildModel(fenceMigrate, { params: { mode: 'zap-and-fault', slots: 2 } });

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'none';
  } catch (e) {
    return e instanceof McError ? e.code : 'raw';
  }
};

describe('ITF', () => {
  it('write then read gives back the same trace (any states, any choices, with or without a loop)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(stateArb(model.layout), fc.nat({ max: model.instances.length - 1 })), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat(), { nil: undefined }),
        (steps, loopSeed) => {
          const trace: Trace = {
            protocol: model.protocol,
            variant: null,
            params: model.params,
            engine: 'test',
            property: 'p',
            requirement: 'R',
            steps: steps.map(([s, c], i) => ({ choice: i === 0 ? 0 : c, label: i === 0 ? 'init mapped' : (model.instances[c]?.label ?? '?'), state: s })),
            ...(loopSeed !== undefined ? { loop: loopSeed % steps.length } : {}),
          };
          const text = JSON.stringify(traceToItf(trace, model));
          const { header, doc } = parseItf(text);
          const back = itfToTrace(header, doc, model);
          expect(back.steps.map((x) => [x.choice, Array.from(x.state)])).toEqual(trace.steps.map((x) => [x.choice, Array.from(x.state)]));
          expect(back.loop).toBe(trace.loop);
          // Integers are ITF bigints, never plain JSON numbers, and there are no timestamps.
          expect(text).not.toMatch(/"(frame|val|latest|written)":\s*\d/);
        },
      ),
      { numRuns: 200, seed: 3 },
    );
  });

  it('rejects malformed files with stable codes', () => {
    expect(codeOf(() => parseItf('{"vars": ['))).toBe('MC021');
    expect(codeOf(() => parseItf('[]'))).toBe('MC022');
    expect(codeOf(() => parseItf('{"vars": [], "states": []}'))).toBe('MC022');
    expect(codeOf(() => parseItf('{"vars": ["x"], "states": [{}], "#meta": {"protocol": "p", "params": {}, "choices": [0, 1]}}'))).toBe('MC022');
    const good = traceToItf(
      {
        protocol: model.protocol,
        variant: null,
        params: model.params,
        engine: 't',
        property: null,
        requirement: null,
        steps: [{ choice: 0, label: 'init', state: new Int32Array(model.layout.nSlots).fill(0) }],
      },
      model,
    );
    const bad = JSON.parse(JSON.stringify(good));
    bad.states[0].pte = 3;
    const { header, doc } = parseItf(JSON.stringify(bad));
    expect(codeOf(() => itfToTrace(header, doc, model))).toBe('MC022');
  });
});
