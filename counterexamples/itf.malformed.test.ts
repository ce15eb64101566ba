/**
 * Malformed ITF traces, one per rule of the format as mirrorcheck reads it (itf.ts): each is a valid
 * trace with one thing broken, and must be rejected with MC021 (not JSON) or MC022 (not a
 * mirrorcheck ITF trace, or states that do not fit the model), with a message that says what. A
 * trace that silently decodes wrong would make replay lie.
 */
import { describe, expect, it } from 'vitest';
import { itfToTrace, parseItf } from './itf.js';
import { type Doc, itfShapes } from '../test/fixtures/itfShapes.js';

const { model, trace, good, read, broken } = itfShapes({ spec: 'counterexamples/itf.malformed.test.ts', levelMax: 3, level: 3, params: {} });
const [s0, s1] = trace.steps.map((s) => s.state) as [Int32Array, Int32Array];

describe('a well-formed trace', () => {
  it('is read back exactly, with its header', () => {
    const { header, doc } = parseItf(JSON.stringify({ ...good(), loop: 1, '#meta': { ...good()['#meta'], seed: '9', note: 'n', extra: { k: 1 } } }));
    expect(header).toEqual({
      protocol: 'shapes',
      variant: null,
      params: {},
      property: 'p',
      requirement: 'R-1',
      engine: 'test',
      choices: [0, 0],
      seed: '9',
      loop: 1,
      note: 'n',
      extra: { k: 1 },
    });
    const t = itfToTrace(header, doc, model);
    expect(t.steps.map((s) => [s.choice, s.label, Array.from(s.state)])).toEqual([
      [0, 'init', Array.from(s0)],
      [0, 'Step()', Array.from(s1)],
    ]);
    expect([t.loop, t.seed, t.note, t.extra]).toEqual([1, '9', 'n', { k: 1 }]);
  });

  it('optional header fields of the wrong type are left out, not guessed', () => {
    const d = good();
    d['#meta'] = { ...d['#meta'], variant: 3, property: 1, requirement: false, engine: 7, seed: 5, note: 2, extra: [1] };
    const { header } = parseItf(JSON.stringify(d));
    expect(header).toEqual({ protocol: 'shapes', variant: null, params: {}, property: null, requirement: null, engine: 'unknown', choices: [0, 0] });
    expect(parseItf(JSON.stringify({ ...good(), '#meta': { ...good()['#meta'], extra: null } })).header.extra).toBeUndefined();
  });

  it('a first choice of -1 (a counterexample to induction) is accepted; a state without an action is labelled', () => {
    const d = good();
    d['#meta'].choices = [-1, 0];
    delete d.states[1]['#meta'];
    const { header, doc } = parseItf(JSON.stringify(d));
    expect(itfToTrace(header, doc, model).steps.map((s) => [s.choice, s.label])).toEqual([
      [-1, 'init'],
      [0, '?'],
    ]);
  });
});

