/**
 * The CPU side of the simulated mm: one page table (a PTE per page) and the mm operations that change
 * it, each inside a notifier invalidation as the kernel requires. Why this module exists: the
 * reference driver mirrors this page table into the HCA, and `hmmRangeFault` is how it reads it, with
 * the same outcomes the kernel's hmm_range_fault has (a pfn, -EBUSY on a collision, -EFAULT on no
 * mapping, -EPERM on a write to a read-only page, a wait on a migration entry).
 */
import type { NotifierCore, IntervalSubscription } from './notifierCore.js';
import type { PageAllocator } from './pageAllocator.js';
import { type Flow, internalStep, stepLabel } from './scheduler.js';

/** Page protection (what mprotect sets). */
export type Prot = 'none' | 'read' | 'write';

/** A PTE: the frame mapped (null when unmapped), a migration entry standing in for it, protection. */
export interface Pte {
  pfn: number | null;
  /** A migration entry: CPU accesses and hmm_range_fault wait until the migration ends. */
  migration: boolean;
  prot: Prot;
}

/** The outcome of hmm_range_fault on one page. */
export type HmmResult =
  | { readonly ok: true; readonly pfn: number; readonly writable: boolean }
  | { readonly ok: false; readonly error: 'EBUSY' | 'EFAULT' | 'EPERM' };

/** The CPU side of a process's memory: page tables with migration entries, CPU accesses, munmap and mprotect flows that drive the notifier. */
export class CpuMm {
  readonly ptes: Pte[];
  readonly notifier: NotifierCore;
  readonly memory: PageAllocator;
  /**
   * Whether hmm_range_fault makes its early mmu_interval_check_retry exit (-EBUSY). Off by default:
   * the fence-migrate model's fault loop has no such exit and leaves every collision to read_retry
   * under the driver lock, which catches the same collisions. Scenarios turn it on.
   */
  earlyBusy = false;

  constructor(pages: number, notifier: NotifierCore, memory: PageAllocator) {
    this.ptes = Array.from({ length: pages }, () => ({ pfn: null, migration: false, prot: 'write' as Prot }));
    this.notifier = notifier;
    this.memory = memory;
  }

  get pages(): number {
    return this.ptes.length;
  }

  pte(p: number): Pte {
    const e = this.ptes[p];
    if (!e) throw new Error(`no page ${p}`);
    return e;
  }

  /** Maps `frame` at page `p` (an anonymous page populated at setup). */
  populate(p: number, frame: number): void {
    this.memory.alloc(frame, p);
    this.pte(p).pfn = frame;
  }

  /** Whether the CPU can access page `p` now (present, no migration entry, protection allows). */
  cpuCanAccess(p: number, write: boolean): boolean {
    const e = this.pte(p);
    return e.pfn !== null && !e.migration && (write ? e.prot === 'write' : e.prot !== 'none');
  }

  /** A CPU load; the caller checked `cpuCanAccess`. */
  cpuRead(p: number): number {
    if (!this.cpuCanAccess(p, false)) throw new Error(`CPU read of page ${p} would fault`);
    return this.memory.data[this.pte(p).pfn as number] as number;
  }

  /** A CPU store; the caller checked `cpuCanAccess`. */
  cpuWrite(p: number, value: number): void {
    if (!this.cpuCanAccess(p, true)) throw new Error(`CPU write of page ${p} would fault`);
    this.memory.data[this.pte(p).pfn as number] = value;
  }

  /**
   * hmm_range_fault for one page with HMM_PFN_REQ_FAULT (and REQ_WRITE for a write), as a step: it
   * waits on a migration entry (migration_entry_wait) until the migration has ended, then reports
   * the pfn, or -EBUSY when an invalidation hit `sub` since `seq` (mmu_interval_check_retry), or an
   * error. `label` names the step (a hint for the conformance check).
   */
  *hmmRangeFaultPage(sub: IntervalSubscription, seq: number, p: number, write: () => boolean, label?: string): Flow<HmmResult> {
    yield { label: label ?? stepLabel('hmm_range_fault', { p }), ready: () => !this.pte(p).migration, internal: label === undefined };
    return this.hmmRangeFault(sub, seq, p, write());
  }

  private hmmRangeFault(sub: IntervalSubscription, seq: number, p: number, write: boolean): HmmResult {
    if (this.pte(p).migration) throw new Error('hmm_range_fault on a migration entry (the flow did not wait)');
    if (this.earlyBusy && this.notifier.checkRetry(sub, seq)) return { ok: false, error: 'EBUSY' };
    const e = this.pte(p);
    if (e.pfn === null || e.prot === 'none') return { ok: false, error: 'EFAULT' };
    if (write && e.prot !== 'write') return { ok: false, error: 'EPERM' };
    return { ok: true, pfn: e.pfn, writable: e.prot === 'write' };
  }

  /** Installs a migration entry for `p` (inside an open invalidation). */
  installMigrationEntry(p: number): void {
    const e = this.pte(p);
    if (e.pfn === null) throw new Error(`page ${p} is not mapped`);
    e.migration = true;
  }

  /** migrate_vma_pages / finalize for one page: the PTE now maps `frame`; CPU accesses resume. */
  remapMigrated(p: number, frame: number): void {
    const e = this.pte(p);
    e.pfn = frame;
    e.migration = false;
  }

  /** munmap of pages [start, end): invalidate, clear the PTEs, free the frames, end. */
  *munmap(start: number, end: number): Flow {
    yield internalStep('MmUnmap', { start, end });
    const region = yield* this.notifier.rangeStart({ start, end, event: 'unmap', owner: null });
    yield internalStep('MmUnmapClear', { start, end });
    for (let p = start; p < end; p++) {
      const e = this.pte(p);
      if (e.pfn !== null) this.memory.free(e.pfn);
      e.pfn = null;
      e.migration = false;
    }
    this.notifier.rangeEnd(region);
  }

  /** mprotect of pages [start, end): invalidate (MMU_NOTIFY_PROTECTION_VMA), change the protection, end. */
  *mprotect(start: number, end: number, prot: Prot): Flow {
    yield internalStep('MmProtect', { start, end });
    const region = yield* this.notifier.rangeStart({ start, end, event: 'protection', owner: null });
    for (let p = start; p < end; p++) this.pte(p).prot = prot;
    this.notifier.rangeEnd(region);
  }
}
