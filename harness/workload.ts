/**
 * The application using the mirrored memory: a CPU thread that stores to pages and a remote peer that
 * posts RDMA reads and writes through the HCA, plus the record of what it wrote. Why this module
 * exists: damage is judged against what the program did, the way hmm-tests compare the buffer with
 * what they wrote. Every write carries a fresh value (1, 2, ...), so a value found in memory names
 * exactly one write, and `latest[p]` is the last write to page `p` that has completed.
 */

export class Workload {
  /** Writes still allowed (CPU stores and RDMA writes share the budget, as in the model). */
  writesLeft: number;
  /** Migrations the mm may still start. */
  migrationsLeft: number;
  /** Writes issued so far; the next write carries `written + 1`. */
  written = 0;
  /** The value of the last completed write to each page (0: never written). */
  readonly latest: number[];
  /** The page each value was written for. */
  private readonly pageOf = new Map<number, number>();

  constructor(pages: number, writes: number, migrations: number) {
    this.writesLeft = writes;
    this.migrationsLeft = migrations;
    this.latest = Array.from({ length: pages }, () => 0);
  }

  /** Takes a fresh value for a write to `page`. */
  nextValue(page: number): number {
    if (this.writesLeft <= 0) throw new Error('write budget exhausted');
    this.writesLeft--;
    this.written++;
    this.pageOf.set(this.written, page);
    return this.written;
  }

  /** Records that a write of `value` to `page` has completed. */
  completed(page: number, value: number): void {
    this.latest[page] = value;
  }

  /** The page `value` was written for (null for 0, the value of untouched memory). */
  writtenFor(value: number): number | null {
    return this.pageOf.get(value) ?? null;
  }
}
