/**
 * Talks to a native `z3` binary. Why this module exists: the wasm build of z3 is what every machine
 * has, but a native z3 (Debian package `z3`) may be faster; `--solver native` sends the very terms
 * the translator built, printed as SMT-LIB 2 by the wasm z3, to a native z3 process that mirrors
 * the solver incrementally, so both solvers answer the same queries. A model comes back as text and
 * is loaded into the wasm context as equalities (see `modelAssertions`), where the ordinary decoder
 * reads it and the replay guard checks it like any other model.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The path of a native `z3` on the PATH (or in MIRRORCHECK_Z3), or null when there is none. Empty
 * PATH entries, which a shell reads as the working folder, are skipped: a `z3` lying in the folder
 * a check runs from is never run.
 */
export function findNativeZ3(): string | null {
  const forced = process.env.MIRRORCHECK_Z3;
  const candidates = forced
    ? [forced]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, 'z3'));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * One native z3 process that mirrors one solver of a session incrementally: assertions, push and
 * pop are queued as SMT-LIB 2 text and sent before the next check, so the native solver keeps what
 * it learned between the depths of a BMC run exactly as the wasm solver does. Declarations are
 * global (`:global-declarations`), so a constant declared inside a scope survives its pop.
 */
export class NativeZ3Process {
  private readonly child: ChildProcessWithoutNullStreams;
  private buf = '';
  private exited: Error | null = null;
  private wake: (() => void) | null = null;
  private readonly declared = new Set<string>();
  private pending: string[] = [];

  constructor(binary: string, logic: string | null) {
    this.child = spawn(binary, ['-in', '-smt2'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.buf += d;
      this.wake?.();
    });
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => {
      this.buf += d;
      this.wake?.();
    });
    const died = (why: string) => {
      this.exited ??= new Error(`native z3 (${binary}) ${why}`);
      this.wake?.();
    };
    this.child.on('error', (e) => died(`could not run: ${e.message}`));
    this.child.on('exit', (code) => died(`exited with status ${code}`));
    this.child.stdin.on('error', () => {}); // reported through 'exit'
    this.pending.push('(set-option :print-success false)', '(set-option :global-declarations true)', '(set-option :produce-models true)');
    if (logic) this.pending.push(`(set-logic ${logic})`);
  }

  /**
   * Queues the forms of a benchmark printed by z3 (Z3_benchmark_to_smtlib_string): declarations not
   * yet sent and the assertion; the status line and check-sat are dropped.
   */
  assertBenchmark(text: string): void {
    for (const form of splitForms(text)) {
      const head = /^\(\s*([a-z-]+)\s+(\|[^|]*\||[^\s()]+)?/.exec(form);
      const cmd = head?.[1];
      if (cmd === 'declare-fun' || cmd === 'declare-const' || cmd === 'declare-sort' || cmd === 'define-sort' || cmd === 'declare-datatypes') {
        const name = `${cmd === 'declare-sort' || cmd === 'define-sort' ? 'sort ' : ''}${head?.[2] ?? form}`;
        if (this.declared.has(name)) continue;
        this.declared.add(name);
        this.pending.push(form);
      } else if (cmd === 'assert') {
        this.pending.push(form);
      }
    }
  }

  push(): void {
    this.pending.push('(push 1)');
  }

  pop(): void {
    this.pending.push('(pop 1)');
  }

  /** Sends what is queued and checks, with a soft timeout; on sat the model text comes back too. */
  async check(timeoutMs: number): Promise<NativeAnswer> {
    this.send([...this.pending, `(set-option :timeout ${Math.max(1, Math.floor(timeoutMs))})`, '(check-sat)'].join('\n'));
    this.pending = [];
    const line = await this.readForm();
    if (line === 'sat') {
      this.send('(get-model)');
      return { answer: 'sat', model: await this.readForm(), reason: '' };
    }
    if (line === 'unsat') return { answer: 'unsat', model: null, reason: '' };
    if (line === 'unknown' || line === 'timeout') {
      this.send('(get-info :reason-unknown)');
      const why = /"([^"]*)"/.exec(await this.readForm())?.[1] ?? line;
      return { answer: 'unknown', model: null, reason: why };
    }
    throw new Error(`native z3 answered ${line.slice(0, 300)}`);
  }

  /** Ends the process. */
  close(): void {
    if (this.exited) return;
    this.child.stdin.end('(exit)\n');
    this.child.kill();
  }

  private send(text: string): void {
    if (this.exited) throw this.exited;
    this.child.stdin.write(`${text}\n`);
  }

  /** The next complete top-level form (an atom such as `sat`, or a parenthesised expression) of the output. */
  private async readForm(): Promise<string> {
    for (;;) {
      const [form, rest] = takeForm(this.buf);
      if (form !== null) {
        this.buf = rest;
        if (form.startsWith('(error')) throw new Error(`native z3: ${form.slice(0, 300)}`);
        return form;
      }
      if (this.exited) throw this.exited;
      await new Promise<void>((r) => {
        this.wake = r;
      });
      this.wake = null;
    }
  }
}

