/**
 * The `fence-migrate` protocol: moving a page that an RDMA HCA mirrors. Why this module exists: it
 * is the flagship protocol, written once as guarded rules; spec/fence-migrate.md tells the story and
 * numbers the requirements (FM-Rn) that properties/fenceMigrate.ts checks.
 *
 * Two modes share the actors and the data:
 * - `fence` (the HCA way agreed on in the RDMA/HMM discussion): open the invalidation and install a
 *   migration entry, fence and block DMA for the page, copy to a new frame, point the PTE at it,
 *   update the HCA translation (a UMR/XLT update of the mkey), unblock DMA, close the invalidation,
 *   free the old frame.
 * - `zap-and-fault` (the ODP way): the invalidation zaps the HCA translation and waits for in-flight
 *   DMA; later DMA faults and the driver re-mirrors the PTE once the invalidation is closed.
 *
 * The migration is a per-page sequence of steps; each bug variant is one knob on that sequence or on
 * one step's guard.
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
  range,
  record,
  reset,
  some,
  sub,
  unwrap,
  when,
} from 'mirrorcheck';

/** A migration step; a variant is (mostly) a different order of these. */
export type MigStep = 'fence' | 'zap' | 'drain' | 'copy' | 'remap' | 'update' | 'unblock' | 'end' | 'free';

/** The step sequence a migration follows for a mode and variant. */
export function migrationSteps(mode: string, variant: string | null, order = 'remap-first'): readonly MigStep[] {
  if (variant === 'no-invalidate') return ['copy', 'remap', 'free'];
  if (mode === 'zap-and-fault') {
    return variant === 'free-before-fence' ? ['free', 'zap', 'drain', 'copy', 'remap', 'end'] : ['zap', 'drain', 'copy', 'remap', 'end', 'free'];
  }
  switch (variant) {
    case 'unblock-before-update':
      return ['fence', 'drain', 'copy', 'remap', 'unblock', 'update', 'end', 'free'];
    case 'unblock-before-copy':
      return ['fence', 'drain', 'update', 'unblock', 'copy', 'remap', 'end', 'free'];
    case 'free-before-fence':
      return ['free', 'fence', 'drain', 'copy', 'remap', 'update', 'unblock', 'end'];
    // The error path returns without the unblock: the migration finishes, DMA stays blocked.
    case 'never-unblock':
      return ['fence', 'drain', 'copy', 'remap', 'update', 'end', 'free'];
    default:
      // device-first is the order of Documentation/mm/hmm.rst: the device table is updated (and DMA
      // unblocked) before migrate_vma_finalize replaces the migration entry.
      return order === 'device-first'
        ? ['fence', 'drain', 'copy', 'update', 'unblock', 'remap', 'end', 'free']
        : ['fence', 'drain', 'copy', 'remap', 'update', 'unblock', 'end', 'free'];
  }
}

const fenceOnly = (p: Readonly<Record<string, number | string>>) =>
  p.mode === 'fence' ? null : 'it concerns the fence/unblock sequence, which mode zap-and-fault does not have';

/** Handles the property set uses. */
export interface FenceMigrateHandles {
  readonly Page: IndexType;
  readonly Frame: IndexType;
  readonly Slot: IndexType;
  readonly pte: Ref;
  readonly hca: Ref;
  readonly blocked: Ref;
  readonly inv: Ref;
  readonly mig: Ref;
  readonly owner: Ref;
  readonly data: Ref;
  readonly latest: Ref;
  readonly dma: Ref;
  readonly migsLeft: Ref;
  readonly steps: readonly MigStep[];
  readonly mode: string;
  readonly migrations: number;
}

