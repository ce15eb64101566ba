import { afterAll, describe, expect, it } from 'vitest';
import { type Expr, and, count, eq, forall, implies, lt, not, ord, sub } from '../../model/lang/expr.js';
import { holds, initState } from '../../model/lang/interp.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign, forEach, reset } from '../../model/lang/stmt.js';
import { arrayOf, bool, range } from '../../model/lang/types.js';
import { odpMirror } from '../../model/protocols/odpMirror/odpMirror.js';
import { odpMirrorProperties } from '../../model/protocols/odpMirror/odpMirrorProperties.js';
import { invariant, safetyProperties } from '../../properties/property.js';
import { proveUnbounded } from './proveUnbounded.js';
import { shutdownSmt } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

describe('odp-mirror for every number of pages, frames and slots', () => {
  it('proves every safety property with the proof hints; the invalidators stay at their built number', async () => {
    const model = buildModel(odpMirror);
    const hints = odpMirrorProperties.proofHints!(model);
    const r = await proveUnbounded(model, safetyProperties(odpMirrorProperties.build(model)), { ...hints, timeLimitSec: 300 });
    expect(r.status).toBe('proved');
    if (r.status !== 'proved') return;
    expect(r.obligations!.every((o) => o.status === 'proved')).toBe(true);
    expect(r.notes[0]).toMatch(/every size of Page \(>= 1\), Frame \(>= 1\), Slot \(>= 1\); Inv kept at its built size 2/);
  }, 300_000);

  it('a bug variant is not proved (zap-without-drain: the unmap before the zap completed breaks an obligation)', async () => {
    const model = buildModel(odpMirror, { variant: 'zap-without-drain' });
    const r = await proveUnbounded(model, safetyProperties(odpMirrorProperties.build(model)), { ...odpMirrorProperties.proofHints!(model), timeLimitSec: 300 });
    expect(r.status).toBe('cti');
    expect(r.status === 'cti' && r.cti?.rule).toBe('DriverInvalidateUnmap');
  }, 300_000);

  it('the start condition holds in the start state at every size the parameters allow', () => {
    let n = 0;
    for (let pages = 1; pages <= 3; pages++) {
      for (let frames = pages; frames <= 4; frames++) {
        for (const slots of [1, 2]) {
          for (const atomics of [0, 1]) {
            const model = buildModel(odpMirror, { params: { pages, frames, slots, atomics } });
            const { initCondition } = odpMirrorProperties.proofHints!(model);
            expect(holds(model, initCondition!, initState(model, model.inits[0]!))).toBe(true);
            n++;
          }
        }
      }
    }
    expect(n).toBe(9 * 2 * 2);
  });
});

/** A walk over pages in order, as odp-mirror's fault handler does: the next page is the first not yet done. */
const walk = defineProtocol({
  name: 'walk',
  summary: 'pages done in order',
  spec: '',
  params: {},
  variants: [],
  build(b) {
    const Page = b.index('Page', 3);
    const done = b.v('done', arrayOf(Page, bool));
    const n = b.v('n', range(0, 3));
    b.init('start', () => []);
    b.rule('Step', { q: Page }, ({ q }) => ({
      guard: and(
        not(done.at(q)),
        forall(Page, (r) => implies(lt(ord(r), ord(q)), done.at(r))),
      ),
      body: [assign(done.at(q), true)],
    }));
    // Pointwise: every iteration touches done[p] only.
    b.rule('Restart', {}, () => ({ guard: true, body: [forEach(Page, (p) => reset(done.at(p)))] }));
    // Not pointwise: every iteration writes n.
    b.rule('Count', {}, () => ({ guard: eq(n, 0), body: [forEach(Page, (p) => assign(n, ord(p)))] }));
    return { Page, done };
  },
});

