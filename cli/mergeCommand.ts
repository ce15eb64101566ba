/**
 * `mirrorcheck merge RESULTS...`: one verdict from the shards of a check. Why this module exists:
 * where one machine is not enough, `check --shard I/N --format json` runs as N independent jobs on
 * whatever runs batch jobs (a Kubernetes Indexed Job, a CI matrix); this reads their JSON results
 * and says what they prove together.
 *
 * What a merge proves. Shard I searches the states reachable from the start states through the
 * start states' successors whose hash falls to it; every reachable state is reachable through one
 * of them, so the shards together cover the state space (states reachable through several shards
 * are searched by each). Hence, when every shard of 1..N is present and complete:
 * - exact stores: `exhaustive`, as one run;
 * - hash compaction: every state explored unless fingerprints collided; the probability is at
 *   most the sum of the shards' (a union bound);
 * - bitstate: the smallest coverage estimate of the shards (a loose summary: different hash seeds
 *   lose different states);
 * a violation found by any shard is real (its trace replays), and the shortest one over the shards
 * is a shortest one of the whole check (a shortest path goes through some shard's successor); a
 * cover counts as reached when any shard reached it. A missing or incomplete shard makes the
 * merge incomplete (exit 3): its part was not searched.
 */
import { readFileSync } from 'node:fs';
import type { CoverReport } from '../checker/engine.js';
import { McError } from '../model/lang/errors.js';
import { type CheckRecord, paramsText } from './report.js';

/** A shard's record as `check --shard I/N --format json` prints it. */
type ShardRecord = CheckRecord & { readonly engine: 'explicit'; readonly shard: string; readonly shardCheck: string };

/** The merged verdict. */
export interface MergedRecord {
  readonly protocol: string;
  readonly variant: string | null;
  readonly params: CheckRecord['params'];
  readonly shards: number;
  readonly found: readonly number[];
  readonly status: 'ok' | 'violated' | 'incomplete' | 'error';
  readonly guarantee: string | null;
  readonly reason?: string;
  readonly store: string;
  readonly omissionProbability?: number;
  readonly coverage?: number;
  readonly violations: CheckRecord['violations'];
  readonly covers: readonly CoverReport[];
  /** States searched, summed over the shards (a state searched by several shards is counted by each). */
  readonly statesSum: number;
  readonly transitionsSum: number;
  readonly depth: number;
  /** The slowest shard's time (the shards run side by side) and the total. */
  readonly elapsedMsMax: number;
  readonly elapsedMsSum: number;
  readonly error?: CheckRecord['error'];
}

/** The shard records in the given files (JSON lines; other lines and records are ignored). MC032 when there are none. */
export function readShards(files: readonly string[]): ShardRecord[] {
  const out: ShardRecord[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      throw new McError('MC032', `cannot read ${f}: ${(e as Error).message}`);
    }
    for (const line of text.split('\n')) {
      if (!line.trim().startsWith('{')) continue;
      let rec: Partial<ShardRecord>;
      try {
        rec = JSON.parse(line) as Partial<ShardRecord>;
      } catch {
        throw new McError('MC032', `${f}: a line is not JSON (give the output of check --format json)`);
      }
      if (rec.engine === 'explicit' && typeof rec.shard === 'string' && typeof rec.shardCheck === 'string') out.push(rec as ShardRecord);
    }
  }
  if (!out.length) throw new McError('MC032', `no shard results in ${files.join(', ')} (run check --shard I/N --format json)`);
  return out;
}

