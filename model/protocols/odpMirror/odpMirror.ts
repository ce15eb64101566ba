/**
 * The `odp-mirror` protocol: a device (RDMA ODP, a GPU through HMM) mirroring CPU page tables with an
 * mmu interval notifier. Why this module exists: this is the protocol driver authors get wrong, so it
 * is written once, as guarded rules, at the granularity of the kernel's own steps; spec/odp-mirror.md
 * tells the story and numbers the requirements (ODP-Rn) that properties/odpMirror.ts checks.
 *
 * Actors and what they model (kernel functions in brackets):
 * - the notifier core: the per-mm sequence (odd while an overlapping invalidation is open), the
 *   active count, and the interval's own sequence [mn_itree_inv_start_range, mn_itree_inv_end,
 *   mmu_interval_read_begin / read_retry / check_retry / set_seq];
 * - invalidators (madvise/munmap, page_mkclean/mprotect, the OOM reaper, and invalidations of other
 *   VAs): start, the driver's invalidate callback, the PTE change, end;
 * - the CPU: page faults that populate PTEs with reused frames, in-place permission upgrades;
 * - the driver's fault handler: read_begin, a page walk that is not atomic against PTE changes
 *   (hmm_range_fault, with its EBUSY exits and fault-ins), the driver lock U, read_retry, the device
 *   table update, and the 1 s retry bound of HMM_RANGE_DEFAULT_TIMEOUT;
 * - the device: accesses translated through a TLB that caches permissions, issued and completed
 *   later, faults queued to the driver and resumed.
 *
 * Each bug variant is one knob on one step; the variant list cites the kernel bug it reproduces.
 */
import {
  type BuildConfig,
  type Builder,
  type EnumType,
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
  forall,
  forEach,
  implies,
  intParam,
  isNone,
  isSome,
  ite,
  lit,
  lt,
  ne,
  not,
  option,
  or,
  ord,
  range,
  record,
  reset,
  some,
  sub,
  unwrap,
  when,
} from 'mirrorcheck';

/** The variant names, in the order `mirrorcheck list` shows them. */
export const ODP_VARIANTS = [
  'valid-flag',
  'end-skipped-after-eagain',
  'missed-unlock-nonblocking',
  'seq-per-chunk',
  'retry-stale-seq',
  'no-secondary-tlb-flush',
  'no-owner-filter',
  'lock-across-read-begin',
  'no-set-seq',
  'no-read-retry',
  'zap-without-drain',
] as const;
export type OdpVariant = (typeof ODP_VARIANTS)[number];

/**
 * The larger configuration (for the benchmark): three invalidations in a run, so three regions can
 * nest or overlap with the fault; over two million reachable states, exhaustive in seconds.
 */
export const ODP_LARGE_PARAMS: Readonly<Record<string, number>> = { invalidations: 3, retries: 3 };

/** Handles the property set reads. */
export interface OdpMirrorHandles {
  readonly Page: IndexType;
  readonly Frame: IndexType;
  readonly Inv: IndexType;
  readonly Slot: IndexType;
  readonly Holder: EnumType;
  readonly mmSeq: Ref;
  readonly active: Ref;
  readonly ivSeq: Ref;
  readonly pte: Ref;
  readonly dirty: Ref;
  readonly inv: Ref;
  readonly ulock: Ref;
  readonly shadow: Ref;
  readonly dev: Ref;
  readonly tlb: Ref;
  readonly acc: Ref;
  readonly fh: Ref;
  readonly snap: Ref;
  /** True when the sequence value `e` is odd (the language has no modulo). */
  readonly odd: (e: Operand) => Expr;
  /** The lock holder value of invalidator `i`. */
  readonly holderOf: (i: Expr) => Expr;
  readonly params: { readonly pages: number; readonly atomics: number; readonly slots: number };
}

const needsPages2 = (p: ParamValues) => ((p.pages as number) >= 2 ? null : 'a multi-chunk fault needs pages >= 2');
const needsAtomics = (p: ParamValues) =>
  (p.atomics as number) >= 1 ? null : 'the driver raises its own invalidation only for atomic faults: needs atomics >= 1';

