/**
 * Kernel services the reference driver uses besides the mm and the HCA: a mutex and a workqueue.
 * Why this module exists: the driver's structure (which lock guards what, which work runs where)
 * should read as it does in a real driver, while every thread of control stays a flow the one
 * scheduler interleaves.
 */
import type { Flow } from './scheduler.js';

/**
 * A sleeping lock (struct mutex). In the harness a step is atomic, so a mutex taken and released
 * within one step is never contended; holding one across a scheduling point is a harness misuse and
 * throws, which keeps every lock section visible as a single step.
 */
export class Mutex {
  readonly name: string;
  private holder: string | null = null;
  constructor(name: string) {
    this.name = name;
  }
  get held(): boolean {
    return this.holder !== null;
  }
  lock(who = 'driver'): void {
    if (this.holder !== null) throw new Error(`${this.name} is held by ${this.holder} across a scheduling point`);
    this.holder = who;
  }
  unlock(): void {
    if (this.holder === null) throw new Error(`unlock of ${this.name}, which is not held`);
    this.holder = null;
  }
}

/** What a queued work item is, for the harness's view of the system (and the model mapping). */
export type WorkTag = { readonly kind: 'fault'; readonly page: number } | { readonly kind: 'other'; readonly name: string };

/** queue_work: runs `flow` as a separate thread of control. */
export interface Workqueue {
  queueWork(tag: WorkTag, flow: Flow): void;
}
