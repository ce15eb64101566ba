/**
 * A sleeping lock that may be held across scheduling points. Why this module exists: the existing
 * `Mutex` (harness/kernel.ts) forbids that, which suits fence-migrate, but the odp-mirror driver lock
 * U (`umem_mutex`, `dmirror->mutex`) is held from the invalidate callback's lock to its unlock and from
 * the fault handler's lock to its `read_retry`, with other steps in between; the model names its
 * holder (`ulock`), so this lock does too. A thread that wants it waits by making its next step not
 * ready until `free`.
 */

/** A mutex whose holder is a name (`fault`, `inv0`, ...) and which never blocks inside a step. */
export class SleepingMutex {
  readonly name: string;
  private owner: string | null = null;
  constructor(name: string) {
    this.name = name;
  }
  /** The holder, or null when free. */
  get holder(): string | null {
    return this.owner;
  }
  get free(): boolean {
    return this.owner === null;
  }
  /** mutex_lock: the caller's step was scheduled only once the lock was free. */
  lock(who: string): void {
    if (this.owner !== null) throw new Error(`${who} takes ${this.name}, held by ${this.owner} (its step should have waited)`);
    this.owner = who;
  }
  /** mutex_trylock: takes the lock if it is free; says whether it did. */
  tryLock(who: string): boolean {
    if (this.owner !== null) return false;
    this.owner = who;
    return true;
  }
  unlock(): void {
    if (this.owner === null) throw new Error(`unlock of ${this.name}, which is not held`);
    this.owner = null;
  }
}