export const odpMirror = defineProtocol<OdpMirrorHandles>({
  name: 'odp-mirror',
  summary: 'a device mirrors CPU page tables through an mmu interval notifier: collision-retry faults, invalidate callbacks that zap and drain',
  spec: 'spec/odp-mirror.md',
  params: {
    pages: intParam(2, 1, 3, 'virtual pages in the mirrored interval (one fault covers all of them, one chunk per page)'),
    frames: intParam(3, 1, 4, 'physical frames (at least pages; a spare frame lets freed frames be reused elsewhere)'),
    invalidators: intParam(2, 1, 3, 'concurrent invalidating threads (parallel and nested start/end regions)'),
    invalidations: intParam(2, 1, 4, 'invalidations started in a run (bounded, as liveness assumes)'),
    slots: intParam(1, 1, 2, 'device accesses outstanding at once'),
    atomics: intParam(1, 0, 1, '1: the device also issues atomic accesses, whose faults make the page device-exclusive'),
    retries: intParam(2, 1, 6, 'fault-loop retries before the handler gives up (the 1 s HMM_RANGE_DEFAULT_TIMEOUT)'),
    seq: enumParam(
      'canonical',
      ['canonical', 'kernel'],
      'canonical: sequence values kept in an exact canonical form (finite); kernel: the raw values (needs atomics=0)',
    ),
  },
  validate: (p) => {
    if ((p.frames as number) < (p.pages as number)) return `frames (${p.frames}) must be at least pages (${p.pages})`;
    // Every retry of a correct handler is caused by a distinct overlapping invalidation epoch, so a
    // budget of `invalidations` retries is never exhausted by a correct driver (spec, ODP-R9).
    if ((p.retries as number) < (p.invalidations as number)) return `retries (${p.retries}) must be at least invalidations (${p.invalidations})`;
    // Raw values grow with every region; only foreign invalidations are bounded, the driver's own
    // exclusive regions (one per atomic fault) are not.
    if (p.seq === 'kernel' && p.atomics !== 0) return 'seq=kernel needs atomics=0 (the raw sequence grows with every atomic fault)';
    return null;
  },
  // For sequence diagrams of traces: who takes each step, and on whom (replay --render mermaid).
  actors: {
    participants: {
      CPU: 'a CPU thread of the process whose memory the device mirrors',
      MM: 'the kernel memory manager: invalidations (mmu notifier), PTE changes, page allocation',
      Driver: "the device driver: its invalidate callback and its fault handler's collision-retry loop",
      Device: 'the device: its TLB, its page table and the accesses it issues',
    },
    rules: {
      MmMadviseStart: 'MM',
      MmMkcleanStart: 'MM',
      MmOomReapStart: 'MM',
      MmInvalidateElsewhere: 'MM',
      DriverInvalidateBegin: ['Driver', 'Device'],
      DriverInvalidateFinish: ['Device', 'Driver'],
      MmUpdatePte: ['MM', 'CPU'],
      MmInvalidateEnd: ['MM', 'Driver'],
      CpuTouchPage: ['CPU', 'MM'],
      CpuUpgradePte: ['CPU', 'MM'],
      DevIssueRead: 'Device',
      DevIssueWrite: 'Device',
      DevIssueAtomic: 'Device',
      DevTranslate: 'Device',
      DevCompleteAccess: ['Device', 'MM'],
      DevReportError: 'Device',
      DriverTakeFault: ['Device', 'Driver'],
      DriverLockEarly: 'Driver',
      DriverReadBegin: ['Driver', 'MM'],
      DriverReadBeginWake: ['MM', 'Driver'],
      DriverExclusiveStart: ['Driver', 'MM'],
      DriverExclusiveInvalidate: ['MM', 'Driver'],
      DriverExclusiveEnd: ['Driver', 'MM'],
      DriverCheckRetry: ['Driver', 'MM'],
      DriverWalkSnapshot: ['Driver', 'MM'],
      DriverWalkFaultIn: ['Driver', 'MM'],
      DriverWalkUpgrade: ['Driver', 'MM'],
      DriverLock: 'Driver',
      DriverReadRetry: ['Driver', 'Device'],
    },
  },
  variants: [
    {
      name: 'valid-flag',
      summary:
        'a boolean "valid" flag (cleared at start, set when the last end runs) replaces the sequence: a start+end between snapshot and check goes unseen (ABA)',
      cites:
        'B1: hmm_range valid flag, replaced by the interval notifier in 04ec32fbc2b2 "mm/hmm: allow hmm_range to be used with a mmu_range_notifier or hmm_mirror"',
    },
    {
      name: 'end-skipped-after-eagain',
      summary: 'after a non-blocking callback returns false (-EAGAIN), the core never runs the matching end: the active count and odd sequence leak',
      cites: 'B3: c2655835fd8c "mm/mmu_notifiers: ensure range_end() is paired with range_start()"',
    },
    {
      name: 'missed-unlock-nonblocking',
      summary: 'the non-blocking callback takes the driver lock, finds it would have to sleep, and returns -EAGAIN without unlocking',
      cites: 'B4: 7608bf40cf24 "RDMA/odp: Fix missed unlock in non-blocking invalidate_start"',
    },
    {
      name: 'seq-per-chunk',
      summary: 'a multi-chunk fault calls read_begin again for every chunk and keeps the earlier chunks: read_retry checks only the last sequence',
      cites: 'B5: c08972f55594 "drm/amdgpu: fix amdgpu_hmm_range_get_pages"',
      appliesTo: needsPages2,
    },
    {
      name: 'retry-stale-seq',
      summary: 'on -EBUSY the handler retries hmm_range_fault with the old sequence: check_retry stays true, it spins until the timeout and fails',
      cites: 'B6: 342981fff328 "drm/amdgpu: drop retry loop in amdgpu_hmm_range_get_pages"',
    },
    {
      name: 'no-secondary-tlb-flush',
      summary: 'a device-table update that only adds write permission does not invalidate the device TLB: the cached read-only entry faults forever',
      cites: 'B15: "Invalidate secondary IOMMU TLB on permission upgrade" (Alistair Popple, v6.6)',
    },
    {
      name: 'no-owner-filter',
      summary:
        'the driver does not skip its own MMU_NOTIFY_EXCLUSIVE event: every make_device_exclusive in its fault loop bumps the sequence and forces a retry',
      cites: 'H1: review of "mm/mmu_notifier: drop owner from MMU_NOTIFY_EXCLUSIVE" (2025) and the filter in nouveau / dmirror_interval_invalidate',
      appliesTo: needsAtomics,
    },
    {
      name: 'lock-across-read-begin',
      summary: 'the fault handler holds the driver lock across read_begin and the page walk: read_begin waits for an end that waits for the lock',
      cites: 'H3: lockdep annotation in mmu_interval_read_begin (mm/mmu_notifier.c); hmm.rst "Address space mirroring implementation and API"',
    },
    {
      name: 'no-set-seq',
      summary: 'the invalidate callback zaps but never calls mmu_interval_set_seq: read_retry cannot see the collision',
      cites: 'API misuse: include/linux/mmu_notifier.h requires set_seq unconditionally in the callback',
    },
    {
      name: 'no-read-retry',
      summary: 'the fault handler programs the device table without calling mmu_interval_read_retry under the lock',
      cites: 'API misuse: include/linux/hmm.h, hmm.rst collision-retry pattern',
    },
    {
      name: 'zap-without-drain',
      summary: 'the invalidate callback zaps the device table but returns (and DMA-unmaps) before in-flight device accesses have completed',
      cites: 'API misuse: mmu_interval_notifier_ops contract (mmu_notifier.h); mlx5_ib_invalidate_range waits for the UMR zap to complete',
    },
  ],
  build(b: Builder, cfg: BuildConfig): OdpMirrorHandles {
    const P = cfg.int('pages');
    const I = cfg.int('invalidators');
    const INVS = cfg.int('invalidations');
    const A = cfg.int('atomics');
    const R = cfg.int('retries');
    const v = (name: OdpVariant) => cfg.is(name);

    const Page = b.index('Page', P);
    const Frame = b.index('Frame', cfg.int('frames'));
    const Inv = b.index('Inv', I);
    const Slot = b.index('Slot', cfg.int('slots'));
    // Canonical sequence values (see canonSeq) are -1..3; 4 is reached for one statement at an end.
    // Raw kernel values start at 2 and grow by at most 2 per overlapping invalidation.
    const canonical = cfg.str('seq') === 'canonical';
    const Seq = canonical ? range(-1, 4) : range(0, 2 + 2 * INVS);
    const FrameOpt = option(Frame);
    const Entry = record({ frame: FrameOpt, write: bool });
    const invNames = Array.from({ length: I }, (_, i) => `inv${i}`);
    const Holder = enumOf('Holder', ['free', 'fault', ...invNames]);
    const InvPc = enumOf('InvPc', ['idle', 'callback', 'drain', 'pte', 'end']);
    const Event = enumOf('Event', ['clear', 'protect', 'elsewhere']);
    const AccState = enumOf('AccState', ['idle', 'pending', 'inflight', 'faulted', 'failed']);
    const Op = enumOf('Op', A > 0 ? ['read', 'write', 'atomic'] : ['read', 'write']);
    const FhPc = enumOf('FhPc', [
      'idle',
      ...(v('lock-across-read-begin') ? ['lockEarly'] : []),
      'begin',
      'sleep',
      ...(A > 0 ? ['exclStart', 'exclCallback', 'exclEnd'] : []),
      'check',
      'walk',
      'lock',
      'retry',
    ]);

    // --- Notifier core (struct mmu_notifier_subscriptions and the interval's seq) ---
    const mmSeq = b.v('mmSeq', Seq); // subscriptions->invalidate_seq: odd while an overlapping region is open
    const active = b.v('active', range(0, I + 1)); // active_invalidate_ranges (+1: the driver's own event)
    const ivSeq = b.v('ivSeq', Seq); // mmu_interval_notifier.invalidate_seq, written by set_seq
    const invsLeft = b.v('invsLeft', range(0, INVS));
    // --- CPU mm: page table and pages ---
    const pte = b.v('pte', arrayOf(Page, Entry));
    const dirty = b.v('dirty', arrayOf(Frame, bool)); // struct page dirty flag, set by the DMA unmap
    // --- Invalidating threads: the region each has open, and where it is ---
    const inv = b.v('inv', arrayOf(Inv, record({ pc: InvPc, event: Event, page: Page, blockable: bool })));
    // --- Driver: the user lock U and the shadow (pfn list with DMA-mapped entries) ---
    const ulock = b.v('ulock', Holder);
    const shadow = b.v('shadow', arrayOf(Page, Entry));
    // --- Device: translation table (MTT), its TLB (caches permissions), accesses ---
    const dev = b.v('dev', arrayOf(Page, Entry));
    const tlb = b.v('tlb', arrayOf(Page, Entry));
    const acc = b.v('acc', arrayOf(Slot, record({ state: AccState, op: Op, page: Page, frame: Frame })));
    // --- Driver fault handler (one work item at a time) and its snapshot (hmm_pfns) ---
    // The walk position is not a variable: the walk takes the pages in order and snapshots each, so
    // the next page is the first one without a snapshot (a counter 0..pages-1 would tie the state
    // space to the number of pages, which the proof for every size cannot have).
    const fh = b.v('fh', record({ pc: FhPc, slot: Slot, s: Seq, tries: range(0, R) }));
    const snap = b.v('snap', arrayOf(Page, Entry));

    b.init('mapped', () => [
      assign(mmSeq, 2), // __mmu_notifier_register
      assign(ivSeq, 1), // inserted while idle: interval seq = mm seq - 1
      assign(invsLeft, INVS),
      assign(fh.f('s'), 0), // no snapshot (the range's low value, -1, means a stale one)
      ...Array.from({ length: P }, (_, p) => [assign(pte.at(p).f('frame'), some(p, FrameOpt)), assign(pte.at(p).f('write'), true)]).flat(),
    ]);

    // --- helpers ---
    const oddValues = Array.from({ length: Seq.hi - Seq.lo + 1 }, (_, x) => Seq.lo + x).filter((x) => x % 2 !== 0);
    const odd = (e: Operand): Expr => or(...oddValues.map((x) => eq(e, x)));
    // The kernel only ever compares sequence values for equality (read_begin: interval == mm;
    // check_retry / read_retry: interval == snapshot) and tests the mm seq's parity; it changes them
    // only by seq |= 1, seq++, set_seq (interval := mm, mm odd) and read_begin (snapshot :=
    // interval). The interval seq never exceeds the mm seq and the snapshot never exceeds the
    // interval seq. So four facts determine every future comparison: mm odd, interval == mm,
    // snapshot taken, snapshot == interval. After each change the values are rewritten to the one
    // canonical triple with the same four facts, which keeps the state space finite (a livelock that
    // bumps the sequence forever is a cycle, not an infinite path) without changing any behaviour:
    //   mm: 2 (even) or 3 (odd); interval: 3 if equal to mm, else 1; snapshot: 0 (none), equal to
    //   the interval, or two below it (stale: it can never match again, the interval only grows).
    // The first epoch reads exactly as in the kernel (mm 2 -> 3 at start, interval 1 -> 3 at
    // set_seq); at the last end the kernel's (4, 3) is shown as (2, 1).
    const canonSeq = (): Stmt[] =>
      !canonical
        ? []
        : [
            assign(fh.f('s'), ite(eq(fh.f('s'), 0), 0, ite(eq(fh.f('s'), ivSeq), ite(eq(ivSeq, mmSeq), 3, 1), ite(eq(ivSeq, mmSeq), 1, -1)))),
            assign(ivSeq, ite(eq(ivSeq, mmSeq), 3, 1)),
            assign(mmSeq, ite(odd(mmSeq), 3, 2)),
          ];
    const holderOf = (i: Expr): Expr => {
      let e: Expr = lit(invNames[I - 1] as string, Holder);
      for (let k = I - 2; k >= 0; k--) e = ite(eq(i, k), lit(invNames[k] as string, Holder), e);
      return e;
    };
    const free = eq(ulock, 'free');
    // The handler back to idle; its snapshot slot holds 0 (none), not the type's default.
    const idleFh = (): Stmt[] => [reset(fh), assign(fh.f('s'), 0)];
    const copy = (dst: Ref, src: Ref): Stmt[] => [assign(dst.f('frame'), src.f('frame')), assign(dst.f('write'), src.f('write'))];
    const frameFree = (f: Expr) => forall(Page, (q) => ne(pte.at(q).f('frame'), some(f, FrameOpt)));
    const noInflight = (p: Operand) => forall(Slot, (d) => not(and(eq(acc.at(d).f('state'), 'inflight'), eq(acc.at(d).f('page'), p))));
    // mn_itree_inv_start_range: active++, and seq |= 1 when an interval intersects the range.
    const startRegion = (overlaps: boolean): Stmt[] => [
      assign(active, add(active, 1)),
      ...(overlaps ? [when(not(odd(mmSeq)), assign(mmSeq, add(mmSeq, 1))), ...canonSeq()] : []),
    ];
    // mn_itree_inv_end: active--, and the last end makes the seq even again (then wakes readers).
    const endRegion = (): Stmt[] => [assign(active, sub(active, 1)), when(and(eq(active, 0), odd(mmSeq)), assign(mmSeq, add(mmSeq, 1))), ...canonSeq()];
    // mmu_interval_set_seq(cur_seq). cur_seq is the mm seq read at start (odd); the region stays
    // open until its own end, and an odd mm seq changes only when the active count drops to zero,
    // so the mm seq still equals cur_seq when the callback runs.
    const setSeq = (): Stmt[] => [assign(ivSeq, mmSeq), ...canonSeq()];
    // The device zap: clear the translation and the TLB entry that caches it (UMR ZAP / dmirror erase).
    const zap = (p: Operand): Stmt[] => [reset(dev.at(p)), reset(tlb.at(p))];
    // ib_umem_odp_unmap_dma_pages: DMA unmap, dirtying the page if the device could write it.
    const unmapDma = (p: Operand): Stmt[] => [
      when(and(isSome(shadow.at(p).f('frame')), shadow.at(p).f('write')), assign(dirty.at(unwrap(shadow.at(p).f('frame'))), true)),
      reset(shadow.at(p)),
    ];
    const fair = { fairness: 'weak' as const };
    const strong = { fairness: 'strong' as const };

    // ------------------------------------------------------------------------------------------
    // Invalidators: start, callback, PTE change, end.
    const startRule = (name: string, event: 'clear' | 'protect', blockable: boolean) =>
      b.rule(name, { i: Inv, p: Page }, ({ i, p }) => ({
        guard: and(eq(inv.at(i).f('pc'), 'idle'), lt(0, invsLeft)),
        body: [
          assign(invsLeft, sub(invsLeft, 1)),
          ...startRegion(true),
          assign(inv.at(i).f('page'), p),
          assign(inv.at(i).f('event'), event),
          assign(inv.at(i).f('blockable'), blockable),
          assign(inv.at(i).f('pc'), 'callback'),
        ],
      }));
    // madvise(MADV_DONTNEED) / munmap: clear the PTE and free the page.
    startRule('MmMadviseStart', 'clear', true);
    // page_mkclean / mprotect: write-protect the PTE.
    startRule('MmMkcleanStart', 'protect', true);
    // The OOM reaper: mmu_notifier_invalidate_range_start_nonblock, then clear and free.
    startRule('MmOomReapStart', 'clear', false);
    // An invalidation of a VA outside the mirrored interval: counted in active, seq stays even.
    b.rule('MmInvalidateElsewhere', { i: Inv }, ({ i }) => ({
      guard: and(eq(inv.at(i).f('pc'), 'idle'), lt(0, invsLeft)),
      body: [assign(invsLeft, sub(invsLeft, 1)), ...startRegion(false), assign(inv.at(i).f('event'), 'elsewhere'), assign(inv.at(i).f('pc'), 'end')],
    }));

    // The driver's invalidate callback, first part: lock U (or trylock), set_seq, post the zap.
    // Non-blocking: a failed trylock, or a zap that would have to sleep for in-flight accesses,
    // returns false; mn_itree_invalidate then runs inv_end itself and the caller gets -EAGAIN
    // and leaves the PTEs alone.
    b.rule(
      'DriverInvalidateBegin',
      { i: Inv },
      ({ i }) => {
        const me = inv.at(i);
        const p = me.f('page');
        const proceed: Stmt[] = [
          assign(ulock, holderOf(i)),
          ...(v('no-set-seq') || v('valid-flag') ? [] : setSeq()),
          ...zap(p),
          assign(me.f('blockable'), false),
          assign(me.f('pc'), 'drain'),
        ];
        const eagain: Stmt[] = [
          ...(v('missed-unlock-nonblocking') ? [when(free, assign(ulock, holderOf(i)))] : []),
          ...(v('end-skipped-after-eagain') ? [] : endRegion()),
          reset(me),
        ];
        return {
          guard: and(eq(me.f('pc'), 'callback'), or(not(me.f('blockable')), free)),
          body: [when(or(me.f('blockable'), and(free, noInflight(p))), proceed, eagain)],
        };
      },
      strong,
    );
    // Second part: the zap completes once accesses through the old entry have drained (the fence);
    // only then DMA unmap and dirty, unlock U and return true.
    b.rule(
      'DriverInvalidateFinish',
      { i: Inv },
      ({ i }) => {
        const me = inv.at(i);
        const p = me.f('page');
        return {
          guard: v('zap-without-drain') ? eq(me.f('pc'), 'drain') : and(eq(me.f('pc'), 'drain'), noInflight(p)),
          body: [...unmapDma(p), assign(ulock, 'free'), assign(me.f('pc'), 'pte')],
        };
      },
      fair,
    );
    // The core mm changes the PTE (under the PTL, with the CPU TLB flush); a cleared page is freed.
    b.rule(
      'MmUpdatePte',
      { i: Inv },
      ({ i }) => {
        const me = inv.at(i);
        const p = me.f('page');
        return {
          guard: eq(me.f('pc'), 'pte'),
          body: [
            when(
              eq(me.f('event'), 'clear'),
              [when(isSome(pte.at(p).f('frame')), assign(dirty.at(unwrap(pte.at(p).f('frame'))), false)), reset(pte.at(p))],
              [assign(pte.at(p).f('write'), false)],
            ),
            assign(me.f('event'), 'clear'),
            assign(me.f('pc'), 'end'),
          ],
        };
      },
      fair,
    );
    b.rule(
      'MmInvalidateEnd',
      { i: Inv },
      ({ i }) => ({
        guard: eq(inv.at(i).f('pc'), 'end'),
        body: [...endRegion(), reset(inv.at(i))],
      }),
      fair,
    );

    // ------------------------------------------------------------------------------------------
    // CPU user: a write fault on an empty PTE allocates any free frame (freed frames are reused);
    // a write fault on a read-only PTE of a writable VMA upgrades it in place (wp_page_reuse,
    // ptep_set_access_flags): no invalidate_range_start/end, as in the kernel.
    b.rule('CpuTouchPage', { p: Page, f: Frame }, ({ p, f }) => ({
      guard: and(isNone(pte.at(p).f('frame')), frameFree(f)),
      body: [assign(pte.at(p).f('frame'), some(f, FrameOpt)), assign(pte.at(p).f('write'), true)],
    }));
    b.rule('CpuUpgradePte', { p: Page }, ({ p }) => ({
      guard: and(isSome(pte.at(p).f('frame')), not(pte.at(p).f('write'))),
      body: [assign(pte.at(p).f('write'), true)],
    }));

    // ------------------------------------------------------------------------------------------
    // Device: issue an access, translate it through the TLB (filled from the table, permissions
    // included), complete it later; a missing or read-only translation faults to the driver.
    const issue = (name: string, op: 'read' | 'write' | 'atomic') =>
      b.rule(name, { d: Slot, p: Page }, ({ d, p }) => ({
        guard: eq(acc.at(d).f('state'), 'idle'),
        body: [assign(acc.at(d).f('state'), 'pending'), assign(acc.at(d).f('op'), op), assign(acc.at(d).f('page'), p)],
      }));
    issue('DevIssueRead', 'read');
    issue('DevIssueWrite', 'write');
    if (A > 0) issue('DevIssueAtomic', 'atomic');
    b.rule(
      'DevTranslate',
      { d: Slot },
      ({ d }) => {
        const a = acc.at(d);
        const p = a.f('page');
        const t = tlb.at(p);
        const permits = or(eq(a.f('op'), 'read'), t.f('write'));
        return {
          guard: eq(a.f('state'), 'pending'),
          body: [
            when(isNone(t.f('frame')), copy(t, dev.at(p))),
            when(
              and(isSome(t.f('frame')), permits),
              [assign(a.f('state'), 'inflight'), assign(a.f('frame'), unwrap(t.f('frame')))],
              [assign(a.f('state'), 'faulted')],
            ),
          ],
        };
      },
      fair,
    );
    b.rule(
      'DevCompleteAccess',
      { d: Slot },
      ({ d }) => ({
        guard: eq(acc.at(d).f('state'), 'inflight'),
        body: [reset(acc.at(d))],
      }),
      fair,
    );
    // A fault the driver gave up on completes with an error (error CQE); the slot is reused.
    b.rule(
      'DevReportError',
      { d: Slot },
      ({ d }) => ({
        guard: eq(acc.at(d).f('state'), 'failed'),
        body: [reset(acc.at(d))],
      }),
      fair,
    );

    // ------------------------------------------------------------------------------------------
    // Driver fault handler: the collision-retry loop.
    const fa = acc.at(fh.f('slot'));
    const fpage = fa.f('page');
    const wantWrite = ne(fa.f('op'), 'read');
    const isAtomic = A > 0 ? eq(fa.f('op'), 'atomic') : lit(false);
    const dropSnap = forEach(Page, (q) => reset(snap.at(q)));
    // check_retry / read_retry: has a callback run set_seq since read_begin? (valid-flag: is the
    // range marked invalid, i.e. is any invalidation open?)
    const collided = v('valid-flag') ? ne(active, 0) : ne(ivSeq, fh.f('s'));
    const restart = (keepSeq: boolean): Stmt[] => [assign(fh.f('pc'), keepSeq ? 'check' : 'begin'), ...(keepSeq ? [] : [assign(fh.f('s'), 0)]), dropSnap];
    // The fault fails (resume with error): the timeout has expired.
    const failFault: Stmt[] = [assign(fa.f('state'), 'failed'), when(eq(ulock, 'fault'), assign(ulock, 'free')), ...idleFh(), dropSnap];
    const retryEdge = (keepSeq: boolean): Stmt[] => [
      when(eq(fh.f('tries'), R), failFault, [assign(fh.f('tries'), add(fh.f('tries'), 1)), ...restart(keepSeq)]),
    ];

    b.rule(
      'DriverTakeFault',
      { d: Slot },
      ({ d }) => ({
        guard: and(eq(fh.f('pc'), 'idle'), eq(acc.at(d).f('state'), 'faulted')),
        body: [assign(fh.f('slot'), d), assign(fh.f('pc'), v('lock-across-read-begin') ? 'lockEarly' : 'begin')],
      }),
      fair,
    );
    if (v('lock-across-read-begin')) {
      b.rule(
        'DriverLockEarly',
        {},
        () => ({
          guard: and(eq(fh.f('pc'), 'lockEarly'), free),
          body: [assign(ulock, 'fault'), assign(fh.f('pc'), 'begin')],
        }),
        strong,
      );
    }
    // F1 mmu_interval_read_begin. Under the notifier lock it reads the interval's seq and notes
    // whether a region whose callback has already run is open (interval seq == odd mm seq); if so
    // it sleeps until the mm seq changes, then returns the value it read, which may already be
    // stale (a new region may have called set_seq meanwhile). valid-flag: hmm_range_wait_until_valid
    // sleeps while any region is open, and there is no value to return.
    const walked = (q: Operand) => isSome(snap.at(q).f('frame'));
    const afterBegin: Stmt[] =
      A > 0
        ? [
            when(
              and(
                isAtomic,
                forall(Page, (q) => not(walked(q))),
              ),
              assign(fh.f('pc'), 'exclStart'),
              assign(fh.f('pc'), 'check'),
            ),
          ]
        : [assign(fh.f('pc'), 'check')];
    b.rule(
      'DriverReadBegin',
      {},
      () =>
        v('valid-flag')
          ? { guard: eq(fh.f('pc'), 'begin'), body: [when(eq(active, 0), afterBegin, assign(fh.f('pc'), 'sleep'))] }
          : {
              guard: eq(fh.f('pc'), 'begin'),
              body: [when(eq(ivSeq, mmSeq), assign(fh.f('pc'), 'sleep'), afterBegin), assign(fh.f('s'), ivSeq), ...canonSeq()],
            },
      fair,
    );
    // Woken by the final inv_end (wake_up_all): the mm seq differs from the value read.
    b.rule(
      'DriverReadBeginWake',
      {},
      () => ({
        guard: and(eq(fh.f('pc'), 'sleep'), v('valid-flag') ? eq(active, 0) : ne(mmSeq, fh.f('s'))),
        body: afterBegin,
      }),
      fair,
    );
    if (A > 0) {
      // make_device_exclusive(owner = this driver): an MMU_NOTIFY_EXCLUSIVE region raised by the
      // handler itself, between read_begin and read_retry (nouveau_atomic_range_fault). The PTE
      // change to a device-exclusive entry is abstracted: the page stays mapped to its frame.
      b.rule(
        'DriverExclusiveStart',
        {},
        () => ({
          guard: eq(fh.f('pc'), 'exclStart'),
          body: [...startRegion(true), assign(fh.f('pc'), 'exclCallback')],
        }),
        fair,
      );
      b.rule(
        'DriverExclusiveInvalidate',
        {},
        () =>
          v('no-owner-filter')
            ? {
                // Unfiltered: the callback runs as for any event (lock, set_seq, zap, drain, unmap, unlock).
                guard: and(eq(fh.f('pc'), 'exclCallback'), free, noInflight(fpage)),
                body: [...setSeq(), ...zap(fpage), ...unmapDma(fpage), assign(fh.f('pc'), 'exclEnd')],
              }
            : {
                // range->event == MMU_NOTIFY_EXCLUSIVE && range->owner == self: return true at once.
                guard: eq(fh.f('pc'), 'exclCallback'),
                body: [assign(fh.f('pc'), 'exclEnd')],
              },
        v('no-owner-filter') ? strong : fair,
      );
      b.rule(
        'DriverExclusiveEnd',
        {},
        () => ({
          guard: eq(fh.f('pc'), 'exclEnd'),
          body: [...endRegion(), assign(fh.f('pc'), 'check')],
        }),
        fair,
      );
    }
    // hmm_range_fault's loop head: check_retry, -EBUSY back to F1 (retry-stale-seq: back to the
    // walk with the same seq).
    b.rule(
      'DriverCheckRetry',
      {},
      () => ({
        guard: eq(fh.f('pc'), 'check'),
        body: [when(collided, retryEdge(v('retry-stale-seq')), assign(fh.f('pc'), 'walk'))],
      }),
      fair,
    );
    // The walk reads one PTE at a time, in page order; PTEs change between reads.
    const atK = (q: Expr) =>
      and(
        eq(fh.f('pc'), 'walk'),
        not(walked(q)),
        forall(Page, (r) => implies(lt(ord(r), ord(q)), walked(r))),
      );
    b.rule(
      'DriverWalkSnapshot',
      { q: Page },
      ({ q }) => ({
        guard: and(atK(q), isSome(pte.at(q).f('frame')), or(not(wantWrite), pte.at(q).f('write'))),
        body: [
          ...copy(snap.at(q), pte.at(q)),
          when(
            forall(Page, (r) => walked(r)),
            assign(fh.f('pc'), v('lock-across-read-begin') ? 'retry' : 'lock'),
            v('seq-per-chunk') ? [assign(fh.f('pc'), 'begin')] : [],
          ),
        ],
      }),
      fair,
    );
    // PTE none: handle_mm_fault allocates a frame (read-only for a read fault, as for a shared
    // file mapping with write notification), then the walk restarts from this page (-EBUSY inside
    // hmm_range_fault, which loops back to check_retry).
    b.rule(
      'DriverWalkFaultIn',
      { q: Page, f: Frame },
      ({ q, f }) => ({
        guard: and(atK(q), isNone(pte.at(q).f('frame')), frameFree(f)),
        body: [assign(pte.at(q).f('frame'), some(f, FrameOpt)), assign(pte.at(q).f('write'), wantWrite), assign(fh.f('pc'), 'check')],
      }),
      fair,
    );
    // Write requested on a read-only PTE: handle_mm_fault(FAULT_FLAG_WRITE) reuses the page and
    // upgrades the PTE in place (no notifier), then the walk restarts from this page.
    b.rule(
      'DriverWalkUpgrade',
      { q: Page },
      ({ q }) => ({
        guard: and(atK(q), isSome(pte.at(q).f('frame')), not(pte.at(q).f('write')), wantWrite),
        body: [assign(pte.at(q).f('write'), true), assign(fh.f('pc'), 'check')],
      }),
      fair,
    );
    // F4: take U.
    b.rule(
      'DriverLock',
      {},
      () => ({
        guard: and(eq(fh.f('pc'), 'lock'), free),
        body: [assign(ulock, 'fault'), assign(fh.f('pc'), 'retry')],
      }),
      strong,
    );
    // F5 + F6 under U: read_retry; on a collision unlock and go back to F1; otherwise program the
    // device table from the snapshot (the update invalidates the device TLB for the range), unlock
    // and resume the faulting access.
    const commit: Stmt[] = [
      forEach(Page, (q) => [
        v('no-secondary-tlb-flush')
          ? when(not(and(isSome(dev.at(q).f('frame')), eq(dev.at(q).f('frame'), snap.at(q).f('frame')))), reset(tlb.at(q)))
          : reset(tlb.at(q)),
        ...copy(shadow.at(q), snap.at(q)),
        ...copy(dev.at(q), snap.at(q)),
      ]),
      assign(ulock, 'free'),
      assign(fa.f('state'), 'pending'),
      ...idleFh(),
      dropSnap,
    ];
    b.rule(
      'DriverReadRetry',
      {},
      () => ({
        guard: eq(fh.f('pc'), 'retry'),
        body: v('no-read-retry') ? commit : [when(collided, [...(v('lock-across-read-begin') ? [] : [assign(ulock, 'free')]), ...retryEdge(false)], commit)],
      }),
      fair,
    );

    return {
      Page,
      Frame,
      Inv,
      Slot,
      Holder,
      mmSeq,
      active,
      ivSeq,
      pte,
      dirty,
      inv,
      ulock,
      shadow,
      dev,
      tlb,
      acc,
      fh,
      snap,
      odd,
      holderOf,
      params: { pages: P, atomics: A, slots: cfg.int('slots') },
    };
  },
});
