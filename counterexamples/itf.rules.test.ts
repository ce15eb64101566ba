/**
 * The ITF rules itf.malformed.test.ts does not break: values of the wrong JSON kind where the reader
 * expects an object (a string, a number, null), the schema version, the model-file record, record
 * fields the type lacks, integers with several digits, and the decoder called on documents that
 * did not go through `parseItf`. And the writer, field by field: what it writes for None, which
 * optional fields it leaves out (not written as undefined), and the model file's path relative to
 * the trace's folder.
 */
import { describe, expect, it } from 'vitest';
import { McError } from '../model/lang/errors.js';
import { TRACE_SCHEMA_VERSION, itfToTrace, parseItf, traceToItf } from './itf.js';
import type { Trace } from './trace.js';
import { type Doc, itfShapes } from '../test/fixtures/itfShapes.js';

const { model, trace, good, read, broken } = itfShapes({ spec: 'counterexamples/itf.rules.test.ts', levelMax: 12, level: 11, params: { pages: 2 } });
const SHA = 'ab'.repeat(32);

describe('values of the wrong JSON kind are named as such, not misread', () => {
  const cases: [string, string | ((d: Doc) => void), string][] = [
    ['top level a string', '"trace"', 'MC022 not a mirrorcheck ITF trace: top level is not an object'],
    ['top level a number', '5', 'MC022 not a mirrorcheck ITF trace: top level is not an object'],
    ['a state that is a number', (d) => (d.states[1] = 5), 'MC022 not a mirrorcheck ITF trace: state 1 is not an object'],
    ['a state that is a string', (d) => (d.states[1] = 'ab'), 'MC022 not a mirrorcheck ITF trace: state 1 is not an object'],
    ['a state that is null', (d) => (d.states[1] = null), 'MC022 not a mirrorcheck ITF trace: state 1 is not an object'],
    ['#meta a string', (d) => (d['#meta'] = 'meta'), 'MC022 not a mirrorcheck ITF trace: missing "#meta"'],
    ['#meta null', (d) => (d['#meta'] = null), 'MC022 not a mirrorcheck ITF trace: missing "#meta"'],
    ['params null', (d) => (d['#meta'].params = null), 'MC022 not a mirrorcheck ITF trace: "#meta.params" must be an object'],
    ['params a string', (d) => (d['#meta'].params = 'x=1'), 'MC022 not a mirrorcheck ITF trace: "#meta.params" must be an object'],
    ['a bigint that is null', (d) => (d.states[1].level = null), 'MC022 trace state field states[1].level: expected {"#bigint": "..."}, found null'],
    [
      'a bigint with a leading sign word',
      (d) => (d.states[1].level = { '#bigint': 'x3' }),
      'MC022 trace state field states[1].level: expected {"#bigint": "..."}, found {"#bigint":"x3"}',
    ],
    ['a record that is a string', (d) => (d.states[1].rec = 'ab'), 'MC022 trace state field states[1].rec: expected a record, found "ab"'],
    ['a record that is a number', (d) => (d.states[1].rec = 5), 'MC022 trace state field states[1].rec: expected a record, found 5'],
    ['a record that is null', (d) => (d.states[1].rec = null), 'MC022 trace state field states[1].rec: expected a record, found null'],
    [
      'a record with a field its type lacks',
      (d) => (d.states[1].rec.extra = true),
      'MC022 trace state field states[1].rec: expected a record without field "extra", found {"ok":true,"tag":{"tag":"Some","value":"b"},"extra":true}',
    ],
    ['a #map that is null', (d) => (d.states[1].map = null), 'MC022 trace state field states[1].map: expected {"#map": [...]}, found null'],
    [
      'a Some without a value',
      (d) => (d.states[1].maybe = { tag: 'Some' }),
      'MC022 trace state field states[1].maybe: expected {"#bigint": "..."}, found undefined',
    ],
    [
      'a long value is shown cut at 60 characters',
      (d) => (d.states[1].flag = 'x'.repeat(100)),
      `MC022 trace state field states[1].flag: expected a boolean, found "${'x'.repeat(59)}`,
    ],
  ];
  it.each(cases)('%s', (_name, edit, message) => {
    expect(typeof edit === 'string' ? read(edit) : broken(edit)).toBe(message);
  });

  it('an integer of several digits is read as a number (then checked against the range)', () => {
    expect(broken((d) => (d.states[1].level = { '#bigint': '10' }))).toBe('accepted');
    expect(broken((d) => (d.states[1].level = { '#bigint': '13' }))).toBe('MC022 state 1: level: 13 is not a value of this field');
    expect(broken((d) => (d.states[1].level = { '#bigint': '-1' }))).toBe('MC022 state 1: level: -1 is not a value of this field');
  });
});

