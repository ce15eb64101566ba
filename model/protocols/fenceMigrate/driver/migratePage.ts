/**
 * Migrating one mirrored page to a new frame: the whole sequence, in the order the fence-migrate
 * model requires (spec/fence-migrate.md 2.1). Why this module exists: the order of these few steps
 * is the protocol; every bug variant is the same sequence with one step moved or dropped, and each of
 * those knobs is a visible branch here.
 *
 * Fence mode is a driver-initiated migration (the driver calls migrate_vma_*); zap-and-fault is a
 * migration started by core mm, which reaches the driver only through its invalidate callback.
 *   MmMigrateStart   allocate the destination; (fence) the driver's mmu_interval_read_begin; open
 *                    the invalidation (migrate_vma_setup / try_to_migrate); the callbacks run:
 *   DriverFenceDma   (fence) the driver fences and blocks DMA   DriverZapMkey (zap) the callback zaps
 *   DriverFenceWait  wait for the drain
 *   MmInvalidateEnd  install the migration entry and close the invalidation (still inside setup)
 *   MmCopyPage       copy the old frame to the new one          MmMigratePages  migrate_vma_pages
 *   MmFinalize       migrate_vma_finalize: PTE -> new frame, free the old frame
 *   DriverUpdateMkey (fence) MTT -> new frame, only if read_retry reports no other invalidation
 *   DriverUnblockDma (fence) stalled DMA proceeds
 */
import { type CpuMm, type Flow, type OpenRegion, step } from 'mirrorcheck/harness';
import type { HcaMirrorDriver } from './hcaMirrorDriver.js';

/** Where one migration stands, for the state mapping (the model's mig[p] flags). */
export interface MigrationProgress {
  /** The migration entry was installed (the page was collected). */
  held: boolean;
  /** The data has been copied to the new frame. */
  copied: boolean;
  /** migrate_vma_pages did not migrate the page (never, in this harness: failures are not simulated). */
  failed: boolean;
}

/**
 * Migrates page `p` to frame `dst`. The code before the first `yield` is the step
 * `MmMigrateStart(p, f=dst)`; it runs when the migration is started.
 */
export function* migratePage(mm: CpuMm, driver: HcaMirrorDriver, p: number, dst: number, progress: MigrationProgress): Flow {
  const knob = driver.opts.knob;
  const fence = driver.opts.mode === 'fence';
  const src = mm.pte(p).pfn;
  if (src === null) throw new Error(`page ${p} is not mapped`);
  // --- MmMigrateStart(p, f) ---
  mm.memory.alloc(dst, p);
  // A driver-initiated migration samples the interval sequence first (mmu_interval_read_begin), so
  // that its device update can tell whether another invalidation hit the page meanwhile.
  if (fence) driver.beginMigration(p);
  let region: OpenRegion | null = null;
  if (knob !== 'no-invalidate') {
    // Tell the mirror before the PTE changes (FM-R1). Fence mode: migrate_vma_setup's
    // MMU_NOTIFY_MIGRATE range with the driver as owner; its callback fences and blocks DMA.
    // Zap mode: core mm's range (no owner); the callback zaps the translation and waits.
    if (knob === 'free-before-fence') {
      // BUG (free-before-fence): the old frame goes back to the allocator while the HCA can still reach it.
      driver.earlyFree = () => mm.memory.free(src);
    }
    region = yield* mm.notifier.rangeStart({ start: p, end: p + 1, event: 'migrate', owner: fence ? driver : null });
  }
  if (knob === 'unblock-before-copy') {
    // BUG (unblock-before-copy): DMA reaches the new frame before it holds the page's data.
    yield step('MmInvalidateEnd', { p });
    mm.installMigrationEntry(p);
    progress.held = true;
    if (region !== null) mm.notifier.rangeEnd(region);
    yield* driver.mapMigratedPage(p, dst, progress);
  } else {
    // The rest of migrate_vma_setup: the migration entry, then the window closes, before the copy.
    yield step('MmInvalidateEnd', { p });
    mm.installMigrationEntry(p);
    progress.held = true;
    if (region !== null) mm.notifier.rangeEnd(region);
  }

  // Copy while the migration entry keeps the CPU out and the fence keeps the HCA out (FM-R2, FM-R4).
  yield step('MmCopyPage', { p });
  mm.memory.copy(dst, src);
  progress.copied = true;
  // migrate_vma_pages: the commit point (it never fails here).
  yield step('MmMigratePages', { p });
  // migrate_vma_finalize: the PTE maps the new frame, the old one is freed (it was drained, and the
  // HCA's entry for it is blocked or zapped).
  yield step('MmFinalize', { p });
  mm.remapMigrated(p, dst);
  if (knob !== 'free-before-fence') mm.memory.free(src);
  if (knob !== 'no-invalidate' && knob !== 'unblock-before-copy') yield* driver.mapMigratedPage(p, dst, progress);
}
