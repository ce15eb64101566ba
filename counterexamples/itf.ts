/**
 * ITF (Informal Trace Format, as written by Apalache and Quint) reading and writing. Why this module
 * exists: counterexamples are files other tools can read, and files we read back must be checked
 * strictly, because a trace that silently decodes wrong would make replay lie.
 *
 * Encoding of our values: bool as JSON booleans, enum values as strings, ranges and index values as
 * `{"#bigint": "n"}`, options as the variants `{"tag":"Some","value":v}` / `{"tag":"None","value":{"#tup":[]}}`,
 * records as objects, arrays over an index type as `{"#map": [[i, v], ...]}`.
 * Our own fields live in `#meta` (tool, protocol, variant, params, property, engine, seed, choices).
 */
import { relative, sep } from 'node:path';
import { McError } from '../model/lang/errors.js';
import { type Value, decodeState, encodeState } from '../model/lang/layout.js';
import type { Model, ParamValues } from '../model/lang/protocol.js';
import { type ScalarType, type Type, isScalar } from '../model/lang/types.js';
import type { Trace } from './trace.js';

export const TOOL_VERSION = '0.1.0';

/**
 * The version of the trace format mirrorcheck writes (`#meta.schemaVersion`, schemas/trace.schema.json).
 * Fields may be added within a version; a trace of a later version is refused rather than misread.
 */
export const TRACE_SCHEMA_VERSION = 1;

/** The codes the trace reader raises. */
export const TRACE_ERRORS = {
  MC020: 'trace file missing or unreadable',
  MC021: 'trace file is not valid JSON or is truncated',
  MC022: 'trace file is valid JSON but not a mirrorcheck ITF trace (or does not fit the model)',
  MC023: 'trace belongs to a protocol or model file that is not at hand, or that has changed',
} as const;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function toItf(t: Type, v: Value): Json {
  if (isScalar(t)) return scalarToItf(t, v);
  if (t.kind === 'record') {
    const o: Record<string, Json> = {};
    for (const [f, ft] of Object.entries(t.fields)) o[f] = toItf(ft, (v as Record<string, Value>)[f] as Value);
    return o;
  }
  return { '#map': (v as Value[]).map((x, i) => [{ '#bigint': String(i) }, toItf(t.elem, x)]) };
}

function scalarToItf(t: ScalarType, v: Value): Json {
  switch (t.kind) {
    case 'bool':
      return v as boolean;
    case 'enum':
      return v as string;
    case 'option':
      return v === null ? { tag: 'None', value: { '#tup': [] } } : { tag: 'Some', value: scalarToItf(t.inner, v) };
    default:
      return { '#bigint': String(v) };
  }
}

function fromItf(t: Type, j: Json, path: string): Value {
  const bad = (what: string): never => {
    throw new McError('MC022', `trace state field ${path}: expected ${what}, found ${JSON.stringify(j)?.slice(0, 60)}`);
  };
  if (isScalar(t)) {
    switch (t.kind) {
      case 'bool':
        return typeof j === 'boolean' ? j : bad('a boolean');
      case 'enum':
        return typeof j === 'string' ? j : bad('a string');
      case 'option': {
        if (typeof j !== 'object' || j === null || Array.isArray(j) || typeof j.tag !== 'string') return bad('a Some/None variant');
        if (j.tag === 'None') return null;
        if (j.tag === 'Some') return fromItf(t.inner, j.value as Json, path);
        return bad('a Some/None variant');
      }
      default: {
        if (typeof j !== 'object' || j === null || Array.isArray(j) || typeof j['#bigint'] !== 'string' || !/^-?\d+$/.test(j['#bigint'])) {
          return bad('{"#bigint": "..."}');
        }
        return Number(j['#bigint']);
      }
    }
  }
  if (t.kind === 'record') {
    if (typeof j !== 'object' || j === null || Array.isArray(j)) return bad('a record');
    const o: Record<string, Value> = {};
    const unknown = Object.keys(j).find((f) => !(f in t.fields));
    if (unknown !== undefined) bad(`a record without field ${JSON.stringify(unknown)}`);
    for (const [f, ft] of Object.entries(t.fields)) {
      if (!(f in j)) bad(`a record with field ${f}`);
      o[f] = fromItf(ft, j[f] as Json, `${path}.${f}`);
    }
    return o;
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j) || !Array.isArray(j['#map'])) return bad('{"#map": [...]}');
  const out: Value[] = new Array(t.index.size).fill(null);
  const seen = new Set<number>();
  for (const pair of j['#map'] as Json[]) {
    if (!Array.isArray(pair) || pair.length !== 2) return bad('[key, value] pairs');
    const k = fromItf(t.index, pair[0] as Json, `${path}[key]`) as number;
    if (k < 0 || k >= t.index.size || seen.has(k)) return bad(`distinct keys 0..${t.index.size - 1}`);
    seen.add(k);
    out[k] = fromItf(t.elem, pair[1] as Json, `${path}[${k}]`);
  }
  if (seen.size !== t.index.size) bad(`${t.index.size} entries`);
  return out;
}

