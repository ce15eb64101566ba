import { describe, expect, it } from 'vitest';
import { explicitCheck } from '../checker/explicit/explicit.js';
import type { CheckResult } from '../checker/engine.js';
import { McError } from '../model/lang/errors.js';
import { defineProtocol } from '../model/lang/protocol.js';
import { buildModel } from '../model/lang/protocol.js';
import { registry } from '../cli/registry.js';
import { assign } from '../model/lang/stmt.js';
import { option, range } from '../model/lang/types.js';
import { fenceMigrate } from '../model/protocols/fenceMigrate/fenceMigrate.js';
import { fenceMigrateProperties } from '../properties/fenceMigrate.js';
import type { Property } from '../properties/property.js';
import { exportFixture, exportFixtureProperties, variantCases } from '../test/fixtures/exportFixture.js';
import { rumurFlags, toMurphi } from './murphi.js';
import { peerAvailable } from '../test/peers.js';
import { type PeerRun, runRumur } from './runPeers.js';

const fm = (variant: string | null, params: Record<string, string | number> = {}) => {
  const model = buildModel(fenceMigrate, { variant, params });
  return { model, properties: fenceMigrateProperties.build(model) as readonly Property[] };
};
const fixture = (variant: string | null) => {
  const model = buildModel(exportFixture, { variant });
  return { model, properties: exportFixtureProperties(model) as readonly Property[] };
};

