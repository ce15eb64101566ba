import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Expr, eq, forall, some } from '../../model/lang/expr.js';
import { holds } from '../../model/lang/interp.js';
import { type Model, buildModel, defineProtocol, intParam } from '../../model/lang/protocol.js';
import { bool, option, range } from '../../model/lang/types.js';
import { inferenceModel, reachableStates, sampleStates } from './inferenceModel.testkit.js';
import { freshModulePath, hintsModuleSource, saveHintsModule } from './hintsModule.js';
import { type PrintedFact, exprSource, printFacts } from './invariantPrinter.js';
import { buildReachableSet } from './reachableSet.js';
import { mineFacts } from './stateFacts.js';

const root = resolve(import.meta.dirname, '../..');
const scratch: string[] = [];
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});
/** A fresh directory under `parent`, removed after the tests. */
function freshDir(parent: string): string {
  mkdirSync(parent, { recursive: true });
  const d = mkdtempSync(join(parent, 'hints-'));
  scratch.push(d);
  return d;
}

const model = inferenceModel;
/** The conjuncts printed for every fact mined from the model's reachable states. */
function printed(): PrintedFact[] {
  const built = buildReachableSet(model, [], 100_000, null);
  if (built.status !== 'complete') throw new Error(built.status);
  return printFacts(model, mineFacts(model, built.set));
}
/** One conjunct, written by hand. */
const conjunct = (expr: Expr): PrintedFact => ({ expr, source: exprSource(expr), covers: 1 });

describe('freshModulePath', () => {
  it('is the path itself while nothing is there, else the first of name.1.ts, name.2.ts, ... that is free', () => {
    const d = freshDir(tmpdir());
    const p = join(d, 'hints.ts');
    expect(freshModulePath(p)).toBe(p);
    writeFileSync(p, '');
    expect(freshModulePath(p)).toBe(join(d, 'hints.1.ts'));
    writeFileSync(join(d, 'hints.1.ts'), '');
    expect(freshModulePath(p)).toBe(join(d, 'hints.2.ts'));
    // A name without an extension is numbered at its end.
    const q = join(d, 'plain');
    writeFileSync(q, '');
    expect(freshModulePath(q)).toBe(join(d, 'plain.1'));
  });
});

