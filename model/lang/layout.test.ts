/**
 * The state layout and the interpreter's corners: encoding structured values refuses every value
 * that does not fit its field (the trace reader and the harness mapping rely on it), resets and
 * loops touch exactly their own slots, and expressions that cannot be evaluated say so.
 */
import { describe, expect, it } from 'vitest';
import { McError } from './errors.js';
import { type Expr, eq, forall, freshVar, lit, pre, read, some } from './expr.js';
import { holds, initState } from './interp.js';
import { type Value, decodeState, encodeState, encodeValue, makeLayout, stateDiffs } from './layout.js';
import { buildModel, defineProtocol } from './protocol.js';
import { assign, forEach, reset } from './stmt.js';
import { arrayOf, bool, compatible, enumOf, index, option, range, record } from './types.js';

const Tag = enumOf('Tag', ['x', 'y']);
const shapes = defineProtocol({
  name: 'layout-shapes',
  summary: 'an array of records, then scalars after it',
  spec: 'model/lang/layout.test.ts',
  params: {},
  variants: [{ name: 'loop', summary: 'the start state sets every slot through forEach', cites: 'test' }],
  build(b, cfg) {
    const P = b.index('P', 2);
    const slots = b.v('slots', arrayOf(P, record({ on: bool, lvl: range(1, 3) })));
    const after = b.v('after', range(0, 5));
    const tag = b.v('tag', option(Tag));
    const who = b.v('who', P);
    b.init('set', () =>
      cfg.is('loop')
        ? [assign(after, 5), forEach(P, (p) => assign(slots.at(p).f('lvl'), 3))]
        : [assign(slots.at(1).f('on'), true), assign(slots.at(1).f('lvl'), 3), assign(after, 4), assign(tag, some('y', option(Tag))), reset(slots)],
    );
    return { P, slots, after, tag, who };
  },
});
const model = buildModel(shapes);
const good: Record<string, Value> = {
  slots: [
    { on: false, lvl: 1 },
    { on: true, lvl: 3 },
  ],
  after: 4,
  tag: 'y',
  who: 1,
};

describe('encodeState refuses values that do not fit', () => {
  it('a good value round-trips', () => {
    const s = encodeState(model.layout, good);
    expect(s).toBeInstanceOf(Int32Array);
    expect(decodeState(model.layout, s as Int32Array)).toEqual(good);
  });

  const bad: [string, Record<string, Value>, string][] = [
    ['a missing variable', { slots: good.slots as Value, after: 4, tag: null }, 'missing variable who'],
    [
      'a bool given as a number',
      {
        ...good,
        slots: [
          { on: 1, lvl: 1 },
          { on: true, lvl: 3 },
        ],
      },
      'slots[0].on: 1 is not a value of this field',
    ],
    ['an enum value that is not a string', { ...good, tag: 1 }, 'tag: 1 is not a value of this field'],
    ['an unknown enum value', { ...good, tag: 'z' }, 'tag: "z" is not a value of this field'],
    ['a range value as a string', { ...good, after: '4' }, 'after: "4" is not a value of this field'],
    ['a fractional range value', { ...good, after: 2.5 }, 'after: 2.5 is not a value of this field'],
    [
      'a range value below',
      {
        ...good,
        slots: [
          { on: false, lvl: 0 },
          { on: true, lvl: 3 },
        ],
      },
      'slots[0].lvl: 0 is not a value of this field',
    ],
    ['a range value above', { ...good, after: 6 }, 'after: 6 is not a value of this field'],
    ['an index value as a string', { ...good, who: '1' }, 'who: "1" is not a value of this field'],
    ['a fractional index value', { ...good, who: 0.5 }, 'who: 0.5 is not a value of this field'],
    ['a negative index value', { ...good, who: -1 }, 'who: -1 is not a value of this field'],
    ['an index value past its size', { ...good, who: 2 }, 'who: 2 is not a value of this field'],
    ['a record given as an array', { ...good, slots: [[false, 1], { on: true, lvl: 3 }] }, 'slots[0]: expected a record'],
    ['a record given as null', { ...good, slots: [null, { on: true, lvl: 3 }] }, 'slots[0]: expected a record'],
    ['a record given as a number', { ...good, slots: [3, { on: true, lvl: 3 }] }, 'slots[0]: expected a record'],
    ['an array given as a record', { ...good, slots: { 0: { on: false, lvl: 1 } } }, 'slots: expected an array of 2'],
    ['an array too short', { ...good, slots: [{ on: false, lvl: 1 }] }, 'slots: expected an array of 2'],
    [
      'an array too long',
      {
        ...good,
        slots: [
          { on: false, lvl: 1 },
          { on: true, lvl: 3 },
          { on: true, lvl: 3 },
        ],
      },
      'slots: expected an array of 2',
    ],
    [
      'a bad field in the last element',
      {
        ...good,
        slots: [
          { on: false, lvl: 1 },
          { on: true, lvl: 9 },
        ],
      },
      'slots[1].lvl: 9 is not a value of this field',
    ],
  ];
  it.each(bad)('%s', (_name, value, message) => {
    expect(encodeState(model.layout, value)).toBe(message);
  });

  it('encodeValue writes at the offset it is given and leaves the rest', () => {
    const s = new Int32Array(4).fill(7);
    expect(encodeValue(record({ a: bool, b: range(0, 2) }), { a: true, b: 2 }, s, 1, 'r')).toBeNull();
    expect(Array.from(s)).toEqual([7, 1, 2, 7]);
  });
});

