/**
 * The `device-exclusive` protocol: giving a device exclusive (atomic) access to an anonymous page,
 * and giving it back to the CPU. Why this module exists: the exclusive entry is a hand-over between
 * the device driver, CPU threads faulting on it, and page migration, carried out with the
 * MMU_NOTIFY_EXCLUSIVE event and its owner, the page lock and page references. It is written once
 * here, as guarded rules; spec/device-exclusive.md tells the story and numbers the requirements
 * (DX-Rn) that properties/deviceExclusive.ts checks.
 *
 * Actors and what they model (kernel functions in brackets):
 * - the driver's atomic fault handler [nouveau_atomic_range_fault]: mmu_interval_read_begin,
 *   make_device_exclusive (GUP, folio lock, the MMU_NOTIFY_EXCLUSIVE region with the driver as owner,
 *   the exclusive entry replacing the PTE), then under its lock mmu_interval_read_retry and the
 *   device's atomic mapping, unlock and put; its invalidate callback [nouveau_svmm_invalidate_range_start]
 *   filters its own exclusive event;
 * - CPU threads faulting on the exclusive entry [do_swap_page -> remove_device_exclusive_entry]:
 *   page reference, page lock, an MMU_NOTIFY_CLEAR region without owner, the original PTE restored;
 * - page migration of the mapped page [migrate_pages: try_to_migrate, folio_migrate_mapping], which
 *   frees the old page when its last reference drops.
 *
 * One virtual page is modelled. Each bug variant is one knob on one step and cites its source.
 */
import {
  type BuildConfig,
  type Builder,
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
  exists,
  forall,
  intParam,
  isNone,
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
  when,
} from 'mirrorcheck';

/** The variant names, in the order `mirrorcheck list` shows them. */
export const DX_VARIANTS = ['no-owner-filter', 'exclusive-fault-no-ref', 'filter-ignores-owner'] as const;
export type DxVariant = (typeof DX_VARIANTS)[number];

/** The larger configuration, over a million reachable states (its own test file). */
export const DX_LARGE_PARAMS: Readonly<Record<string, number>> = { pages: 2, frames: 4, cpus: 3, accesses: 4, migrations: 3, devfaults: 3 };

/** Handles the property set and the proof hints read. */
export interface DeviceExclusiveHandles {
  readonly Cpu: IndexType;
  readonly Page: IndexType;
  readonly Frame: IndexType;
  readonly pte: Ref;
  readonly page: Ref;
  readonly cpu: Ref;
  readonly drv: Ref;
  readonly mig: Ref;
  readonly dev: Ref;
  readonly migsLeft: Ref;
  readonly params: { readonly cpus: number; readonly pages: number; readonly migrations: number; readonly accesses: number };
}

const needsCpuFault = (p: ParamValues) => ((p.accesses as number) >= 1 ? null : 'it concerns CPU faults on the exclusive entry: use accesses >= 1');

