/**
 * The dax-revoke corpus replayed on the reference driver and simulated fs-dax kernel: each trace is
 * followed state by state and the damage its bug does is reported in words.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModel, itfToTrace, parseItf } from 'mirrorcheck';
import { harnessReplayLines, replayOnHarness } from 'mirrorcheck/conformance';
import { runReplay } from '../../../../cli/replayCommand.js';
import { DAX_VARIANTS, daxRevoke } from '../daxRevoke.js';
import { daxRevokeHarness } from './harness.js';

const CORPUS = 'model/protocols/daxRevoke/corpus';

/** What each corpus trace does on the harness: the first damage, the steps added after the trace, and a phrase of its message. */
const EXPECTED: Record<string, [kind: string, added: number, words: RegExp]> = {
  'longterm-pin-allowed': [
    'blocked-on-longterm-pin',
    6,
    /the hole punch of page 0 waits for block 0, which the pinned MR holds with a FOLL_LONGTERM pin: only ibv_dereg_mr can release it/,
  ],
  'busy-scan-skips-unmapped': ['dma-to-given-memory', 1, /an O_DIRECT DMA for page 0 landed in block 0, which the truncate has freed/],
  'truncate-no-wait': ['dma-to-given-memory', 1, /an O_DIRECT DMA for page 0 landed in block 0, which the truncate has freed/],
};

const files = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.itf.json'))
  .sort();

describe('dax-revoke corpus traces replay on the reference driver and simulated kernel', () => {
  it('the corpus has one trace per variant, and each is covered here', () => {
    expect(files.map((f) => f.replace('.itf.json', '')).sort()).toEqual([...DAX_VARIANTS].sort());
  });

  it.each(files.map((f) => [f]))('%s: followed state by state, with its damage reported', (file) => {
    const { header, doc } = parseItf(readFileSync(join(CORPUS, file), 'utf8'));
    const model = buildModel(daxRevoke, { variant: header.variant, params: header.params });
    const trace = itfToTrace(header, doc, model);
    const r = replayOnHarness(daxRevokeHarness, model, trace);
    expect(r.mismatch).toBeNull();
    expect(r.steps.filter((s) => s.traceStep !== null).map((s) => s.record.label)).toEqual(trace.steps.slice(1).map((s) => s.label));
    const [kind, added, words] = EXPECTED[file.replace('.itf.json', '')] as [string, number, RegExp];
    expect(r.damage[0]?.kind).toBe(kind);
    expect(r.damage[0]?.message).toMatch(words);
    expect(r.added.length).toBe(added);
    expect(harnessReplayLines(r).at(-1)).toMatch(/^Damage reproduced/);
  });

  it('mirrorcheck replay --on harness reports the damage of a dax-revoke trace (exit 1)', async () => {
    const lines: string[] = [];
    const code = await runReplay({ file: join(CORPUS, 'truncate-no-wait.itf.json'), on: 'harness', render: 'text', full: false }, (s) => lines.push(s));
    expect(code).toBe(1);
    expect(lines[0]).toMatch(/dax-revoke, driver knob truncate-no-wait/);
    expect(lines.some((l) => /DAMAGE \(dma-to-given-memory\)/.test(l))).toBe(true);
  });
});
