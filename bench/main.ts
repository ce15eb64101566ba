/**
 * The explicit-engine benchmark: states per second and bytes per stored state on the correct
 * fence-migrate protocol at a size with more than 1,000,000 reachable states (three runs, the
 * median reported), then one run of odp-mirror at its benchmark size (2.3 million states).
 * Prints figures; never asserts (speed is measured here, not in unit tests). The same model on
 * Rumur and SPIN is bench/peers.ts; liveness beside safety is bench/liveness.ts.
 *
 * Usage: node dist/bench/main.js [--repeat N] [--param k=v ...]   (--param applies to fence-migrate)
 */
import { explicitCheck } from '../checker/explicit/explicit.js';
import { buildModel } from '../model/lang/protocol.js';
import { fenceMigrate } from '../model/protocols/fenceMigrate/fenceMigrate.js';
import { ODP_LARGE_PARAMS, odpMirror } from '../model/protocols/odpMirror/odpMirror.js';
import { fenceMigrateProperties } from '../model/protocols/fenceMigrate/fenceMigrateProperties.js';
import { odpMirrorProperties } from '../model/protocols/odpMirror/odpMirrorProperties.js';

const args = process.argv.slice(2);
const repeat = Number(args[args.indexOf('--repeat') + 1] ?? 0) || 3;
const params: Record<string, string | number> = { pages: 3, frames: 4, slots: 2, migrations: 3, writes: 3, mode: 'fence' };
args.forEach((a, i) => {
  if (a === '--param') {
    const [k, v] = String(args[i + 1]).split('=');
    if (k && v) params[k] = v;
  }
});

const model = buildModel(fenceMigrate, { params });
const properties = fenceMigrateProperties.build(model);
console.log(
  `${fenceMigrate.name} ${Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}: ${properties.length} properties, ${model.instances.length} rule instances, node ${process.version}, one core (single-threaded engine)`,
);
const rates: number[] = [];
for (let i = 0; i < repeat; i++) {
  const rssBefore = process.memoryUsage().rss;
  const r = explicitCheck({ model, properties, limits: {} });
  const s = r.stats;
  rates.push(s.statesPerSec);
  console.log(
    `run ${i + 1}: ${r.status}, ${s.states} states, ${s.transitions} transitions, depth ${s.depth}, ${(s.elapsedMs / 1000).toFixed(2)} s, ` +
      `${s.statesPerSec} states/s, ${s.bytesPerState} bytes/stored state (${(s.storeBytes / 2 ** 20).toFixed(1)} MiB store), rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB (was ${(rssBefore / 2 ** 20).toFixed(0)})`,
  );
}
rates.sort((a, b) => a - b);
console.log(`median states/s: ${rates[Math.floor(rates.length / 2)]}`);

// odp-mirror at its benchmark size: the safety properties and covers (liveness: bench/liveness.ts).
const odp = buildModel(odpMirror, { params: ODP_LARGE_PARAMS });
const odpProps = odpMirrorProperties.build(odp).filter((p) => p.kind !== 'liveness');
const rssBefore = process.memoryUsage().rss;
const o = explicitCheck({ model: odp, properties: odpProps, limits: {} });
console.log(
  `${odpMirror.name} ${Object.entries(odp.params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}: ${o.status}, ${o.stats.states} states, ${o.stats.transitions} transitions, depth ${o.stats.depth}, ` +
    `${(o.stats.elapsedMs / 1000).toFixed(2)} s, ${o.stats.statesPerSec} states/s, ${o.stats.bytesPerState} bytes/stored state, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB (was ${(rssBefore / 2 ** 20).toFixed(0)})`,
);
