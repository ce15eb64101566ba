/**
 * What symmetry reduction refuses (checkSymmetric): every place a rule, a property or the end
 * states could single out a value of a symmetric index type; and what it allows (none, values
 * compared with each other, other index types). Then two symmetric types at once, whose
 * canonical count is the number of classes under both renamings.
 */
import { describe, expect, it } from 'vitest';
import { McError } from '../../model/lang/errors.js';
import { type Expr, type Operand, type Ref, and, eq, forall, isNone, isSome, lit, ne, none, not, or, ord, some } from '../../model/lang/expr.js';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { type Stmt, assign, forEach, reset, when } from '../../model/lang/stmt.js';
import { type IndexType, arrayOf, bool, enumOf, option, record } from '../../model/lang/types.js';
import { type Property, cover, eventually, invariant } from '../../properties/property.js';
import { checkSymmetric } from './symmetry.js';
import { explicitCheck } from './explicit.js';

interface H {
  T: IndexType;
  U: IndexType;
  on: Ref;
  who: Ref;
  opt: Ref;
  rec: Ref;
  plain: Ref;
  ptrs: Ref;
}

/** One rule whose guard and body are given; T is symmetric, U is not. */
const withRule = (guard: (h: H, t: Expr) => Operand, body: (h: H, t: Expr) => Stmt[], end?: (h: H) => Operand) =>
  buildModel(
    defineProtocol<H>({
      name: 'sym-checks',
      summary: '',
      spec: '',
      params: {},
      variants: [],
      build(b) {
        const T = b.index('T', 3, { symmetric: true });
        const U = b.index('U', 2);
        const h: H = {
          T,
          U,
          on: b.v('on', arrayOf(T, bool)),
          who: b.v('who', T),
          opt: b.v('opt', option(T)),
          rec: b.v('rec', record({ at: T, flag: bool })),
          plain: b.v('plain', U),
          ptrs: b.v('ptrs', arrayOf(U, T)),
        };
        b.init('i', () => []);
        b.rule('R', { t: T }, ({ t }) => ({ guard: guard(h, t), body: body(h, t) }));
        if (end) b.endState(() => end(h));
        return h;
      },
    }),
  );

const verdict = (model: Model, props: Property[] = []) => {
  try {
    checkSymmetric(model, props);
    return 'allowed';
  } catch (e) {
    if (e instanceof McError) return `${e.code} ${e.message}`;
    throw e;
  }
};

describe('checkSymmetric refuses what singles out a value', () => {
  const cases: [string, ReturnType<typeof withRule>, RegExp][] = [
    [
      'a constant in a guard',
      withRule(
        (_h, t) => eq(t, 1),
        () => [],
      ),
      /^MC010 rule R: the constant 1 of symmetric index T breaks symmetry/,
    ],
    [
      'a constant assigned',
      withRule(
        () => true,
        (h) => [assign(h.who, 2)],
      ),
      /^MC010 rule R: the constant 2 of symmetric index T/,
    ],
    [
      'a constant inside some()',
      withRule(
        () => true,
        (h) => [assign(h.opt, some(0, option(h.T)))],
      ),
      /the constant 0 of symmetric index/,
    ],
    [
      // The language writes some(1) (an index literal inside); a literal of the option type holding
      // an element is refused as well, should an expression be built that way.
      'a literal of type option(T) holding an element',
      withRule(
        (h) => eq(h.opt, { op: 'lit', type: option(h.T), value: 1 } as Expr),
        () => [],
      ),
      /^MC010 rule R: the constant 1 of symmetric index/,
    ],
    [
      'a constant index into an array',
      withRule(
        () => true,
        (h) => [assign(h.on.at(0), true)],
      ),
      /the constant 0 of symmetric index T/,
    ],
    [
      'a constant index read in an if',
      withRule(
        () => true,
        (h) => [when(h.on.at(1), [])],
      ),
      /the constant 1/,
    ],
    [
      'a constant in an else branch',
      withRule(
        () => true,
        (h) => [when(true, [], [assign(h.who, 1)])],
      ),
      /the constant 1/,
    ],
    [
      'a constant inside forEach',
      withRule(
        () => true,
        (h) => [forEach(h.U, () => assign(h.who, 1))],
      ),
      /the constant 1/,
    ],
    [
      'a constant among the operands of and()',
      withRule(
        (h, t) => and(h.on.at(t), eq(t, 1)),
        () => [],
      ),
      /^MC010 rule R: the constant 1 of symmetric index T/,
    ],
    [
      'a constant among the operands of or() in an assigned value',
      withRule(
        () => true,
        (h, t) => [assign(h.on.at(t), or(isNone(h.opt), eq(h.who, 2)))],
      ),
      /^MC010 rule R: the constant 2 of symmetric index T/,
    ],
    [
      'a constant inside a quantifier',
      withRule(
        (h) => forall(h.T, (x) => ne(x, 2)),
        () => [],
      ),
      /the constant 2/,
    ],
    [
      'ord of a value',
      withRule(
        (_h, t) => eq(ord(t), 0),
        () => [],
      ),
      /^MC010 rule R: ord\(\) of a symmetric index value breaks symmetry/,
    ],
    [
      'reset of a value of T',
      withRule(
        () => true,
        (h) => [reset(h.who)],
      ),
      /^MC010 rule R: reset\(\) sets a symmetric index value to a constant/,
    ],
    [
      'reset of a record holding a T',
      withRule(
        () => true,
        (h) => [reset(h.rec)],
      ),
      /reset\(\) sets a symmetric index value/,
    ],
    [
      'reset of an array holding values of T',
      withRule(
        () => true,
        (h) => [reset(h.ptrs)],
      ),
      /^MC010 rule R: reset\(\) sets a symmetric index value to a constant/,
    ],
    [
      'reset of an array of T-indexed bools reached by a constant',
      withRule(
        () => true,
        (h) => [reset(h.on.at(1))],
      ),
      /the constant 1/,
    ],
    [
      'a constant in the end states',
      withRule(
        () => true,
        () => [],
        (h) => eq(h.who, 0),
      ),
      /^MC010 endState: the constant 0/,
    ],
  ];
  it.each(cases)('%s', (_name, model, message) => {
    expect(verdict(model)).toMatch(message);
  });

  it('a constant in an invariant, a cover or a liveness property', () => {
    const model = withRule(
      () => true,
      () => [],
    );
    const h = model.handles;
    expect(verdict(model, [invariant('inv', 'S-1', '', ne(h.who, 1))])).toMatch(/^MC010 property inv: the constant 1/);
    expect(verdict(model, [cover('cov', 'S-2', '', h.on.at(2))])).toMatch(/^MC010 property cov: the constant 2/);
    expect(verdict(model, [eventually('ev', 'S-3', '', eq(h.who, 0))])).toMatch(/^MC010 property ev: the constant 0/);
  });
});

