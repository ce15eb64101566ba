/**
 * The dax-revoke reference driver: the RDMA driver's two kinds of memory registration over a DAX (or
 * P2PDMA) mapping. An ODP MR mirrors mapped pages through its fault path and gives them back from
 * its notifier callback (mlx5_ib_invalidate_range: zap the mirror with a ZAP UMR, which completes
 * once its DMA to the page has drained), holding no page reference; a non-ODP MR pins its pages with
 * ib_umem_get -> pin_user_pages_fast(FOLL_LONGTERM), which the kernel refuses for fs-dax and P2P
 * memory. Why this module exists: the dax-revoke model says what must happen for memory to be taken
 * back safely; this is a driver that does it, written against kernel-shaped calls (the interval
 * notifier, GUP with FOLL_LONGTERM), each a scheduling point.
 */
import { type Flow, type IntervalSubscription, type NotifierCore, type NotifierRange, step } from 'mirrorcheck/harness';

/** A DMA in flight: the page it is for and the block it goes to. */
export interface Dma {
  readonly page: number;
  readonly block: number;
}

/** What the driver needs of the simulated kernel. */
export interface DaxKernel {
  readonly notifier: NotifierCore;
  /** The PTE of page p: the block it maps, or null. */
  pte(p: number): number | null;
  /** Whether page p is being invalidated (its PTE is about to go). */
  invalidating(p: number): boolean;
  /**
   * pin_user_pages_fast(FOLL_LONGTERM) of every mapped page: the blocks pinned, or null when GUP
   * refuses (check_vma_flags on fs-dax, try_grab_folio on P2P memory).
   */
  pinLongterm(): (number | null)[] | null;
  /** unpin_user_pages of the long-term pins. */
  unpinLongterm(blocks: readonly (number | null)[]): void;
}

export class RdmaDriver {
  readonly kernel: DaxKernel;
  /** The ODP MR's mirror of each page (the block its MTT names), when it has an ODP MR. */
  readonly odp: (number | null)[] | null;
  readonly sub: IntervalSubscription | null;
  /** A DMA through the ODP MR. */
  odpDma: Dma | null = null;
  /** The pinned MR: its translation (each entry a FOLL_LONGTERM pin), and its state. */
  pinMap: (number | null)[];
  pinMr: 'none' | 'registered' | 'refused' | 'deregistered' = 'none';
  pinDma: Dma | null = null;

  constructor(kernel: DaxKernel, pages: number, hasOdp: boolean) {
    this.kernel = kernel;
    this.odp = hasOdp ? Array.from({ length: pages }, () => null) : null;
    this.pinMap = Array.from({ length: pages }, () => null);
    this.sub = hasOdp ? kernel.notifier.insert(0, pages, { invalidate: (s, r, cur) => this.invalidate(s, r, cur) }) : null;
  }

  /** mlx5_ib_invalidate_range on page range.start: zap the mirror, wait for the ZAP (its DMA drained). */
  *invalidate(sub: IntervalSubscription, range: NotifierRange, cur: number): Flow<boolean> {
    const p = range.start;
    const odp = this.odp as (number | null)[];
    yield step('DriverOdpInvalidate', { p });
    this.kernel.notifier.setSeq(sub, cur);
    odp[p] = null;
    yield step('DevCompleteZap', { p }, () => this.odpDma?.page !== p);
    return true;
  }

  /** The ODP fault path (the collision-retry fault of odp-mirror, as one step): mirror a mapped page that is not being invalidated. */
  canFault(p: number): boolean {
    return this.odp !== null && this.kernel.pte(p) !== null && !this.kernel.invalidating(p) && this.odp[p] === null;
  }
  fault(p: number): void {
    (this.odp as (number | null)[])[p] = this.kernel.pte(p);
  }

  /** ibv_reg_mr without ODP: ib_umem_get pins the pages FOLL_LONGTERM, or the registration fails. */
  regPinned(): void {
    const pins = this.kernel.pinLongterm();
    if (pins === null) this.pinMr = 'refused';
    else {
      this.pinMap = pins;
      this.pinMr = 'registered';
    }
  }

  /** ibv_dereg_mr of the pinned MR (its DMA done): the pins go. */
  deregPinned(): void {
    this.kernel.unpinLongterm(this.pinMap);
    this.pinMap = this.pinMap.map(() => null);
    this.pinMr = 'deregistered';
  }
}