export const fenceMigrate = defineProtocol<FenceMigrateHandles>({
  name: 'fence-migrate',
  summary: 'migrate a page under an RDMA HCA mirror: fence and block DMA, copy, update the HCA table, unblock (or zap and re-fault)',
  spec: 'spec/fence-migrate.md',
  params: {
    pages: intParam(2, 1, 4, 'virtual pages mirrored by the HCA'),
    frames: intParam(3, 2, 6, 'physical frames (must exceed pages, so a migration has a destination)'),
    slots: intParam(1, 1, 3, 'DMA operations the HCA can have outstanding at once'),
    migrations: intParam(2, 0, 4, 'migrations performed in a run (bounded)'),
    writes: intParam(2, 0, 6, 'writes (CPU or DMA) in a run; each writes a fresh value'),
    mode: enumParam('fence', ['fence', 'zap-and-fault'], 'fence: block DMA and update the HCA table; zap-and-fault: zap the translation and re-fault'),
    order: enumParam(
      'remap-first',
      ['remap-first', 'device-first'],
      'fence mode, correct order: remap the CPU PTE before updating the HCA (remap-first), or update and unblock the HCA first (device-first, the hmm.rst order); variants that reorder steps keep their own order',
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
      CPU: 'a CPU thread of the process whose memory the HCA mirrors',
      MM: 'the kernel memory manager migrating the page (migrate_vma_*, mmu notifier, page allocator)',
      Driver: 'the RDMA driver: notifier callback, DMA fence, mkey update, page-fault handler',
      HCA: 'the RDMA adapter: its translation table (the mkey) and DMA engine',
    },
    rules: {
      MmMigrateStart: ['MM', 'Driver'],
      DriverFenceDma: ['Driver', 'HCA'],
      DriverZapMkey: ['Driver', 'HCA'],
      DriverFenceWait: ['HCA', 'Driver'],
      MmCopyPage: 'MM',
      MmRemapPte: ['MM', 'CPU'],
      DriverUpdateMkey: ['Driver', 'HCA'],
      DriverUnblockDma: ['Driver', 'HCA'],
      MmInvalidateEnd: ['MM', 'Driver'],
      MmFreeFrame: 'MM',
      HcaIssueDmaRead: 'HCA',
      HcaIssueDmaWrite: 'HCA',
      HcaResumeDma: 'HCA',
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
      cites: 'RDMA/HMM discussion of the fence/migrate/update/unblock order; HMM.rst "device must complete the update before the driver callback returns"',
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
    const mode = cfg.str('mode');
    const Page = b.index('Page', P);
    const Frame = b.index('Frame', cfg.int('frames'));
    // DMA slots are interchangeable: a scalarset, so engines may reduce by symmetry.
    const Slot = b.index('Slot', cfg.int('slots'), { symmetric: true });
    const Val = range(0, W);
    const steps = migrationSteps(mode, cfg.variant, cfg.str('order'));
    const Step = enumOf('MigStep', ['idle', ...steps]);
    const DmaState = enumOf('DmaState', mode === 'fence' ? ['idle', 'stalled', 'inflight'] : ['idle', 'faulting', 'inflight']);

    // CPU page table: the frame mapped, and whether a migration entry stands in for it.
    const pte = b.v('pte', arrayOf(Page, record({ frame: Frame, migration: bool })));
    // HCA translation table (the mkey's MTT entries), one per page.
    const hca = b.v('hca', arrayOf(Page, option(Frame)));
    // DMA to the page is blocked by a fence (fence mode only; always false in zap-and-fault).
    const blocked = b.v('blocked', arrayOf(Page, bool));
    // An invalidation covering the page is open (between invalidate_range_start and _end).
    const inv = b.v('inv', arrayOf(Page, bool));
    // Migration in progress: the next step, the old frame and the new frame.
    const mig = b.v('mig', arrayOf(Page, record({ step: Step, from: Frame, to: Frame })));
    // Page allocator: which page owns a frame (none: free).
    const owner = b.v('owner', arrayOf(Frame, option(Page)));
    // Frame contents, and the ghost "latest completed write" of each page.
    const data = b.v('data', arrayOf(Frame, Val));
    const latest = b.v('latest', arrayOf(Page, Val));
    // DMA engine: operations issued (stalled or faulting) or in flight, completing later.
    const dma = b.v('dma', arrayOf(Slot, record({ state: DmaState, write: bool, page: Page, frame: Frame, val: Val })));
    const written = b.v('written', range(0, W));
    const migsLeft = b.v('migsLeft', range(0, M));
    // fault=retry only: the interval notifier's invalidate seq per page (bumped when an
    // invalidation starts), and the fault handler's progress: its read_begin seq and PTE snapshot.
    const retry = mode === 'zap-and-fault' && cfg.str('fault') === 'retry';
    const seq = retry ? b.v('seq', arrayOf(Page, range(0, M))) : null;
    const fault = retry
      ? b.v('fault', arrayOf(Page, record({ stage: enumOf('FaultStage', ['idle', 'walk', 'commit']), seq: range(0, M), frame: Frame })))
      : null;

    b.init('mapped', () => [
      ...Array.from({ length: P }, (_, i) => [
        assign(pte.at(i).f('frame'), i),
        assign(hca.at(i), some(i, option(Frame))),
        assign(owner.at(i), some(i, option(Page))),
      ]).flat(),
      assign(migsLeft, M),
    ]);

    // --- Migration initiator (the mm, a GPU driver through HMM, a DAX filesystem) and driver ---
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
    // what it started). Starting a migration, issuing DMA and CPU writes are the environment's
    // choices: not fair.
    const fair = { fairness: 'weak' as const };
    const stepRule = (name: string, s: MigStep, extraGuard: (p: Expr) => Expr | true, body: (p: Expr) => ReturnType<typeof assign>[]) => {
      if (!steps.includes(s)) return;
      b.rule(
        name,
        { p: Page },
        ({ p }) => ({
          guard: extraGuard(p) === true ? eq(mig.at(p).f('step'), s) : and(eq(mig.at(p).f('step'), s), extraGuard(p) as Expr),
          body: [...body(p), ...advance(p, s)],
        }),
        fair,
      );
    };

    // migrate_vma_setup: open the invalidation, install a migration entry, allocate the new frame.
    b.rule('MmMigrateStart', { p: Page, f: Frame }, ({ p, f }) => ({
      guard: and(eq(mig.at(p).f('step'), 'idle'), lt(0, migsLeft), not(isSome(owner.at(f)))),
      body: [
        ...(cfg.is('no-invalidate') ? [] : [assign(inv.at(p), true), ...(seq ? [assign(seq.at(p), add(seq.at(p), 1))] : [])]),
        assign(pte.at(p).f('migration'), true),
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
    // Driver: fence and block DMA for the page (mlx5 UMR with fence / revoke semantics).
    stepRule(
      'DriverFenceDma',
      'fence',
      () => true,
      (p) => [assign(blocked.at(p), true)],
    );
    // Driver (ODP): zap the HCA translation for the page.
    stepRule(
      'DriverZapMkey',
      'zap',
      () => true,
      (p) => [assign(hca.at(p), none)],
    );
    // Driver: the fence returns once in-flight DMA to the old frame has drained.
    stepRule(
      'DriverFenceWait',
      'drain',
      (p) => (cfg.is('fence-without-drain') ? true : noInflightToOld(p)),
      () => [],
    );
    // Migration initiator: copy the page to the new frame.
    stepRule(
      'MmCopyPage',
      'copy',
      () => true,
      (p) => [assign(data.at(mig.at(p).f('to')), data.at(mig.at(p).f('from')))],
    );
    // migrate_vma_pages / finalize: point the CPU PTE at the new frame; CPU accesses resume.
    stepRule(
      'MmRemapPte',
      'remap',
      () => true,
      (p) => [assign(pte.at(p).f('frame'), mig.at(p).f('to')), assign(pte.at(p).f('migration'), false)],
    );
    // Driver: update the HCA translation table to the new frame (UMR/XLT update of the mkey).
    stepRule(
      'DriverUpdateMkey',
      'update',
      () => true,
      (p) => [assign(hca.at(p), some(mig.at(p).f('to'), option(Frame)))],
    );
    // Driver: unblock DMA for the page.
    stepRule(
      'DriverUnblockDma',
      'unblock',
      () => true,
      (p) => [assign(blocked.at(p), false)],
    );
    // mmu_notifier invalidate_range_end: close the invalidation.
    stepRule(
      'MmInvalidateEnd',
      'end',
      () => true,
      (p) => [assign(inv.at(p), false)],
    );
    // Free the old frame; it can be reused by a later migration.
    stepRule(
      'MmFreeFrame',
      'free',
      () => true,
      (p) => [assign(owner.at(mig.at(p).f('from')), none), assign(data.at(mig.at(p).f('from')), 0)],
    );

    // --- HCA DMA engine ---
    const issue = (d: Expr, p: Expr, write: boolean) => [
      assign(dma.at(d).f('page'), p),
      assign(dma.at(d).f('write'), write),
      ...(write ? [assign(dma.at(d).f('val'), add(written, 1)), assign(written, add(written, 1))] : []),
      ...(mode === 'fence'
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
    b.rule('HcaIssueDmaRead', { d: Slot, p: Page }, ({ d, p }) => ({
      guard: eq(dma.at(d).f('state'), 'idle'),
      body: issue(d, p, false),
    }));
    b.rule('HcaIssueDmaWrite', { d: Slot, p: Page }, ({ d, p }) => ({
      guard: and(eq(dma.at(d).f('state'), 'idle'), lt(written, W)),
      body: issue(d, p, true),
    }));
    // A stalled (fence) or faulting (zap) operation translates once the page is unblocked / mapped.
    b.rule(
      'HcaResumeDma',
      { d: Slot },
      ({ d }) => {
        const pg = dma.at(d).f('page');
        return {
          guard: and(ne(dma.at(d).f('state'), 'idle'), ne(dma.at(d).f('state'), 'inflight'), not(blocked.at(pg)), isSome(hca.at(pg))),
          body: [assign(dma.at(d).f('state'), 'inflight'), assign(dma.at(d).f('frame'), unwrap(hca.at(pg)))],
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
          guard: and(eq(h(p).f('stage'), 'idle'), not(isSome(hca.at(p))), not(inv.at(p)), faulting(p)),
          body: [assign(h(p).f('seq'), seq.at(p)), assign(h(p).f('stage'), 'walk')],
        }),
        fair,
      );
      // F2 hmm_range_fault: snapshot the PTE (waits on a migration entry until it is removed).
      b.rule(
        'DriverFaultWalk',
        { p: Page },
        ({ p }) => ({
          guard: and(eq(h(p).f('stage'), 'walk'), not(pte.at(p).f('migration'))),
          body: [assign(h(p).f('frame'), pte.at(p).f('frame')), assign(h(p).f('stage'), 'commit')],
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
              [assign(hca.at(p), some(h(p).f('frame'), option(Frame))), reset(h(p))],
              [assign(h(p).f('stage'), cfg.is('stale-seq-retry') ? 'walk' : 'idle')],
            ),
          ],
        }),
        fair,
      );
    } else if (mode === 'zap-and-fault') {
      // ODP page-fault handler: mirror the CPU PTE once no invalidation is open and no migration
      // entry stands in the PTE (hmm_range_fault + the sequence check, done atomically here;
      // odp-mirror models the collision-retry loop itself).
      b.rule(
        'DriverFaultMirror',
        { p: Page },
        ({ p }) => ({
          guard: and(
            not(isSome(hca.at(p))),
            not(inv.at(p)),
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
      guard: and(not(pte.at(p).f('migration')), lt(written, W)),
      body: [assign(data.at(pte.at(p).f('frame')), add(written, 1)), assign(latest.at(p), add(written, 1)), assign(written, add(written, 1))],
    }));
    return { Page, Frame, Slot, pte, hca, blocked, inv, mig, owner, data, latest, dma, migsLeft, steps, mode, migrations: M };
  },
});
