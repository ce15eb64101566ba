/**
 * A mirroring device (an HCA with ODP, or a GPU behind HMM): its own translation table, a TLB that
 * caches entries with their permission, access slots whose translation happens before their memory
 * access, and the queue through which the driver changes the table (mlx5's UMR QP: a work request
 * is posted, the device executes it later and reports its completion). Why this module exists: the
 * hazards of the protocol live in exactly these gaps (a translation used after the table changed, a
 * cached entry narrower than the table, a table change the driver has posted but not seen
 * complete), so they must exist in the hardware the reference driver runs on; the device reports
 * each memory access to a monitor that judges it.
 *
 * The driver reaches the device only through calls that are scheduling points: `umrPost`,
 * `umrWait` and `resumeFault`. It never reads the access slots: whether a zap has drained the
 * accesses in flight is the device's business, reported by the zap's completion.
 */
import type { PageAllocator } from './pageAllocator.js';
import { type Flow, type StepPoint, stepLabel } from './scheduler.js';

/** A device-table or TLB entry: frame and write permission. */
export interface DevEntry {
  readonly frame: number;
  readonly write: boolean;
}

/** The kind of a device access: a read, a write, or an atomic (which needs exclusive access). */
export type AccessOp = 'read' | 'write' | 'atomic';

/** One device access in a slot (struct of the work request / GPU fault entry). */
export interface DeviceAccess {
  readonly id: number;
  readonly op: AccessOp;
  readonly page: number;
  /** pending: needs a translation; inflight: translated, memory access not done; faulted: queued to the driver; failed: the driver gave up. */
  state: 'pending' | 'inflight' | 'faulted' | 'failed';
  /** The frame its translation gave (inflight only). */
  frame: number | null;
  /** The value a write stores. */
  readonly val: number;
}

/** What the device tells its monitor. */
export interface DeviceMonitor {
  /** A memory access is about to touch `frame` for `a`. */
  onAccess(a: DeviceAccess, frame: number): void;
  /** A translation hit a cached entry without the permission the table now grants. */
  onStaleTlbFault(a: DeviceAccess, cached: DevEntry, table: DevEntry): void;
}

/**
 * A UMR work request: rewrite the table entries of pages [lo, hi] (`update`, with the entries to
 * write, indexed by page), clear them (`zap`), or clear their write permission (`downgrade`). An
 * update invalidates the TLB entry of every page it writes, except those `keepTlb` names (the B15
 * omission); a zap or downgrade invalidates them all. A zap completes only once no access to its
 * pages is in flight, a downgrade once no write or atomic access is (the fence): its completion
 * tells the driver the device no longer uses what was revoked.
 */
export type UmrWqe =
  | { readonly kind: 'update'; readonly lo: number; readonly hi: number; readonly entries: readonly (DevEntry | null)[]; readonly keepTlb?: readonly boolean[] }
  | { readonly kind: 'zap' | 'downgrade'; readonly lo: number; readonly hi: number };

/** A posted UMR, as its poster holds it. */
export interface UmrHandle {
  readonly id: number;
  readonly wqe: UmrWqe;
  done: boolean;
}

const point = (label: string | undefined, fallback: string, args: Readonly<Record<string, number>>, ready: () => boolean = () => true): StepPoint => ({
  label: label ?? stepLabel(fallback, args),
  ready,
  internal: label === undefined,
});

/** The device: table, TLB, slots, UMR queue. */
export class MirrorDevice {
  readonly table: (DevEntry | null)[];
  readonly tlb: (DevEntry | null)[];
  readonly slots: (DeviceAccess | null)[];
  /** Values read by completed reads, newest last (for tests and reports). */
  readonly reads: { readonly id: number; readonly page: number; readonly frame: number; readonly value: number }[] = [];
  /** The UMR work request the device has not completed yet (one at a time: see `umrPost`). */
  umr: UmrHandle | null = null;
  private nextId = 1;
  private nextUmr = 1;
  private readonly memory: PageAllocator;
  monitor: DeviceMonitor | null = null;

  constructor(pages: number, slots: number, memory: PageAllocator) {
    this.table = Array.from({ length: pages }, () => null);
    this.tlb = Array.from({ length: pages }, () => null);
    this.slots = Array.from({ length: slots }, () => null);
    this.memory = memory;
  }

  slot(d: number): DeviceAccess {
    const a = this.slots[d];
    if (!a) throw new Error(`device slot ${d} is idle`);
    return a;
  }

  /** A new access in idle slot `d`. */
  issue(d: number, op: AccessOp, page: number, val: number): DeviceAccess {
    if (this.slots[d]) throw new Error(`device slot ${d} is busy`);
    const a: DeviceAccess = { id: this.nextId++, op, page, state: 'pending', frame: null, val };
    this.slots[d] = a;
    return a;
  }