describe('the schema version', () => {
  it('absent or 1 is read; 0, negative, fractional, a string is refused; a later one is refused as later', () => {
    expect(TRACE_SCHEMA_VERSION).toBe(1);
    expect(broken((d) => delete d['#meta'].schemaVersion)).toBe('accepted');
    expect(broken((d) => (d['#meta'].schemaVersion = 1))).toBe('accepted');
    for (const v of [0, -1, 1.5, '1']) {
      expect(broken((d) => (d['#meta'].schemaVersion = v))).toBe('MC022 not a mirrorcheck ITF trace: "#meta.schemaVersion" must be a positive integer');
    }
    expect(broken((d) => (d['#meta'].schemaVersion = 2))).toBe(
      'MC022 not a mirrorcheck ITF trace: the trace is of schema version 2, written by a later mirrorcheck; this one reads version 1',
    );
  });
});

describe('the model file record', () => {
  const withModel = (m: unknown) => {
    const d = good();
    d['#meta'].model = m;
    return d;
  };
  it('a path and a SHA-256 of 64 lower-case hex digits are read into the header', () => {
    expect(parseItf(JSON.stringify(withModel({ file: 'm/model.ts', sha256: SHA }))).header.modelFile).toStrictEqual({ file: 'm/model.ts', sha256: SHA });
    expect(Object.keys(parseItf(JSON.stringify(good())).header)).not.toContain('modelFile');
  });

  it.each([
    ['a string', 'm/model.ts'],
    ['null', null],
    ['an array', ['m/model.ts', SHA]],
    ['no file', { sha256: SHA }],
    ['a file that is not a string', { file: 3, sha256: SHA }],
    ['no sha256', { file: 'm.ts' }],
    ['a sha256 that is a number', { file: 'm.ts', sha256: 12 }],
    ['63 hex digits', { file: 'm.ts', sha256: SHA.slice(1) }],
    ['65 hex digits', { file: 'm.ts', sha256: `${SHA}a` }],
    ['upper-case digits', { file: 'm.ts', sha256: SHA.toUpperCase() }],
    ['a prefix', { file: 'm.ts', sha256: `sha256:${SHA}` }],
    ['a suffix', { file: 'm.ts', sha256: `${SHA} ` }],
    ['one digit repeated wrongly', { file: 'm.ts', sha256: 'g'.repeat(64) }],
  ])('%s is refused', (_name, m) => {
    expect(read(withModel(m))).toBe('MC022 not a mirrorcheck ITF trace: "#meta.model" must be {"file": path, "sha256": 64 hex digits}');
  });
});

