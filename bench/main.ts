/**
 * The explicit-engine benchmark (`npm run bench`). Why this module exists: the engine's speed and
 * memory are measured here, never in unit tests; every figure is a labelled line, so that runs on
 * different machines can be compared line by line. Sections (all by default; --only picks some):
 * - machine: what a random access into 64 MiB costs here (writes, and dependent reads), and what
 *   a page fault costs (fresh memory written the first time);
 * - engine: one thread on fence-migrate at its package's bench size (pages=3 frames=4 slots=2
 *   migrations=2 writes=2, no symmetry: 3,806,010 states), median of three runs;
 * - workers: 1, 2 and every core: states/s, speed-up over one thread, and that the counts agree;
 *   and what the machine gives two threads: two one-thread runs at once in separate processes
 *   (nothing shared but the machine), their states/s added up over one run alone (before and after);
 * - fill: what filling a grown table costs one thread and two (bench/fill.ts; `--fill-states N`, default 3 M);
 * - stores: exact (plain and collapsed), hash compaction, bitstate: states/s, bytes a state, the frontier's memory;
 * - por: partial-order reduction factor of every built-in protocol, and how counterexample lengths change;
 * - symmetry: the symmetric n-process mutex at n = 4..8 (CPU per state, n = 8 against n = 4), and
 *   fence-migrate pages=4 frames=6 slots=3 migrations=3 writes=3 with symmetry (time-limited);
 * - odp: odp-mirror at its bench size.
 * The same model on Rumur and SPIN is bench/peers.ts; liveness beside safety is bench/liveness.ts;
 * bench/README.md says how to read the figures and how the engine scales. A loaded machine gives
 * lower and noisier figures: the load average is printed first.
 *
 * Usage: node dist/bench/main.js [--only machine,engine,workers,fill,stores,por,symmetry,odp] [--repeat N] [--time-limit S] [--fill-states N]
 * (`--only solo` is the workers section's child: one one-thread run, its states/s printed alone.)
 */
import { execFile } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { fillFigures } from './fill.js';
import { symmetricMutex, symmetricMutexProperties } from './models/symmetricMutex.js';
import { explicitCheck, explicitRun } from '../checker/explicit/explicit.js';
import type { CheckJob, CheckResult, ExplicitStats } from '../checker/engine.js';
import { buildModel } from '../model/lang/protocol.js';
import fenceMigratePackage from '../model/protocols/fenceMigrate/index.js';
import odpMirrorPackage from '../model/protocols/odpMirror/index.js';
import { type ProtocolPackage, sizeOf } from '../properties/package.js';
import { registry } from '../cli/registry.js';

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? String(args[i + 1]) : null;
};
const only = new Set((arg('--only') ?? 'machine,engine,workers,fill,stores,por,symmetry,odp').split(','));
const repeat = Number(arg('--repeat') ?? 3) || 3;
const timeLimit = Number(arg('--time-limit') ?? 60) || 60;
const cores = availableParallelism();
/** The fence-migrate package's bench size (the one bench/peers.ts runs beside SPIN and Rumur). */
const BENCH = sizeOf(fenceMigratePackage, 'bench');

/** A job on a package's safety properties. */
function safetyJob(pkg: ProtocolPackage, params: Record<string, string | number>, variant: string | null = null): CheckJob {
  const model = buildModel(pkg.protocol, { params, variant });
  return { model, properties: pkg.properties.build(model).filter((p) => p.kind !== 'liveness'), limits: {} };
}

const k = (n: number) => `${Math.round(n / 1000)}k`;
const line = (label: string, text: string) => console.log(`${label.padEnd(26)} ${text}`);
const figures = (s: ExplicitStats) =>
  `${s.states} states, ${(s.elapsedMs / 1000).toFixed(2)} s, ${k(s.statesPerSec)} states/s, ${s.bytesPerState === null ? 'too few states for a bytes/state figure' : `${s.bytesPerState} bytes/state`}`;
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

console.log(
  `mirrorcheck bench: node ${process.version}, ${cores} cores, load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} (figures measured under load are low and noisy)`,
);

