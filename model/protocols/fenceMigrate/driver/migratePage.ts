/**
 * Migrating one mirrored page to a new frame: the whole sequence, in the order the fence-migrate
 * model requires (spec/fence-migrate.md 2.1). Why this module exists: the order of these few steps
 * is the protocol; every bug variant is the same sequence with one step moved or dropped, and each of
 * those knobs is a visible branch here.
 *
 * The sequence (fence mode; zap mode replaces fence/update/unblock by zap and a later re-fault):
 *   MmMigrateStart   migrate_vma_setup: allocate the destination, open the invalidation (the
 *                    driver's callback sets its sequence), install a migration entry
 *   DriverFenceDma   fence and block DMA to the page          DriverFenceWait  wait for the drain
 *   MmCopyPage       copy the old frame to the new one         MmRemapPte       PTE -> new frame
 *   DriverUpdateMkey MTT -> new frame                          DriverUnblockDma stalled DMA proceeds
 *   MmInvalidateEnd  close the invalidation                    MmFreeFrame      free the old frame
 */
import { type CpuMm, type Flow, type OpenRegion, step } from 'mirrorcheck/harness';
import type { HcaMirrorDriver } from './hcaMirrorDriver.js';

/**
 * Migrates page `p` to frame `dst`. The code before the first `yield` is the step
 * `MmMigrateStart(p, f=dst)`; it runs when the migration is started.
 */
export function* migratePage(mm: CpuMm, driver: HcaMirrorDriver, p: number, dst: number): Flow {
  const knob = driver.opts.knob;
  const src = mm.pte(p).pfn;
  if (src === null) throw new Error(`page ${p} is not mapped`);
  // --- MmMigrateStart(p, f): migrate_vma_setup ---
  mm.memory.alloc(dst, p);
  let region: OpenRegion | null = null;
  if (knob !== 'no-invalidate') {
    // Tell the mirror before the PTE changes (FM-R1; rule 1). The callback sets the interval's
    // sequence, so a concurrent fault handler will retry; it returns at once for our own migration.
    region = yield* mm.notifier.rangeStart({ start: p, end: p + 1, event: 'migrate', owner: driver });
  }
  mm.installMigrationEntry(p);

  if (knob === 'free-before-fence') {
    // BUG (free-before-fence): the old frame goes back to the allocator while the HCA can still reach it.
    yield step('MmFreeFrame', { p });
    mm.memory.free(src);
  }
  if (knob !== 'no-invalidate') yield* driver.fenceForMigration(p);
  if (knob === 'unblock-before-copy') {
    // BUG (unblock-before-copy): DMA reaches the new frame before it holds the page's data.
    yield* driver.mapMigratedPage(p, dst);
  }

  // Copy while the migration entry keeps the CPU out and the fence keeps the HCA out (FM-R4; rule 4).
  yield step('MmCopyPage', { p });
  mm.memory.copy(dst, src);
  // migrate_vma_pages: the commit point; CPU accesses resume on the new frame.
  yield step('MmRemapPte', { p });
  mm.remapMigrated(p, dst);

  if (knob !== 'no-invalidate' && knob !== 'unblock-before-copy') yield* driver.mapMigratedPage(p, dst);
  if (region !== null) {
    // The window closes only after the MTT matches the PTE again (FM-R1; rule 8).
    yield step('MmInvalidateEnd', { p });
    mm.notifier.rangeEnd(region);
  }
  if (knob !== 'free-before-fence') {
    // Free the old frame last: drained, no longer translated, copied (FM-R3; rule 5).
    yield step('MmFreeFrame', { p });
    mm.memory.free(src);
  }
}
