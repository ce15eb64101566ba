/**
 * The hmm-migrate corpus replayed on the reference driver and simulated kernel: each trace is
 * followed state by state, and the damage its bug does is reported in words (after a short
 * continuation when the shortest counterexample stops before anything has gone wrong).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModel, itfToTrace, parseItf } from 'mirrorcheck';
import { harnessReplayLines, replayOnHarness } from 'mirrorcheck/conformance';
import { runReplay } from '../../../../cli/replayCommand.js';
import { HM_VARIANTS, hmmMigrate } from '../hmmMigrate.js';
import { hmmMigrateHarness } from './harness.js';

const CORPUS = 'model/protocols/hmmMigrate/corpus';
const FIXTURES = 'model/protocols/hmmMigrate/driver/fixtures';

const load = (path: string, variant?: string | null) => {
  const { header, doc } = parseItf(readFileSync(path, 'utf8'));
  const model = buildModel(hmmMigrate, { variant: variant === undefined ? header.variant : variant, params: header.params });
  return { model, trace: itfToTrace(header, doc, model) };
};

/** What each corpus trace does on the harness: the first damage, the steps added after the trace, and a phrase of its message. */
const EXPECTED: Record<string, [kind: string, added: number, words: RegExp]> = {
  'flush-after-ptl-unlock': [
    'stale-translation',
    1,
    /CPU 0's load of page 0 read frame 0 through a stale TLB entry: page 0's PTE is none \(MADV_DONTNEED zapped it\)/,
  ],
  'device-private-fault-no-ref': ['use-after-free', 4, /CPU 0's fault used device page 0 in unlock_page in do_swap_page after its last reference was dropped/],
  // The trace stops at collect, which lost the dirty bit; the driver then gets no device page, the
  // migration is undone (a clean PTE), reclaim drops the page as clean, and the CPU reads the old
  // swap copy back.
  'dirty-bit-dropped': [
    'stale-read',
    5,
    /CPU 0's load of page 0 read frame 0 and got 0, but the last value written to page 0 is 1: a write was lost; frame 0 was read in from the swap slot, whose copy is older: the page was dropped without being written back/,
  ],
  'map-without-retry': ['freed-page-access', 2, /the device's write of value 1 to page 0 landed in device page 0 after that page was freed/],
};

const files = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.itf.json'))
  .sort();

describe('hmm-migrate corpus traces replay on the reference driver and simulated kernel', () => {
  it('the corpus has one trace per variant, and each is covered here', () => {
    expect(files.map((f) => f.replace('.itf.json', '')).sort()).toEqual([...HM_VARIANTS].sort());
    expect(Object.keys(EXPECTED).sort()).toEqual([...HM_VARIANTS].sort());
  });

  it.each(files.map((f) => [f]))('%s: followed state by state, with its damage reported', (file) => {
    const { model, trace } = load(join(CORPUS, file));
    const r = replayOnHarness(hmmMigrateHarness, model, trace);
    expect(r.mismatch).toBeNull();
    // Every trace step was taken on the harness, in order, under the trace's own label.
    expect(r.steps.filter((s) => s.traceStep !== null).map((s) => s.record.label)).toEqual(trace.steps.slice(1).map((s) => s.label));
    const [kind, added, words] = EXPECTED[file.replace('.itf.json', '')] as [string, number, RegExp];
    expect(r.damage[0]?.kind).toBe(kind);
    expect(r.damage[0]?.message).toMatch(words);
    expect(r.added.length).toBe(added);
    expect(r.summary).toMatch(/^damage reproduced/);
    expect(harnessReplayLines(r).at(-1)).toMatch(/^Damage reproduced/);
  });

  it('dirty-bit-dropped, shortest trace: collect loses the dirty bit; a failed device-page allocation undoes the migration, reclaim drops the clean page, and the CPU reads the old swap copy', () => {
    const { model, trace } = load(join(CORPUS, 'dirty-bit-dropped.itf.json'));
    expect(trace.steps.slice(1).map((s) => s.label)).toEqual(['DriverMigrateBegin()', 'CpuWrite(c=0)', 'MmMigrateCollect()']);
    const r = replayOnHarness(hmmMigrateHarness, model, trace);
    expect(r.mismatch).toBeNull();
    expect(r.added).toEqual(['DriverMigrateCopyNoMemory()', 'MmMigrateFinalize()', 'MmReclaimPage()', 'CpuSwapIn(c=0, f=0)', 'CpuRead(c=0)']);
    expect(r.damage.map((d) => d.kind)).toEqual(['stale-read']);
    // The same trace on the correct kernel: collect keeps the dirty bit, so the harness cannot follow it.
    const fixed = replayOnHarness({ ...hmmMigrateHarness, system: (m, o) => hmmMigrateHarness.system(m, { ...o, knob: null }) }, model, trace);
    expect(fixed.mismatch?.step).toBe(3);
  });

  it("dirty-bit-dropped, the commit's own scenario (a GUP pin taken before collect aborts the migration): the write is lost too", () => {
    // fd35ca3d12cc: migration fails on an unexpected reference, the restored PTE is clean, reclaim
    // drops the page. Kept as a fixture, since the corpus holds one trace per variant.
    const { model, trace } = load(join(FIXTURES, 'dirty-bit-dropped.content-preserved.itf.json'));
    expect(trace.steps.slice(1).map((s) => s.label)).toEqual([
      'DriverMigrateBegin()',
      'CpuWrite(c=0)',
      'GupPin()',
      'MmMigrateCollect()',
      'DriverMigrateCopy(d=0)',
      'GupUnpin()',
      'MmReclaimPage()',
    ]);
    const r = replayOnHarness(hmmMigrateHarness, model, trace);
    expect(r.mismatch).toBeNull();
    expect(r.damage[0]?.kind).toBe('stale-read');
    expect(r.damage[0]?.message).toMatch(/CPU 0's load of page 0 read frame 0 and got 0, but the last value written to page 0 is 1: a write was lost/);
    expect(r.added).toEqual(['CpuSwapIn(c=0, f=0)', 'CpuRead(c=0)']);
  });

  it('a trace replayed on a driver without its knob stops where the harness leaves the trace', () => {
    const { model, trace } = load(join(CORPUS, 'flush-after-ptl-unlock.itf.json'));
    // The correct kernel flushes the TLB under the PTL, in collect (trace step 3).
    const r = replayOnHarness({ ...hmmMigrateHarness, system: (m, o) => hmmMigrateHarness.system(m, { ...o, knob: null }) }, model, trace);
    expect(r.mismatch?.step).toBe(3);
    expect(r.mismatch?.message).toMatch(/after MmMigrateCollect\(\) the harness differs from the trace: .*tlb\[0\]/);
    expect(r.summary).toMatch(/^the harness could not follow the trace at step 3/);
  });

  it('mirrorcheck replay --on harness reports the damage of an hmm-migrate trace (exit 1)', async () => {
    const lines: string[] = [];
    const code = await runReplay({ file: join(CORPUS, 'map-without-retry.itf.json'), on: 'harness', render: 'text', full: false }, (s) => lines.push(s));
    expect(code).toBe(1);
    expect(lines[0]).toMatch(/hmm-migrate, driver knob map-without-retry/);
    expect(lines.some((l) => /DAMAGE \(freed-page-access\): the device's write of value 1 to page 0 landed in device page 0/.test(l))).toBe(true);
  });
});
