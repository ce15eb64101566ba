/**
 * Model files from anywhere: `mirrorcheck check ./models/mlx5-odp.ts`. Why this module exists: a
 * driver author keeps their models in their own repository, so every command that takes a protocol
 * name also takes a path to a `.ts`, `.mts`, `.js` or `.mjs` file whose default export (or export
 * named `package`) is a protocol package. TypeScript is typechecked with the TypeScript compiler and
 * loaded through tsx (no build step); `mirrorcheck` inside the file resolves to the running copy
 * (cli/modelHooks.ts). Whatever is wrong with the file is one line naming `file:line` and exit 2.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { McError } from '../model/lang/errors.js';
import { printable } from './errors.js';
import { buildModel } from '../model/lang/protocol.js';
import type { ProtocolPackage } from '../properties/package.js';

/** The file extensions a model file may have. */
export const MODEL_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const;

/** A package loaded from a file, with what identifies that file's content. */
export interface LoadedModelFile {
  readonly pkg: ProtocolPackage;
  /** Absolute path of the file. */
  readonly path: string;
  /** SHA-256 of the file's bytes (hex): a trace records it, replay compares it. */
  readonly sha256: string;
}

/** Whether a command-line argument names a model file rather than a built-in protocol. */
export function looksLikeModelFile(arg: string): boolean {
  return arg.includes('/') || arg.includes('\\') || MODEL_EXTENSIONS.some((x) => arg.endsWith(x));
}

/** SHA-256 of a file's bytes, hex. */
export function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

const here = import.meta.url;
/** The running package's root folder (where its package.json is). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(here));
  for (let i = 0; i < 6; i++) {
    try {
      const p = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (p.name === 'mirrorcheck') return dir;
    } catch {
      // not this folder
    }
    dir = dirname(dir);
  }
  throw new McError('MC040', 'internal error: cannot find mirrorcheck’s own package.json');
}

let hooked = false;
/** Registers tsx (TypeScript) and the `mirrorcheck` resolution hook, once per process. */
async function registerLoaders(): Promise<void> {
  if (hooked) return;
  hooked = true;
  // Node runs the hook registered last first: ours (cli/modelHooks.ts) must see `mirrorcheck` and
  // the formats tsx decides, so it is registered after tsx.
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  register(new URL('./modelHooks.js', here), { data: { parentURL: here } });
}

/** `file:line` (path relative to the working directory) of a position in `path`. */
function at(path: string, line: number | string): string {
  return `${relative(process.cwd(), path) || path}:${line}`;
}

/**
 * Typechecks a TypeScript model file with the TypeScript compiler (strict, the running package's
 * types for `mirrorcheck`); throws MC013 naming the first error's `file:line`.
 */
