import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTmpdir } from '../../test/tmpdir.js';
import { checkLasso } from '../../counterexamples/lasso.js';
import { parseItf, itfToTrace, traceToItf } from '../../counterexamples/itf.js';
import type { Trace } from '../../counterexamples/trace.js';
import { and, eq, ne, not, type Ref } from '../../model/lang/expr.js';
import { buildModel, defineProtocol, type Model, type ProtocolDef } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { bool, range } from '../../model/lang/types.js';
import { definePropertySet, eventually, type Liveness, type PropertySet } from '../../properties/property.js';
import {
  lossyChannel,
  lossyChannelProperties,
  mutex,
  mutexProperties,
  seqRetry,
  seqRetryProperties,
  stopper,
  stopperProperties,
} from '../../test/fixtures/livenessProtocols.js';
import type { CheckResult, Violation } from '../engine.js';
import { explicitCheckWithLiveness, livenessCheck } from './liveness.js';
import { fenceMigrate } from '../../model/protocols/fenceMigrate/fenceMigrate.js';
import { fenceMigrateProperties } from '../../model/protocols/fenceMigrate/fenceMigrateProperties.js';

function run<H>(
  def: ProtocolDef<H>,
  set: PropertySet<H>,
  opts: { params?: Record<string, string | number>; variant?: string; fairness?: 'declared' | 'none' } = {},
) {
  const model = buildModel(def, { params: opts.params ?? {}, variant: opts.variant ?? null });
  const properties = set.build(model);
  const result = livenessCheck({ model, properties, limits: {} }, {}, opts.fairness ? { fairness: opts.fairness } : {});
  return { model, properties, result };
}

const violations = (r: CheckResult): readonly Violation[] => (r.status === 'violated' ? r.violations : []);

/** Replays a violation's lasso through the interpreter and returns the verdict. */
function replay(model: Model, properties: readonly unknown[], v: Violation) {
  const prop = (properties as Liveness[]).find((p) => p.name === v.property) as Liveness;
  return checkLasso(model, v.trace as Trace, prop);
}

