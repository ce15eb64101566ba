/**
 * Symbolic scalar values and the operations on them, shared by both SMT translations. Why this
 * module exists: the language computes on small integers ("natural values": enum ordinals, range
 * values, index ordinals, -1 for none), and the translations must reproduce that arithmetic exactly
 * while keeping bit-vectors narrow. A symbolic number is a bit-vector *code* plus a constant offset
 * (natural = code + off) and static bounds on the natural value; constants stay JavaScript numbers so
 * that rule parameters and literals fold away before z3 sees them.
 *
 * Elements of uninterpreted sorts (`e`) and options over them (`o`) only occur in the unbounded
 * translation, where index types have no numbers.
 */
import type { Z3_ast } from 'z3-solver';
import { type ScalarType, cardinality, fromCode, minValue } from '../../model/lang/types.js';
import { type Terms, bitsFor } from './terms.js';

/** A Boolean; `c` is set when the value is a known constant. */
export interface BoolSym {
  readonly k: 'b';
  readonly t: Z3_ast;
  readonly c?: boolean;
}
/** A number: natural = unsigned(t) + off, known to lie in lo..hi; `t` has `w` bits. */
export interface NumSym {
  readonly k: 'n';
  readonly t: Z3_ast;
  readonly w: number;
  readonly off: number;
  readonly lo: number;
  readonly hi: number;
}
/** A known natural value. */
export interface ConstSym {
  readonly k: 'v';
  readonly v: number;
}
/** An element of the uninterpreted sort standing for an index type (unbounded translation only). */
export interface ElemSym {
  readonly k: 'e';
  readonly t: Z3_ast;
  readonly sort: string;
}
/** An option over an index type (unbounded translation only); `val` is meaningless when not `some`. */
export interface OptSym {
  readonly k: 'o';
  readonly some: BoolSym;
  readonly val: ElemSym;
}

export type NumLike = NumSym | ConstSym;
export type Sym = BoolSym | NumSym | ConstSym | ElemSym | OptSym;

/** Thrown when a model uses something a translation cannot express (the message says what). */
export class SmtUnsupported extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmtUnsupported';
  }
}

export class SymOps {
  readonly tm: Terms;
  readonly T: BoolSym;
  readonly F: BoolSym;

  constructor(tm: Terms) {
    this.tm = tm;
    this.T = { k: 'b', t: tm.T, c: true };
    this.F = { k: 'b', t: tm.F, c: false };
  }

  bool(t: Z3_ast): BoolSym {
    return { k: 'b', t };
  }
  lit(b: boolean): BoolSym {
    return b ? this.T : this.F;
  }
  not(a: BoolSym): BoolSym {
    return a.c === undefined ? this.bool(this.tm.not(a.t)) : this.lit(!a.c);
  }
  and(xs: readonly BoolSym[]): BoolSym {
    const rest: BoolSym[] = [];
    for (const x of xs) {
      if (x.c === false) return this.F;
      if (x.c !== true) rest.push(x);
    }
    if (rest.length === 0) return this.T;
    if (rest.length === 1) return rest[0] as BoolSym;
    return this.bool(this.tm.and(rest.map((x) => x.t)));
  }
  or(xs: readonly BoolSym[]): BoolSym {
    const rest: BoolSym[] = [];
    for (const x of xs) {
      if (x.c === true) return this.T;
      if (x.c !== false) rest.push(x);
    }
    if (rest.length === 0) return this.F;
    if (rest.length === 1) return rest[0] as BoolSym;
    return this.bool(this.tm.or(rest.map((x) => x.t)));
  }
  implies(a: BoolSym, b: BoolSym): BoolSym {
    return this.or([this.not(a), b]);
  }
  iff(a: BoolSym, b: BoolSym): BoolSym {
    if (a.c !== undefined && b.c !== undefined) return this.lit(a.c === b.c);
    if (a.c !== undefined) return a.c ? b : this.not(b);
    if (b.c !== undefined) return b.c ? a : this.not(a);
    return this.bool(this.tm.eq(a.t, b.t));
  }

  lo(x: NumLike): number {
    return x.k === 'v' ? x.v : x.lo;
  }
  hi(x: NumLike): number {
    return x.k === 'v' ? x.v : x.hi;
  }

  /** A number from a code term of `w` bits with natural = code + off, in lo..hi. */
  num(t: Z3_ast, w: number, off: number, lo: number, hi: number): NumLike {
    return lo === hi ? { k: 'v', v: lo } : { k: 'n', t, w, off, lo, hi };
  }