describe('checkSymmetric allows what treats every value alike', () => {
  it('none, comparisons of values, quantifiers, resets of plain fields, other index types', () => {
    const model = withRule(
      (h, t) =>
        and(
          h.on.at(t),
          isNone(h.opt),
          forall(h.T, (x) => not(and(eq(x, t), h.on.at(x)))),
          eq(h.plain, 1),
          // A read through a record field (no index on its path).
          eq(h.rec.f('at'), t),
          or(h.rec.f('flag'), isSome(h.opt)),
        ),
      (h, t) => [assign(h.opt, some(t)), assign(h.opt, none), assign(h.who, t), reset(h.on), reset(h.plain), assign(h.rec.f('at'), h.who)],
      (h) => isSome(h.opt),
    );
    expect(verdict(model, [invariant('i', 'S-4', '', eq(lit(true), true))])).toBe('allowed');
    // reset(on) sets bools only; on is indexed by T but holds no value of it.
    expect(
      verdict(
        withRule(
          () => true,
          (h) => [reset(h.on)],
        ),
      ),
    ).toBe('allowed');
  });

  it('an enum that shares its name with the symmetric index: its constants and resets are not the index values', () => {
    const model = buildModel(
      defineProtocol({
        name: 'namesake',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const T = b.index('T', 3, { symmetric: true });
          const mode = b.v('mode', enumOf('T', ['a', 'b']));
          const on = b.v('on', arrayOf(T, bool));
          b.init('i', () => []);
          b.rule('R', { t: T }, ({ t }) => ({ guard: and(eq(mode, 'b'), on.at(t)), body: [reset(mode), assign(mode, 'a')] }));
          return {};
        },
      }),
    );
    expect(verdict(model)).toBe('allowed');
  });

  it('a literal of an option of that enum holding a value (built by hand, as for option(T) above) is allowed: only an option of the symmetric index refers to it', () => {
    const model = buildModel(
      defineProtocol({
        name: 'namesake-option',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const T = b.index('T', 3, { symmetric: true });
          const namesake = option(enumOf('T', ['a', 'b']));
          const pick = b.v('pick', namesake);
          const on = b.v('on', arrayOf(T, bool));
          b.init('i', () => []);
          b.rule('R', { t: T }, ({ t }) => ({ guard: and(eq(pick, { op: 'lit', type: namesake, value: 1 } as Expr), on.at(t)), body: [] }));
          return {};
        },
      }),
    );
    expect(verdict(model)).toBe('allowed');
  });

  it('a model without symmetric types is never refused', () => {
    const model = withRule(
      (_h, t) => eq(t, 1),
      () => [],
    );
    expect(verdict({ ...model, indexes: model.indexes.map((i) => ({ ...i, symmetric: false })) })).toBe('allowed');
  });
});

/** Two symmetric types: a slot of P holds a value of Q, and Q slots hold values of P. */
const crossed = defineProtocol({
  name: 'crossed',
  summary: '',
  spec: '',
  params: {},
  variants: [],
  build(b) {
    const P = b.index('P', 2, { symmetric: true });
    const Q = b.index('Q', 3, { symmetric: true });
    const link = b.v('link', arrayOf(P, option(Q)));
    const back = b.v('back', arrayOf(Q, option(P)));
    b.init('i', () => []);
    b.rule('Link', { p: P, q: Q }, ({ p, q }) => ({
      guard: and(isNone(link.at(p)), isNone(back.at(q))),
      body: [assign(link.at(p), some(q)), assign(back.at(q), some(p))],
    }));
    b.rule('Unlink', { p: P, q: Q }, ({ p, q }) => ({
      guard: eq(link.at(p), some(q)),
      body: [assign(link.at(p), none), assign(back.at(q), none)],
    }));
    return {};
  },
});

describe('two symmetric index types at once', () => {
  it('the canonical states are the classes of matchings: by the number of links, 0, 1 or 2', () => {
    const model = buildModel(crossed);
    // Matchings between 2 Ps and 3 Qs: 1 + 2*3 + 3*2 = 13 states; up to renaming both: 3 classes.
    expect(explicitCheck({ model, properties: [], limits: {} }).stats.states).toBe(13);
    expect(explicitCheck({ model, properties: [], limits: {}, symmetry: true }).stats.states).toBe(3);
  });
});