describe('every rule of the format, broken once', () => {
  const cases: [string, string | ((d: Doc) => void), RegExp][] = [
    ['not JSON', '{"vars": [', /^MC021 trace is not valid JSON/],
    ['an empty file', '', /^MC021/],
    ['top level an array', '[]', /^MC022 .*top level is not an object/],
    ['top level null', 'null', /^MC022 .*top level is not an object/],
    ['vars missing', (d) => delete d.vars, /"vars" must be an array of strings/],
    ['vars not strings', (d) => (d.vars = ['flag', 3]), /"vars" must be an array of strings/],
    ['states missing', (d) => delete d.states, /"states" must be a non-empty array/],
    ['states empty', (d) => (d.states = []), /"states" must be a non-empty array/],
    ['#meta missing', (d) => delete d['#meta'], /missing "#meta"/],
    ['#meta an array', (d) => (d['#meta'] = []), /missing "#meta"/],
    ['protocol missing', (d) => delete d['#meta'].protocol, /"#meta.protocol" missing/],
    ['choices missing', (d) => delete d['#meta'].choices, /"#meta.choices" must be an array/],
    ['a negative choice after the first', (d) => (d['#meta'].choices = [0, -1]), /"#meta.choices" must be an array/],
    ['a first choice below -1', (d) => (d['#meta'].choices = [-2, 0]), /"#meta.choices" must be an array/],
    ['a fractional choice', (d) => (d['#meta'].choices = [0, 0.5]), /"#meta.choices" must be an array/],
    ['a choice as a string', (d) => (d['#meta'].choices = [0, '0']), /"#meta.choices" must be an array/],
    ['fewer choices than states', (d) => (d['#meta'].choices = [0]), /1 choices for 2 states/],
    ['params missing', (d) => delete d['#meta'].params, /"#meta.params" must be an object/],
    ['params an array', (d) => (d['#meta'].params = []), /"#meta.params" must be an object/],
    ['a parameter value that is an object', (d) => (d['#meta'].params = { x: {} }), /parameter values must be numbers or strings/],
    ['a loop past the last state', (d) => (d.loop = 2), /"loop" must index a state/],
    ['a negative loop', (d) => (d.loop = -1), /"loop" must index a state/],
    ['a fractional loop', (d) => (d.loop = 0.5), /"loop" must index a state/],
    ['a loop as a string', (d) => (d.loop = '1'), /"loop" must index a state/],
    ['a variable missing from vars', (d) => d.vars.pop(), /state 0 has a variable "\w+" that "vars" does not list/],
    ['another variable in vars', (d) => (d.vars[0] = 'other'), /state 0 has a variable "\w+" that "vars" does not list/],
    ['a state that is not an object', (d) => (d.states[1] = [1]), /state 1 is not an object/],
    ['a state without a variable', (d) => delete d.states[1].level, /state 1 lacks variable "level"/],
    ['a bool as a number', (d) => (d.states[1].flag = 1), /states\[1\]\.flag: expected a boolean/],
    ['an enum value as a number', (d) => (d.states[1].mode = 1), /states\[1\]\.mode: expected a string/],
    ['an enum value of another type', (d) => (d.states[1].mode = 'idle'), /state 1: mode: "idle" is not a value of this field/],
    ['an integer as a JSON number', (d) => (d.states[1].level = 3), /states\[1\]\.level: expected \{"#bigint"/],
    ['a bigint that is not a number', (d) => (d.states[1].level = { '#bigint': '3x' }), /states\[1\]\.level: expected \{"#bigint"/],
    ['a bigint given as a number', (d) => (d.states[1].level = { '#bigint': 3 }), /states\[1\]\.level: expected \{"#bigint"/],
    ['an integer below its range', (d) => (d.states[1].level = { '#bigint': '0' }), /state 1: level: 0 is not a value of this field/],
    ['an integer above its range', (d) => (d.states[1].level = { '#bigint': '4' }), /state 1: level: 4 is not a value of this field/],
    ['an index value outside its type', (d) => (d.states[1].who = { '#bigint': '2' }), /state 1: who: 2 is not a value of this field/],
    ['an option that is not a variant', (d) => (d.states[1].maybe = { '#bigint': '1' }), /states\[1\]\.maybe: expected a Some\/None variant/],
    ['an option with another tag', (d) => (d.states[1].maybe = { tag: 'Maybe', value: { '#bigint': '1' } }), /expected a Some\/None variant/],
    ['an option as null', (d) => (d.states[1].maybe = null), /expected a Some\/None variant/],
    ['a Some with a bad value', (d) => (d.states[1].maybe = { tag: 'Some', value: 1 }), /states\[1\]\.maybe: expected \{"#bigint"/],
    ['a Some out of range', (d) => (d.states[1].maybe = { tag: 'Some', value: { '#bigint': '3' } }), /maybe: 3 is not a value of this field/],
    ['a record that is not an object', (d) => (d.states[1].rec = [true]), /states\[1\]\.rec: expected a record/],
    ['a record without a field', (d) => delete d.states[1].rec.tag, /states\[1\]\.rec: expected a record with field tag/],
    ['a record field of the wrong type', (d) => (d.states[1].rec.tag = { tag: 'Some', value: 'c' }), /rec\.tag: "c" is not a value of this field/],
    ['an array that is not a #map', (d) => (d.states[1].map = [{ '#bigint': '1' }, { '#bigint': '0' }]), /states\[1\]\.map: expected \{"#map"/],
    ['a #map that is not a list', (d) => (d.states[1].map = { '#map': {} }), /states\[1\]\.map: expected \{"#map"/],
    ['a #map entry that is not a pair', (d) => d.states[1].map['#map'][0].push(1), /states\[1\]\.map: expected \[key, value\] pairs/],
    ['a #map key outside the index', (d) => (d.states[1].map['#map'][1][0] = { '#bigint': '2' }), /distinct keys 0\.\.1/],
    ['a negative #map key', (d) => (d.states[1].map['#map'][1][0] = { '#bigint': '-1' }), /distinct keys 0\.\.1/],
    ['a duplicate #map key', (d) => (d.states[1].map['#map'][1][0] = { '#bigint': '0' }), /distinct keys 0\.\.1/],
    ['a #map with a missing key', (d) => d.states[1].map['#map'].pop(), /states\[1\]\.map: expected 2 entries/],
    ['a #map key that is not a bigint', (d) => (d.states[1].map['#map'][1][0] = 1), /states\[1\]\.map\[key\]: expected \{"#bigint"/],
    ['a #map value of the wrong type', (d) => (d.states[1].map['#map'][1][1] = true), /states\[1\]\.map\[1\]: expected \{"#bigint"/],
  ];
  it.each(cases)('%s', (_name, edit, message) => {
    const got = typeof edit === 'string' ? read(edit) : broken(edit);
    expect(got).toMatch(/^MC02[12] /);
    expect(got).toMatch(message);
  });

  it('the first state is checked as strictly as the others', () => {
    expect(broken((d) => (d.states[0].flag = 'false'))).toMatch(/^MC022 .*states\[0\]\.flag: expected a boolean/);
  });
});