/** What the machine section measured a page fault to cost (microseconds), or null. */
let pageFaultUs: number | null = null;
/** The page faults of `run()` (minor: fresh memory mapped on first touch), and what they cost at the measured rate when known. */
function withFaults<T>(run: () => T): { result: T; faults: string } {
  const before = process.resourceUsage().minorPageFault;
  const result = run();
  const n = process.resourceUsage().minorPageFault - before;
  return { result, faults: `${n} page faults${pageFaultUs === null ? '' : ` (about ${((n * pageFaultUs) / 1000).toFixed(0)} ms at the rate measured above)`}` };
}

if (only.has('machine')) {
  // What a cache miss costs here: the store's lookups are random accesses into tables and chunks of
  // tens of megabytes, so this bounds how fast any one thread can go on this machine.
  const slots = 2 ** 24; // 64 MiB of 32-bit slots, the size of the bench's chunks plus table
  const n = 4_000_000;
  const writes: number[] = [];
  const chases: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const tab = new Int32Array(new SharedArrayBuffer(slots * 4));
    let x = 0x9e3779b9 + rep;
    let t0 = performance.now();
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      tab[(x >>> 0) & (slots - 1)] = i + 1;
    }
    writes.push(((performance.now() - t0) * 1e6) / n);
    // One random cycle through every slot (Sattolo), then n dependent reads along it.
    for (let i = 0; i < slots; i++) tab[i] = i;
    for (let i = slots - 1; i > 0; i--) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const j = (x >>> 0) % i;
      const v = tab[i] as number;
      tab[i] = tab[j] as number;
      tab[j] = v;
    }
    let p = 0;
    t0 = performance.now();
    for (let i = 0; i < n; i++) p = tab[p] as number;
    // p is read (it is never -1) so that the chase cannot be dropped as dead code.
    chases.push(((performance.now() - t0) * 1e6) / n + (p === -1 ? 1 : 0));
  }
  line(
    'machine random access',
    `64 MiB shared table: ${median(writes).toFixed(0)} ns a random write, ${median(chases).toFixed(0)} ns a dependent random read (medians of 3; a lookup that misses the cache costs one or two of these)`,
  );
  // What memory costs the first time it is written: every chunk and table a store takes is fresh
  // memory, and the kernel (or a sandbox's) maps it a page at a time as it is first written.
  const touches: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const faults = process.resourceUsage().minorPageFault;
    const fresh = new Int32Array(new SharedArrayBuffer(slots * 4));
    const t0 = performance.now();
    for (let i = 0; i < slots; i += 1024) fresh[i] = i + 1;
    const ms = performance.now() - t0;
    touches.push((ms * 1000) / Math.max(1, process.resourceUsage().minorPageFault - faults));
  }
  pageFaultUs = median(touches);
  line(
    'machine fresh memory',
    `64 MiB never written before, one write a 4 KiB page: ${pageFaultUs.toFixed(1)} us a page fault, ${((pageFaultUs * 256) / 1000).toFixed(1)} ms a MiB (median of 3)`,
  );
}

if (only.has('solo')) console.log(explicitCheck(safetyJob(fenceMigratePackage, BENCH)).stats.statesPerSec);

if (only.has('engine')) {
  const job = safetyJob(fenceMigratePackage, BENCH);
  const rates: number[] = [];
  let last: CheckResult<ExplicitStats> | null = null;
  let faults = '';
  for (let i = 0; i < repeat; i++) {
    const run = withFaults(() => explicitCheck(job));
    last = run.result;
    faults = run.faults;
    rates.push(last.stats.statesPerSec);
  }
  if (last)
    line(
      'engine one thread',
      `${figures(last.stats)}; median of ${repeat}: ${k(median(rates))} states/s (${fenceMigratePackage.protocol.name} bench size); the last run: ${faults}`,
    );
}

