/**
 * Whether the tests may run the peer checkers (SPIN, Rumur). Why this module exists: a peer run
 * compiles a C verifier and takes seconds; mutation runs (vitest.mutation.config.ts) switch them
 * off with MIRRORCHECK_PEERS=off, because what they check of our code, our state counts and
 * verdicts, the other tests pin as numbers. Everywhere else a peer runs when it is installed.
 */
import { toolAvailable } from '../exporters/runPeers.js';

/** True when peer runs are allowed and every program in `tools` is on the PATH. */
export function peerAvailable(...tools: string[]): boolean {
  return process.env.MIRRORCHECK_PEERS !== 'off' && tools.every(toolAvailable);
}