  /**
   * Translates a pending access: a TLB miss fills the TLB from the table (permission included); with
   * enough permission the access goes in flight with that frame, otherwise it faults (the caller
   * queues the fault to the driver). Returns the new state.
   */
  translate(d: number): 'inflight' | 'faulted' {
    const a = this.slot(d);
    if (a.state !== 'pending') throw new Error(`device slot ${d} has nothing to translate`);
    if (this.tlb[a.page] === null) this.tlb[a.page] = this.table[a.page] ?? null;
    const t = this.tlb[a.page] ?? null;
    if (t !== null && (a.op === 'read' || t.write)) {
      a.state = 'inflight';
      a.frame = t.frame;
    } else {
      const tab = this.table[a.page] ?? null;
      if (t !== null && tab !== null && tab.frame === t.frame && tab.write && !t.write) this.monitor?.onStaleTlbFault(a, t, tab);
      a.state = 'faulted';
    }
    return a.state;
  }

  /** The memory access of an in-flight access happens: a read returns the frame's value, a write stores. */
  complete(d: number): void {
    const a = this.slot(d);
    if (a.state !== 'inflight' || a.frame === null) throw new Error(`device slot ${d} has no access in flight`);
    this.monitor?.onAccess(a, a.frame);
    if (a.op === 'read') this.reads.push({ id: a.id, page: a.page, frame: a.frame, value: this.memory.data[a.frame] as number });
    else this.memory.data[a.frame] = a.val;
    this.slots[d] = null;
  }

  /** A failed access completes with an error (error CQE); the slot is free again. */
  reportError(d: number): DeviceAccess {
    const a = this.slot(d);
    if (a.state !== 'failed') throw new Error(`device slot ${d} has not failed`);
    this.slots[d] = null;
    return a;
  }

  /** Whether an access to `page` is in flight (writes and atomics only, with `writesOnly`). */
  private inflightOn(page: number, writesOnly = false): boolean {
    return this.slots.some((a) => a !== null && a.state === 'inflight' && a.page === page && (!writesOnly || a.op !== 'read'));
  }

  // ---------------------------------------------------------------------------------------------
  // The UMR queue (mlx5r_umr_post_send_wait: post, then sleep until the completion).

  /**
   * Posts a UMR work request (a step). Work requests execute in order and every poster waits for its
   * completion before it posts again, so the queue is modelled with one entry: a post waits for the
   * previous request to complete, which is when the device would start it anyway.
   */
  *umrPost(wqe: UmrWqe, label?: string): Flow<UmrHandle> {
    yield point(label, 'umr_post', { lo: wqe.lo, hi: wqe.hi }, () => this.umr === null);
    const h: UmrHandle = { id: this.nextUmr++, wqe, done: false };
    this.umr = h;
    return h;
  }

  /** Sleeps until the UMR `h` has completed (a step that is ready once it has). */
  *umrWait(h: UmrHandle, label?: string): Flow<void> {
    yield point(label, 'umr_wait', { id: h.id }, () => h.done);
  }

  /** Whether the device can complete its UMR now (its fence: the accesses it revokes have drained). */
  umrCanComplete(): boolean {
    const h = this.umr;
    if (!h) return false;
    const w = h.wqe;
    if (w.kind === 'update') return true;
    for (let p = w.lo; p <= w.hi; p++) if (this.inflightOn(p, w.kind === 'downgrade')) return false;
    return true;
  }

  /** The device executes and completes its UMR: the table (and TLB) change, the poster is woken. */
  umrComplete(): UmrHandle {
    const h = this.umr;
    if (!h || !this.umrCanComplete()) throw new Error('no UMR the device can complete');
    const w = h.wqe;
    for (let p = w.lo; p <= w.hi; p++) {
      if (w.kind === 'zap') this.table[p] = null;
      else if (w.kind === 'downgrade') {
        const e = this.table[p] ?? null;
        this.table[p] = e === null ? null : { frame: e.frame, write: false };
      } else this.table[p] = (w as Extract<UmrWqe, { kind: 'update' }>).entries[p] ?? null;
      if (!(w.kind === 'update' && w.keepTlb?.[p])) this.tlb[p] = null;
    }
    h.done = true;
    this.umr = null;
    return h;
  }

  /**
   * PAGE_FAULT_RESUME for the access in slot `d` (a step): it translates again, or, with `error`,
   * fails (the requester sees an error completion).
   */
  *resumeFault(d: number, error: boolean, label?: string): Flow<void> {
    yield point(label, 'page_fault_resume', { d });
    const a = this.slot(d);
    if (a.state !== 'faulted') throw new Error(`device slot ${d} has no fault to resume`);
    a.state = error ? 'failed' : 'pending';
  }
}
