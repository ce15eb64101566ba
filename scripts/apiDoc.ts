/**
 * Generates docs/api.md, the list of what `mirrorcheck` makes public, from the barrels themselves
 * (index.ts and the index.ts files it re-exports, and the `./harness` subpath), so that the page cannot
 * drift from the code: test/apiDoc.test.ts regenerates it and compares. Each entry is the export's
 * name, its kind and the first sentence of its TSDoc comment, found by following the re-exports to
 * the declaration. `npx tsx scripts/apiDoc.ts --write` rewrites the page.
 *
 * Why a small reader of our own barrels and not the TypeScript compiler API: the compiler this
 * project pins (TypeScript 7, the native port) ships no JavaScript API, and the barrels are plain
 * `export { a, b } from './x.js'` lists.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One public name. */
export interface ApiEntry {
  readonly name: string;
  /** `function`, `const`, `class`, `interface`, `type` (a type-only export is never a value). */
  readonly kind: string;
  readonly typeOnly: boolean;
  /** The file that declares it, relative to the project root. */
  readonly file: string;
  /** The first sentence of its TSDoc comment; empty when it has none. */
  readonly summary: string;
}

/** The entries of one import path (`mirrorcheck`, `mirrorcheck/harness`), grouped by barrel. */
export interface ApiSection {
  readonly importPath: string;
  readonly groups: readonly { readonly barrel: string; readonly doc: string; readonly entries: readonly ApiEntry[] }[];
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsOf = (jsPath: string) => jsPath.replace(/\.js$/, '.ts');

/** The `export {...} from` and `export * from` lines of a module. */
function reExports(file: string): { names: { name: string; as: string; typeOnly: boolean }[]; from: string; star: boolean }[] {
  const text = readFileSync(file, 'utf8');
  const out: { names: { name: string; as: string; typeOnly: boolean }[]; from: string; star: boolean }[] = [];
  for (const m of text.matchAll(/^export\s+(type\s+)?\{([^}]*)\}\s+from\s+'([^']+)';/gm)) {
    const typeOnly = Boolean(m[1]);
    const names = (m[2] as string)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const t = s.startsWith('type ');
        const [name, as] = s.replace(/^type\s+/, '').split(/\s+as\s+/) as [string, string | undefined];
        return { name, as: as ?? name, typeOnly: typeOnly || t };
      });
    out.push({ names, from: m[3] as string, star: false });
  }
  for (const m of text.matchAll(/^export\s+\*\s+from\s+'([^']+)';/gm)) out.push({ names: [], from: m[1] as string, star: true });
  return out;
}

