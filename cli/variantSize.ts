/**
 * The size a bug variant is checked at. Why this module exists: a variant may not apply at its
 * protocol's default size (it needs a mode or a second page); the tests and benchmarks that walk
 * every variant of every package take the size of its saved counterexample then, so that no variant
 * is skipped silently.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseItf } from '../counterexamples/itf.js';
import { variantProblem } from '../model/lang/protocol.js';
import type { ProtocolPackage } from '../properties/package.js';

/**
 * Parameter values for `variant` of `pkg`: `{}` (the defaults) when the variant applies there, else
 * the parameters of its corpus trace, else the first of the package's named sizes where it
 * applies, else null (it applies at no size the package names).
 */
export function variantSize(pkg: ProtocolPackage, variant: string): Record<string, number | string> | null {
  const v = pkg.protocol.variants.find((x) => x.name === variant);
  if (!v) return null;
  // The variant's own params apply beneath the size's values, as buildModel applies them.
  const appliesAt = (size: Readonly<Record<string, number | string>>) => !variantProblem(pkg.protocol, variant, size);
  if (appliesAt({})) return {};
  const dir = pkg.corpus ? fileURLToPath(pkg.corpus) : null;
  const saved = dir ? readdirSync(dir).filter((x) => x.startsWith(`${variant}.`) && x.endsWith('.itf.json')) : [];
  for (const f of saved) {
    const { header } = parseItf(readFileSync(join(dir as string, f), 'utf8'));
    if (header.variant === variant) return { ...header.params };
  }
  for (const size of Object.values(pkg.sizes ?? {})) if (appliesAt(size)) return { ...size };
  return null;
}
