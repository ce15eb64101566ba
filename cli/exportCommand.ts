/**
 * `mirrorcheck export PROTOCOL --to murphi|promela`: prints the model (with its invariants, step
 * properties and covers) in a peer checker's language, so the same protocol can be run on Rumur or
 * SPIN. Writes to stdout, or to `--output FILE`, which must not exist yet.
 */
import { writeFileSync } from 'node:fs';
import { McError } from '../model/lang/errors.js';
import { buildModel } from '../model/lang/protocol.js';
import { parseParams } from './checkCommand.js';
import { printable } from './errors.js';
import { checkNewFile } from './outputPaths.js';
import { resolvePackage } from './packages.js';

export interface ExportOptions {
  readonly protocol: string;
  readonly to: 'murphi' | 'promela';
  readonly variant?: string;
  readonly params: readonly string[];
  readonly output?: string;
  readonly symmetry: boolean;
}

export async function runExport(opts: ExportOptions, out: (s: string) => void): Promise<number> {
  if (opts.output !== undefined) checkNewFile('output', opts.output);
  const entry = (await resolvePackage(opts.protocol)).pkg;
  const model = buildModel(entry.protocol, { variant: opts.variant ?? null, params: parseParams(opts.params) });
  const properties = entry.properties.build(model).filter((p) => p.kind !== 'liveness');
  const text =
    opts.to === 'murphi'
      ? (await import('../exporters/murphi.js')).toMurphi(model, properties, { symmetry: opts.symmetry })
      : (await import('../exporters/promela.js')).toPromela(model, properties);
  if (opts.output === undefined) {
    out(text.trimEnd());
    return 0;
  }
  try {
    writeFileSync(opts.output, text, { flag: 'wx' });
  } catch (e) {
    throw new McError('MC031', `--output '${printable(opts.output)}' could not be written: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (opts.to === 'murphi') {
    const { rumurFlags } = await import('../exporters/murphi.js');
    out(
      `wrote ${opts.output}; run: rumur ${rumurFlags(model, { symmetry: opts.symmetry }).join(' ')} ${opts.output} --output model.c && cc -std=c11 -march=native -O3 -o model model.c -lpthread && ./model`,
    );
  } else {
    out(`wrote ${opts.output}; run: spin -o2 -a ${opts.output} && gcc -O2 -DSAFETY -o pan pan.c && ./pan -m10000000`);
  }
  return 0;
}
