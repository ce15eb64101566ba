/**
 * What a call throws, as one string a test can compare. Why this module exists: the tests of the
 * language, the properties and the CLI options each check refusals by their stable error code and
 * message, and each had its own copy of this helper.
 */
import { McError } from '../model/lang/errors.js';

/** `"<code> <message>"` for an McError, `"raw <message>"` for any other error, `"no error"` when `fn` returns. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof McError ? `${e.code} ${e.message}` : `raw ${(e as Error).message}`;
  }
  return 'no error';
}