export function typecheckModelFile(path: string): void {
  const root = packageRoot();
  const tsc = join(dirname(createRequire(here).resolve('typescript/package.json')), 'bin', 'tsc');
  const types = (sub: string) => [join(root, 'dist', sub, 'index.d.ts')];
  const work = mkdtempSync(join(tmpdir(), 'mirrorcheck-tsc-'));
  const config = {
    compilerOptions: {
      target: 'ES2022',
      // ES modules wherever the file lives, as the loader takes them (NodeNext would make a .ts file
      // outside a "type": "module" package CommonJS, where import.meta is an error).
      module: 'ESNext',
      moduleResolution: 'Bundler',
      // DOM for URL and import.meta.url, which a package's corpus location uses (no @types/node needed).
      lib: ['ES2022', 'DOM'],
      types: [],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      allowImportingTsExtensions: true,
      paths: { mirrorcheck: [join(root, 'dist', 'index.d.ts')], 'mirrorcheck/harness': types('harness'), 'mirrorcheck/conformance': types('conformance') },
    },
    files: [path],
  };
  try {
    writeFileSync(join(work, 'tsconfig.json'), JSON.stringify(config));
    execFileSync(process.execPath, [tsc, '-p', join(work, 'tsconfig.json'), '--pretty', 'false'], { stdio: 'pipe', encoding: 'utf8', cwd: process.cwd() });
  } catch (e) {
    const out = `${(e as { stdout?: string }).stdout ?? ''}${(e as { stderr?: string }).stderr ?? ''}`;
    const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/m.exec(out);
    if (m) throw new McError('MC013', `${at(resolve(m[1] as string), m[2] as string)}: ${m[4]} ${printable(m[5] as string)}`);
    throw new McError('MC013', `${at(path, 1)}: the TypeScript compiler rejected the file: ${printable(out).slice(0, 300)}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Where in the model's own files an error was raised: the first stack frame in `path`, else the
 * first one in any other file outside mirrorcheck and node_modules (a package split over several
 * files: the protocol, its properties), as `file:line`; null when the stack names none.
 */
function whereInStack(e: unknown, path: string): string | null {
  const stack = (e as Error)?.stack ?? '';
  const url = pathToFileURL(path).href;
  for (const line of stack.split('\n')) {
    const i = line.indexOf(url) >= 0 ? line.indexOf(url) + url.length : line.indexOf(path) >= 0 ? line.indexOf(path) + path.length : -1;
    if (i < 0) continue;
    const m = /^(?:\?[^:]*)?:(\d+):\d+/.exec(line.slice(i));
    if (m) return at(path, m[1] as string);
  }
  const root = packageRoot();
  for (const line of stack.split('\n')) {
    const m = /\(?((?:file:\/\/)?\/[^():?]+?)(?:\?[^:]*)?:(\d+):\d+\)?\s*$/.exec(line.trim());
    if (!m) continue;
    const file = (m[1] as string).startsWith('file:') ? fileURLToPath(m[1] as string) : (m[1] as string);
    if (file.startsWith(root + sep) || file.includes(`${sep}node_modules${sep}`)) continue;
    return at(file, m[2] as string);
  }
  return null;
}

/**
 * Checks a JavaScript model file's syntax with Node itself (`node --check`), whose message names the
 * right line (the loader's parse error does not); throws MC013 with `file:line`.
 */
function syntaxCheckJs(path: string): void {
  const r = spawnSync(process.execPath, ['--check', path], { encoding: 'utf8' });
  if (r.status === 0) return;
  const out = `${r.stderr ?? ''}`;
  // A `.js` file with import statements in a folder whose package.json does not say "type": "module"
  // is parsed as CommonJS by --check; the loader takes it as an ES module, so that is not an error.
  if (/Cannot use import statement outside a module|Unexpected token 'export'/.test(out)) return;
  // Node prints `PATH:LINE` on the first line, then the source line, then the SyntaxError.
  const first = out.split('\n').find((l) => l.startsWith(`${path}:`));
  const line = first ? /^:(\d+)/.exec(first.slice(path.length))?.[1] : undefined;
  const message = /^(SyntaxError: .*)$/m.exec(out)?.[1] ?? printable(out).slice(0, 200);
  throw new McError('MC013', `${at(path, line ?? 1)}: ${printable(message)}`);
}

/** Whether a value is a protocol package (or something that can be made one). */
function asPackage(v: unknown): ProtocolPackage | null {
  const o = v as Partial<ProtocolPackage> | null;
  if (o && typeof o === 'object' && o.protocol && typeof o.protocol.build === 'function' && o.properties && typeof o.properties.build === 'function') {
    return o as ProtocolPackage;
  }
  return null;
}

/**
 * Loads a model file: checks it exists, typechecks TypeScript (unless `typecheck` is false), imports
 * it, finds its package and builds the model once at its default parameters, so that an ill-formed
 * model is reported now, with the line in the file where it is built wrong.
 */
export async function loadModelFile(file: string, opts: { typecheck?: boolean } = {}): Promise<LoadedModelFile> {
  const path = resolve(file);
  const ext = extname(path);
  if (!(MODEL_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new McError('MC012', `${file}: a model file ends in ${MODEL_EXTENSIONS.join(', ')}`);
  }
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
  } catch {
    throw new McError('MC012', `${file}: no such model file`);
  }
  const sha256 = fileSha256(path);
  if ((ext === '.ts' || ext === '.mts') && opts.typecheck !== false) typecheckModelFile(path);
  if (ext === '.js' || ext === '.mjs') syntaxCheckJs(path);
  await registerLoaders();
  let mod: Record<string, unknown>;
  try {
    mod = (await import(`${pathToFileURL(path).href}?sha256=${sha256}`)) as Record<string, unknown>;
  } catch (e) {
    const msg = (e as Error)?.message ?? String(e);
    // esbuild (through tsx) names the position of a syntax error as `file:line:col: ERROR: ...`.
    const syntax = /:(\d+):\d+: ERROR: (.*)/.exec(msg);
    if (syntax) throw new McError('MC013', `${at(path, syntax[1] as string)}: ${printable(syntax[2] as string)}`);
    const where = whereInStack(e, path);
    const code = e instanceof McError ? e.code : 'MC013';
    throw new McError(code, `${where ?? at(path, 1)}: ${where ? '' : 'loading the file failed: '}${printable(msg)}`);
  }
  const pkg = asPackage(mod.default) ?? asPackage(mod.package);
  if (!pkg) {
    const names = Object.keys(mod).join(', ') || 'nothing';
    throw new McError(
      'MC014',
      `${at(path, 1)}: exports no protocol package (its default export, or an export named 'package', must be definePackage({...}); it exports ${names})`,
    );
  }
  try {
    pkg.properties.build(buildModel(pkg.protocol));
  } catch (e) {
    if (!(e instanceof McError))
      throw new McError('MC010', `${whereInStack(e, path) ?? at(path, 1)}: building the model failed: ${printable((e as Error)?.message ?? String(e))}`);
    throw new McError(e.code, `${whereInStack(e, path) ?? at(path, 1)}: ${printable(e.message)}`);
  }
  return { pkg, path, sha256 };
}
