import { enabled } from '../../model/lang/interp.js';
import { afterAll, describe, expect, it } from 'vitest';
import { explicitCheck } from '../explicit/explicit.js';
import type { CheckResult } from '../engine.js';
import { add, eq, isNone, isSome, lt, none, pre, some, unwrap } from '../../model/lang/expr.js';
import { type ProtocolDef, buildModel, defineProtocol, intParam } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { option, range } from '../../model/lang/types.js';
import { fenceMigrate } from '../../model/protocols/fenceMigrate/fenceMigrate.js';
import { fenceMigrateProperties } from '../../model/protocols/fenceMigrate/fenceMigrateProperties.js';
import { safetyProperties, stepProperty } from '../../properties/property.js';
import { bmcCheck } from './bmc.js';
import { replayPath } from './replay.js';
import { shutdownSmt } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

const safety = safetyProperties;

/** Status, and for a counterexample its kind and length: what both engines must agree on. */
function verdict(r: CheckResult): string {
  if (r.status === 'violated') {
    const v = r.violations[0];
    return `violated ${v?.kind === 'deadlock' ? 'deadlock' : 'safety'} ${(v?.trace?.steps.length ?? 0) - 1}`;
  }
  if (r.status === 'error') return `error ${r.code} ${(r.trace?.steps.length ?? 0) - 1}`;
  return r.status;
}

describe('model errors, time limits and the replay guard', () => {
  // A counter whose off-by-one variant overflows its range: a model error (MC011) at step 3.
  const counter: ProtocolDef<{ n: ReturnType<typeof range> }> = defineProtocol({
    name: 'counter',
    summary: '',
    spec: '',
    params: { max: intParam(3, 1, 5, 'largest value') },
    variants: [{ name: 'off-by-one', summary: 'counts one too far', cites: 'test' }],
    build(b, cfg) {
      const n = b.v('n', range(0, cfg.int('max')));
      b.init('zero', () => []);
      b.rule('Inc', {}, () => ({ guard: lt(n, cfg.int('max') + (cfg.is('off-by-one') ? 1 : 0)), body: [assign(n, add(n, 1))] }));
      b.endState(() => eq(n, cfg.int('max')));
      return { n: range(0, 1) };
    },
  });

  it('a range overflow is reported as the explicit engine reports it, with the same trace', async () => {
    const model = buildModel(counter, { variant: 'off-by-one' });
    const ex = explicitCheck({ model, properties: [], limits: {} });
    const smt = await bmcCheck({ model, properties: [], limits: { depth: 6 } });
    expect(verdict(smt)).toBe(verdict(ex));
    expect(smt.status === 'error' && smt.code).toBe('MC011');
    if (smt.status === 'error' && ex.status === 'error') {
      expect(smt.trace!.steps.map((s) => Array.from(s.state))).toEqual(ex.trace!.steps.map((s) => Array.from(s.state)));
      expect(smt.trace!.extra?.failingChoice).toBe(0);
    }
    // Without the bug: end state reached, no deadlock, nothing wrong.
    const ok = await bmcCheck({ model: buildModel(counter), properties: [], limits: { depth: 6 } });
    expect(ok.status).toBe('ok');
  }, 30_000);

  it('a step property is evaluated only on steps of its rule: an unwrap its rule guard makes safe raises no model error elsewhere', async () => {
    // Set fills x; Read (enabled only when x holds a value) has a step property that unwraps x.
    const slot = defineProtocol({
      name: 'slot',
      summary: '',
      spec: '',
      params: {},
      variants: [],
      build(b) {
        const xt = option(b.index('V', 2));
        const x = b.v('x', xt);
        b.init('empty', () => []);
        b.rule('Set', {}, () => ({ guard: isNone(x), body: [assign(x, some(1, xt))] }));
        b.rule('Read', {}, () => ({ guard: isSome(x), body: [] }));
        b.rule('Clear', {}, () => ({ guard: isSome(x), body: [assign(x, none)] }));
        return { x };
      },
    });
    const model = buildModel(slot);
    const x = model.handles.x;
    const props = [stepProperty(model, 'read-one', 'T-1', 'a read sees 1', 'Read', () => eq(pre(unwrap(x)), 1))];
    expect(explicitCheck({ model, properties: props, limits: {} }).status).toBe('ok');
    const smt = await bmcCheck({ model, properties: props, limits: { depth: 4 } });
    expect(smt.status).toBe('ok');
  }, 30_000);

  it('a time limit that runs out gives incomplete, not ok', async () => {
    const model = buildModel(fenceMigrate);
    const r = await bmcCheck({ model, properties: safety(fenceMigrateProperties.build(model)), limits: { depth: 30, timeLimitSec: 0.000001 } });
    expect(r.status).toBe('incomplete');
    if (r.status === 'incomplete') expect(r.reason).toMatch(/time limit/);
  }, 30_000);

  it('the replay guard rejects a path the interpreter does not reproduce', async () => {
    const model = buildModel(fenceMigrate, { variant: 'fence-without-drain' });
    const r = await bmcCheck({ model, properties: safety(fenceMigrateProperties.build(model)), limits: { depth: 6 } });
    expect(r.status).toBe('violated');
    if (r.status !== 'violated') return;
    const t = r.violations[0]!.trace!;
    const path = { choices: t.steps.map((s) => s.choice), states: t.steps.map((s) => new Int32Array(s.state)), fromInit: true };
    expect(replayPath(model, path)).toBeNull();
    const tampered = path.states.map((s) => new Int32Array(s));
    tampered[2]![0] = tampered[2]![0] === 0 ? 1 : 0;
    expect(replayPath(model, { ...path, states: tampered })).toMatch(/differs/);
    // A rule instance not enabled in the state the second step starts from.
    const disabled = model.instances.find((i) => !enabled(model, i, path.states[1]!))!.id;
    expect(replayPath(model, { ...path, choices: [path.choices[0]!, disabled, ...path.choices.slice(2)] })).toMatch(/not enabled/);
  }, 30_000);
});