/** What the native solver said about one query. */
export interface NativeAnswer {
  readonly answer: 'sat' | 'unsat' | 'unknown';
  /** The `(get-model)` output after `sat`. */
  readonly model: string | null;
  /** Why the answer is unknown (the solver's words, such as `timeout`). */
  readonly reason: string;
}

/** Splits SMT-LIB 2 text into its top-level forms (comments dropped). */
export function splitForms(text: string): string[] {
  const forms: string[] = [];
  let rest = text;
  for (;;) {
    const [form, after] = takeForm(rest);
    if (form === null) return forms;
    forms.push(form);
    rest = after;
  }
}

/**
 * The first complete top-level form of `text` and what follows it, or null while it is incomplete.
 * Knows |quoted symbols|, "strings" and ; comments, so parentheses inside them do not count.
 */
function takeForm(text: string): [string | null, string] {
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    if (text[i] !== ';') break;
    while (i < text.length && text[i] !== '\n') i++;
  }
  if (i >= text.length) return [null, text];
  const start = i;
  if (text[i] !== '(') {
    while (i < text.length && !/[\s()]/.test(text[i] as string)) i++;
    // An atom is complete once something follows it.
    return i < text.length ? [text.slice(start, i), text.slice(i)] : [null, text];
  }
  let depth = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '|') {
      const j = text.indexOf('|', i + 1);
      if (j < 0) return [null, text];
      i = j + 1;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && !(text[j] === '"' && text[j + 1] !== '"')) j += text[j] === '"' ? 2 : 1;
      if (j >= text.length) return [null, text];
      i = j + 1;
      continue;
    }
    if (c === ';') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) return [text.slice(start, i + 1), text.slice(i + 1)];
    }
    i++;
  }
  return [null, text];
}

type SExpr = string | SExpr[];

/** Parses SMT-LIB 2 s-expressions (symbols, |quoted symbols|, literals, comments). */
export function parseSExprs(text: string): SExpr[] {
  const top: SExpr[] = [];
  const stack: SExpr[][] = [top];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '(') {
      const l: SExpr[] = [];
      (stack[stack.length - 1] as SExpr[]).push(l);
      stack.push(l);
      i++;
    } else if (c === ')') {
      if (stack.length === 1) throw new Error('unbalanced ) in solver output');
      stack.pop();
      i++;
    } else if (c === ';') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (/\s/.test(c)) {
      i++;
    } else {
      let j = i;
      if (c === '|') {
        j = text.indexOf('|', i + 1);
        if (j < 0) throw new Error('unterminated |symbol| in solver output');
        j++;
      } else if (c === '"') {
        j = i + 1;
        while (j < text.length && !(text[j] === '"' && text[j + 1] !== '"')) j += text[j] === '"' ? 2 : 1;
        j++;
      } else {
        while (j < text.length && !/[\s()]/.test(text[j] as string)) j++;
      }
      (stack[stack.length - 1] as SExpr[]).push(text.slice(i, j));
      i = j;
    }
  }
  if (stack.length !== 1) throw new Error('unbalanced ( in solver output');
  return top;
}

const show = (e: SExpr): string => (typeof e === 'string' ? e : `(${e.map(show).join(' ')})`);

/**
 * Turns a model printed by z3 (`(model (define-fun x () S v) ...)` or its older form without the
 * `model` keyword) into SMT-LIB declarations and equalities that fix each constant to its value.
 * Returns null when the model defines something other than constants (functions over
 * uninterpreted sorts): such a model cannot be carried over as equalities.
 */
export function modelAssertions(modelText: string): string | null {
  const exprs = parseSExprs(modelText);
  const body = exprs[0];
  if (!Array.isArray(body)) return null;
  const defs = body[0] === 'model' ? body.slice(1) : body;
  const lines: string[] = [];
  for (const d of defs) {
    if (!Array.isArray(d) || d[0] !== 'define-fun' || d.length !== 5) return null;
    const [, name, args, sort, value] = d as [string, string, SExpr, SExpr, SExpr];
    if (!Array.isArray(args) || args.length > 0) return null;
    lines.push(`(declare-fun ${name} () ${show(sort)})`, `(assert (= ${name} ${show(value)}))`);
  }
  return lines.join('\n');
}
