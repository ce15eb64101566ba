/**
 * The `hmm-migrate` protocol: migrating an anonymous page to device-private memory and back.
 * Why this module exists: migration moves a page's data between homes while CPUs, reclaim,
 * madvise, GUP and the device all hold translations or references to it; the kernel keeps this
 * safe with the PTL, the page lock, page references, migration entries, the dirty bit and TLB
 * flushes. This model writes those steps once, as guarded rules; spec/hmm-migrate.md tells the story
 * and numbers the requirements (HM-Rn) that properties/hmmMigrate.ts checks.
 *
 * Actors and what they model (kernel functions in brackets):
 * - the driver migrating to device memory [dmirror_migrate_to_device]: read_begin, migrate_vma_setup
 *   (collect under the PTL: migration entry, dirty bit to the page, TLB flush; unmap and the
 *   unexpected-reference check that restores the PTE), the copy to a device-private page,
 *   migrate_vma_pages, the device page-table update under the driver lock, migrate_vma_finalize;
 * - CPU threads: loads and stores through their TLBs (which cache the PTE's dirty bit), faults on
 *   an empty PTE, a swap entry and a device-private entry [do_swap_page -> migrate_to_ram, i.e.
 *   dmirror_devmem_fault], with the page lock and the page reference held across unlocked steps;
 * - madvise(MADV_DONTNEED) [zap_page_range_single]: notifier region, zap under the PTL, end;
 * - reclaim [shrink_folio_list]: unmap (the PTE dirty bit moves to the page), page-out when dirty or
 *   not yet on swap, free; a clean page with a valid swap copy is dropped and read back later;
 * - a GUP user holding a transient page reference [get_user_pages / put_page];
 * - the device, reading and writing its device-private page through its page table under the
 *   driver lock [dmirror_do_read / dmirror_do_write].
 *
 * One virtual page is modelled. Each bug variant is one knob on one step and cites its commit.
 */
