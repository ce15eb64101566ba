import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CheckResult, type Model, type Trace, buildModel, explicitCheck, initState, itfToTrace, livenessCheck, parseItf, randomCheck } from 'mirrorcheck';
import { ChoiceRunner } from '../../../../checker/random/runChoices.js';
import { compileModel } from '../../../lang/compile.js';
import { fenceMigrate } from '../fenceMigrate.js';
import { fenceMigrateProperties } from '../fenceMigrateProperties.js';
import { harnessReplayLines, replayOnHarness as replayOn } from 'mirrorcheck/conformance';
import { fenceMigrateHarness } from './harness.js';

const replayOnHarness = (model: Model, trace: Trace) => replayOn(fenceMigrateHarness, model, trace);

const setup = (variant: string | null, params: Record<string, string | number> = {}) => {
  const model = buildModel(fenceMigrate, { variant, params });
  return { model, properties: fenceMigrateProperties.build(model) };
};

const traceOf = (r: CheckResult): Trace => {
  if (r.status !== 'violated' || !r.violations[0]?.trace) throw new Error(`expected a violation with a trace, got ${r.status}`);
  return r.violations[0].trace;
};

/** What each variant's BFS counterexample does to memory on the harness (computed once, pinned). */
const VARIANTS: [string, Record<string, string>, string, number][] = [
  // migrate_vma_finalize frees the old frame as it remaps the PTE, so stale DMA now lands in a freed frame.
  ['unblock-before-update', { mode: 'fence' }, 'freed-frame-access', 2],
  ['fence-without-drain', { mode: 'fence' }, 'freed-frame-access', 3],
  ['fence-without-drain', { mode: 'zap-and-fault' }, 'freed-frame-access', 3],
  ['fence-without-drain', { mode: 'zap-and-fault', fault: 'retry' }, 'freed-frame-access', 3],
  ['unblock-before-copy', { mode: 'fence' }, 'freed-frame-access', 5],
  ['free-before-fence', { mode: 'fence' }, 'freed-frame-access', 2],
  ['free-before-fence', { mode: 'zap-and-fault' }, 'freed-frame-access', 2],
  ['no-invalidate', { mode: 'fence' }, 'freed-frame-access', 4],
  ['no-invalidate', { mode: 'zap-and-fault' }, 'freed-frame-access', 4],
  // A MADV_DONTNEED after the migration's window closed, or a failed migrate_vma_pages: the HCA is
  // pointed at the new frame that finalize frees.
  ['update-without-retry', { mode: 'fence' }, 'freed-frame-access', 2],
  ['update-after-failure', { mode: 'fence' }, 'freed-frame-access', 2],
];

