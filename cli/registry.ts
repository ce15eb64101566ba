/**
 * The built-in protocols and their property sets. Why this module exists: `cli/` is the only place
 * that wires protocols to properties and engines; adding a protocol means adding one line here.
 */
import { McError } from '../model/lang/errors.js';
import type { ProtocolDef } from '../model/lang/protocol.js';
import { fenceMigrate } from '../model/protocols/fenceMigrate/fenceMigrate.js';
import { daxRevokeProperties } from '../properties/daxRevoke.js';
import { fenceMigrateProperties } from '../properties/fenceMigrate.js';
import { odpMirrorProperties } from '../properties/odpMirror.js';
import { odpMrProperties } from '../properties/odpMr.js';
import type { PropertySet } from '../properties/property.js';

export interface RegistryEntry {
  // biome-ignore lint/suspicious/noExplicitAny: each entry pairs a protocol with its own handle type
  readonly protocol: ProtocolDef<any>;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  readonly properties: PropertySet<any>;
}

export const registry: readonly RegistryEntry[] = [
  { protocol: fenceMigrate, properties: fenceMigrateProperties },
  { protocol: odpMirrorProperties.protocol, properties: odpMirrorProperties },
  { protocol: odpMrProperties.protocol, properties: odpMrProperties },
  { protocol: daxRevokeProperties.protocol, properties: daxRevokeProperties },
];

/** Finds a built-in protocol by name (MC001 when unknown). */
export function lookupProtocol(name: string): RegistryEntry {
  const e = registry.find((x) => x.protocol.name === name);
  if (!e) throw new McError('MC001', `unknown protocol '${name}' (built-in: ${registry.map((x) => x.protocol.name).join(', ')})`);
  return e;
}
