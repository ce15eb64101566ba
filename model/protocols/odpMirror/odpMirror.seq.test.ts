import { describe, expect, it } from 'vitest';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { odpMirrorProperties } from './odpMirrorProperties.js';
import { applyRule, enabled, initState } from '../../lang/interp.js';
import { type Model, buildModel } from '../../lang/protocol.js';
import { odpMirror } from './odpMirror.js';

// The canonical sequence encoding (seq=canonical) claims to be exact: the kernel's raw values
// (seq=kernel) and the canonical ones give the same behaviour, differing only by a renaming that
// keeps equality and parity. These tests check the claim on the model itself.

/** All reachable states, by a plain BFS over the interpreter (independent of the compiler). */
function reachable(model: Model): Int32Array[] {
  const seen = new Set<string>();
  const out: Int32Array[] = [];
  let frontier: Int32Array[] = [];
  for (const init of model.inits) {
    const s = initState(model, init);
    if (!seen.has(s.join())) {
      seen.add(s.join());
      out.push(s);
      frontier.push(s);
    }
  }
  while (frontier.length) {
    const next: Int32Array[] = [];
    for (const s of frontier) {
      for (const inst of model.instances) {
        if (!enabled(model, inst, s)) continue;
        const t = applyRule(model, inst, s);
        const k = t.join();
        if (seen.has(k)) continue;
        seen.add(k);
        out.push(t);
        next.push(t);
      }
    }
    frontier = next;
  }
  return out;
}

/** The canonical image of a raw state: what the observable facts say the values are (every interval, every work item). */
function canonical(model: Model, s: Int32Array): string {
  const at = (name: string) => model.layout.slotNames.indexOf(name);
  const t = new Int32Array(s);
  const mm = s[at('mmSeq')] as number;
  const intervals = model.params.intervals as number;
  const handlers = 1 + (model.params.prefetch as number);
  if (model.params.notifier === 'legacy') {
    // The umem's notifiers_seq is 2; a snapshot equal to it 2, a stale one 1, none 0.
    const lseq = s[at('lseq')] as number;
    for (let h = 0; h < handlers; h++) {
      const q = at(`fh[${h}].s`);
      const snap = s[q] as number;
      t[q] = snap === 0 ? 0 : snap === lseq ? 2 : 1;
    }
    t[at('lseq')] = 2;
    return t.join();
  }
  // The remover's snapshot: 3 while equal to the mm seq, else 1.
  if (model.params.lifecycle === 1) t[at('rmSeq')] = (s[at('rmSeq')] as number) === mm ? 3 : 1;
  for (let h = 0; h < handlers; h++) {
    const q = at(`fh[${h}].s`);
    const iv = s[at(`ivSeq[${s[at(`fh[${h}].iv`)]}]`)] as number;
    const snap = s[q] as number;
    t[q] = snap === 0 ? 0 : snap === iv ? (iv === mm ? 3 : 1) : iv === mm ? 1 : -1;
  }
  for (let j = 0; j < intervals; j++) t[at(`ivSeq[${j}]`)] = (s[at(`ivSeq[${j}]`)] as number) === mm ? 3 : 1;
  t[at('mmSeq')] = mm % 2 === 1 ? 3 : 2;
  return t.join();
}

// Small enough for the interpreter: one page with two nested or parallel invalidations, or two
// pages (a two-chunk fault) with one.
const SMALL = { pages: 1, frames: 2, invalidators: 2, invalidations: 2, retries: 2, atomics: 0 };
const TWO_PAGES = { ...SMALL, pages: 2, invalidations: 1, retries: 1 };
// Two intervals with a range over both (two callbacks, two interval sequences), and a prefetch work
// item beside the fault handler (two snapshots, each against its own interval).
const TWO_INTERVALS = { ...TWO_PAGES, intervals: 2, span: 2, invalidators: 1 };
const PREFETCH = { ...SMALL, prefetch: 1, invalidators: 1, invalidations: 1, retries: 1 };
// The interval inserted and removed during the run (the remover's snapshot), and the legacy umem
// counters (their own sequence), with one invalidating thread running two invalidations.
const LIFECYCLE = { ...SMALL, invalidators: 1, lifecycle: 1 };
const LEGACY = { ...SMALL, invalidators: 1, notifier: 'legacy', nonblock: 'eagain' };

describe('the canonical sequence encoding is exact', () => {
  it.each([
    ['small, correct', null, SMALL],
    ['two pages', null, TWO_PAGES],
    ['small, valid-flag', 'valid-flag', SMALL],
    ['small, retry-stale-seq', 'retry-stale-seq', SMALL],
    ['two pages, seq-per-chunk', 'seq-per-chunk', TWO_PAGES],
    ['two intervals, a range over both', null, TWO_INTERVALS],
    ['a prefetch work item', null, PREFETCH],
    ['the interval inserted and removed', null, LIFECYCLE],
    ['the interval inserted and removed, remove-unlocked-seq', 'remove-unlocked-seq', LIFECYCLE],
    ['the legacy umem counters', null, LEGACY],
  ])('%s: the raw reachable states map onto exactly the canonical reachable states', (_, variant, params) => {
    const raw = buildModel(odpMirror, { variant, params: { ...params, seq: 'kernel' } });
    const can = buildModel(odpMirror, { variant, params: { ...params, seq: 'canonical' } });
    const rawStates = reachable(raw);
    const image = new Set(rawStates.map((s) => canonical(raw, s)));
    const direct = new Set(reachable(can).map((s) => s.join()));
    expect(image.size).toBe(direct.size);
    for (const k of direct) expect(image.has(k)).toBe(true);
    // The raw model distinguishes more states (the same situation in later epochs).
    expect(rawStates.length).toBeGreaterThan(direct.size);
  });

  it.each([
    'valid-flag',
    'end-skipped-after-eagain',
    'missed-unlock-nonblocking',
    'seq-per-chunk',
    'retry-stale-seq',
    'no-secondary-tlb-flush',
    'lock-across-read-begin',
    'no-set-seq',
    'no-read-retry',
    'zap-without-drain',
    'no-set-page-dirty',
    'sleep-when-nonblockable',
    'remove-unlocked-seq',
  ])('%s: both encodings report the same property at the same depth (atomics=0)', (variant) => {
    const run = (seq: string) => {
      const model = buildModel(odpMirror, { variant, params: { atomics: 0, seq } });
      const properties = odpMirrorProperties.build(model).filter((p) => p.kind !== 'liveness');
      const r = explicitCheck({ model, properties, limits: {} });
      if (r.status !== 'violated') throw new Error(`${variant} (${seq}): ${r.status}`);
      const v = r.violations[0]!;
      return [v.property, v.trace!.steps.length - 1];
    };
    expect(run('kernel')).toEqual(run('canonical'));
  });

  it('the correct protocol holds in both encodings with the same depth', () => {
    const depth = (seq: string) => {
      const model = buildModel(odpMirror, { params: { atomics: 0, seq } });
      const r = explicitCheck({ model, properties: odpMirrorProperties.build(model).filter((p) => p.kind !== 'liveness'), limits: {} });
      expect(r.status).toBe('ok');
      return r.stats.depth;
    };
    expect(depth('kernel')).toBe(depth('canonical'));
  });
});
