/**
 * Errors with stable codes. Why this module exists: every user-facing failure (bad model, bad
 * parameter, bad trace, bad usage) must reach the CLI as one line with a code that tests and scripts
 * can match, never as a stack trace. Every layer throws `McError` with its own codes; this module
 * holds the class and the language's codes; the trace reader's codes are in
 * counterexamples/itf.ts, the command line's in cli/errors.ts, which also maps codes to exit statuses.
 */

/** A stable error code, `MC` and three digits. Tests assert on codes, never on message text. */
export type ErrorCode = `MC${string}`;

/** The codes the modelling language raises. */
export const LANGUAGE_ERRORS = {
  MC002: 'unknown variant',
  MC003: 'unknown parameter, property or size',
  MC004: 'parameter value out of range or of the wrong kind',
  MC005: 'variant does not apply to the chosen parameters (for example the mode)',
  MC010: 'model is ill-formed (type mismatch, unknown field, bad index) when built',
  MC011: 'run-time model error: a value out of its range, unwrap of none',
} as const satisfies Record<ErrorCode, string>;

/** An error meant for the user: one line, with a stable code. */
export class McError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = 'McError';
  }
}

/** A model that is wrong when built: names the rule (or property) where the problem is. */
export class ModelBuildError extends McError {
  constructor(where: string, message: string) {
    super('MC010', `${where}: ${message}`);
    this.name = 'ModelBuildError';
  }
}

/** A model error found while executing a rule (range overflow, unwrap of none). */
export class ModelRuntimeError extends McError {
  readonly rule: string;
  /** What went wrong, without where (e.g. `unwrap of none`). */
  readonly detail: string;
  constructor(rule: string, message: string) {
    super('MC011', `in rule ${rule}: ${message}`);
    this.rule = rule;
    this.detail = message;
    this.name = 'ModelRuntimeError';
  }
}
