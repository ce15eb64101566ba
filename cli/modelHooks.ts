/**
 * Module resolution hooks for model files. Why this module exists: a model file imports
 * `mirrorcheck` (and `mirrorcheck/harness`, `mirrorcheck/conformance`); those names must resolve to
 * the very copy of mirrorcheck that is running, wherever the file lives, so that the model is built
 * with the same language the engines read (one `none` symbol, one McError class, one version). And a
 * `.ts` model file is an ES module even where no package.json says `"type": "module"` (it uses
 * `import`; loading it as CommonJS would resolve `mirrorcheck` past these hooks). Registered by
 * cli/modelFiles.ts with `module.register`, after tsx, so that these run first; Node runs them off
 * the main thread.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

// Resolves from inside the running package: `mirrorcheck` is then a self-reference through its `exports`.
const ownRequire = createRequire(import.meta.url);

interface Resolved {
  readonly url: string;
  readonly format?: string | null;
  readonly shortCircuit?: boolean;
}
type Next = (specifier: string, context: { parentURL?: string }) => Promise<Resolved>;

/**
 * A `.ts` file outside node_modules, resolved by tsx, as an ES module. tsx decides CommonJS for a
 * `.ts` file in a folder without `"type": "module"` and marks its URL with `tsx-` query parameters
 * (percent-encoded into the path for a file imported from such a module); those are dropped, so that
 * the file is loaded once, as an ES module, whose imports come back through these hooks.
 */
function asModule(r: Resolved): Resolved {
  if (!r.url.startsWith('file:')) return r;
  const u = new URL(r.url);
  const [file = '', inner = ''] = decodeURIComponent(u.pathname).split('?');
  if (!file.endsWith('.ts') || file.includes('/node_modules/')) return r;
  const params = [...new URLSearchParams(inner), ...u.searchParams].filter(([k]) => !k.startsWith('tsx-'));
  const query = params.length ? `?${new URLSearchParams(params)}` : '';
  return { ...r, url: `${pathToFileURL(file).href}${query}`, format: 'module' };
}

/**
 * Resolves `mirrorcheck` as if imported from the running package; marks `.ts` model sources as ES
 * modules. The package's own name is resolved here, with Node's resolver from inside the running
 * package (a self-reference through its `exports`), not handed on to tsx: tsx applies the `paths` of
 * the nearest tsconfig.json, which may map `mirrorcheck` to some other copy (mirrorcheck's own
 * tsconfig maps it to the sources, which is what a model file inside its repository would meet).
 */
export async function resolve(specifier: string, context: { parentURL?: string }, next: Next): Promise<Resolved> {
  if (specifier === 'mirrorcheck' || specifier.startsWith('mirrorcheck/')) {
    try {
      return { url: pathToFileURL(ownRequire.resolve(specifier)).href, format: 'module', shortCircuit: true };
    } catch {
      // An export without a `require`/`default` condition: Node's ESM resolution, from inside the package.
      return next(specifier, { ...context, parentURL: import.meta.url });
    }
  }
  return asModule(await next(specifier, context));
}
