/**
 * The `dmirror` protocol: how the kernel's HMM test driver (lib/test_hmm.c, "dmirror") keeps its
 * device page table coherent with the CPU page table. Why this module exists: it is a small, real
 * driver protocol modelled from outside mirrorcheck's tree, with only the public API, as a driver
 * author would; spec/dmirror.md tells the story and numbers the requirements the properties check.
 *
 * Actors (each rule names the kernel function it stands for):
 * - the mm: an invalidation of one page (mmu_notifier invalidate_range_start, which calls the
 *   driver's callback, then the PTE is cleared and the frame freed, then invalidate_range_end), and
 *   the CPU faulting an unmapped page back in (a fresh frame; no invalidation);
 * - the driver's invalidate callback dmirror_interval_invalidate(): under dmirror->mutex,
 *   mmu_interval_set_seq() and erase the device entries (dmirror_do_update);
 * - the driver's fault handler dmirror_range_fault(): mmu_interval_read_begin(), hmm_range_fault()
 *   (a snapshot of the PTE), lock dmirror->mutex, mmu_interval_read_retry() (unlock and start again
 *   on a collision), store the entry (dmirror_do_fault), unlock;
 * - the device: dmirror_do_read() reads through its table under dmirror->mutex.
 *
 * Simplifications (spec/dmirror.md section 3): one interval notifier over all pages (as dmirror
 * registers), one fault handler thread, one invalidation at a time, the notifier sequence numbers
 * counted per invalidation instead of the kernel's odd/even encoding.
 */
import {
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
  eq,
  intParam,
  isNone,
  isSome,
  lt,
  none,
  not,
  option,
  range,
  record,
  reset,
  some,
  unwrap,
  when,
} from 'mirrorcheck';

/** What the property set and the proof hints read. */
export interface DmirrorHandles {
  readonly Page: IndexType;
  readonly Frame: IndexType;
  /** CPU page table: the frame each page is mapped to, or none. */
  readonly pte: Ref;
  /** Page allocator: the page that owns each frame, or none (free). */
  readonly owner: Ref;
  /** The device page table (dmirror->pt): the frame it translates each page to, or none. */
  readonly pt: Ref;
  /** dmirror->mutex is held by the fault handler (between its lock and unlock). */
  readonly mutex: Ref;
  /** The invalidation in progress: its stage and page. */
  readonly mm: Ref;
  /** The number of the current (or last) invalidation: its cur_seq. */
  readonly cur: Ref;
  /** The interval notifier's invalidate_seq, as mmu_interval_set_seq() last stored it. */
  readonly mniSeq: Ref;
  /** The fault handler: its stage, page, the seq read_begin returned, and the frame hmm_range_fault saw. */
  readonly fault: Ref;
  /** True while an invalidation whose callback has run is open: mmu_interval_read_begin() sleeps. */
  readonly busy: Expr;
}

