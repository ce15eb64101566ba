/**
 * Checkpoints of the breadth-first search. Why this module exists: a search of hundreds of millions
 * of states runs for hours; a crash, a reboot or a batch system's time limit must not lose it. At a
 * pause (every thread idle, every chunk claimed done) the search is written to a folder, and a
 * later `check ... --resume DIR` continues from there to the same counts as a run that was never
 * stopped.
 *
 * Layout of the folder:
 * - `checkpoint.json`: what was checked (identity: protocol, variant, parameters, properties,
 *   options, a hash of the compiled rules) and where the search stands (levels, cursor, figures);
 *   written to a temporary file and renamed, so it is always complete;
 * - exact store: `states.bin`, the packed states in id order, appended to at each checkpoint (the
 *   first `count` states are valid; a run killed while appending leaves extra bytes, dropped on
 *   resume);
 * - compact stores: `frontier.G.bin`, `next.G.bin` (the two levels in memory), `fingerprints.G.bin`
 *   or `bits.G.bin` (generation G: files of older generations are removed once the new
 *   checkpoint.json is in place), and the level files `level-N.bin` written as levels finish.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { type ErrorCode, McError } from '../../model/lang/errors.js';
import type { CheckJob } from '../engine.js';
import { BitstateSet } from './bitstate.js';
import { FingerprintSet } from './fingerprintSet.js';
import type { Search } from './search.js';
import type { StateStore } from './stateStore.js';
import { isFileError, quietly, writeWords } from './fileWrites.js';
import { StoreFullError, refusedWhenFull } from './storeMemory.js';

/** The codes a checkpoint raises. */
export const CHECKPOINT_ERRORS = {
  MC050: 'checkpoint folder missing, unreadable, or saved by another check (another model, property set or option)',
  MC051: 'checkpoint too large to resume here: its states pass the memory limit (--max-memory) or the memory',
} as const satisfies Record<ErrorCode, string>;

const FORMAT = 'mirrorcheck-checkpoint-1';
const META = 'checkpoint.json';

/** What a checkpoint was made of: a resumed check must be the same check. */
export interface CheckpointIdentity {
  readonly protocol: string;
  readonly variant: string | null;
  readonly params: Readonly<Record<string, number | string>>;
  readonly properties: readonly string[];
  readonly symmetry: boolean;
  readonly deadlock: boolean;
  readonly store: string;
  readonly memoryBytes: number | null;
  readonly por: boolean;
  readonly shard: string | null;
  /** SHA-256 of the compiled rules and predicates: a changed model is another check. */
  readonly compiled: string;
}

interface Meta {
  readonly format: string;
  readonly identity: CheckpointIdentity;
  readonly generation: number;
  readonly levelStarts: readonly number[];
  readonly depth: number;
  readonly cursor: number;
  /** Exact store: states in `states.bin`. */
  readonly count: number;
  readonly elapsedMs: number;
  readonly figures: { readonly expanded: number; readonly generated: number; readonly maxDepth: number; readonly coverDepth: readonly number[] };
  readonly bitstate?: { readonly added: number; readonly expectedLost: number };
}

/** The identity of the check a job and its search make. */
export function identityOf(job: CheckJob, search: Search): CheckpointIdentity {
  const x = job.explicit ?? {};
  return {
    protocol: job.model.protocol,
    variant: job.model.variant,
    params: job.model.params,
    properties: job.properties.map((p) => p.name),
    symmetry: search.canon.active,
    deadlock: search.opts.deadlock,
    store: search.kind,
    memoryBytes: search.kind === 'bitstate' ? (search.seen as BitstateSet).bytes() : null,
    por: search.reduction !== null,
    shard: x.shard ? `${x.shard.index + 1}/${x.shard.count}` : null,
    compiled: createHash('sha256').update(JSON.stringify(search.cm.sources)).digest('hex'),
  };
}