if (only.has('workers')) {
  const job = safetyJob(fenceMigratePackage, BENCH);
  const counts = [1, 2, ...(cores > 2 ? [cores] : [])];
  // Alternated: one run of each count in turn, so that a slow phase of the machine falls on every
  // count alike; the speed-up is the median of the ratios of runs made one after the other.
  const runs = new Map<number, ExplicitStats[]>(counts.map((w) => [w, []]));
  // Two one-thread runs at once, each in a process of its own: their states/s added up over the
  // rate of one run alone (the mean of one just before and one just after). What the machine
  // itself gives two threads (its cores' clock, the caches and memory they share), with no store,
  // claim or round shared between them.
  const solo = async () =>
    Number((await promisify(execFile)(process.execPath, [fileURLToPath(import.meta.url), '--only', 'solo'])).stdout.trim().split('\n').pop());
  const ceilings: number[] = [];
  const shares: number[] = [];
  for (let i = 0; i < repeat; i++) {
    for (const w of counts) runs.get(w)?.push((await explicitRun({ ...job, explicit: { workers: w } })).stats);
    // The run alone just before and just after the pair (their mean), so that a slow phase of the machine on one side weighs half.
    const before = await solo();
    const both = await Promise.all([solo(), solo()]);
    const alone = (before + (await solo())) / 2;
    ceilings.push((both[0] + both[1]) / alone);
    shares.push(...both.map((r) => r / alone));
  }
  /** The run of median speed. */
  const medianRun = (rs: readonly ExplicitStats[]) => [...rs].sort((a, b) => b.statesPerSec - a.statesPerSec)[Math.floor(rs.length / 2)] as ExplicitStats;
  const ones = runs.get(1) as ExplicitStats[];
  const one = medianRun(ones);
  for (const w of counts) {
    const mine = runs.get(w) as ExplicitStats[];
    const mid = medianRun(mine);
    const ratios = mine.map((r, i) => r.statesPerSec / (ones[i] as ExplicitStats).statesPerSec);
    const same = mine.every((r) => r.states === one.states && r.transitions === one.transitions)
      ? 'counts equal to one thread'
      : 'COUNTS DIFFER FROM ONE THREAD';
    const speedUp =
      w === 1
        ? ''
        : `, speed-up ${median(ratios).toFixed(2)}x over one thread (median of ${repeat} alternated pairs, ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x)`;
    line(`workers ${w}`, `${figures(mid)}${speedUp}, workers expanded ${((mid.workerShare ?? 0) * 100).toFixed(0)} %; ${same}`);
  }
  line(
    'two runs at once',
    `two one-thread runs in separate processes at the same time: each at ${Math.round(100 * Math.min(...shares))}-${Math.round(100 * Math.max(...shares))} % of the rate of one alone, together ${median(ceilings).toFixed(2)}x (median of ${repeat}, ${Math.min(...ceilings).toFixed(2)}-${Math.max(...ceilings).toFixed(2)}x): what this machine gives two copies of the work that share nothing (read the workers' speed-up against it)`,
  );
}

if (only.has('fill')) {
  // 3 M states: where a search of the bench size grows its table the last time (to 2^23 slots);
  // --fill-states 45000000 is about scale.sh's last growth (51 M ids into 2^27 slots).
  const states = Number(arg('--fill-states') ?? 3_000_000) || 3_000_000;
  const f = await fillFigures(states, 4, repeat);
  const one = median(f.oneMs);
  const two = median(f.twoMs);
  line(
    'fill of a grown table',
    `${f.states} states of 4 words into ${f.slots} slots: one thread ${one.toFixed(0)} ms, two threads ${two.toFixed(0)} ms, ${(one / two).toFixed(2)}x (medians of ${repeat}, alternated; ${f.overflow} ids left to the coordinator)`,
  );
}

if (only.has('stores')) {
  const job = safetyJob(fenceMigratePackage, BENCH);
  for (const store of ['exact', 'exact --collapse', 'hash-compaction', 'bitstate'] as const) {
    const explicit = store === 'exact --collapse' ? { store: 'exact' as const, collapse: true } : { store, memoryBytes: 2 ** 28 };
    const r = explicitCheck({ ...job, explicit });
    const s = r.stats;
    const extra =
      store === 'hash-compaction'
        ? `, P(missed state) ${s.omissionProbability?.toExponential(1)}`
        : store === 'bitstate'
          ? `, coverage estimate ${((s.coverage ?? 0) * 100).toFixed(4)} % (256 MiB of bits)`
          : '';
    const frontier = s.queueBytes !== undefined ? `, frontier ${(s.queueBytes / 2 ** 20).toFixed(1)} MiB` : '';
    line(`store ${store}`, `${figures(s)}${frontier}${extra}; guarantee ${r.status === 'ok' ? r.guarantee : r.status}`);
  }
}

