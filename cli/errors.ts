/**
 * The command line's error codes and exit statuses. Why this module exists: the exit status of a
 * failure is decided in one place (an internal error is 4, anything the user can fix is 2), and
 * `mirrorcheck --help` lists every code the tool can print, from every layer.
 */
import { type ErrorCode, LANGUAGE_ERRORS } from '../model/lang/errors.js';
import { TRACE_ERRORS } from '../counterexamples/itf.js';

/** The codes the command line itself raises. */
export const CLI_ERRORS = {
  MC001: 'unknown protocol',
  MC012: 'model file missing, unreadable or of an unknown kind',
  MC013: 'model file does not parse or typecheck (file:line)',
  MC014: 'model file exports no protocol package',
  MC015: 'project file (mirrorcheck.config.json) missing or invalid',
  MC030: 'bad command-line usage',
  MC031: 'output file or folder exists, or cannot be written',
  MC040: 'internal error (engines disagree, an engine’s own trace does not replay): please report it',
} as const satisfies Record<ErrorCode, string>;

/** Every code the tool can print, in order. */
export const ALL_ERRORS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries({ ...CLI_ERRORS, ...LANGUAGE_ERRORS, ...TRACE_ERRORS }).sort(([a], [b]) => a.localeCompare(b)),
);

/** The exit status for an error code: 4 for an internal error (MC040), 2 for bad input or a model error. */
export function exitStatusOf(code: string): number {
  return code === 'MC040' ? 4 : 2;
}

/**
 * Text safe to print on a terminal, line breaks and indentation kept: control characters (escape
 * sequences, a byte-order mark, bidirectional overrides) shown as `\xNN` / `\uNNNN`.
 */
export function escapeControls(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '\n' || ch === '\t') out += ch;
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c === 0xfeff || (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e)) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

/**
 * Text safe to print on one line of a terminal: white space folded to single spaces, and control
 * characters (escape sequences, a byte-order mark) shown as `\xNN` / `\uNNNN` instead of being sent raw.
 */
export function printable(s: string): string {
  return escapeControls(s.replace(/[\t\n\r ]+/g, ' ').trim());
}
