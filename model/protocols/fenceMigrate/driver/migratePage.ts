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
  /** The migration's own invalidation is open (the model's inv[p]). */
  open: boolean;
  /** The migration entry was installed (the page was collected). */
  held: boolean;
  /** The data has been copied to the new frame. */
  copied: boolean;
  /** The page is not migrated: gone at collect, or migrate_vma_pages failed (MmMigrateFail). */
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
      driver.earlyFree.set(p, () => {
        if (mm.memory.owner[src] === p) mm.memory.free(src);
      });
    }
    progress.open = true;
    region = yield* mm.notifier.rangeStart({ start: p, end: p + 1, event: 'migrate', owner: fence ? driver : null });
  }
  // The rest of migrate_vma_setup: a present PTE becomes a migration entry and the page is collected
  // (a PTE already zapped is skipped: the page is not migrated); then the window closes, before the
  // copy.
  yield step('MmInvalidateEnd', { p });
  if (mm.pte(p).pfn !== null) {
    mm.installMigrationEntry(p);
    progress.held = true;
  } else {
    progress.failed = true;
  }
  if (region !== null) mm.notifier.rangeEnd(region);
  progress.open = false;
  // BUG (unblock-before-copy): DMA reaches the new frame before it holds the page's data.
  if (knob === 'unblock-before-copy') yield* driver.mapMigratedPage(p, dst, progress);

  // Copy while the migration entry keeps the CPU out and the fence keeps the HCA out (FM-R2, FM-R4).
  yield step('MmCopyPage', { p });
  if (progress.held) {
    mm.memory.copy(dst, src);
    progress.copied = true;
  }
  // migrate_vma_pages: the commit point; the system may take MmMigrateFail here instead, which sets
  // progress.failed.
  yield step('MmMigratePages', { p });
  // migrate_vma_finalize: a migration entry still in the PTE maps the new frame (or, after a failure,
  // the old one again); what the page no longer uses is freed (a zap may have removed the entry).
  yield step('MmFinalize', { p });
  const entry = mm.pte(p).migration;
  const committed = !progress.failed && entry;
  const restored = progress.failed && entry;
  if (!committed) mm.memory.free(dst);
  if (progress.held && !restored && knob !== 'free-before-fence') mm.memory.free(src);
  if (committed) mm.remapMigrated(p, dst);
  if (restored) mm.pte(p).migration = false;
  if (knob !== 'no-invalidate' && knob !== 'unblock-before-copy') yield* driver.mapMigratedPage(p, dst, progress);
}
