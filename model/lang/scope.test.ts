/**
 * Mistakes a model author can make with variables and parameters are build errors (MC010, naming
 * where), never internal errors: a rule parameter used outside its rule, `pre()` in a state
 * predicate, a step property on a rule that does not exist, a parameter read with the wrong accessor.
 */
import { describe, expect, it } from 'vitest';
import { codeOf } from '../../test/errorCode.js';
import { cover, invariant, leadsTo, stepProperty } from '../../properties/property.js';
import { type Expr, eq, forall, pre } from './expr.js';
import { type Builder, type BuildConfig, buildModel, defineProtocol, enumParam, intParam } from './protocol.js';
import { assign } from './stmt.js';
import { bool, index } from './types.js';

const protocol = (build: (b: Builder, cfg: BuildConfig) => void) =>
  defineProtocol({
    name: 'scopes',
    summary: '',
    spec: '',
    params: { n: intParam(2, 1, 3, 'size'), mode: enumParam('a', ['a', 'b'], 'a mode') },
    variants: [],
    build: (b, cfg) => {
      build(b, cfg);
      b.init('start', () => []);
      return {};
    },
  });

describe('variables are used only where they are bound', () => {
  it("a rule's parameter used in another rule's guard is MC010 naming that rule", () => {
    const p = protocol((b) => {
      const P = b.index('P', 2);
      const flag = b.v('flag', bool);
      let leaked: Expr | null = null;
      b.rule('Set', { p: P }, ({ p }) => {
        leaked = p;
        return { guard: true, body: [assign(flag, true)] };
      });
      b.rule('Use', {}, () => ({ guard: eq(leaked as unknown as Expr, 0), body: [] }));
    });
    expect(codeOf(() => buildModel(p))).toMatch(/^MC010 rule Use: uses the variable p outside the rule or quantifier that binds it/);
  });

  it("a rule's parameter in an invariant is MC010 naming the invariant", () => {
    let leaked: Expr | null = null;
    const p = protocol((b) => {
      const P = b.index('P', 2);
      b.rule('Take', { p: P }, ({ p }) => {
        leaked = p;
        return { guard: true, body: [] };
      });
    });
    buildModel(p);
    expect(codeOf(() => invariant('bad', 'R1', '', eq(leaked as unknown as Expr, 1)))).toMatch(/^MC010 invariant bad: uses the variable p/);
    expect(codeOf(() => cover('bad-cover', 'C1', '', eq(leaked as unknown as Expr, 1)))).toMatch(/^MC010 cover bad-cover: uses the variable p/);
  });

  it('pre() in an invariant or a liveness goal is MC010; in a step property it is allowed', () => {
    const p = protocol((b) => {
      const flag = b.v('flag', bool);
      b.rule('Flip', {}, () => ({ guard: true, body: [assign(flag, true)] }));
    });
    const model = buildModel(p);
    const P = index('Q', 2);
    expect(
      codeOf(() =>
        invariant(
          'old',
          'R1',
          '',
          forall(P, () => pre(true)),
        ),
      ),
    ).toMatch(/^MC010 invariant old: uses pre/);
    expect(codeOf(() => leadsTo('live', 'L1', '', true, pre(true)))).toMatch(/^MC010 liveness live: uses pre/);
    expect(codeOf(() => stepProperty(model, 'step', 'R2', '', 'Flip', () => pre(true)))).toBe('no error');
  });

  it('a forEach variable is bound in its body, and a quantifier variable in its body', () => {
    const p = protocol((b) => {
      const P = b.index('P', 2);
      const flags = b.v('flags', bool);
      b.rule('All', {}, () => ({
        guard: forall(P, (i) => eq(i, i)),
        body: [
          assign(
            flags,
            forall(P, (i) => eq(i, 0)),
          ),
        ],
      }));
    });
    expect(codeOf(() => buildModel(p))).toBe('no error');
  });
});

describe('protocol parameters and step properties', () => {
  it('cfg.int on an enum parameter, or on a parameter that does not exist, is MC010', () => {
    expect(codeOf(() => buildModel(protocol((_b, cfg) => cfg.int('mode'))))).toMatch(/^MC010 scopes: cfg.int\('mode'\): 'mode' is not an integer parameter/);
    expect(codeOf(() => buildModel(protocol((_b, cfg) => cfg.int('pages'))))).toMatch(/^MC010 scopes: cfg.int\('pages'\): there is no parameter 'pages'/);
    expect(codeOf(() => buildModel(protocol((_b, cfg) => cfg.str('pages'))))).toMatch(/^MC010 scopes: cfg.str\('pages'\): there is no parameter 'pages'/);
  });

  it('a step property on a rule the model does not have is MC010 naming the rules it has', () => {
    const model = buildModel(protocol((b) => b.rule('Only', {}, () => ({ guard: true, body: [] }))));
    expect(codeOf(() => stepProperty(model, 'p', 'R1', '', 'Missing', () => true))).toMatch(
      /^MC010 step property p: no rule Missing in scopes \(rules: Only\)/,
    );
  });
});
