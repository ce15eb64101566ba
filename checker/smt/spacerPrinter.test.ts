/**
 * The printer of Spacer's invariants (`printInvariant` in spacer.ts) on terms built by hand, against
 * z3's own evaluation. Why this file exists: `prove --infer --spacer` re-proves the printed
 * expression, so a printer that writes something other than Spacer's formula loses the proof or
 * proves another invariant; and the invariants Spacer finds on the random protocols of
 * spacer.test.ts have a few shapes only, so most of the z3 operators the printer reads are never met
 * there. Here every atom it reads (a slot compared with a code by `=`, `bvule`, `bvuge`, `bvult` and
 * `bvugt`, the slot on either side; one bit of a slot by `extract` or `bit2bool`, against #b0 or #b1
 * on either side; a Boolean slot; two slots equal) over every slot of a model with every kind of
 * slot (inferenceModel.testkit.ts), and random nestings of them with and/or/not/implies/iff and the
 * constants, is printed, and the expression is evaluated by the interpreter in every combination of
 * values of the slots the term mentions (the other slots fixed at random values): it must hold
 * exactly where z3 evaluates the term, with each slot's code substituted, to true. The terms the
 * printer does not know, bound variables and quantifiers, must give no invariant, with the reason.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Z3_ast } from 'z3-solver';
import { Z3_lbool } from 'z3-solver';
import { eq } from '../../model/lang/expr.js';
import { holds } from '../../model/lang/interp.js';
import { toCode } from '../../model/lang/types.js';
import { type ChcSystem, buildChc } from './chc.js';
import { inferenceModel as model, rng, slotValues } from './inferenceModel.testkit.js';
import { printInvariant } from './spacer.js';
import { type SmtSession, shutdownSmt, withSession } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

/** A term over the slot variables and the slots it mentions. */
interface Term {
  readonly t: Z3_ast;
  readonly slots: readonly number[];
}

const types = model.layout.slotTypes;
const nSlots = types.length;
const boolSlots = types.flatMap((t, j) => (t.kind === 'bool' ? [j] : []));
const bvSlots = types.flatMap((t, j) => (t.kind === 'bool' ? [] : [j]));

/** The tools of one session: the Horn system's slot variables, z3's evaluation, the printer's. */
function kit(session: SmtSession) {
  const sys: ChcSystem = buildChc(session, model, { invariants: [], steps: [] });
  const { z, ctx } = session;
  const { tm } = sys;
  const width = (j: number) => tm.width(sys.vars[j] as Z3_ast);
  const empty = z.mk_model(ctx);
  z.model_inc_ref(ctx, empty);
  /** z3's value of `t` with each slot variable replaced by the code of its value in `s`. */
  const z3Holds = (t: Z3_ast, s: Int32Array): boolean => {
    const vals = types.map((ty, j) => (ty.kind === 'bool' ? (s[j] ? tm.T : tm.F) : tm.bv(toCode(ty, s[j] as number), width(j))));
    const v = z.model_eval(ctx, empty, z.substitute(ctx, t, [...sys.vars], vals), true);
    const b = v === null ? Z3_lbool.Z3_L_UNDEF : z.get_bool_value(ctx, v);
    if (b === Z3_lbool.Z3_L_UNDEF) throw new Error(`z3 does not evaluate ${z.ast_to_string(ctx, t)}`);
    return b === Z3_lbool.Z3_L_TRUE;
  };
  const r = rng(20261206);
  const bases = Array.from({ length: 2 }, () => Int32Array.from({ length: nSlots }, (_, j) => slotValues(model, j)[r(slotValues(model, j).length)] as number));
  /** Where the printed term and z3 disagree, over every combination of values of its slots (on each base state). */
  const disagreements = (term: Term): string[] => {
    const text = z.ast_to_string(ctx, term.t);
    const p = printInvariant(session, sys, model, term.t);
    if (p.invariant === null) return [`${text}: not printed (${p.why})`];
    const inv = p.invariant;
    const out: string[] = [];
    const slots = [...new Set(term.slots)];
    for (const base of bases) {
      const walk = (i: number, s: Int32Array) => {
        if (i === slots.length) {
          const want = z3Holds(term.t, s);
          let got: boolean | string;
          try {
            got = holds(model, inv, s);
          } catch (e) {
            got = String(e);
          }
          if (got !== want) out.push(`${text} in ${s.join(',')}: z3 ${want}, printed ${got}`);
          return;
        }
        const j = slots[i] as number;
        for (const v of slotValues(model, j)) {
          const t = new Int32Array(s);
          t[j] = v;
          walk(i + 1, t);
        }
      };
      walk(0, base);
    }
    return out;
  };
  return { sys, z, ctx, tm, width, disagreements };
}

