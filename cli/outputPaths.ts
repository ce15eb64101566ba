/**
 * Checking where output will go, before any work is done. Why this module exists: a check can run
 * for minutes and then find a violation; if its trace cannot be written then, the report is lost.
 * So `--out` (a folder for traces) and `export --output` (a new file) are checked up front, and a
 * path that cannot be used is bad input (exit 2) naming the path and why.
 */
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { McError } from '../model/lang/errors.js';
import { printable } from './errors.js';

/** The nearest path at or above `p` that exists (the root always does). */
function nearestExisting(p: string): string {
  let cur = resolve(p);
  while (!existsSync(cur)) {
    const up = dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  return cur;
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks that `path` can hold trace files: it is a writable folder, or a folder that can be created
 * (its nearest existing ancestor is a writable folder). Creates nothing. MC031 otherwise.
 */
export function checkOutputDir(flag: string, path: string): void {
  const shown = `--${flag} '${printable(path)}'`;
  if (path.trim() === '') throw new McError('MC031', `--${flag} is an empty path: name a folder for counterexample traces`);
  const base = nearestExisting(path);
  const isDir = statSync(base).isDirectory();
  if (base === resolve(path) && !isDir) throw new McError('MC031', `${shown} is a file, not a folder: name a folder for counterexample traces`);
  if (!isDir) throw new McError('MC031', `${shown} cannot be created: ${printable(base)} is a file, not a folder`);
  if (!writable(base)) {
    throw new McError(
      'MC031',
      base === resolve(path)
        ? `${shown} is not writable: counterexample traces could not be saved there`
        : `${shown} cannot be created: ${printable(base)} is not writable (give --${flag} a writable folder)`,
    );
  }
}

/**
 * Creates folder `path` and the missing folders above it, one at a time (Node's recursive mkdir can
 * spin forever on a file system that refuses the creation, such as /proc); the first failure throws.
 */
export function makeDir(path: string): void {
  const missing: string[] = [];
  for (let cur = resolve(path); !existsSync(cur); cur = dirname(cur)) {
    missing.unshift(cur);
    if (dirname(cur) === cur) break;
  }
  for (const d of missing) mkdirSync(d);
}

/**
 * Checks that `path` can be written as a new file: it does not exist, and its folder exists and is
 * writable. MC031 otherwise.
 */
export function checkNewFile(flag: string, path: string): void {
  const shown = `--${flag} '${printable(path)}'`;
  if (path.trim() === '') throw new McError('MC031', `--${flag} is an empty path: name a file to write`);
  if (existsSync(path)) throw new McError('MC031', `${shown} exists; not overwriting it`);
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) throw new McError('MC031', `${shown}: its folder ${printable(dir)} does not exist`);
  if (!statSync(dir).isDirectory()) throw new McError('MC031', `${shown}: ${printable(dir)} is not a folder`);
  if (!writable(dir)) throw new McError('MC031', `${shown}: its folder ${printable(dir)} is not writable`);
}
