/**
 * The `fence-migrate` protocol: moving a page that an RDMA HCA mirrors. Why this module exists: it
 * is the flagship protocol, written once as guarded rules; spec/fence-migrate.md tells the story and
 * numbers the requirements (FM-Rn) that fenceMigrateProperties.ts checks.
 *
 * Two modes, one per way a migration reaches a mirror:
 * - `fence`: a driver-initiated migration. The driver owns the sequence, as a device driver does
 *   through migrate_vma_setup / migrate_vma_pages / migrate_vma_finalize: its own notifier callback
 *   fences and blocks DMA, it copies, and it updates its translation table (a UMR/XLT update of the
 *   mkey) and unblocks DMA around migrate_vma_finalize.
 * - `zap-and-fault`: a migration started by core mm (compaction, NUMA balancing, a DAX filesystem
 *   moving blocks). It reaches the mirror only through the invalidate callback: the driver zaps the
 *   translation and waits for in-flight DMA; later DMA faults and the driver re-mirrors the PTE.
 * Both use the same hardware capability: fence and block (the zap), migrate, update and unblock
 * (the re-fault).
 *
 * As in the kernel, the migration's notifier window (MMU_NOTIFY_MIGRATE in migrate_vma_setup, the
 * one around try_to_migrate's unmap) closes once the migration entry is installed, before the copy.
 * Other invalidators (madvise(MADV_DONTNEED), munmap) can zap the page at any time, during a
 * migration too, and a migration can fail, in which case finalize restores the source.
 *
 * The migration is a per-page sequence of steps; each bug variant is one knob on that sequence or on
 * one step's guard. Properties never look at the sequence: they read what the steps did.
 */
import {
  type BuildConfig,
  type Builder,
  type Expr,
  type IndexType,
  type Ref,
  add,
  and,
  arrayOf,
  assign,
  bool,
  defineProtocol,
  enumOf,
  enumParam,
  eq,
  exists,
  forall,
  intParam,
  isSome,
  lt,
  ne,
  none,
  not,
  option,
  or,
  range,
  record,
  reset,
  some,
  sub,
  unwrap,
  when,
} from 'mirrorcheck';

/** A migration step; a variant is (mostly) a different order of these. */
export type MigStep = 'fence' | 'zap' | 'drain' | 'collect' | 'copy' | 'pages' | 'finalize' | 'update' | 'unblock' | 'free';

/**
 * The step sequence a migration follows for a mode and variant. fence, zap and drain run in the
 * driver's callback inside the notifier window; collect installs the migration entry and closes the
 * window (the end of migrate_vma_setup); pages is migrate_vma_pages (success or failure); finalize
 * is migrate_vma_finalize (remap or restore, free what is no longer used); update and unblock are
 * the driver's device-table update. free is an early free, only in variant free-before-fence.
 */
export function migrationSteps(mode: string, variant: string | null, order = 'remap-first'): readonly MigStep[] {
  if (variant === 'no-invalidate') return ['collect', 'copy', 'pages', 'finalize'];
  if (mode === 'zap-and-fault') {
    const zap: MigStep[] = ['zap', 'drain', 'collect', 'copy', 'pages', 'finalize'];
    return variant === 'free-before-fence' ? ['free', ...zap] : zap;
  }
  switch (variant) {
    case 'unblock-before-update':
      return ['fence', 'drain', 'collect', 'copy', 'pages', 'finalize', 'unblock', 'update'];
    case 'unblock-before-copy':
      return ['fence', 'drain', 'collect', 'update', 'unblock', 'copy', 'pages', 'finalize'];
    case 'free-before-fence':
      return ['free', 'fence', 'drain', 'collect', 'copy', 'pages', 'finalize', 'update', 'unblock'];
    // The error path returns without the unblock: the migration finishes, DMA stays blocked.
    case 'never-unblock':
      return ['fence', 'drain', 'collect', 'copy', 'pages', 'finalize', 'update'];
    default:
      // device-first is the order of Documentation/mm/hmm.rst: the device table is updated (and DMA
      // unblocked) after migrate_vma_pages and before migrate_vma_finalize replaces the migration
      // entry; remap-first finalizes first and updates the device afterwards.
      return order === 'device-first'
        ? ['fence', 'drain', 'collect', 'copy', 'pages', 'update', 'unblock', 'finalize']
        : ['fence', 'drain', 'collect', 'copy', 'pages', 'finalize', 'update', 'unblock'];
  }
}

const fenceOnly = (p: Readonly<Record<string, number | string>>) =>
  p.mode === 'fence' ? null : 'it concerns the fence/update/unblock sequence of a driver-initiated migration, which mode zap-and-fault does not have';

