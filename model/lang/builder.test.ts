/**
 * The checks the language makes while a model is built: every ill-typed construct is refused with
 * MC010 naming where, every parameter problem with its own code, and the type helpers every engine
 * reads (cardinality, codes, compatibility) give the values a person computes by hand.
 */
import { describe, expect, it } from 'vitest';
import { codeOf } from '../../test/errorCode.js';
import {
  type Operand,
  Ref,
  add,
  and,
  count,
  eq,
  exists,
  fail,
  forall,
  implies,
  isNone,
  isSome,
  ite,
  lit,
  lt,
  mul,
  none,
  not,
  or,
  ord,
  pre,
  read,
  some,
  sub,
  toExpr,
  unwrap,
  within,
} from './expr.js';
import { initState } from './interp.js';
import { type ProtocolDef, buildModel, defineProtocol, enumParam, intParam, resolveParams } from './protocol.js';
import { assign, forEach, reset, when } from './stmt.js';
import {
  arrayOf,
  bool,
  cardinality,
  compatible,
  enumOf,
  fromCode,
  inType,
  index,
  int,
  isScalar,
  minValue,
  option,
  range,
  record,
  toCode,
  typeName,
} from './types.js';

const P = index('P', 2);
const Q = index('Q', 3);
const E = enumOf('E', ['a', 'b', 'c']);
const ref = (name: string, type: Parameters<typeof arrayOf>[1], varIdx = 0) => new Ref({ varIdx, varName: name, path: [], type });
const n = ref('n', range(0, 3));
const m = ref('m', range(2, 5), 1);
const flag = ref('flag', bool, 2);
const e = ref('e', E, 3);
const o = ref('o', option(P), 4);
const arr = ref('arr', arrayOf(P, record({ x: range(0, 3), y: bool })), 5);

describe('types', () => {
  it('refuse empty or duplicate enums, bad ranges, empty index types and options of ranges not at 0', () => {
    expect(codeOf(() => enumOf('X', []))).toBe('MC010 enum X: has no values');
    expect(codeOf(() => enumOf('X', ['a', 'a']))).toBe('MC010 enum X: has duplicate values');
    expect(codeOf(() => range(3, 2))).toMatch(/^MC010 range 3\.\.2: bounds must be integers/);
    expect(codeOf(() => range(0.5, 2))).toMatch(/^MC010/);
    expect(codeOf(() => range(0, 2.5))).toMatch(/^MC010/);
    expect(codeOf(() => range(2, 2))).toBe('no error');
    expect(codeOf(() => index('I', 0))).toBe('MC010 index I: must have a size >= 1, got 0');
    expect(codeOf(() => index('I', 1.5))).toMatch(/^MC010/);
    expect(index('I', 1)).toEqual({ kind: 'index', name: 'I', size: 1, symmetric: false });
    expect(index('I', 2, { symmetric: true }).symmetric).toBe(true);
    expect(codeOf(() => option(range(1, 3)))).toMatch(/^MC010 option of range 1\.\.3: an option of a range must start at 0/);
    expect(option(range(0, 3))).toEqual({ kind: 'option', inner: { kind: 'range', lo: 0, hi: 3 } });
  });

  it('cardinality, default, codes and membership of every scalar kind', () => {
    const cases = [
      [bool, 2, 0],
      [E, 3, 0],
      [range(2, 5), 4, 2],
      [Q, 3, 0],
      [option(E), 4, -1],
      [option(range(0, 1)), 3, -1],
    ] as const;
    for (const [t, card, min] of cases) {
      expect([typeName(t), cardinality(t), minValue(t)]).toEqual([typeName(t), card, min]);
      for (let c = 0; c < card; c++) {
        expect(toCode(t, fromCode(t, c))).toBe(c);
        expect(inType(t, fromCode(t, c))).toBe(true);
      }
      expect(inType(t, fromCode(t, -1))).toBe(false);
      expect(inType(t, fromCode(t, card))).toBe(false);
    }
    expect([toCode(range(2, 5), 3), fromCode(range(2, 5), 1), toCode(option(E), -1), fromCode(option(E), 0)]).toEqual([1, 3, 0, -1]);
    expect(inType(range(0, 3), 1.5)).toBe(false);
  });

  it('names types for messages and tells which are scalars', () => {
    expect(
      [bool, int, E, range(1, 2), Q, option(E), record({ a: bool, b: E }), arrayOf(P, bool)].map((t) => typeName(t as Parameters<typeof typeName>[0])),
    ).toEqual(['bool', 'int', 'enum E', '1..2', 'Q', 'option(enum E)', 'record{a,b}', 'array[P] of bool']);
    expect([bool, int, record({}), arrayOf(P, bool), option(bool)].map((t) => isScalar(t as Parameters<typeof isScalar>[0]))).toEqual([
      true,
      false,
      false,
      false,
      true,
    ]);
  });

  it('compatibility: numbers with numbers, enums by name and values, indexes by name, options by inner type', () => {
    const E2 = enumOf('E', ['a', 'b', 'c']);
    const E3 = enumOf('E', ['a', 'b']);
    const F = enumOf('F', ['a', 'b', 'c']);
    const yes: [unknown, unknown][] = [
      [int, int],
      [int, range(0, 1)],
      [range(0, 1), int],
      [range(0, 1), range(5, 9)],
      [bool, bool],
      [E, E2],
      [P, index('P', 7)],
      [option(E), option(E2)],
      [option(range(0, 1)), option(range(0, 4))],
    ];
    const no: [unknown, unknown][] = [
      [int, bool],
      [bool, int],
      [int, E],
      [range(0, 1), bool],
      [bool, E],
      [E, E3],
      [E, F],
      [P, Q],
      [option(P), option(Q)],
      [option(E), E],
    ];
    type T = Parameters<typeof compatible>[0];
    expect(yes.map(([a, b]) => compatible(a as T, b as T))).toEqual(yes.map(() => true));
    expect(no.map(([a, b]) => compatible(a as T, b as T))).toEqual(no.map(() => false));
  });
});

