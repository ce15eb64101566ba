/**
 * `mirrorcheck list [PROTOCOL|FILE]`: protocols (every built-in one, or the one named or loaded
 * from a model file), their parameters, variants and properties.
 */
import { buildModel } from '../model/lang/protocol.js';
import { resolvePackages } from './packages.js';

export async function runList(protocol: string | undefined, format: 'text' | 'json', out: (s: string) => void): Promise<number> {
  const data = (await resolvePackages(protocol)).map(({ pkg: e }) => {
    const model = buildModel(e.protocol);
    return {
      protocol: e.protocol.name,
      summary: e.protocol.summary,
      spec: e.protocol.spec,
      params: Object.entries(e.protocol.params).map(([name, p]) => ({ name, ...p })),
      variants: e.protocol.variants.map((v) => ({ name: v.name, summary: v.summary, cites: v.cites, ...(v.params ? { params: { ...v.params } } : {}) })),
      properties: e.properties.build(model).map((p) => ({ name: p.name, kind: p.kind, requirement: p.requirement, doc: p.doc })),
    };
  });
  if (format === 'json') {
    out(JSON.stringify(data, null, 2));
    return 0;
  }
  for (const d of data) {
    out(`${d.protocol}: ${d.summary}`);
    out(`  spec: ${d.spec}`);
    out('  parameters:');
    for (const p of d.params) {
      out(`    ${p.name} = ${p.default}  (${p.kind === 'int' ? `${p.min}..${p.max}` : p.values.join('|')}) ${p.doc}`);
    }
    out('  variants:');
    for (const v of d.variants) {
      // A variant built at its own parameter values says which (check --variant applies them).
      const own = v.params
        ? ` [at ${Object.entries(v.params)
            .map(([k, x]) => `${k}=${x}`)
            .join(' ')}]`
        : '';
      out(`    ${v.name.padEnd(26)} ${v.summary}${own}`);
    }
    out('  properties (default parameters):');
    for (const p of d.properties) out(`    ${p.requirement.padEnd(8)} ${p.kind.padEnd(9)} ${p.name}: ${p.doc}`);
  }
  return 0;
}