/** Handles the property set uses. */
export interface FenceMigrateHandles {
  readonly Page: IndexType;
  readonly Frame: IndexType;
  readonly Slot: IndexType;
  /** The CPU PTE: frame, present, migration (a migration entry for `frame` stands in the PTE). */
  readonly pte: Ref;
  readonly hca: Ref;
  readonly blocked: Ref;
  /** The migration's own notifier window is open. */
  readonly inv: Ref;
  /** Where a concurrent zap of the page (madvise(MADV_DONTNEED), munmap) stands; idle: none. */
  readonly discard: Ref;
  readonly mig: Ref;
  readonly owner: Ref;
  readonly data: Ref;
  readonly latest: Ref;
  readonly dma: Ref;
  readonly migsLeft: Ref;
  readonly discardsLeft: Ref;
  readonly failsLeft: Ref;
  readonly steps: readonly MigStep[];
  readonly mode: string;
  readonly migrations: number;
  readonly discards: number;
  readonly failures: number;
}

export const fenceMigrate = defineProtocol<FenceMigrateHandles>({
  name: 'fence-migrate',
  summary:
    'migrate a page under an RDMA HCA mirror: driver-initiated (fence and block DMA, copy, update the HCA table, unblock) or mm-initiated (zap and re-fault)',
  spec: 'spec/fence-migrate.md',
  params: {
    pages: intParam(2, 1, 4, 'virtual pages mirrored by the HCA'),
    frames: intParam(3, 2, 6, 'physical frames (must exceed pages, so a migration has a destination)'),
    slots: intParam(1, 1, 3, 'DMA operations the HCA can have outstanding at once'),
    migrations: intParam(2, 0, 4, 'migrations performed in a run (bounded)'),
    writes: intParam(2, 0, 6, 'writes (CPU or DMA) in a run; each writes a fresh value'),
    discards: intParam(1, 0, 2, 'concurrent zaps of a page (madvise(MADV_DONTNEED)) in a run, at any time, during a migration too'),
    failures: intParam(1, 0, 2, 'migrations that may fail in migrate_vma_pages / migrate_pages (finalize then restores the source)'),
    mode: enumParam(
      'fence',
      ['fence', 'zap-and-fault'],
      'fence: driver-initiated migration (migrate_vma_*): the driver fences and blocks DMA, updates the HCA table, unblocks; zap-and-fault: mm-initiated migration (compaction, NUMA balancing, DAX) seen only through the invalidate callback: zap and re-fault',
    ),
    order: enumParam(
      'remap-first',
      ['remap-first', 'device-first'],
      'fence mode, correct order: migrate_vma_finalize before the HCA update (remap-first), or update and unblock the HCA between migrate_vma_pages and migrate_vma_finalize (device-first, the hmm.rst order); variants that reorder steps keep their own order',
    ),
    fault: enumParam(
      'atomic',
      ['atomic', 'retry'],
      'zap-and-fault fault handler: atomic (one step), or retry (read_begin, hmm_range_fault, read_retry under the lock; goes back for a fresh seq on a collision)',
    ),
  },
  validate: (p) =>
    (p.frames as number) <= (p.pages as number)
      ? `frames (${p.frames}) must exceed pages (${p.pages})`
      : p.fault === 'retry' && p.mode !== 'zap-and-fault'
        ? 'fault=retry needs mode=zap-and-fault (fence mode has no device faults)'
        : p.order === 'device-first' && p.mode !== 'fence'
          ? 'order=device-first needs mode=fence (zap-and-fault has no update/unblock)'
          : null,
  // For sequence diagrams of traces: who takes each step, and on whom (replay --render mermaid).
  actors: {
    participants: {
      CPU: 'a CPU thread of the process whose memory the HCA mirrors; it also zaps pages (madvise(MADV_DONTNEED))',
      MM: 'the kernel memory manager: migrate_vma_* called by the driver (fence mode) or migrate_pages called by compaction / NUMA balancing (zap-and-fault), the mmu notifier, the page allocator',
      Driver: 'the RDMA driver: notifier callback, DMA fence, mkey update, page-fault handler; in fence mode it initiates the migration',
      HCA: 'the RDMA adapter: its translation table (the mkey) and DMA engine',
    },
    rules: {
      MmMigrateStart: ['MM', 'Driver'],
      DriverFenceDma: ['Driver', 'HCA'],
      DriverZapMkey: ['Driver', 'HCA'],
      DriverFenceWait: ['HCA', 'Driver'],
      MmInvalidateEnd: ['MM', 'CPU'],
      MmCopyPage: 'MM',
      MmMigratePages: 'MM',
      MmMigrateFail: 'MM',
      MmFinalize: ['MM', 'CPU'],
      DriverUpdateMkey: ['Driver', 'HCA'],
      DriverUnblockDma: ['Driver', 'HCA'],
      MmFreeFrame: 'MM',
      MmDiscardStart: ['CPU', 'MM'],
      DriverDiscardZap: ['MM', 'Driver'],
      DriverDiscardWait: ['HCA', 'Driver'],
      MmDiscardEnd: ['MM', 'CPU'],
      HcaIssueDmaRead: 'HCA',
      HcaIssueDmaWrite: 'HCA',
      HcaResumeDma: 'HCA',
      HcaFailDma: 'HCA',
      HcaCompleteDma: ['HCA', 'MM'],
      DriverFaultBegin: ['Driver', 'MM'],
      DriverFaultWalk: ['Driver', 'MM'],
      DriverFaultCommit: ['Driver', 'HCA'],
      DriverFaultMirror: ['Driver', 'HCA'],
      CpuWrite: ['CPU', 'MM'],
    },
  },
  variants: [
    {
      name: 'unblock-before-update',
      summary: 'DMA is unblocked before the HCA table points at the new frame: stalled DMA goes through the stale translation',
      cites:
        'Documentation/mm/hmm.rst (the device table is updated before migrate_vma_finalize); migrate_device_finalize drops the source folio (mm/migrate_device.c)',
      appliesTo: fenceOnly,
    },
    {
      name: 'fence-without-drain',
      summary: 'the fence blocks new DMA (or zaps) but returns without waiting for in-flight DMA to the old frame',
      cites: 'mlx5r_umr_revoke_mr and the UMR fence (drivers/infiniband/hw/mlx5/umr.c): a revoke waits for outstanding DMA before the mkey changes',
    },
    {
      name: 'unblock-before-copy',
      summary: 'the HCA table is updated and DMA unblocked before the data is copied: DMA writes to the new frame are overwritten by the copy',
      cites: 'migrate_device_finalize: "copying of page data is complete and visible ... before calling this" (mm/migrate_device.c)',
      appliesTo: fenceOnly,
    },
    {
      name: 'free-before-fence',
      summary: 'the old frame is freed before DMA is fenced and drained: in-flight DMA lands in a freed, reusable frame',
      cites: 'S5 "a page is freed only after every device translation to it has been revoked"; B13/16ce101db85d class of use-after-free',
    },
    {
      name: 'no-invalidate',
      summary: 'the page moves without the mirror being told (no notifier call): the HCA keeps translating to the old frame',
      cites: 'mmu_notifier contract (include/linux/mmu_notifier.h); B11 60bae7370896 class: PTE change not reflected in a secondary TLB',
    },
    {
      name: 'never-unblock',
      summary: 'an error path returns without unblocking DMA: the migration finishes but the page stays blocked, and DMA stalled on it never completes',
      cites:
        'S9 "every lock taken in a callback is released on every path"; B4 7608bf40cf24 class (error return skips the release, the holder waits forever); L1',
      appliesTo: fenceOnly,
    },
    {
      name: 'update-without-retry',
      summary:
        'after migrate_vma_setup has closed its notifier window, the driver points the HCA at the new frame without mmu_interval_read_retry: a madvise(MADV_DONTNEED) in between zapped the page, finalize frees the new frame, and the HCA keeps translating to it',
      cites:
        'migrate_vma_setup closes the MMU_NOTIFY_MIGRATE range before returning (mm/migrate_device.c, migrate_vma_collect); zap_nonpresent_ptes clears migration entries (mm/memory.c); the hmm-migrate map-without-retry finding (lib/test_hmm.c, nouveau_dmem.c)',
      appliesTo: fenceOnly,
    },
    {
      name: 'update-after-failure',
      summary:
        'the driver points the HCA at the new frame although migrate_vma_pages did not migrate the page: finalize restores the source and frees the new frame under the HCA',
      cites:
        'migrate_vma_pages clears MIGRATE_PFN_MIGRATE for a page it could not move; migrate_device_finalize then restores the source and releases the destination (mm/migrate_device.c)',
      appliesTo: fenceOnly,
    },
    {
      name: 'stale-seq-retry',
      summary:
        'on a collision the fault handler retries hmm_range_fault with the old notifier seq instead of a fresh read_begin: read_retry fails forever (livelock)',
      cites:
        'B6 342981fff328 "drm/amdgpu: drop retry loop in amdgpu_hmm_range_get_pages" (retry on -EBUSY without a fresh seq "degenerates into a busy spin"); L1',
      appliesTo: (p) =>
        p.mode === 'zap-and-fault' && p.fault === 'retry' ? null : 'it concerns the fault retry loop: use --param mode=zap-and-fault --param fault=retry',
    },
  ],
  build(b: Builder, cfg: BuildConfig): FenceMigrateHandles {
    const P = cfg.int('pages');
    const W = cfg.int('writes');
    const M = cfg.int('migrations');
    const D = cfg.int('discards');
    const F = cfg.int('failures');
    const mode = cfg.str('mode');
    const fenceMode = mode === 'fence';
    const Page = b.index('Page', P);
    const Frame = b.index('Frame', cfg.int('frames'));
    // DMA slots are interchangeable: a scalarset, so engines may reduce by symmetry.
    const Slot = b.index('Slot', cfg.int('slots'), { symmetric: true });
    const Val = range(0, W);
    const steps = migrationSteps(mode, cfg.variant, cfg.str('order'));
    const Step = enumOf('MigStep', ['idle', ...steps]);
    const DmaState = enumOf('DmaState', fenceMode ? ['idle', 'stalled', 'inflight'] : ['idle', 'faulting', 'inflight']);

    // CPU page table: the frame mapped, whether the PTE is present, and whether a migration entry
    // for that frame stands in it (migration implies present; a zap clears both).
    const pte = b.v('pte', arrayOf(Page, record({ frame: Frame, present: bool, migration: bool })));
    // HCA translation table (the mkey's MTT entries), one per page.
    const hca = b.v('hca', arrayOf(Page, option(Frame)));
    // DMA to the page is blocked by a fence (fence mode only; always false in zap-and-fault).
    const blocked = b.v('blocked', arrayOf(Page, bool));
    // The migration's own invalidation of the page is open (invalidate_range_start to _end).
    const inv = b.v('inv', arrayOf(Page, bool));
    // Migration in progress: the next step, the old frame, the new frame; whether the page's data has
    // been copied to the new frame (set by the copy itself, so properties need not know where the
    // copy stands in a variant's sequence); whether the migration holds the source (collected);
    // whether it failed (migrate_vma_pages did not move the page, or it was gone at collect); and,
    // in fence mode, whether another invalidation's callback hit the page since the driver's
    // mmu_interval_read_begin (what mmu_interval_read_retry reports).
    const mig = b.v('mig', arrayOf(Page, record({ step: Step, from: Frame, to: Frame, copied: bool, held: bool, failed: bool, hit: bool })));
    // A concurrent zap of the page (madvise(MADV_DONTNEED)): its callback, its wait, its PTE clear.
    const discard = b.v('discard', arrayOf(Page, enumOf('DiscardStage', ['idle', 'zap', 'drain', 'clear'])));
    // Page allocator: which page owns a frame (none: free).
    const owner = b.v('owner', arrayOf(Frame, option(Page)));
    // Frame contents, and the ghost "latest completed write" of each page.
    const data = b.v('data', arrayOf(Frame, Val));
    const latest = b.v('latest', arrayOf(Page, Val));
    // DMA engine: operations issued (stalled or faulting) or in flight, completing later.
    const dma = b.v('dma', arrayOf(Slot, record({ state: DmaState, write: bool, page: Page, frame: Frame, val: Val })));
    const written = b.v('written', range(0, W));
    const migsLeft = b.v('migsLeft', range(0, M));
    const discardsLeft = b.v('discardsLeft', range(0, D));
    const failsLeft = b.v('failsLeft', range(0, F));
    // fault=retry only: the interval notifier's invalidate seq per page (bumped when an
    // invalidation starts), and the fault handler's progress: its read_begin seq and PTE snapshot.
    const retry = mode === 'zap-and-fault' && cfg.str('fault') === 'retry';
    const seq = retry ? b.v('seq', arrayOf(Page, range(0, M + D))) : null;
    const fault = retry
      ? b.v('fault', arrayOf(Page, record({ stage: enumOf('FaultStage', ['idle', 'walk', 'commit']), seq: range(0, M + D), frame: Frame, ok: bool })))
      : null;

    b.init('mapped', () => [
      ...Array.from({ length: P }, (_, i) => [
        assign(pte.at(i).f('frame'), i),
        assign(pte.at(i).f('present'), true),
        assign(hca.at(i), some(i, option(Frame))),
        assign(owner.at(i), some(i, option(Page))),
      ]).flat(),
      assign(migsLeft, M),
      assign(discardsLeft, D),
      assign(failsLeft, F),
    ]);

    // An invalidation covering the page is open: the migration's own, or a concurrent zap's.
    const invOpen = (p: Expr | Ref) => or(inv.at(p), ne(discard.at(p), 'idle'));
    const freeFrame = (f: Expr | Ref) => [assign(owner.at(f), none), assign(data.at(f), 0)];

    // --- Migration: the driver through migrate_vma_* (fence), or core mm through migrate_pages ---
    const next = (s: MigStep): string => {
      const i = steps.indexOf(s);
      return i === steps.length - 1 ? 'idle' : (steps[i + 1] as string);
    };
    const advance = (p: Expr, s: MigStep) => {
      const n = next(s);
      return n === 'idle' ? [reset(mig.at(p))] : [assign(mig.at(p).f('step'), n)];
    };
    // Fairness (liveness checking): driver and mm steps, DMA resume and completion are weakly fair,
    // as kernel scheduling makes them (a runnable work item eventually runs, the HCA completes
    // what it started). Starting a migration or a zap, a migration's failure, issuing DMA and CPU
    // writes are the environment's choices: not fair.
    const fair = { fairness: 'weak' as const };
    const stepRule = (name: string, s: MigStep, extraGuard: (p: Expr) => Expr | true, body: (p: Expr) => ReturnType<typeof assign>[], fairness = true) => {
      if (!steps.includes(s)) return;
      b.rule(
        name,
        { p: Page },
        ({ p }) => ({
          guard: extraGuard(p) === true ? eq(mig.at(p).f('step'), s) : and(eq(mig.at(p).f('step'), s), extraGuard(p) as Expr),
          body: [...body(p), ...advance(p, s)],
        }),
        fairness ? fair : undefined,
      );
    };

    // Start: allocate the destination and open the migration's invalidation (migrate_vma_setup's
    // MMU_NOTIFY_MIGRATE range, or try_to_migrate's range). In fence mode the driver first takes
    // mmu_interval_read_begin, which sleeps while another invalidation of the page is in progress.
    b.rule('MmMigrateStart', { p: Page, f: Frame }, ({ p, f }) => ({
      guard: and(
        eq(mig.at(p).f('step'), 'idle'),
        lt(0, migsLeft),
        not(isSome(owner.at(f))),
        pte.at(p).f('present'),
        ...(fenceMode ? [eq(discard.at(p), 'idle')] : []),
      ),
      body: [
        ...(cfg.is('no-invalidate') ? [] : [assign(inv.at(p), true), ...(seq ? [assign(seq.at(p), add(seq.at(p), 1))] : [])]),
        assign(owner.at(f), some(p, option(Page))),
        assign(mig.at(p).f('from'), pte.at(p).f('frame')),
        assign(mig.at(p).f('to'), f),
        assign(mig.at(p).f('step'), steps[0] as string),
        assign(migsLeft, sub(migsLeft, 1)),
      ],
    }));
    // The HCA fence covers the page's range: it waits for DMA issued for this page to its old frame
    // (after an early free, another page's DMA to the reused frame is not this fence's business).
    const noInflightToOld = (p: Expr) =>
      forall(Slot, (d) => not(and(eq(dma.at(d).f('state'), 'inflight'), eq(dma.at(d).f('page'), p), eq(dma.at(d).f('frame'), mig.at(p).f('from')))));
    // Driver, in its callback for its own migration: fence and block DMA for the page (mlx5 UMR
    // with fence / revoke semantics).
    stepRule(
      'DriverFenceDma',
      'fence',
      () => true,
      (p) => [assign(blocked.at(p), true)],
    );
    // Driver callback for the mm's migration: zap the HCA translation for the page.
    stepRule(
      'DriverZapMkey',
      'zap',
      () => true,
      (p) => [assign(hca.at(p), none)],
    );
    // Driver callback: the fence returns once in-flight DMA to the old frame has drained.
    stepRule(
      'DriverFenceWait',
      'drain',
      (p) => (cfg.is('fence-without-drain') ? true : noInflightToOld(p)),
      () => [],
    );
    // The rest of migrate_vma_setup (or try_to_migrate): under the PTE lock, a present PTE is
    // replaced by a migration entry and the page is collected; a PTE already zapped is skipped (the
    // page is not migrated). Then invalidate_range_end closes the window, before the copy.
    stepRule(
      'MmInvalidateEnd',
      'collect',
      () => true,
      (p) => [
        when(pte.at(p).f('present'), [assign(pte.at(p).f('migration'), true), assign(mig.at(p).f('held'), true)], [assign(mig.at(p).f('failed'), true)]),
        assign(inv.at(p), false),
      ],
    );
    // Copy the collected page to the new frame (the driver's copy engine, or migrate_folio).
    stepRule(
      'MmCopyPage',
      'copy',
      () => true,
      (p) => [when(mig.at(p).f('held'), [assign(data.at(mig.at(p).f('to')), data.at(mig.at(p).f('from'))), assign(mig.at(p).f('copied'), true)])],
    );
    // migrate_vma_pages / migrate_pages: the page is moved (the commit) ...
    stepRule(
      'MmMigratePages',
      'pages',
      () => true,
      () => [],
    );
    // ... or not (an extra reference, a failed copy): the migration fails and will be rolled back.
    stepRule(
      'MmMigrateFail',
      'pages',
      (p) => and(lt(0, failsLeft), mig.at(p).f('held'), not(mig.at(p).f('failed'))),
      (p) => [assign(mig.at(p).f('failed'), true), assign(failsLeft, sub(failsLeft, 1))],
      false,
    );
    // migrate_vma_finalize / remove_migration_ptes: a migration entry still in the PTE becomes a PTE
    // for the new frame (success) or the old one (failure: the source is restored); whatever the page
    // no longer uses is freed (the source on success, the destination otherwise, both when a zap
    // removed the migration entry meanwhile).
    const committed = (p: Expr) => and(not(mig.at(p).f('failed')), pte.at(p).f('migration'));
    const restored = (p: Expr) => and(mig.at(p).f('failed'), pte.at(p).f('migration'));
    stepRule(
      'MmFinalize',
      'finalize',
      () => true,
      (p) => [
        when(not(committed(p)), freeFrame(mig.at(p).f('to'))),
        ...(cfg.is('free-before-fence') ? [] : [when(and(mig.at(p).f('held'), not(restored(p))), freeFrame(mig.at(p).f('from')))]),
        when(pte.at(p).f('migration'), [
          when(not(mig.at(p).f('failed')), [assign(pte.at(p).f('frame'), mig.at(p).f('to'))]),
          assign(pte.at(p).f('migration'), false),
        ]),
      ],
    );
    // Driver: under the driver lock, mmu_interval_read_retry on the seq of the migration's read_begin.
    // If another invalidation hit the page since (its callback may not have zapped yet), the driver
    // empties its entry; otherwise, if migrate_vma_pages moved the page, it points the HCA translation
    // at the new frame (UMR/XLT update of the mkey); after a failure the table keeps the old frame.
    stepRule(
      'DriverUpdateMkey',
      'update',
      () => true,
      (p) => {
        const install = [assign(hca.at(p), some(mig.at(p).f('to'), option(Frame)))];
        const unlessFailed = [when(not(mig.at(p).f('failed')), install)];
        if (cfg.is('update-without-retry')) return unlessFailed;
        if (cfg.is('update-after-failure')) return [when(mig.at(p).f('hit'), [assign(hca.at(p), none)], install)];
        return [when(mig.at(p).f('hit'), [assign(hca.at(p), none)], unlessFailed)];
      },
    );
    // Driver: unblock DMA for the page.
    stepRule(
      'DriverUnblockDma',
      'unblock',
      () => true,
      (p) => [assign(blocked.at(p), false)],
    );
    // Variant free-before-fence only: the old frame is freed at the start of the migration (unless a
    // zap freed it already).
    stepRule(
      'MmFreeFrame',
      'free',
      () => true,
      (p) => [when(eq(owner.at(mig.at(p).f('from')), some(p, option(Page))), freeFrame(mig.at(p).f('from')))],
    );

    // --- A concurrent zap of the page: madvise(MADV_DONTNEED) (mmap_lock held for read, so it can
    // overlap a migration) ---
    if (D > 0) {
      // zap_page_range_single: invalidate_range_start opens the zap's invalidation, and the driver's
      // callback, first thing, sets the interval seq under the driver lock (a fault handler, or a
      // driver migrating the page, sees it at read_retry: the migration is "hit").
      b.rule('MmDiscardStart', { p: Page }, ({ p }) => ({
        guard: and(eq(discard.at(p), 'idle'), lt(0, discardsLeft), pte.at(p).f('present')),
        body: [
          assign(discard.at(p), 'zap'),
          assign(discardsLeft, sub(discardsLeft, 1)),
          ...(seq ? [assign(seq.at(p), add(seq.at(p), 1))] : []),
          ...(fenceMode ? [when(ne(mig.at(p).f('step'), 'idle'), [assign(mig.at(p).f('hit'), true)])] : []),
        ],
      }));
      // The callback then zaps the HCA translation (a UMR with fence semantics).
      b.rule(
        'DriverDiscardZap',
        { p: Page },
        ({ p }) => ({
          guard: eq(discard.at(p), 'zap'),
          body: [assign(hca.at(p), none), assign(discard.at(p), 'drain')],
        }),
        fair,
      );
      // The callback returns once DMA the HCA had translated for the page has drained.
      b.rule(
        'DriverDiscardWait',
        { p: Page },
        ({ p }) => ({
          guard: and(
            eq(discard.at(p), 'drain'),
            forall(Slot, (d) => not(and(eq(dma.at(d).f('state'), 'inflight'), eq(dma.at(d).f('page'), p)))),
          ),
          body: [assign(discard.at(p), 'clear')],
        }),
        fair,
      );
      // zap_pte_range clears the PTE (a migration entry too: zap_nonpresent_ptes) and drops the mapped
      // page's reference, which frees it (a migrating page is the migration's to free; a frame the
      // page no longer owns, after a buggy early free, is not freed twice). Then invalidate_range_end.
      b.rule(
        'MmDiscardEnd',
        { p: Page },
        ({ p }) => ({
          guard: eq(discard.at(p), 'clear'),
          body: [
            when(and(not(pte.at(p).f('migration')), eq(owner.at(pte.at(p).f('frame')), some(p, option(Page)))), freeFrame(pte.at(p).f('frame'))),
            assign(pte.at(p).f('frame'), 0),
            assign(pte.at(p).f('present'), false),
            assign(pte.at(p).f('migration'), false),
            assign(latest.at(p), 0),
            assign(discard.at(p), 'idle'),
          ],
        }),
        fair,
      );
    }

    // Once every page has been zapped, with nothing pending, the process has no memory left to
    // mirror: stopping there is a legal end, not a deadlock (reachable only when discards >= pages).
    if (D >= P) {
      b.endState(() =>
        and(
          forall(Page, (p) => and(not(pte.at(p).f('present')), eq(mig.at(p).f('step'), 'idle'), eq(discard.at(p), 'idle'))),
          forall(Slot, (d) => eq(dma.at(d).f('state'), 'idle')),
        ),
      );
    }

    // --- HCA DMA engine ---
    const issue = (d: Expr, p: Expr, write: boolean) => [
      assign(dma.at(d).f('page'), p),
      assign(dma.at(d).f('write'), write),
      ...(write ? [assign(dma.at(d).f('val'), add(written, 1)), assign(written, add(written, 1))] : []),
      ...(fenceMode
        ? [
            when(
              blocked.at(p),
              [assign(dma.at(d).f('state'), 'stalled')],
              [assign(dma.at(d).f('state'), 'inflight'), assign(dma.at(d).f('frame'), unwrap(hca.at(p)))],
            ),
          ]
        : [
            when(
              isSome(hca.at(p)),
              [assign(dma.at(d).f('state'), 'inflight'), assign(dma.at(d).f('frame'), unwrap(hca.at(p)))],
              [assign(dma.at(d).f('state'), 'faulting')],
            ),
          ]),
    ];
    // In fence mode an unblocked page with no translation fails the operation at once (an access
    // error; nothing happens to memory), which is the same as not issuing it.
    const issuable = (p: Expr) => (fenceMode ? or(blocked.at(p), isSome(hca.at(p))) : true);
    b.rule('HcaIssueDmaRead', { d: Slot, p: Page }, ({ d, p }) => ({
      guard: issuable(p) === true ? eq(dma.at(d).f('state'), 'idle') : and(eq(dma.at(d).f('state'), 'idle'), issuable(p) as Expr),
      body: issue(d, p, false),
    }));
    b.rule('HcaIssueDmaWrite', { d: Slot, p: Page }, ({ d, p }) => ({
      guard:
        issuable(p) === true
          ? and(eq(dma.at(d).f('state'), 'idle'), lt(written, W))
          : and(eq(dma.at(d).f('state'), 'idle'), lt(written, W), issuable(p) as Expr),
      body: issue(d, p, true),
    }));
    // A stalled (fence) or faulting (zap) operation translates once the page is unblocked / mapped.
    const held = (d: Expr) => and(ne(dma.at(d).f('state'), 'idle'), ne(dma.at(d).f('state'), 'inflight'));
    b.rule(
      'HcaResumeDma',
      { d: Slot },
      ({ d }) => {
        const pg = dma.at(d).f('page');
        return {
          guard: and(held(d), not(blocked.at(pg)), isSome(hca.at(pg))),
          body: [assign(dma.at(d).f('state'), 'inflight'), assign(dma.at(d).f('frame'), unwrap(hca.at(pg)))],
        };
      },
      fair,
    );
    // A held operation on a page that no translation will come back for fails (no memory access):
    // unblocked with an empty table entry (fence), or a fault on a page whose PTE is gone, once no
    // invalidation holds up the fault handler's read_begin (hmm_range_fault fails; zap-and-fault).
    b.rule(
      'HcaFailDma',
      { d: Slot },
      ({ d }) => {
        const pg = dma.at(d).f('page');
        return {
          guard: and(held(d), not(blocked.at(pg)), not(isSome(hca.at(pg))), ...(fenceMode ? [] : [not(pte.at(pg).f('present')), not(invOpen(pg))])),
          body: [reset(dma.at(d))],
        };
      },
      fair,
    );
    // The memory access happens at completion: a write's value becomes the page's latest value now.
    b.rule(
      'HcaCompleteDma',
      { d: Slot },
      ({ d }) => ({
        guard: eq(dma.at(d).f('state'), 'inflight'),
        body: [
          when(dma.at(d).f('write'), [assign(data.at(dma.at(d).f('frame')), dma.at(d).f('val')), assign(latest.at(dma.at(d).f('page')), dma.at(d).f('val'))]),
          reset(dma.at(d)),
        ],
      }),
      fair,
    );
    if (mode === 'zap-and-fault' && fault && seq) {
      // ODP page-fault handler as the collision-retry loop of mmu_interval_read_begin/read_retry (mm/mmu_notifier.c; spec/odp-mirror.md, F1..F6).
      const faulting = (p: Expr) => exists(Slot, (d) => and(eq(dma.at(d).f('state'), 'faulting'), eq(dma.at(d).f('page'), p)));
      const h = (p: Expr) => fault.at(p);
      // F1 mmu_interval_read_begin: sleeps while an invalidation is open, then samples the seq.
      b.rule(
        'DriverFaultBegin',
        { p: Page },
        ({ p }) => ({
          guard: and(eq(h(p).f('stage'), 'idle'), not(isSome(hca.at(p))), not(invOpen(p)), faulting(p)),
          body: [assign(h(p).f('seq'), seq.at(p)), assign(h(p).f('stage'), 'walk')],
        }),
        fair,
      );
      // F2 hmm_range_fault: snapshot the PTE (waits on a migration entry until it is removed); a PTE
      // that is gone is -EFAULT (ok false), which the commit turns into a failed resume.
      b.rule(
        'DriverFaultWalk',
        { p: Page },
        ({ p }) => ({
          guard: and(eq(h(p).f('stage'), 'walk'), not(pte.at(p).f('migration'))),
          body: [
            when(
              pte.at(p).f('present'),
              [assign(h(p).f('frame'), pte.at(p).f('frame')), assign(h(p).f('ok'), true)],
              [assign(h(p).f('frame'), 0), assign(h(p).f('ok'), false)],
            ),
            assign(h(p).f('stage'), 'commit'),
          ],
        }),
        fair,
      );
      // F4-F6 under the driver lock: mmu_interval_read_retry; program the mkey, or retry. The
      // correct retry goes back to F1 for a fresh seq; stale-seq-retry goes back to F2 with the old one.
      b.rule(
        'DriverFaultCommit',
        { p: Page },
        ({ p }) => ({
          guard: eq(h(p).f('stage'), 'commit'),
          body: [
            when(
              eq(seq.at(p), h(p).f('seq')),
              [when(h(p).f('ok'), [assign(hca.at(p), some(h(p).f('frame'), option(Frame)))]), reset(h(p))],
              [assign(h(p).f('stage'), cfg.is('stale-seq-retry') ? 'walk' : 'idle')],
            ),
          ],
        }),
        fair,
      );
    } else if (mode === 'zap-and-fault') {
      // ODP page-fault handler: mirror the CPU PTE once no invalidation is open and a present PTE
      // without a migration entry stands (hmm_range_fault + the sequence check, done atomically here;
      // odp-mirror models the collision-retry loop itself).
      b.rule(
        'DriverFaultMirror',
        { p: Page },
        ({ p }) => ({
          guard: and(
            not(isSome(hca.at(p))),
            not(invOpen(p)),
            pte.at(p).f('present'),
            not(pte.at(p).f('migration')),
            exists(Slot, (d) => and(eq(dma.at(d).f('state'), 'faulting'), eq(dma.at(d).f('page'), p))),
          ),
          body: [assign(hca.at(p), some(pte.at(p).f('frame'), option(Frame)))],
        }),
        fair,
      );
    }

    // --- CPU user ---
    b.rule('CpuWrite', { p: Page }, ({ p }) => ({
      guard: and(pte.at(p).f('present'), not(pte.at(p).f('migration')), lt(written, W)),
      body: [assign(data.at(pte.at(p).f('frame')), add(written, 1)), assign(latest.at(p), add(written, 1)), assign(written, add(written, 1))],
    }));
    return {
      Page,
      Frame,
      Slot,
      pte,
      hca,
      blocked,
      inv,
      discard,
      mig,
      owner,
      data,
      latest,
      dma,
      migsLeft,
      discardsLeft,
      failsLeft,
      steps,
      mode,
      migrations: M,
      discards: D,
      failures: F,
    };
  },
});
