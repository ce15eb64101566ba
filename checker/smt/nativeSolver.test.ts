/**
 * The native z3 path (`--solver native`): the process that mirrors a solver (nativeZ3.ts), and the
 * engines run on it (z3Host.ts sends every assertion, push and pop, and loads the native model
 * back). Each engine must give exactly the answer it gives on the wasm z3. Skipped, with the
 * reason in the title, when no native z3 is installed.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { add, eq, lt, ne } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { range } from '../../model/lang/types.js';
import { fenceMigrate } from '../../model/protocols/fenceMigrate/fenceMigrate.js';
import { fenceMigrateProperties } from '../../model/protocols/fenceMigrate/fenceMigrateProperties.js';
import { invariant, safetyProperties } from '../../properties/property.js';
import type { CheckResult } from '../engine.js';
import { bmcCheck } from './bmc.js';
import { NativeZ3Process, findNativeZ3 } from './nativeZ3.js';
import type { ProofResult } from './proofResult.js';
import { prove } from './prove.js';
import { proveUnbounded } from './proveUnbounded.js';
import { shutdownSmt } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

const Z3 = findNativeZ3();
const NEEDS = 'needs a native z3 (apt-get install -y z3)';

describe('findNativeZ3', () => {
  it('MIRRORCHECK_Z3 names the binary; a file that cannot run is none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mc-z3-'));
    const fake = join(dir, 'z3');
    writeFileSync(fake, '#!/bin/sh\n');
    const saved = { forced: process.env.MIRRORCHECK_Z3, path: process.env.PATH };
    try {
      chmodSync(fake, 0o644);
      process.env.MIRRORCHECK_Z3 = fake;
      expect(findNativeZ3()).toBeNull();
      chmodSync(fake, 0o755);
      expect(findNativeZ3()).toBe(fake);
      delete process.env.MIRRORCHECK_Z3;
      process.env.PATH = `${join(dir, 'none')}:${dir}`;
      expect(findNativeZ3()).toBe(fake);
      process.env.PATH = join(dir, 'none');
      expect(findNativeZ3()).toBeNull();
    } finally {
      process.env.PATH = saved.path;
      if (saved.forced === undefined) delete process.env.MIRRORCHECK_Z3;
      else process.env.MIRRORCHECK_Z3 = saved.forced;
    }
  });
});

describe.skipIf(!Z3)(`a native z3 process (${NEEDS})`, () => {
  it('mirrors assertions, scopes and declarations, and returns the model of a sat answer', async () => {
    const p = new NativeZ3Process(Z3 as string, null);
    try {
      p.assertBenchmark('; benchmark\n(set-info :status unknown)\n(declare-fun x () Int)\n(assert (> x 2))\n(check-sat)\n');
      const sat = await p.check(10_000);
      expect(sat.answer).toBe('sat');
      expect(sat.model).toMatch(/define-fun x \(\) Int/);
      p.push();
      // The declaration comes again with the next assertion; it must not be sent twice.
      p.assertBenchmark('(declare-fun x () Int)\n(assert (< x 2))\n(check-sat)\n');
      expect(await p.check(10_000)).toEqual({ answer: 'unsat', model: null, reason: '' });
      p.pop();
      expect((await p.check(10_000)).answer).toBe('sat');
    } finally {
      p.close();
    }
  });

  it('a solver for a logic, an error from z3, and a closed process are reported', async () => {
    const p = new NativeZ3Process(Z3 as string, 'QF_BV');
    p.assertBenchmark('(declare-fun b () (_ BitVec 2))\n(assert (= b #b11))\n');
    expect((await p.check(10_000)).model).toMatch(/#b11/);
    p.assertBenchmark('(assert (= b undeclared))');
    await expect(p.check(10_000)).rejects.toThrow(/^native z3: \(error/);
    p.close();
    p.close();
    await new Promise((r) => setTimeout(r, 200));
    await expect(p.check(10_000)).rejects.toThrow(/native z3 .* exited/);
  });

  it('a binary that is not z3 fails with its own words', async () => {
    const p = new NativeZ3Process('/bin/false', null);
    await new Promise((r) => setTimeout(r, 200));
    await expect(p.check(1000)).rejects.toThrow(/native z3 \(\/bin\/false\) exited with status 1/);
  });
});

/** n counts to 4; `no-end` makes 4 a deadlock. */
const line = defineProtocol({
  name: 'line-native',
  summary: 'a counter',
  spec: 'checker/smt/nativeSolver.test.ts',
  params: {},
  variants: [{ name: 'no-end', summary: 'the last state is a deadlock', cites: 'test' }],
  build(b, cfg) {
    const n = b.v('n', range(0, 4));
    b.init('zero', () => []);
    b.rule('Inc', {}, () => ({ guard: lt(n, 4), body: [assign(n, add(n, 1))] }));
    if (!cfg.is('no-end')) b.endState(() => eq(n, 4));
    return { n };
  },
});