/**
 * Writes a trace as an ITF object. A model file's path is written relative to `folder` (the folder
 * the trace file goes to), so that a project moved as a whole still finds its model.
 */
export function traceToItf(trace: Trace, model: Model, folder: string = process.cwd()): Record<string, Json> {
  const meta: Record<string, Json> = {
    format: 'ITF',
    'format-description': 'https://apalache-mc.org/docs/adr/015adr-trace.html',
    tool: `mirrorcheck@${TOOL_VERSION}`,
    schemaVersion: TRACE_SCHEMA_VERSION,
    protocol: trace.protocol,
    variant: trace.variant,
    params: trace.params as Record<string, Json>,
    property: trace.property,
    requirement: trace.requirement,
    engine: trace.engine,
    choices: trace.steps.map((s) => s.choice),
  };
  if (trace.seed !== undefined) meta.seed = trace.seed;
  if (trace.extra) meta.extra = trace.extra as Record<string, Json>;
  if (trace.note) meta.note = trace.note;
  if (trace.modelFile) meta.model = { file: relative(folder, trace.modelFile.path).split(sep).join('/'), sha256: trace.modelFile.sha256 };
  const out: Record<string, Json> = {
    '#meta': meta,
    vars: model.layout.vars.map((v) => v.name),
    states: trace.steps.map((st, i) => {
      const o: Record<string, Json> = { '#meta': { index: i, action: i === 0 ? null : st.label, choice: st.choice } };
      const dec = decodeState(model.layout, st.state);
      for (const v of model.layout.vars) o[v.name] = toItf(v.type, dec[v.name] as Value);
      return o;
    }),
  };
  if (trace.loop !== undefined) out.loop = trace.loop;
  return out;
}

/** The header of an ITF trace file: enough to know which model to build before decoding states. */
export interface ItfHeader {
  readonly protocol: string;
  readonly variant: string | null;
  readonly params: ParamValues;
  readonly property: string | null;
  readonly requirement: string | null;
  readonly engine: string;
  readonly choices: readonly number[];
  readonly seed?: string;
  readonly loop?: number;
  readonly note?: string;
  readonly extra?: Readonly<Record<string, unknown>>;
  /** The model file, as recorded: a path relative to the trace file's folder, and its SHA-256. */
  readonly modelFile?: { readonly file: string; readonly sha256: string };
}

