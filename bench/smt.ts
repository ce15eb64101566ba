/**
 * The SMT benchmark: how deep bounded model checking gets in a fixed time on each protocol, how
 * long BMC takes to find each bug variant, how long each proof takes, and the same runs on a
 * native z3 (Debian package `z3`) beside the wasm build, with the ratio. Prints figures; never
 * asserts.
 *
 * Section 4 is invariant inference (`prove --infer`, no hints): the time to prove each protocol at
 * its default size, the largest size proved within the ladder limit, the time to each variant, and
 * z3's Spacer alone on the Horn clauses.
 *
 * Usage: node dist/bench/smt.js [--budget SECONDS] [--variant-limit SECONDS] [--infer-limit SECONDS] [--ladder-limit SECONDS] [--no-native] [--only-infer]
 *   --budget         time given to BMC on each correct protocol (default 60)
 *   --variant-limit  time limit of each variant search and proof (default 60)
 *   --infer-limit    time limit of each inferred proof at the default size (default 300)
 *   --ladder-limit   time limit of each inferred proof on the size ladder (default 60)
 *   --only-infer     run section 4 only
 */
import type { CheckResult } from '../checker/engine.js';
import { explicitCheck } from '../checker/explicit/explicit.js';
import { bmcCheck } from '../checker/smt/bmc.js';
import { findNativeZ3 } from '../checker/smt/nativeZ3.js';
import type { ProofResult } from '../checker/smt/proofResult.js';
import { prove } from '../checker/smt/prove.js';
import { type InferResult, proveInfer } from '../checker/smt/proveInfer.js';
import { proveUnbounded } from '../checker/smt/proveUnbounded.js';
import { type SmtSession, type SolverBackend, shutdownSmt, withSession } from '../checker/smt/z3Host.js';
import { type Model, type ProtocolDef, buildModel } from '../model/lang/protocol.js';
import { fenceMigrate } from '../model/protocols/fenceMigrate/fenceMigrate.js';
import { odpMirror } from '../model/protocols/odpMirror/odpMirror.js';
import { fenceMigrateProperties } from '../model/protocols/fenceMigrate/fenceMigrateProperties.js';
import { odpMirrorProperties } from '../model/protocols/odpMirror/odpMirrorProperties.js';
import { type PropertySet, safetyProperties } from '../properties/property.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const budget = opt('--budget', 60);
const variantLimit = opt('--variant-limit', 60);
const inferLimit = opt('--infer-limit', 300);
const ladderLimit = opt('--ladder-limit', 60);
const onlyInfer = args.includes('--only-infer');
const native = args.includes('--no-native') ? null : findNativeZ3();
const backends: SolverBackend[] = native ? ['wasm', 'native'] : ['wasm'];

// biome-ignore lint/suspicious/noExplicitAny: the two protocols have different handle types
const PROTOCOLS: { name: string; def: ProtocolDef<any>; props: PropertySet<any> }[] = [
  { name: fenceMigrate.name, def: fenceMigrate, props: fenceMigrateProperties },
  { name: odpMirror.name, def: odpMirror, props: odpMirrorProperties },
];

const safety = safetyProperties;
const secs = (ms: number) => (ms / 1000).toFixed(2);
const pad = (s: string | number, n: number) => String(s).padEnd(n);

/** Runs `fn` in a session of `backend`; returns its result, the wall time and the time spent in native z3 processes. */
async function timed<T>(backend: SolverBackend, fn: (s: SmtSession) => Promise<T>): Promise<{ r: T; ms: number; nativeMs: number; nativeQueries: number }> {
  const t0 = Date.now();
  let nativeMs = 0;
  let nativeQueries = 0;
  const r = await withSession(async (s) => {
    const out = await fn(s);
    nativeMs = s.nativeStats.ms;
    nativeQueries = s.nativeStats.queries;
    return out;
  }, backend);
  return { r, ms: Date.now() - t0, nativeMs, nativeQueries };
}

