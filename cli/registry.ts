/**
 * The built-in protocol packages. Why this module exists: `cli/` is the only place that names
 * protocols; adding a built-in protocol means adding one package folder and one line here. A model
 * file given by path is loaded by cli/modelFiles.ts into the same shape.
 */
import { McError } from '../model/lang/errors.js';
import daxRevoke from '../model/protocols/daxRevoke/index.js';
import deviceExclusive from '../model/protocols/deviceExclusive/index.js';
import fenceMigrate from '../model/protocols/fenceMigrate/index.js';
import hmmMigrate from '../model/protocols/hmmMigrate/index.js';
import odpMirror from '../model/protocols/odpMirror/index.js';
import odpMr from '../model/protocols/odpMr/index.js';
import type { ProtocolPackage } from '../properties/package.js';

/** A package as the CLI handles it. */
export type RegistryEntry = ProtocolPackage;

/** The built-in packages, in the order `list` and `check` show them. */
export const registry: readonly RegistryEntry[] = [fenceMigrate, odpMirror, hmmMigrate, deviceExclusive, odpMr, daxRevoke];

/** Finds a built-in protocol by name (MC001 when unknown). */
export function lookupProtocol(name: string): RegistryEntry {
  const e = registry.find((x) => x.protocol.name === name);
  if (!e) throw new McError('MC001', `unknown protocol '${name}' (built-in: ${registry.map((x) => x.protocol.name).join(', ')})`);
  return e;
}