/** Parses trace file text and checks the ITF shape and our `#meta` (MC021/MC022 on failure). */
export function parseItf(text: string): { header: ItfHeader; doc: Record<string, Json> } {
  let doc: Json;
  try {
    // A byte-order mark some editors put first is not part of the JSON text (RFC 8259 §8.1).
    doc = JSON.parse(text.startsWith('\ufeff') ? text.slice(1) : text) as Json;
  } catch (e) {
    throw new McError('MC021', `trace is not valid JSON (truncated or malformed): ${(e as Error).message}`);
  }
  const bad = (m: string): never => {
    throw new McError('MC022', `not a mirrorcheck ITF trace: ${m}`);
  };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return bad('top level is not an object');
  if (!Array.isArray(doc.vars) || !doc.vars.every((v) => typeof v === 'string')) bad('"vars" must be an array of strings');
  if (!Array.isArray(doc.states) || doc.states.length === 0) bad('"states" must be a non-empty array');
  // Every state holds exactly the variables listed: a field added or dropped by hand is caught here.
  const declared = new Set(doc.vars as string[]);
  for (const [i, st] of (doc.states as Json[]).entries()) {
    if (typeof st !== 'object' || st === null || Array.isArray(st)) return bad(`state ${i} is not an object`);
    const extra = Object.keys(st).find((k) => k !== '#meta' && !declared.has(k));
    if (extra !== undefined) bad(`state ${i} has a variable ${JSON.stringify(extra)} that "vars" does not list`);
    const missing = (doc.vars as string[]).find((v) => !(v in st));
    if (missing !== undefined) bad(`state ${i} lacks variable ${JSON.stringify(missing)}`);
  }
  const meta = doc['#meta'];
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return bad('missing "#meta"');
  if (typeof meta.protocol !== 'string') bad('"#meta.protocol" missing');
  // Traces written before the field existed have none: they are version 1.
  const version = meta.schemaVersion ?? 1;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) bad('"#meta.schemaVersion" must be a positive integer');
  if ((version as number) > TRACE_SCHEMA_VERSION) {
    bad(`the trace is of schema version ${version}, written by a later mirrorcheck; this one reads version ${TRACE_SCHEMA_VERSION}`);
  }
  const choices = meta.choices;
  // A first choice of -1 marks a trace that starts in a stored state rather than a start state (a
  // counterexample to induction from `prove`).
  if (!Array.isArray(choices) || !choices.every((c, i) => typeof c === 'number' && Number.isInteger(c) && (c >= 0 || (i === 0 && c === -1)))) {
    bad('"#meta.choices" must be an array of non-negative integers (the first may be -1)');
  }
  if ((choices as number[]).length !== (doc.states as Json[]).length)
    bad(`${(choices as number[]).length} choices for ${(doc.states as Json[]).length} states`);
  const params = meta.params;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return bad('"#meta.params" must be an object');
  for (const v of Object.values(params)) if (typeof v !== 'number' && typeof v !== 'string') bad('parameter values must be numbers or strings');
  if (doc.loop !== undefined && (typeof doc.loop !== 'number' || !Number.isInteger(doc.loop) || doc.loop < 0 || doc.loop >= (doc.states as Json[]).length)) {
    bad('"loop" must index a state');
  }
  const str = (x: Json | undefined) => (typeof x === 'string' ? x : null);
  let modelFile: ItfHeader['modelFile'] | null = null;
  if (meta.model !== undefined) {
    const m = meta.model;
    if (
      typeof m !== 'object' ||
      m === null ||
      Array.isArray(m) ||
      typeof m.file !== 'string' ||
      typeof m.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(m.sha256)
    ) {
      bad('"#meta.model" must be {"file": path, "sha256": 64 hex digits}');
    }
    modelFile = { file: (m as { file: string }).file, sha256: (m as { sha256: string }).sha256 };
  }
  const header: ItfHeader = {
    protocol: meta.protocol as string,
    variant: str(meta.variant),
    params: params as ParamValues,
    property: str(meta.property),
    requirement: str(meta.requirement),
    engine: str(meta.engine) ?? 'unknown',
    choices: choices as number[],
    ...(typeof meta.seed === 'string' ? { seed: meta.seed } : {}),
    ...(typeof doc.loop === 'number' ? { loop: doc.loop } : {}),
    ...(typeof meta.note === 'string' ? { note: meta.note } : {}),
    ...(typeof meta.extra === 'object' && meta.extra !== null && !Array.isArray(meta.extra) ? { extra: meta.extra } : {}),
    ...(modelFile ? { modelFile } : {}),
  };
  return { header, doc: doc as Record<string, Json> };
}

/** Decodes the states of a parsed ITF document against a model (MC022 when they do not fit). */
export function itfToTrace(header: ItfHeader, doc: Record<string, Json>, model: Model): Trace {
  const names = model.layout.vars.map((v) => v.name);
  const vars = doc.vars as string[];
  if (vars.length !== names.length || !names.every((n) => vars.includes(n))) {
    throw new McError('MC022', `trace variables [${vars.join(', ')}] do not match the model's [${names.join(', ')}]`);
  }
  const steps = (doc.states as Json[]).map((sj, i) => {
    if (typeof sj !== 'object' || sj === null || Array.isArray(sj)) throw new McError('MC022', `state ${i} is not an object`);
    const o: Record<string, Value> = {};
    for (const v of model.layout.vars) {
      if (!(v.name in sj)) throw new McError('MC022', `state ${i} lacks variable ${v.name}`);
      o[v.name] = fromItf(v.type, sj[v.name] as Json, `states[${i}].${v.name}`);
    }
    const s = encodeState(model.layout, o);
    if (typeof s === 'string') throw new McError('MC022', `state ${i}: ${s}`);
    const m = sj['#meta'];
    const label = typeof m === 'object' && m !== null && !Array.isArray(m) && typeof m.action === 'string' ? m.action : i === 0 ? 'init' : '?';
    return { choice: header.choices[i] as number, label, state: s };
  });
  return {
    protocol: header.protocol,
    variant: header.variant,
    params: header.params,
    engine: header.engine,
    property: header.property,
    requirement: header.requirement,
    steps,
    ...(header.loop !== undefined ? { loop: header.loop } : {}),
    ...(header.seed !== undefined ? { seed: header.seed } : {}),
    ...(header.note !== undefined ? { note: header.note } : {}),
    ...(header.extra !== undefined ? { extra: header.extra } : {}),
  };
}