const verdict = (r: CheckResult) =>
  r.status === 'violated'
    ? `${r.violations[0]?.property ?? '?'}@${(r.violations[0]?.trace?.steps.length ?? 1) - 1}`
    : r.status === 'ok'
      ? `ok(${r.bound ?? '-'})`
      : r.status === 'incomplete'
        ? `incomplete(${r.stats.depth})`
        : `error ${r.code}`;

const proofVerdict = (r: ProofResult) =>
  r.status === 'proved'
    ? `proved${r.k !== undefined ? ` k=${r.k}` : ''}`
    : r.status === 'cti'
      ? `cti ${r.property}${r.k !== undefined ? ` k=${r.k}` : ''}`
      : r.status === 'violated'
        ? `violated ${r.violation.property}`
        : r.status === 'incomplete'
          ? 'incomplete'
          : `error ${r.code}`;

const ratioRows: [string, number, number][] = [];

async function main(): Promise<void> {
  console.log(`SMT benchmark: z3-solver wasm${native ? ` and native ${native}` : ' (no native z3 on the PATH: wasm only)'}; node ${process.version}`);
  console.log(`BMC budget ${budget}s per protocol; variant searches and proofs limited to ${variantLimit}s\n`);
  if (onlyInfer) {
    await inferSection();
    return;
  }

  console.log('1. Depth BMC reaches on the correct protocol (safety properties, no cover search) within the budget');
  console.log('protocol        solver  depth  seconds  queries');
  for (const p of PROTOCOLS) {
    const model = buildModel(p.def);
    const properties = safety(p.props.build(model));
    for (const b of backends) {
      const t = await timed(b, (s) => bmcCheck({ model, properties, limits: { depth: 10_000, timeLimitSec: budget } }, {}, { covers: false, session: s }));
      const depth = t.r.status === 'ok' ? (t.r.bound ?? t.r.stats.depth) : t.r.stats.depth;
      console.log(`${pad(p.name, 16)}${pad(b, 8)}${pad(depth, 7)}${pad(secs(t.ms), 9)}${t.r.stats.queries}`);
    }
  }

  console.log('\n2. Time for BMC to find each variant (shortest depth; BFS length for comparison)');
  console.log(`protocol        variant                     BFS  ${backends.map((b) => pad(`${b}: found / s`, 40)).join('')}${native ? 'native/wasm' : ''}`);
  for (const p of PROTOCOLS) {
    for (const v of p.def.variants) {
      let model: Model;
      try {
        model = buildModel(p.def, { variant: v.name });
      } catch {
        continue; // not applicable in the default mode
      }
      const properties = safety(p.props.build(model));
      const bfs = explicitCheck({ model, properties, limits: { timeLimitSec: variantLimit } });
      if (bfs.status !== 'violated') continue; // a progress-only variant: BMC checks safety only
      const cells: string[] = [];
      const times: number[] = [];
      for (const b of backends) {
        const t = await timed(b, (s) => bmcCheck({ model, properties, limits: { depth: 40, timeLimitSec: variantLimit } }, {}, { covers: false, session: s }));
        cells.push(pad(`${verdict(t.r)} / ${secs(t.ms)}`, 40));
        times.push(t.r.status === 'violated' ? t.ms : Number.NaN);
      }
      const ratio = times.length === 2 && Number.isFinite(times[0]) && Number.isFinite(times[1]) ? (times[1] as number) / (times[0] as number) : null;
      if (ratio !== null) ratioRows.push([`${p.name}/${v.name}`, times[0] as number, times[1] as number]);
      console.log(
        `${pad(p.name, 16)}${pad(v.name, 28)}${pad((bfs.violations[0]?.trace?.steps.length ?? 1) - 1, 5)}${cells.join('')}${ratio !== null ? ratio.toFixed(2) : ''}`,
      );
    }
  }

  console.log('\n3. Proofs');
  console.log(`protocol        proof                         ${backends.map((b) => pad(`${b}: result / s`, 42)).join('')}${native ? 'native/wasm' : ''}`);
  for (const p of PROTOCOLS) {
    const model = buildModel(p.def);
    const properties = safety(p.props.build(model));
    const hints = p.props.proofHints?.(model);
    const proofs: [string, (s: SmtSession) => Promise<ProofResult>][] = [
      [
        hints ? 'k-induction (with hints)' : 'k-induction (max k 2)',
        (s) => prove(model, properties, { session: s, timeLimitSec: variantLimit, ...(hints ? { strengthening: hints.strengthening } : { maxK: 2 }) }),
      ],
    ];
    if (hints) {
      proofs.push(['k-induction (no hints, k<=2)', (s) => prove(model, properties, { session: s, timeLimitSec: variantLimit, maxK: 2 })]);
      proofs.push([
        'unbounded (every size)',
        (s) =>
          proveUnbounded(model, properties, {
            session: s,
            timeLimitSec: variantLimit,
            strengthening: hints.strengthening,
            ...(hints.initCondition ? { initCondition: hints.initCondition } : {}),
            ...(hints.fixedIndexes ? { fixedIndexes: hints.fixedIndexes } : {}),
          }),
      ]);
    }
    for (const [what, run] of proofs) {
      const cells: string[] = [];
      const times: number[] = [];
      for (const b of backends) {
        const t = await timed(b, run);
        cells.push(pad(`${proofVerdict(t.r)} / ${secs(t.ms)}`, 42));
        times.push(t.ms);
      }
      // A refused proof (an error before any solving) says nothing about the solvers' speed.
      const ratio = times.length === 2 && !cells.some((c) => c.startsWith('error')) ? (times[1] as number) / (times[0] as number) : null;
      if (ratio !== null) ratioRows.push([`${p.name}/${what}`, times[0] as number, times[1] as number]);
      console.log(`${pad(p.name, 16)}${pad(what, 30)}${cells.join('')}${ratio !== null ? ratio.toFixed(2) : ''}`);
    }
  }

  await inferSection();

  if (ratioRows.length) {
    const geo = Math.exp(ratioRows.reduce((a, [, w, n]) => a + Math.log(n / w), 0) / ratioRows.length);
    const tw = ratioRows.reduce((a, [, w]) => a + w, 0);
    const tn = ratioRows.reduce((a, [, , n]) => a + n, 0);
    console.log(
      `\nnative/wasm time ratio over ${ratioRows.length} runs: geometric mean ${geo.toFixed(2)}, total ${secs(tn)} s / ${secs(tw)} s = ${(tn / tw).toFixed(2)}`,
    );
    console.log('(native: one z3 process per solver, fed the same assertions, pushes and pops incrementally as SMT-LIB 2 text)');
  }
}

