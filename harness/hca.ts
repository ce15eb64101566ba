/**
 * The simulated HCA: a translation table for one mkey (a page -> frame entry per page, the MTT), a
 * per-page DMA block (the fence's "block" half), a DMA engine with a few outstanding-operation slots,
 * fences that complete once the DMA they cover has drained, and page-fault reporting with resume.
 * Why this module exists: the protocol bugs the model finds are about DMA that was translated at one
 * moment and lands later; the harness keeps that gap real. An operation is issued (translated, or
 * stalled on a blocked page, or faulting on a missing translation), stays in flight, and touches
 * memory only when it completes.
 *
 * The HCA knows nothing of the driver: the driver posts commands (fence, update the translation,
 * unblock, resume page faults) and receives page-fault events through `onPageFault`.
 */
import type { PageAllocator } from './pageAllocator.js';
import { type Flow, stepLabel } from './scheduler.js';

/** Where an operation is: stalled on a blocked page, faulting on a missing translation, or in flight. */
export type DmaState = 'stalled' | 'faulting' | 'inflight';

/** One outstanding DMA operation. */
export interface DmaOp {
  readonly id: number;
  readonly slot: number;
  readonly write: boolean;
  readonly page: number;
  /** The value a write carries (0 for a read). */
  readonly val: number;
  state: DmaState;
  /** The frame the translation gave, while in flight. */
  frame: number | null;
  /** A faulting operation the driver has resumed: it translates again (or fails with `error`). */
  resumed: boolean;
  error: string | null;
}

/** A finished operation: what it read or wrote where, or why it failed. */
export interface DmaCompletion {
  readonly opId: number;
  readonly slot: number;
  readonly page: number;
  readonly write: boolean;
  readonly frame: number | null;
  /** The value written, or the value read (null on error). */
  readonly value: number | null;
  readonly error: string | null;
}

/** A page-fault event reported to the driver (an ODP "memory scheme" fault on one page). */
export interface PageFaultEvent {
  readonly id: number;
  readonly opId: number;
  readonly page: number;
  readonly write: boolean;
}

/** A posted fence: complete once every operation in flight to its pages when it was posted has finished. */
export interface FenceHandle {
  readonly id: number;
  readonly start: number;
  readonly end: number;
  readonly outstanding: Set<number>;
}

/** A simulated RDMA adapter: its translation table (the mkey's MTT entries), block flags, DMA slots and fences. */
export class Hca {
  /** The mkey's translation table: the frame each page translates to, or null (zapped / never mapped). */
  readonly table: (number | null)[];
  /** DMA to the page is blocked: new operations stall until unblocked. */
  readonly blocked: boolean[];
  readonly slots: (DmaOp | null)[];
  readonly completions: DmaCompletion[] = [];
  readonly faultEvents: PageFaultEvent[] = [];
  /** The driver's page-fault interrupt handler. */
  onPageFault: ((ev: PageFaultEvent) => void) | null = null;
  /** Called just before an operation touches memory (the damage monitor watches here). */
  onAccess: ((op: DmaOp, frame: number) => void) | null = null;
  private readonly memory: PageAllocator;
  private readonly fences: FenceHandle[] = [];
  private nextOp = 1;
  private nextFence = 1;
  private nextFault = 1;

  constructor(pages: number, slots: number, memory: PageAllocator) {
    this.table = Array.from({ length: pages }, () => null);
    this.blocked = Array.from({ length: pages }, () => false);
    this.slots = Array.from({ length: slots }, () => null);
    this.memory = memory;
  }

  // --- Requester side: the remote peer posts RDMA reads and writes to the mkey ---

  slotIdle(slot: number): boolean {
    return this.slots[slot] === null;
  }

  /** Posts an operation on `slot` for `page`; it is translated at once (or stalls, or faults). */
  issue(slot: number, page: number, write: boolean, val: number): DmaOp {
    if (!this.slotIdle(slot)) throw new Error(`DMA slot ${slot} is busy`);
    const op: DmaOp = { id: this.nextOp++, slot, write, page, val: write ? val : 0, state: 'inflight', frame: null, resumed: false, error: null };
    this.slots[slot] = op;
    this.translate(op);
    return op;
  }

  private translate(op: DmaOp): void {
    op.resumed = false;
    const t = this.table[op.page] ?? null;
    if (this.blocked[op.page]) {
      op.state = 'stalled';
      op.frame = null;
    } else if (t === null) {
      op.state = 'faulting';
      op.frame = null;
      const ev = { id: this.nextFault++, opId: op.id, page: op.page, write: op.write };
      this.faultEvents.push(ev);
      this.onPageFault?.(ev);
    } else {
      op.state = 'inflight';
      op.frame = t;
    }
  }