export const deviceExclusive = defineProtocol<DeviceExclusiveHandles>({
  name: 'device-exclusive',
  actors: {
    participants: {
      CPU: 'CPU threads faulting on the exclusive entry',
      MM: 'the kernel memory manager (page lock, references, migration)',
      Driver: 'the device driver (nouveau-like): the atomic fault loop and its notifier callback',
      Device: 'the device issuing atomic accesses',
    },
    rules: {
      CpuFaultExclusive: ['CPU', 'MM'],
      CpuFaultLockPage: ['CPU', 'MM'],
      CpuFaultRestorePte: ['MM', 'Driver'],
      CpuFaultEnd: ['MM', 'CPU'],
      DevAtomicFault: ['Device', 'Driver'],
      DriverReadBegin: ['Driver', 'MM'],
      DriverGetPage: ['Driver', 'MM'],
      DriverLockPage: ['Driver', 'MM'],
      DriverMakeExclusive: ['Driver', 'MM'],
      DriverMapAtomic: ['Driver', 'Device'],
      MmMigrateLock: 'MM',
      MmMigrateMove: ['MM', 'Driver'],
    },
  },
  summary: 'make_device_exclusive for device atomics: the MMU_NOTIFY_EXCLUSIVE owner filter, CPU faults restoring the PTE, page lock and references, migration',
  spec: 'spec/device-exclusive.md',
  params: {
    cpus: intParam(2, 1, 4, 'CPU threads that may fault on an exclusive entry at once'),
    pages: intParam(1, 1, 3, 'virtual pages the device may take for atomics'),
    frames: intParam(2, 2, 5, 'system frames (more than pages: a migration needs a destination)'),
    accesses: intParam(2, 0, 6, 'CPU faults on the exclusive entry in a run (bounded, as liveness assumes)'),
    migrations: intParam(1, 0, 4, 'page migrations (compaction, NUMA balancing) of the page in a run'),
    devfaults: intParam(1, 1, 4, 'device atomic faults the driver serves in a run'),
    regrab: enumParam(
      'fault',
      ['fault', 'in-place'],
      'make_device_exclusive on an entry that is already device-exclusive: GUP faults it back first, announced as MMU_NOTIFY_CLEAR without owner (fault, current kernels); or it is kept and announced as MMU_NOTIFY_EXCLUSIVE with the caller as owner (in-place, a what-if, not a kernel behaviour)',
    ),
  },
  validate: (p) => ((p.frames as number) <= (p.pages as number) ? `frames (${p.frames}) must exceed pages (${p.pages})` : null),
  variants: [
    {
      name: 'no-owner-filter',
      summary:
        "the driver's invalidate callback does not skip its own MMU_NOTIFY_EXCLUSIVE event: make_device_exclusive bumps the interval sequence every time and read_retry fails forever (livelock)",
      cites:
        'H1: Alistair Popple\'s review of "mm/mmu_notifier: drop owner from MMU_NOTIFY_EXCLUSIVE" (2025, "this will cause a live-lock"); mm/rmap.c make_device_exclusive: "the caller must filter this event out to prevent livelocks"',
    },
    {
      name: 'exclusive-fault-no-ref',
      summary:
        'remove_device_exclusive_entry locks the page without holding a reference: threads faulting together wait on the lock of a page that a migration frees meanwhile',
      cites: '7c7b962938dd "mm: take a page reference when removing device exclusive entries" (Fixes b756a3b5e7ea)',
      appliesTo: needsCpuFault,
    },
    {
      name: 'filter-ignores-owner',
      summary:
        "the driver skips every MMU_NOTIFY_EXCLUSIVE event, whatever its owner; on kernels that announce the CPU's revocation as MMU_NOTIFY_EXCLUSIVE without owner (v5.14..v6.14) it keeps its atomic mapping after the CPU has the page back",
      cites:
        'API misuse: include/linux/mmu_notifier.h before 20250226132257.2826043-6-david@redhat.com ("owner ... NULL" for the revocation); the owner check in nouveau_svm_range_invalidate',
      appliesTo: needsCpuFault,
    },
  ],
  build(b: Builder, cfg: BuildConfig): DeviceExclusiveHandles {
    const C = cfg.int('cpus');
    const A = cfg.int('accesses');
    const M = cfg.int('migrations');
    const D = cfg.int('devfaults');
    const v = (name: DxVariant) => cfg.is(name);

    const P = cfg.int('pages');
    const Cpu = b.index('Cpu', C, { symmetric: true });
    const Page = b.index('Page', P);
    const Frame = b.index('Frame', cfg.int('frames'));
    const FrameOpt = option(Frame);
    // References: the mapping, each faulting CPU thread, the driver, the migration.
    const Ref = range(0, C + 3);
    const CpuPc = enumOf('CpuPc', ['idle', 'lock', 'restore', 'end']);
    const DrvPc = enumOf('DrvPc', ['idle', 'begin', 'gup', 'lock', 'excl', 'map']);
    const MigPc = enumOf('MigPc', ['idle', 'move']);

    // --- the PTE of each page (guarded by the PTL): present, or a device-exclusive entry ---
    const pte = b.v('pte', arrayOf(Page, record({ excl: bool, frame: Frame })));
    // --- struct page of each frame: reference count (0 = free) and the page lock ---
    const page = b.v('page', arrayOf(Frame, record({ ref: Ref, locked: bool })));
    // --- CPU threads faulting on the exclusive entry (remove_device_exclusive_entry) ---
    const cpu = b.v('cpu', arrayOf(Cpu, record({ pc: CpuPc, page: Page, frame: Frame })));
    // --- the driver's atomic fault handler: stage, the virtual page and the page it holds, and
    //     whether its read_begin sequence is still current (nouveau inserts an interval notifier
    //     over the faulting page: no callback for that page has run since) ---
    const drv = b.v('drv', record({ pc: DrvPc, page: Page, frame: Frame, seqOk: bool }));
    // --- page migration of a mapped page ---
    const mig = b.v('mig', record({ pc: MigPc, page: Page, from: Frame }));
    // --- the device's atomic mapping of each page ---
    const dev = b.v('dev', arrayOf(Page, FrameOpt));
    const accessesLeft = b.v('accessesLeft', range(0, A));
    const migsLeft = b.v('migsLeft', range(0, M));
    const devFaultsLeft = b.v('devFaultsLeft', range(0, D));

    b.init('mapped', () => [
      ...Array.from({ length: P }, (_, i) => [assign(pte.at(i).f('frame'), i), assign(page.at(i).f('ref'), 1)]).flat(), // the mappings
      assign(accessesLeft, A),
      assign(migsLeft, M),
      assign(devFaultsLeft, D),
    ]);

    // ------------------------------------------------------------------------------------------
    // Helpers.
    const getPage = (f: Operand): Stmt => assign(page.at(f).f('ref'), add(page.at(f).f('ref'), 1));
    // folio_put: the last reference frees the page (its lock state is gone with it).
    const putPage = (f: Operand): Stmt[] => [assign(page.at(f).f('ref'), sub(page.at(f).f('ref'), 1)), when(eq(page.at(f).f('ref'), 0), reset(page.at(f)))];
    // An invalidation callback of the driver for page p and an event it does not own (or, without
    // the owner filter, for every event), under its lock: mmu_interval_set_seq on the fault's
    // notifier if it covers p (a pending read_retry fails), and zap the device mapping of p.
    const driverInvalidate = (p: Operand): Stmt[] => [
      when(and(ne(drv.f('pc'), 'idle'), eq(drv.f('page'), p)), assign(drv.f('seqOk'), false)),
      assign(dev.at(p), none),
    ];
    // The revocation of an exclusive entry (remove_device_exclusive_entry): MMU_NOTIFY_CLEAR
    // without owner on current kernels, MMU_NOTIFY_EXCLUSIVE without owner before v6.15; either
    // way not this driver's event (filter-ignores-owner: skipped as "an exclusive event").
    const revocation = (p: Operand): Stmt[] => (v('filter-ignores-owner') ? [] : driverInvalidate(p));
    // A region over page p is open and its callbacks have run: read_begin on p sleeps.
    const regionOpen = (p: Operand) => exists(Cpu, (c) => and(eq(cpu.at(c).f('page'), p), or(eq(cpu.at(c).f('pc'), 'restore'), eq(cpu.at(c).f('pc'), 'end'))));
    const fair = { fairness: 'weak' as const };
    const strong = { fairness: 'strong' as const };

    // ------------------------------------------------------------------------------------------
    // CPU thread faulting on the exclusive entry: do_swap_page -> remove_device_exclusive_entry.
    //
    // C1 The access faults on the exclusive entry; folio_try_get takes a reference (it cannot fail
    // while the entry maps the page) (exclusive-fault-no-ref: no reference; the thread goes on to
    // wait for the lock with nothing keeping the page alive).
    const faultRef = !v('exclusive-fault-no-ref');
    b.rule('CpuFaultExclusive', { c: Cpu, p: Page }, ({ c, p }) => ({
      guard: and(eq(cpu.at(c).f('pc'), 'idle'), pte.at(p).f('excl'), lt(0, accessesLeft)),
      body: [
        assign(accessesLeft, sub(accessesLeft, 1)),
        ...(faultRef ? [getPage(pte.at(p).f('frame'))] : []),
        assign(cpu.at(c).f('page'), p),
        assign(cpu.at(c).f('frame'), pte.at(p).f('frame')),
        assign(cpu.at(c).f('pc'), 'lock'),
      ],
    }));
    // C2 folio_lock_or_retry, then mmu_notifier_invalidate_range_start(MMU_NOTIFY_CLEAR, owner
    // NULL): the driver's callback does not own this event, so it zaps its atomic mapping.
    b.rule(
      'CpuFaultLockPage',
      { c: Cpu },
      ({ c }) => {
        const f = cpu.at(c).f('frame');
        return {
          guard: and(eq(cpu.at(c).f('pc'), 'lock'), not(page.at(f).f('locked'))),
          body: [assign(page.at(f).f('locked'), true), ...revocation(cpu.at(c).f('page')), assign(cpu.at(c).f('pc'), 'restore')],
        };
      },
      strong,
    );
    // C3 Under the PTL: if the PTE is still the exclusive entry (pte_same), the original PTE is
    // restored (restore_exclusive_pte); then folio_unlock and folio_put (exclusive-fault-no-ref: the
    // put that went with the missing reference is missing too).
    b.rule(
      'CpuFaultRestorePte',
      { c: Cpu },
      ({ c }) => {
        const f = cpu.at(c).f('frame');
        const e = pte.at(cpu.at(c).f('page'));
        return {
          guard: eq(cpu.at(c).f('pc'), 'restore'),
          body: [
            when(and(e.f('excl'), eq(e.f('frame'), f)), assign(e.f('excl'), false)),
            assign(page.at(f).f('locked'), false),
            ...(faultRef ? putPage(f) : []),
            assign(cpu.at(c).f('pc'), 'end'),
          ],
        };
      },
      fair,
    );
    // C4 mmu_notifier_invalidate_range_end; the fault returns and the access is retried.
    b.rule(
      'CpuFaultEnd',
      { c: Cpu },
      ({ c }) => ({
        guard: eq(cpu.at(c).f('pc'), 'end'),
        body: [reset(cpu.at(c))],
      }),
      fair,
    );

    // ------------------------------------------------------------------------------------------
    // The driver's atomic fault (nouveau_atomic_range_fault), for a device atomic access.
    //
    // X0 The device raises an atomic fault on a page it has no atomic mapping for.
    b.rule('DevAtomicFault', { p: Page }, ({ p }) => ({
      guard: and(eq(drv.f('pc'), 'idle'), isNone(dev.at(p)), lt(0, devFaultsLeft)),
      body: [assign(devFaultsLeft, sub(devFaultsLeft, 1)), assign(drv.f('page'), p), assign(drv.f('pc'), 'begin')],
    }));
    // X1 mmu_interval_read_begin: sleeps while a region whose callback has run is open.
    b.rule(
      'DriverReadBegin',
      {},
      () => ({
        guard: and(eq(drv.f('pc'), 'begin'), not(regionOpen(drv.f('page')))),
        body: [assign(drv.f('seqOk'), true), assign(drv.f('pc'), 'gup')],
      }),
      fair,
    );
    // X2 make_device_exclusive: get_user_page_vma_remote(FOLL_WRITE) takes a reference. On an
    // exclusive entry (another device's, or this driver's own left from a failed attempt) the GUP
    // fault first restores it (remove_device_exclusive_entry in this thread, taken as one step: it
    // needs the page lock, and its MMU_NOTIFY_CLEAR without owner reaches the driver's callback
    // like a CPU fault's). regrab=in-place (what-if): the entry is kept; the EXCLUSIVE event of X4
    // announces it with this driver as owner.
    const inPlace = cfg.str('regrab') === 'in-place';
    b.rule(
      'DriverGetPage',
      {},
      () => {
        const e = pte.at(drv.f('page'));
        const f = e.f('frame');
        return {
          guard: and(eq(drv.f('pc'), 'gup'), or(not(e.f('excl')), not(page.at(f).f('locked')))),
          body: [
            ...(inPlace ? [] : [when(e.f('excl'), [...revocation(drv.f('page')), assign(e.f('excl'), false)])]),
            getPage(f),
            assign(drv.f('frame'), f),
            assign(drv.f('pc'), 'lock'),
          ],
        };
      },
      strong,
    );
    // X3 folio_lock_killable.
    b.rule(
      'DriverLockPage',
      {},
      () => ({
        guard: and(eq(drv.f('pc'), 'lock'), not(page.at(drv.f('frame')).f('locked'))),
        body: [assign(page.at(drv.f('frame')).f('locked'), true), assign(drv.f('pc'), 'excl')],
      }),
      strong,
    );
    // X4 The MMU_NOTIFY_EXCLUSIVE region with owner = this driver: its own callback filters the
    // event and returns at once (no-owner-filter: it runs set_seq and the zap as for any event).
    // Then folio_walk finds the same page mapped by the PTE, ptep_clear_flush, and the
    // device-exclusive entry is installed (with regrab=in-place an entry that is already exclusive
    // stays so); the region ends. If the PTE no longer maps the page,
    // the region ends, the page is unlocked and put, and GUP is retried.
    b.rule(
      'DriverMakeExclusive',
      {},
      () => {
        const f = drv.f('frame');
        const e = pte.at(drv.f('page'));
        return {
          guard: eq(drv.f('pc'), 'excl'),
          body: [
            ...(v('no-owner-filter') ? driverInvalidate(drv.f('page')) : []),
            when(
              inPlace ? eq(e.f('frame'), f) : and(not(e.f('excl')), eq(e.f('frame'), f)),
              [assign(e.f('excl'), true), assign(drv.f('pc'), 'map')],
              [assign(page.at(f).f('locked'), false), ...putPage(f), assign(drv.f('frame'), 0), assign(drv.f('pc'), 'gup')],
            ),
          ],
        };
      },
      fair,
    );
    // X5 Under the driver lock: mmu_interval_read_retry; if nothing invalidated the page since
    // X1, map it for atomics on the device. Then unlock the lock, folio_unlock and folio_put
    // (exclusivity lasts until here); on a collision, back to X1.
    b.rule(
      'DriverMapAtomic',
      {},
      () => {
        const f = drv.f('frame');
        return {
          guard: eq(drv.f('pc'), 'map'),
          body: [
            when(drv.f('seqOk'), assign(dev.at(drv.f('page')), some(f, FrameOpt))),
            assign(page.at(f).f('locked'), false),
            ...putPage(f),
            when(drv.f('seqOk'), reset(drv), [assign(drv.f('frame'), 0), assign(drv.f('seqOk'), false), assign(drv.f('pc'), 'begin')]),
          ],
        };
      },
      fair,
    );

    // ------------------------------------------------------------------------------------------
    // Page migration of the mapped page (migrate_pages for compaction or NUMA balancing).
    //
    // P1 The page is isolated (a reference) and locked (folio_trylock).
    b.rule('MmMigrateLock', { p: Page }, ({ p }) => {
      const f = pte.at(p).f('frame');
      return {
        guard: and(eq(mig.f('pc'), 'idle'), lt(0, migsLeft), not(pte.at(p).f('excl')), not(page.at(f).f('locked'))),
        body: [
          assign(migsLeft, sub(migsLeft, 1)),
          getPage(f),
          assign(page.at(f).f('locked'), true),
          assign(mig.f('page'), p),
          assign(mig.f('from'), f),
          assign(mig.f('pc'), 'move'),
        ],
      };
    });
    // P2 try_to_migrate (an MMU_NOTIFY_CLEAR region: the driver zaps its mapping), then
    // folio_migrate_mapping: only the mapping's and the isolation's references may remain. Then the
    // data is copied to the free frame t, the PTE points at it and the old page is unlocked and
    // put, which frees it. With an extra reference the migration entry is replaced by the old PTE.
    b.rule(
      'MmMigrateMove',
      { t: Frame },
      ({ t }) => {
        const from = mig.f('from');
        return {
          guard: and(eq(mig.f('pc'), 'move'), eq(page.at(t).f('ref'), 0)),
          body: [
            ...driverInvalidate(mig.f('page')),
            when(eq(page.at(from).f('ref'), 2), [assign(pte.at(mig.f('page')).f('frame'), t), assign(page.at(t).f('ref'), 1), ...putPage(from)]),
            assign(page.at(from).f('locked'), false),
            ...putPage(from),
            reset(mig),
          ],
        };
      },
      fair,
    );

    // A quiescent state with every budget spent is a legal end of a run.
    b.endState(() =>
      and(
        forall(Cpu, (c) => eq(cpu.at(c).f('pc'), 'idle')),
        eq(drv.f('pc'), 'idle'),
        eq(mig.f('pc'), 'idle'),
      ),
    );

    return { Cpu, Page, Frame, pte, page, cpu, drv, mig, dev, migsLeft, params: { cpus: C, pages: P, migrations: M, accesses: A } };
  },
});