describe('itfToTrace checks a document that did not go through parseItf', () => {
  const { header } = parseItf(JSON.stringify(good()));
  const names = model.layout.vars.map((v) => v.name);
  const decode = (doc: Doc): string => {
    try {
      itfToTrace(header, doc as never, model);
      return 'accepted';
    } catch (e) {
      if (e instanceof McError) return `${e.code} ${e.message}`;
      throw e;
    }
  };
  it('variables: one too many, or as many with one renamed, do not match the model', () => {
    const d = good();
    expect(decode({ ...d, vars: [...names, 'extra'] })).toBe(
      `MC022 trace variables [${[...names, 'extra'].join(', ')}] do not match the model's [${names.join(', ')}]`,
    );
    const renamed = [...names.slice(0, -1), 'other'];
    expect(decode({ ...d, vars: renamed })).toBe(`MC022 trace variables [${renamed.join(', ')}] do not match the model's [${names.join(', ')}]`);
    expect(decode({ ...d, vars: [...names].reverse() })).toBe('accepted');
  });

  it('a state that is not an object, or lacks a variable', () => {
    const d = good();
    for (const bad of [5, 'ab', null, [1]]) expect(decode({ ...d, states: [d.states[0], bad] })).toBe('MC022 state 1 is not an object');
    const { level: _, ...lacking } = d.states[1];
    expect(decode({ ...d, states: [d.states[0], lacking] })).toBe('MC022 state 1 lacks variable level');
  });

  it('a state whose #meta is null, or has no action, is labelled init (first) or ? (later)', () => {
    const d = good();
    d.states[0]['#meta'] = null;
    d.states[1]['#meta'] = { action: 3 };
    const t = itfToTrace(header, d as never, model);
    expect(t.steps.map((s) => s.label)).toEqual(['init', '?']);
  });

  it('the optional fields of the header are copied when set, and absent (not undefined) when not', () => {
    const plain = itfToTrace(header, good() as never, model);
    expect(Object.keys(plain).sort()).toEqual(['engine', 'params', 'property', 'protocol', 'requirement', 'steps', 'variant']);
    const full = itfToTrace({ ...header, loop: 1, seed: '4', note: 'n', extra: { k: 1 } }, good() as never, model);
    expect([full.loop, full.seed, full.note, full.extra]).toEqual([1, '4', 'n', { k: 1 }]);
  });
});

describe('traceToItf writes exactly', () => {
  it('None as the variant None with an empty tuple, Some with its value, integers as bigints', () => {
    const d = good();
    expect(d.states[0].maybe).toStrictEqual({ tag: 'None', value: { '#tup': [] } });
    expect(d.states[1].maybe).toStrictEqual({ tag: 'Some', value: { '#bigint': '2' } });
    expect(d.states[1].rec).toStrictEqual({ ok: true, tag: { tag: 'Some', value: 'b' } });
    expect(d.states[1].map).toStrictEqual({
      '#map': [
        [{ '#bigint': '0' }, { '#bigint': '1' }],
        [{ '#bigint': '1' }, { '#bigint': '0' }],
      ],
    });
    expect([d.states[1].flag, d.states[1].mode, d.states[1].level, d.states[1].who]).toStrictEqual([true, 'on', { '#bigint': '11' }, { '#bigint': '1' }]);
    expect(d.states.map((s: Doc) => s['#meta'])).toStrictEqual([
      { index: 0, action: null, choice: 0 },
      { index: 1, action: 'Step()', choice: 0 },
    ]);
  });

  it('leaves out seed, extra, note, model and loop when the trace has none (not even as undefined)', () => {
    const itf = traceToItf(trace, model);
    expect(Object.keys(itf).sort()).toEqual(['#meta', 'states', 'vars']);
    expect(Object.keys(itf['#meta'] as object).sort()).toEqual(
      ['choices', 'engine', 'format', 'format-description', 'params', 'property', 'protocol', 'requirement', 'schemaVersion', 'tool', 'variant'].sort(),
    );
    expect(itf['#meta']).toMatchObject({ protocol: 'shapes', params: { pages: 2 }, choices: [0, 0], schemaVersion: 1, tool: 'mirrorcheck@0.1.0' });
  });

  it('writes them when the trace has them; a model file relative to the trace folder, with forward slashes', () => {
    const t: Trace = { ...trace, seed: '7', extra: { k: 1 }, note: 'B1', loop: 1, modelFile: { path: '/work/p/models/m.ts', sha256: SHA } };
    const itf = traceToItf(t, model, '/work/p/traces');
    expect(itf.loop).toBe(1);
    expect(itf['#meta']).toMatchObject({ seed: '7', extra: { k: 1 }, note: 'B1', model: { file: '../models/m.ts', sha256: SHA } });
    expect(parseItf(JSON.stringify(itf)).header).toMatchObject({ seed: '7', loop: 1, note: 'B1', modelFile: { file: '../models/m.ts', sha256: SHA } });
    // An empty note is no note.
    expect(Object.keys(traceToItf({ ...trace, note: '' }, model)['#meta'] as object)).not.toContain('note');
  });
});