describe('textbook liveness cases with known answers', () => {
  it('mutex: a trying process starves under weak fairness of Acquire', () => {
    const { model, properties, result } = run(mutex, mutexProperties, { params: { acquire: 'weak' } });
    const [v] = violations(result);
    expect(v?.property).toBe('trying-enters');
    const tr = v?.trace as Trace;
    expect(tr.extra?.lasso).toBe('cycle');
    // The loop is process 1 taking the lock again and again while process 0 keeps trying.
    const loopLabels = tr.steps.slice((tr.loop as number) + 1).map((s) => s.label);
    expect(loopLabels.some((l) => l.startsWith('Acquire(i=1)'))).toBe(true);
    expect(loopLabels.some((l) => l.startsWith('Acquire(i=0)'))).toBe(false);
    const chk = replay(model, properties, v as Violation);
    expect(chk).toMatchObject({ ok: true, kind: 'cycle', each: 0 });
  });

  it('mutex: no starvation under strong fairness of Acquire per process', () => {
    const { result } = run(mutex, mutexProperties, { params: { acquire: 'strong' } });
    expect(result.status).toBe('ok');
    if (result.status === 'ok') expect(result.stats.states).toBe(8);
  });

  it('mutex: strong fairness over the whole Acquire rule still lets one process starve', () => {
    const { model, properties, result } = run(mutex, mutexProperties, { params: { acquire: 'strong-rule' } });
    const [v] = violations(result);
    expect(v?.trace?.extra?.lasso).toBe('cycle');
    expect(replay(model, properties, v as Violation)).toMatchObject({ ok: true });
  });

  it('mutex: the weak-fairness lasso is rejected as unfair when replayed under strong fairness', () => {
    const weak = run(mutex, mutexProperties, { params: { acquire: 'weak' } });
    const strongModel = buildModel(mutex, { params: { acquire: 'strong' } });
    const v = violations(weak.result)[0] as Violation;
    const prop = mutexProperties.build(strongModel)[0] as Liveness;
    const chk = checkLasso(strongModel, v.trace as Trace, prop);
    expect(chk.ok).toBe(false);
    if (!chk.ok) expect(chk.message).toContain('strong Acquire(i=0)');
  });

  it('lossy channel: the retransmit loop livelocks without fairness and under weak fairness, not over a fair-lossy link', () => {
    for (const deliver of ['none', 'weak'] as const) {
      const { model, properties, result } = run(lossyChannel, lossyChannelProperties, { params: { deliver } });
      const [v] = violations(result);
      expect(v?.property).toBe('delivered');
      const tr = v?.trace as Trace;
      // Prefix: start; loop: SenderSend, ChannelLose, back to the start state.
      expect(tr.loop).toBe(0);
      expect(tr.steps.map((s) => s.label)).toEqual(['init empty', 'SenderSend()', 'ChannelLose()']);
      expect(replay(model, properties, v as Violation)).toMatchObject({ ok: true, kind: 'cycle', loopSteps: 2 });
    }
    expect(run(lossyChannel, lossyChannelProperties, { params: { deliver: 'strong' } }).result.status).toBe('ok');
  });

  it('seq-retry: a fresh snapshot per retry always finishes (bounded bumps), with or without fairness', () => {
    for (const fairness of ['none', 'weak']) {
      expect(run(seqRetry, seqRetryProperties, { params: { fairness } }).result.status).toBe('ok');
    }
  });

  it('seq-retry: retrying with the stale snapshot livelocks even under weak fairness (B6)', () => {
    const { model, properties, result } = run(seqRetry, seqRetryProperties, { variant: 'stale-retry', params: { fairness: 'weak' } });
    const [v] = violations(result);
    const tr = v?.trace as Trace;
    expect(tr.steps.map((s) => s.label)).toEqual(['init begin', 'RetrierBegin()', 'MmBumpSeq()', 'RetrierCheck()']);
    expect(tr.loop).toBe(2);
    expect(replay(model, properties, v as Violation)).toMatchObject({ ok: true, kind: 'cycle', loopSteps: 1 });
  });

  it('seq-retry without the retrier being fair: the system may also just never run it', () => {
    // With bumps=0 there is nothing else to do, so even without fairness the retrier must run.
    expect(run(seqRetry, seqRetryProperties, { params: { bumps: 0, fairness: 'none' } }).result.status).toBe('ok');
  });

  it('stopper: a run that stops in a deadlock and one that stops in a legal end state are told apart', () => {
    const { model, properties, result } = run(stopper, stopperProperties);
    const vs = violations(result);
    expect(vs.map((v) => v.property)).toEqual(['reaches-four', 'one-leads-to-four']);
    const [dead, end] = vs as [Violation, Violation];
    expect(dead.message).toContain('deadlock');
    expect(dead.trace?.extra?.lasso).toBe('deadlock');
    expect(dead.trace?.steps.map((s) => s.label)).toEqual(['init zero', 'Jam()']);
    expect(dead.trace?.loop).toBe(1);
    expect(end.message).toContain('legal end state');
    expect(end.trace?.extra?.lasso).toBe('end-state');
    expect(end.trace?.steps.map((s) => s.label)).toEqual(['init zero', 'Go()', 'Abort()']);
    for (const v of vs) expect(replay(model, properties, v)).toMatchObject({ ok: true, kind: 'stop', loopSteps: 0 });
  });

  it('with liveness wired into the explicit engine, the lasso is listed before the deadlock it explains', () => {
    const model = buildModel(stopper);
    const r = explicitCheckWithLiveness({ model, properties: stopperProperties.build(model), limits: {} });
    expect(violations(r).map((v) => v.kind)).toEqual(['liveness', 'liveness', 'deadlock']);
  });
});