/** Every atom the printer reads over slot `j` (each comparison with every code of the slot's width, both ways round; each bit). */
function atomsOf(k: ReturnType<typeof kit>, j: number): Term[] {
  const { z, ctx, tm, sys } = k;
  const x = sys.vars[j] as Z3_ast;
  if (types[j]?.kind === 'bool') return [{ t: x, slots: [j] }];
  const w = k.width(j);
  const out: Term[] = [];
  const cmps = [z.mk_bvule, z.mk_bvuge, z.mk_bvult, z.mk_bvugt];
  for (let c = 0; c < 2 ** w; c++) {
    const n = tm.bv(c, w);
    out.push({ t: tm.eq(x, n), slots: [j] }, { t: tm.eq(n, x), slots: [j] });
    for (const mk of cmps) out.push({ t: mk(ctx, x, n), slots: [j] }, { t: mk(ctx, n, x), slots: [j] });
  }
  for (let i = 0; i < w; i++) {
    const bit = tm.extract(i, i, x);
    for (const b of [0, 1]) out.push({ t: tm.eq(bit, tm.bv(b, 1)), slots: [j] }, { t: tm.eq(tm.bv(b, 1), bit), slots: [j] });
    out.push({ t: z.mk_bit2bool(ctx, i, x), slots: [j] });
  }
  return out;
}

