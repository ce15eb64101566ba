/**
 * An inferred invariant as a hints module. Why this module exists: `prove --infer --save-hints FILE`
 * turns what the inference found into source a protocol can keep and import as its proof hints
 * (`PropertySet.proofHints`), so later `prove` runs (k-induction, which is fast) start from it and
 * a reviewer can read it. The file is TypeScript written with the modelling language's own
 * constructors; variables are looked up by name in the built model, so the module does not depend
 * on the protocol's handles.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, extname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Model } from '../../model/lang/protocol.js';
import type { PrintedFact } from './invariantPrinter.js';
import { inferredName } from './proveInfer.js';

/** A path like `path` that does not exist yet: `path`, else `name.1.ts`, `name.2.ts`, ... */
export function freshModulePath(path: string): string {
  if (!existsSync(path)) return path;
  const ext = extname(path);
  const stem = path.slice(0, path.length - ext.length);
  for (let i = 1; ; i++) {
    const p = `${stem}.${i}${ext}`;
    if (!existsSync(p)) return p;
  }
}

/** The import specifier of a source module of this package (`model/lang/expr.js`) from `dir`. */
function importFrom(dir: string, projectPath: string): string {
  // This file is checker/smt/hintsModule.ts (or its build in dist/checker/smt): the project root is
  // two (three) levels up; modules are imported by their .js name either way.
  const here = dirname(fileURLToPath(import.meta.url));
  const inDist = here.split(sep).includes('dist');
  const root = resolve(here, inDist ? '../../..' : '../..');
  let rel = relative(dir, resolve(root, projectPath)).split(sep).join('/');
  if (!rel.startsWith('.')) rel = `./${rel}`;
  return rel;
}

const CONSTRUCTORS = [
  'add',
  'and',
  'eq',
  'exists',
  'forall',
  'implies',
  'isSome',
  'ite',
  'le',
  'lt',
  'ne',
  'none',
  'not',
  'or',
  'ord',
  'some',
  'sub',
  'unwrap',
];

/** The source of a hints module holding `conjuncts` (named inferred-1, inferred-2, ...). */
export function hintsModuleSource(model: Model, conjuncts: readonly PrintedFact[], dir: string): string {
  const used = (name: string) => conjuncts.some((c) => new RegExp(`\\b${name}\\b`).test(c.source));
  const reserved = new Set([
    ...CONSTRUCTORS,
    'bool',
    'enumOf',
    'option',
    'range',
    'Ref',
    'Model',
    'IndexType',
    'ProofHints',
    'invariant',
    'model',
    'stateVar',
    'indexType',
    'inferredHints',
  ]);
  const vars = model.vars.map((v) => v.name).filter(used);
  const indexes = model.indexes.map((ix) => ix.name).filter(used);
  const clash = [...vars, ...indexes].find((n) => reserved.has(n) || !/^[A-Za-z_$][\w$]*$/.test(n));
  if (clash) throw new Error(`cannot write a hints module: the model name '${clash}' is not usable as an identifier there`);
  const ctor = CONSTRUCTORS.filter((c) => conjuncts.some((x) => new RegExp(`\\b${c}\\b`).test(x.source)));
  const types = ['bool', 'enumOf', 'option', 'range'].filter((t) => conjuncts.some((x) => new RegExp(`\\b${t}\\b`).test(x.source)));
  const lines: string[] = [];
  lines.push('/**');
  lines.push(` * Proof hints for ${model.protocol}${model.variant ? ` (variant ${model.variant})` : ''}, inferred by \`mirrorcheck prove --infer\` at`);
  lines.push(
    ` * ${Object.entries(model.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}. Each conjunct holds in every reachable state at these sizes;`,
  );
  lines.push(' * together with the safety properties they are 1-inductive there (re-proved by k-induction, k = 1).');
  lines.push(' * At other sizes or variants they may not hold: a proof that uses them says so (a trace or a');
  lines.push(' * counterexample to induction).');
  lines.push(' */');
  lines.push(`import { Ref${ctor.length ? `, ${ctor.join(', ')}` : ''} } from '${importFrom(dir, 'model/lang/expr.js')}';`);
  lines.push(`import type { Model } from '${importFrom(dir, 'model/lang/protocol.js')}';`);
  lines.push(`import { type IndexType${types.length ? `, ${types.join(', ')}` : ''} } from '${importFrom(dir, 'model/lang/types.js')}';`);
  lines.push(`import { type ProofHints, invariant } from '${importFrom(dir, 'properties/property.js')}';`);
  lines.push('');
  lines.push('/** The inferred strengthening invariants, for `PropertySet.proofHints`. */');
  lines.push('export function inferredHints(model: Model): ProofHints {');
  lines.push('  const stateVar = (name: string): Ref => {');
  lines.push('    const i = model.vars.findIndex((x) => x.name === name);');
  lines.push('    const x = model.vars[i];');
  lines.push("    if (!x) throw new Error('inferred hints: the model has no variable ' + name);");
  lines.push('    return new Ref({ varIdx: i, varName: name, path: [], type: x.type });');
  lines.push('  };');
  lines.push('  const indexType = (name: string): IndexType => {');
  lines.push('    const x = model.indexes.find((t) => t.name === name);');
  lines.push("    if (!x) throw new Error('inferred hints: the model has no index type ' + name);");
  lines.push('    return x;');
  lines.push('  };');
  for (const n of vars) lines.push(`  const ${n} = stateVar('${n}');`);
  for (const n of indexes) lines.push(`  const ${n} = indexType('${n}');`);
  lines.push('  return {');
  lines.push('    strengthening: [');
  conjuncts.forEach((c, i) => {
    lines.push(`      invariant('${inferredName(i)}', 'INFERRED', 'found by prove --infer', ${c.source}),`);
  });
  lines.push('    ],');
  lines.push('  };');
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Writes the hints module to `path` (or a fresh name next to it: never overwrites); returns the path written. */
export function saveHintsModule(path: string, model: Model, conjuncts: readonly PrintedFact[]): string {
  const target = freshModulePath(resolve(path));
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, hintsModuleSource(model, conjuncts, dirname(target)), { flag: 'wx' });
  return target;
}
