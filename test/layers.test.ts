/**
 * The layers of mirrorcheck, read from the sources: no cycle between top-level folders (model/lang
 * and model/protocols counted apart, the package's own names counted as edges to what they map to),
 * a harness that knows no protocol and no conformance check, and no protocol named outside its
 * package and the registry.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registry } from '../cli/registry.js';
import { scanSource } from './sourceScan.js';

const root = resolve(import.meta.dirname, '..');

/** Every non-test TypeScript source of the tree, relative to the root, with `/` separators. */
function sources(dir = root): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === 'dist') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) out.push(relative(root, p).split('\\').join('/'));
  }
  return out.sort();
}

/** The layer a file belongs to: its top-level folder, with model/lang and model/protocols apart; a root file is its own. */
function layerOf(file: string): string {
  const parts = file.split('/');
  if (parts.length === 1) return file;
  if (parts[0] === 'model') return `model/${parts[1]}`;
  return parts[0] as string;
}

/** The package's own names (tsconfig `paths`): `mirrorcheck` and its subpaths, mapped to sources. */
const paths: Record<string, readonly string[]> = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')).compilerOptions.paths;

/** The source file an import specifier of `file` names, or null for a dependency (node:, vitest, ...). */
function target(file: string, spec: string): string | null {
  if (spec.startsWith('.'))
    return relative(root, resolve(root, dirname(file), spec.replace(/\.js$/, '.ts')))
      .split('\\')
      .join('/');
  if (spec === 'mirrorcheck' || spec.startsWith('mirrorcheck/')) {
    const mapped = paths[spec]?.[0];
    if (!mapped) throw new Error(`${file} imports ${spec}, which tsconfig.json paths do not map`);
    return mapped.replace(/^\.\//, '');
  }
  return null;
}

const files = sources();
const scans = new Map(files.map((f) => [f, scanSource(readFileSync(join(root, f), 'utf8'))]));

/** Edges between layers, each with one import that makes it. */
function layerEdges(): Map<string, Map<string, string>> {
  const edges = new Map<string, Map<string, string>>();
  for (const [f, scan] of scans) {
    for (const imp of scan.imports) {
      const t = target(f, imp.text);
      if (t === null) continue;
      const [a, b] = [layerOf(f), layerOf(t)];
      if (a === b) continue;
      if (!edges.has(a)) edges.set(a, new Map());
      const m = edges.get(a) as Map<string, string>;
      if (!m.has(b)) m.set(b, `${f}:${imp.line} imports '${imp.text}'`);
    }
  }
  return edges;
}

/** A cycle of layers (as a list of the imports that close it), or null. */
function findCycle(edges: Map<string, Map<string, string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (u: string): string[] | null => {
    state.set(u, 'open');
    stack.push(u);
    for (const v of edges.get(u)?.keys() ?? []) {
      if (state.get(v) === 'open') {
        const cyc = [...stack.slice(stack.indexOf(v)), v];
        return cyc.slice(1).map((w, k) => edges.get(cyc[k] as string)?.get(w) as string);
      }
      if (!state.has(v)) {
        const c = visit(v);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(u, 'done');
    return null;
  };
  for (const u of edges.keys()) {
    if (state.has(u)) continue;
    const c = visit(u);
    if (c) return c;
  }
  return null;
}

describe('the source scanner', () => {
  it('finds imports and string literals, and skips comments and regular expressions', () => {
    const scan = scanSource(
      [
        "import { a } from './a.js'; // 'not-a-string'",
        "export * from '../b.js';",
        "/* import x from 'no' */ const r = /'[/]'/g, q = 1 / 2 / 3;",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the scanner's input is source text holding a template literal
        "const t = `x ${await import('./c.js')} y ${'z'}`;",
      ].join('\n'),
    );
    expect(scan.imports.map((s) => s.text)).toEqual(['./a.js', '../b.js', './c.js']);
    expect(scan.strings.map((s) => s.text)).toEqual(['./a.js', '../b.js', 'x ', './c.js', ' y ', 'z', '']);
    expect(scan.strings.find((s) => s.text === './c.js')?.line).toBe(4);
  });

  it('finds a cycle between layers', () => {
    const e = new Map([
      ['a', new Map([['b', 'a imports b']])],
      ['b', new Map([['c', 'b imports c']])],
      ['c', new Map([['a', 'c imports a']])],
    ]);
    expect(findCycle(e)).toEqual(['a imports b', 'b imports c', 'c imports a']);
    e.get('c')?.delete('a');
    expect(findCycle(e)).toBeNull();
  });
});

describe('layers', () => {
  const edges = layerEdges();

  it('the scan sees the tree (every layer, and the package names as edges)', () => {
    const layers = new Set(files.map(layerOf));
    for (const layer of ['harness', 'conformance', 'model/lang', 'model/protocols', 'cli', 'properties']) expect(layers).toContain(layer);
    expect(edges.get('model/protocols')?.has('harness')).toBe(true); // through 'mirrorcheck/harness'
    expect(edges.get('model/protocols')?.has('index.ts')).toBe(true); // through 'mirrorcheck'
  });

  it('there is no cycle between top-level folders', () => {
    expect(findCycle(edges)).toBeNull();
  });

  it('the harness imports only the modelling language: no protocol, no conformance', () => {
    expect([...(edges.get('harness')?.entries() ?? [])].filter(([to]) => to !== 'model/lang')).toEqual([]);
  });

  it('the generic conformance check and replay import no protocol', () => {
    expect(edges.get('conformance')?.get('model/protocols')).toBeUndefined();
  });

  it('no protocol is named in a string outside its package and the registry', () => {
    const names = registry.map((p) => p.protocol.name);
    expect(names).toEqual(expect.arrayContaining(['fence-migrate', 'odp-mirror']));
    const word = new RegExp(`(^|[^\\w-])(${names.map((n) => n.replace(/[-]/g, '\\-')).join('|')})(?![\\w-])`);
    const leaks: string[] = [];
    for (const [f, scan] of scans) {
      if (f.startsWith('model/protocols/') || f === 'cli/registry.ts') continue;
      for (const s of scan.strings) if (word.test(s.text)) leaks.push(`${f}:${s.line}: ${JSON.stringify(s.text)}`);
    }
    expect(leaks).toEqual([]);
  });
});