describe('the printer of Spacer invariants', () => {
  it('every atom over every slot (a code compared by =, <=, >=, <, > on either side, a bit by extract or bit2bool, a Boolean slot, the constants) holds exactly where z3 finds it true', async () => {
    await withSession(async (session) => {
      const k = kit(session);
      const bad: string[] = [];
      let n = 0;
      for (let j = 0; j < nSlots; j++) {
        for (const a of atomsOf(k, j)) {
          n++;
          bad.push(...k.disagreements(a));
        }
      }
      for (const t of [k.tm.T, k.tm.F]) bad.push(...k.disagreements({ t, slots: [0] }));
      // A Boolean slot compared with a constant is an `=` of Booleans.
      const b = k.sys.vars[boolSlots[0] as number] as Z3_ast;
      for (const c of [k.tm.T, k.tm.F]) bad.push(...k.disagreements({ t: k.tm.eq(b, c), slots: [boolSlots[0] as number] }));
      expect(bad).toEqual([]);
      expect(n).toBeGreaterThan(500);
    });
  }, 60_000);

  it('two slots of one sort are equal where z3 finds them equal: Booleans, and bit-vector codes of one width whatever the types (ranges from different bounds, an option and its inner type, two enums, an enum and a range)', async () => {
    await withSession(async (session) => {
      const k = kit(session);
      const bad: string[] = [];
      let n = 0;
      let mixed = 0;
      for (const a of [...boolSlots, ...bvSlots])
        for (const b of [...boolSlots, ...bvSlots]) {
          const [x, y] = [k.sys.vars[a] as Z3_ast, k.sys.vars[b] as Z3_ast];
          if (a === b || (types[a]?.kind === 'bool') !== (types[b]?.kind === 'bool') || (types[a]?.kind !== 'bool' && k.width(a) !== k.width(b))) continue;
          n++;
          if (JSON.stringify(types[a]) !== JSON.stringify(types[b])) mixed++;
          bad.push(...k.disagreements({ t: k.tm.eq(x, y), slots: [a, b] }));
        }
      expect(bad).toEqual([]);
      expect({ n: n > 100, mixed: mixed > 50 }).toEqual({ n: true, mixed: true });
    });
  }, 60_000);

  it('two slots of one type are printed as the equality of the two, as a person writes it', async () => {
    await withSession(async (session) => {
      const { sys, tm } = kit(session);
      const { mig, view, owner, busy } = model.handles;
      const slot = (name: string) => sys.vars[model.layout.slotNames.indexOf(name)] as Z3_ast;
      const print = (a: string, b: string) => printInvariant(session, sys, model, tm.eq(slot(a), slot(b)));
      expect([print('mig[0].step', 'view[0]'), print('owner[2]', 'owner[0]'), print('busy[1]', 'busy[0]')]).toEqual([
        { invariant: eq(mig.at(0).f('step'), view.at(0)), why: '' },
        { invariant: eq(owner.at(2), owner.at(0)), why: '' },
        { invariant: eq(busy.at(1), busy.at(0)), why: '' },
      ]);
    });
  }, 60_000);

  it('random nestings of atoms under and, or, not, implies, iff (an = of Booleans) and the constants hold exactly where z3 finds them true', async () => {
    await withSession(async (session) => {
      const k = kit(session);
      const { z, ctx, tm } = k;
      const r = rng(9);
      const pick = <T>(xs: readonly T[]): T => xs[r(xs.length)] as T;
      const atoms = Array.from({ length: nSlots }, (_, j) => atomsOf(k, j));
      const bad: string[] = [];
      for (let i = 0; i < 150; i++) {
        // Three slots per formula, so that every combination of their values is tried.
        const slots = [r(nSlots), r(nSlots), r(nSlots)];
        const gen = (depth: number): Z3_ast => {
          const op = depth === 0 ? 0 : r(8);
          if (op === 0 || op === 1) {
            if (r(12) === 0) return r(2) ? tm.T : tm.F;
            return pick(atoms[pick(slots)] as Term[]).t;
          }
          const more = () => (r(2) ? [gen(depth - 1)] : []);
          switch (op) {
            case 2:
              return z.mk_and(ctx, [gen(depth - 1), gen(depth - 1), ...more()]);
            case 3:
              return z.mk_or(ctx, [gen(depth - 1), gen(depth - 1), ...more()]);
            case 4:
              return z.mk_not(ctx, gen(depth - 1));
            case 5:
              return z.mk_implies(ctx, gen(depth - 1), gen(depth - 1));
            case 6:
              return z.mk_iff(ctx, gen(depth - 1), gen(depth - 1));
            default:
              return tm.eq(gen(depth - 1), gen(depth - 1));
          }
        };
        bad.push(...k.disagreements({ t: gen(3), slots }));
      }
      expect(bad).toEqual([]);
    });
  }, 60_000);

  it('a bound variable or a quantifier gives no invariant, with the reason quoting the term (cut at 200 characters)', async () => {
    await withSession(async (session) => {
      const { sys, z, ctx, tm } = kit(session);
      const b = sys.vars[boolSlots[0] as number] as Z3_ast;
      const v = z.mk_bound(ctx, 0, tm.boolSort());
      // A quantifier whose text is longer than 200 characters: a bound Boolean or'ed with an atom of every slot.
      const c = tm.boolConst('q');
      const q = tm.forall([c], z.mk_or(ctx, [c, ...sys.vars.map((x, j) => (types[j]?.kind === 'bool' ? x : tm.eq(x, tm.bv(0, tm.width(x)))))]));
      const why = (t: Z3_ast) => `Spacer's invariant has a quantifier or variable: ${z.ast_to_string(ctx, t).slice(0, 200)}`;
      expect(z.ast_to_string(ctx, q).length).toBeGreaterThan(200);
      expect(printInvariant(session, sys, model, v)).toEqual({ invariant: null, why: why(v) });
      expect(printInvariant(session, sys, model, z.mk_and(ctx, [b, v]))).toEqual({ invariant: null, why: why(v) });
      expect(printInvariant(session, sys, model, q)).toEqual({ invariant: null, why: why(q) });
      expect(printInvariant(session, sys, model, z.mk_or(ctx, [z.mk_not(ctx, q), b]))).toEqual({ invariant: null, why: why(q) });
    });
  }, 60_000);

  it('a term the printer does not know gives no invariant, with the reason quoting that term (cut at 200 characters)', async () => {
    await withSession(async (session) => {
      const { sys, z, ctx, tm } = kit(session);
      const slot = (name: string) => sys.vars[model.layout.slotNames.indexOf(name)] as Z3_ast;
      const [n, hi, top] = [slot('n'), slot('hi'), slot('top')];
      const [b0, b1] = [sys.vars[boolSlots[0] as number] as Z3_ast, sys.vars[boolSlots[1] as number] as Z3_ast];
      const unknown: Z3_ast[] = [
        z.mk_xor(ctx, b0, b1),
        z.mk_ite(ctx, b0, b1, b0),
        z.mk_bvslt(ctx, n, tm.bv(1, 2)),
        z.mk_distinct(ctx, [n, hi]),
        tm.eq(tm.add(n, tm.bv(1, 2)), tm.bv(2, 2)),
        // Slot against slot by an order, a numeral against a numeral.
        tm.ule(n, hi),
        z.mk_bvugt(ctx, top, tm.add(top, tm.bv(1, 3))),
        z.mk_bvuge(ctx, tm.bv(1, 2), tm.bv(2, 2)),
        tm.eq(tm.bv(1, 2), tm.bv(1, 2)),
        // Two bits of a slot at once, a bit of something else than a slot, bit against bit.
        tm.eq(tm.extract(1, 0, top), tm.bv(1, 2)),
        tm.eq(tm.bv(1, 2), tm.extract(2, 1, top)),
        tm.eq(tm.extract(0, 0, tm.add(n, hi)), tm.bv(1, 1)),
        tm.eq(tm.bv(0, 1), tm.extract(0, 0, tm.add(n, hi))),
        z.mk_bit2bool(ctx, 0, tm.add(n, hi)),
        tm.eq(tm.extract(0, 0, n), tm.extract(0, 0, hi)),
        // A constant that is no slot, alone and equal to a slot or a numeral, and a bound variable inside an atom.
        tm.boolConst('stranger'),
        tm.eq(n, tm.bvConst('other', 2)),
        tm.eq(tm.bvConst('other2', 2), tm.bv(1, 2)),
        tm.eq(z.mk_bound(ctx, 0, tm.bvSort(2)), tm.bv(1, 2)),
        tm.eq(tm.bv(1, 2), z.mk_bound(ctx, 0, tm.bvSort(2))),
        // One whose text is longer than 200 characters: the reason quotes its first 200.
        z.mk_xor(ctx, z.mk_and(ctx, [...sys.vars.map((x, j) => (types[j]?.kind === 'bool' ? x : tm.eq(x, tm.bv(0, tm.width(x)))))]), b0),
      ];
      const why = (t: Z3_ast) => `Spacer's invariant uses a term the printer does not know: ${z.ast_to_string(ctx, t).slice(0, 200)}`;
      expect(z.ast_to_string(ctx, unknown[unknown.length - 1] as Z3_ast).length).toBeGreaterThan(200);
      for (const t of unknown) {
        expect(printInvariant(session, sys, model, t), z.ast_to_string(ctx, t)).toEqual({ invariant: null, why: why(t) });
        // Inside a formula, the reason quotes the term itself.
        expect(printInvariant(session, sys, model, z.mk_or(ctx, [b0, z.mk_not(ctx, z.mk_and(ctx, [t, b1]))])), z.ast_to_string(ctx, t)).toEqual({
          invariant: null,
          why: why(t),
        });
      }
    });
  }, 60_000);
});
