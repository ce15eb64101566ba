/**
 * A small protocol for the tests of the inference output (stateFacts.test.ts,
 * invariantPrinter.test.ts, hintsModule.test.ts), with its reachable states found by a plain
 * breadth-first search over the reference interpreter. Why this module exists: those tests need an
 * oracle that does not share code with what they test, and a model with every kind of slot the
 * printer writes (Booleans, enums, ranges, index values, options of each, arrays over two index
 * types, records), whose reachable set is small enough to enumerate in milliseconds.
 *
 * Pages are moved into frames: `MigStart(p, f)` takes a free frame f for page p, `MigCopy(p)` and
 * `MigDone(p)` finish it, `MigFree(p)` gives the frame back. A counter `n` climbs to 2 with `cnt`
 * always `some(n)`, `top` always `n + 1` and `hi` equal to `n` once `n` is at least 1; `far` never leaves 5 and `mode`
 * never leaves `off` (an enum of its own, with as many values as the step's). Each page's `held`
 * says whether it holds a frame (so it equals `busy` of that frame), and `view` mirrors each page's
 * step (slots of one enum, always equal). `last` and `lastPage` are the frame and the page of the
 * latest move (a plain index value of each type).
 */
import { add, and, eq, isSome, lt, none, some, unwrap } from '../../model/lang/expr.js';
import { applyRule, enabled, initState } from '../../model/lang/interp.js';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { type IndexType, type ScalarType, arrayOf, bool, cardinality, enumOf, fromCode, option, range, record } from '../../model/lang/types.js';
import type { Ref } from '../../model/lang/expr.js';

export interface InferenceHandles {
  Page: IndexType;
  Frame: IndexType;
  mig: Ref;
  owner: Ref;
  busy: Ref;
  n: Ref;
  cnt: Ref;
  hi: Ref;
  last: Ref;
  far: Ref;
  mode: Ref;
  top: Ref;
  view: Ref;
  lastPage: Ref;
}

export const inferenceProtocol = defineProtocol<InferenceHandles>({
  name: 'inference-test',
  summary: 'pages moved into frames, and a counter (tests of the inference output)',
  spec: '',
  params: {},
  variants: [],
  build(b) {
    const Page = b.index('Page', 2);
    const Frame = b.index('Frame', 3);
    const step = enumOf('Step', ['idle', 'copy', 'done']);
    const mig = b.v('mig', arrayOf(Page, record({ step, dst: option(Frame), held: bool })));
    const owner = b.v('owner', arrayOf(Frame, option(Page)));
    const busy = b.v('busy', arrayOf(Frame, bool));
    const n = b.v('n', range(0, 2));
    const cnt = b.v('cnt', option(range(0, 2)));
    const hi = b.v('hi', range(1, 3));
    const last = b.v('last', Frame);
    const far = b.v('far', range(5, 6));
    const mode = b.v('mode', enumOf('Mode', ['off', 'on', 'auto']));
    const top = b.v('top', range(0, 4));
    const view = b.v('view', arrayOf(Page, step));
    const lastPage = b.v('lastPage', Page);
    b.init('start', () => [assign(cnt, some(n, option(range(0, 2)))), assign(hi, 1), assign(far, 5), assign(top, 1)]);
    b.rule('MigStart', { p: Page, f: Frame }, ({ p, f }) => ({
      guard: and(eq(mig.at(p).f('step'), 'idle'), eq(owner.at(f), none)),
      body: [
        assign(mig.at(p).f('step'), 'copy'),
        assign(mig.at(p).f('dst'), some(f, option(Frame))),
        assign(mig.at(p).f('held'), true),
        assign(view.at(p), 'copy'),
        assign(owner.at(f), some(p, option(Page))),
        assign(busy.at(f), true),
        assign(last, f),
        assign(lastPage, p),
      ],
    }));
    b.rule('MigDone', { p: Page }, ({ p }) => ({
      guard: eq(mig.at(p).f('step'), 'copy'),
      body: [assign(mig.at(p).f('step'), 'done'), assign(view.at(p), 'done')],
    }));
    b.rule('MigFree', { p: Page }, ({ p }) => ({
      guard: and(eq(mig.at(p).f('step'), 'done'), isSome(mig.at(p).f('dst'))),
      body: [
        assign(owner.at(unwrap(mig.at(p).f('dst'))), none),
        assign(busy.at(unwrap(mig.at(p).f('dst'))), false),
        assign(mig.at(p).f('step'), 'idle'),
        assign(mig.at(p).f('dst'), none),
        assign(mig.at(p).f('held'), false),
        assign(view.at(p), 'idle'),
      ],
    }));
    b.rule('Count', {}, () => ({
      guard: lt(n, 2),
      body: [assign(n, add(n, 1)), assign(cnt, some(n, option(range(0, 2)))), assign(hi, n), assign(top, add(n, 1))],
    }));
    return { Page, Frame, mig, owner, busy, n, cnt, hi, last, far, mode, top, view, lastPage };
  },
});

export const inferenceModel: Model<InferenceHandles> = buildModel(inferenceProtocol);

/** Every reachable state of `model` (breadth-first over the interpreter). */
export function reachableStates(model: Model): Int32Array[] {
  const seen = new Set<string>();
  const out: Int32Array[] = [];
  const push = (s: Int32Array) => {
    const k = s.join(',');
    if (seen.has(k)) return;
    seen.add(k);
    out.push(s);
  };
  for (const init of model.inits) push(initState(model, init));
  for (let i = 0; i < out.length; i++) {
    const s = out[i] as Int32Array;
    for (const inst of model.instances) if (enabled(model, inst, s)) push(applyRule(model, inst, s));
  }
  return out;
}

/** The natural values of slot `j`. */
export function slotValues(model: Model, j: number): number[] {
  const t = model.layout.slotTypes[j];
  if (!t) throw new Error(`no slot ${j}`);
  return Array.from({ length: cardinality(t) }, (_, c) => fromCode(t, c));
}

/** A deterministic pseudo-random generator (xorshift), so failures repeat. */
export function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/**
 * States to evaluate facts on: the reachable ones, each of them with one slot changed to every other
 * value, and `random` states with every slot drawn at random (most of them unreachable).
 */
export function sampleStates(model: Model, reach: readonly Int32Array[], random: number, seed = 7): Int32Array[] {
  const out: Int32Array[] = [...reach];
  const nSlots = model.layout.nSlots;
  for (const s of reach) {
    for (let j = 0; j < nSlots; j++) {
      for (const v of slotValues(model, j)) {
        if (v === s[j]) continue;
        const t = new Int32Array(s);
        t[j] = v;
        out.push(t);
      }
    }
  }
  const r = rng(seed);
  for (let i = 0; i < random; i++) {
    const s = new Int32Array(nSlots);
    for (let j = 0; j < nSlots; j++) {
      const vals = slotValues(model, j);
      s[j] = vals[r(vals.length)] as number;
    }
    out.push(s);
  }
  return out;
}

/**
 * Whether two slot types hold values of one kind (Booleans, one enum, one index type, ranges), an
 * option compared with its inner type: the slots whose equality a fact may state.
 */
export function comparable(a: ScalarType, b: ScalarType): boolean {
  const base = (t: ScalarType) => (t.kind === 'option' ? t.inner : t);
  const x = base(a);
  const y = base(b);
  if (x.kind !== y.kind) return false;
  return x.kind === 'enum' || x.kind === 'index' ? x.name === (y as { name: string }).name : true;
}