  /** Whether the operation on `slot` may try again: a stalled one once unblocked, a faulting one once resumed. */
  canRetry(slot: number): boolean {
    const op = this.slots[slot];
    if (!op) return false;
    if (op.state === 'stalled') return !this.blocked[op.page];
    return op.state === 'faulting' && op.resumed;
  }

  /** What retrying would do: go in flight, fail (resumed with an error), or stall/fault again. */
  retryOutcome(slot: number): 'inflight' | 'fail' | 'again' {
    const op = this.slots[slot];
    if (!op) throw new Error(`DMA slot ${slot} is idle`);
    if (op.state === 'faulting' && op.error !== null) return 'fail';
    return !this.blocked[op.page] && this.table[op.page] !== null ? 'inflight' : 'again';
  }

  /** Retries the operation on `slot` (see `canRetry`). */
  retry(slot: number): void {
    const op = this.slots[slot];
    if (!op || !this.canRetry(slot)) throw new Error(`DMA slot ${slot} cannot retry`);
    if (op.state === 'faulting' && op.error !== null) {
      this.finish(op, null, null, op.error);
      return;
    }
    this.translate(op);
  }

  /** Completes the in-flight operation on `slot`: the memory access happens now. */
  complete(slot: number): DmaCompletion {
    const op = this.slots[slot];
    if (op?.state !== 'inflight' || op.frame === null) throw new Error(`DMA slot ${slot} has nothing in flight`);
    const f = op.frame;
    this.onAccess?.(op, f);
    let value: number;
    if (op.write) {
      this.memory.data[f] = op.val;
      value = op.val;
    } else {
      value = this.memory.data[f] as number;
    }
    return this.finish(op, f, value, null);
  }

  private finish(op: DmaOp, frame: number | null, value: number | null, error: string | null): DmaCompletion {
    this.slots[op.slot] = null;
    for (const fe of this.fences) fe.outstanding.delete(op.id);
    const c = { opId: op.id, slot: op.slot, page: op.page, write: op.write, frame, value, error };
    this.completions.push(c);
    return c;
  }

  // --- Driver side: commands on the UMR QP and firmware commands ---

  /**
   * Posts a fence for pages [start, end), optionally blocking them: operations issued to a blocked
   * page stall. The fence completes when every operation in flight to those pages now has finished.
   */
  postFence(start: number, end: number, block: boolean): FenceHandle {
    if (block) for (let p = start; p < end; p++) this.blocked[p] = true;
    const outstanding = new Set<number>();
    for (const op of this.slots) if (op && op.state === 'inflight' && op.page >= start && op.page < end) outstanding.add(op.id);
    const h = { id: this.nextFence++, start, end, outstanding };
    this.fences.push(h);
    return h;
  }

  /** Whether the fence has completed (its completion has arrived on the UMR CQ). */
  fenceDone(h: FenceHandle): boolean {
    return h.outstanding.size === 0;
  }

  /** Sleeps until the fence has completed (a step that is ready once its completion has arrived). */
  *waitFence(h: FenceHandle, label?: string): Flow<void> {
    yield { label: label ?? stepLabel('fence_wait', { id: h.id }), ready: () => this.fenceDone(h), internal: label === undefined };
  }

  /** Forgets a completed fence. */
  releaseFence(h: FenceHandle): void {
    const i = this.fences.indexOf(h);
    if (i >= 0) this.fences.splice(i, 1);
  }

  /** Unblocks DMA to pages [start, end); stalled operations may then retry. */
  unblock(start: number, end: number): void {
    for (let p = start; p < end; p++) this.blocked[p] = false;
  }

  /** A UMR translation update (XLT) of one entry: `frame`, or null to zap it. Takes effect for new translations. */
  updateTranslation(page: number, frame: number | null): void {
    this.table[page] = frame;
  }

  /** Zaps the translation of pages [start, end) with fence semantics (mlx5r_umr_update_xlt with ZAP). */
  zap(start: number, end: number): FenceHandle {
    for (let p = start; p < end; p++) this.table[p] = null;
    return this.postFence(start, end, false);
  }

  /** Whether some operation on `page` is faulting and not yet resumed. */
  faultPending(page: number): boolean {
    return this.slots.some((op) => op !== null && op.page === page && op.state === 'faulting' && !op.resumed);
  }

  /** Whether some faulting, not yet resumed operation on `page` is a write (the fault needs write access). */
  faultingWrite(page: number): boolean {
    return this.slots.some((op) => op !== null && op.page === page && op.state === 'faulting' && !op.resumed && op.write);
  }

  /** PAGE_FAULT_RESUME for every faulting operation on `page`; with an error they fail instead of retrying. */
  resumePageFaults(page: number, error: string | null): void {
    for (const op of this.slots) {
      if (op && op.page === page && op.state === 'faulting' && !op.resumed) {
        op.resumed = true;
        op.error = error;
      }
    }
  }
}
