/**
 * The trace renderers, on a three-step trace of a tiny model whose every line can be written by
 * hand: the text listing (changed fields only, or every field), the Mermaid diagram and the HTML
 * page, with the violation and the loop marked.
 */
import { describe, expect, it } from 'vitest';
import { buildModel, defineProtocol } from '../model/lang/protocol.js';
import { bool, enumOf, index, option, range } from '../model/lang/types.js';
import { type RenderInput, changedFields, formatSlot, renderText } from './render.js';

const tiny = defineProtocol({
  name: 'tiny',
  summary: 'a flag, a mode, a count and an optional page',
  spec: 'counterexamples/render.test.ts',
  params: {},
  variants: [],
  build(b) {
    const P = b.index('P', 2);
    b.v('flag', bool);
    b.v('mode', enumOf('Mode', ['idle', 'busy']));
    b.v('n', range(1, 3));
    b.v('page', option(P));
    b.init('start', () => []);
    return {};
  },
});
const model = buildModel(tiny);
const st = (...xs: number[]) => Int32Array.from(xs);
const states = [st(0, 0, 1, -1), st(1, 0, 1, -1), st(1, 1, 2, 1), st(1, 1, 2, 1)];
const labels = ['init start', 'CpuWrite(p=0)', 'HcaFault<p=1>; #2', 'Mm()'];
const violation = { step: 2, property: 'no-busy', requirement: 'T-1', kind: 'invariant', doc: 'never busy' };
const input: RenderInput = { model, states, labels, violation };

describe('formatSlot and changedFields', () => {
  it('format every scalar kind as a person reads it', () => {
    expect(formatSlot({ kind: 'bool' }, 1)).toBe('true');
    expect(formatSlot({ kind: 'bool' }, 0)).toBe('false');
    expect(formatSlot(enumOf('Mode', ['idle', 'busy']), 1)).toBe('busy');
    expect(formatSlot(enumOf('Mode', ['idle', 'busy']), 5)).toBe('?5');
    expect(formatSlot(option(enumOf('Mode', ['idle', 'busy'])), -1)).toBe('none');
    expect(formatSlot(option(index('P', 2)), 1)).toBe('1');
    expect(formatSlot(range(1, 3), 3)).toBe('3');
  });

  it('list every field of a first state, and only the changed ones after', () => {
    expect(changedFields(model, null, states[0]!)).toEqual(['flag = false', 'mode = idle', 'n = 1', 'page = none']);
    expect(changedFields(model, states[1]!, states[2]!)).toEqual(['mode: idle -> busy', 'n: 1 -> 2', 'page: none -> 1']);
    expect(changedFields(model, states[2]!, states[3]!)).toEqual([]);
  });
});

describe('renderText', () => {
  it('numbers the steps, shows the changes and marks the violation', () => {
    expect(renderText(input)).toBe(
      [
        'State 0 (init start)',
        '    flag = false',
        '    mode = idle',
        '    n = 1',
        '    page = none',
        'Step 1: CpuWrite(p=0)',
        '    flag: false -> true',
        'Step 2: HcaFault<p=1>; #2   <-- VIOLATION no-busy (T-1)',
        '    mode: idle -> busy',
        '    n: 1 -> 2',
        '    page: none -> 1',
        '    invariant no-busy [T-1]: never busy',
        'Step 3: Mm()',
        '    (no field changed)',
      ].join('\n'),
    );
  });

  it('with full, shows every field of every state; a loop is marked and explained', () => {
    const text = renderText({ ...input, violation: null, full: true, loop: 1 });
    expect(text.split('\n').filter((l) => l.startsWith('    flag'))).toEqual(['    flag = false', '    flag = true', '    flag = true', '    flag = true']);
    expect(text).toContain('Step 1: CpuWrite(p=0)   <-- loop starts here');
    expect(text.split('\n').at(-1)).toBe('Steps 2..3 lead back to state 1: these steps repeat forever.');
    expect(
      renderText({ ...input, violation: null, loop: 3 })
        .split('\n')
        .at(-1),
    ).toBe('State 3: no rule is enabled; the run stays here forever.');
    expect(renderText({ ...input, violation: null })).not.toMatch(/loop|forever|VIOLATION/);
  });
});
