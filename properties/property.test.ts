/**
 * The property builders: each kind holds what it was given, its predicates are typed (a build
 * error names the property), step properties see their rule's parameters, and the safety subset is
 * what the SMT engines and proofs check.
 */
import { describe, expect, it } from 'vitest';
import { codeOf } from '../test/errorCode.js';
import { eq, lit, lt, read } from '../model/lang/expr.js';
import { buildModel, defineProtocol } from '../model/lang/protocol.js';
import { assign } from '../model/lang/stmt.js';
import { arrayOf, bool, range } from '../model/lang/types.js';
import { alwaysEventually, cover, definePropertySet, eventually, invariant, leadsTo, leadsToEach, safetyProperties, stepProperty } from './property.js';

const toy = defineProtocol({
  name: 'props-toy',
  summary: 'flags per slot',
  spec: 'properties/property.test.ts',
  params: {},
  variants: [],
  build(b) {
    const S = b.index('S', 2);
    const on = b.v('on', arrayOf(S, bool));
    const n = b.v('n', range(0, 2));
    b.init('i', () => []);
    b.rule('Set', { s: S }, ({ s }) => ({ guard: true, body: [assign(on.at(s), true)] }));
    return { S, on, n };
  },
});
const model = buildModel(toy);
const { S, on, n } = model.handles;

describe('property builders', () => {
  it('each kind keeps its name, requirement, description and typed predicates', () => {
    expect(invariant('i', 'R-1', 'doc i', lt(n, 2))).toEqual({ kind: 'invariant', name: 'i', requirement: 'R-1', doc: 'doc i', pred: lt(n, 2) });
    expect(cover('c', 'R-2', 'doc c', on.at(0))).toEqual({ kind: 'cover', name: 'c', requirement: 'R-2', doc: 'doc c', pred: read(on.at(0)) });
    expect(eventually('e', 'R-3', 'doc e', on.at(1))).toEqual({
      kind: 'liveness',
      form: 'eventually',
      name: 'e',
      requirement: 'R-3',
      doc: 'doc e',
      p: lit(true),
      q: read(on.at(1)),
    });
    expect(alwaysEventually('a', 'R-4', 'doc a', on.at(1))).toMatchObject({ kind: 'liveness', form: 'alwaysEventually', p: lit(true), q: read(on.at(1)) });
    expect(leadsTo('l', 'R-5', 'doc l', on.at(0), on.at(1))).toMatchObject({ kind: 'liveness', form: 'leadsTo', p: read(on.at(0)), q: read(on.at(1)) });
    expect('each' in leadsTo('l', 'R-5', '', true, true)).toBe(false);
  });

  it('a per-instance property binds one variable of its index type in both predicates', () => {
    const p = leadsToEach('each', 'R-6', 'doc', S, (s) => [eq(n, 1), on.at(s)]);
    expect(p).toMatchObject({ kind: 'liveness', form: 'leadsTo', name: 'each', each: { index: S } });
    const v = p.each?.v as { op: string; id: number; type: unknown };
    expect(v.op).toBe('var');
    expect(v.type).toBe(S);
    expect(p.q).toMatchObject({ op: 'read', loc: { path: [{ kind: 'at', e: { op: 'var', id: v.id } }] } });
  });

  it('refuses predicates that are not Booleans, naming the property', () => {
    expect(codeOf(() => invariant('bad-inv', 'R', '', n))).toMatch(/^MC010 invariant bad-inv: invariant needs a bool, got 0\.\.2/);
    expect(codeOf(() => cover('bad-cover', 'R', '', 1))).toMatch(/^MC010 cover bad-cover: number 1 used where bool is expected/);
    expect(codeOf(() => leadsTo('bad-lt', 'R', '', n, true))).toMatch(/^MC010 liveness bad-lt: leadsTo needs a bool/);
    expect(codeOf(() => leadsTo('bad-lt2', 'R', '', true, n))).toMatch(/^MC010 liveness bad-lt2: leadsTo needs a bool/);
    expect(codeOf(() => eventually('bad-ev', 'R', '', n))).toMatch(/^MC010 liveness bad-ev: eventually needs a bool/);
    expect(codeOf(() => alwaysEventually('bad-ae', 'R', '', n))).toMatch(/^MC010 liveness bad-ae: alwaysEventually needs a bool/);
    expect(codeOf(() => leadsToEach('bad-each', 'R', '', S, () => [n, true]))).toMatch(/^MC010 liveness bad-each: leadsTo needs a bool/);
    expect(codeOf(() => stepProperty(model, 'bad-step', 'R', '', null, () => n))).toMatch(/^MC010 step property bad-step: step property needs a bool/);
  });

  it('a step property of a rule gets that rule’s parameters; of every rule, none; of an unknown rule, an error', () => {
    let seen: Record<string, unknown> = {};
    const p = stepProperty(model, 'set-sets', 'R-7', 'doc', 'Set', (args) => {
      seen = args;
      return on.at(args.s!);
    });
    expect(p).toMatchObject({ kind: 'step', name: 'set-sets', requirement: 'R-7', doc: 'doc', rule: 'Set' });
    expect(Object.keys(seen)).toEqual(['s']);
    expect(seen.s).toBe(model.rules[0]?.params[0]?.v);
    stepProperty(model, 'any', 'R-8', '', null, (args) => {
      seen = args;
      return true;
    });
    expect(seen).toEqual({});
    expect(codeOf(() => stepProperty(model, 'lost', 'R-9', '', 'Nope', () => true))).toBe('MC010 step property lost: no rule Nope in props-toy (rules: Set)');
    // A step property of every rule has no parameters: Set's parameter is free there, and refused.
    const setParam = model.rules[0]?.params[0]?.v as Parameters<typeof on.at>[0];
    expect(codeOf(() => stepProperty(model, 'free', 'R-10', '', null, () => on.at(setParam)))).toMatch(/^MC010 step property free: /);
    expect(codeOf(() => stepProperty(model, 'bound', 'R-10', '', 'Set', () => on.at(setParam)))).toBe('no error');
  });

  it('property sets keep their proof hints only when given; the safety subset is invariants and step properties', () => {
    const plain = definePropertySet(toy, () => []);
    expect('proofHints' in plain).toBe(false);
    expect(plain.protocol).toBe(toy);
    const hinted = definePropertySet(
      toy,
      () => [],
      () => ({ strengthening: [] }),
    );
    expect(hinted.proofHints?.(model)).toEqual({ strengthening: [] });
    const all = [invariant('i', 'R', '', true), cover('c', 'R', '', true), stepProperty(model, 's', 'R', '', null, () => true), eventually('e', 'R', '', true)];
    expect(safetyProperties(all).map((p) => p.name)).toEqual(['i', 's']);
  });
});
