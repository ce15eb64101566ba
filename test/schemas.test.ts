/**
 * Every JSON output has a schema, shipped in schemas/ and validated here with Ajv (JSON Schema
 * 2020-12): `check --format json` (JSON Lines) and `--format json-array`, `prove --format json`,
 * and the ITF traces mirrorcheck writes. The outputs come from the built CLI over each engine and
 * each status, and every trace those runs save is validated too.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { registry } from '../cli/registry.js';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'dist/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args, '--progress', 'false'], { cwd: root, encoding: 'utf8' });
const runProve = (...args: string[]) => spawnSync(process.execPath, [bin, 'prove', ...args], { cwd: root, encoding: 'utf8' });
const schema = (name: string) => JSON.parse(readFileSync(join(root, 'schemas', `${name}.schema.json`), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
const validators = { check: ajv.compile(schema('check')), prove: ajv.compile(schema('prove')), trace: ajv.compile(schema('trace')) };

/** Validation errors of `doc` against a schema, as text ('' when valid). */
function problems(kind: keyof typeof validators, doc: unknown): string {
  const v = validators[kind];
  return v(doc) ? '' : ajv.errorsText(v.errors, { dataVar: kind });
}
const lines = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

/** Fields of an explicit-engine record (and of its liveness phase) that the check schema does not name. */
function undescribed(rec: Record<string, unknown>): string[] {
  const s = schema('check');
  const top = new Set([...Object.keys(s.properties), ...Object.keys(s.$defs.search.properties), 'liveness']);
  const search = new Set(Object.keys(s.$defs.search.properties));
  const live = (rec.liveness ?? {}) as Record<string, unknown>;
  return [
    ...Object.keys(rec).filter((k) => !top.has(k)),
    ...Object.keys(live)
      .filter((k) => !search.has(k))
      .map((k) => `liveness.${k}`),
  ];
}

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mc-schemas-'));
});

/** Every trace saved in `dir` validates against the trace schema. */
function tracesValid(dir: string): number {
  const files = readdirSync(dir).filter((f) => f.endsWith('.itf.json'));
  for (const f of files) expect(problems('trace', JSON.parse(readFileSync(join(dir, f), 'utf8'))), f).toBe('');
  return files.length;
}

