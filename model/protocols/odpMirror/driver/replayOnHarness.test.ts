import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Model, type Trace, buildModel, itfToTrace, parseItf } from 'mirrorcheck';
import { runReplay } from '../../../../cli/replayCommand.js';
import { odpMirror } from '../odpMirror.js';
import { harnessReplayLines, replayOnHarness } from 'mirrorcheck/conformance';
import { odpMirrorHarness } from './harness.js';

const CORPUS = 'model/protocols/odpMirror/corpus';

const replayOdpOnHarness = (model: Model, trace: Trace) => replayOnHarness(odpMirrorHarness, model, trace);

const load = (file: string, variant?: string | null) => {
  const { header, doc } = parseItf(readFileSync(join(CORPUS, file), 'utf8'));
  const model = buildModel(odpMirror, { variant: variant === undefined ? header.variant : variant, params: header.params });
  return { model, trace: itfToTrace(header, doc, model) };
};

/**
 * What each corpus trace does on the harness: the first damage, the steps added after the trace
 * (0: the trace itself shows it), and a phrase of its message. Progress bugs show as a fault that
 * never completed, a thread blocked forever, or a deadlock, not as corrupted memory.
 */
const EXPECTED: Record<string, [kind: string, added: number, words: RegExp] | null> = {
  'valid-flag': ['freed-frame-access', 4, /device read of page 0 .* read frame 0 after it was freed/],
  'end-skipped-after-eagain': [
    'hung',
    8,
    /deadlock: .*fault handler, at DriverReadBeginWake\(h=0\).* 1 region\(s\) counted open, though only 0 invalidation\(s\) are running: a region was never closed/,
  ],
  'missed-unlock-nonblocking': ['hung', 1, /madvise of pages 0\.\.0\) blocks forever .* U is still held by an earlier invalidate callback/],
  'seq-per-chunk': ['freed-frame-access', 4, /read frame 0 after it was freed/],
  'retry-stale-seq': ['failed-fault', 0, /device read of page 0 .* never completed: the fault handler gave up after 2 retries/],
  'no-secondary-tlb-flush': ['stale-tlb-fault', 2, /device write of page 0 .* faulted through a stale read-only TLB entry/],
  'no-owner-filter': ['failed-fault', 0, /device atomic of page 0 .* never completed/],
  'lock-across-read-begin': [
    'hung',
    0,
    /deadlock: .*fault handler, at DriverReadBeginWake\(h=0\).*invalidator 1, at DriverInvalidateLock\(i=1\).*U is held by fault/,
  ],
  'no-set-seq': ['freed-frame-access', 7, /read frame 0 after it was freed/],
  'no-read-retry': ['freed-frame-access', 7, /read frame 0 after it was freed/],
  'zap-without-drain': ['freed-frame-access', 4, /read frame 0 after it was freed/],
  // The shortest trace unmaps, without dirtying, a page that madvise is freeing and that the device
  // never wrote: nothing is lost yet, and no continuation can write through the mapping it dropped.
  // The loss (a device write, then page_mkclean's writeback) is shown by the conformance runs.
  'no-set-page-dirty': null,
  'sleep-when-nonblockable': ['sleep-in-nonblocking-callback', 0, /invalidator 0 runs for a non-blockable range .* calls mutex_lock\(umem_mutex\)/],
};

// The driver does not model the interval's insert and remove: those variants' traces stay off it.
const OFF_DRIVER = ['remove-unlocked-seq'];
const all = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.itf.json'))
  .sort();
const files = all.filter((f) => !OFF_DRIVER.includes(f.replace('.itf.json', '')));

describe('odp-mirror corpus traces replay on the reference driver and simulated hardware', () => {
  it('the corpus has one trace per variant, and each is covered here or refused by the driver', () => {
    expect(all.map((f) => f.replace('.itf.json', '')).sort()).toEqual([...Object.keys(EXPECTED), ...OFF_DRIVER].sort());
    for (const v of OFF_DRIVER) {
      const { model, trace } = load(`${v}.itf.json`);
      expect(() => replayOdpOnHarness(model, trace)).toThrow(/no reference-driver knob/);
    }
  });

  it.each(files.map((f) => [f]))('%s: followed state by state, with its damage reported', (file) => {
    const { model, trace } = load(file);
    const r = replayOdpOnHarness(model, trace);
    expect(r.mismatch).toBeNull();
    // Every trace step was reached on the harness, in order, by a driver step carrying the trace's
    // own label (the driver's other steps, such as a wait for a UMR completion, leave the state).
    expect(r.steps.filter((s) => s.traceStep !== null).map((s) => s.record.label)).toEqual(trace.steps.slice(1).map((s) => s.label));
    const want = EXPECTED[file.replace('.itf.json', '')];
    if (want === null) {
      expect(r.damage).toEqual([]);
      expect(r.summary).toMatch(/^no damage/);
      return;
    }
    const [kind, added, words] = want as [string, number, RegExp];
    expect(r.damage[0]?.kind).toBe(kind);
    expect(r.damage[0]?.message).toMatch(words);
    expect(r.added.length).toBe(added);
    expect(r.damageInTrace).toBe(added === 0);
    expect(r.summary).toMatch(/^damage reproduced/);
    expect(harnessReplayLines(r).at(-1)).toMatch(/^Damage reproduced/);
  });

  it('a trace replayed on a driver without its knob stops where the harness leaves the trace', () => {
    const { model, trace } = load('no-set-seq.itf.json', null);
    const r = replayOdpOnHarness(model, trace);
    expect(r.mismatch?.message).toMatch(/after DriverInvalidateLock\(i=0\) the harness differs from the trace: ivSeq\[0\]/);
    expect(r.summary).toMatch(/^the harness could not follow the trace/);
  });

  it('mirrorcheck replay --on harness reports the damage of an odp-mirror trace (exit 1)', async () => {
    const lines: string[] = [];
    const code = await runReplay({ file: join(CORPUS, 'zap-without-drain.itf.json'), on: 'harness', render: 'text', full: false }, (s) => lines.push(s));
    expect(code).toBe(1);
    expect(lines[0]).toMatch(/odp-mirror, driver knob zap-without-drain/);
    expect(lines.some((l) => /DAMAGE \(freed-frame-access\): device read of page 0/.test(l))).toBe(true);
  });
});
