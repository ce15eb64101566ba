/**
 * odp-mr counterexamples replayed on the mlx5-like reference driver and simulated HCA. The harness
 * simulates an explicit MR; the corpus traces are of the implicit MR (the model's default), so they
 * are refused with a clear MC030 (exit 2), and the three explicit-capable variants are replayed from
 * explicit counterexamples kept as fixtures (`mirrorcheck check odp-mr --param kind=explicit
 * --variant V`), each with its damage in words.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { McError, buildModel, itfToTrace, parseItf } from 'mirrorcheck';
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

/** What each explicit trace does on the harness: the first damage, the steps added after the trace, and a phrase of its message. */
const EXPECTED: Record<string, [kind: string, added: number, words: RegExp]> = {
  'prefetch-before-fence': ['use-after-free', 2, /the prefetch work runs read_begin on the MR after its destruction began/],
  'umr-on-revoked-mkey': ['umr-error', 0, /a ZAP UMR for page 0 was posted on the revoked mkey: an error completion moves the UMR QP to the error state/],
  'revoked-skips-unmap': ['freed-while-dma-mapped', 2, /ib_umem_odp_release DMA-unmaps \(and marks dirty\) frame 0 for page 0, but that frame was freed/],
};

describe('odp-mr counterexamples on the reference driver and simulated HCA', () => {
  it('one explicit trace per knob, each followed state by state with its damage reported', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.itf.json'));
    expect(files.map((f) => f.replace('.explicit.itf.json', '')).sort()).toEqual([...MR_KNOBS].sort());
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

  it('the corpus traces (implicit MR) are refused with MC030 before running', () => {
    for (const f of readdirSync(CORPUS).filter((x) => x.endsWith('.itf.json'))) {
      const { model } = load(join(CORPUS, f));
      expect(model.params.kind).toBe('implicit');
      expect(() => odpMrHarness.system(model)).toThrow(McError);
    }
  });

  it('mirrorcheck replay --on harness: damage of an explicit trace (exit 1); a variant with no knob says so (exit 2)', async () => {
    const lines: string[] = [];
    const code = await runReplay({ file: join(FIXTURES, 'umr-on-revoked-mkey.explicit.itf.json'), on: 'harness', render: 'text', full: false }, (s) =>
      lines.push(s),
    );
    expect(code).toBe(1);
    expect(lines[0]).toMatch(/odp-mr, driver knob umr-on-revoked-mkey/);
    expect(lines.some((l) => /DAMAGE \(umr-error\)/.test(l))).toBe(true);
    await expect(
      runReplay({ file: join(CORPUS, 'ksm-update-unlocked.itf.json'), on: 'harness', render: 'text', full: false }, () => undefined),
    ).rejects.toThrow(/no reference-driver knob for variant ksm-update-unlocked of odp-mr/);
  });
});