const inferVerdict = (r: InferResult) =>
  r.status === 'proved'
    ? `proved (${r.invariant?.conjuncts.length ?? 0} conjuncts)`
    : r.status === 'violated'
      ? `violated ${r.violation.property}@${(r.violation.trace?.steps.length ?? 1) - 1}`
      : r.status === 'cti'
        ? `cti ${r.property}`
        : r.status === 'incomplete'
          ? 'incomplete'
          : `error ${r.code}`;

/** Parameter sets of growing size, smallest first, for "the largest size proved within the ladder limit". */
const LADDERS: Record<string, readonly Record<string, number>[]> = {
  'fence-migrate': [
    { pages: 1, frames: 2 },
    { pages: 2, frames: 3 },
    { pages: 2, frames: 4 },
    { pages: 2, frames: 3, migrations: 3, writes: 3 },
    { pages: 3, frames: 4 },
    { pages: 2, frames: 3, slots: 2 },
    { pages: 3, frames: 4, migrations: 3, writes: 3 },
    { pages: 3, frames: 5 },
    { pages: 3, frames: 4, slots: 2 },
    { pages: 4, frames: 5 },
  ],
  'odp-mirror': [
    { pages: 1, frames: 1, invalidators: 1, invalidations: 1, retries: 1 },
    { pages: 1, frames: 2, invalidators: 1, invalidations: 1, retries: 1 },
    { pages: 1, frames: 2, invalidators: 2, invalidations: 2 },
    { pages: 2, frames: 2, invalidators: 1, invalidations: 1, retries: 1 },
    { pages: 2, frames: 3, invalidators: 1, invalidations: 2 },
    { pages: 2, frames: 3 },
  ],
};

