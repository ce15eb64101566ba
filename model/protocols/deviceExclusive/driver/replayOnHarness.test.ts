/**
 * The device-exclusive corpus replayed on the nouveau-like reference driver and simulated kernel:
 * each trace is followed state by state and the damage its bug does is reported in words (the lasso
 * of no-owner-filter as a device fault that never completes).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModel, itfToTrace, parseItf } from 'mirrorcheck';
import { harnessReplayLines, replayOnHarness } from 'mirrorcheck/conformance';
import { runReplay } from '../../../../cli/replayCommand.js';
import { DX_VARIANTS, deviceExclusive } from '../deviceExclusive.js';
import { deviceExclusiveHarness } from './harness.js';

const CORPUS = 'model/protocols/deviceExclusive/corpus';

const load = (file: string) => {
  const { header, doc } = parseItf(readFileSync(join(CORPUS, file), 'utf8'));
  const model = buildModel(deviceExclusive, { variant: header.variant, params: header.params });
  return { model, trace: itfToTrace(header, doc, model) };
};

/** What each corpus trace does on the harness: the first damage, the steps added after the trace, and a phrase of its message. */
const EXPECTED: Record<string, [kind: string, added: number, words: RegExp]> = {
  'no-owner-filter': ['hung', 0, /never completes \(steps 8\.\.12 repeat forever without it\); waiting forever: the device's atomic fault on page 0/],
  'exclusive-fault-no-ref': ['use-after-free', 6, /CPU 1's fault on page 0 waits to lock frame 0, which has been freed/],
  'filter-ignores-owner': ['stale-atomic-mapping', 0, /the device keeps its atomic mapping of page 0 \(frame 0\) after the CPU got the page back/],
};

const files = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.itf.json'))
  .sort();

describe('device-exclusive corpus traces replay on the reference driver and simulated kernel', () => {
  it('the corpus has one trace per variant, and each is covered here', () => {
    expect(files.map((f) => f.replace('.itf.json', '')).sort()).toEqual([...DX_VARIANTS].sort());
    expect(Object.keys(EXPECTED).sort()).toEqual([...DX_VARIANTS].sort());
  });

  it.each(files.map((f) => [f]))('%s: followed state by state, with its damage reported', (file) => {
    const { model, trace } = load(file);
    const r = replayOnHarness(deviceExclusiveHarness, model, trace);
    expect(r.mismatch).toBeNull();
    expect(r.steps.filter((s) => s.traceStep !== null).map((s) => s.record.label)).toEqual(trace.steps.slice(1).map((s) => s.label));
    const [kind, added, words] = EXPECTED[file.replace('.itf.json', '')] as [string, number, RegExp];
    expect(r.damage[0]?.kind).toBe(kind);
    expect(r.damage[0]?.message).toMatch(words);
    expect(r.added.length).toBe(added);
    expect(harnessReplayLines(r).at(-1)).toMatch(/^Damage reproduced/);
  });

  it('mirrorcheck replay --on harness reports the livelock of no-owner-filter (exit 1)', async () => {
    const lines: string[] = [];
    const code = await runReplay({ file: join(CORPUS, 'no-owner-filter.itf.json'), on: 'harness', render: 'text', full: false }, (s) => lines.push(s));
    expect(code).toBe(1);
    expect(lines[0]).toMatch(/device-exclusive, driver knob no-owner-filter/);
    expect(lines.some((l) => /DAMAGE \(hung\): never completes/.test(l))).toBe(true);
  });
});
