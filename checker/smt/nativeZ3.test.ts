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

describe('the SMT-LIB 2 reader at the edges of its input', () => {
  it('waits for the rest of an atom, a |symbol|, a "string" or a comment that the text cuts off', () => {
    expect(splitForms('(a) sat')).toEqual(['(a)']);
    expect(splitForms('(a) sat\n')).toEqual(['(a)', 'sat']);
    expect(splitForms('(a) ; a comment at the very end')).toEqual(['(a)']);
    expect(splitForms('(a |b')).toEqual([]);
    expect(splitForms('(a (b)')).toEqual([]);
    expect(splitForms('(a ; a comment inside, at the very end')).toEqual([]);
    expect(splitForms('(a "b')).toEqual([]);
    expect(splitForms('(a "b"" c')).toEqual([]);
  });

  it('counts no parenthesis inside a "string" (with "" escapes) or a ; comment within a form', () => {
    expect(splitForms('(a "x)y") (b)')).toEqual(['(a "x)y")', '(b)']);
    expect(splitForms('(a "x"")" b) (c)')).toEqual(['(a "x"")" b)', '(c)']);
    expect(splitForms('(a ; x)\n b) (c)')).toEqual(['(a ; x)\n b)', '(c)']);
    expect(splitForms('("")(b)')).toEqual(['("")', '(b)']);
  });

  it('parses an atom that ends the text, a comment without a newline, strings with "" escapes, and names what is unbalanced', () => {
    expect(parseSExprs('a')).toEqual(['a']);
    expect(parseSExprs('(a) ; trailing')).toEqual([['a']]);
    expect(parseSExprs('(s "x"")y" "")')).toEqual([['s', '"x"")y"', '""']]);
    expect(() => parseSExprs('a)')).toThrow(/^unbalanced \) in solver output$/);
    expect(() => parseSExprs('((a)')).toThrow(/^unbalanced \( in solver output$/);
    expect(() => parseSExprs('(a |b')).toThrow(/^unterminated \|symbol\| in solver output$/);
    expect(() => parseSExprs('(a "b')).toThrow(/^unbalanced \( in solver output$/);
  });

  it('gives up (null) on anything but a list of constant definitions', () => {
    expect(modelAssertions('')).toBeNull();
    expect(modelAssertions('sat')).toBeNull();
    expect(modelAssertions('(model x)')).toBeNull();
    expect(modelAssertions('(model (declare-fun a () Bool))')).toBeNull();
    expect(modelAssertions('(model (define-fun a () Bool))')).toBeNull();
    expect(modelAssertions('(model (define-fun a () Bool true extra))')).toBeNull();
    expect(modelAssertions('(model (define-fun a x Bool true))')).toBeNull();
    expect(modelAssertions('(model (declare-fun a () Bool true))')).toBeNull();
    expect(modelAssertions('(model)')).toBe('');
  });
});
