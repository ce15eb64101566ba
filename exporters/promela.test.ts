import { describe, expect, it } from 'vitest';
import { explicitCheck } from '../checker/explicit/explicit.js';
import type { CheckResult, ExplicitStats } from '../checker/engine.js';
import { type ProtocolDef, buildModel } from '../model/lang/protocol.js';
import { registry } from '../cli/registry.js';
import { fenceMigrate } from '../model/protocols/fenceMigrate/fenceMigrate.js';
import { fenceMigrateProperties } from '../model/protocols/fenceMigrate/fenceMigrateProperties.js';
import { deviceExclusive } from '../model/protocols/deviceExclusive/deviceExclusive.js';
import { hmmMigrate } from '../model/protocols/hmmMigrate/hmmMigrate.js';
import { deviceExclusiveProperties } from '../model/protocols/deviceExclusive/deviceExclusiveProperties.js';
import { hmmMigrateProperties } from '../model/protocols/hmmMigrate/hmmMigrateProperties.js';
import { daxRevoke } from '../model/protocols/daxRevoke/daxRevoke.js';
import { odpMr } from '../model/protocols/odpMr/odpMr.js';
import { odpMrProperties } from '../model/protocols/odpMr/odpMrProperties.js';
import { daxRevokeProperties } from '../model/protocols/daxRevoke/daxRevokeProperties.js';
import type { Property } from '../properties/property.js';
import { exportFixture, exportFixtureProperties, variantCases } from '../test/fixtures/exportFixture.js';
import { toPromela } from './promela.js';
import { peerAvailable } from '../test/peers.js';
import { type PeerRun, runSpin } from './runPeers.js';

const fm = (variant: string | null, params: Record<string, string | number> = {}) => {
  const model = buildModel(fenceMigrate, { variant, params });
  return { model, properties: fenceMigrateProperties.build(model) as readonly Property[] };
};
const mr = (variant: string | null, params: Record<string, string | number> = {}) => {
  const model = buildModel(odpMr, { variant, params });
  return { model, properties: odpMrProperties.build(model) as readonly Property[] };
};
const dax = (variant: string | null, params: Record<string, string | number> = {}) => {
  const model = buildModel(daxRevoke, { variant, params });
  return { model, properties: daxRevokeProperties.build(model) as readonly Property[] };
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
    expect(text).toMatch(/assert\(\(\(!\(\(\(hca\[0\] != -1\) && !\(blocked\[0\]\)\)\) \|\| \(hca\[0\] != -1\)\)/);
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
function expectAgreement(ours: CheckResult<ExplicitStats>, peer: PeerRun, inits: number): void {
  if (ours.status === 'ok') {
    expect(peer.status, peer.output).toBe('ok');
    expect(peer.states).toBe(ours.stats.states + 1);
    const ourDuplicates = ours.stats.transitions - (ours.stats.states - inits);
    expect((peer.transitions ?? 0) - (peer.states ?? 0)).toBe(ourDuplicates);
  } else if (ours.status === 'violated' && ours.violations.every((v) => v.kind === 'cover')) {
    // Only covers unreached (a variant whose bug is a liveness failure); the Promela export carries
    // no covers, so SPIN searches the same whole space and finds nothing.
    expect(peer.status, peer.output).toBe('ok');
    expect(peer.states).toBe(ours.stats.states + 1);
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
    shortest: ours.status === 'violated',
    properties: x.properties.map((p) => p.name),
    cflags: ['-O0'],
    hashBits: 20,
    maxDepth: 1_000_000,
  });
  return { ours, peer, inits: x.model.inits.length };
};

const MEDIUM = { pages: 3, frames: 4, slots: 1, migrations: 2, writes: 2 };

describe('SPIN stores our states plus its initial one on fence-migrate', () => {
  it.skipIf(!HAVE_SPIN).each([
    ['fence', {}],
    ['fence', MEDIUM],
    ['zap-and-fault', {}],
    ['zap-and-fault', MEDIUM],
  ] as const)(`mode %s %j (${NEEDS})`, (mode, params) => {
    const { ours, peer, inits } = check(fm(null, { ...params, mode }));
    expect(ours.status).toBe('ok');
    expect(ours.stats.states).toBeGreaterThan(3000);
    expectAgreement(ours, peer, inits);
  });
});

describe('SPIN reports every bug variant of every built-in protocol as the same violation, as shallow as ours', () => {
  // The variants come from the registry: a new protocol's variants are cross-checked without a line here.
  const cases = registry.flatMap((pkg) => variantCases(pkg.protocol).map((c) => ({ pkg, ...c })));
  it.skipIf(!HAVE_SPIN).each(cases.map((c) => [`${c.pkg.protocol.name} ${c.variant} ${JSON.stringify(c.params)}`, c] as const))(
    `%s (${NEEDS})`,
    (_, { pkg, variant, params }) => {
      const model = buildModel(pkg.protocol, { variant, params });
      const { ours, peer, inits } = check({ model, properties: pkg.properties.build(model) });
      expectAgreement(ours, peer, inits);
    },
  );
});

// Every variant of odp-mr and dax-revoke is cross-checked by the registry-wide test above.
describe('SPIN stores our states plus its initial one on odp-mr at two sizes', () => {
  it.skipIf(!HAVE_SPIN).each([
    [{ pages: 1, chunkPages: 1 }, 20752],
    [{ kind: 'explicit' }, 11813],
  ] as const)(`%j: %i states (${NEEDS})`, (params, states) => {
    const { ours, peer, inits } = check(mr(null, params));
    expect(ours.status).toBe('ok');
    expect(ours.stats.states).toBe(states);
    expectAgreement(ours, peer, inits);
  });
});

describe('SPIN stores our states plus its initial one on dax-revoke at two sizes', () => {
  it.skipIf(!HAVE_SPIN).each([
    [{ pages: 1, blocks: 2 }, 870],
    [{ memory: 'p2p', pages: 3, gups: 2 }, 29010],
  ] as const)(`%j: %i states (${NEEDS})`, (params, states) => {
    const { ours, peer, inits } = check(dax(null, params));
    expect(ours.status).toBe('ok');
    expect(ours.stats.states).toBe(states);
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

// --- the protocols of issue 13: a second size (the default and every variant are checked above) ---

// A second size of each (the default and every variant at its default size are checked above).
const ISSUE13 = [
  {
    def: hmmMigrate,
    properties: hmmMigrateProperties,
    sizes: [{ cpus: 2 }] as Record<string, string | number>[],
  },
  {
    def: deviceExclusive,
    properties: deviceExclusiveProperties,
    sizes: [{ pages: 2, frames: 3, cpus: 3 }] as Record<string, string | number>[],
  },
];

describe('SPIN agrees with our golden counts on the issue-13 protocols at a second size', () => {
  for (const { def, properties, sizes } of ISSUE13) {
    const build = (variant: string | null, params: Record<string, string | number>) => {
      const model = buildModel(def as ProtocolDef<unknown>, { variant, params });
      return { model, properties: properties.build(model as never) as readonly Property[] };
    };
    it.skipIf(!HAVE_SPIN).each(sizes)(`${def.name} %j: our states plus one, the same duplicates (${NEEDS})`, (params) => {
      const { ours, peer, inits } = check(build(null, params));
      expect(ours.status).toBe('ok');
      expectAgreement(ours, peer, inits);
    });
  }
});
