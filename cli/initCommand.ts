/**
 * `mirrorcheck init DIR`: writes a small, working model package (templates/model-package: a protocol
 * with two actors, one invariant, one bug variant, a spec stub, a corpus folder), a
 * `mirrorcheck.config.json` and a `package.json` that depends on this version of mirrorcheck, so that
 * `mirrorcheck ci` passes in DIR at once. Why this module exists: a driver author's first model starts
 * from something that runs. It refuses a DIR that exists and is not empty (MC031, exit 2) and never
 * overwrites a file. The template is real files in the package, copied here, not text in code.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { McError } from '../model/lang/errors.js';
import { packageRoot } from './modelFiles.js';

/** Options of `mirrorcheck init`. */
export interface InitOptions {
  readonly dir: string;
  /** What the new package.json depends on for mirrorcheck (default: this version, exactly). */
  readonly mirrorcheckSpec?: string;
}

/** Template files whose name in the package differs from the name they get (npm drops `.gitignore` files). */
const RENAMED: Readonly<Record<string, string>> = { gitignore: '.gitignore' };

/** The template's files, relative to its folder, sorted. */
function templateFiles(dir: string, sub = ''): string[] {
  return readdirSync(join(dir, sub), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? templateFiles(dir, join(sub, e.name)) : [join(sub, e.name)]))
    .sort();
}

/** An npm package name made from a folder name. */
function packageName(dir: string): string {
  const n = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '');
  return n || 'my-driver-model';
}

/** Runs `init` and returns the exit status. */
export function runInit(opts: InitOptions, out: (s: string) => void): number {
  if (opts.dir.trim() === '') throw new McError('MC030', 'init needs a folder: mirrorcheck init DIR');
  const target = resolve(opts.dir);
  const shown = relative(process.cwd(), target) || '.';
  if (existsSync(target)) {
    if (!statSync(target).isDirectory())
      throw new McError('MC031', `${shown} exists and is not a folder; init writes a new model package into an empty folder`);
    if (readdirSync(target).length > 0) throw new McError('MC031', `${shown} is not empty; init writes only into a new or empty folder and never overwrites`);
  }
  const root = packageRoot();
  const template = join(root, 'templates', 'model-package');
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const spec = opts.mirrorcheckSpec ?? version;
  const files = templateFiles(template);
  mkdirSync(target, { recursive: true });
  const written: string[] = [];
  for (const f of files) {
    const name = join(f.split('/').slice(0, -1).join('/'), RENAMED[basename(f)] ?? basename(f));
    let content = readFileSync(join(template, f));
    if (f === 'package.json') {
      const pkg = JSON.parse(content.toString('utf8')) as { name: string; devDependencies: Record<string, string> };
      pkg.name = packageName(target);
      pkg.devDependencies = { ...pkg.devDependencies, mirrorcheck: spec };
      content = Buffer.from(`${JSON.stringify(pkg, null, 2)}\n`);
    }
    const dest = join(target, name);
    mkdirSync(join(dest, '..'), { recursive: true });
    // 'wx': fails rather than overwrite, should a file appear between the check above and now.
    try {
      writeFileSync(dest, content, { flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new McError('MC031', `${join(shown, name)} exists; not overwriting it`);
      throw new McError('MC031', `cannot write ${join(shown, name)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    written.push(name);
  }
  out(`wrote a model package in ${shown}/ (mirrorcheck ${spec}):`);
  for (const w of written) out(`  ${w}`);
  out('next:');
  if (shown !== '.') out(`  cd ${shown}`);
  out('  npm install            # installs mirrorcheck');
  out('  npx mirrorcheck ci     # checks everything mirrorcheck.config.json asks; passes as written');
  out('then fill in spec.md and change protocol.ts and properties.ts to your driver.');
  return 0;
}
