import { describe, expect, it } from 'vitest';
import { explicitCheck } from '../checker/explicit/explicit.js';
import type { CheckResult } from '../checker/engine.js';
import { buildModel } from '../model/lang/protocol.js';
import { registry } from '../cli/registry.js';
import { fenceMigrate } from '../model/protocols/fenceMigrate/fenceMigrate.js';
import { fenceMigrateProperties } from '../properties/fenceMigrate.js';
import type { Property } from '../properties/property.js';
import { exportFixture, exportFixtureProperties, variantCases } from '../test/fixtures/exportFixture.js';
import { toPromela } from './promela.js';
import { peerAvailable } from '../test/peers.js';
import { type PeerRun, runSpin } from './runPeers.js';

const fm = (variant: string | null, params: Record<string, string | number> = {}) => {
  const model = buildModel(fenceMigrate, { variant, params });
  return { model, properties: fenceMigrateProperties.build(model) as readonly Property[] };
};
const fixture = (variant: string | null) => {
  const model = buildModel(exportFixture, { variant });
  return { model, properties: exportFixtureProperties(model) as readonly Property[] };
};

describe('toPromela prints the model from its data', () => {
  const { model, properties } = fm(null);
  const text = toPromela(model, properties);

  it('has one d_step option per rule instance, parameters unrolled', () => {
    expect(text.match(/^\s+:: d_step \{ \/\* /gm)?.length).toBe(model.instances.length);
    for (const inst of model.instances) expect(text).toContain(`/* ${inst.label} */`);
  });

  it('asserts every invariant through a named hidden flag, once, after the choice', () => {
    for (const p of properties.filter((x) => x.kind === 'invariant')) {
      const flag = `inv_${p.name.replace(/-/g, '_')}`;
      expect(text).toContain(`hidden byte ${flag};`);
      expect(text).toContain(`assert(${flag});`);
    }
    expect(text.match(/check_invariants\(\)/g)?.length).toBe(1 + model.inits.length + 1);
  });

  it('checks the step property only in the instances of its rule, on hidden pre-state copies', () => {
    const complete = model.instances.filter((i) => i.rule.name === 'HcaCompleteDma').length;
    expect(text.match(/assert\(step_no_stale_dma_read\)/g)?.length).toBe(complete);
    expect(text).toMatch(/hidden Dma pre_dma\[\d\];/);
  });

  it('guards unwraps and range overflows with assertions, and gives options their defaults', () => {
    expect(text).toMatch(/short hca\[2\] = -1;/);
    expect(text).toContain('assert(0 <= (migsLeft - 1) && (migsLeft - 1) <= 2);');
    // The invariant no-translation-to-freed-frame unwraps hca[p] behind isSome: its definedness
    // assertion must follow the short-circuit of the implication.
    expect(text).toMatch(/assert\(\(\(!\(\(hca\[0\] != -1\)\) \|\| \(hca\[0\] != -1\)\)/);
  });

  it('marks the loop as a valid end only when the model has legal end states', () => {
    expect(text).not.toContain('end_loop:');
    const fx = fixture(null);
    const t = toPromela(fx.model, fx.properties);
    expect(t).toContain('end_loop:');
    expect(t).toContain('assert(no_deadlock);');
    expect(t).toMatch(/^ {2}if\n {2}:: d_step \{ \/\* start state empty/m);
  });
});

// --- SPIN on the exported model agrees with the explicit engine -------------------------------

const HAVE_SPIN = peerAvailable('spin', 'gcc');
const NEEDS = 'needs spin and gcc (apt-get install -y spin)';

/**
 * SPIN must reach the same verdict. For a clean run it stores our states plus one (the state
 * before the start-state d_step) and matches exactly as many already-seen successors as we did.
 */
function expectAgreement(ours: CheckResult, peer: PeerRun, inits: number): void {
  if (ours.status === 'ok') {
    expect(peer.status, peer.output).toBe('ok');
    expect(peer.states).toBe(ours.stats.states + 1);
    const ourDuplicates = ours.stats.transitions - (ours.stats.states - inits);
    expect((peer.transitions ?? 0) - (peer.states ?? 0)).toBe(ourDuplicates);
  } else if (ours.status === 'violated') {
    const v = ours.violations[0]!;
    expect(peer.status, peer.output).toBe('violated');
    expect(peer.violation?.kind).toBe(v.kind);
    expect(peer.violation?.property).toBe(v.property);
    // pan -i with -DREACH finds the shortest error: as deep as our BFS trace.
    expect(peer.steps).toBe(v.trace!.steps.length - 1);
  } else if (ours.status === 'error') {
    expect(peer.violation?.kind, peer.output).toBe('model-error');
  } else throw new Error(`unexpected ${ours.status}`);
}

// Small models: no optimisation, a small hash table and depth bound (the search is instant; gcc
// -O2 and pan's default 128 MB table and 10M-deep stack cost seconds). When we find a violation,
// pan searches for its shortest error (-DREACH -i), whose state count is not comparable.
const check = (x: { model: ReturnType<typeof buildModel>; properties: readonly Property[] }) => {
  const ours = explicitCheck({ model: x.model, properties: x.properties, limits: {} });
  const peer = runSpin(toPromela(x.model, x.properties), {
    shortest: ours.status === 'violated', properties: x.properties.map((p) => p.name), cflags: ['-O0'], hashBits: 20, maxDepth: 1_000_000,
  });
  return { ours, peer, inits: x.model.inits.length };
};

const MEDIUM = { pages: 3, frames: 4, slots: 1, migrations: 2, writes: 2 };

describe('SPIN stores our states plus its initial one on fence-migrate', () => {
  it.skipIf(!HAVE_SPIN).each([
    ['fence', {}], ['fence', MEDIUM], ['zap-and-fault', {}], ['zap-and-fault', MEDIUM],
  ] as const)(`mode %s %j (${NEEDS})`, (mode, params) => {
    const { ours, peer, inits } = check(fm(null, { ...params, mode }));
    expect(ours.status).toBe('ok');
    expect(ours.stats.states).toBeGreaterThan(3000);
    expectAgreement(ours, peer, inits);
  });
});

describe('SPIN reports every bug variant as the same violation, as shallow as ours', () => {
  const cases = variantCases(fenceMigrate);
  it.skipIf(!HAVE_SPIN).each(cases.map((c) => [`${c.variant} ${JSON.stringify(c.params)}`, c] as const))(`%s (${NEEDS})`, (_, { variant, params }) => {
    const { ours, peer, inits } = check(fm(variant, params));
    expectAgreement(ours, peer, inits);
  });
});

describe('SPIN agrees on the fixture that uses every language construct', () => {
  it.skipIf(!HAVE_SPIN).each([null, ...exportFixture.variants.map((v) => v.name)])(`variant %s (${NEEDS})`, (variant) => {
    const { ours, peer, inits } = check(fixture(variant));
    expect(ours.status).toBe(variant === null ? 'ok' : variant === 'unwrap-none' ? 'error' : 'violated');
    expectAgreement(ours, peer, inits);
  });
});

describe('SPIN agrees on every built-in protocol at its default parameters', () => {
  it.skipIf(!HAVE_SPIN).each(registry.map((e) => [e.protocol.name, e] as const))(`%s (${NEEDS})`, (_, e) => {
    const model = buildModel(e.protocol);
    const { ours, peer, inits } = check({ model, properties: e.properties.build(model) });
    expectAgreement(ours, peer, inits);
  });
});
