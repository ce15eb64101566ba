/**
 * The peer benchmark: the same fence-migrate model checked by our explicit engine, by Rumur (one
 * and two threads) and by SPIN, on the models the exporters print. Why this module exists: a
 * states-per-second figure means little alone; side by side with mature checkers on the very same
 * state space it says where we stand. Generation and compilation time are reported apart from the
 * search. Prints figures; never asserts. A peer that is not installed is reported and skipped.
 *
 * Usage: node dist/bench/peers.js [--param k=v ...] [--only rumur1,rumur2,spin]
 * Default size: pages=3 frames=4 slots=2 migrations=3 writes=3 (about 1.5 million states). Our
 * engine always runs (its state count is what the peers must match). The whole run takes about a
 * minute and a half on 2 cores, most of it Rumur's search: use --only to run fewer peers.
 */
import { loadavg } from 'node:os';
import { explicitCheck } from '../checker/explicit/explicit.js';
import { rumurFlags, toMurphi } from '../exporters/murphi.js';
import { toPromela } from '../exporters/promela.js';
import { type PeerRun, runRumur, runSpin, toolAvailable } from '../exporters/runPeers.js';
import { buildModel } from '../model/lang/protocol.js';
import { fenceMigrate } from '../model/protocols/fenceMigrate/fenceMigrate.js';
import { fenceMigrateProperties } from '../model/protocols/fenceMigrate/fenceMigrateProperties.js';

const args = process.argv.slice(2);
const params: Record<string, string | number> = { pages: 3, frames: 4, slots: 2, migrations: 3, writes: 3, mode: 'fence' };
args.forEach((a, i) => {
  if (a === '--param') {
    const [k, v] = String(args[i + 1]).split('=');
    if (k && v) params[k] = v;
  }
});

/** One line of the table. */
interface Row {
  readonly name: string;
  readonly prepareMs: number;
  readonly searchMs: number;
  readonly states: number | null;
  readonly memMiB: number | null;
  readonly note: string;
}

const onlyArg = args.indexOf('--only');
const only = new Set(onlyArg >= 0 ? String(args[onlyArg + 1]).split(',') : ['rumur1', 'rumur2', 'spin']);

const rows: Row[] = [];
const mib = (kib: number | null) => (kib === null ? null : kib / 1024);

// --- ours ----------------------------------------------------------------------------------------
const t0 = performance.now();
const model = buildModel(fenceMigrate, { params });
const properties = fenceMigrateProperties.build(model);
const tBuilt = performance.now();
const r = explicitCheck({ model, properties, limits: {} });
const tDone = performance.now();
// explicitCheck compiles the rules before its clock starts: the rest of its wall time is compilation.
const ourCompileMs = tDone - tBuilt - r.stats.elapsedMs;
const ours: Row = {
  name: 'mirrorcheck explicit (1 thread)',
  prepareMs: tBuilt - t0 + ourCompileMs,
  searchMs: r.stats.elapsedMs,
  states: r.stats.states,
  memMiB: process.resourceUsage().maxRSS / 1024,
  note: `${r.status}, ${r.stats.transitions} transitions, store ${(r.stats.storeBytes / 2 ** 20).toFixed(1)} MiB${r.stats.bytesPerState !== null ? ` (${r.stats.bytesPerState} B/state)` : ''}`,
};
rows.push(ours);

const header = `${fenceMigrate.name} ${Object.entries(model.params)
  .map(([k, v]) => `${k}=${v}`)
  .join(' ')}: ${model.instances.length} rule instances, ${properties.length} properties; node ${process.version}; load average ${loadavg()
  .map((x) => x.toFixed(1))
  .join(' ')}`;

// --- peers ---------------------------------------------------------------------------------------
const names = properties.map((p) => p.name);
const peerRow = (name: string, run: PeerRun, expected: number): Row => {
  const agree = run.states === expected ? 'states agree' : `STATES DIFFER (expected ${expected})`;
  return {
    name,
    prepareMs: run.generateMs + run.compileMs,
    searchMs: run.searchMs,
    states: run.states,
    memMiB: mib(run.peakRssKiB),
    note: `${run.status}, ${run.transitions} transitions; generate ${(run.generateMs / 1000).toFixed(2)} s + compile ${(run.compileMs / 1000).toFixed(2)} s; ${agree}`,
  };
};
const missing: string[] = [];
const threadCounts = [1, 2].filter((n) => only.has(`rumur${n}`));
if (threadCounts.length && toolAvailable('rumur') && toolAvailable('cc')) {
  const text = toMurphi(model, properties);
  for (const threads of threadCounts)
    rows.push(peerRow(`Rumur ${threads} thread${threads > 1 ? 's' : ''}`, runRumur(text, { threads, flags: rumurFlags(model) }), r.stats.states));
} else if (threadCounts.length) missing.push('Rumur not installed (apt-get install -y rumur): skipped');
if (only.has('spin') && toolAvailable('spin') && toolAvailable('gcc')) {
  const run = runSpin(toPromela(model, properties), { properties: names });
  const row = peerRow('SPIN (pan -DSAFETY, DFS)', run, r.stats.states + 1);
  const pan = (what: string) => new RegExp(`(\\S+)\\s+${what}`).exec(run.output)?.[1] ?? '?';
  rows.push({
    ...row,
    note:
      `${row.note} (SPIN adds its pre-start state); pan's own figures: ${pan('total actual memory usage')} MB in all, of which ` +
      `${pan('actual memory usage for states')} MB states, ${pan('memory used for hash table')} MB hash table, ${pan('memory used for DFS stack')} MB DFS stack (-m10000000)`,
  });
} else if (only.has('spin')) missing.push('SPIN not installed (apt-get install -y spin): skipped');

// --- table ---------------------------------------------------------------------------------------
const rate = (x: Row) => (x.states !== null && x.searchMs > 0 ? (x.states * 1000) / x.searchMs : null);
const fmt = (n: number | null, d = 0) => (n === null ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
console.log(header);
console.log('prepare = generate + compile (ours: build the model and compile rules to JS); search = the state-space search; mem = peak RSS of the process');
console.log(
  [
    'checker'.padEnd(34),
    'prepare s'.padStart(10),
    'search s'.padStart(9),
    'states'.padStart(11),
    'states/s'.padStart(11),
    'mem MiB'.padStart(8),
    'ours/peer'.padStart(10),
  ].join(' '),
);
const ourRate = rate(ours);
for (const x of rows) {
  const pr = rate(x);
  const ratio = x === ours || pr === null || ourRate === null ? '' : `${(ourRate / pr).toFixed(2)}x`;
  console.log(
    [
      x.name.padEnd(34),
      fmt(x.prepareMs / 1000, 2).padStart(10),
      fmt(x.searchMs / 1000, 2).padStart(9),
      fmt(x.states).padStart(11),
      fmt(pr).padStart(11),
      fmt(x.memMiB).padStart(8),
      ratio.padStart(10),
    ].join(' '),
  );
}
for (const x of rows) console.log(`  ${x.name}: ${x.note}`);
for (const m of missing) console.log(m);
console.log("ours/peer: our states/s divided by the peer's (above 1: we search faster). Timings vary 10-40 % on a shared machine.");
