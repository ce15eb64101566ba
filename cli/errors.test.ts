/**
 * Exit statuses of error codes, and the text of an error line: one line, control characters escaped.
 */
import { describe, expect, it } from 'vitest';
import { ALL_ERRORS, exitStatusOf, printable } from './errors.js';

describe('error codes', () => {
  it('exit status 4 for an internal error only', () => {
    expect([exitStatusOf('MC040'), exitStatusOf('MC010'), exitStatusOf('MC022'), exitStatusOf('MC030')]).toEqual([4, 2, 2, 2]);
  });
  it('every code the tool raises is listed once, with what it means', () => {
    expect(Object.keys(ALL_ERRORS)).toContain('MC040');
    expect(Object.keys(ALL_ERRORS)).toContain('MC010');
    expect(Object.keys(ALL_ERRORS)).toContain('MC022');
    for (const [code, what] of Object.entries(ALL_ERRORS)) expect([code, what.length > 5]).toEqual([expect.stringMatching(/^MC\d{3}$/), true]);
  });
  it('printable folds white space to one line and escapes control characters and a byte-order mark', () => {
    expect(printable('a\n  b\tc')).toBe('a b c');
    expect(printable('\u001b[31mred')).toBe('\\x1b[31mred');
    expect(printable('a\ufeffb')).toBe('a\\ufeffb');
  });
});
