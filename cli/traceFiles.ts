/**
 * Saving traces. Why this module exists: counterexample files are the product users keep, so names
 * are predictable and an existing file is never overwritten (a numeric suffix is added instead).
 */
import { closeSync, existsSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { traceToItf } from '../counterexamples/itf.js';
import type { Trace } from '../counterexamples/trace.js';
import { McError } from '../model/lang/errors.js';
import type { Model } from '../model/lang/protocol.js';
import { printable } from './errors.js';
import { makeDir } from './outputPaths.js';
import { quietly } from '../checker/explicit/fileWrites.js';

/** A file name in `dir` that does not exist yet: `base.itf.json`, else `base.1.itf.json`, ... */
export function freshPath(dir: string, base: string): string {
  let p = join(dir, `${base}.itf.json`);
  for (let i = 1; existsSync(p); i++) p = join(dir, `${base}.${i}.itf.json`);
  return p;
}

/**
 * Writes a trace as ITF into `dir` (created if needed) and returns its path. Never overwrites. A
 * counterexample to induction (`kind` 'cti': its first state need not be reachable) and a trace in
 * which only a proof hint fails (`kind` 'hint') are named `<protocol>.<variant>.<property>.cti` /
 * `.hint`, never like a violation. A folder that cannot be written is MC031 naming it (the commands
 * check `--out` before they run, so this happens only when the folder changes or the disk fills
 * during the run); a file cut short by a full disk is removed, never left to fail a replay.
 */
export function saveTrace(dir: string, model: Model, trace: Trace, kind: 'violation' | 'cti' | 'hint' = 'violation'): string {
  const base = [trace.protocol, trace.variant ?? 'correct', trace.property ?? 'trace', kind === 'violation' ? trace.engine : kind].join('.');
  // The file this call created, if any: a write cut short (a full disk) must not leave a trace that does not replay.
  let created: string | null = null;
  try {
    makeDir(dir);
    const path = freshPath(dir, base);
    const text = `${JSON.stringify(traceToItf(trace, model, dir), null, 2)}\n`;
    const fd = openSync(path, 'wx');
    created = path;
    try {
      writeFileSync(fd, text);
    } finally {
      closeSync(fd);
    }
    return path;
  } catch (e) {
    const partial = created;
    if (partial !== null) quietly(() => rmSync(partial, { force: true }));
    throw new McError('MC031', `could not save the trace ${base} in '${printable(dir)}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
