/**
 * Saving a counterexample (traceFiles.ts): a new name when one exists, never an overwrite, and a
 * write cut short by a full disk leaves no file behind (a partial trace would not replay), only
 * MC031 naming the trace and the folder. The full disk is made by the file system's write of the
 * trace failing after half of it (node:fs wrapped; every other call is the real one).
 */
import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { explicitCheck } from '../checker/explicit/explicit.js';
import type { McError } from '../model/lang/errors.js';
import { buildModel } from '../model/lang/protocol.js';
import fenceMigrate from '../model/protocols/fenceMigrate/index.js';
import { saveTrace } from './traceFiles.js';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, writeFileSync: vi.fn(real.writeFileSync) };
});

const root = mkdtempSync(join(tmpdir(), 'mc-trace-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const model = buildModel(fenceMigrate.protocol, { params: {}, variant: 'unblock-before-update' });
const r = explicitCheck({ model, properties: fenceMigrate.properties.build(model).filter((p) => p.kind !== 'liveness'), limits: {} });
const trace = r.status === 'violated' ? (r.violations[0]?.trace ?? null) : null;

describe('saveTrace', () => {
  it('saves a trace under its name, and a second one beside it with a suffix (never overwriting)', () => {
    expect(trace).not.toBeNull();
    const dir = join(root, 'twice');
    const a = saveTrace(dir, model, trace as NonNullable<typeof trace>);
    const b = saveTrace(dir, model, trace as NonNullable<typeof trace>);
    expect([a.endsWith('.explicit.itf.json'), b.endsWith('.explicit.1.itf.json'), readFileSync(a, 'utf8') === readFileSync(b, 'utf8')]).toEqual([
      true,
      true,
      true,
    ]);
  });

  it('a write cut short by a full disk: MC031 naming the trace and the folder, and no partial file left', () => {
    const dir = join(root, 'full');
    fs.mkdirSync(dir);
    const real = vi.mocked(fs.writeFileSync).getMockImplementation() as typeof fs.writeFileSync;
    vi.mocked(fs.writeFileSync).mockImplementationOnce((file, data) => {
      // Half the text reaches the disk, then it is full.
      real(file, String(data).slice(0, String(data).length >> 1));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    let e: unknown = null;
    try {
      saveTrace(dir, model, trace as NonNullable<typeof trace>);
    } catch (x) {
      e = x;
    }
    expect([(e as McError).code, (e as Error).message, readdirSync(dir)]).toEqual([
      'MC031',
      `could not save the trace fence-migrate.unblock-before-update.${trace?.property}.explicit in '${dir}': ENOSPC`,
      [],
    ]);
  });
});