/** Section 4: invariant inference without hints. */
async function inferSection(): Promise<void> {
  console.log(`\n4. Invariant inference (prove --infer, no hints): default size (limit ${inferLimit}s)`);
  console.log(`protocol        ${backends.map((b) => pad(`${b}: result / s`, 36)).join('')}${native ? 'native/wasm' : ''}`);
  for (const p of PROTOCOLS) {
    const model = buildModel(p.def);
    const properties = safety(p.props.build(model));
    const cells: string[] = [];
    const times: number[] = [];
    for (const b of backends) {
      const t = await timed(b, (s) => proveInfer(model, properties, { session: s, timeLimitSec: inferLimit }));
      cells.push(pad(`${inferVerdict(t.r)} / ${secs(t.ms)}`, 36));
      times.push(t.r.status === 'proved' ? t.ms : Number.NaN);
    }
    const ratio = times.length === 2 && times.every(Number.isFinite) ? (times[1] as number) / (times[0] as number) : null;
    if (ratio !== null) ratioRows.push([`${p.name}/infer`, times[0] as number, times[1] as number]);
    console.log(`${pad(p.name, 16)}${cells.join('')}${ratio !== null ? ratio.toFixed(2) : ''}`);
  }

  console.log(`\n4b. Largest size proved by prove --infer within ${ladderLimit}s (wasm; sizes tried smallest first, stopping at the first not proved in time)`);
  for (const p of PROTOCOLS) {
    let best: string | null = null;
    for (const params of LADDERS[p.name] ?? []) {
      const model = buildModel(p.def, { params });
      const properties = safety(p.props.build(model));
      const t = await timed('wasm', (s) => proveInfer(model, properties, { session: s, timeLimitSec: ladderLimit }));
      const text = Object.entries(params)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      console.log(`  ${pad(p.name, 16)}${pad(text, 64)}${inferVerdict(t.r)} / ${secs(t.ms)}`);
      if (t.r.status !== 'proved') break;
      best = text;
    }
    console.log(`  ${p.name}: largest proved within ${ladderLimit}s: ${best ?? 'none'}`);
  }

  console.log(`\n4c. Time for prove --infer to report each variant (limit ${variantLimit}s, wasm; BFS length for comparison)`);
  for (const p of PROTOCOLS) {
    for (const v of p.def.variants) {
      let model: Model;
      try {
        model = buildModel(p.def, { variant: v.name, params: v.name === 'stale-seq-retry' ? { mode: 'zap-and-fault', fault: 'retry' } : {} });
      } catch {
        continue;
      }
      const properties = safety(p.props.build(model));
      const bfs = explicitCheck({ model, properties, limits: { timeLimitSec: variantLimit }, deadlock: false });
      const t = await timed('wasm', (s) => proveInfer(model, properties, { session: s, timeLimitSec: variantLimit }));
      console.log(`  ${pad(p.name, 16)}${pad(v.name, 28)}BFS ${pad(verdict(bfs), 40)}infer ${inferVerdict(t.r)} / ${secs(t.ms)}`);
    }
  }

  console.log(`\n4d. z3's Spacer alone on the Horn clauses (limit ${variantLimit}s, wasm)`);
  for (const p of PROTOCOLS) {
    for (const variant of [null, p.def.variants[0]?.name ?? null]) {
      const model = buildModel(p.def, { variant });
      const properties = safety(p.props.build(model));
      const t = await timed('wasm', (s) => proveInfer(model, properties, { session: s, spacer: true, timeLimitSec: variantLimit }));
      console.log(`  ${pad(p.name, 16)}${pad(variant ?? 'correct', 28)}${inferVerdict(t.r)} / ${secs(t.ms)}`);
    }
  }
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => shutdownSmt());