describe('JSON outputs match their shipped schemas', () => {
  it('package.json ships the schemas folder, and every schema compiles', () => {
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).files).toContain('schemas');
    expect(readdirSync(join(root, 'schemas')).sort()).toEqual([
      'check.schema.json',
      'mirrorcheck.config.schema.json',
      'prove.schema.json',
      'trace.schema.json',
    ]);
  });

  it.each([
    ['explicit, ok', ['fence-migrate'], 'ok'],
    ['explicit, violated (safety and liveness phases)', ['fence-migrate', '--variant', 'never-unblock'], 'violated'],
    ['explicit, incomplete', ['fence-migrate', '--max-states', '50'], 'incomplete'],
    ['explicit, hash compaction on two threads', ['odp-mirror', '--store', 'hash-compaction', '--workers', '2'], 'ok'],
    ['explicit, bitstate', ['odp-mirror', '--store', 'bitstate', '--memory', '1MiB', '--property', 'invalidation-complete'], 'ok'],
    ['explicit, collapsed exact store', ['fence-migrate', '--collapse', '--variant', 'free-before-fence'], 'violated'],
    ['explicit, partial-order reduction', ['odp-mirror', '--por', '--variant', 'valid-flag'], 'violated'],
    ['explicit, one shard', ['odp-mirror', '--shard', '1/2'], 'ok'],
    ['random, ok', ['fence-migrate', '--engine', 'random', '--runs', '200'], 'ok'],
    ['random, violated', ['fence-migrate', '--engine', 'random', '--variant', 'no-invalidate', '--runs', '500'], 'violated'],
    ['smt, ok', ['fence-migrate', '--engine', 'smt', '--depth', '3'], 'ok'],
    ['smt, violated', ['fence-migrate', '--engine', 'smt', '--variant', 'no-invalidate', '--depth', '5'], 'violated'],
  ] as const)('check --format json, %s: every line validates, and so does every trace it saved', (name, args, status) => {
    const out = join(tmp, name.replace(/\W+/g, '-'));
    const r = run('check', ...args, '--format', 'json', '--out', out);
    const recs = lines(r.stdout);
    expect(recs).toHaveLength(1);
    expect(recs[0].status).toBe(status);
    expect(recs[0].schemaVersion).toBe(1);
    expect(problems('check', recs[0])).toBe('');
    if (recs[0].engine === 'explicit') expect(undescribed(recs[0])).toEqual([]);
    expect(recs[0].collapse).toBe((args as readonly string[]).includes('--collapse') ? true : undefined);
    if (status === 'violated') expect(tracesValid(out)).toBeGreaterThan(0);
  });

  it('check --format json over several protocols is JSON Lines; --format json-array is one array of the same records', () => {
    // A state limit keeps the run short; incomplete records are records like any other.
    const r = run('check', '--max-states', '200', '--format', 'json', '--out', join(tmp, 'all'));
    expect(r.status).toBe(3);
    const recs = lines(r.stdout);
    expect(recs.map((x) => x.protocol)).toEqual(registry.map((p) => p.protocol.name));
    for (const x of recs) expect(problems('check', x)).toBe('');
    const a = run('check', '--max-states', '200', '--format', 'json-array', '--out', join(tmp, 'all'));
    expect(a.status).toBe(3);
    const arr = JSON.parse(a.stdout);
    expect(Array.isArray(arr)).toBe(true);
    expect(arr.map((x: { protocol: string; states: number }) => [x.protocol, x.states])).toEqual(recs.map((x) => [x.protocol, x.states]));
  });

  it('a trace of a later schema version is refused (MC022), not misread', () => {
    const doc = JSON.parse(readFileSync(join(root, 'model/protocols/fenceMigrate/corpus/no-invalidate.itf.json'), 'utf8'));
    doc['#meta'].schemaVersion = 2;
    const f = join(tmp, 'later.itf.json');
    writeFileSync(f, JSON.stringify(doc));
    const r = spawnSync(process.execPath, [bin, 'replay', f], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^mirrorcheck: error MC022: not a mirrorcheck ITF trace: the trace is of schema version 2, written by a later mirrorcheck; this one reads version 1/,
    );
  });

  it('prove --format json: proved, a real violation and a counterexample to induction validate, and the saved traces too', () => {
    const out = join(tmp, 'prove');
    const proved = lines(runProve('fence-migrate', '--format', 'json', '--out', out).stdout);
    const violated = lines(runProve('fence-migrate', '--variant', 'unblock-before-copy', '--format', 'json', '--out', out).stdout);
    const cti = lines(runProve('odp-mirror', '--variant', 'zap-without-drain', '--max-k', '2', '--format', 'json', '--out', out).stdout);
    expect([proved[0].status, violated[0].status, cti[0].status]).toEqual(['proved', 'violated', 'cti']);
    for (const x of [...proved, ...violated, ...cti]) expect(problems('prove', x), x.status).toBe('');
    expect(tracesValid(out)).toBe(2);
  });

  it('prove --infer --format json: the inferred invariant and the hints module validate; a record without its invariant does not', () => {
    const out = join(tmp, 'infer');
    const hints = join(tmp, 'inferred-hints.ts');
    const rec = lines(runProve('fence-migrate', '--infer', '--save-hints', hints, '--format', 'json', '--out', out).stdout)[0];
    expect(rec).toMatchObject({ method: 'inferred-invariant', status: 'proved', hints });
    expect(rec.invariant.length).toBeGreaterThan(0);
    expect(problems('prove', rec)).toBe('');
    const { invariant: _, ...noInvariant } = rec;
    expect(problems('prove', noInvariant)).toMatch(/invariant/);
  });

  it('prove --unbounded --format json-array over every protocol: a proof and an error record, one array, both valid', () => {
    const r = runProve('--unbounded', '--format', 'json-array', '--out', join(tmp, 'pu'));
    expect(r.status).toBe(2);
    const arr = JSON.parse(r.stdout) as { protocol: string; status: string; error?: { code: string } }[];
    // Proved for every size where the unbounded translation can express the model; an MC010 error
    // record (not a silent skip) for each protocol it cannot express.
    expect(arr.map((x) => x.protocol)).toEqual(registry.map((p) => p.protocol.name));
    expect(arr[0]).toMatchObject({ protocol: 'fence-migrate', status: 'proved' });
    expect(arr.some((x) => x.status === 'error')).toBe(true);
    for (const x of arr) if (x.status !== 'proved') expect([x.status, x.error?.code]).toEqual(['error', 'MC010']);
    for (const x of arr) expect(problems('prove', x)).toBe('');
  });

  it('the schemas reject what they should: a record without schemaVersion, an unknown status, a random run whose seed is a string', () => {
    const rec = lines(run('check', 'fence-migrate', '--engine', 'random', '--runs', '50', '--format', 'json', '--out', join(tmp, 'neg')).stdout)[0];
    expect(problems('check', rec)).toBe('');
    const { schemaVersion: _, ...noVersion } = rec;
    expect(problems('check', noVersion)).toMatch(/schemaVersion/);
    expect(problems('check', { ...rec, status: 'maybe' })).toMatch(/status/);
    expect(problems('check', { ...rec, seed: String(rec.seed) })).toMatch(/seed/);
  });
});
