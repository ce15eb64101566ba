/**
 * The project file `mirrorcheck.config.json`: what `mirrorcheck ci` checks. Why this module exists: a
 * driver author's CI states, once, which models to check at which sizes with which engines and what
 * each case must show; this module reads that file, validates it against the JSON schema that ships in
 * the package (schemas/mirrorcheck.config.schema.json, with Ajv), checks the names in it against the
 * packages (variants, properties, sizes, parameters), and expands it into the list of cases to run.
 * Anything wrong with the file is one line, MC015, naming the file and the JSON path of the problem.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { McError } from '../model/lang/errors.js';
import { type ParamValues, buildModel, resolveParams, variantParams, variantProblem } from '../model/lang/protocol.js';
import type { ProtocolPackage } from '../properties/package.js';
import type { Property } from '../properties/property.js';
import { type SolverName, checkSolver } from './engines.js';
import { looksLikeModelFile, packageRoot } from './modelFiles.js';
import { type LoadOptions, type ResolvedPackage, resolvePackage } from './packages.js';
import { lookupProtocol, registry } from './registry.js';

/** The engines a project file names (`prove` is k-induction, or with `unbounded` a proof for every size). */
export type CiEngineName = 'explicit' | 'random' | 'smt' | 'prove';

/** What the variants of a model must show: every one, none, some by name, or some with the property each must violate. */
export type VariantsSpec = 'all' | 'none' | readonly string[] | Readonly<Record<string, { readonly property?: string }>>;

/** One engine entry of the file, with its options. */
export interface EngineSpec {
  readonly engine: CiEngineName;
  readonly timeLimit?: number;
  readonly correct?: 'holds' | 'skip';
  readonly variants?: VariantsSpec;
  readonly maxStates?: number;
  readonly depth?: number;
  readonly strategy?: 'bfs' | 'dfs';
  readonly symmetry?: boolean;
  readonly deadlock?: boolean;
  readonly seed?: number;
  readonly runs?: number;
  readonly solver?: SolverName;
  readonly maxK?: number;
  readonly unbounded?: boolean;
}

/** One model entry of the file. */
export interface ModelSpec {
  readonly model: string;
  readonly sizes?:
    | readonly (string | Readonly<Record<string, number | string>>)[]
    | { readonly matrix: Readonly<Record<string, readonly (number | string)[]>> };
  readonly engines?: readonly (CiEngineName | EngineSpec)[];
  readonly timeLimit?: number;
  readonly maxStates?: number;
  readonly correct?: 'holds' | 'skip';
  readonly variants?: VariantsSpec;
  readonly corpus?: boolean;
}

/** The project file, as the schema describes it. */
export interface ProjectFile {
  readonly out?: string;
  readonly timeLimit?: number;
  readonly maxStates?: number;
  readonly models: readonly ModelSpec[];
}

/** One parameter size of a model: how the file named it, and the parameter values. */
export interface PlannedSize {
  /** `default`, a named size of the package, or the parameters as `k=v ...`. */
  readonly label: string;
  /** The values resolved for the correct protocol (every parameter). */
  readonly params: ParamValues;
  /** The values the file gave (none for `default`): a variant's own params apply beneath them. */
  readonly given: Readonly<Record<string, number | string>>;
}

/** What a case must show. */
export type Expectation = { readonly kind: 'holds' } | { readonly kind: 'violated'; readonly property: string | null };

/** One case: a model at one size, with one engine, the correct protocol or one variant. */
export interface PlannedCase {
  /** JSON path of the model entry, e.g. `$.models[0]`. */
  readonly where: string;
  readonly entry: ResolvedPackage;
  /** The model as the file names it. */
  readonly modelName: string;
  readonly size: PlannedSize;
  /** The engine with its limits filled in from the model entry and the file. */
  readonly engine: EngineSpec;
  /** null: the correct protocol. */
  readonly variant: string | null;
  readonly expect: Expectation;
  /** Set when the case is not run (the variant does not apply at this size). */
  readonly skip?: string;
  /**
   * Set when a variant that must be violated applies to none of the sizes of its entry: it is never
   * checked, which is an unmet expectation, not a skip.
   */
  readonly unmet?: string;
}

/** A saved counterexample of a package's corpus, to replay. */
export interface PlannedCorpusTrace {
  readonly where: string;
  readonly entry: ResolvedPackage;
  readonly modelName: string;
  /** Absolute path of the `.itf.json` file. */
  readonly file: string;
}

/** Everything a `ci` run does, in order. */
export interface Plan {
  readonly configPath: string;
  /** Folder for traces and the JUnit report (absolute). */
  readonly out: string;
  readonly cases: readonly PlannedCase[];
  readonly corpus: readonly PlannedCorpusTrace[];
  /** Lines saying what the file leaves out (matrix combinations the protocol rejects). */
  readonly notes: readonly string[];
}