  /**
   * The `w`-bit term holding (natural - off) mod 2^w. Exact whenever the natural value lies in
   * off..off+2^w-1; outside (only on paths that raise a model error) it wraps.
   */
  code(x: NumLike, off: number, w: number): Z3_ast {
    const tm = this.tm;
    if (x.k === 'v') return tm.bv(x.v - off, w);
    const delta = x.off - off;
    if (delta === 0) return x.w === w ? x.t : x.w < w ? tm.zext(x.t, w - x.w) : tm.extract(w - 1, 0, x.t);
    const wp = Math.max(x.w, w);
    const t = tm.add(tm.zext(x.t, wp - x.w), tm.bv(delta, wp));
    return wp > w ? tm.extract(w - 1, 0, t) : t;
  }

  private span(xs: readonly NumLike[]): { off: number; hi: number; w: number } {
    const off = Math.min(...xs.map((x) => this.lo(x)));
    const hi = Math.max(...xs.map((x) => this.hi(x)));
    return { off, hi, w: bitsFor(hi - off + 1) };
  }

  eqNum(a: NumLike, b: NumLike): BoolSym {
    if (a.k === 'v' && b.k === 'v') return this.lit(a.v === b.v);
    if (this.hi(a) < this.lo(b) || this.hi(b) < this.lo(a)) return this.F;
    if (a.k === 'n' && b.k === 'n' && a.off === b.off && a.w === b.w) return this.bool(this.tm.eq(a.t, b.t));
    const { off, w } = this.span([a, b]);
    return this.bool(this.tm.eq(this.code(a, off, w), this.code(b, off, w)));
  }

  /** a < b (strict) or a <= b. */
  lessNum(a: NumLike, b: NumLike, strict: boolean): BoolSym {
    if (a.k === 'v' && b.k === 'v') return this.lit(strict ? a.v < b.v : a.v <= b.v);
    if (strict ? this.hi(a) < this.lo(b) : this.hi(a) <= this.lo(b)) return this.T;
    if (strict ? this.lo(a) >= this.hi(b) : this.lo(a) > this.hi(b)) return this.F;
    const { off, w } = this.span([a, b]);
    const ca = this.code(a, off, w);
    const cb = this.code(b, off, w);
    return this.bool(strict ? this.tm.ult(ca, cb) : this.tm.ule(ca, cb));
  }

  arith(fn: 'add' | 'sub' | 'mul', a: NumLike, b: NumLike): NumLike {
    if (a.k === 'v' && b.k === 'v') return { k: 'v', v: fn === 'add' ? a.v + b.v : fn === 'sub' ? a.v - b.v : a.v * b.v };
    const [al, ah, bl, bh] = [this.lo(a), this.hi(a), this.lo(b), this.hi(b)];
    let lo: number;
    let hi: number;
    if (fn === 'add') [lo, hi] = [al + bl, ah + bh];
    else if (fn === 'sub') [lo, hi] = [al - bh, ah - bl];
    else {
      const cs = [al * bl, al * bh, ah * bl, ah * bh];
      [lo, hi] = [Math.min(...cs), Math.max(...cs)];
    }
    if (lo === hi) return { k: 'v', v: lo };
    const m = Math.max(...[al, ah, bl, bh, lo, hi].map(Math.abs));
    if (m > 2 ** 30) throw new SmtUnsupported(`arithmetic on values up to ${m} is too wide for the SMT translation`);
    // Two's complement in W bits is exact for every value involved.
    const W = bitsFor(m + 1) + 1;
    const tm = this.tm;
    const sa = this.code(a, 0, W);
    const sb = this.code(b, 0, W);
    const r = fn === 'add' ? tm.add(sa, sb) : fn === 'sub' ? tm.sub(sa, sb) : tm.mul(sa, sb);
    const wr = bitsFor(hi - lo + 1);
    const shifted = tm.sub(r, tm.bv(lo, W));
    return this.num(W > wr ? tm.extract(wr - 1, 0, shifted) : shifted, wr, lo, lo, hi);
  }

  /** Whether the natural value lies in lo..hi. */
  inRange(x: NumLike, lo: number, hi: number): BoolSym {
    if (this.lo(x) >= lo && this.hi(x) <= hi) return this.T;
    if (this.hi(x) < lo || this.lo(x) > hi) return this.F;
    const off = Math.min(this.lo(x), lo);
    const w = bitsFor(Math.max(this.hi(x), hi) - off + 1);
    const c = this.code(x, off, w);
    const parts: BoolSym[] = [];
    if (this.lo(x) < lo) parts.push(this.bool(this.tm.ule(this.tm.bv(lo - off, w), c)));
    if (this.hi(x) > hi) parts.push(this.bool(this.tm.ule(c, this.tm.bv(hi - off, w))));
    return this.and(parts);
  }