const brief = (r: CheckResult) => {
  if (r.status === 'violated') {
    const v = r.violations[0]!;
    return { status: r.status, property: v.property, steps: v.trace!.steps.map((s) => [s.choice, Array.from(s.state)]) };
  }
  return { status: r.status, bound: r.status === 'ok' ? r.bound : null };
};
const proof = (r: ProofResult) => ({ status: r.status, k: 'k' in r ? r.k : undefined, property: 'property' in r ? r.property : undefined });

describe.skipIf(!Z3)(`the engines on a native z3 answer as on the wasm z3 (${NEEDS})`, () => {
  it('BMC: the same violation and trace, the same bounded ok, the same deadlock at the bound', async () => {
    const model = buildModel(line);
    const props = [invariant('not-3', 'N-1', 'n never reaches 3', ne(model.handles.n, 3))];
    for (const [m, ps, depth] of [
      [model, props, 5],
      [model, [], 4],
      [buildModel(line, { variant: 'no-end' }), [], 4],
    ] as const) {
      const wasm = await bmcCheck({ model: m, properties: ps, limits: { depth } });
      const native = await bmcCheck({ model: m, properties: ps, limits: { depth }, solver: 'native' });
      expect(brief(native)).toEqual(brief(wasm));
      if (native.status === 'violated') expect(native.violations[0]?.trace?.extra?.solver).toBe('z3-native');
    }
  });

  it('k-induction and the unbounded proof: the same verdicts on fence-migrate and a bug variant', async () => {
    const fm = buildModel(fenceMigrate);
    const props = safetyProperties(fenceMigrateProperties.build(fm));
    const hints = fenceMigrateProperties.proofHints?.(fm);
    const wasm = await prove(fm, props, { strengthening: hints?.strengthening ?? [] });
    const native = await prove(fm, props, { strengthening: hints?.strengthening ?? [], solver: 'native' });
    expect(proof(native)).toEqual(proof(wasm));
    expect(native.status).toBe('proved');
    const bug = buildModel(fenceMigrate, { variant: 'no-invalidate' });
    const bugProps = safetyProperties(fenceMigrateProperties.build(bug));
    // Both find a counterexample to induction at k = 2; which non-inductive property each names is
    // the solver's choice of model (the variant breaks several), so only the verdict is compared.
    const bugNative = proof(await prove(bug, bugProps, { solver: 'native', maxK: 2 }));
    const bugWasm = proof(await prove(bug, bugProps, { maxK: 2 }));
    expect([bugNative.status, bugNative.k]).toEqual([bugWasm.status, bugWasm.k]);
    for (const r of [bugNative, bugWasm]) expect(bugProps.map((p) => p.name)).toContain(r.property);
    const unb = { strengthening: hints?.strengthening ?? [], ...(hints?.initCondition ? { initCondition: hints.initCondition } : {}) };
    const uw = await proveUnbounded(fm, props, unb);
    const un = await proveUnbounded(fm, props, { ...unb, solver: 'native' });
    expect(proof(un)).toEqual(proof(uw));
    // A counterexample to induction is a model with functions: the wasm z3 finds it again.
    const cw = await proveUnbounded(bug, bugProps, unb);
    const cn = await proveUnbounded(bug, bugProps, { ...unb, solver: 'native' });
    expect(proof(cn)).toEqual(proof(cw));
    expect(cn.status).not.toBe('proved');
  });
});