import {
  type BuildConfig,
  type Builder,
  type Expr,
  type IndexType,
  type Operand,
  type ParamValues,
  type Ref,
  type Stmt,
  add,
  and,
  arrayOf,
  assign,
  bool,
  defineProtocol,
  enumOf,
  enumParam,
  eq,
  forEach,
  intParam,
  isNone,
  isSome,
  ite,
  lt,
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

/** The variant names, in the order `mirrorcheck list` shows them. */
export const HM_VARIANTS = ['flush-after-ptl-unlock', 'device-private-fault-no-ref', 'dirty-bit-dropped', 'map-without-retry'] as const;
export type HmVariant = (typeof HM_VARIANTS)[number];

/** The larger configuration, over a million reachable states (its own test file). */
export const HM_LARGE_PARAMS: Readonly<Record<string, number>> = { cpus: 2, devframes: 2, migrations: 3, writes: 3, zaps: 2 };

/** Handles the property set and the proof hints read. */
export interface HmMigrateHandles {
  readonly Cpu: IndexType;
  readonly Frame: IndexType;
  readonly DevFrame: IndexType;
  readonly pte: Ref;
  readonly page: Ref;
  readonly dpage: Ref;
  readonly swap: Ref;
  readonly tlb: Ref;
  readonly cpu: Ref;
  readonly fwd: Ref;
  readonly devPt: Ref;
  readonly zap: Ref;
  readonly pin: Ref;
  readonly latest: Ref;
  readonly written: Ref;
  /** Where the page's data lives now (see `build`): what a load would return once it reaches it. */
  readonly content: Expr;
  readonly params: { readonly writes: number; readonly migrations: number; readonly zaps: number; readonly pins: number; readonly reclaim: number };
}

const needsZap = (p: ParamValues) => ((p.zaps as number) >= 1 ? null : 'the race needs a MADV_DONTNEED: use zaps >= 1');
const needsMigration = (p: ParamValues) => ((p.migrations as number) >= 1 ? null : 'it concerns a migration to device memory: use migrations >= 1');

export const hmmMigrate = defineProtocol<HmMigrateHandles>({
  name: 'hmm-migrate',
  actors: {
    participants: {
      CPU: 'a CPU thread touching the page (faults, reads, writes)',
      MM: 'the kernel memory manager (migrate_vma_*, page tables, TLB flushes, zaps, reclaim, GUP)',
      Driver: 'the device driver (dmirror-like): migration to and from device-private memory, device page table',
      Device: 'the device accessing its mirror of the page',
    },
    rules: {
      DriverMigrateBegin: ['Driver', 'MM'],
      MmMigrateCollect: 'MM',
      MmMigrateFlushTlb: ['MM', 'CPU'],
      DriverMigrateCopy: 'Driver',
      DriverMigrateCopyNoMemory: 'Driver',
      DriverMigrateMap: ['Driver', 'Device'],
      MmMigrateFinalize: 'MM',
      CpuFaultDevicePrivate: ['CPU', 'MM'],
      DriverFaultCollect: ['MM', 'Driver'],
      DriverFaultCopy: 'Driver',
      DriverFaultFinalize: ['Driver', 'MM'],
      CpuFaultReturn: ['MM', 'CPU'],
      CpuRead: 'CPU',
      CpuWrite: 'CPU',
      CpuFaultAnon: ['CPU', 'MM'],
      CpuSwapIn: ['CPU', 'MM'],
      MmZapStart: ['MM', 'Driver'],
      MmZapPte: 'MM',
      MmZapEnd: ['MM', 'Driver'],
      MmReclaimPage: 'MM',
      GupPin: ['CPU', 'MM'],
      GupUnpin: ['CPU', 'MM'],
      DevRead: 'Device',
      DevWrite: 'Device',
    },
  },
  summary: 'migrate an anonymous page to device-private memory and back: migration entries, dirty bits, TLB flushes, page references, reclaim',
  spec: 'spec/hmm-migrate.md',
  params: {
    cpus: intParam(1, 1, 3, 'CPU threads of the process (each with its own TLB)'),
    frames: intParam(2, 1, 3, 'system memory frames'),
    devframes: intParam(1, 1, 2, 'device-private pages of the driver'),
    migrations: intParam(1, 0, 3, 'migrations to device memory the driver starts in a run'),
    zaps: intParam(1, 0, 2, 'MADV_DONTNEED calls on the page in a run'),
    writes: intParam(2, 0, 4, 'writes (CPU or device) in a run; each writes a fresh value'),
    pins: intParam(1, 0, 2, 'transient GUP references taken in a run'),
    reclaim: intParam(1, 0, 1, '1: reclaim may unmap the page to swap (dropping it when clean)'),
    dirty: enumParam(
      'both',
      ['both', 'page', 'entry'],
      'collect keeps the PTE dirty bit in the page flag and the migration entry (both, current kernels), the page flag only (fd35ca3d12cc), or the migration entry only',
    ),
  },
  variants: [
    {
      name: 'flush-after-ptl-unlock',
      summary:
        'migrate_vma_collect_pmd flushes the CPU TLB after dropping the PTL: a concurrent MADV_DONTNEED finds no present PTE, flushes nothing and returns while a CPU still writes through the stale TLB entry',
      cites: 'B11: 60bae7370896 "mm/migrate_device.c: flush TLB while holding PTL" (Fixes 8c3328f1f36a)',
      appliesTo: (p) => needsMigration(p) ?? needsZap(p),
    },
    {
      name: 'device-private-fault-no-ref',
      summary:
        'do_swap_page uses the device-private page after dropping the PTL without taking a reference: a racing zap frees it (and its pgmap) under the fault',
      cites: 'B13: 16ce101db85d "mm/memory.c: fix race when faulting a device private page" (CVE-2022-3523)',
      appliesTo: needsMigration,
    },
    {
      name: 'dirty-bit-dropped',
      summary:
        'collect clears a dirty PTE without moving the dirty bit to the page or the migration entry: a migration that then fails (an extra reference, or no device page) restores a clean PTE, and reclaim drops the page keeping the stale swap copy',
      cites: 'fd35ca3d12cc "mm/migrate_device.c: copy pte dirty bit to page" (Fixes 8c3328f1f36a)',
      appliesTo: needsMigration,
    },
    {
      name: 'map-without-retry',
      summary:
        'as mainline lib/test_hmm.c and nouveau do: the driver maps the migrated device page without mmu_interval_read_retry: a MADV_DONTNEED that zapped the migration entry goes unseen, and the device keeps a translation to a page that is then freed',
      cites:
        'dmirror_migrate_finalize_and_map (lib/test_hmm.c, ead971eec0eb) and nouveau_dmem_migrate_chunk -> nouveau_pfns_map (nouveau_svm.c, 599b684a7854) map after migrate_vma_pages with no sequence check; the migrate_vma_setup kernel-doc relies on the mmap read lock, which MADV_DONTNEED also takes; found by this model and confirmed by reading torvalds/linux, see spec/hmm-migrate.md 6.4',
      appliesTo: (p) => needsMigration(p) ?? needsZap(p),
    },
  ],
  build(b: Builder, cfg: BuildConfig): HmMigrateHandles {
    const C = cfg.int('cpus');
    const W = cfg.int('writes');
    const M = cfg.int('migrations');
    const Z = cfg.int('zaps');
    const P = cfg.int('pins');
    const dirtyMode = cfg.str('dirty');
    const v = (name: HmVariant) => cfg.is(name);

    const Cpu = b.index('Cpu', C, { symmetric: true });
    const Frame = b.index('Frame', cfg.int('frames'));
    const DevFrame = b.index('DevFrame', cfg.int('devframes'));
    const Val = range(0, W);
    const FrameOpt = option(Frame);
    const DevOpt = option(DevFrame);
    // A page's reference count: mapping, swap cache, GUP pin, migration (collect/isolation).
    const Ref4 = range(0, 4);
    // A device page: mapping or allocation, migration (collect), the faulting thread, one spare.
    const DRef = range(0, 4);
    const PteKind = enumOf('PteKind', ['none', 'present', 'migration', 'devpriv', 'devmigration', 'swap']);
    const CpuPc = enumOf('CpuPc', ['idle', 'collect', 'copy', 'finalize', 'ret']);
    const fwdStages = ['idle', 'collect', ...(v('flush-after-ptl-unlock') ? ['flush'] : []), 'copy', 'map', 'finalize'];
    const FwdPc = enumOf('FwdPc', fwdStages);
    const ZapPc = enumOf('ZapPc', ['idle', 'pte', 'end']);

    // --- CPU page table entry of the page (one VA), guarded by the PTL ---
    // present/migration name a system frame (with the PTE or migration-entry dirty bit);
    // devpriv/devmigration name a device-private page; swap means the data is in the swap slot.
    const pte = b.v('pte', record({ kind: PteKind, frame: Frame, dev: DevFrame, dirty: bool }));
    // --- struct page of each system frame and device page (ref 0 = free) ---
    const page = b.v('page', arrayOf(Frame, record({ ref: Ref4, locked: bool, dirty: bool, data: Val })));
    const dpage = b.v('dpage', arrayOf(DevFrame, record({ ref: DRef, locked: bool, data: Val })));
    // --- the page's swap slot: its contents, and the frame in the swap cache for it ---
    const swap = b.v('swap', record({ valid: bool, data: Val, cached: FrameOpt }));
    // --- CPU threads: TLB (caches the frame and the PTE dirty bit), device-private fault path ---
    const tlb = b.v('tlb', arrayOf(Cpu, record({ frame: FrameOpt, dirty: bool })));
    const cpu = b.v('cpu', arrayOf(Cpu, record({ pc: CpuPc, page: DevFrame, dst: Frame, ok: bool })));
    // --- the driver's migration to device memory ---
    const fwd = b.v('fwd', record({ pc: FwdPc, src: Frame, dst: DevOpt, ok: bool, seqOk: bool }));
    // --- the device page table (dmirror's xarray; holds no reference) ---
    const devPt = b.v('devPt', DevOpt);
    // --- madvise(MADV_DONTNEED) ---
    const zap = b.v('zap', record({ pc: ZapPc }));
    // --- a GUP user holding a transient reference ---
    const pin = b.v('pin', FrameOpt);
    // --- ghost: the value a read must return (last write, 0 after DONTNEED), and budgets ---
    const latest = b.v('latest', Val);
    const written = b.v('written', range(0, W));
    const migsLeft = b.v('migsLeft', range(0, M));
    const zapsLeft = b.v('zapsLeft', range(0, Z));
    const pinsLeft = b.v('pinsLeft', range(0, P));

    // The page starts mapped and clean in frame 0, with an up-to-date copy in swap (it was swapped
    // in earlier and is still in the swap cache): the case where a lost dirty bit loses data.
    b.init('mapped', () => [
      assign(pte.f('kind'), 'present'),
      assign(pte.f('frame'), 0),
      assign(page.at(0).f('ref'), 2), // the mapping and the swap cache
      assign(swap.f('valid'), true),
      assign(swap.f('cached'), some(0, FrameOpt)),
      assign(migsLeft, M),
      assign(zapsLeft, Z),
      assign(pinsLeft, P),
    ]);

    // ------------------------------------------------------------------------------------------
    // Helpers.
    const kindIs = (k: string) => eq(pte.f('kind'), k);
    // 1 when frame f is in the swap cache (the swap cache holds a reference), else 0.
    const swapRef = (f: Operand) => ite(eq(swap.f('cached'), some(f, FrameOpt)), 1, 0);
    const setPte = (kind: string, f?: Operand, d?: Operand, dirty?: Operand): Stmt[] => [
      reset(pte),
      assign(pte.f('kind'), kind),
      ...(f !== undefined ? [assign(pte.f('frame'), f)] : []),
      ...(d !== undefined ? [assign(pte.f('dev'), d)] : []),
      ...(dirty !== undefined ? [assign(pte.f('dirty'), dirty)] : []),
    ];
    // folio_put: the last reference frees the page (contents scrubbed, flags cleared).
    const putPage = (f: Operand): Stmt[] => [assign(page.at(f).f('ref'), sub(page.at(f).f('ref'), 1)), when(eq(page.at(f).f('ref'), 0), reset(page.at(f)))];
    const getPage = (f: Operand): Stmt => assign(page.at(f).f('ref'), add(page.at(f).f('ref'), 1));
    // put_page of a device-private page: the last reference calls pgmap->ops->page_free.
    const putDev = (d: Operand): Stmt[] => [assign(dpage.at(d).f('ref'), sub(dpage.at(d).f('ref'), 1)), when(eq(dpage.at(d).f('ref'), 0), reset(dpage.at(d)))];
    const getDev = (d: Operand): Stmt => assign(dpage.at(d).f('ref'), add(dpage.at(d).f('ref'), 1));
    // flush_tlb_range: every CPU drops its translation to frame f.
    const flushTlb = (f: Operand): Stmt => forEach(Cpu, (c) => when(eq(tlb.at(c).f('frame'), some(f, FrameOpt)), reset(tlb.at(c))));
    // A CPU access needs a page walk: no TLB entry, or a clean one and the access may be a write.
    const walks = (c: Expr) => or(isNone(tlb.at(c).f('frame')), not(tlb.at(c).f('dirty')));
    const fair = { fairness: 'weak' as const };
    // Where the page's data lives now: the frame or device page the CPU entry names; during a
    // migration to the device, the source until the copy has committed, then the destination
    // (which the device may already write). A device migration entry leaves the device page intact
    // until the end, and an empty PTE reads as zero.
    const content = ite(
      kindIs('present'),
      page.at(pte.f('frame')).f('data'),
      ite(
        kindIs('migration'),
        ite(
          and(or(eq(fwd.f('pc'), 'map'), eq(fwd.f('pc'), 'finalize')), fwd.f('ok')),
          dpage.at(unwrap(fwd.f('dst'))).f('data'),
          page.at(pte.f('frame')).f('data'),
        ),
        ite(or(kindIs('devpriv'), kindIs('devmigration')), dpage.at(pte.f('dev')).f('data'), ite(kindIs('swap'), swap.f('data'), 0)),
      ),
    );

    // ------------------------------------------------------------------------------------------
    // Migration to device memory (the driver: dmirror_migrate_to_device).
    //
    // M1 mmu_interval_read_begin (sleeps while a region whose callback has run is open; the
    // corrected protocol: mainline dmirror and nouveau take no sequence, see map-without-retry),
    // then migrate_vma_setup opens its MMU_NOTIFY_MIGRATE region with owner = this driver, whose
    // callback skips it (dmirror_interval_invalidate): no effect on the device.
    b.rule('DriverMigrateBegin', {}, () => ({
      guard: and(eq(fwd.f('pc'), 'idle'), lt(0, migsLeft), eq(zap.f('pc'), 'idle')),
      body: [assign(migsLeft, sub(migsLeft, 1)), assign(fwd.f('seqOk'), true), assign(fwd.f('pc'), 'collect')],
    }));
    // M2 migrate_vma_collect_pmd, under the PTL: a present page whose lock is free is referenced and
    // locked, the PTE is cleared and its dirty bit moved to the page, a migration entry (keeping the
    // dirty bit) is installed, the rmap dropped, and the TLB flushed before the PTL is released.
    // Anything else (none, swap, device-private, or a locked page) is skipped: nothing migrates.
    b.rule(
      'MmMigrateCollect',
      {},
      () => {
        const f = pte.f('frame');
        const keepInPage = dirtyMode !== 'entry' && !v('dirty-bit-dropped');
        const keepInEntry = dirtyMode !== 'page' && !v('dirty-bit-dropped');
        return {
          guard: eq(fwd.f('pc'), 'collect'),
          body: [
            when(
              and(kindIs('present'), not(page.at(f).f('locked'))),
              [
                assign(fwd.f('src'), f),
                assign(page.at(f).f('locked'), true),
                ...(keepInPage ? [when(pte.f('dirty'), assign(page.at(f).f('dirty'), true))] : []),
                // +1 for collect's folio_get, -1 for the mapping's folio_put: the count is unchanged.
                ...(v('flush-after-ptl-unlock') ? [] : [flushTlb(f)]),
                assign(pte.f('kind'), 'migration'),
                ...(keepInEntry ? [] : [assign(pte.f('dirty'), false)]),
                assign(fwd.f('pc'), v('flush-after-ptl-unlock') ? 'flush' : 'copy'),
              ],
              [reset(fwd)],
            ),
          ],
        };
      },
      fair,
    );
    if (v('flush-after-ptl-unlock')) {
      // B11: flush_tlb_range after pte_unmap_unlock, still inside migrate_vma_collect_pmd.
      b.rule(
        'MmMigrateFlushTlb',
        {},
        () => ({
          guard: eq(fwd.f('pc'), 'flush'),
          body: [flushTlb(fwd.f('src')), assign(fwd.f('pc'), 'copy')],
        }),
        fair,
      );
    }
    // M3 migrate_device_unmap + migrate_vma_check_page: a reference beyond the migration's own and
    // the swap cache's (a GUP pin) means the page cannot move: the migration entry is replaced by
    // the original PTE (remove_migration_ptes, dirty bit from the entry), the page unlocked and put.
    // Otherwise the driver allocates a device page, locks it and copies the data
    // (dmirror_migrate_alloc_and_copy), and migrate_vma_pages commits: the swap copy is released
    // (folio_free_swap) and the reference count checked again (folio_migrate_mapping).
    const src = fwd.f('src');
    const restoreSrc: Stmt[] = [
      when(and(kindIs('migration'), eq(pte.f('frame'), src)), [assign(pte.f('kind'), 'present'), getPage(src)]),
      assign(page.at(src).f('locked'), false),
      ...putPage(src),
    ];
    // migrate_vma_check_page: more references than the migration's own and the swap cache's.
    const pinned = lt(add(1, swapRef(src)), page.at(src).f('ref'));
    const commitToDevice = (d: Operand): Stmt[] => [
      assign(dpage.at(d).f('ref'), 1),
      assign(dpage.at(d).f('locked'), true),
      assign(dpage.at(d).f('data'), page.at(src).f('data')),
      assign(fwd.f('dst'), some(d, DevOpt)),
      when(eq(swap.f('cached'), some(src, FrameOpt)), [reset(swap), ...putPage(src)]),
      assign(fwd.f('ok'), true),
      assign(fwd.f('pc'), 'map'),
    ];
    b.rule(
      'DriverMigrateCopy',
      { d: DevFrame },
      ({ d }) => ({
        guard: and(eq(fwd.f('pc'), 'copy'), eq(dpage.at(d).f('ref'), 0)),
        body: [when(pinned, [...restoreSrc, reset(fwd)], commitToDevice(d))],
      }),
      fair,
    );
    // The driver gets no device page: dmirror_devmem_alloc_page returns NULL when its pool is empty,
    // and also when the system page backing the simulated device page (alloc_page(GFP_HIGHUSER),
    // `rpage`) or a new chunk (dmirror_allocate_chunk) cannot be allocated, so this may happen at any
    // copy. The driver leaves dst empty, migrate_vma_pages clears MIGRATE and finalize restores the
    // source (a pinned page is restored at once, as above).
    b.rule(
      'DriverMigrateCopyNoMemory',
      {},
      () => ({
        guard: eq(fwd.f('pc'), 'copy'),
        body: [when(pinned, [...restoreSrc, reset(fwd)], [assign(fwd.f('ok'), false), assign(fwd.f('pc'), 'finalize')])],
      }),
      fair,
    );
    // M4 the device page-table update of dmirror_migrate_finalize_and_map, under the driver lock,
    // with mmu_interval_read_retry added: only if no other invalidation ran since M1 is the device
    // page mapped (map-without-retry, what mainline dmirror and nouveau do: always).
    b.rule(
      'DriverMigrateMap',
      {},
      () => ({
        guard: eq(fwd.f('pc'), 'map'),
        body: [when(v('map-without-retry') ? fwd.f('ok') : and(fwd.f('ok'), fwd.f('seqOk')), assign(devPt, fwd.f('dst'))), assign(fwd.f('pc'), 'finalize')],
      }),
      fair,
    );
    // M5 migrate_vma_finalize: the migration entry (if madvise has not zapped it) becomes a
    // device-private entry for the new page, or the source again on failure; both pages are
    // unlocked and the migration's references dropped (the source is freed).
    b.rule(
      'MmMigrateFinalize',
      {},
      () => {
        const dst = unwrap(fwd.f('dst'));
        const entryThere = and(kindIs('migration'), eq(pte.f('frame'), src));
        return {
          guard: eq(fwd.f('pc'), 'finalize'),
          body: [
            when(
              fwd.f('ok'),
              [
                when(entryThere, [...setPte('devpriv', undefined, dst), getDev(dst)]),
                assign(dpage.at(dst).f('locked'), false),
                ...putDev(dst),
                assign(page.at(src).f('locked'), false),
                ...putPage(src),
              ],
              restoreSrc,
            ),
            reset(fwd),
          ],
        };
      },
      fair,
    );

    // ------------------------------------------------------------------------------------------
    // A CPU fault on the device-private entry: do_swap_page, then the driver's migrate_to_ram
    // (dmirror_devmem_fault) runs migrate_vma_setup / pages / finalize with fault_page set.
    //
    // D1 do_swap_page, under the PTL: the entry is still the same; trylock the page (on failure
    // the fault simply returns and the access is retried, no state changes); take a reference
    // (device-private-fault-no-ref: none), drop the PTL and call migrate_to_ram.
    const faultRef = !v('device-private-fault-no-ref');
    b.rule('CpuFaultDevicePrivate', { c: Cpu }, ({ c }) => {
      const d = pte.f('dev');
      return {
        guard: and(eq(cpu.at(c).f('pc'), 'idle'), kindIs('devpriv'), walks(c), not(dpage.at(d).f('locked'))),
        body: [
          assign(dpage.at(d).f('locked'), true),
          ...(faultRef ? [getDev(d)] : []),
          reset(tlb.at(c)),
          assign(cpu.at(c).f('page'), d),
          assign(cpu.at(c).f('pc'), 'collect'),
        ],
      };
    });
    // D2 migrate_vma_setup(fault_page): collect, under the PTL, replaces the device-private entry
    // with a device migration entry (the fault page is already locked; +1 collect, -1 rmap).
    // Device-private pages cannot be pinned, so the unexpected-reference check passes. If the
    // entry changed meanwhile (zapped), nothing is collected and the fault just returns.
    b.rule(
      'DriverFaultCollect',
      { c: Cpu },
      ({ c }) => {
        const d = cpu.at(c).f('page');
        return {
          guard: eq(cpu.at(c).f('pc'), 'collect'),
          body: [
            when(
              and(kindIs('devpriv'), eq(pte.f('dev'), d)),
              [assign(pte.f('kind'), 'devmigration'), assign(cpu.at(c).f('ok'), true), assign(cpu.at(c).f('pc'), 'copy')],
              [assign(cpu.at(c).f('pc'), 'ret')],
            ),
          ],
        };
      },
      fair,
    );
    // D3 dmirror_devmem_fault_alloc_and_copy: allocate and lock a system page, erase the device's
    // own mapping of the page (xa_erase) and copy the data from device memory. The allocation
    // waits for a free frame; it is strongly fair (memory freed again and again is eventually
    // given to the waiter), as the page allocator's reclaim-and-retry makes it.
    b.rule(
      'DriverFaultCopy',
      { c: Cpu, f: Frame },
      ({ c, f }) => {
        const d = cpu.at(c).f('page');
        return {
          guard: and(eq(cpu.at(c).f('pc'), 'copy'), eq(page.at(f).f('ref'), 0)),
          body: [
            assign(page.at(f).f('ref'), 1),
            assign(page.at(f).f('locked'), true),
            when(eq(devPt, some(d, DevOpt)), assign(devPt, none)),
            assign(page.at(f).f('data'), dpage.at(d).f('data')),
            assign(cpu.at(c).f('dst'), f),
            assign(cpu.at(c).f('pc'), 'finalize'),
          ],
        };
      },
      { fairness: 'strong' },
    );
    // D4 migrate_vma_pages + migrate_vma_finalize: folio_migrate_mapping expects exactly the
    // migration's reference and the fault's (extra_cnt); then the migration entry (if still there)
    // becomes a present PTE for the new page, or the device-private entry again on failure. The new
    // page is unlocked and put; the fault page stays locked and loses the migration's reference.
    b.rule(
      'DriverFaultFinalize',
      { c: Cpu },
      ({ c }) => {
        const d = cpu.at(c).f('page');
        const f = cpu.at(c).f('dst');
        const entryThere = and(kindIs('devmigration'), eq(pte.f('dev'), d));
        const committed = eq(dpage.at(d).f('ref'), 2);
        return {
          guard: eq(cpu.at(c).f('pc'), 'finalize'),
          body: [
            when(committed, when(entryThere, [...setPte('present', f), getPage(f)]), when(entryThere, [assign(pte.f('kind'), 'devpriv'), getDev(d)])),
            assign(page.at(f).f('locked'), false),
            ...putPage(f),
            ...putDev(d),
            assign(cpu.at(c).f('ok'), false),
            assign(cpu.at(c).f('dst'), 0),
            assign(cpu.at(c).f('pc'), 'ret'),
          ],
        };
      },
      fair,
    );
    // D5 back in do_swap_page: unlock_page and put_page (device-private-fault-no-ref: no put).
    b.rule(
      'CpuFaultReturn',
      { c: Cpu },
      ({ c }) => {
        const d = cpu.at(c).f('page');
        return {
          guard: eq(cpu.at(c).f('pc'), 'ret'),
          body: [assign(dpage.at(d).f('locked'), false), ...(faultRef ? putDev(d) : []), reset(cpu.at(c))],
        };
      },
      fair,
    );

    // ------------------------------------------------------------------------------------------
    // CPU loads and stores, and the other faults.
    // A load hits the TLB or walks a present PTE (filling the TLB with the PTE's dirty bit).
    b.rule('CpuRead', { c: Cpu }, ({ c }) => ({
      guard: and(eq(cpu.at(c).f('pc'), 'idle'), or(isSome(tlb.at(c).f('frame')), kindIs('present'))),
      body: [when(isNone(tlb.at(c).f('frame')), [assign(tlb.at(c).f('frame'), some(pte.f('frame'), FrameOpt)), assign(tlb.at(c).f('dirty'), pte.f('dirty'))])],
    }));
    // A store through a dirty TLB entry needs no walk (even a stale one); otherwise the walk sets
    // the PTE dirty bit on a present PTE (a non-present PTE faults, below).
    b.rule('CpuWrite', { c: Cpu }, ({ c }) => {
      const viaTlb = and(isSome(tlb.at(c).f('frame')), tlb.at(c).f('dirty'));
      return {
        guard: and(eq(cpu.at(c).f('pc'), 'idle'), lt(written, W), or(viaTlb, kindIs('present'))),
        body: [
          when(not(viaTlb), [assign(pte.f('dirty'), true), assign(tlb.at(c).f('frame'), some(pte.f('frame'), FrameOpt)), assign(tlb.at(c).f('dirty'), true)]),
          assign(page.at(unwrap(tlb.at(c).f('frame'))).f('data'), add(written, 1)),
          assign(latest, add(written, 1)),
          assign(written, add(written, 1)),
        ],
      };
    });
    // do_anonymous_page: an empty PTE gets a fresh zeroed frame.
    b.rule('CpuFaultAnon', { c: Cpu, f: Frame }, ({ c, f }) => ({
      guard: and(eq(cpu.at(c).f('pc'), 'idle'), kindIs('none'), walks(c), eq(page.at(f).f('ref'), 0)),
      body: [reset(tlb.at(c)), ...setPte('present', f), assign(page.at(f).f('ref'), 1)],
    }));
    // do_swap_page (swap entry): read the slot into a fresh frame that stays in the swap cache,
    // clean, and map it (the read happens under the page lock; pte_same is re-checked under the PTL).
    b.rule('CpuSwapIn', { c: Cpu, f: Frame }, ({ c, f }) => ({
      guard: and(eq(cpu.at(c).f('pc'), 'idle'), kindIs('swap'), walks(c), eq(page.at(f).f('ref'), 0)),
      body: [
        reset(tlb.at(c)),
        ...setPte('present', f),
        assign(page.at(f).f('ref'), 2),
        assign(page.at(f).f('data'), swap.f('data')),
        assign(swap.f('cached'), some(f, FrameOpt)),
      ],
    }));

    // ------------------------------------------------------------------------------------------
    // madvise(MADV_DONTNEED) on the page: zap_page_range_single.
    // Z1 mmu_notifier_invalidate_range_start(MMU_NOTIFY_CLEAR): the driver's callback, under its
    // lock, calls mmu_interval_set_seq (a pending read_retry will fail) and erases its mapping.
    b.rule('MmZapStart', {}, () => ({
      guard: and(eq(zap.f('pc'), 'idle'), lt(0, zapsLeft)),
      body: [assign(zapsLeft, sub(zapsLeft, 1)), assign(fwd.f('seqOk'), false), assign(devPt, none), assign(zap.f('pc'), 'pte')],
    }));
    // Z2 zap_pte_range, under the PTL: a present PTE is cleared and the TLB flushed before the page
    // is released (mmu_gather); a migration entry is cleared with nothing to flush (it holds no
    // reference); a device-private entry drops its page's reference; a swap entry frees the slot.
    // The page now reads as zero.
    b.rule(
      'MmZapPte',
      {},
      () => {
        const f = pte.f('frame');
        const d = pte.f('dev');
        return {
          guard: eq(zap.f('pc'), 'pte'),
          body: [
            when(kindIs('present'), [flushTlb(f), when(eq(swap.f('cached'), some(f, FrameOpt)), [reset(swap), ...putPage(f)]), ...putPage(f)]),
            // The source of a migration may still be in the swap cache: with no entry left that
            // names the slot, the slot goes (the kernel frees it at the commit or at reclaim).
            when(and(kindIs('migration'), eq(swap.f('cached'), some(f, FrameOpt))), [reset(swap), ...putPage(f)]),
            when(kindIs('devpriv'), putDev(d)),
            when(kindIs('swap'), reset(swap)),
            reset(pte),
            assign(latest, 0),
            assign(zap.f('pc'), 'end'),
          ],
        };
      },
      fair,
    );
    // Z3 mmu_notifier_invalidate_range_end; madvise returns. Ghost: a store that raced with the
    // call (after the zap, before the return) may or may not have survived; from the return on,
    // the page must keep whatever it now holds.
    b.rule(
      'MmZapEnd',
      {},
      () => ({
        guard: eq(zap.f('pc'), 'end'),
        body: [assign(latest, content), assign(zap.f('pc'), 'idle')],
      }),
      fair,
    );

    // ------------------------------------------------------------------------------------------
    // Reclaim (shrink_folio_list on the page, under its lock): try_to_unmap clears the PTE under
    // the PTL, moves its dirty bit to the page and flushes the TLB; a dirty page, or one with no
    // swap copy, is written to swap; the page is freed and the PTE becomes a swap entry. A page with
    // an extra reference (a pin) is kept.
    if (cfg.int('reclaim') > 0) {
      b.rule('MmReclaimPage', {}, () => {
        const f = pte.f('frame');
        const cached = eq(swap.f('cached'), some(f, FrameOpt));
        return {
          guard: and(kindIs('present'), not(page.at(f).f('locked')), eq(page.at(f).f('ref'), add(1, swapRef(f)))),
          body: [
            when(or(pte.f('dirty'), page.at(f).f('dirty'), not(cached)), [assign(swap.f('data'), page.at(f).f('data')), assign(swap.f('valid'), true)]),
            assign(swap.f('cached'), none),
            flushTlb(f),
            reset(page.at(f)),
            ...setPte('swap'),
          ],
        };
      });
    }

    // ------------------------------------------------------------------------------------------
    // A GUP user (get_user_pages on the present page, e.g. O_DIRECT) and its later put_page.
    if (P > 0) {
      b.rule('GupPin', {}, () => ({
        guard: and(isNone(pin), lt(0, pinsLeft), kindIs('present')),
        body: [assign(pinsLeft, sub(pinsLeft, 1)), assign(pin, some(pte.f('frame'), FrameOpt)), getPage(pte.f('frame'))],
      }));
      b.rule(
        'GupUnpin',
        {},
        () => ({
          guard: isSome(pin),
          body: [...putPage(unwrap(pin)), assign(pin, none)],
        }),
        fair,
      );
    }

    // ------------------------------------------------------------------------------------------
    // The device: loads and stores through its page table, under the driver lock (dmirror).
    b.rule('DevRead', {}, () => ({ guard: isSome(devPt), body: [] }));
    b.rule('DevWrite', {}, () => ({
      guard: and(isSome(devPt), lt(written, W)),
      body: [assign(dpage.at(unwrap(devPt)).f('data'), add(written, 1)), assign(latest, add(written, 1)), assign(written, add(written, 1))],
    }));

    return {
      Cpu,
      Frame,
      DevFrame,
      pte,
      page,
      dpage,
      swap,
      tlb,
      cpu,
      fwd,
      devPt,
      zap,
      pin,
      latest,
      written,
      content,
      params: { writes: W, migrations: M, zaps: Z, pins: P, reclaim: cfg.int('reclaim') },
    };
  },
});
