/**
 * From a command-line argument to protocol packages. Why this module exists: every command accepts
 * either a built-in protocol's name or a path to a model file, and treats the two alike from then on;
 * this is the one place that tells them apart and remembers where a package came from (a trace of a
 * model file records the file and its hash).
 */
import { McError } from '../model/lang/errors.js';
import type { ProtocolPackage } from '../properties/package.js';
import { loadModelFile, looksLikeModelFile } from './modelFiles.js';
import { lookupProtocol, registry } from './registry.js';

/** A package and where it came from. */
export interface ResolvedPackage {
  readonly pkg: ProtocolPackage;
  /** Set for a package loaded from a model file. */
  readonly file?: { readonly path: string; readonly sha256: string };
}

/** Options for loading model files. */
export interface LoadOptions {
  /** Typecheck TypeScript model files before loading them (default true). */
  readonly typecheck?: boolean;
}

/** The package named by `arg`: a built-in protocol's name, or a model file's path. */
export async function resolvePackage(arg: string, opts: LoadOptions = {}): Promise<ResolvedPackage> {
  if (!looksLikeModelFile(arg)) return { pkg: lookupProtocol(arg) };
  const loaded = await loadModelFile(arg, opts);
  return { pkg: loaded.pkg, file: { path: loaded.path, sha256: loaded.sha256 } };
}

/** The packages a command works on: the one named, or every built-in protocol when none is. */
export async function resolvePackages(arg: string | undefined, opts: LoadOptions = {}): Promise<ResolvedPackage[]> {
  if (arg === undefined) return registry.map((pkg) => ({ pkg }));
  if (arg.trim() === '') throw new McError('MC030', 'the protocol argument is empty: name a built-in protocol or a model file');
  return [await resolvePackage(arg, opts)];
}
