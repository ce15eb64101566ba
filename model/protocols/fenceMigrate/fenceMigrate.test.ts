import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { itfToTrace, parseItf } from '../../../counterexamples/itf.js';
import { replayTrace } from '../../../counterexamples/replay.js';
import { fenceMigrateProperties } from './fenceMigrateProperties.js';
import { bruteForce } from '../../../test/bruteForce.js';
import { withRule, withoutWrites } from '../../../test/ruleMutation.js';
import { type Model, buildModel } from '../../lang/protocol.js';
import { type FenceMigrateHandles, fenceMigrate } from './fenceMigrate.js';

const check = (variant: string | null, params: Record<string, string | number> = {}, strategy: 'bfs' | 'dfs' = 'bfs') => {
  const model = buildModel(fenceMigrate, { variant, params });
  const properties = fenceMigrateProperties.build(model);
  return { model, properties, result: explicitCheck({ model, properties, limits: {}, strategy }) };
};

// The large size: three pages, one of them able to migrate into a frame another page left.
const LARGE = { pages: 3, frames: 4, slots: 1, migrations: 2, writes: 2 };

describe('fence-migrate golden reachable-state counts (computed once, pinned)', () => {
  it.each([
    ['fence', {}, 81697, 287414],
    ['fence', LARGE, 667143, 2623827],
    ['zap-and-fault', {}, 44043, 144766],
    ['zap-and-fault', LARGE, 364326, 1300134],
  ])('mode %s %j: %i states, every property holds', (mode, params, states, transitions) => {
    const { result } = check(null, { ...params, mode });
    expect(result.status).toBe('ok');
    expect(result.stats.states).toBe(states);
    expect(result.stats.transitions).toBe(transitions);
    if (result.status === 'ok') expect(result.covers.every((c) => c.reached)).toBe(true);
  });

  it('the hmm.rst order (update and unblock the HCA before the remap) is also correct: no false alarm', () => {
    for (const params of [{}, LARGE]) {
      const { result } = check(null, { ...params, order: 'device-first' });
      expect(result.status).toBe('ok');
      expect(check('fence-without-drain', { ...params, order: 'device-first' }).result.status).toBe('violated');
    }
  });

  it('DFS visits exactly the same states as BFS', () => {
    expect(check(null, {}, 'dfs').result.stats.states).toBe(81697);
  });
});

const FENCE_VARIANTS: [string, string, number][] = [
  ['unblock-before-update', 'mirror-coherent', 8],
  ['fence-without-drain', 'fence-complete', 6],
  ['unblock-before-copy', 'mirror-coherent', 6],
  ['free-before-fence', 'no-translation-to-freed-frame', 2],
  ['no-invalidate', 'mirror-coherent', 3],
  ['update-without-retry', 'mirror-coherent', 13],
  ['update-after-failure', 'mirror-coherent', 9],
];
const ZAP_VARIANTS: [string, string, number][] = [
  ['fence-without-drain', 'fence-complete', 6],
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

  it('variants are also caught at the large size, and by DFS', () => {
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
  it.each([[{ slots: 2 }, 385467, 221712]])(
    '%j: %i states, %i canonical states, same verdicts and shortest lengths, traces replay',
    (params, full, reduced) => {
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
    },
  );
});

describe('counterexample corpus', () => {
  const dir = join(import.meta.dirname, 'corpus');
  const files = readdirSync(dir).filter((f) => f.endsWith('.itf.json'));
  it('has one trace per variant and mode', () => {
    expect(files.length).toBe(FENCE_VARIANTS.length + ZAP_VARIANTS.length);
    expect(files.filter((f) => f.startsWith('update-')).length).toBe(2);
  });
  it.each(files)('%s replays and still violates its property', (f) => {
    const { header, doc } = parseItf(readFileSync(join(dir, f), 'utf8'));
    const model = buildModel(fenceMigrate, { variant: header.variant, params: header.params });
    const rep = replayTrace(model, fenceMigrateProperties.build(model), itfToTrace(header, doc, model));
    expect(rep.mismatch).toBeNull();
    expect(rep.violation?.property).toBe(header.property);
  });
});

describe("FM-R2 and FM-R4 are the kernel's guarantees, not the variants' step lists", () => {
  const only = (model: Model<FenceMigrateHandles>, names: string[]) => {
    const properties = fenceMigrateProperties.build(model).filter((p) => names.includes(p.name));
    expect(properties.map((p) => p.name).sort()).toEqual([...names].sort());
    return explicitCheck({ model, properties, limits: {} });
  };
  const fenceModel = () => buildModel(fenceMigrate, { variant: null, params: {} });

  it('no safety property reads where a migration stands in its step list', () => {
    const model = fenceModel();
    for (const p of fenceMigrateProperties.build(model)) {
      if (p.kind !== 'invariant' && p.kind !== 'step') continue;
      expect(JSON.stringify(p), p.name).not.toMatch(/"kind":"field","name":"step"/);
    }
  });

  it('no-invalidate has no fence and no drain step at all, and FM-R2 alone still catches it', () => {
    const model = buildModel(fenceMigrate, { variant: 'no-invalidate', params: {} });
    expect(model.handles.steps).not.toContain('drain');
    const r = only(model, ['fence-complete']);
    expect(r.status).toBe('violated');
    if (r.status === 'violated') expect(r.violations[0]!.property).toBe('fence-complete');
  });

  it('a fence step that blocks nothing, or a drain that waits for nothing, is caught by FM-R2 alone', () => {
    const noBlock = withoutWrites(fenceModel(), 'DriverFenceDma', 'blocked');
    expect(only(noBlock, ['fence-complete']).status).toBe('violated');
    const noWait = withRule(fenceModel(), 'DriverFenceWait', (r) => ({ guard: (r.guard as { args?: unknown[] }).args?.[0] as never }));
    expect(only(noWait, ['fence-complete']).status).toBe('violated');
  });

  it('a copy step that copies nothing is caught by FM-R4 alone, in both modes', () => {
    for (const mode of ['fence', 'zap-and-fault']) {
      const model = withoutWrites(buildModel(fenceMigrate, { params: { mode } }), 'MmCopyPage', 'data');
      const r = only(model, ['no-lost-write']);
      expect(r.status).toBe('violated');
    }
  });

  it('the legal alternatives are not flagged: the hmm.rst order, a failed migration rolled back, a zap during a migration', () => {
    const alternatives: Record<string, string | number>[] = [
      { order: 'device-first' },
      { failures: 2 },
      { discards: 2 },
      { mode: 'zap-and-fault', discards: 2, failures: 2 },
    ];
    for (const params of alternatives) {
      const { result } = check(null, params);
      expect(result.status, JSON.stringify(params)).toBe('ok');
      if (result.status === 'ok') expect(result.covers.every((c) => c.reached)).toBe(true);
    }
  });
});
