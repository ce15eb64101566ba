import { describe, expect, it } from 'vitest';
import { eq, ord } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { arrayOf, bool } from '../../model/lang/types.js';
import { explicitCheck } from './explicit.js';

const tokens = (singleOut: 'none' | 'constant' | 'ord') =>
  defineProtocol({
    name: 'tokens',
    summary: '',
    spec: '',
    params: {},
    variants: [],
    build(b) {
      const T = b.index('T', 3, { symmetric: true });
      const on = b.v('on', arrayOf(T, bool));
      b.init('off', () => []);
      b.rule('Set', { t: T }, ({ t }) => ({
        guard: singleOut === 'constant' ? eq(t, 0) : singleOut === 'ord' ? eq(ord(t), 1) : true,
        body: [assign(on.at(t), true)],
      }));
      b.endState(() => true);
      return {};
    },
  });

describe('symmetry reduction', () => {
  it('stores one state per class: 2^3 subsets reduce to 4 (by size)', () => {
    const model = buildModel(tokens('none'));
    expect(explicitCheck({ model, properties: [], limits: {} }).stats.states).toBe(8);
    expect(explicitCheck({ model, properties: [], limits: {}, symmetry: true }).stats.states).toBe(4);
  });
  it('rejects rules that single out a value of a symmetric index', () => {
    expect(() => explicitCheck({ model: buildModel(tokens('constant')), properties: [], limits: {}, symmetry: true })).toThrow(
      /rule Set: the constant 0 of symmetric index T/,
    );
    expect(() => explicitCheck({ model: buildModel(tokens('ord')), properties: [], limits: {}, symmetry: true })).toThrow(/rule Set: ord\(\)/);
  });
});