/** The module header comment of a file (its first `/** ... *\/` block), as one paragraph. */
function headerDoc(file: string): string {
  const m = /^\s*(?:#![^\n]*\n)?\/\*\*([\s\S]*?)\*\//.exec(readFileSync(file, 'utf8'));
  return m ? paragraph(m[1] as string) : '';
}

/** The first paragraph of a comment body, up to the first tag, on one line. */
function paragraph(body: string): string {
  const lines = body.split('\n').map((l) => l.replace(/^\s*\*\s?/, '').trimEnd());
  const out: string[] = [];
  for (const l of lines) {
    if (l.trim().startsWith('@')) break;
    if (l.trim() === '' && out.length) break;
    if (l.trim() !== '') out.push(l.trim());
  }
  return out.join(' ');
}

/** The first sentence of a paragraph. */
function firstSentence(p: string): string {
  const m = /^(.*?\.)(\s|$)/.exec(p);
  return m ? (m[1] as string) : p;
}

/** Finds the declaration of `name` in `file` (following re-exports) and its kind and TSDoc summary. */
function declaration(file: string, name: string, seen = new Set<string>()): { file: string; kind: string; summary: string } | null {
  if (seen.has(`${file}#${name}`) || !existsSync(file)) return null;
  seen.add(`${file}#${name}`);
  const text = readFileSync(file, 'utf8');
  const re = new RegExp(
    `^export\\s+(?:declare\\s+)?(?:abstract\\s+)?(?:async\\s+)?(function\\s*\\*?\\s*|(?:const|let|class|interface|type|enum)\\s+)${name}\\b`,
    'm',
  );
  const m = re.exec(text);
  if (m) {
    const before = text.slice(0, m.index);
    // The TSDoc comment directly above (only white space, or other line comments, between).
    const doc = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*(?:\/\/[^\n]*\n\s*)*$/.exec(before);
    return { file, kind: (m[1] as string).replace(/[\s*]/g, ''), summary: doc ? firstSentence(paragraph(doc[1] as string)) : '' };
  }
  for (const r of reExports(file)) {
    const hit = r.star ? { name } : r.names.find((n) => n.as === name);
    if (!hit) continue;
    const found = declaration(join(dirname(file), tsOf(r.from)), hit.name, seen);
    if (found) return found;
  }
  return null;
}

/** The public API as sections: the package root and each subpath in package.json `exports`. */
export function apiSections(): ApiSection[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { default?: string } | string> };
  const sections: ApiSection[] = [];
  for (const [sub, target] of Object.entries(pkg.exports)) {
    const js = typeof target === 'string' ? target : target.default;
    if (!js?.endsWith('.js')) continue;
    const entry = join(root, tsOf(js.replace(/^\.\/dist\//, './')));
    if (!existsSync(entry)) continue;
    const importPath = sub === '.' ? 'mirrorcheck' : `mirrorcheck/${sub.replace(/^\.\//, '')}`;
    const barrels: { barrel: string; names: { name: string; as: string; typeOnly: boolean }[] }[] = [];
    const walk = (file: string) => {
      const own = reExports(file);
      const names = own.flatMap((r) => r.names.map((n) => ({ ...n, from: join(dirname(file), tsOf(r.from)) })));
      if (names.length) barrels.push({ barrel: file, names });
      for (const r of own.filter((x) => x.star)) walk(join(dirname(file), tsOf(r.from)));
    };
    walk(entry);
    const groups = barrels.map(({ barrel, names }) => ({
      barrel: relative(root, barrel),
      doc: firstSentence(headerDoc(barrel)),
      entries: names
        .map((n) => {
          const own = reExports(barrel).find((r) => r.names.some((x) => x.as === n.as));
          const d = own ? declaration(join(dirname(barrel), tsOf(own.from)), n.name) : null;
          return {
            name: n.as,
            kind: d?.kind ?? '?',
            typeOnly: n.typeOnly,
            file: d ? relative(root, d.file) : '?',
            summary: d?.summary ?? '',
          };
        })
        .sort((a, b) => Number(a.typeOnly) - Number(b.typeOnly) || a.name.localeCompare(b.name)),
    }));
    sections.push({ importPath, groups });
  }
  return sections;
}

/** docs/api.md. */
export function apiMarkdown(sections: readonly ApiSection[] = apiSections()): string {
  const lines = [
    '# mirrorcheck: the public API',
    '',
    '<!-- Generated by scripts/apiDoc.ts from the barrels (index.ts and what it re-exports); test/apiDoc.test.ts',
    '     fails when this page is out of date. Regenerate with: npx tsx scripts/apiDoc.ts --write -->',
    '',
    'Everything listed here is public: a model file imports it from the package root (`import { defineProtocol } from',
    "'mirrorcheck'`) or from a subpath; the built-in protocols use nothing else. What is not listed is internal and may change.",
    'Each entry links to the file that declares it, where its full TSDoc is.',
    '',
  ];
  for (const s of sections) {
    lines.push(`## \`${s.importPath}\``, '');
    for (const g of s.groups) {
      lines.push(`### ${g.barrel}`, '', g.doc, '', '| name | kind | what |', '| --- | --- | --- |');
      for (const e of g.entries) {
        const kind = e.typeOnly && e.kind !== 'interface' && e.kind !== 'type' ? `${e.kind} (type only)` : e.kind;
        lines.push(`| [\`${e.name}\`](../${e.file}) | ${kind} | ${e.summary.replace(/\|/g, '\\|')} |`);
      }
      lines.push('');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv.includes('--write')) {
  writeFileSync(join(root, 'docs/api.md'), apiMarkdown());
  process.stdout.write('wrote docs/api.md\n');
}