describe('hintsModuleSource', () => {
  /** The import specifiers of a module's source. */
  const specifiers = (src: string) => [...src.matchAll(/from '([^']+)'/g)].map((m) => m[1] as string);

  it('every import specifier is relative and names a module of the project, from a directory inside it, at its root, or outside it', () => {
    const cs = printed().slice(0, 3);
    for (const dir of [join(root, 'counterexamples-out', 'x', 'y'), root, tmpdir()]) {
      const specs = specifiers(hintsModuleSource(model, cs, dir));
      expect(specs.length).toBe(4);
      for (const s of specs) {
        expect(s.startsWith('./') || s.startsWith('../'), `${dir}: ${s}`).toBe(true);
        // The plain relative path: './' only where the module is not above the file.
        expect(s.startsWith('./..'), `${dir}: ${s}`).toBe(false);
        expect(existsSync(resolve(dir, s).replace(/\.js$/, '.ts')), `${dir}: ${s}`).toBe(true);
      }
    }
  });

  it('declares exactly the variables and index types its conjuncts name, and imports only constructors and types they use', () => {
    const cs = printed();
    const few = cs.filter((c) => !/\bfar\b|\bFrame\b/.test(c.source));
    for (const set of [cs, few]) {
      const src = hintsModuleSource(model, set, root);
      const body = set.map((c) => c.source).join('\n');
      const named = (n: string) => new RegExp(`\\b${n}\\b`).test(body);
      const vars = [...src.matchAll(/const (\w+) = stateVar\('(\w+)'\)/g)].map((m) => m[1]);
      const idx = [...src.matchAll(/const (\w+) = indexType\('(\w+)'\)/g)].map((m) => m[1]);
      expect(vars).toEqual(model.vars.map((v) => v.name).filter(named));
      expect(idx).toEqual(model.indexes.map((t) => t.name).filter(named));
      const imported = [...src.matchAll(/import \{ ([^}]*) \} from/g)].flatMap((m) => (m[1] as string).split(', ')).map((x) => x.replace(/^type /, ''));
      const own = new Set(['Ref', 'IndexType', 'ProofHints', 'invariant']);
      for (const name of imported) if (!own.has(name)) expect(named(name), name).toBe(true);
    }
    // The subset leaves out a variable and an index type that the full set names.
    expect(hintsModuleSource(model, few, root)).not.toMatch(/stateVar\('far'\)|indexType\('Frame'\)/);
    expect(hintsModuleSource(model, cs, root)).toMatch(/indexType\('Frame'\)/);
  });

  it('with no conjuncts imports no constructor or type, and declares nothing', () => {
    const src = hintsModuleSource(model, [], root);
    expect(src).toMatch(/import \{ Ref \} from/);
    expect(src).toMatch(/import \{ type IndexType \} from/);
    expect(src).not.toMatch(/stateVar\('/);
    expect(src).not.toMatch(/invariant\('inferred/);
  });

  it('the header names the protocol, its variant (only when there is one) and its parameter values', () => {
    const proto = (variant: boolean) =>
      defineProtocol({
        name: 'tiny',
        summary: '',
        spec: '',
        params: { size: intParam(2, 1, 3, 'the size'), depth: intParam(1, 0, 2, 'the depth') },
        variants: variant ? [{ name: 'broken', summary: '', cites: '' }] : [],
        build(b) {
          b.v('x', bool);
          b.init('start', () => []);
          return {};
        },
      });
    const plain = hintsModuleSource(buildModel(proto(false)), [], root);
    expect(plain).toContain(' * Proof hints for tiny, inferred by');
    expect(plain).toContain(' * size=2 depth=1. Each conjunct');
    expect(plain).not.toContain('(variant');
    const broken = hintsModuleSource(buildModel(proto(true), { variant: 'broken', params: { size: 3 } }), [], root);
    expect(broken).toContain(' * Proof hints for tiny (variant broken), inferred by');
    expect(broken).toContain(' * size=3 depth=1. Each conjunct');
  });

  it('refuses a model whose names used by the conjuncts clash with the names of the module or are no identifiers; unused names do not matter', () => {
    const withVar = (name: string) =>
      buildModel(
        defineProtocol({
          name: 'clash',
          summary: '',
          spec: '',
          params: {},
          variants: [],
          build(b) {
            const P = b.index(name === 'Page' ? 'Q' : 'Page', 2);
            b.v(name, bool);
            b.v('ok', range(0, 1));
            b.v('o', option(P));
            b.init('start', () => []);
            return {};
          },
        }),
      );
    for (const name of ['and', 'forall', 'option', 'Ref', 'invariant', 'model', 'stateVar', 'inferredHints', 'ProofHints', 'my-flag', '1st']) {
      const m = withVar(name);
      const use = conjunct(eq({ op: 'read', type: bool, loc: { varIdx: 0, varName: name, path: [], type: bool } }, true));
      expect(() => hintsModuleSource(m, [use], root), name).toThrow(`the model name '${name}' is not usable as an identifier there`);
      // The same model with conjuncts that do not name it is fine.
      const other = conjunct(eq({ op: 'read', type: range(0, 1), loc: { varIdx: 1, varName: 'ok', path: [], type: range(0, 1) } }, 1));
      expect(() => hintsModuleSource(m, [other], root)).not.toThrow();
    }
    // An index type's name is checked too.
    const ix = buildModel(
      defineProtocol({
        name: 'clash-index',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const T = b.index('indexType', 2);
          b.v('o', option(T));
          b.init('start', () => []);
          return { T };
        },
      }),
    );
    const T = ix.indexes[0];
    if (!T) throw new Error('no index');
    const o = { op: 'read', type: option(T), loc: { varIdx: 0, varName: 'o', path: [], type: option(T) } } as const;
    const q = forall(T, (t) => eq(o, some(t, option(T))));
    expect(() => hintsModuleSource(ix, [conjunct(q)], root)).toThrow("the model name 'indexType' is not usable as an identifier there");
  });
});

describe('saveHintsModule', () => {
  it('writes a module that loads, names the conjuncts inferred-1, inferred-2, ..., and rebuilds each one (same source, same truth in the states sampled)', async () => {
    const cs = printed();
    const dir = freshDir(join(root, 'counterexamples-out'));
    const file = saveHintsModule(join(dir, 'sub', 'hints.ts'), model, cs);
    expect(file).toBe(join(dir, 'sub', 'hints.ts'));
    const second = saveHintsModule(join(dir, 'sub', 'hints.ts'), model, cs);
    expect(second).toBe(join(dir, 'sub', 'hints.1.ts'));
    expect(readFileSync(second, 'utf8')).toBe(readFileSync(file, 'utf8'));
    const mod = (await import(file)) as { inferredHints: (m: Model) => { strengthening: { name: string; pred: Expr }[] } };
    const hints = mod.inferredHints(model).strengthening;
    expect(hints.map((x) => x.name)).toEqual(cs.map((_, i) => `inferred-${i + 1}`));
    const reach = reachableStates(model);
    const all = sampleStates(model, reach, 40);
    const states = [...reach.filter((_, i) => i % 3 === 0), ...all.slice(all.length - 40)];
    hints.forEach((x, i) => {
      const c = cs[i] as PrintedFact;
      expect(exprSource(x.pred)).toBe(c.source);
      expect(states.find((s) => holds(model, x.pred, s) !== holds(model, c.expr, s))?.join(','), c.source).toBeUndefined();
    });
    expect(dirname(file)).toBe(join(dir, 'sub'));
  });

  it('the module refuses a model without a variable or index type it names', async () => {
    const dir = freshDir(join(root, 'counterexamples-out'));
    const file = saveHintsModule(join(dir, 'hints.ts'), model, printed());
    const mod = (await import(file)) as { inferredHints: (m: Model) => unknown };
    const other = buildModel(
      defineProtocol({
        name: 'other',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          b.index('Page', 2);
          b.index('Frame', 3);
          b.v('x', bool);
          b.init('start', () => []);
          return {};
        },
      }),
    );
    expect(() => mod.inferredHints(other)).toThrow(/inferred hints: the model has no variable \w+/);
    const noFrame = { ...model, indexes: model.indexes.filter((t) => t.name !== 'Frame') } as Model;
    expect(() => mod.inferredHints(noFrame)).toThrow('inferred hints: the model has no index type Frame');
  });
});