  /** `c ? a : b` for values of the same kind. */
  ite(c: BoolSym, a: Sym, b: Sym): Sym {
    if (c.c !== undefined) return c.c ? a : b;
    if (a === b) return a;
    if (a.k === 'b' && b.k === 'b') {
      if (a.c !== undefined && b.c !== undefined) return a.c === b.c ? a : a.c ? c : this.not(c);
      return this.bool(this.tm.ite(c.t, a.t, b.t));
    }
    if ((a.k === 'n' || a.k === 'v') && (b.k === 'n' || b.k === 'v')) {
      if (a.k === 'v' && b.k === 'v' && a.v === b.v) return a;
      const { off, hi, w } = this.span([a, b]);
      return this.num(this.tm.ite(c.t, this.code(a, off, w), this.code(b, off, w)), w, off, off, hi);
    }
    if (a.k === 'e' && b.k === 'e') return { k: 'e', t: this.tm.ite(c.t, a.t, b.t), sort: a.sort };
    if (a.k === 'o' && b.k === 'o') {
      return { k: 'o', some: this.ite(c, a.some, b.some) as BoolSym, val: this.ite(c, a.val, b.val) as ElemSym };
    }
    throw new Error(`ite over mismatched symbolic values ${a.k} and ${b.k}`);
  }

  /** Equality of two values of compatible types. */
  eq(a: Sym, b: Sym): BoolSym {
    if (a.k === 'b' && b.k === 'b') return this.iff(a, b);
    if ((a.k === 'n' || a.k === 'v') && (b.k === 'n' || b.k === 'v')) return this.eqNum(a, b);
    if (a.k === 'e' && b.k === 'e') return a.t === b.t ? this.T : this.bool(this.tm.eq(a.t, b.t));
    if (a.k === 'o' && b.k === 'o') {
      return this.and([this.iff(a.some, b.some), this.implies(a.some, this.eq(a.val, b.val))]);
    }
    throw new Error(`comparison of mismatched symbolic values ${a.k} and ${b.k}`);
  }

  /** Whether an option holds a value (natural >= 0). */
  isSome(x: Sym): BoolSym {
    if (x.k === 'o') return x.some;
    const n = this.asNum(x, 'isSome');
    return this.inRange(n, 0, Math.max(0, this.hi(n)));
  }

  /** The value inside an option (the caller records the error of unwrapping none). */
  unwrap(x: Sym): Sym {
    if (x.k === 'o') return x.val;
    const n = this.asNum(x, 'unwrap');
    if (n.k === 'v') return n;
    const lo = Math.max(0, n.lo);
    return lo > n.hi ? { k: 'v', v: 0 } : this.num(n.t, n.w, n.off, lo, n.hi);
  }

  asNum(x: Sym, what: string): NumLike {
    if (x.k === 'n' || x.k === 'v') return x;
    throw new SmtUnsupported(`${what} needs a number here, got a ${x.k === 'b' ? 'Boolean' : 'index element'}`);
  }
  asBool(x: Sym): BoolSym {
    if (x.k !== 'b') throw new Error('expected a Boolean symbolic value');
    return x;
  }

  // --- Scalar slots ----------------------------------------------------------------------------

  /** Bits of the code of a scalar type (0 for bool, which is a z3 Bool). */
  slotWidth(t: ScalarType): number {
    return t.kind === 'bool' ? 0 : bitsFor(cardinality(t));
  }
  /** The value held by a slot variable of type `t`. */
  slotSym(t: ScalarType, term: Z3_ast): Sym {
    if (t.kind === 'bool') return this.bool(term);
    const lo = fromCode(t, 0);
    return this.num(term, this.slotWidth(t), lo, lo, fromCode(t, cardinality(t) - 1));
  }
  /** The slot code of a value stored into a slot of type `t`. */
  slotTerm(t: ScalarType, x: Sym): Z3_ast {
    if (t.kind === 'bool') return this.asBool(x).t;
    return this.code(this.asNum(x, 'a slot'), fromCode(t, 0), this.slotWidth(t));
  }
  /** The default value of a scalar type (false, first enum value, lo, index 0, none). */
  defaultSym(t: ScalarType): Sym {
    return t.kind === 'bool' ? this.F : { k: 'v', v: minValue(t) };
  }
  /** The largest valid code of a type, when the code's bit-vector has room for invalid ones. */
  maxCode(t: ScalarType): number | null {
    if (t.kind === 'bool') return null;
    const n = cardinality(t);
    return n === 2 ** this.slotWidth(t) ? null : n - 1;
  }
}