export const dmirror = defineProtocol<DmirrorHandles>({
  name: 'dmirror',
  summary: 'HMM test driver (lib/test_hmm.c): invalidate callback and page-fault handler over an interval notifier, device reads under the driver mutex',
  spec: 'spec/dmirror.md',
  params: {
    pages: intParam(2, 1, 3, 'virtual pages the device mirrors'),
    frames: intParam(3, 2, 4, 'physical frames (at least as many as pages, so a page can always be faulted in)'),
    invalidations: intParam(2, 0, 3, 'invalidations (unmap and free) in a run; bounds the notifier sequence'),
  },
  validate: (p) => ((p.frames as number) < (p.pages as number) ? `frames (${p.frames}) must be at least pages (${p.pages})` : null),
  variants: [
    {
      name: 'no-read-retry',
      summary: 'the fault handler stores the entry without mmu_interval_read_retry(): a snapshot taken before an invalidation is installed after it',
      cites:
        'include/linux/mmu_notifier.h (mmu_interval_read_retry: "must be called with the user lock held"); Documentation/mm/hmm.rst "Address space mirroring implementation and API"; kernel-protocols digest 1.4 F5',
    },
    {
      name: 'no-set-seq',
      summary: 'the invalidate callback erases the device entries but does not call mmu_interval_set_seq(): a concurrent fault cannot see the collision',
      cites:
        'include/linux/mmu_notifier.h (mmu_interval_set_seq: the callback must call it unconditionally, under the user lock); lib/test_hmm.c dmirror_interval_invalidate',
    },
    {
      name: 'invalidate-without-lock',
      summary: "the invalidate callback does not take dmirror->mutex: it runs between the fault handler's read_retry and its store",
      cites:
        'Documentation/mm/hmm.rst (driver->update is the lock the invalidate callback takes, held from read_retry to the page-table update); lib/test_hmm.c dmirror_interval_invalidate',
    },
  ],
  build(b, cfg) {
    const P = cfg.int('pages');
    const I = cfg.int('invalidations');
    const Page = b.index('Page', P);
    const Frame = b.index('Frame', cfg.int('frames'));
    const Seq = range(0, I);
    const pte = b.v('pte', arrayOf(Page, option(Frame)));
    const owner = b.v('owner', arrayOf(Frame, option(Page)));
    const pt = b.v('pt', arrayOf(Page, option(Frame)));
    const mutex = b.v('mutex', bool);
    const mm = b.v('mm', record({ stage: enumOf('MmStage', ['idle', 'callback', 'unmap', 'end']), page: Page }));
    const cur = b.v('cur', Seq);
    const mniSeq = b.v('mniSeq', Seq);
    const fault = b.v('fault', record({ stage: enumOf('FaultStage', ['idle', 'walk', 'lock', 'store']), page: Page, seq: Seq, frame: Frame }));
    // Page i starts mapped to frame i; the device table starts empty.
    b.init('mapped', () => Array.from({ length: P }, (_, i) => [assign(pte.at(i), some(i, option(Frame))), assign(owner.at(i), some(i, option(Page)))]).flat());
    const busy = and(not(eq(mm.f('stage'), 'idle')), not(eq(mm.f('stage'), 'callback')), eq(mniSeq, cur));

    // --- The mm ---
    // mmu_notifier_invalidate_range_start (zap_page_range, munmap, migration...): a new cur_seq.
    b.rule('MmInvalidateStart', { p: Page }, ({ p }) => ({
      guard: and(eq(mm.f('stage'), 'idle'), lt(cur, I), isSome(pte.at(p))),
      body: [assign(mm.f('stage'), 'callback'), assign(mm.f('page'), p), assign(cur, add(cur, 1))],
    }));
    // mn_itree_invalidate -> dmirror_interval_invalidate(): mutex_lock, mmu_interval_set_seq,
    // dmirror_do_update (erase the entries), mutex_unlock; one step, as it holds the mutex throughout.
    b.rule('DriverInvalidate', {}, () => ({
      guard: and(eq(mm.f('stage'), 'callback'), cfg.is('invalidate-without-lock') ? true : not(mutex)),
      body: [...(cfg.is('no-set-seq') ? [] : [assign(mniSeq, cur)]), assign(pt.at(mm.f('page')), none), assign(mm.f('stage'), 'unmap')],
    }));
    // The PTE is cleared and the frame freed (it may be handed to another page at once).
    b.rule('MmUnmapAndFree', {}, () => ({
      guard: eq(mm.f('stage'), 'unmap'),
      body: [assign(owner.at(unwrap(pte.at(mm.f('page')))), none), assign(pte.at(mm.f('page')), none), assign(mm.f('stage'), 'end')],
    }));
    // mmu_notifier_invalidate_range_end: sleeping read_begin callers wake up.
    b.rule('MmInvalidateEnd', {}, () => ({
      guard: eq(mm.f('stage'), 'end'),
      body: [reset(mm)],
    }));
    // A CPU fault maps an unmapped page to a free frame (mapping a none PTE calls no notifier).
    b.rule('CpuFault', { p: Page, f: Frame }, ({ p, f }) => ({
      guard: and(isNone(pte.at(p)), isNone(owner.at(f))),
      body: [assign(pte.at(p), some(f, option(Frame))), assign(owner.at(f), some(p, option(Page)))],
    }));

    // --- The driver's fault handler, dmirror_range_fault() ---
    // A device access missed (dmirror_do_read returned -ENOENT): mmu_interval_read_begin(), which
    // sleeps while an invalidation whose callback has run is open.
    b.rule('FaultReadBegin', { p: Page }, ({ p }) => ({
      guard: and(eq(fault.f('stage'), 'idle'), isNone(pt.at(p)), not(busy)),
      body: [assign(fault.f('stage'), 'walk'), assign(fault.f('page'), p), assign(fault.f('seq'), mniSeq)],
    }));
    // hmm_range_fault() with HMM_PFN_REQ_FAULT: the frame the PTE maps (it waits for a CPU fault to
    // map an unmapped page; the -EBUSY early exit is left to the read_retry below).
    b.rule('FaultHmmRangeFault', {}, () => ({
      guard: and(eq(fault.f('stage'), 'walk'), isSome(pte.at(fault.f('page')))),
      body: [assign(fault.f('frame'), unwrap(pte.at(fault.f('page')))), assign(fault.f('stage'), 'lock')],
    }));
    // mutex_lock(&dmirror->mutex); mmu_interval_read_retry(): on a collision unlock and go back to
    // read_begin for a fresh seq.
    b.rule('FaultLockAndRetry', {}, () => ({
      guard: and(eq(fault.f('stage'), 'lock'), not(mutex)),
      body: cfg.is('no-read-retry')
        ? [assign(mutex, true), assign(fault.f('stage'), 'store')]
        : [when(eq(mniSeq, fault.f('seq')), [assign(mutex, true), assign(fault.f('stage'), 'store')], [assign(fault.f('stage'), 'idle')])],
    }));
    // dmirror_do_fault(): store the entry; mutex_unlock.
    b.rule('FaultStore', {}, () => ({
      guard: eq(fault.f('stage'), 'store'),
      body: [assign(pt.at(fault.f('page')), some(fault.f('frame'), option(Frame))), assign(mutex, false), reset(fault)],
    }));

    // --- The device: dmirror_do_read() under dmirror->mutex, through its table ---
    b.rule('DeviceRead', { p: Page }, ({ p }) => ({
      guard: and(not(mutex), isSome(pt.at(p))),
      body: [],
    }));
    return { Page, Frame, pte, owner, pt, mutex, mm, cur, mniSeq, fault, busy };
  },
});