describe('the loop of a lasso meets every fairness requirement of its component', () => {
  // x moves among 0, 1 and 2 by unfair steps (0 -> 1, 1 -> 0, 1 -> 2, 2 -> 0); Leave, weakly fair, ends the walk from
  // 0 or 1 (never from 2). The shortest loop, 0 -> 1 -> 0, keeps Leave enabled throughout: under weak fairness Leave
  // would have to be taken. The only fair loops pass through 2, where Leave is disabled, so "eventually left" fails
  // with a loop through 2, and never through a loop of 0 and 1 alone.
  const detour = defineProtocol<{ x: Ref; left: Ref }>({
    name: 'detour',
    summary: 'a weakly fair exit disabled in one state of the cycle',
    spec: 'checker/explicit/liveness.test.ts',
    params: {},
    variants: [],
    build(b) {
      const x = b.v('x', range(0, 2));
      const left = b.v('left', bool);
      const step = (name: string, from: number, to: number) => b.rule(name, {}, () => ({ guard: and(not(left), eq(x, from)), body: [assign(x, to)] }));
      b.init('zero', () => []);
      step('Up', 0, 1);
      step('Down', 1, 0);
      step('Detour', 1, 2);
      step('Home', 2, 0);
      b.rule('Leave', {}, () => ({ guard: and(not(left), ne(x, 2)), body: [assign(left, true)] }), { fairness: 'weak' });
      b.endState(() => left);
      return { x, left };
    },
  });
  const detourProperties = definePropertySet(detour, (m) => [eventually('eventually-left', 'DT-L1', 'the walk is eventually left', m.handles.left)]);

  it('a weakly fair rule enabled at the entry and never taken inside: the loop visits a state where it is disabled', () => {
    const { model, properties, result } = run(detour, detourProperties);
    const [v] = violations(result);
    expect(v?.property).toBe('eventually-left');
    const tr = v?.trace as Trace;
    const xSlot = model.layout.slotNames.indexOf('x');
    const loopXs = tr.steps.slice(tr.loop as number).map((st) => st.state[xSlot]);
    expect([loopXs.includes(2), replay(model, properties, v as Violation)]).toEqual([true, expect.objectContaining({ ok: true, kind: 'cycle' })]);
  });
});

describe('lasso replay rejects traces that do not prove a liveness failure', () => {
  const { model, properties, result } = run(lossyChannel, lossyChannelProperties, { params: { deliver: 'weak' } });
  const v = violations(result)[0] as Violation;
  const tr = v.trace as Trace;
  const prop = properties[0] as Liveness;

  it('a loop that does not close', () => {
    const bad: Trace = { ...tr, steps: tr.steps.slice(0, 2) };
    expect(checkLasso(model, bad, prop)).toMatchObject({ ok: false });
  });
  it('a loop index on a state that still has enabled rules', () => {
    const bad: Trace = { ...tr, loop: tr.steps.length - 1 };
    const chk = checkLasso(model, bad, prop);
    expect(chk.ok).toBe(false);
    if (!chk.ok) expect(chk.message).toContain('not a stopping state');
  });
  it('a stored state that the step does not produce', () => {
    const steps = tr.steps.map((s, i) => (i === 1 ? { ...s, state: Int32Array.from(s.state, () => 0) } : s));
    expect(checkLasso(model, { ...tr, steps }, prop)).toMatchObject({ ok: false, step: 1 });
  });
  it('a run where the goal holds', () => {
    const deliver = model.instances.find((i) => i.rule.name === 'ChannelDeliver')?.id as number;
    const s1 = tr.steps[1] as Trace['steps'][number];
    const s2 = { choice: deliver, label: 'ChannelDeliver()', state: Int32Array.from([0, 1]) };
    const chk = checkLasso(model, { ...tr, steps: [tr.steps[0] as Trace['steps'][number], s1, s2], loop: 2 }, prop);
    expect(chk.ok).toBe(false);
    if (!chk.ok) expect(chk.message).toContain('reaches the goal');
  });
  it('an unfair loop (fairness mode taken from the trace, or given)', () => {
    const strong = buildModel(lossyChannel, { params: { deliver: 'strong' } });
    const chk = checkLasso(strong, tr, lossyChannelProperties.build(strong)[0] as Liveness);
    expect(chk.ok).toBe(false);
    expect(checkLasso(strong, tr, lossyChannelProperties.build(strong)[0] as Liveness, { fairness: 'none' })).toMatchObject({ ok: true });
  });
});

describe('ITF round trip of lassos', () => {
  it('writes the loop index, reads it back, and the lasso still replays', () => {
    for (const [def, set, params] of [
      [mutex, mutexProperties, { acquire: 'weak' }],
      [stopper, stopperProperties, {}],
    ] as const) {
      const { model, properties, result } = run(def as ProtocolDef<unknown>, set as PropertySet<unknown>, { params });
      for (const v of violations(result)) {
        const itf = traceToItf(v.trace as Trace, model);
        expect(itf.loop).toBe(v.trace?.loop);
        const { header, doc } = parseItf(JSON.stringify(itf));
        const back = itfToTrace(header, doc, model);
        expect(back.loop).toBe(v.trace?.loop);
        expect(back.steps.map((s) => s.choice)).toEqual(v.trace?.steps.map((s) => s.choice));
        expect(back.steps.map((s) => Array.from(s.state))).toEqual(v.trace?.steps.map((s) => Array.from(s.state)));
        expect(back.extra).toEqual(v.trace?.extra);
        expect(replay(model, properties, { ...v, trace: back })).toMatchObject({ ok: true });
      }
    }
  });
});

