/**
 * Physical memory: frames that hold real data, and the page allocator that hands them out. Why this
 * module exists: the damage a protocol bug does is only concrete if memory is. A frame has an owner
 * (the page it backs) or is free; freeing a frame clears it (as init_on_free does), so a frame that
 * is reused starts from zero and a late DMA write into it is visible as damage.
 */

/** Frame contents and ownership. */
export class PageAllocator {
  /** The page each frame backs, or null when free. */
  readonly owner: (number | null)[];
  /** The value each frame holds (one word stands for the page's contents). */
  readonly data: number[];

  constructor(frames: number) {
    this.owner = Array.from({ length: frames }, () => null);
    this.data = Array.from({ length: frames }, () => 0);
  }

  get frames(): number {
    return this.owner.length;
  }

  isFree(frame: number): boolean {
    return this.owner[frame] === null;
  }

  /** Free frames, lowest first. */
  freeFrames(): number[] {
    return this.owner.flatMap((o, f) => (o === null ? [f] : []));
  }

  /** Allocates `frame` to back `page` (the caller chose which free frame; the scheduler chose for it). */
  alloc(frame: number, page: number): number {
    if (!this.isFree(frame)) throw new Error(`frame ${frame} is not free (it backs page ${this.owner[frame]})`);
    this.owner[frame] = page;
    return frame;
  }

  /** Returns `frame` to the free pool; its contents are cleared. */
  free(frame: number): void {
    if (this.isFree(frame)) throw new Error(`double free of frame ${frame}`);
    this.owner[frame] = null;
    this.data[frame] = 0;
  }

  /** Copies a frame's contents (copy_highpage). */
  copy(dst: number, src: number): void {
    this.data[dst] = this.data[src] as number;
  }
}