/** The JSON schema, as shipped in the package. */
export function projectSchemaPath(): string {
  return join(packageRoot(), 'schemas', 'mirrorcheck.config.schema.json');
}

/** `/models/0/engines/1` as `$.models[0].engines[1]`. */
export function jsonPath(pointer: string, extra?: string): string {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/');
  if (extra !== undefined) parts.push(extra);
  return `$${parts
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`))
    .join('')}`;
}

/** One line for the first schema error: the JSON path and what is wrong there. */
function schemaMessage(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  // A key rejected by `propertyNames`: Ajv reports the inner error with the key's name.
  if (e.propertyName !== undefined) {
    const allowed = e.keyword === 'enum' ? ` (allowed: ${(p.allowedValues as unknown[]).join(', ')})` : '';
    return `${jsonPath(e.instancePath, e.propertyName)}: this key is not allowed here${allowed}`;
  }
  switch (e.keyword) {
    case 'additionalProperties':
      return `${jsonPath(e.instancePath, String(p.additionalProperty))}: unknown key (not in the schema)`;
    case 'propertyNames':
      return `${jsonPath(e.instancePath, String(p.propertyName))}: this key is not allowed here`;
    case 'required':
      return `${jsonPath(e.instancePath)}: missing the key '${String(p.missingProperty)}'`;
    case 'enum':
      return `${jsonPath(e.instancePath)}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${jsonPath(e.instancePath)}: must be ${JSON.stringify(p.allowedValue)}`;
    default:
      return `${jsonPath(e.instancePath)}: ${e.message ?? 'invalid'}`;
  }
}

let validator: ((data: unknown) => boolean) & { errors?: ErrorObject[] | null } = null as never;
function validate(data: unknown): ErrorObject | null {
  if (!validator) {
    const schema = JSON.parse(readFileSync(projectSchemaPath(), 'utf8')) as object;
    // strictTypes off: the schema narrows by `if: {type}` and then uses `properties` under `then`.
    validator = new Ajv({ allErrors: false, strictTypes: false }).compile(schema);
  }
  if (validator(data)) return null;
  // The `if` keyword's own error only says which branch failed; the branch's error says why.
  return (validator.errors ?? []).find((e) => e.keyword !== 'if') ?? (validator.errors ?? [])[0] ?? null;
}

/** The 1-based line of a character offset in a text. */
function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

/** Reads and validates a project file (MC015 naming the file and the JSON path of the first problem). */
export function readProjectFile(path: string): ProjectFile {
  const shown = relative(process.cwd(), path) || path;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new McError(
      'MC015',
      `${shown}: cannot read the project file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); mirrorcheck init DIR writes one, --config FILE names another`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const line = pos ? lineOf(text, Number(pos[1])) : /line (\d+)/.exec(msg)?.[1];
    throw new McError('MC015', `${shown}${line !== undefined ? `:${line}` : ''}: not valid JSON (${msg})`);
  }
  const err = validate(data);
  if (err) throw new McError('MC015', `${shown}: ${schemaMessage(err)}`);
  return data as ProjectFile;
}

/** The engine entries of a model with the limits of the entry and the file filled in. */
function enginesOf(file: ProjectFile, m: ModelSpec): EngineSpec[] {
  return (m.engines ?? ['explicit']).map((e) => {
    const spec: EngineSpec = typeof e === 'string' ? { engine: e } : e;
    const timeLimit = spec.timeLimit ?? m.timeLimit ?? file.timeLimit;
    const maxStates = spec.engine === 'explicit' ? (spec.maxStates ?? m.maxStates ?? file.maxStates) : undefined;
    return { ...spec, ...(timeLimit !== undefined ? { timeLimit } : {}), ...(maxStates !== undefined ? { maxStates } : {}) };
  });
}

const paramsLabel = (p: Readonly<Record<string, number | string>>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ') || 'default';

/** The sizes of a model entry; matrix combinations the protocol rejects are left out with a note. */
function sizesOf(pkg: ProtocolPackage, m: ModelSpec, where: string, notes: string[]): PlannedSize[] {
  const bad = (path: string, e: unknown): never => {
    throw new McError('MC015', `${path}: ${e instanceof McError ? e.message : String(e)}`);
  };
  const def = pkg.protocol;
  const sizes = m.sizes ?? ['default'];
  if (!Array.isArray(sizes)) {
    const matrix = (sizes as { matrix: Record<string, readonly (number | string)[]> }).matrix;
    let combos: Record<string, number | string>[] = [{}];
    for (const [k, values] of Object.entries(matrix)) {
      if (!(k in def.params)) bad(`${where}.sizes.matrix.${k}`, `unknown parameter '${k}' of ${def.name} (parameters: ${Object.keys(def.params).join(', ')})`);
      combos = combos.flatMap((c) => values.map((v) => ({ ...c, [k]: v })));
    }
    const out: PlannedSize[] = [];
    for (const c of combos) {
      // Each value on its own must be in range (a typo is an error); a combination the protocol's
      // cross-parameter rule rejects (frames <= pages, say) is left out.
      for (const [k, v] of Object.entries(c)) {
        try {
          resolveParams({ ...def, validate: () => null } as typeof def, { [k]: v });
        } catch (e) {
          bad(`${where}.sizes.matrix.${k}`, e);
        }
      }
      try {
        out.push({ label: paramsLabel(c), params: resolveParams(def, c), given: c });
      } catch (e) {
        notes.push(`${where}.sizes: ${paramsLabel(c)} left out: ${e instanceof McError ? e.message : String(e)}`);
      }
    }
    if (!out.length) bad(`${where}.sizes.matrix`, `the protocol rejects every combination (${notes.at(-1) ?? ''})`);
    return out;
  }
  return sizes.map((s, i) => {
    const path = `${where}.sizes[${i}]`;
    try {
      if (typeof s === 'string') {
        if (s === 'default') return { label: 'default', params: resolveParams(def), given: {} };
        const named = pkg.sizes?.[s];
        if (!named) return bad(path, `${def.name} has no size '${s}' (sizes: ${['default', ...Object.keys(pkg.sizes ?? {})].join(', ')})`);
        return { label: s, params: resolveParams(def, named), given: named };
      }
      return { label: paramsLabel(s), params: resolveParams(def, s), given: s };
    } catch (e) {
      return bad(path, e);
    }
  });
}

/** The variants a case list must cover, with the property each must violate (null: any). */
function variantsOf(pkg: ProtocolPackage, spec: VariantsSpec, path: string): { name: string; property: string | null; path: string }[] {
  const names = pkg.protocol.variants.map((v) => v.name);
  const known = (n: string, p: string) => {
    if (!names.includes(n)) throw new McError('MC015', `${p}: unknown variant '${n}' of ${pkg.protocol.name} (variants: ${names.join(', ') || 'none'})`);
  };
  if (spec === 'all') return names.map((name) => ({ name, property: null, path }));
  if (spec === 'none') return [];
  if (Array.isArray(spec)) {
    return (spec as readonly string[]).map((name, i) => {
      known(name, `${path}[${i}]`);
      return { name, property: null, path: `${path}[${i}]` };
    });
  }
  return Object.entries(spec as Record<string, { property?: string }>).map(([name, e]) => {
    known(name, jsonPath('', name).replace(/^\$/, path));
    return { name, property: e.property ?? null, path: `${jsonPath('', name).replace(/^\$/, path)}.property` };
  });
}

/** Checks that a property a variant must violate exists and that the engine checks it (MC015). */
function checkExpectedProperty(pkg: ProtocolPackage, size: PlannedSize, engine: EngineSpec, property: string, path: string, variant: string): void {
  if (property === 'deadlock') {
    if (engine.engine === 'prove' || engine.engine === 'smt') throw new McError('MC015', `${path}: the ${engine.engine} engine does not check deadlocks`);
    return;
  }
  // The variant's own params apply beneath the size's, as when the case runs.
  const props: readonly Property[] = pkg.properties.build(buildModel(pkg.protocol, { params: variantParams(pkg.protocol, variant, size.given) }));
  const p = props.find((x) => x.name === property);
  if (!p) {
    throw new McError(
      'MC015',
      `${path}: ${pkg.protocol.name} has no property '${property}' (properties: ${props
        .filter((x) => x.kind !== 'cover')
        .map((x) => x.name)
        .join(', ')}, deadlock)`,
    );
  }
  if (p.kind === 'cover') throw new McError('MC015', `${path}: '${property}' is a cover (it must be reached), not a property a variant violates`);
  if (p.kind === 'liveness' && engine.engine !== 'explicit') {
    throw new McError('MC015', `${path}: '${property}' is a liveness property, which only the explicit engine checks (not ${engine.engine})`);
  }
}

/** Resolves a model entry's package: a built-in name, or a model file relative to the project file. */
async function packageOf(m: ModelSpec, where: string, baseDir: string, opts: LoadOptions): Promise<ResolvedPackage> {
  if (!looksLikeModelFile(m.model)) {
    try {
      return { pkg: lookupProtocol(m.model) };
    } catch {
      throw new McError(
        'MC015',
        `${where}.model: '${m.model}' is neither a built-in protocol (${registry.map((x) => x.protocol.name).join(', ')}) nor a model file path (a path has a '/' or ends in .ts, .mts, .js, .mjs)`,
      );
    }
  }
  const path = isAbsolute(m.model) ? m.model : resolve(baseDir, m.model);
  try {
    return await resolvePackage(path, opts);
  } catch (e) {
    // A missing file is the project file's problem; a broken one keeps its own code and file:line.
    if (e instanceof McError && e.code === 'MC012') throw new McError('MC015', `${where}.model: ${e.message}`);
    throw e;
  }
}

/** Reads the project file and expands it into cases; every name in it is checked before anything runs. */
export async function planProject(configPath: string, opts: LoadOptions & { readonly out?: string } = {}): Promise<Plan> {
  const file = readProjectFile(configPath);
  const shown = relative(process.cwd(), configPath) || configPath;
  const baseDir = dirname(resolve(configPath));
  const inFile = (e: unknown): never => {
    // Every MC015 raised while planning names the file first.
    if (e instanceof McError && e.code === 'MC015' && !e.message.startsWith(`${shown}:`)) throw new McError('MC015', `${shown}: ${e.message}`);
    throw e;
  };
  const cases: PlannedCase[] = [];
  const corpus: PlannedCorpusTrace[] = [];
  const notes: string[] = [];
  const corpusDone = new Set<ProtocolPackage>();
  for (const [i, m] of file.models.entries()) {
    const where = `$.models[${i}]`;
    try {
      const entry = await packageOf(m, where, baseDir, opts);
      const { pkg } = entry;
      const sizes = sizesOf(pkg, m, where, notes);
      for (const [j, engine] of enginesOf(file, m).entries()) {
        const epath = m.engines ? `${where}.engines[${j}]` : where;
        if (engine.solver) {
          try {
            checkSolver(engine.solver, engine.engine === 'prove' ? 'prove' : engine.engine);
          } catch (e) {
            throw new McError('MC015', `${epath}.solver: ${(e as Error).message}`);
          }
        }
        const correct = engine.correct ?? m.correct ?? 'holds';
        const vpath = engine.variants !== undefined ? `${epath}.variants` : `${where}.variants`;
        const variants = variantsOf(pkg, engine.variants ?? m.variants ?? 'all', vpath);
        for (const v of variants) {
          const spec = pkg.protocol.variants.find((x) => x.name === v.name);
          const applies = spec ? sizes.filter((s) => !variantProblem(pkg.protocol, v.name, s.given)) : sizes;
          if (v.property !== null) {
            // The property is looked up at a size where the variant applies (it may exist only with
            // the variant's own params); a variant that applies nowhere is reported unmet instead.
            const size = applies[0] ?? (spec?.params ? undefined : sizes[0]);
            if (size) checkExpectedProperty(pkg, size, engine, v.property, v.path, v.name);
          }
        }
        const first = cases.length;
        for (const size of sizes) {
          if (correct === 'holds') cases.push({ where, entry, modelName: m.model, size, engine, variant: null, expect: { kind: 'holds' } });
          for (const v of variants) {
            const why = variantProblem(pkg.protocol, v.name, size.given);
            cases.push({
              where,
              entry,
              modelName: m.model,
              size,
              engine,
              variant: v.name,
              expect: { kind: 'violated', property: v.property },
              ...(why ? { skip: `the variant does not apply at this size: ${why}` } : {}),
            });
          }
        }
        for (const v of variants) {
          const mine = cases.slice(first).filter((c) => c.variant === v.name);
          if (mine.length && mine.every((c) => c.skip)) {
            const i = cases.lastIndexOf(mine[mine.length - 1] as PlannedCase);
            const { skip, ...rest } = cases[i] as PlannedCase;
            cases[i] = {
              ...rest,
              unmet: `${v.path}: the variant applies to none of the sizes of ${where} (${skip?.replace(/^the variant does not apply at this size: /, '')}); add a size where it applies, or leave it out of the variants`,
            };
          }
        }
      }
      if ((m.corpus ?? true) && pkg.corpus && !corpusDone.has(pkg)) {
        corpusDone.add(pkg);
        corpus.push(...corpusTraces(pkg.corpus).map((f) => ({ where, entry, modelName: m.model, file: f })));
      }
    } catch (e) {
      inFile(e);
    }
  }
  const out = opts.out !== undefined ? resolve(opts.out) : resolve(baseDir, file.out ?? 'mirrorcheck-out');
  return { configPath, out, cases, corpus, notes };
}

/** The `.itf.json` files of a corpus folder, sorted (none when the folder does not exist). */
function corpusTraces(url: URL): string[] {
  const dir = url.protocol === 'file:' ? fileURLToPath(url) : '';
  if (!dir || !existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.itf.json'))
    .sort()
    .map((f) => join(dir, f));
}
