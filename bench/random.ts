/**
 * The random-engine benchmark: for every fence-migrate bug variant, the time the random engine takes
 * to find it with a fixed seed, the length of its shrunk counterexample against the BFS shortest, and
 * whether the trace does concrete damage when replayed on the reference driver and simulated
 * hardware; at the default size and at a size exhaustive search cannot finish. Prints figures; never
 * asserts.
 *
 * odp-mirror follows, every variant at its default and benchmark sizes, with the same harness column.
 * The harness replay is the package's reference driver (its `harness` binding).
 *
 * Usage: node dist/bench/random.js [--seed S] [--runs N] [--depth D] [--bfs-limit SECONDS]
 */
import type { CheckResult } from '../checker/engine.js';
import { explicitCheck } from '../checker/explicit/explicit.js';
import { DEFAULT_DEPTH, DEFAULT_RUNS, randomCheck } from '../checker/random/random.js';
import { replayOnHarness } from '../conformance/replayOnHarness.js';
import type { Trace } from '../counterexamples/trace.js';
import type { Model } from '../model/lang/protocol.js';
import { buildModel } from '../model/lang/protocol.js';
import fenceMigrate from '../model/protocols/fenceMigrate/index.js';
import odpMirror from '../model/protocols/odpMirror/index.js';
import { type ProtocolPackage, sizeOf } from '../properties/package.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const seed = opt('--seed', 7);
const runs = opt('--runs', DEFAULT_RUNS);
const depth = opt('--depth', DEFAULT_DEPTH);
const bfsLimit = opt('--bfs-limit', 5);

const SIZES: [string, Record<string, number>][] = [
  ['default', {}],
  ['large', { pages: 4, frames: 6, slots: 3, migrations: 4, writes: 6 }],
];
const VARIANTS: [string, string][] = [
  ['unblock-before-update', 'fence'],
  ['fence-without-drain', 'fence'],
  ['unblock-before-copy', 'fence'],
  ['free-before-fence', 'fence'],
  ['no-invalidate', 'fence'],
  ['fence-without-drain', 'zap-and-fault'],
  ['free-before-fence', 'zap-and-fault'],
  ['no-invalidate', 'zap-and-fault'],
];

const stepsOf = (r: CheckResult) => (r.status === 'violated' && r.violations[0]?.trace ? r.violations[0].trace.steps.length - 1 : null);

/** What the trace does on the package's reference driver: the first damage and the steps added. */
function harnessCell(pkg: ProtocolPackage, model: Model, trace: Trace | null): string {
  if (!trace || !pkg.harness) return '-';
  const h = replayOnHarness(pkg.harness, model, trace);
  if (h.mismatch) return `mismatch at step ${h.mismatch.step}`;
  return (h.damage[0]?.kind ?? 'no damage') + (h.added.length ? ` (+${h.added.length})` : '');
}

console.log(`random engine: seed ${seed}, ${runs} runs of depth ${depth}; BFS limited to ${bfsLimit}s; node ${process.version}, one core`);
console.log('size     variant                mode           found  ms      runs  fc-steps shrunk  BFS  BFS-ms   property                       harness');
for (const [sizeName, size] of SIZES) {
  for (const [variant, mode] of VARIANTS) {
    const model = buildModel(fenceMigrate.protocol, { variant, params: { ...size, mode } });
    const properties = fenceMigrate.properties.build(model);
    const t0 = Date.now();
    const r = randomCheck({ model, properties, limits: { depth }, seed, runs });
    const ms = Date.now() - t0;
    const t1 = Date.now();
    const bfs = explicitCheck({ model, properties, limits: { timeLimitSec: bfsLimit } });
    const bfsMs = Date.now() - t1;
    const trace = r.status === 'violated' ? (r.violations[0]?.trace ?? null) : null;
    const cells = [
      sizeName.padEnd(8),
      variant.padEnd(22),
      mode.padEnd(14),
      (r.status === 'violated' ? 'yes' : r.status).padEnd(6),
      String(ms).padEnd(7),
      String(r.status === 'violated' ? r.stats.runs : '-').padEnd(5),
      String(trace?.extra?.fcCounterexampleSteps ?? '-').padEnd(8),
      String(stepsOf(r) ?? '-').padEnd(7),
      String(stepsOf(bfs) ?? (bfs.status === 'incomplete' ? 'n/a' : '-')).padEnd(4),
      String(bfsMs).padEnd(8),
      String(trace?.property ?? '-').padEnd(30),
      harnessCell(fenceMigrate, model, trace),
    ];
    console.log(cells.join(' '));
  }
}
for (const [sizeName, size] of SIZES) {
  for (const mode of ['fence', 'zap-and-fault']) {
    const model = buildModel(fenceMigrate.protocol, { params: { ...size, mode } });
    const t0 = Date.now();
    const r = randomCheck({ model, properties: fenceMigrate.properties.build(model), limits: { depth }, seed, runs });
    console.log(
      `correct protocol, ${sizeName} size, ${mode}: ${r.status}${r.status === 'ok' ? ` (${r.guarantee}, ${r.stats.runs} runs of depth ${r.bound})` : ''} in ${Date.now() - t0} ms, ${r.stats.steps} steps taken, ${r.stats.states} distinct states`,
    );
  }
}

// odp-mirror: every variant at the default size and at the benchmark size (2.3 million states).
const odpRuns = Math.max(runs, 20_000);
const odpDepth = Math.max(depth, 80);
console.log(`\n${odpMirror.protocol.name}: seed ${seed}, ${odpRuns} runs of depth ${odpDepth} (half of them swarm runs); BFS limited to ${bfsLimit}s`);
console.log('size     variant                     found  ms      runs   fc-steps shrunk  BFS  BFS-ms   property                       harness');
for (const [sizeName, size] of [
  ['default', {}],
  ['large', sizeOf(odpMirror, 'bench')],
] as const) {
  for (const v of odpMirror.protocol.variants) {
    const model = buildModel(odpMirror.protocol, { variant: v.name, params: size });
    const properties = odpMirror.properties.build(model);
    const t0 = Date.now();
    const r = randomCheck({ model, properties, limits: { depth: odpDepth }, seed, runs: odpRuns });
    const ms = Date.now() - t0;
    const t1 = Date.now();
    const bfs = explicitCheck({ model, properties: properties.filter((p) => p.kind !== 'liveness'), limits: { timeLimitSec: bfsLimit } });
    const bfsMs = Date.now() - t1;
    const trace = r.status === 'violated' ? (r.violations[0]?.trace ?? null) : null;
    console.log(
      [
        sizeName.padEnd(8),
        v.name.padEnd(27),
        (r.status === 'violated' ? 'yes' : r.status).padEnd(6),
        String(ms).padEnd(7),
        String(r.status === 'violated' ? r.stats.runs : '-').padEnd(6),
        String(trace?.extra?.fcCounterexampleSteps ?? '-').padEnd(8),
        String(stepsOf(r) ?? '-').padEnd(7),
        String(stepsOf(bfs) ?? (bfs.status === 'incomplete' ? 'n/a' : '-')).padEnd(4),
        String(bfsMs).padEnd(8),
        String(trace?.property ?? '-').padEnd(30),
        harnessCell(odpMirror, model, trace),
      ].join(' '),
    );
  }
}