describe('the unbounded translation of ord comparisons and forEach', () => {
  const model = buildModel(walk);
  const { Page, done } = model.handles;
  const withoutCount = { ...model, rules: model.rules.filter((r) => r.name !== 'Count') };
  const prefix = (p: Expr, q: Expr) => implies(and(lt(ord(p), ord(q)), done.at(q)), done.at(p));

  it('proves that the pages done form a prefix in page order, for every number of pages (order axioms, pointwise forEach)', async () => {
    const inv = invariant(
      'prefix',
      'T-1',
      'done pages form a prefix',
      forall(Page, (p) => forall(Page, (q) => prefix(p, q))),
    );
    const r = await proveUnbounded(withoutCount, [inv], { initCondition: forall(Page, (p) => not(done.at(p))) });
    expect(r.status).toBe('proved');
  }, 60_000);

  it('refutes the reverse claim (a suffix), which is false', async () => {
    // If an earlier page is done, every later one is: false once page 0 alone is done.
    const suffix = (p: Expr, q: Expr) => implies(and(lt(ord(p), ord(q)), done.at(p)), done.at(q));
    const inv = invariant(
      'suffix',
      'T-2',
      'done pages form a suffix (false)',
      forall(Page, (p) => forall(Page, (q) => suffix(p, q))),
    );
    const r = await proveUnbounded(withoutCount, [inv], { initCondition: forall(Page, (p) => not(done.at(p))) });
    expect(r.status).toBe('cti');
  }, 60_000);

  it('refuses a forEach whose iterations share a cell, count over an open sort, and ord used as a number', async () => {
    const some = invariant('t', 'T-3', 'trivial', true);
    const r = await proveUnbounded(model, [some]);
    expect(r.status === 'error' && r.code).toBe('MC010');
    expect(r.status === 'error' && r.message).toMatch(/forEach over Page/);
    const counting = invariant(
      'c',
      'T-4',
      'count',
      lt(
        count(Page, (p) => done.at(p)),
        4,
      ),
    );
    const c = await proveUnbounded(withoutCount, [counting]);
    expect(c.status === 'error' && c.message).toMatch(/count over Page/);
    const number = invariant(
      'o',
      'T-5',
      'ord as a number',
      forall(Page, (p) => lt(ord(p), 3)),
    );
    const o = await proveUnbounded(withoutCount, [number]);
    expect(o.status === 'error' && o.message).toMatch(/ord\(\) of Page used as a number/);
  }, 60_000);

  it('with Page kept at its built size, count and ord as a number are expanded and proved', async () => {
    const counting = invariant(
      'c',
      'T-4',
      'count',
      lt(
        count(Page, (p) => done.at(p)),
        4,
      ),
    );
    const number = invariant(
      'o',
      'T-5',
      'ord as a number',
      forall(Page, (p) => lt(ord(p), 3)),
    );
    const r = await proveUnbounded(model, [counting, number], { fixedIndexes: ['Page'] });
    expect(r.status).toBe('proved');
    expect(r.status === 'proved' && r.notes[0]).toMatch(/Page kept at its built size 3/);
  }, 60_000);
});

/** A counter that a rule decrements below its range: a model error. */
const counter = defineProtocol({
  name: 'counter',
  summary: 'a counter taken below 0',
  spec: '',
  params: {},
  variants: [],
  build(b) {
    const n = b.v('n', range(0, 2));
    b.init('start', () => [assign(n, 1)]);
    b.rule('Dec', {}, () => ({ guard: true, body: [assign(n, sub(n, 1))] }));
    return { n };
  },
});

describe('what the unbounded proof prints about a model error', () => {
  it('names the rule and the requirement, and shows the out-of-range value as computed (-1), not the bit-vector wrap', async () => {
    const model = buildModel(counter);
    const r = await proveUnbounded(model, [invariant('anything', 'T-6', 'true', true)]);
    expect(r.status).toBe('cti');
    if (r.status !== 'cti') return;
    expect(r.property).toBe('Dec raises no model error');
    expect(r.requirement).toBe('model error');
    expect(r.cti?.before.n).toBe(0);
    expect(r.cti?.after.n).toBe(-1);
  }, 60_000);
});
