/**
 * Engine selection for the CLI. Why this module exists: engines are loaded on demand, so that a
 * command that does not use z3 never pays for loading it.
 */
import type { Engine } from '../checker/engine.js';
import { explicitLivenessEngine } from '../checker/explicit/liveness.js';
import { findNativeZ3 } from '../checker/smt/nativeZ3.js';
import { McError } from '../model/lang/errors.js';

export const ENGINE_NAMES = ['explicit', 'random', 'smt'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** The engine called `name`. */
export async function loadEngine(name: EngineName): Promise<Engine> {
  switch (name) {
    case 'explicit':
      return explicitLivenessEngine;
    case 'random':
      return (await import('../checker/random/random.js')).randomEngine;
    case 'smt':
      return (await import('../checker/smt/index.js')).smtEngine;
    default:
      throw new McError('MC030', `engine '${name}' is not available in this build`);
  }
}

export const SOLVER_NAMES = ['wasm', 'native'] as const;
export type SolverName = (typeof SOLVER_NAMES)[number];

/**
 * Checks `--solver`: `native` needs the SMT engine (or `prove`) and a `z3` binary on the PATH
 * (MIRRORCHECK_Z3 names another one). Throws MC030 otherwise.
 */
export function checkSolver(solver: SolverName, engine: EngineName | 'prove'): void {
  if (solver === 'wasm') return;
  if (engine !== 'smt' && engine !== 'prove') throw new McError('MC030', `--solver native applies to the smt engine and to prove, not to --engine ${engine}`);
  if (!findNativeZ3()) throw new McError('MC030', '--solver native: no z3 binary on the PATH (install the Debian package z3, or set MIRRORCHECK_Z3)');
}
