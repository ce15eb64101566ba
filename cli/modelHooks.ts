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

let parentURL = '';

/** Receives the URL of a module inside the running package (self-references resolve from there). */
export async function initialize(data: { parentURL: string }): Promise<void> {
  parentURL = data.parentURL;
}

interface Resolved {
  readonly url: string;
  readonly format?: string | null;
}
type Next = (specifier: string, context: { parentURL?: string }) => Promise<Resolved>;

const typescriptOutsidePackages = (url: string) => url.startsWith('file:') && /\.ts(\?.*)?$/.test(url) && !url.includes('/node_modules/');

/** Resolves `mirrorcheck` as if imported from the running package; marks `.ts` model sources as ES modules. */
export async function resolve(specifier: string, context: { parentURL?: string }, next: Next): Promise<Resolved> {
  if (specifier === 'mirrorcheck' || specifier.startsWith('mirrorcheck/')) return next(specifier, { ...context, parentURL });
  const r = await next(specifier, context);
  return typescriptOutsidePackages(r.url) ? { ...r, format: 'module' } : r;
}