describe('the interpreter touches exactly its own slots', () => {
  it('reset of a whole array of records sets every element to its defaults, and nothing after it', () => {
    // set: slots[1] = {on, 3}, after = 4, tag = y, then reset(slots).
    expect(Array.from(initState(model, model.inits[0]!))).toEqual([0, 1, 0, 1, 4, 1, 0]);
  });

  it('forEach runs its body once per index value, and never past the last', () => {
    const loop = buildModel(shapes, { variant: 'loop' });
    // A step past the end would write lvl of a third element: the slot of `tag` (none, -1).
    expect(Array.from(initState(loop, loop.inits[0]!))).toEqual([0, 3, 0, 3, 5, -1, 0]);
  });
});

describe('expressions that cannot be evaluated', () => {
  it('an unbound variable or pre() outside a step is a model error, not a silent value', () => {
    const s = initState(model, model.inits[0]!);
    const v = freshVar(model.handles.P, 'lost');
    const code = (e: Expr, pre: Int32Array | null = null) => {
      try {
        holds(model, e, s, pre);
        return 'none';
      } catch (err) {
        return err instanceof McError ? `${err.code} ${err.message}` : 'raw';
      }
    };
    expect(code(eq(v, v))).toBe('MC011 in rule property: unbound variable lost');
    expect(code(eq(pre(model.handles.after), 4))).toBe('MC011 in rule property: pre() used outside a step property');
    expect(code(eq(pre(model.handles.after), 3), Int32Array.from([0, 1, 0, 1, 3, -1, 0]))).toBe('none');
  });

  it('a quantifier is a Boolean: equal to true exactly when it holds', () => {
    const s = initState(model, model.inits[0]!);
    const { P, slots } = model.handles;
    expect(
      holds(
        model,
        eq(
          forall(P, (p) => eq(slots.at(p).f('lvl'), 1)),
          lit(true),
        ),
        s,
      ),
    ).toBe(true);
    expect(
      holds(
        model,
        eq(
          forall(P, (p) => read(slots.at(p).f('on'))),
          lit(false),
        ),
        s,
      ),
    ).toBe(true);
  });

  it('an enum that shares its name with an index type cannot index an array', () => {
    const P = model.handles.P;
    const sameName = enumOf('P', ['a', 'b']);
    expect(() => model.handles.slots.at(lit('a', sameName))).toThrow(/is indexed by P, not by enum P/);
    expect(compatible({ kind: 'bool' }, { kind: 'bool' })).toBe(true);
    expect(compatible(P, index('P', 5))).toBe(true);
  });
});

describe('stateDiffs', () => {
  it('names each differing slot with its values as the model writes them: enum names, booleans, none for an empty option', () => {
    const pc = enumOf('pc', ['Idle', 'Faulting', 'Done']);
    const layout = makeLayout([
      { name: 'fh', type: record({ pc, busy: bool, pfn: option(range(0, 3)) }) },
      { name: 'n', type: range(0, 5) },
    ]);
    expect(stateDiffs(layout, Int32Array.from([2, 0, -1, 4]), Int32Array.from([1, 1, 3, 4]), ['trace', 'harness'])).toEqual([
      'fh.pc: trace Done, harness Faulting',
      'fh.busy: trace false, harness true',
      'fh.pfn: trace none, harness 3',
    ]);
  });
});
