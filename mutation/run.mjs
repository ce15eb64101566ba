/**
 * `npm run mutation`: runs StrykerJS (stryker.config.mjs) and prints the mutation score of each
 * folder it mutates. Why this module exists: Stryker prints one score for everything and a table per
 * file; the project's targets are per folder (model/lang and checker at least 90 %, the others at
 * least 80 %), so this reads Stryker's JSON report and adds them up per folder.
 *
 * Score = (killed + timed out) / (killed + timed out + survived + no coverage); mutants Stryker
 * could not run (compile or runtime errors in the sandbox) and ignored ones are left out, as Stryker
 * does. Arguments are passed to `stryker run`, e.g. `npm run mutation -- --mutate model/lang/types.ts`.
 * Stryker's own output is also written to reports/mutation/stryker.log. It is not part of
 * `npm test`; .ci/mutation runs it as a manual or scheduled job.
 *
 * `--shard I/N` runs Stryker over the I-th of N parts of the files only (a job of a CI matrix, or
 * one of N runs in a row that together cover everything), with reports and incremental results of
 * its own (reports/mutation/shard-I-of-N.*, mutation/incremental/shard-I-of-N.json); `--list`
 * prints the shard's files instead of running it; `--summary
 * reports/mutation/shard-*.json` adds them up. Why shards: Stryker instruments every file it mutates,
 * and instrumented engine code runs many times slower in every test that reaches it (the initial
 * run of the fast test set took over 16 minutes over everything, against 77 s uninstrumented), so a
 * run over fewer files is faster per mutant, and N of them can run on N machines.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { globSync } from 'tinyglobby';
import { shardOf } from './shards.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const reportDir = join(root, 'reports/mutation');
const reportJson = join(reportDir, 'mutation.json');

/** The folders scored, in the order printed; `files` says which mutated files belong to each. */
const FOLDERS = [
  { name: 'model/lang', target: 90, files: (f) => f.startsWith('model/lang/') },
  { name: 'checker', target: 90, files: (f) => f.startsWith('checker/') },
  { name: 'counterexamples', target: 80, files: (f) => f.startsWith('counterexamples/') },
  { name: 'properties', target: 80, files: (f) => f.startsWith('properties/') },
  { name: 'conformance', target: 80, files: (f) => f.startsWith('conformance/') },
];

/** Counts of the mutants of the files `pick` selects. */
function tally(files, pick) {
  const c = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, strings: 0, ignored: 0, errors: 0 };
  for (const [path, file] of Object.entries(files)) {
    if (!pick(path)) continue;
    for (const m of file.mutants) {
      if (m.status === 'Killed') c.killed++;
      else if (m.status === 'Timeout') c.timeout++;
      else if (m.status === 'Survived') c.survived++;
      else if (m.status === 'NoCoverage') c.noCoverage++;
      else if (m.status === 'Ignored' && m.mutatorName === 'StringLiteral') c.strings++;
      else if (m.status === 'Ignored') c.ignored++;
      else c.errors++;
    }
  }
  const detected = c.killed + c.timeout;
  const total = detected + c.survived + c.noCoverage;
  return { ...c, total, score: total ? (100 * detected) / total : null };
}

function line(name, t, target) {
  const score = t.score === null ? '   -  ' : `${t.score.toFixed(1).padStart(5)} %`;
  const mark = t.score !== null && t.score < target ? `  below the target of ${target} %` : '';
  return `${name.padEnd(20)}${score}   (killed ${t.killed}, timeout ${t.timeout}, survived ${t.survived}, no coverage ${t.noCoverage}; not run: ${t.strings} string literals, ${t.ignored} static, ${t.errors} errors)${mark}`;
}

/** The mutants of one or more Stryker JSON reports by file; a later report replaces the results of the mutants it ran again (same span, same mutation: two mutants can start at the same place, e.g. `a && b` and `a`). */
function merged(reports) {
  const files = {};
  const key = (m) => `${m.location.start.line}:${m.location.start.column}-${m.location.end.line}:${m.location.end.column}:${m.mutatorName}:${m.replacement}`;
  for (const r of reports) {
    for (const [p, f] of Object.entries(JSON.parse(readFileSync(r, 'utf8')).files)) {
      const path = p.replaceAll('\\', '/');
      const again = new Set(f.mutants.map(key));
      const kept = (files[path]?.mutants ?? []).filter((m) => !again.has(key(m)));
      files[path] = { ...f, mutants: [...kept, ...f.mutants] };
    }
  }
  return files;
}

/** The per-folder summary of one or more Stryker JSON reports. */
function summary(reports = [reportJson], html = join(reportDir, 'index.html')) {
  const files = merged(reports);
  const out = ['', 'Mutation score per folder, (killed + timeout) / (killed + timeout + survived + no coverage):'];
  for (const f of FOLDERS) {
    const t = tally(files, f.files);
    if (t.total > 0) out.push(line(f.name, t, f.target));
  }
  const subs = [...new Set(Object.keys(files).map((p) => dirname(p)))].filter((d) => !FOLDERS.some((f) => f.name === d)).sort();
  if (subs.length > 0) {
    out.push('', 'By subfolder:');
    for (const d of subs) {
      const t = tally(files, (p) => dirname(p) === d);
      if (t.total > 0) out.push(line(d, t, 0));
    }
  }
  out.push('', `HTML report: ${relative(root, html)}`);
  return out.join('\n');
}