if (only.has('por')) {
  // Every built-in protocol: fence-migrate at the bench size, the others at their defaults.
  for (const [pkg, params] of registry.map((p) => [p, p === fenceMigratePackage ? BENCH : {}] as const)) {
    const name = pkg.protocol.name;
    const job = safetyJob(pkg, params);
    const full = explicitCheck(job).stats;
    const red = explicitCheck({ ...job, explicit: { por: true } }).stats;
    line(
      `por ${name}`,
      `${full.states} -> ${red.states} states, reduction ${(full.states / red.states).toFixed(2)}x, ${k(full.statesPerSec)} -> ${k(red.statesPerSec)} states/s`,
    );
    // Counterexamples: the reduced search's own traces against the shortest (what --por reports after searching again).
    const lengths: string[] = [];
    for (const v of pkg.protocol.variants) {
      let vjob: CheckJob;
      try {
        vjob = safetyJob(pkg, pkg === fenceMigratePackage ? { pages: 3, frames: 4, slots: 2, migrations: 2, writes: 3 } : params, v.name);
      } catch {
        continue;
      }
      const reduced = explicitCheck({ ...vjob, explicit: { por: true, shortest: false } });
      const shortest = explicitCheck(vjob);
      // '-': no counterexample (the variant breaks only liveness, or leaves a cover unreached).
      const len = (r: CheckResult) => {
        const steps = r.status === 'violated' ? r.violations.find((x) => x.trace)?.trace?.steps.length : undefined;
        return steps === undefined ? '-' : String(steps - 1);
      };
      lengths.push(`${v.name} ${len(reduced)}/${len(shortest)}`);
    }
    line(`por ${name} traces`, `reduced/shortest length per variant: ${lengths.join(', ')}`);
  }
}

if (only.has('symmetry')) {
  const perState: Record<number, number> = {};
  for (const n of [4, 5, 6, 7, 8]) {
    const model = buildModel(symmetricMutex, { params: { procs: n } });
    const job: CheckJob = { model, properties: symmetricMutexProperties.build(model), limits: {}, symmetry: true };
    explicitCheck(job); // warm up the compiled code
    const c0 = process.cpuUsage();
    let states = 0;
    let runs = 0;
    let r: CheckResult<ExplicitStats> | null = null;
    const t0 = Date.now();
    while (runs === 0 || Date.now() - t0 < 2000) {
      r = explicitCheck(job);
      states += r.stats.states;
      runs++;
    }
    const c = process.cpuUsage(c0);
    perState[n] = (c.user + c.system) / states;
    line(`symmetry mutex n=${n}`, `${r?.stats.states} states, ${(perState[n] as number).toFixed(2)} us CPU a state (${runs} runs)`);
  }
  line('symmetry cost n=8 / n=4', `${((perState[8] as number) / (perState[4] as number)).toFixed(2)}x (every permutation would be 8!/4! = 1680x)`);
  const big = { pages: 4, frames: 6, slots: 3, migrations: 3, writes: 3, mode: 'fence' };
  const job = { ...safetyJob(fenceMigratePackage, big), symmetry: true, limits: { timeLimitSec: timeLimit } };
  const r = explicitCheck(job);
  line(
    `symmetry ${fenceMigratePackage.protocol.name}`,
    `pages=4 frames=6 slots=3 migrations=3 writes=3, one thread: ${figures(r.stats)} (${r.status}${r.status === 'incomplete' ? `: ${r.reason}` : ''})`,
  );
  const rw = await explicitRun({ ...job, explicit: { workers: cores } });
  line(`symmetry ${fenceMigratePackage.protocol.name}`, `same, ${cores} threads: ${figures(rw.stats)} (${rw.status})`);
}

if (only.has('odp')) {
  const job = safetyJob(odpMirrorPackage, odpMirrorPackage.sizes?.bench ?? {});
  line(`${odpMirrorPackage.protocol.name} bench size`, figures(explicitCheck(job).stats));
}