describe('toMurphi prints the model from its data', () => {
  const { model, properties } = fm(null);
  const text = toMurphi(model, properties);

  it('declares index types as subranges and one ruleset per parameterised rule', () => {
    expect(text).toMatch(/^\s+Page: 0\.\.1;/m);
    expect(text).toMatch(/^\s+Frame: 0\.\.2;/m);
    expect(text).toContain('ruleset p: Page; f: Frame do');
    for (const r of model.rules) expect(text).toContain(`rule "${r.name}"`);
    expect(text.match(/^\s*rule "/gm)?.length).toBe(model.rules.length);
  });

  it('prints every invariant and cover by name, and the step property inside its rule only', () => {
    for (const p of properties) {
      if (p.kind === 'invariant') expect(text).toContain(`invariant "${p.name}"`);
      if (p.kind === 'cover') expect(text).toContain(`cover "${p.name}"`);
      if (p.kind === 'liveness') expect(text).toContain(`liveness "${p.name}" (${p.requirement}) is not exported`);
    }
    const complete = text.slice(text.indexOf('rule "HcaCompleteDma"'), text.indexOf('rule "CpuWrite"'));
    expect(complete).toContain('assert "no-stale-dma-read"');
    expect(complete).toMatch(/pre_dma := dma;/);
    expect(text.match(/assert "no-stale-dma-read"/g)?.length).toBe(1);
  });

  it('renames identifiers that are Murphi keywords', () => {
    expect(text).toContain('mig[p].to_ := f;');
    expect(text).not.toMatch(/\.to\b/);
  });

  it('encodes options of enums and bools as canonical records, and counts by unrolling', () => {
    const fx = fixture(null);
    const t = toMurphi(fx.model, fx.properties);
    expect(t).toMatch(/OptionOfSt: record isSome: boolean; val: St; end;/);
    expect(t).toMatch(/function makeOptionOfSt\(s: boolean; v: St\): OptionOfSt;/);
    expect(t).toContain('invariant "deadlock"');
    expect(rumurFlags(fx.model)).toEqual(['--deadlock-detection', 'off']);
    expect(rumurFlags(fm(null).model)).toEqual(['--deadlock-detection', 'stuck']);
    expect(t.match(/startstate "/g)?.length).toBe(2);
  });

  it('prints symmetric index types as scalarsets only when asked', () => {
    expect(text).toMatch(/^\s+Slot: 0\.\.0; -- symmetric/m);
    const sym = toMurphi(model, properties, { symmetry: true });
    expect(sym).toMatch(/^\s+Slot: scalarset\(1\);/m);
    expect(sym).toMatch(/^\s+Page: 0\.\.1;/m);
    expect(rumurFlags(model, { symmetry: true })).toContain('exhaustive');
    // The fixture's holder is an option of the symmetric Proc: none has no scalarset value.
    const fx = fixture(null);
    expect(() => toMurphi(fx.model, fx.properties, { symmetry: true })).toThrow(/option\(Proc\) with symmetry/);
  });

  it('refuses an option of a range that does not start at 0 (MC010)', () => {
    const odd = defineProtocol({
      name: 'odd', summary: 'option of 2..4', spec: '', params: {}, variants: [],
      build(b) {
        const x = b.v('x', option(range(2, 4)));
        b.init('i', () => [assign(x, 3)]);
        return {};
      },
    });
    expect(() => toMurphi(buildModel(odd), [])).toThrow(McError);
  });
});

// --- the acid test: Rumur on the exported model agrees with the explicit engine ----------------

const HAVE_RUMUR = peerAvailable('rumur', 'cc');
const NEEDS = 'needs rumur and cc (apt-get install -y rumur)';

/** Rumur must reach the same verdict, and for a clean run the same states and transitions. */
function expectAgreement(ours: CheckResult, peer: PeerRun): void {
  if (ours.status === 'ok') {
    expect(peer.status, peer.output).toBe('ok');
    expect(peer.states).toBe(ours.stats.states);
    expect(peer.transitions).toBe(ours.stats.transitions);
  } else if (ours.status === 'violated') {
    const v = ours.violations[0]!;
    expect(peer.status, peer.output).toBe('violated');
    expect(peer.violation?.kind).toBe(v.kind);
    expect(peer.violation?.property).toBe(v.property);
    // One thread: Rumur searches breadth-first, so its trace is a shortest one too.
    expect(peer.steps).toBe(v.trace!.steps.length - 1);
  } else if (ours.status === 'error') {
    expect(peer.violation?.kind, peer.output).toBe('model-error');
    expect(peer.violation?.message).toMatch(/unwrap of none|out-of-range/);
  } else throw new Error(`unexpected ${ours.status}`);
}

// Small models: compile without optimisation (the search is instant, gcc -O3 takes seconds).
const check = (x: { model: ReturnType<typeof buildModel>; properties: readonly Property[] }, cflags = ['-O0']) => {
  const ours = explicitCheck({ model: x.model, properties: x.properties, limits: {} });
  const peer = runRumur(toMurphi(x.model, x.properties), { threads: 1, flags: rumurFlags(x.model), cflags });
  return { ours, peer };
};

const MEDIUM = { pages: 3, frames: 4, slots: 1, migrations: 2, writes: 2 };

describe('Rumur reaches exactly our states on fence-migrate', () => {
  it.skipIf(!HAVE_RUMUR).each([
    ['fence', {}], ['fence', MEDIUM], ['zap-and-fault', {}], ['zap-and-fault', MEDIUM],
  ] as const)(`mode %s %j (${NEEDS})`, (mode, params) => {
    const { ours, peer } = check(fm(null, { ...params, mode }));
    expect(ours.status).toBe('ok');
    expect(ours.stats.states).toBeGreaterThan(3000);
    expectAgreement(ours, peer);
    expect(peer.output).not.toMatch(/not hit/);
  });
});

describe('with symmetry reduction, Rumur (exhaustive) stores exactly our canonical states', () => {
  it.skipIf(!HAVE_RUMUR).each([
    ['fence', 3], ['zap-and-fault', 2],
  ] as const)(`mode %s, %i symmetric DMA slots (${NEEDS})`, (mode, slots) => {
    const { model, properties } = fm(null, { mode, slots });
    const ours = explicitCheck({ model, properties, limits: {}, symmetry: true });
    const plain = explicitCheck({ model, properties, limits: {} });
    expect(ours.stats.states).toBeLessThan(plain.stats.states);
    const peer = runRumur(toMurphi(model, properties, { symmetry: true }), { threads: 1, flags: rumurFlags(model, { symmetry: true }), cflags: ['-O0'] });
    expectAgreement(ours, peer);
  });
});

describe('Rumur reports every bug variant as the same violation, with as many steps', () => {
  const cases = variantCases(fenceMigrate);
  it('has a case for every variant', () => {
    expect(new Set(cases.map((c) => c.variant))).toEqual(new Set(fenceMigrate.variants.map((v) => v.name)));
  });
  it.skipIf(!HAVE_RUMUR).each(cases.map((c) => [`${c.variant} ${JSON.stringify(c.params)}`, c] as const))(`%s (${NEEDS})`, (_, { variant, params }) => {
    const { ours, peer } = check(fm(variant, params));
    expectAgreement(ours, peer);
  });
});

describe('Rumur agrees on the fixture that uses every language construct', () => {
  it.skipIf(!HAVE_RUMUR).each([null, ...exportFixture.variants.map((v) => v.name)])(`variant %s (${NEEDS})`, (variant) => {
    const { ours, peer } = check(fixture(variant));
    expect(ours.status).toBe(variant === null ? 'ok' : variant === 'unwrap-none' ? 'error' : 'violated');
    expectAgreement(ours, peer);
  });
});

describe('Rumur agrees on every built-in protocol at its default parameters', () => {
  it.skipIf(!HAVE_RUMUR).each(registry.map((e) => [e.protocol.name, e] as const))(`%s (${NEEDS})`, (_, e) => {
    const model = buildModel(e.protocol);
    const { ours, peer } = check({ model, properties: e.properties.build(model) });
    expectAgreement(ours, peer);
  });
});