/** One line per surviving (or uncovered) mutant: file:line:column, mutator, the replacement. */
function survivors(reports) {
  const out = [];
  for (const [p, f] of Object.entries(merged(reports))) {
    for (const m of f.mutants) {
      if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
      const what = (m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 80);
      out.push(
        `${p}:${m.location.start.line}:${m.location.start.column}\t${m.mutatorName}\t${m.status === 'NoCoverage' ? 'no coverage' : 'survived'}\t${what}`,
      );
    }
  }
  return out.join('\n');
}

// `node mutation/run.mjs --summary a.json b.json`: only print the summary of reports already written;
// `--survivors a.json ...`: list the mutants no test detected.
if (process.argv[2] === '--summary' || process.argv[2] === '--survivors') {
  const files = process.argv.length > 3 ? process.argv.slice(3) : [reportJson];
  console.log(process.argv[2] === '--summary' ? summary(files) : survivors(files));
  process.exit(0);
}
/** The files of shard `index` (1-based) of `count`, from the files the configuration mutates. */
async function shardFiles(index, count) {
  const config = (await import(pathToFileURL(join(root, 'stryker.config.mjs')).href)).default;
  const all = globSync(config.mutate, { cwd: root }).sort();
  return shardOf(all, (f) => statSync(join(root, f)).size, index, count);
}

/** `--shard I/N` taken out of the arguments: `{ index, count }`, or null without it. */
function takeShard(args) {
  const at = args.findIndex((a) => a === '--shard' || a.startsWith('--shard='));
  if (at < 0) return null;
  const value = args[at].includes('=') ? args[at].slice('--shard='.length) : args[at + 1];
  args.splice(at, args[at].includes('=') ? 1 : 2);
  const m = /^(\d+)\/(\d+)$/.exec(value ?? '');
  const index = m ? Number(m[1]) : 0;
  const count = m ? Number(m[2]) : 0;
  if (!m || count < 1 || index < 1 || index > count) {
    console.error(`mutation: --shard takes I/N with 1 <= I <= N (got '${value ?? ''}')`);
    process.exit(2);
  }
  return { index, count };
}

const args = process.argv.slice(2);
const shard = takeShard(args);
// A run over everything (no --mutate) is incremental: Stryker reuses the results of the committed
// mutation/stryker-incremental.json for every mutant whose code and covering tests did not change,
// and rewrites the file. A run over some files is not (it would replace the file with a part of the
// results). MUTATION_INCREMENTAL=off runs everything again.
const partial = args.some((a) => a === '--mutate' || a === '-m' || a.startsWith('--mutate='));
if (shard && partial) {
  console.error('mutation: --shard picks the files itself; it cannot be combined with --mutate');
  process.exit(2);
}
const incremental = !partial && process.env.MUTATION_INCREMENTAL !== 'off' ? ['--incremental'] : [];
mkdirSync(reportDir, { recursive: true });
// A shard (`--shard I/N`: a job of a CI matrix, or one of several runs in a row on one machine) is a
// run of its own over its files, with its own reports and its own incremental results
// (mutation/incremental/shard-I-of-N.json): Stryker instruments only those files, so the code of
// the other files runs at full speed in the tests. `node mutation/run.mjs --summary
// reports/mutation/shard-*.json` adds the shards up.
let configFile = 'stryker.config.mjs';
let report = reportJson;
if (shard) {
  const name = `shard-${shard.index}-of-${shard.count}`;
  const files = await shardFiles(shard.index, shard.count);
  if (args.includes('--list')) {
    console.log(files.join('\n'));
    process.exit(0);
  }
  if (files.length === 0) {
    console.log(`mutation: shard ${shard.index}/${shard.count} has no file to mutate`);
    process.exit(0);
  }
  report = join(reportDir, `${name}.json`);
  configFile = join('reports/mutation', `${name}.config.mjs`);
  const settings = {
    mutate: files,
    incrementalFile: `mutation/incremental/${name}.json`,
    jsonReporter: { fileName: `reports/mutation/${name}.json` },
    htmlReporter: { fileName: `reports/mutation/${name}/index.html` },
  };
  writeFileSync(
    join(root, configFile),
    `import base from ${JSON.stringify(pathToFileURL(join(root, 'stryker.config.mjs')).href)};\nexport default { ...base, ...${JSON.stringify(settings)} };\n`,
  );
  console.log(`mutation: shard ${shard.index}/${shard.count}, ${files.length} files: ${files.join(' ')}`);
}
if (existsSync(report)) rmSync(report);
const log = createWriteStream(shard ? report.replace(/\.json$/, '.log') : join(reportDir, 'stryker.log'));
const stryker = join(root, 'node_modules/@stryker-mutator/core/bin/stryker.js');
const child = spawn(process.execPath, [stryker, 'run', configFile, ...incremental, ...args], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'pipe'],
});
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  log.write(d);
});
child.stderr.on('data', (d) => {
  process.stderr.write(d);
  log.write(d);
});
child.on('close', (code) => {
  log.end();
  if (code !== 0 || !existsSync(report)) {
    console.error(`mutation: stryker exited with status ${code}${existsSync(report) ? '' : ' and wrote no report'}`);
    process.exit(code || 1);
  }
  console.log(summary([report], shard ? report.replace(/\.json$/, '/index.html') : undefined));
});
