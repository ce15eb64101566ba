/**
 * A mirroring device (an HCA with ODP, or a GPU behind HMM): its own
 * translation table filled by the driver, a TLB that caches entries with their permission, and
 * access slots whose translation happens before their memory access. Why this module exists: the
 * hazards of the protocol live in exactly these gaps (a translation used after the table changed, a
 * cached entry narrower than the table), so they must exist in the hardware the reference driver
 * runs on; the device reports each memory access to a monitor that judges it.
 */
import type { PageAllocator } from './pageAllocator.js';

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

/** The device: table, TLB, slots. */
export class MirrorDevice {
  readonly table: (DevEntry | null)[];
  readonly tlb: (DevEntry | null)[];
  readonly slots: (DeviceAccess | null)[];
  /** Values read by completed reads, newest last (for tests and reports). */
  readonly reads: { readonly id: number; readonly page: number; readonly frame: number; readonly value: number }[] = [];
  private nextId = 1;
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

  /** Whether an access to `page` is in flight (a zap must wait for it). */
  inflightOn(page: number): boolean {
    return this.slots.some((a) => a !== null && a.state === 'inflight' && a.page === page);
  }
}