describe('expressions refuse what does not type', () => {
  const refused: [string, () => unknown, RegExp][] = [
    ['indexing a non-array', () => n.at(0), /n is 0\.\.3, not an array/],
    ['indexing by another index type', () => arr.at(toExpr(1, Q)), /arr is indexed by P, not by Q/],
    ['an index literal out of its type', () => arr.at(2), /literal 2 is outside index P \(0\.\.1\)/],
    ['a negative index literal', () => arr.at(-1), /literal -1 is outside index P/],
    ['a field of a non-record', () => n.f('x'), /n is 0\.\.3, not a record/],
    ['an unknown field', () => arr.at(0).f('z'), /arr\[\.\.\] has no field 'z' \(fields: x, y\)/],
    ['reading a record', () => read(arr.at(0)), /arr\[\.\.\] is record\{x,y\}; only scalar locations can be read/],
    ['none without an option', () => eq(n, none), /'none' used where 0\.\.3 is expected/],
    ['none with no context', () => toExpr(none), /'none' used where no option type is expected/],
    ['a string without an enum', () => eq(n, 'a'), /the literal 'a' needs an enum context, found 0\.\.3/],
    ['a string that is no value', () => eq(e, 'z'), /'z' is not a value of enum E \(values: a, b, c\)/],
    ['a fractional number', () => eq(n, 1.5), /non-integer literal 1\.5/],
    ['two string literals, no enum in sight', () => eq('a', 'b'), /the literal 'a' needs an enum context, found none/],
    ['a number for an enum', () => eq(e, 1), /number 1 used where enum E is expected/],
    ['a number for a bool', () => and(flag, 1), /number 1 used where bool is expected/],
    ['something that is no expression', () => toExpr({} as Operand), /not an expression/],
    ['not of a number', () => not(n), /not needs a bool, got 0\.\.3/],
    ['and of a number', () => and(flag, n), /and needs a bool, got 0\.\.3/],
    ['or of an enum', () => or(e, flag), /or needs a bool, got enum E/],
    ['comparing a bool with a number', () => eq(flag, toExpr(1)), /cannot compare bool with int/],
    ['implies of a number', () => implies(n, flag), /implies needs a bool, got 0\.\.3/],
    ['comparing an enum with a number', () => eq(e, n), /cannot compare enum E with 0\.\.3/],
    ['ordering enums', () => lt(e, e), /'lt' needs numbers, got enum E and enum E/],
    ['ordering booleans', () => lt(flag, flag), /'lt' needs numbers/],
    ['arithmetic on a bool', () => add(flag, 1), /'add' needs numbers, got bool/],
    ['arithmetic on an enum', () => mul(1, e), /'mul' needs numbers, got enum E/],
    ['ite branches of different types', () => ite(flag, e, n), /ite branches differ: enum E and 0\.\.3/],
    ['ite on a number', () => ite(n, 1, 2), /ite needs a bool/],
    ['a quantifier body that is a number', () => forall(P, () => n), /forall needs a bool/],
    ['isSome of a non-option', () => isSome(n), /isSome needs an option, got 0\.\.3/],
    ['unwrap of a non-option', () => unwrap(e), /unwrap needs an option, got enum E/],
    ['some of an option', () => some(o), /some\(\) needs a non-option scalar, got option\(P\)/],
    ['some of an integer', () => some(add(n, 1)), /some\(\) needs a non-option scalar, got int/],
    ['some of an integer literal with no range', () => some(1), /some\(\) needs a non-option scalar, got int/],
    ['some of a literal outside the range of the option', () => some(3, option(range(0, 2))), /literal 3 is outside 0\.\.2/],
    ['some of a fractional literal in an option of a range', () => some(0.5, option(range(0, 2))), /literal 0\.5 is outside 0\.\.2/],
    ['ord of a number', () => ord(n), /ord needs an index value, got 0\.\.3/],
  ];
  it.each(refused)('%s', (_name, fn, message) => {
    const got = codeOf(fn);
    expect(got).toMatch(/^MC010 model: /);
    expect(got).toMatch(message);
  });

  it('types of what is built', () => {
    expect(ite(flag, n, m).type).toEqual(int);
    expect(ite(flag, n, n).type).toEqual(range(0, 3));
    expect(ite(flag, 1, n).type).toEqual(int);
    // A range and a number literal keep the range; two compatible enums keep the first.
    expect(ite(flag, n, 1).type).toEqual(range(0, 3));
    expect(ite(flag, e, lit('a', enumOf('E', ['a', 'b', 'c']))).type).toBe(E);
    expect(and(flag, flag, true)).toMatchObject({ op: 'and', args: [{ op: 'read' }, { op: 'read' }, { op: 'lit', value: 1 }] });
    expect(or(flag, false)).toMatchObject({ op: 'or', args: [{ op: 'read' }, { op: 'lit', value: 0 }] });
    expect(forall(P, (i) => arr.at(i).f('y'))).toMatchObject({ op: 'quant', q: 'forall', name: 'p', index: P });
    expect(forEach(Q, () => [])).toMatchObject({ kind: 'forEach', name: 'q', index: Q });
    expect(count(P, (i) => arr.at(i).f('y')).type).toEqual(int);
    expect(exists(P, (i) => arr.at(i).f('y')).type).toEqual(bool);
    expect(some(e).type).toEqual(option(E));
    expect(some('b', option(E))).toMatchObject({ op: 'some', type: option(E), e: { op: 'lit', value: 1 } });
    // An integer literal in an option of a range is a literal of that range.
    expect(some(2, option(range(0, 2)))).toEqual({ op: 'some', type: option(range(0, 2)), e: { op: 'lit', type: range(0, 2), value: 2 } });
    expect(some(0, option(range(0, 2)))).toMatchObject({ e: { op: 'lit', type: range(0, 2), value: 0 } });
    expect(unwrap(o).type).toEqual(P);
    expect(pre(n).type).toEqual(range(0, 3));
    expect(ord(toExpr(1, P)).type).toEqual(int);
    expect(sub(n, m)).toMatchObject({ op: 'arith', fn: 'sub', type: int });
    expect(isNone(o)).toMatchObject({ op: 'not', e: { op: 'isSome' } });
    // One argument is the argument itself.
    expect(and(flag)).toEqual(read(flag));
    expect(or(flag)).toEqual(read(flag));
    expect(lit(true)).toEqual({ op: 'lit', type: bool, value: 1 });
    expect(lit(false)).toMatchObject({ value: 0 });
    expect(lit(3)).toEqual({ op: 'lit', type: int, value: 3 });
    expect(toExpr('b', option(E))).toEqual({ op: 'lit', type: E, value: 1 });
    expect(toExpr(none, option(E))).toEqual({ op: 'lit', type: option(E), value: -1 });
    // A literal on the left takes the type of the right.
    expect(eq(1, toExpr(1, P))).toMatchObject({ a: { type: P, value: 1 } });
    expect(arr.at(1).f('x').describe()).toBe('arr[..].x');
  });

  it('errors name where they were made, nested', () => {
    expect(codeOf(() => within('rule R', () => within('guard', () => fail('bad'))))).toBe('MC010 rule R / guard: bad');
    expect(codeOf(() => fail('bad'))).toBe('MC010 model: bad');
    // The context is restored after an error.
    codeOf(() => within('rule R', () => fail('bad')));
    expect(codeOf(() => fail('again'))).toBe('MC010 model: again');
  });
});

