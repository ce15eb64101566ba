import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { itfToTrace, parseItf } from '../../../counterexamples/itf.js';
import { replayTrace } from '../../../counterexamples/replay.js';
import { fenceMigrateProperties } from './fenceMigrateProperties.js';
import { bruteForce } from '../../../test/bruteForce.js';
import { buildModel } from '../../lang/protocol.js';
import { fenceMigrate } from './fenceMigrate.js';

const check = (variant: string | null, params: Record<string, string | number> = {}, strategy: 'bfs' | 'dfs' = 'bfs') => {
  const model = buildModel(fenceMigrate, { variant, params });
  const properties = fenceMigrateProperties.build(model);
  return { model, properties, result: explicitCheck({ model, properties, limits: {}, strategy }) };
};

const MEDIUM = { pages: 3, frames: 4, slots: 1, migrations: 2, writes: 2 };
const LARGE = { pages: 3, frames: 4, slots: 2, migrations: 2, writes: 3 };

describe('fence-migrate golden reachable-state counts (computed once, pinned)', () => {
  it.each([
    ['fence', {}, 3214, 8194],
    ['fence', MEDIUM, 13589, 38100],
    ['fence', LARGE, 429809, 1717980],
    ['zap-and-fault', {}, 3888, 9816],
    ['zap-and-fault', MEDIUM, 18596, 51573],
    ['zap-and-fault', LARGE, 544205, 2152968],
  ])('mode %s %j: %i states, every property holds', (mode, params, states, transitions) => {
    const { result } = check(null, { ...params, mode });
    expect(result.status).toBe('ok');
    expect(result.stats.states).toBe(states);
    expect(result.stats.transitions).toBe(transitions);
    if (result.status === 'ok') expect(result.covers.every((c) => c.reached)).toBe(true);
  });

  it('the hmm.rst order (update and unblock the HCA before the remap) is also correct: no false alarm', () => {
    for (const params of [{}, MEDIUM, LARGE]) {
      const { result } = check(null, { ...params, order: 'device-first' });
      expect(result.status).toBe('ok');
      expect(check('fence-without-drain', { ...params, order: 'device-first' }).result.status).toBe('violated');
    }
  });

  it('DFS visits exactly the same states as BFS', () => {
    expect(check(null, MEDIUM, 'dfs').result.stats.states).toBe(13589);
  });
});

const FENCE_VARIANTS: [string, string, number][] = [
  ['unblock-before-update', 'fence-complete', 7],
  ['fence-without-drain', 'fence-complete', 4],
  ['unblock-before-copy', 'no-lost-write', 7],
  ['free-before-fence', 'no-translation-to-freed-frame', 2],
  ['no-invalidate', 'mirror-coherent', 3],
];
const ZAP_VARIANTS: [string, string, number][] = [
  ['fence-without-drain', 'fence-complete', 4],
  ['free-before-fence', 'no-translation-to-freed-frame', 2],
  ['no-invalidate', 'mirror-coherent', 3],
];

describe('every bug variant is caught with a shortest counterexample that replays', () => {
  for (const [mode, table] of [
    ['fence', FENCE_VARIANTS],
    ['zap-and-fault', ZAP_VARIANTS],
  ] as const) {
    it.each(table)(`mode ${mode}: %s violates %s in %i steps`, (variant, property, length) => {
      const { model, properties, result } = check(variant, { mode });
      expect(result.status).toBe('violated');
      if (result.status !== 'violated') return;
      const v = result.violations[0]!;
      expect(v.property).toBe(property);
      expect(v.trace!.steps.length - 1).toBe(length);
      // The brute-force search over the interpreter agrees that no shorter violation exists.
      expect(bruteForce(model, properties).shortest).toBe(length);
      const rep = replayTrace(model, properties, v.trace!);
      expect(rep.mismatch).toBeNull();
      expect(rep.violation?.property).toBe(property);
      expect(rep.violation?.step).toBe(length);
    });
  }

  it('the brute-force search and the engine agree on the correct protocol too', () => {
    const { model, properties, result } = check(null);
    const bf = bruteForce(model, properties);
    expect(bf.shortest).toBeNull();
    expect(bf.states).toBe(result.stats.states);
  });

  it('variants are also caught at the larger size, and by DFS', () => {
    for (const [variant] of FENCE_VARIANTS) {
      expect(check(variant, LARGE).result.status).toBe('violated');
      expect(check(variant, {}, 'dfs').result.status).toBe('violated');
    }
  });

  it('fence-only variants are refused in zap-and-fault mode (MC005)', () => {
    expect(() => buildModel(fenceMigrate, { variant: 'unblock-before-update', params: { mode: 'zap-and-fault' } })).toThrow(/does not apply/);
  });
});