function writeAll(path: string, parts: Iterable<Uint32Array>, flags: string): number {
  const fd = openSync(path, flags);
  let bytes = 0;
  try {
    bytes = writeWords(fd, parts);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** Reads `words` 32-bit words (default: the whole file) of a checkpoint file. */
export function readWords(path: string, words?: number): Uint32Array {
  const size = statSync(path).size;
  const n = words ?? size / 4;
  if (n * 4 > size) throw new McError('MC050', `checkpoint file ${path} is shorter than its checkpoint.json says`);
  const out = new Uint32Array(n);
  const fd = openSync(path, 'r');
  try {
    // A view of at most 64 MiB at a time: a byte view of the whole array is refused past 4 GiB
    // (more than 268 M states of four words), and a resume would have failed there.
    for (let off = 0; off < n * 4; ) {
      const len = Math.min(n * 4 - off, 1 << 26);
      const got = readSync(fd, new Uint8Array(out.buffer, off, len), 0, len, off);
      if (got <= 0) throw new McError('MC050', `checkpoint file ${path} ends early`);
      off += got;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** Saves a search into a folder at pauses; the folder is also where a compact store's level files go. */
export class Checkpointer {
  private generation = 0;
  /** States of the exact store already in `states.bin`. */
  private written = 0;
  private last = Date.now();

  constructor(
    private readonly search: Search,
    readonly dir: string,
    private readonly identity: CheckpointIdentity,
    private readonly everyMs: number,
  ) {}

  /** The hooks the walk calls: is a checkpoint due, and write it. */
  get atPause(): { due: () => boolean; run: () => void } {
    return { due: () => Date.now() - this.last >= this.everyMs, run: () => this.write() };
  }

  /** Continues a checkpoint loaded by `resumeFrom` (its generation and the states already written). */
  continueFrom(generation: number, written: number): void {
    this.generation = generation;
    this.written = written;
  }

  /** The message of the last write that failed (a full disk), or null. */
  failed: string | null = null;

  /**
   * Writes the search as it stands (every thread idle). A file that cannot be written (a full
   * disk) throws `StoreFullError` ('disk'): what this write had added is removed, and the
   * checkpoint saved before (if any) stands as it was.
   */
  write(): void {
    const before = this.written;
    try {
      this.save();
    } catch (e) {
      if (!isFileError(e)) throw e;
      this.undo(before);
      this.failed = `the checkpoint could not be saved in ${this.dir} (${e.message}); free space there, or checkpoint to a folder with room`;
      throw new StoreFullError('disk', this.failed, 'the checkpoint');
    }
  }

  /** Removes what a failed write of generation `generation + 1` added (best effort: the files are cut back or removed). */
  private undo(statesBefore: number): void {
    const { dir, search } = this;
    const g = this.generation + 1;
    this.written = statesBefore;
    const states = join(dir, 'states.bin');
    if (search.kind === 'exact' && existsSync(states)) quietly(() => truncateSync(states, statesBefore * 4 * search.cm.words));
    for (const name of ['frontier', 'next', 'fingerprints', 'bits']) quietly(() => rmSync(join(dir, `${name}.${g}.bin`), { force: true }));
    quietly(() => rmSync(join(dir, `${META}.tmp`), { force: true }));
  }

  private save(): void {
    const { search, dir } = this;
    const g = this.generation + 1;
    const files: string[] = [];
    if (search.kind === 'exact') {
      const path = join(dir, 'states.bin');
      if (this.written === 0 && existsSync(path)) rmSync(path);
      writeAll(path, search.store.slices(this.written, search.store.count), 'a');
      this.written = search.store.count;
    } else {
      files.push(`frontier.${g}.bin`, `next.${g}.bin`);
      writeAll(join(dir, `frontier.${g}.bin`), search.store.slices(), 'w');
      writeAll(join(dir, `next.${g}.bin`), search.target.slices(), 'w');
      if (search.seen instanceof FingerprintSet) {
        const d = search.seen.dump();
        files.push(`fingerprints.${g}.bin`);
        writeAll(join(dir, `fingerprints.${g}.bin`), [d.hi, d.lo], 'w');
      } else if (search.seen instanceof BitstateSet) {
        files.push(`bits.${g}.bin`);
        writeAll(join(dir, `bits.${g}.bin`), [search.seen.raw()], 'w');
      }
    }
    const f = search.figures();
    const meta: Meta = {
      format: FORMAT,
      identity: this.identity,
      generation: g,
      levelStarts: search.levelStarts,
      depth: search.depth,
      cursor: search.ctrl[0] as number,
      count: search.kind === 'exact' ? search.store.count : 0,
      elapsedMs: Date.now() - search.startMs + search.elapsedBefore,
      figures: { expanded: f.expanded, generated: f.generated, maxDepth: f.maxDepth, coverDepth: f.coverDepth.map((d) => d ?? -1) },
      ...(search.seen instanceof BitstateSet ? { bitstate: search.seen.counters() } : {}),
    };
    const tmp = join(dir, `${META}.tmp`);
    writeFileSync(tmp, `${JSON.stringify(meta, null, 1)}\n`);
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, join(dir, META));
    for (const name of ['frontier', 'next', 'fingerprints', 'bits']) {
      const old = join(dir, `${name}.${this.generation}.bin`);
      if (this.generation > 0 && existsSync(old)) rmSync(old);
    }
    this.generation = g;
    this.last = Date.now();
  }
}

/** The first field in which two identities differ, or null. */
function difference(a: CheckpointIdentity, b: CheckpointIdentity): string | null {
  for (const k of Object.keys(a) as (keyof CheckpointIdentity)[]) if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return k;
  return null;
}

/** Loads packed states into an empty store. */
function fill(store: StateStore, words: Uint32Array): void {
  if (words.length) store.appendAll(words);
}

/**
 * Loads the checkpoint in `dir` into a fresh search of the same check (MC050 when there is none,
 * or when it is another check's). Returns the generation and the exact states already on disk.
 */
export function resumeFrom(search: Search, dir: string, identity: CheckpointIdentity): { generation: number; written: number } {
  const metaPath = join(dir, META);
  if (!existsSync(metaPath)) throw new McError('MC050', `no checkpoint in ${dir} (no ${META})`);
  let meta: Meta;
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Meta;
  } catch (e) {
    throw new McError('MC050', `checkpoint ${metaPath} is unreadable: ${(e as Error).message}`);
  }
  if (meta.format !== FORMAT) throw new McError('MC050', `${metaPath} is not a checkpoint of this version (format ${String(meta.format)})`);
  const diff = difference(identity, meta.identity);
  if (diff)
    throw new McError(
      'MC050',
      `the checkpoint in ${dir} was saved by another check: its ${diff} differs (${JSON.stringify(meta.identity[diff as keyof CheckpointIdentity])})`,
    );
  refusedWhenFull('MC051', `the checkpoint in ${dir} does not fit`, () => load(search, dir, meta));
  search.restore({
    levelStarts: meta.levelStarts,
    depth: meta.depth,
    cursor: meta.cursor,
    elapsedMs: meta.elapsedMs,
    figures: {
      expanded: meta.figures.expanded,
      generated: meta.figures.generated,
      maxDepth: meta.figures.maxDepth,
      coverDepth: Int32Array.from(meta.figures.coverDepth),
    },
  });
  return { generation: meta.generation, written: search.kind === 'exact' ? meta.count : 0 };
}

/** Reads the stores of the checkpoint `meta` in `dir` into `search`'s (`StoreFullError` when they do not fit). */
function load(search: Search, dir: string, meta: Meta): void {
  const W = search.cm.words;
  if (search.kind === 'exact') {
    const path = join(dir, 'states.bin');
    fill(search.store, readWords(path, meta.count * W));
    // Drop what a run killed while appending left after the valid states.
    const fd = openSync(path, 'r+');
    ftruncateSync(fd, meta.count * W * 4);
    closeSync(fd);
  } else {
    const g = meta.generation;
    fill(search.store, readWords(join(dir, `frontier.${g}.bin`)));
    fill(search.target, readWords(join(dir, `next.${g}.bin`)));
    if (search.seen instanceof FingerprintSet) {
      const all = readWords(join(dir, `fingerprints.${g}.bin`));
      const n = all.length / 2;
      search.seen.commit(all.slice(0, n), all.slice(n));
    } else if (search.seen instanceof BitstateSet) {
      search.seen.raw().set(readWords(join(dir, `bits.${g}.bin`)));
      if (meta.bitstate) search.seen.restoreCounters(meta.bitstate);
    }
  }
}
