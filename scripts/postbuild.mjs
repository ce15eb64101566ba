// After tsc: copy what the compiled packages read at run time (their counterexample corpora) next
// to the compiled modules, and make the CLI entry executable (tsc does not set the mode).
import { chmodSync, cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const protocols = 'model/protocols';
for (const name of readdirSync(protocols)) {
  const corpus = join(protocols, name, 'corpus');
  if (existsSync(corpus)) cpSync(corpus, join('dist', corpus), { recursive: true });
}
chmodSync('dist/cli/main.js', 0o755);
