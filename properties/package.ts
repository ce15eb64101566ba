/**
 * A protocol package: everything mirrorcheck knows about one protocol, as one value. Why this module
 * exists: the CLI, the tests, the benchmarks and a driver author's own CI meet a protocol only through
 * this shape, so a built-in protocol and a model file from outside mirrorcheck's tree are handled
 * alike. A model file's default export (or its export named `package`) is one of these.
 *
 * @example
 * ```ts
 * import { definePackage, definePropertySet, defineProtocol } from 'mirrorcheck';
 * export const myProtocol = defineProtocol({ ... });
 * export const myProperties = definePropertySet(myProtocol, (model) => [ ... ]);
 * export default definePackage({ properties: myProperties, corpus: new URL('./corpus/', import.meta.url) });
 * ```
 */
import type { HarnessBinding } from '../harness/binding.js';
import { McError } from '../model/lang/errors.js';
import type { ParamValues, ProtocolDef } from '../model/lang/protocol.js';
import type { PropertySet } from './property.js';

/** Parameter values by name, as `--param name=value` gives them. */
export type ParamSize = Readonly<Record<string, number | string>>;

/** One protocol as a package. */
// biome-ignore lint/suspicious/noExplicitAny: a package pairs a protocol with its own handle type, which the generic users do not know
export interface ProtocolPackage<H = any> {
  /** The model and its named bug variants (the same as `properties.protocol`). */
  readonly protocol: ProtocolDef<H>;
  /** The properties checked, and the optional proof hints. */
  readonly properties: PropertySet<H>;
  /** Folder of saved counterexamples (`*.itf.json`), each of which must still replay and violate. */
  readonly corpus?: URL;
  /**
   * Named parameter sizes beyond the defaults, for tests, benchmarks and CI project files: for
   * example `large` (over a million reachable states) or `smt` (small enough for bounded model
   * checking of every variant in seconds).
   */
  readonly sizes?: Readonly<Record<string, ParamSize>>;
  /**
   * The reference driver on the simulated hardware (`mirrorcheck/harness`): what `replay --on
   * harness`, the conformance check and the harness replay need. Absent: the protocol has none.
   */
  readonly harness?: HarnessBinding;
}

/** Declares a package; checks that its parts belong together (MC010 when they do not). */
export function definePackage<H>(pkg: { readonly properties: PropertySet<H> } & Partial<Omit<ProtocolPackage<H>, 'properties'>>): ProtocolPackage<H> {
  const protocol = pkg.protocol ?? pkg.properties.protocol;
  if (protocol !== pkg.properties.protocol) {
    throw new McError('MC010', `package ${protocol.name}: its property set belongs to ${pkg.properties.protocol.name}`);
  }
  for (const [name, size] of Object.entries(pkg.sizes ?? {})) {
    const unknown = Object.keys(size).filter((k) => !(k in protocol.params));
    if (unknown.length) throw new McError('MC010', `package ${protocol.name}: size '${name}' names unknown parameters: ${unknown.join(', ')}`);
  }
  return { ...pkg, protocol };
}

/** The parameter values of a named size of a package (MC003 when the package has no such size). */
export function sizeOf(pkg: ProtocolPackage, name: string): ParamValues {
  const size = pkg.sizes?.[name];
  if (!size) throw new McError('MC003', `${pkg.protocol.name} has no size '${name}' (sizes: ${Object.keys(pkg.sizes ?? {}).join(', ') || 'none'})`);
  return size;
}
