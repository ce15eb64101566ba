/**
 * Vitest global setup: builds dist/ from the current sources once, before any test file runs. Why
 * this module exists: the end-to-end tests run the built CLI; a build left over from older sources
 * would let them pass against stale code. A failed build fails the whole run.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
}