describe('replay of model counterexamples on the reference driver and simulated hardware', () => {
  it.each(VARIANTS)('the BFS trace of %s (%j) does concrete damage: %s, %i added steps', (variant, params, kind, added) => {
    const { model, properties } = setup(variant, params);
    const trace = traceOf(explicitCheck({ model, properties, limits: {} }));
    const r = replayOnHarness(model, trace);
    expect(r.mismatch).toBeNull();
    expect(r.damage.length).toBeGreaterThan(0);
    expect(r.damage[0]?.kind).toBe(kind);
    expect(r.added.length).toBe(added);
    expect(r.summary).toMatch(/^damage reproduced/);
    // Every trace step was taken on the harness, in order, under the trace's own label.
    const taken = r.steps.filter((s) => s.traceStep !== null).map((s) => s.record.label);
    expect(taken).toEqual(trace.steps.slice(1).map((s) => s.label));
  });

  it.each(VARIANTS.filter(([, p]) => p.fault !== 'retry'))('the random engine trace of %s (%j) does damage too', (variant, params) => {
    const { model, properties } = setup(variant, params);
    const r = replayOnHarness(model, traceOf(randomCheck({ model, properties, limits: {}, seed: 7 })));
    expect(r.mismatch).toBeNull();
    expect(r.damage.length).toBeGreaterThan(0);
  });

  const dir = join(import.meta.dirname, '..', 'corpus');
  const corpus = readdirSync(dir).filter((f) => f.endsWith('.itf.json'));
  it.each(corpus)('corpus trace %s does concrete damage on the harness', (file) => {
    const { header, doc } = parseItf(readFileSync(join(dir, file), 'utf8'));
    const model = buildModel(fenceMigrate, { variant: header.variant, params: header.params });
    const r = replayOnHarness(model, itfToTrace(header, doc, model));
    expect(r.mismatch).toBeNull();
    expect(r.damage.length).toBeGreaterThan(0);
  });

  it.each([
    ['never-unblock', {}, 'page 0 stays blocked'],
    ['stale-seq-retry', { mode: 'zap-and-fault', fault: 'retry' }, 'its page fault on page 0 is never resolved, and steps 18..19 repeat forever'],
  ] as const)('the liveness lasso of %s (%j) shows DMA that hangs forever', (variant, params, words) => {
    const { model, properties } = setup(variant, params);
    const r = livenessCheck({ model, properties: properties.filter((p) => p.kind === 'liveness'), limits: {} });
    const trace = traceOf(r);
    expect(trace.loop).toBeDefined();
    const h = replayOnHarness(model, trace);
    expect(h.mismatch).toBeNull();
    expect(h.added).toEqual([]);
    expect(h.damage[0]?.kind).toBe('hung-dma');
    expect(h.damage[0]?.message).toContain(words);
  });

  it('the report reads as numbered steps with the hardware changes and the damage in words', () => {
    const { model, properties } = setup('free-before-fence');
    const lines = harnessReplayLines(replayOnHarness(model, traceOf(explicitCheck({ model, properties, limits: {} }))));
    const text = lines.join('\n');
    expect(text).toContain('frame 0 freed (it held page 0)');
    expect(text).toContain('DAMAGE (freed-frame-access)');
    expect(text).toMatch(/read frame 0 after it was freed/);
  });

  it.each(['fence', 'zap-and-fault'])('a run of the correct protocol (%s) replays with no damage and no added steps', (mode) => {
    const { model, properties } = setup(null, { mode, pages: 3, frames: 5, slots: 2, migrations: 3, writes: 4 });
    const runner = new ChoiceRunner(compileModel(model, properties), model.layout.nSlots, model.instances.length);
    const init = initState(model, model.inits[0]!);
    const steps: Trace['steps'][number][] = [{ choice: 0, label: 'init mapped', state: init }];
    const choices = Array.from({ length: 60 }, (_, i) => (i * 7919 + 13) % 1000);
    runner.run(init, choices, {
      checkDeadlock: true,
      record: (s) => steps.push({ choice: s.instance, label: model.instances[s.instance]!.label, state: s.state }),
    });
    const trace: Trace = { protocol: model.protocol, variant: null, params: model.params, engine: 'test', property: null, requirement: null, steps };
    const r = replayOnHarness(model, trace);
    expect(r.mismatch).toBeNull();
    expect(r.damage).toEqual([]);
    expect(r.added).toEqual([]);
    expect(r.summary).toMatch(/^no damage/);
  });

  it('a trace whose stored state the harness does not reproduce is reported as a mismatch', () => {
    const { model, properties } = setup('no-invalidate');
    const t = traceOf(explicitCheck({ model, properties, limits: {} }));
    const bad = new Int32Array(t.steps[2]!.state);
    const dataSlot = model.layout.slotNames.indexOf('data[2]');
    bad[dataSlot] = 1;
    const tampered: Trace = { ...t, steps: t.steps.map((s, i) => (i === 2 ? { ...s, state: bad } : s)) };
    const r = replayOnHarness(model, tampered);
    expect(r.mismatch?.step).toBe(2);
    expect(r.mismatch?.message).toContain('data[2]');
  });
});
