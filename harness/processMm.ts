/**
 * The CPU side of a mirrored process: one process's PTEs over the mirrored pages, the physical
 * frames behind them (harness/pageAllocator.ts, reused: ownership and contents, cleared on free),
 * each frame's dirty flag and writeback, and the mm's user count. Why this module exists: the
 * model's `pte`, `dirty`, `mmLive` and "frame free" (no PTE maps it) must be real, so that a frame
 * freed by madvise and reused by another page is a frame whose contents a late device access can
 * corrupt, and a device write that writeback skips (the page was not marked dirty) is lost.
 */
import { PageAllocator } from './pageAllocator.js';
import { type Flow, stepLabel } from './scheduler.js';

/** A CPU PTE: the frame it maps (null: none) and its write bit. */
export interface Pte {
  pfn: number | null;
  write: boolean;
}

/** PTEs, frames and dirty flags of the mirrored process. */
export class ProcessMm {
  readonly ptes: Pte[];
  readonly memory: PageAllocator;
  /** The page dirty flag of each frame (set by the driver's DMA unmap, cleared when freed). */
  readonly dirty: boolean[];
  /** The free frame the scheduler picked for the next allocation of a flow (see harness/choicePoint.ts). */
  allocChoice: number | null = null;
  /** Whether the mm is alive (mm_users > 0): exit_mmap has not run. */
  live = true;
  /** References taken with mmget_not_zero and not yet put. */
  users = 0;
  /**
   * Per frame, the value of the last device write since the frame was last written back (null:
   * none): what writeback must save. Told to `onLostWrite` when writeback skips it.
   */
  readonly unsaved: (number | null)[];
  /** Told of a device write that writeback skipped because the page was not marked dirty. */
  onLostWrite: ((frame: number, value: number) => void) | null = null;

  /** Page p starts mapped, writable, to frame p (the model's start state). */
  constructor(pages: number, frames: number) {
    if (frames < pages) throw new Error('need at least as many frames as pages');
    this.memory = new PageAllocator(frames);
    this.dirty = Array.from({ length: frames }, () => false);
    this.unsaved = Array.from({ length: frames }, () => null);
    this.ptes = Array.from({ length: pages }, (_, p) => ({ pfn: this.memory.alloc(p, p), write: true }));
  }

  pte(p: number): Pte {
    const e = this.ptes[p];
    if (!e) throw new Error(`no page ${p}`);
    return e;
  }

  /** handle_mm_fault on an empty PTE: maps `frame` (the allocator's pick), writable only for a write fault. */
  faultIn(p: number, frame: number, write: boolean): void {
    const e = this.pte(p);
    if (e.pfn !== null) throw new Error(`page ${p} is already mapped`);
    e.pfn = this.memory.alloc(frame, p);
    e.write = write;
  }

  /** The frame the scheduler picked for this allocation; consumed. */
  takeAllocChoice(): number {
    const f = this.allocChoice;
    if (f === null) throw new Error('an allocation step ran without a frame chosen');
    this.allocChoice = null;
    return f;
  }

  /** A write fault on a read-only PTE of a writable VMA (wp_page_reuse): upgraded in place, no notifier. */
  upgrade(p: number): void {
    const e = this.pte(p);
    if (e.pfn === null || e.write) throw new Error(`page ${p} has no read-only PTE to upgrade`);
    e.write = true;
  }

  /** zap_pte_range and the free that follows: the PTE is cleared and its frame freed (clean, zeroed). */
  clear(p: number): void {
    const e = this.pte(p);
    if (e.pfn !== null) {
      this.dirty[e.pfn] = false;
      this.unsaved[e.pfn] = null;
      this.memory.free(e.pfn);
    }
    e.pfn = null;
    e.write = false;
  }

  /**
   * page_mkclean's PTE change and the writeback that follows (folio_clear_dirty_for_io): the write
   * bit is cleared; a dirty page is written back (its flag consumed); a page that is not dirty is
   * skipped, and a device write to it since the last writeback is lost.
   */
  protect(p: number): void {
    const e = this.pte(p);
    e.write = false;
    if (e.pfn === null) return;
    const unsaved = this.unsaved[e.pfn] ?? null;
    if (this.dirty[e.pfn]) {
      this.dirty[e.pfn] = false;
      this.unsaved[e.pfn] = null;
    } else if (unsaved !== null) {
      this.unsaved[e.pfn] = null;
      this.onLostWrite?.(e.pfn, unsaved);
    }
  }

  /** A device write of `value` has landed in `frame`: writeback must save it. */
  deviceWrote(frame: number, value: number): void {
    this.unsaved[frame] = value;
  }

  /** set_page_dirty: a plain call, made inside the step of the DMA unmap that needs it. */
  setPageDirty(frame: number): void {
    this.dirty[frame] = true;
  }

  /** mmget_not_zero (a step): takes a reference on a live mm; false on a dead one. */
  *mmgetNotZero(label?: string): Flow<boolean> {
    yield { label: label ?? stepLabel('mmget_not_zero'), ready: () => true, internal: label === undefined };
    if (!this.live) return false;
    this.users++;
    return true;
  }

  /** mmput: drops a reference taken with `mmgetNotZero` (a plain call: it never waits). */
  mmput(): void {
    if (this.users === 0) throw new Error('mmput without a reference');
    this.users--;
  }

  /** exit_mmap: the mm dies (mm_users has reached zero); references can no longer be taken. */
  exit(): void {
    if (this.users !== 0) throw new Error('exit_mmap while a reference is held');
    this.live = false;
  }
}