describe('statements refuse what does not type', () => {
  it('assignments to records, of other types, of constants out of range', () => {
    expect(codeOf(() => assign(arr.at(0), 1))).toMatch(/^MC010 model: cannot assign to arr\[\.\.\] of type record\{x,y\}; use reset\(\)/);
    expect(codeOf(() => assign(flag, n))).toMatch(/cannot assign 0\.\.3 to flag of type bool/);
    expect(codeOf(() => assign(m, 6))).toMatch(/constant 6 is out of range 2\.\.5 for m/);
    expect(codeOf(() => assign(m, 1))).toMatch(/constant 1 is out of range 2\.\.5 for m/);
    expect(codeOf(() => assign(m, 2))).toBe('no error');
    expect(codeOf(() => assign(m, 5))).toBe('no error');
    expect(codeOf(() => assign(m, add(n, 9)))).toBe('no error'); // checked when run
  });

  it('when and forEach take one statement or a list', () => {
    const s = assign(flag, true);
    expect(when(flag, s)).toMatchObject({ kind: 'if', thenBody: [s], elseBody: [] });
    expect(when(flag, [s, s], s)).toMatchObject({ thenBody: [s, s], elseBody: [s] });
    expect(codeOf(() => when(n, s))).toMatch(/if needs a bool/);
    expect(forEach(P, () => s)).toMatchObject({ kind: 'forEach', index: P, body: [s] });
    expect(forEach(P, () => [s, s])).toMatchObject({ body: [s, s] });
    expect(reset(arr)).toEqual({ kind: 'reset', loc: arr.loc });
  });
});

