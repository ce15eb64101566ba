/**
 * The command line's option vocabulary. Why this module exists: yargs parses and validates every
 * option as it reads it (`coerce`, `.check`), so a bad value, a repeated flag or a flag that does not
 * apply is one line with MC030 and exit 2, named with the option, the value and what is allowed,
 * instead of being accepted silently or reported as yargs' multi-line "Invalid values:" text.
 */
import { DEFAULT_DEPTH, DEFAULT_RUNS } from '../checker/random/random.js';
import { DEFAULT_BMC_DEPTH } from '../checker/smt/bmc.js';
import { DEFAULT_MAX_K } from '../checker/smt/prove.js';
import { McError } from '../model/lang/errors.js';
import { ALL_ERRORS } from './errors.js';

export { DEFAULT_BMC_DEPTH, DEFAULT_DEPTH, DEFAULT_MAX_K, DEFAULT_RUNS };

/** `a, b or c`. */
function oneOf(values: readonly string[]): string {
  return values.length < 2 ? (values[0] ?? '') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
}

/**
 * An option that takes one of `values`: a value outside them is MC030 naming the option, the value
 * and the allowed values; the option given twice is MC030 too.
 */
export function choiceOption<T extends string>(flag: string, values: readonly T[], describe: string, defaultValue?: T) {
  return {
    choices: values,
    describe,
    ...(defaultValue !== undefined ? { default: defaultValue } : {}),
    coerce: (v: unknown): T => {
      if (Array.isArray(v)) throw new McError('MC030', `--${flag} given more than once (${v.join(', ')})`);
      if (!values.includes(v as T)) throw new McError('MC030', `--${flag}: '${String(v)}' is not allowed (choose ${oneOf(values)})`);
      return v as T;
    },
  };
}

/**
 * A numeric option. A value that is not a number, or the option given twice, is MC030. Ranges are
 * checked by the command (it knows which bound makes sense), not here.
 */
export function numberOption(flag: string, describe: string, defaultDescription?: string) {
  return {
    type: 'number' as const,
    describe,
    ...(defaultDescription !== undefined ? { defaultDescription } : {}),
    coerce: (v: unknown): number => {
      if (Array.isArray(v)) throw new McError('MC030', `--${flag} given more than once (${v.join(', ')})`);
      if (typeof v !== 'number' || Number.isNaN(v)) {
        const given = writtenValue(process.argv.slice(2), flag);
        throw new McError('MC030', `--${flag} must be a number${given !== undefined ? `, got '${given}'` : ''}`);
      }
      return v;
    },
  };
}

/** A string option given at most once. */
export function stringOption(flag: string, describe: string, defaultValue?: string) {
  return {
    type: 'string' as const,
    describe,
    ...(defaultValue !== undefined ? { default: defaultValue } : {}),
    coerce: (v: unknown): string => {
      if (Array.isArray(v)) throw new McError('MC030', `--${flag} given more than once (${v.join(', ')})`);
      return String(v);
    },
  };
}

/** The flag names written in `raw` (before any `--`), kebab-case, `--no-x` counted as `x`. */
export function flagsWritten(raw: readonly string[]): { name: string; value: string | undefined; text: string }[] {
  const out: { name: string; value: string | undefined; text: string }[] = [];
  for (const arg of raw) {
    if (arg === '--') break;
    const m = /^--(no-)?([A-Za-z][\w-]*)(?:=(.*))?$/s.exec(arg);
    if (!m) continue;
    const name = (m[2] as string).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    out.push({ name, value: m[1] ? 'false' : m[3], text: arg });
  }
  return out;
}

/** The value written for `--flag` in `raw` (`--flag=v` or `--flag v`), if any. */
export function writtenValue(raw: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < raw.length; i++) {
    const arg = raw[i] as string;
    if (arg === '--') break;
    if (arg.startsWith(`--${flag}=`)) return arg.slice(flag.length + 3);
    if (arg === `--${flag}`) return raw[i + 1];
  }
  return undefined;
}

/**
 * Checks what yargs' parser lets through for switches: a switch given twice (`--symmetry
 * --no-symmetry`) or given a value other than true or false (`--progress=maybe`, which the parser
 * would read as false). Throws MC030.
 */
export function checkSwitches(raw: readonly string[], switches: readonly string[]): void {
  const seen = new Map<string, string>();
  for (const f of flagsWritten(raw)) {
    if (!switches.includes(f.name)) continue;
    if (f.value !== undefined && f.value !== 'true' && f.value !== 'false') {
      throw new McError('MC030', `--${f.name} is a switch: write --${f.name} or --no-${f.name}, not '${f.text}'`);
    }
    const before = seen.get(f.name);
    if (before !== undefined) throw new McError('MC030', `--${f.name} given more than once (${before} and ${f.text})`);
    seen.set(f.name, f.text);
  }
}

/**
 * Which engines each engine-specific option of `check` applies to. An option not listed applies
 * to every engine.
 */
export const ENGINE_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  strategy: ['explicit'],
  symmetry: ['explicit'],
  'max-states': ['explicit'],
  seed: ['random'],
  runs: ['random'],
  solver: ['smt'],
  store: ['explicit'],
  memory: ['explicit'],
  'max-memory': ['explicit'],
  workers: ['explicit'],
  checkpoint: ['explicit'],
  'checkpoint-minutes': ['explicit'],
  resume: ['explicit'],
  shard: ['explicit'],
  por: ['explicit'],
};

/** MC030 when an option written in `raw` does not apply to `engine`. */
export function checkEngineOptions(raw: readonly string[], engine: string): void {
  for (const f of flagsWritten(raw)) {
    const engines = ENGINE_OPTIONS[f.name];
    if (engines && !engines.includes(engine)) {
      throw new McError('MC030', `${f.text} does not apply to the ${engine} engine (only to ${oneOf(engines.map((e) => `--engine ${e}`))})`);
    }
  }
}

/** What each exit status means, for every command's help. */
export const EXIT_STATUSES =
  'Exit status: 0 every property holds (or proved), 1 a violation (trace saved), 2 bad usage, input or model (one line: error MCnnn), 3 incomplete (a limit or an interrupt stopped the run; what was found is kept), 4 internal error (MC040, please report it).';

/** The top-level help's list of error codes. */
export function errorCodeList(): string {
  return `Error codes:\n${Object.entries(ALL_ERRORS)
    .map(([code, what]) => `  ${code}  ${what}`)
    .join('\n')}`;
}