describe('the states moved to a file during the fair-cycle analysis (LivenessOptions.evictStatesFrom)', () => {
  /** The result without the figures of memory and time, which are all that may differ. */
  const verdict = (r: CheckResult) => {
    const { bytesPerState: _b, storeBytes: _s, elapsedMs: _e, statesPerSec: _r, ...figures } = r.stats as unknown as Record<string, unknown>;
    return { ...r, stats: figures };
  };
  const cases: [string, () => { model: Model; properties: PropertySet<never> | readonly Liveness[] }][] = [];
  const fixture = <H>(name: string, def: ProtocolDef<H>, set: PropertySet<H>, params: Record<string, string | number> = {}, variant: string | null = null) =>
    cases.push([
      name,
      () => {
        const model = buildModel(def, { params, variant });
        return { model, properties: set.build(model) as readonly Liveness[] };
      },
    ]);
  fixture('mutex, weak fairness (a starving cycle)', mutex, mutexProperties, { acquire: 'weak' });
  fixture('mutex, strong fairness (holds)', mutex, mutexProperties, { acquire: 'strong' });
  fixture('lossy channel, no fairness', lossyChannel, lossyChannelProperties, { deliver: 'none' });
  fixture('seq-retry stale-retry', seqRetry, seqRetryProperties, {}, 'stale-retry');
  fixture('stopper (a state with no rule enabled)', stopper, stopperProperties);
  fixture('fence-migrate', fenceMigrate, fenceMigrateProperties);
  fixture('fence-migrate never-unblock', fenceMigrate, fenceMigrateProperties, {}, 'never-unblock');

  it.each(cases)('%s: the same verdicts, lassos and counts as with the states kept in memory, no more bytes, and every lasso replays', (_, make) => {
    const { model, properties } = make();
    const job = { model, properties: properties as readonly Liveness[], limits: {} };
    const kept = livenessCheck(job, {}, { evictStatesFrom: Number.POSITIVE_INFINITY });
    const moved = livenessCheck(job, {}, { evictStatesFrom: 0 });
    expect(verdict(moved)).toEqual(verdict(kept));
    expect(moved.stats.storeBytes ?? 0).toBeLessThanOrEqual(kept.stats.storeBytes ?? 0);
    for (const v of violations(moved)) expect(replay(model, properties as readonly Liveness[], v)).toMatchObject({ ok: true });
  });

  // StateStore.evict: the file is closed (closeEvicted) when the analysis ends, whatever its verdict.
  // Counted from the process' open files (/proc/self/fd, Linux): an unlinked file stays open until closed.
  const statesFiles = () =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).includes('mirrorcheck-states-');
      } catch {
        return false;
      }
    }).length;
  it.skipIf(!existsSync('/proc/self/fd'))('closes the file of the moved states when the check ends (a violation or none)', () => {
    const before = statesFiles();
    // The mutex under weak fairness (a starving cycle) and under strong fairness (holds).
    const statuses: string[] = [];
    for (const [, make] of cases.slice(0, 2)) {
      const { model, properties } = make();
      statuses.push(livenessCheck({ model, properties: properties as readonly Liveness[], limits: {} }, {}, { evictStatesFrom: 0 }).status);
      expect(statesFiles()).toBe(before);
    }
    expect(statuses).toEqual(['violated', 'ok']);
  });

  it('keeps the states in memory, with the same results, where no temporary file can be made', async () => {
    await withTmpdir(join(tmpdir(), 'mc-no-such-folder', String(process.pid)), () => {
      for (const [, make] of cases) {
        const { model, properties } = make();
        const job = { model, properties: properties as readonly Liveness[], limits: {} };
        const kept = livenessCheck(job, {}, { evictStatesFrom: Number.POSITIVE_INFINITY });
        const asked = livenessCheck(job, {}, { evictStatesFrom: 0 });
        expect(verdict(asked)).toEqual(verdict(kept));
        expect(asked.stats.storeBytes).toBe(kept.stats.storeBytes);
      }
    });
  });
});