describe('protocols: parameters, variants and declarations', () => {
  const def = defineProtocol({
    name: 'params',
    summary: '',
    spec: '',
    params: { size: intParam(2, 1, 4, 'size'), mode: enumParam('fast', ['fast', 'slow'], 'mode') },
    variants: [
      { name: 'only-slow', summary: '', cites: '', appliesTo: (p) => (p.mode === 'slow' ? null : 'needs mode=slow') },
      { name: 'any', summary: '', cites: '' },
    ],
    validate: (p) => (p.size === 3 && p.mode === 'slow' ? 'size 3 is not slow' : null),
    build(b, cfg) {
      const I = b.index('I', cfg.int('size'));
      const x = b.v('x', arrayOf(I, bool));
      b.init('i', () => []);
      b.rule('Set', { i: I, j: I }, ({ i }) => ({ guard: not(x.at(i)), body: [assign(x.at(i), true)] }), { fairness: 'weak' });
      b.rule('Clear', {}, () => ({ guard: true, body: [] }), { fairness: 'strong', fairnessScope: 'rule' });
      return { mode: cfg.str('mode'), slow: cfg.is('any'), size: cfg.int('size') };
    },
  });

  it('parameter declarations hold what they were given', () => {
    expect(intParam(2, 1, 16, 'size')).toEqual({ kind: 'int', default: 2, min: 1, max: 16, doc: 'size' });
    expect(enumParam('a', ['a', 'b'], 'mode')).toEqual({ kind: 'enum', default: 'a', values: ['a', 'b'], doc: 'mode' });
  });

  it('resolves parameters from strings and numbers, with defaults, at the bounds', () => {
    expect(resolveParams(def as ProtocolDef<unknown>)).toEqual({ size: 2, mode: 'fast' });
    expect(resolveParams(def as ProtocolDef<unknown>, { size: ' 4 ', mode: 'slow' })).toEqual({ size: 4, mode: 'slow' });
    expect(resolveParams(def as ProtocolDef<unknown>, { size: 1 })).toEqual({ size: 1, mode: 'fast' });
    const wide = defineProtocol({ ...def, params: { size: intParam(2, 1, 64, 'size') }, validate: undefined });
    expect(resolveParams(wide as ProtocolDef<unknown>, { size: '12' })).toEqual({ size: 12 });
    expect(codeOf(() => resolveParams(wide as ProtocolDef<unknown>, { size: '65' }))).toMatch(/^MC004/);
    expect(codeOf(() => resolveParams(def as ProtocolDef<unknown>, { size: '-1' }))).toMatch(/^MC004/);
  });

  it('refuses unknown parameters, values out of range or of the wrong kind, invalid combinations', () => {
    const r = (given: Record<string, string | number>) => codeOf(() => resolveParams(def as ProtocolDef<unknown>, given));
    expect(r({ other: 1 })).toBe("MC003 unknown parameter 'other' for params (parameters: size, mode)");
    expect(r({ size: 0 })).toBe('MC004 parameter size=0 is out of range for params (integer 1..4)');
    expect(r({ size: 5 })).toMatch(/^MC004/);
    expect(r({ size: '2x' })).toMatch(/^MC004/);
    expect(r({ size: '2.0' })).toMatch(/^MC004/);
    expect(r({ size: 2.5 })).toMatch(/^MC004/);
    expect(r({ mode: 'medium' })).toBe('MC004 parameter mode=medium is not one of fast, slow');
    expect(r({ size: 3, mode: 'slow' })).toBe('MC004 params: size 3 is not slow');
    expect(r({ size: 3 })).toBe('no error');
  });

  it('refuses unknown variants and variants that do not apply', () => {
    expect(codeOf(() => buildModel(def, { variant: 'nope' }))).toBe("MC002 unknown variant 'nope' of params (variants: only-slow, any)");
    expect(codeOf(() => buildModel(def, { variant: 'only-slow' }))).toBe('MC005 variant only-slow does not apply: needs mode=slow');
    expect(buildModel(def, { variant: 'only-slow', params: { mode: 'slow' } }).variant).toBe('only-slow');
    expect(buildModel(def, { variant: 'any' }).handles).toEqual({ mode: 'fast', slow: true, size: 2 });
  });

  it('expands every rule into its instances, parameters in order, with fairness', () => {
    const model = buildModel(def, { params: { size: 2 } });
    expect(model.instances.map((i) => [i.id, i.ruleIdx, i.label, i.args])).toEqual([
      [0, 0, 'Set(i=0, j=0)', [0, 0]],
      [1, 0, 'Set(i=0, j=1)', [0, 1]],
      [2, 0, 'Set(i=1, j=0)', [1, 0]],
      [3, 0, 'Set(i=1, j=1)', [1, 1]],
      [4, 1, 'Clear()', []],
    ]);
    expect(model.rules.map((r) => [r.fairness, r.fairnessScope])).toEqual([
      ['weak', undefined],
      ['strong', 'rule'],
    ]);
    expect('fairnessScope' in (model.rules[0] as object)).toBe(false);
    expect(model.endState).toBeNull();
    expect([model.layout.nSlots, model.indexes.map((i) => i.name), model.params]).toEqual([2, ['I'], { size: 2, mode: 'fast' }]);
    expect(Array.from(initState(model, model.inits[0]!))).toEqual([0, 0]);
  });

  type B = Parameters<Parameters<typeof defineProtocol>[0]['build']>[0];
  /** Builds a protocol whose build runs `body` (then declares a start state unless `noInit`). */
  const broken = (body: (b: B) => void, noInit = false) =>
    codeOf(() =>
      buildModel(
        defineProtocol({
          name: 'broken',
          summary: '',
          spec: '',
          params: { k: enumParam('a', ['a'], '') },
          variants: [],
          build: (b) => {
            body(b);
            if (!noInit) b.init('i', () => []);
            return {};
          },
        }),
      ),
    );
  it('refuses declarations made twice, a model with no start state, and a guard that is not a bool', () => {
    expect(broken((b) => void [b.index('I', 1), b.index('I', 2)])).toBe('MC010 model: index type I declared twice');
    expect(broken((b) => void [b.v('x', bool), b.v('x', bool)])).toBe('MC010 model: variable x declared twice');
    const rule = (b: B) => b.rule('R', {}, () => ({ guard: true, body: [] }));
    expect(broken((b) => void [rule(b), rule(b)])).toBe('MC010 rule R: rule R declared twice');
    expect(broken((b) => void b.v('x', bool), true)).toBe('MC010 broken: no start state declared');
    expect(broken((b) => b.rule('R', {}, () => ({ guard: 1, body: [] })))).toMatch(/^MC010 rule R: number 1 used where bool is expected/);
    expect(broken((b) => b.init('j', () => [assign(ref('x', bool), 2)]))).toMatch(/^MC010 init j: number 2 used where bool is expected/);
    expect(broken((b) => b.endState(() => 3))).toMatch(/^MC010 endState: number 3 used where bool is expected/);
    const intOfEnum = defineProtocol({
      name: 'e',
      summary: '',
      spec: '',
      params: { k: enumParam('a', ['a'], '') },
      variants: [],
      build: (_b, cfg) => ({ k: cfg.int('k') }),
    });
    expect(codeOf(() => buildModel(intOfEnum))).toMatch(/^MC010 .*cfg\.int\('k'\): 'k' is not an integer parameter/);
  });
});
