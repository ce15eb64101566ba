/**
 * The CPU side of a mirrored process: one process's PTEs over the mirrored pages, the physical
 * frames behind them (harness/pageAllocator.ts, reused: ownership and contents, cleared on free) and
 * each frame's dirty flag. Why this module exists: the model's `pte`, `dirty` and "frame free"
 * (no PTE maps it) must be real, so that a frame freed by madvise and reused by another page is a
 * frame whose contents a late device access can corrupt.
 */
import { PageAllocator } from './pageAllocator.js';

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

  /** Page p starts mapped, writable, to frame p (the model's start state). */
  constructor(pages: number, frames: number) {
    if (frames < pages) throw new Error('need at least as many frames as pages');
    this.memory = new PageAllocator(frames);
    this.dirty = Array.from({ length: frames }, () => false);
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
      this.memory.free(e.pfn);
    }
    e.pfn = null;
    e.write = false;
  }

  /** change_protection / page_mkclean: the write bit is cleared. */
  protect(p: number): void {
    this.pte(p).write = false;
  }
}
