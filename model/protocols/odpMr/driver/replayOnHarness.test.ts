/**
 * odp-mr counterexamples replayed on the mlx5-like reference driver and simulated HCA, each followed
 * state by state with its damage in words: the corpus (implicit MR, one trace per variant), and for
 * the three variants an explicit MR also has, explicit counterexamples kept as fixtures (`mirrorcheck
 * check odp-mr --param kind=explicit --variant V`).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModel, itfToTrace, parseItf } from 'mirrorcheck';
import { harnessReplayLines, replayOnHarness } from 'mirrorcheck/conformance';
import { runReplay } from '../../../../cli/replayCommand.js';
import { odpMr } from '../odpMr.js';
import { odpMrHarness } from './harness.js';
import { MR_KNOBS } from './system.js';

const CORPUS = 'model/protocols/odpMr/corpus';
const FIXTURES = 'model/protocols/odpMr/driver/fixtures';

const load = (path: string) => {
  const { header, doc } = parseItf(readFileSync(path, 'utf8'));
  const model = buildModel(odpMr, { variant: header.variant, params: header.params });
  return { header, model, trace: itfToTrace(header, doc, model) };
};

/** What each corpus trace does on the harness: the first damage, the steps added after the trace, and a phrase of its message. */
const CORPUS_EXPECTED: Record<string, [kind: string, added: number, words: RegExp]> = {
  'prefetch-before-fence': ['use-after-free', 6, /the prefetch work runs read_begin on the MR after its destruction began/],
  'umr-on-revoked-mkey': ['umr-error', 0, /a ZAP UMR for page 0 was posted on a revoked mkey/],
  'revoked-skips-unmap': ['freed-while-dma-mapped', 2, /ib_umem_odp_release DMA-unmaps \(and marks dirty\) frame 0 for page 0, but that frame was freed/],
  'ksm-update-unlocked': [
    'failed-access',
    2,
    /the device's access to page 0 failed with an error completion although the MR is registered: the KSM entry for chunk 0 names child 0, whose mkey was revoked/,
  ],
  'child-release-before-ksm-update': [
    'failed-access',
    2,
    /the KSM entry for chunk 0 names child 0, whose mkey was revoked \(the child was destroyed before the KSM stopped naming it\)/,
  ],
};

/** What each explicit trace does on the harness. */
const EXPECTED: Record<string, [kind: string, added: number, words: RegExp]> = {
  'prefetch-before-fence': ['use-after-free', 2, /the prefetch work runs read_begin on the MR after its destruction began/],
  'umr-on-revoked-mkey': ['umr-error', 0, /a ZAP UMR for page 0 was posted on a revoked mkey: an error completion moves the UMR QP to the error state/],
  'revoked-skips-unmap': ['freed-while-dma-mapped', 2, /ib_umem_odp_release DMA-unmaps \(and marks dirty\) frame 0 for page 0, but that frame was freed/],
};

describe('odp-mr counterexamples on the reference driver and simulated HCA', () => {
  it('an explicit trace for each variant an explicit MR has, each followed state by state with its damage reported', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.itf.json'));
    expect(files.map((f) => f.replace('.explicit.itf.json', '')).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const f of files) {
      const { header, model, trace } = load(join(FIXTURES, f));
      expect(header.params.kind).toBe('explicit');
      const r = replayOnHarness(odpMrHarness, model, trace);
      expect(r.mismatch).toBeNull();
      expect(r.steps.filter((s) => s.traceStep !== null).map((s) => s.record.label)).toEqual(trace.steps.slice(1).map((s) => s.label));
      const [kind, added, words] = EXPECTED[header.variant as string] as [string, number, RegExp];
      expect(r.damage[0]?.kind, f).toBe(kind);
      expect(r.damage[0]?.message).toMatch(words);
      expect(r.added.length).toBe(added);
      expect(harnessReplayLines(r).at(-1)).toMatch(/^Damage reproduced/);
    }
  });

  it('the corpus (implicit MR): one trace per variant, each followed state by state with its damage reported', () => {
    const files = readdirSync(CORPUS).filter((x) => x.endsWith('.itf.json'));
    expect(files.map((f) => f.replace('.itf.json', '')).sort()).toEqual([...MR_KNOBS].sort());
    for (const f of files) {
      const { header, model, trace } = load(join(CORPUS, f));
      expect(header.params.kind).toBe('implicit');
      const r = replayOnHarness(odpMrHarness, model, trace);
      expect(r.mismatch).toBeNull();
      expect(r.steps.filter((s) => s.traceStep !== null).map((s) => s.record.label)).toEqual(trace.steps.slice(1).map((s) => s.label));
      const [kind, added, words] = CORPUS_EXPECTED[header.variant as string] as [string, number, RegExp];
      expect(r.damage[0]?.kind, f).toBe(kind);
      expect(r.damage[0]?.message).toMatch(words);
      expect(r.added.length).toBe(added);
    }
  });

  it('mirrorcheck replay --on harness reports the damage of an odp-mr trace (exit 1)', async () => {
    const lines: string[] = [];
    const code = await runReplay({ file: join(CORPUS, 'umr-on-revoked-mkey.itf.json'), on: 'harness', render: 'text', full: false }, (s) => lines.push(s));
    expect(code).toBe(1);
    expect(lines[0]).toMatch(/odp-mr, driver knob umr-on-revoked-mkey/);
    expect(lines.some((l) => /DAMAGE \(umr-error\)/.test(l))).toBe(true);
  });
});
