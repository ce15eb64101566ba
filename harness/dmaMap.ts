/**
 * The DMA mappings a mirror holds for its device (`umem_odp->map.pfn_list` in ODP, the per-page DMA
 * addresses an HMM driver keeps): for each page of the mirrored range, the frame mapped for device
 * DMA and whether the device may write through it. Why this module exists: what is DMA-mapped is
 * what the driver intends the device to reach (its shadow of the device table); mapping and
 * unmapping are kernel calls (`hmm_dma_map_pfn`, `hmm_dma_unmap_pfn`) a driver makes under its lock,
 * and each call is a scheduling point, so a driver that maps or unmaps one lock section too late or
 * too early can be seen doing it.
 */
import type { DevEntry } from './mirrorDevice.js';
import { type Flow, type StepPoint, stepLabel } from './scheduler.js';

/** A page that was unmapped, with the entry it had. */
export interface Unmapped {
  readonly page: number;
  readonly entry: DevEntry;
}

const point = (label: string | undefined, fallback: string, args: Readonly<Record<string, number>>): StepPoint => ({
  label: label ?? stepLabel(fallback, args),
  ready: () => true,
  internal: label === undefined,
});

/** The DMA mappings of one mirrored range. */
export class DmaMap {
  private readonly mapped: (DevEntry | null)[];

  constructor(pages: number) {
    this.mapped = Array.from({ length: pages }, () => null);
  }

  /** The mapping of page `p` (null: not mapped). */
  entry(p: number): DevEntry | null {
    return this.mapped[p] ?? null;
  }

  /** Every page's mapping. */
  get entries(): readonly (DevEntry | null)[] {
    return this.mapped;
  }

  /** hmm_dma_map_pfn for pages [lo, hi] (a step): each page with a non-null entry is mapped as that entry says. */
  *map(lo: number, hi: number, entries: readonly (DevEntry | null)[], label?: string): Flow<void> {
    yield point(label, 'hmm_dma_map_pfn', { lo, hi });
    for (let p = lo; p <= hi; p++) {
      const e = entries[p] ?? null;
      if (e !== null) this.mapped[p] = e;
    }
  }

  /**
   * hmm_dma_unmap_pfn for pages [lo, hi] (a step): returns what was mapped there, so the caller can
   * dirty the pages the device could write (set_page_dirty, a plain call in the same step).
   */
  *unmap(lo: number, hi: number, label?: string): Flow<Unmapped[]> {
    yield point(label, 'hmm_dma_unmap_pfn', { lo, hi });
    return this.take(lo, hi, false);
  }

  /**
   * Drops write permission from the mappings of pages [lo, hi] (a step; a downgrade-only handling of a
   * write-protect event): returns the pages that were writable, for the caller to dirty.
   */
  *downgrade(lo: number, hi: number, label?: string): Flow<Unmapped[]> {
    yield point(label, 'pfn_list_downgrade', { lo, hi });
    return this.take(lo, hi, true);
  }

  private take(lo: number, hi: number, keepReadOnly: boolean): Unmapped[] {
    const out: Unmapped[] = [];
    for (let p = lo; p <= hi; p++) {
      const e = this.mapped[p] ?? null;
      if (e === null) continue;
      if (keepReadOnly) {
        if (!e.write) continue;
        this.mapped[p] = { frame: e.frame, write: false };
      } else this.mapped[p] = null;
      out.push({ page: p, entry: e });
    }
    return out;
  }
}