/** Combines the shards of one check (MC032 when they are of different checks or repeat a shard). */
export function mergeShards(recs: readonly ShardRecord[]): MergedRecord {
  const first = recs[0] as ShardRecord;
  const other = recs.find((r) => r.shardCheck !== first.shardCheck);
  if (other) throw new McError('MC032', `the results are of different checks (${first.protocol} shard ${first.shard}, ${other.protocol} shard ${other.shard})`);
  const n = Number(first.shard.split('/')[1]);
  const found: number[] = [];
  for (const r of recs) {
    const [i, m] = r.shard.split('/').map(Number) as [number, number];
    if (m !== n) throw new McError('MC032', `shard ${r.shard} is not one of ${n}`);
    if (found.includes(i)) throw new McError('MC032', `shard ${r.shard} is given twice`);
    found.push(i);
  }
  found.sort((a, b) => a - b);
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !found.includes(i));
  const covers = first.covers.map((c) => {
    const reached = recs.flatMap((r) => r.covers.filter((x) => x.name === c.name && x.reached));
    return { ...c, reached: reached.length > 0, depth: reached.length ? Math.min(...reached.map((x) => x.depth ?? Number.POSITIVE_INFINITY)) : null };
  });
  // Violations with a trace are real; a cover one shard did not reach may be reached by another.
  const real = recs.flatMap((r) => r.violations.filter((v) => v.kind !== 'cover'));
  const shortest = real.length ? [real.reduce((a, b) => ((b.length ?? Number.POSITIVE_INFINITY) < (a.length ?? Number.POSITIVE_INFINITY) ? b : a))] : [];
  const unreached = covers
    .filter((c) => !c.reached)
    .map((c) => ({
      property: c.name,
      requirement: c.requirement,
      kind: 'cover',
      length: null,
      trace: null,
      message: `cover ${c.name} (${c.requirement}) is never reached by any shard: the model may be vacuous`,
    }));
  const store = first.store ?? 'exact';
  const errored = recs.find((r) => r.status === 'error');
  const incomplete = recs.filter((r) => r.status === 'incomplete');
  const base = {
    protocol: first.protocol,
    variant: first.variant,
    params: first.params,
    shards: n,
    found,
    store,
    covers,
    statesSum: recs.reduce((s, r) => s + r.states, 0),
    transitionsSum: recs.reduce((s, r) => s + r.transitions, 0),
    depth: Math.max(...recs.map((r) => r.depth)),
    elapsedMsMax: Math.max(...recs.map((r) => r.elapsedMs)),
    elapsedMsSum: recs.reduce((s, r) => s + r.elapsedMs, 0),
  };
  const guarantee = store === 'exact' ? 'exhaustive' : store;
  const figures =
    store === 'hash-compaction'
      ? {
          omissionProbability: Math.min(
            1,
            recs.reduce((s, r) => s + (r.omissionProbability ?? 0), 0),
          ),
        }
      : store === 'bitstate'
        ? { coverage: Math.min(...recs.map((r) => r.coverage ?? 0)) }
        : {};
  if (errored) return { ...base, status: 'error', guarantee: null, violations: [], ...(errored.error ? { error: errored.error } : {}) };
  if (shortest.length) return { ...base, ...figures, status: 'violated', guarantee, violations: shortest };
  if (missing.length || incomplete.length) {
    const why = [
      ...(missing.length ? [`shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${n}`).join(', ')} missing`] : []),
      ...incomplete.map((r) => `shard ${r.shard} incomplete (${r.reason ?? 'stopped'})`),
    ];
    return { ...base, status: 'incomplete', guarantee: null, reason: why.join('; '), violations: [] };
  }
  if (unreached.length) return { ...base, ...figures, status: 'violated', guarantee, violations: unreached };
  return { ...base, ...figures, status: 'ok', guarantee, violations: [] };
}

/** The merged verdict in words. */
export function mergedText(m: MergedRecord): string {
  const lines = [
    `${m.protocol}${m.variant ? ` (variant ${m.variant})` : ''} [${paramsText(m.params)}] merged ${m.found.length} of ${m.shards} shards (store ${m.store})`,
  ];
  if (m.status === 'ok') lines.push(`  OK: every property holds in every shard (${m.guarantee})`);
  for (const v of m.violations) {
    lines.push(`  VIOLATED ${v.property} [${v.requirement}]${v.length !== null ? ` after ${v.length} steps` : ''}: ${v.message}`);
    if (v.trace) lines.push(`    trace: ${v.trace}   (mirrorcheck replay ${v.trace})`);
  }
  if (m.status === 'incomplete') lines.push(`  INCOMPLETE: ${m.reason} (no guarantee)`);
  if (m.status === 'error') lines.push(`  ERROR ${m.error?.code}: ${m.error?.message}`);
  if (m.omissionProbability !== undefined)
    lines.push(`  hash compaction: probability that some state was missed at most ${m.omissionProbability.toExponential(1)} (sum over shards)`);
  if (m.coverage !== undefined) lines.push(`  bitstate: coverage estimate at least about ${(m.coverage * 100).toFixed(4)}% (the smallest shard's)`);
  lines.push(
    `  ${m.statesSum} states and ${m.transitionsSum} transitions searched in all (a state searched by several shards counts once for each), depth ${m.depth}, ${(m.elapsedMsMax / 1000).toFixed(2)} s for the slowest shard, ${(m.elapsedMsSum / 1000).toFixed(2)} s in all`,
  );
  return lines.join('\n');
}

/** Exit code of a merged verdict: 0 ok, 1 violated, 3 incomplete, 2 error in a shard. */
export function mergedExit(m: MergedRecord): number {
  return m.status === 'ok' ? 0 : m.status === 'violated' ? 1 : m.status === 'incomplete' ? 3 : 2;
}

/** Runs `merge` and returns the exit code. */
export function runMerge(files: readonly string[], format: 'text' | 'json', out: (s: string) => void): number {
  const merged = mergeShards(readShards(files));
  out(format === 'json' ? JSON.stringify(merged) : mergedText(merged));
  return mergedExit(merged);
}