describe('variants cause concrete damage, not only broken ordering', () => {
  // With the two ordering properties (FM-R1, FM-R2) removed, each variant must still break a data
  // property: a lost write, a stale read, or DMA to a freed frame.
  const dataOnly = (variant: string, mode: string) => {
    const model = buildModel(fenceMigrate, { variant, params: { mode } });
    const properties = fenceMigrateProperties.build(model).filter((p) => !['fence-complete', 'mirror-coherent'].includes(p.name));
    return explicitCheck({ model, properties, limits: {} });
  };
  it.each([...FENCE_VARIANTS.map(([v]) => [v, 'fence']), ...ZAP_VARIANTS.map(([v]) => [v, 'zap-and-fault'])])('%s (%s)', (variant, mode) => {
    const r = dataOnly(variant, mode);
    expect(r.status).toBe('violated');
    if (r.status === 'violated')
      expect(['no-lost-write', 'no-stale-dma-read', 'no-dma-to-freed-frame', 'no-translation-to-freed-frame']).toContain(r.violations[0]!.property);
  });
});

describe('symmetry reduction over DMA slots', () => {
  it.each([
    [{ slots: 2 }, 16990, 9676],
    [LARGE, 429809, 232307],
  ])('%j: %i states, %i canonical states, same verdicts and shortest lengths, traces replay', (params, full, reduced) => {
    const model = buildModel(fenceMigrate, { params });
    const properties = fenceMigrateProperties.build(model);
    expect(explicitCheck({ model, properties, limits: {} }).stats.states).toBe(full);
    const r = explicitCheck({ model, properties, limits: {}, symmetry: true });
    expect(r.status).toBe('ok');
    expect(r.stats.states).toBe(reduced);
    for (const [variant, property, length] of FENCE_VARIANTS) {
      const m = buildModel(fenceMigrate, { variant, params });
      const ps = fenceMigrateProperties.build(m);
      const v = explicitCheck({ model: m, properties: ps, limits: {}, symmetry: true });
      expect(v.status).toBe('violated');
      if (v.status !== 'violated') continue;
      expect(v.violations[0]!.property).toBe(property);
      expect(v.violations[0]!.trace!.steps.length - 1).toBe(length);
      const rep = replayTrace(m, ps, v.violations[0]!.trace!);
      expect(rep.mismatch).toBeNull();
      expect(rep.violation?.property).toBe(property);
    }
  });
});

describe('counterexample corpus', () => {
  const dir = join(import.meta.dirname, 'corpus');
  const files = readdirSync(dir).filter((f) => f.endsWith('.itf.json'));
  it('has one trace per variant and mode', () => {
    expect(files.length).toBe(FENCE_VARIANTS.length + ZAP_VARIANTS.length);
  });
  it.each(files)('%s replays and still violates its property', (f) => {
    const { header, doc } = parseItf(readFileSync(join(dir, f), 'utf8'));
    const model = buildModel(fenceMigrate, { variant: header.variant, params: header.params });
    const rep = replayTrace(model, fenceMigrateProperties.build(model), itfToTrace(header, doc, model));
    expect(rep.mismatch).toBeNull();
    expect(rep.violation?.property).toBe(header.property);
  });
});
