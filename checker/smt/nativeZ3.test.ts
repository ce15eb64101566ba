import { describe, expect, it } from 'vitest';
import { modelAssertions, parseSExprs, splitForms } from './nativeZ3.js';

describe('reading a native z3 model', () => {
  it('parses s-expressions with quoted symbols and comments', () => {
    expect(parseSExprs('(a |b c| (d "e f") ; note\n #b01)')).toEqual([['a', '|b c|', ['d', '"e f"'], '#b01']]);
    expect(() => parseSExprs('(a (b)')).toThrow(/unbalanced/);
    expect(() => parseSExprs('a)')).toThrow(/unbalanced/);
  });

  it('turns constant definitions into declarations and equalities (old and new model syntax)', () => {
    const old = '(\n  (define-fun |s0.pte[1]| () (_ BitVec 3)\n    #b010)\n  (define-fun c () Bool\n    true)\n)';
    const expected = '(declare-fun |s0.pte[1]| () (_ BitVec 3))\n(assert (= |s0.pte[1]| #b010))\n(declare-fun c () Bool)\n(assert (= c true))';
    expect(modelAssertions(old)).toBe(expected);
    expect(modelAssertions(`(model ${old.slice(1)}`)).toBe(expected);
  });

  it('gives up (null) on a model with functions, which equalities cannot carry', () => {
    expect(modelAssertions('((define-fun f ((x!0 Page)) Bool (= x!0 Page!val!0)))')).toBeNull();
  });
});

describe('splitting SMT-LIB 2 text into forms', () => {
  it('keeps quoted parentheses inside their form and drops comments', () => {
    expect(splitForms('; c (\n(declare-fun |a(b| () Bool)\n(assert (let ((x |a(b|)) x))\n(check-sat)\n')).toEqual([
      '(declare-fun |a(b| () Bool)',
      '(assert (let ((x |a(b|)) x))',
      '(check-sat)',
    ]);
  });
});
