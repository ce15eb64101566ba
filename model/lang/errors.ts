/**
 * Errors with stable codes. Why this module exists: every user-facing failure (bad model, bad
 * parameter, bad trace) must reach the CLI as one line with a code that tests and scripts can match,
 * never as a stack trace. Engines and the language throw these; only `cli/` prints them.
 */

/** Stable error codes. Tests assert on codes, never on message text. */
export type ErrorCode =
  | 'MC001' // unknown protocol
  | 'MC002' // unknown variant
  | 'MC003' // unknown parameter
  | 'MC004' // parameter value out of range or of the wrong kind
  | 'MC005' // variant does not apply to the chosen parameters (for example the mode)
  | 'MC010' // model is ill-formed (type mismatch, unknown field, bad index) when built
  | 'MC011' // run-time model error: a value out of its range, unwrap of none
  | 'MC020' // trace file missing or unreadable
  | 'MC021' // trace file is not valid JSON or is truncated
  | 'MC022' // trace file is valid JSON but not a mirrorcheck ITF trace
  | 'MC023' // trace belongs to another protocol
  | 'MC030' // bad command-line usage
  | 'MC031' // output file exists and would be overwritten
  | 'MC040'; // internal error (engines disagree, replay of an engine's own trace failed)

/** The exit status for an error code: 4 for an internal error (MC040), 2 for bad input or a model error. */
export function exitStatusOf(code: string): number {
  return code === 'MC040' ? 4 : 2;
}

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
  constructor(rule: string, message: string) {
    super('MC011', `in rule ${rule}: ${message}`);
    this.rule = rule;
    this.name = 'ModelRuntimeError';
  }
}
