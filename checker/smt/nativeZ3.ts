/**
 * Runs one SMT-LIB 2 query on a native `z3` binary. Why this module exists: the wasm build of z3 is
 * what every machine has, but a native z3 (Debian package `z3`) can be much faster; `--solver
 * native` sends the very terms the translator built, printed as SMT-LIB 2 text by the wasm z3, to
 * the native binary, so both solvers answer the same query. The answer's model comes back as text
 * and is loaded into the wasm context as equalities (see `modelAssertions`), where the ordinary
 * decoder reads it and the replay guard checks it like any other model.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The path of a native `z3` on the PATH (or in MIRRORCHECK_Z3), or null when there is none. */
export function findNativeZ3(): string | null {
  const forced = process.env.MIRRORCHECK_Z3;
  const candidates = forced ? [forced] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'z3'));
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

/** What the native solver said about one query. */
export interface NativeAnswer {
  readonly answer: 'sat' | 'unsat' | 'unknown';
  /** The `(get-model)` output after `sat`. */
  readonly model: string | null;
  /** Why the answer is unknown (the solver's words, or `timeout`). */
  readonly reason: string;
}

/**
 * Sends `query` (declarations and assertions, without check-sat) to `z3 -in` with a soft timeout
 * of `timeoutMs`, then asks for a model when the answer is sat. A crash or garbage output throws.
 */
export function runNativeZ3(binary: string, query: string, timeoutMs: number): Promise<NativeAnswer> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['-in', '-smt2', `-t:${Math.max(1, Math.floor(timeoutMs))}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      const firstLine = out.trimStart().split('\n', 1)[0]?.trim() ?? '';
      if (firstLine === 'sat') resolve({ answer: 'sat', model: out.trimStart().slice(3), reason: '' });
      else if (firstLine === 'unsat') resolve({ answer: 'unsat', model: null, reason: '' });
      else if (firstLine === 'unknown' || firstLine === 'timeout') resolve({ answer: 'unknown', model: null, reason: firstLine === 'timeout' ? 'timeout' : 'native z3 answered unknown' });
      else reject(new Error(`native z3 (${binary}) exited ${code} without an answer: ${(firstLine || err).slice(0, 200)}`));
    });
    child.stdin.on('error', () => {}); // a solver that exits early closes its input; 'close' reports it
    child.stdin.end(`(set-option :produce-models true)\n${query}\n(check-sat)\n(get-model)\n(exit)\n`);
  });
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
