/**
 * The liveness benchmark: the full liveness check (reachable graph kept as CSR, fair-cycle search
 * for every liveness property and every slot and page) beside the safety-only run, on the same
 * fence-migrate configuration with more than 1,000,000 reachable states. Each run happens in its
 * own child process, so the peak resident memory printed (getrusage maxrss) belongs to that run
 * alone. Prints figures; never asserts.
 *
 * Usage: node dist/bench/liveness.js [--param k=v ...] [--variant V]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { explicitCheck } from '../checker/explicit/explicit.js';
import { livenessCheck } from '../checker/explicit/liveness.js';
import { buildModel } from '../model/lang/protocol.js';
import { fenceMigrate } from '../model/protocols/fenceMigrate/fenceMigrate.js';
import { fenceMigrateProperties } from '../model/protocols/fenceMigrate/fenceMigrateProperties.js';

const args = process.argv.slice(2);
const params: Record<string, string | number> = { pages: 3, frames: 4, slots: 2, migrations: 3, writes: 3, mode: 'fence' };
let variant: string | null = null;
let part: string | null = null;
args.forEach((a, i) => {
  const next = String(args[i + 1]);
  if (a === '--param') {
    const [k, v] = next.split('=');
    if (k && v) params[k] = v;
  }
  if (a === '--variant') variant = next;
  if (a === '--part') part = next;
});

interface PartResult {
  readonly part: string;
  readonly status: string;
  readonly states: number;
  readonly transitions: number;
  readonly elapsedMs: number;
  readonly maxRssMiB: number;
  readonly storeMiB: number;
  readonly bytesPerState: number | null;
  readonly violations: readonly string[];
}

function runPart(which: string): PartResult {
  const model = buildModel(fenceMigrate, { params, variant });
  const all = fenceMigrateProperties.build(model);
  const r =
    which === 'safety'
      ? explicitCheck({ model, properties: all.filter((p) => p.kind !== 'liveness'), limits: {} })
      : livenessCheck({ model, properties: all.filter((p) => p.kind === 'liveness'), limits: {} });
  return {
    part: which,
    status: r.status,
    states: r.stats.states,
    transitions: r.stats.transitions,
    elapsedMs: r.stats.elapsedMs,
    maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    storeMiB: Math.round(r.stats.storeBytes / 2 ** 20),
    bytesPerState: r.stats.bytesPerState,
    violations:
      r.status === 'violated'
        ? r.violations.map((v) => `${v.property}: ${v.trace?.steps.length ? v.trace.steps.length - 1 : 0} steps, loop at ${v.trace?.loop ?? '-'}`)
        : [],
  };
}

if (part !== null) {
  console.log(JSON.stringify(runPart(part)));
} else {
  const model = buildModel(fenceMigrate, { params, variant });
  const live = fenceMigrateProperties.build(model).filter((p) => p.kind === 'liveness');
  console.log(
    `${fenceMigrate.name}${variant ? ` --variant ${variant}` : ''} ${Object.entries(params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}: ` + `${live.length} liveness properties (${live.map((p) => p.name).join(', ')}), node ${process.version}, one core`,
  );
  const self = fileURLToPath(import.meta.url);
  const passThrough = args.filter((a) => a !== '--part');
  for (const which of ['safety', 'liveness']) {
    const out = execFileSync(process.execPath, [self, ...passThrough, '--part', which], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const r = JSON.parse(out.trim().split('\n').pop() as string) as PartResult;
    console.log(
      `${which.padEnd(8)} ${r.status.padEnd(8)} ${r.states} states, ${r.transitions} transitions, ${(r.elapsedMs / 1000).toFixed(2)} s, ` +
        `peak rss ${r.maxRssMiB} MiB (engine arrays at their peak ${r.storeMiB} MiB, ${r.bytesPerState ?? '-'} bytes a state)`,
    );
    for (const v of r.violations) console.log(`         ${v}`);
  }
}
