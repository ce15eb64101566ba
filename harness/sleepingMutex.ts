/**
 * A sleeping lock (struct mutex) whose lock, trylock and unlock are each a scheduling point. Why this
 * module exists: a driver's atomic sections must be only what its locks make atomic. If taking or
 * releasing the driver lock U (`umem_mutex`, `dmirror->mutex`) happened inside some other step, a
 * driver that releases U one call too early (before it programs the device) would still run its
 * critical section as one step and look correct. So every lock operation is a step of its own, which
 * the scheduler can interleave with every other thread's steps; a thread that wants a held lock
 * sleeps at its lock step until the lock is free. The holder is a name (`fault`, `inv0`, ...): the
 * model names it too (`ulock`).
 *
 * A call made where sleeping is forbidden (an invalidate callback of a non-blockable range, the OOM
 * reaper's) is reported to `mightSleep`, as the kernel's `might_sleep()` debug check reports a
 * sleeping function called from an invalid context.
 */
import { type Flow, type StepPoint, stepLabel } from './scheduler.js';

/** How a lock operation is labelled, and whether the caller may sleep. */
export interface LockCallOptions {
  /** The step's label (a hint for the conformance check); default `mutex_lock(NAME)` and so on. */
  readonly label?: string;
  /** False when the caller must not sleep (a non-blockable callback): `lock` is then a might_sleep violation. */
  readonly mayBlock?: boolean;
}

/** A mutex whose holder is a name, and whose every operation is a step. */
export class SleepingMutex {
  readonly name: string;
  private owner: string | null = null;
  /** Told of a sleeping lock taken where the caller must not sleep (the might_sleep() check). */
  mightSleep: ((who: string, what: string) => void) | null = null;

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

  private point(label: string | undefined, fallback: string, ready: () => boolean): StepPoint {
    return { label: label ?? stepLabel(fallback), ready, internal: label === undefined };
  }

  /** mutex_lock: the step runs once the lock is free (the caller sleeps until then) and takes it. */
  *lock(who: string, opts: LockCallOptions = {}): Flow<void> {
    if (opts.mayBlock === false) this.mightSleep?.(who, `mutex_lock(${this.name})`);
    yield this.point(opts.label, `mutex_lock:${this.name}`, () => this.owner === null);
    if (this.owner !== null) throw new Error(`${who} takes ${this.name}, held by ${this.owner} (its step should have waited)`);
    this.owner = who;
  }

  /** mutex_trylock: a step that takes the lock if it is free and says whether it did; it never sleeps. */
  *trylock(who: string, opts: LockCallOptions = {}): Flow<boolean> {
    yield this.point(opts.label, `mutex_trylock:${this.name}`, () => true);
    if (this.owner !== null) return false;
    this.owner = who;
    return true;
  }

  /** mutex_unlock: a step that releases the lock (held by anyone: the harness does not check the owner, as lockdep would). */
  *unlock(opts: LockCallOptions = {}): Flow<void> {
    yield this.point(opts.label, `mutex_unlock:${this.name}`, () => true);
    if (this.owner === null) throw new Error(`unlock of ${this.name}, which is not held`);
    this.owner = null;
  }
}
