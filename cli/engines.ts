/**
 * Engine selection for the CLI. Why this module exists: engines are loaded on demand, so that a
 * command that does not use z3 never pays for loading it.
 */
import type { Engine } from '../checker/engine.js';
import { explicitLivenessEngine } from '../checker/explicit/liveness.js';
import { McError } from '../model/lang/errors.js';

export const ENGINE_NAMES = ['explicit', 'random', 'smt'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** The engine called `name`. */
export async function loadEngine(name: EngineName): Promise<Engine> {
  switch (name) {
    case 'explicit': return explicitLivenessEngine;
    case 'random': return (await import('../checker/random/random.js')).randomEngine;
    case 'smt': return (await import('../checker/smt/index.js')).smtEngine;
    default: throw new McError('MC030', `engine '${name}' is not available in this build`);
  }
}
