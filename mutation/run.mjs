/**
 * `npm run mutation`: runs StrykerJS (stryker.config.mjs) and prints the mutation score of each
 * folder it mutates. Why this module exists: Stryker prints one score for everything and a table per
 * file; the project's targets are per folder (model/lang and checker at least 90 %, the others at
 * least 80 %), so this reads Stryker's JSON reports and adds them up per folder.
 *
 * Score = (killed + timed out) / (killed + timed out + survived + no coverage); mutants Stryker
 * could not run (compile or runtime errors in the sandbox) and ignored ones are left out, as Stryker
 * does. It is not part of `npm test`; .ci/mutation runs it as a manual or scheduled job.
 *
 * - `npm run mutation`: everything, as 8 shards run one after the other (MUTATION_SHARDS=N for
 *   another number), then the scores of all of them.
 * - `npm run mutation -- --shard I/N`: shard I of N only (a job of a CI matrix); `--list` prints its
 *   files instead. Each shard has its own reports (reports/mutation/shard-I-of-N.json, .log and an
 *   HTML folder) and incremental results (mutation/incremental/shard-I-of-N.json, kept between runs
 *   and not committed: Stryker then re-tests only the mutants whose code or covering tests changed;
 *   MUTATION_INCREMENTAL=off re-tests all). `--summary reports/mutation/shard-*.json` adds up shards
 *   that ran on different machines.
 * - `npm run mutation -- --mutate <files>`: one Stryker run over those files (not incremental),
 *   reports in reports/mutation/mutation.json and index.html, log in stryker.log.
 * Other arguments go to `stryker run`.
 *
 * Why shards and not one Stryker run over everything: Stryker instruments every file it mutates,
 * and instrumented engine code runs many times slower in every test that reaches it. One run over
 * all 74 files (2026-12-06) took 24 min 40 s for its initial test run of the fast test set (77 s
 * uninstrumented) and failed it: one state-store test went past its limit of 15 minutes (1.7 s
 * normally). A shard instruments only its own files, and N shards can run on N machines.
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
function summary(reports = [reportJson], html = 'reports/mutation/index.html') {
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
  out.push('', `HTML report: ${html}`);
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

/**
 * Runs Stryker once with `configFile`, copying its output to the terminal and to `logFile`; resolves
 * to whether it ended well and wrote `report`.
 */
function runStryker(configFile, report, logFile, extra) {
  if (existsSync(report)) rmSync(report);
  const log = createWriteStream(logFile);
  const stryker = join(root, 'node_modules/@stryker-mutator/core/bin/stryker.js');
  const child = spawn(process.execPath, [stryker, 'run', configFile, ...extra], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const [from, to] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ]) {
    from.on('data', (d) => {
      to.write(d);
      log.write(d);
    });
  }
  return new Promise((resolve) => {
    child.on('close', (code) => {
      log.end();
      if (code !== 0 || !existsSync(report)) {
        console.error(`mutation: stryker exited with status ${code}${existsSync(report) ? '' : ' and wrote no report'}`);
        resolve(false);
      } else resolve(true);
    });
  });
}

/**
 * Runs shard `index` of `count`: Stryker over its files only, with its own configuration (the
 * project's, with the shard's files and file names), reports (reports/mutation/shard-I-of-N.*) and
 * incremental results (mutation/incremental/shard-I-of-N.json: Stryker reuses the result of every
 * mutant whose code and covering tests did not change since, unless MUTATION_INCREMENTAL=off).
 * Resolves to the shard's JSON report, null when it has no file, false when Stryker failed.
 */
async function runShard(index, count, extra) {
  const name = `shard-${index}-of-${count}`;
  const files = await shardFiles(index, count);
  if (files.length === 0) {
    console.log(`mutation: shard ${index}/${count} has no file to mutate`);
    return null;
  }
  const report = join(reportDir, `${name}.json`);
  const configFile = join('reports/mutation', `${name}.config.mjs`);
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
  // No file names here: scripts that read the output take a folder's score from the first line
  // that names the folder.
  console.log(`mutation: shard ${index}/${count}, ${files.length} files (--list names them)`);
  const incremental = process.env.MUTATION_INCREMENTAL === 'off' ? [] : ['--incremental'];
  const ok = await runStryker(configFile, report, report.replace(/\.json$/, '.log'), [...incremental, ...extra]);
  return ok ? report : false;
}

/** Shards a run over everything is cut into when no `--shard` is given (MUTATION_SHARDS overrides). */
const DEFAULT_SHARDS = 8;

const args = process.argv.slice(2);
const shard = takeShard(args);
const partial = args.some((a) => a === '--mutate' || a === '-m' || a.startsWith('--mutate='));
if (shard && partial) {
  console.error('mutation: --shard picks the files itself; it cannot be combined with --mutate');
  process.exit(2);
}
mkdirSync(reportDir, { recursive: true });
if (partial) {
  // Some files, as Stryker's own --mutate picks them: one run, not incremental (its results would
  // be a part of a shard's).
  const ok = await runStryker('stryker.config.mjs', reportJson, join(reportDir, 'stryker.log'), args);
  if (!ok) process.exit(1);
  console.log(summary());
} else if (shard) {
  if (args.includes('--list')) {
    console.log((await shardFiles(shard.index, shard.count)).join('\n'));
    process.exit(0);
  }
  const report = await runShard(shard.index, shard.count, args);
  if (report === false) process.exit(1);
  if (report) console.log(summary([report], relative(root, report.replace(/\.json$/, '/index.html'))));
} else {
  // Everything: the shards one after the other, then their scores added up. Each shard instruments
  // only its own files, so the tests run the other files' code at full speed.
  const count = Number(process.env.MUTATION_SHARDS ?? DEFAULT_SHARDS);
  if (!Number.isInteger(count) || count < 1) {
    console.error(`mutation: MUTATION_SHARDS must be a whole number of at least 1 (got '${process.env.MUTATION_SHARDS}')`);
    process.exit(2);
  }
  const reports = [];
  for (let i = 1; i <= count; i++) {
    const report = await runShard(i, count, args);
    if (report === false) process.exit(1);
    if (report) reports.push(report);
  }
  console.log(summary(reports, `reports/mutation/shard-I-of-${count}/index.html, one for each shard I = 1..${count}`));
}
