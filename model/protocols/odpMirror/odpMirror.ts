/**
 * The `odp-mirror` protocol: a device (RDMA ODP, a GPU through HMM) mirroring CPU page tables with
 * mmu interval notifiers. Why this module exists: this is the protocol driver authors get wrong, so
 * it is written once, as guarded rules, at the granularity of the kernel's own calls: every lock,
 * unlock, DMA map and unmap, UMR post, UMR completion and page-fault resume is a step of its own,
 * because a driver that moves one of them across another is exactly the bug a checker must see.
 * spec/odp-mirror.md tells the story, numbers the requirements (ODP-Rn) that odpMirrorProperties.ts
 * checks, and lists every step that is still made of several kernel operations with the reason it
 * cannot hide a race.
 *
 * Actors and what they model (kernel functions in brackets), one builder function each below:
 * - the notifier core: the per-mm sequence (odd while an overlapping invalidation is open), the
 *   active count, and each interval's own sequence [mn_itree_inv_start_range, mn_itree_inv_end,
 *   mmu_interval_read_begin / read_retry / check_retry / set_seq];
 * - invalidators (madvise/munmap, page_mkclean, the OOM reaper, invalidations of other VAs, and
 *   exit_mmap's MMU_NOTIFY_RELEASE): start, the driver's invalidate callback once per interval the
 *   range hits, the PTE change, end;
 * - the driver's invalidate callback [mlx5_ib_invalidate_range, dmirror_interval_invalidate]: lock
 *   (or trylock) U and set_seq, post the zap UMR, wake on its completion and DMA-unmap (dirtying
 *   pages the device could write), unlock;
 * - the CPU: page faults that populate PTEs with reused frames, in-place permission upgrades;
 * - the driver's fault handler and, optionally, a prefetch work item on the same mirror
 *   [pagefault_real_mr, mlx5_ib_prefetch_mr_work]: read_begin, a page walk that is not atomic
 *   against PTE changes (hmm_range_fault with its EBUSY exits and fault-ins), lock U, read_retry,
 *   DMA map, post the update UMR, wake on its completion and unlock, resume the faulting access; the
 *   1 s retry bound of HMM_RANGE_DEFAULT_TIMEOUT;
 * - the device: accesses translated through a TLB that caches permissions, issued and completed
 *   later, faults queued to the driver and resumed; the UMR queue, whose zap completes only once the
 *   accesses it revokes have drained.
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
  forEach,
  exists,
  forall,
  intParam,
  isNone,
  isSome,
  ite,
  le,
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
  'no-set-page-dirty',
  'sleep-when-nonblockable',
  'remove-unlocked-seq',
] as const;
export type OdpVariant = (typeof ODP_VARIANTS)[number];

/**
 * The larger configuration (for the benchmark): three invalidations in a run, so three regions can
 * nest or overlap with the fault.
 */
export const ODP_LARGE_PARAMS: Readonly<Record<string, number>> = { invalidations: 3, retries: 3 };

/**
 * Every actor the default size leaves out, turned on together at a size small enough for tests: a
 * prefetch work item beside the fault handler, invalidation ranges over two pages, two intervals
 * (two callbacks for a spanning range), and the mm's exit (MMU_NOTIFY_RELEASE). One invalidating
 * thread and two frames keep it near 600,000 states.
 */
export const ODP_ACTORS_PARAMS: Readonly<Record<string, number>> = {
  prefetch: 1,
  span: 2,
  intervals: 2,
  release: 1,
  atomics: 0,
  invalidators: 1,
  invalidations: 1,
  retries: 1,
  frames: 2,
};

/**
 * The interval's life during the run: it is inserted (MR registration) and removed (MR
 * deregistration) while invalidations run; the other sizes as the default.
 */
export const ODP_LIFECYCLE_PARAMS: Readonly<Record<string, number>> = { lifecycle: 1 };

/**
 * The legacy v4.x counting scheme (per-umem notifiers_count and notifiers_seq), at the default
 * sizes with what v4.x had: no device-exclusive (atomic) faults, non-blockable ranges refused at once.
 */
export const ODP_LEGACY_PARAMS: Readonly<Record<string, number | string>> = { notifier: 'legacy', atomics: 0, nonblock: 'eagain' };

/** Handles the property set reads. */
export interface OdpMirrorHandles {
  readonly Page: IndexType;
  readonly Frame: IndexType;
  readonly Inv: IndexType;
  readonly Slot: IndexType;
  readonly Interval: IndexType;
  readonly Handler: IndexType;
  readonly Holder: EnumType;
  readonly mmSeq: Ref;
  readonly active: Ref;
  readonly ivSeq: Ref;
  readonly invsLeft: Ref;
  readonly mmLive: Ref | null;
  readonly pte: Ref;
  readonly dirty: Ref;
  readonly inv: Ref;
  readonly ulock: Ref;
  readonly shadow: Ref;
  readonly dev: Ref;
  readonly tlb: Ref;
  readonly umr: Ref;
  readonly acc: Ref;
  readonly fh: Ref;
  readonly snap: Ref;
  /** lifecycle=1: the MR (umem) that owns the interval: absent, usable, revoked, removing (remove waits), freed. */
  readonly mr: Ref | null;
  /** lifecycle=1: where the interval is in the notifier core: none, a deferred insert, the tree, the tree with a deferred removal. */
  readonly ivNode: Ref | null;
  /** notifier=legacy: the umem's notifiers_count. */
  readonly lcount: Ref | null;
  /** True when the sequence value `e` is odd (the language has no modulo). */
  readonly odd: (e: Operand) => Expr;
  /** The lock holder value of invalidator `i`. */
  readonly holderOf: (i: Expr) => Expr;
  /** The lock holder value of handler `h`. */
  readonly handlerHolder: (h: Expr) => Expr;
  /** The interval page `q` belongs to. */
  readonly intervalOf: (q: Operand) => Expr;
  /** Whether page `q` is among invalidator `i`'s pages. */
  readonly inRange: (i: Expr, q: Expr) => Expr;
  /** Whether the callback of invalidator `i` for page `q`'s interval has called set_seq and its region is open (false on the -EAGAIN path). */
  readonly calledBack: (i: Expr, q: Expr) => Expr;
  /** Whether the callback of invalidator `i` for page `q`'s interval has returned true and its region is open. */
  readonly returned: (i: Expr, q: Expr) => Expr;
  readonly params: {
    readonly pages: number;
    readonly atomics: number;
    readonly slots: number;
    readonly intervals: number;
    readonly handlers: number;
    readonly release: boolean;
    readonly downgrade: boolean;
    readonly span: number;
    readonly lifecycle: boolean;
    readonly legacy: boolean;
  };
}

const needsPages2 = (p: ParamValues) => ((p.pages as number) >= 2 ? null : 'a multi-chunk fault needs pages >= 2');
const needsAtomics = (p: ParamValues) =>
  (p.atomics as number) >= 1 ? null : 'the driver raises its own invalidation only for atomic faults: needs atomics >= 1';
const needsTrylock = (p: ParamValues) =>
  p.nonblock === 'trylock' ? null : 'with nonblock=eagain the callback never takes the lock in a non-blockable range: needs nonblock=trylock';
const needsIntervalChunks = (p: ParamValues) =>
  (p.pages as number) >= 2 * (p.intervals as number) ? null : 'a multi-chunk fault needs at least two pages per interval';
const needsLifecycle = (p: ParamValues) => ((p.lifecycle as number) >= 1 ? null : 'the interval is removed only when its life is modelled: needs lifecycle=1');
// The knobs of these variants sit on the interval notifier's sequence scheme (set_seq, read_begin,
// read_retry, the core's end), which the legacy v4.x counting scheme does not have.
const needsIntervalNotifier = (p: ParamValues) =>
  p.notifier === 'interval' ? null : "the variant's knob is on the interval notifier's sequence scheme: needs notifier=interval";
const both =
  (...fs: ((p: ParamValues) => string | null)[]) =>
  (p: ParamValues): string | null => {
    for (const f of fs) {
      const why = f(p);
      if (why) return why;
    }
    return null;
  };

export const odpMirror = defineProtocol<OdpMirrorHandles>({
  name: 'odp-mirror',
  summary:
    'a device mirrors CPU page tables through mmu interval notifiers: collision-retry faults and invalidate callbacks, split at every lock, DMA map, UMR post and completion, and resume',
  spec: 'spec/odp-mirror.md',
  params: {
    pages: intParam(2, 1, 3, 'virtual pages mirrored (a fault covers every page of its interval, one chunk per page)'),
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
    span: intParam(1, 1, 3, 'pages one invalidation range may cover (at most pages)'),
    intervals: intParam(1, 1, 2, 'interval notifiers the pages are split into, one driver lock for all (at most pages)'),
    prefetch: intParam(0, 0, 1, '1: a prefetch work item (ibv_advise_mr) maps an interval beside the fault handler'),
    release: intParam(0, 0, 1, '1: the mm may exit: exit_mmap runs the MMU_NOTIFY_RELEASE callbacks and unmaps every page'),
    protect: enumParam(
      'zap',
      ['zap', 'downgrade'],
      'what the callback does for a write-protect event: zap the entries, or only drop their write permission (both legal)',
    ),
    nonblock: enumParam(
      'trylock',
      ['trylock', 'eagain'],
      'a non-blockable callback: trylock and give up only when it would have to wait (dmirror), or give up at once (mlx5); both legal',
    ),
    lifecycle: intParam(
      0,
      0,
      1,
      '1: the interval notifier is inserted during the run (MR registration, mmu_interval_notifier_insert) and removed (MR deregistration, mmu_interval_notifier_remove, then the umem freed) while invalidations run',
    ),
    notifier: enumParam(
      'interval',
      ['interval', 'legacy'],
      'interval: the mmu interval notifier (v5.5+); legacy: the v4.x umem counting scheme (notifiers_count and notifiers_seq under umem_mutex)',
    ),
  },
  validate: (p) => {
    if ((p.frames as number) < (p.pages as number)) return `frames (${p.frames}) must be at least pages (${p.pages})`;
    if ((p.span as number) > (p.pages as number)) return `span (${p.span}) must be at most pages (${p.pages})`;
    if ((p.intervals as number) > (p.pages as number)) return `intervals (${p.intervals}) must be at most pages (${p.pages})`;
    // Every retry of a correct handler is caused by a distinct callback on its interval, so a budget
    // of `invalidations` retries is never exhausted by a correct driver (spec, ODP-R9).
    if ((p.retries as number) < (p.invalidations as number)) return `retries (${p.retries}) must be at least invalidations (${p.invalidations})`;
    // Raw values grow with every region; only foreign invalidations are bounded, the driver's own
    // exclusive regions (one per atomic fault) are not.
    if (p.seq === 'kernel' && p.atomics !== 0) return 'seq=kernel needs atomics=0 (the raw sequence grows with every atomic fault)';
    // One interval's life, in an mm that does not exit (spec: what is left out).
    if (p.lifecycle === 1 && (p.intervals !== 1 || p.release !== 0)) return 'lifecycle=1 models one interval in a live mm: needs intervals=1 and release=0';
    if (p.notifier === 'legacy') {
      // v4.x had no make_device_exclusive, no ibv_advise_mr prefetch; the umem counters are per umem
      // (one interval here), and a non-blockable start returned -EAGAIN as soon as a umem intersected.
      if (p.atomics !== 0 || p.prefetch !== 0 || p.release !== 0 || p.intervals !== 1 || p.lifecycle !== 0)
        return 'notifier=legacy needs atomics=0, prefetch=0, release=0, intervals=1 and lifecycle=0 (v4.x had no device-exclusive faults or prefetch; one umem, registered before the run)';
      if (p.nonblock !== 'eagain') return 'notifier=legacy needs nonblock=eagain (v4.x refused a non-blockable range at once when a umem intersected it)';
    }
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
      MmExitRelease: 'MM',
      DriverInvalidateLock: ['MM', 'Driver'],
      DriverInvalidateZap: ['Driver', 'Device'],
      DriverInvalidateUnmap: ['Driver', 'MM'],
      DriverInvalidateUnlock: 'Driver',
      MmUpdatePte: ['MM', 'CPU'],
      MmInvalidateEnd: ['MM', 'Driver'],
      CpuTouchPage: ['CPU', 'MM'],
      CpuUpgradePte: ['CPU', 'MM'],
      AppPrefetch: ['CPU', 'Driver'],
      DevIssueRead: 'Device',
      DevIssueWrite: 'Device',
      DevIssueAtomic: 'Device',
      DevTranslate: 'Device',
      DevCompleteAccess: ['Device', 'MM'],
      DevReportError: 'Device',
      DevUmrComplete: ['Device', 'Driver'],
      DriverTakeFault: ['Device', 'Driver'],
      DriverMmget: ['Driver', 'MM'],
      DriverLockEarly: 'Driver',
      DriverReadBegin: ['Driver', 'MM'],
      DriverReadBeginWake: ['MM', 'Driver'],
      DriverExclusiveStart: ['Driver', 'MM'],
      DriverExclusiveInvalidate: ['MM', 'Driver'],
      DriverExclusiveZap: ['Driver', 'Device'],
      DriverExclusiveUnmap: ['Driver', 'MM'],
      DriverExclusiveUnlock: 'Driver',
      DriverExclusiveEnd: ['Driver', 'MM'],
      DriverCheckRetry: ['Driver', 'MM'],
      DriverWalkSnapshot: ['Driver', 'MM'],
      DriverWalkFaultIn: ['Driver', 'MM'],
      DriverWalkUpgrade: ['Driver', 'MM'],
      DriverLock: 'Driver',
      DriverReadRetry: ['Driver', 'MM'],
      DriverDmaMap: ['Driver', 'MM'],
      DriverUmrPost: ['Driver', 'Device'],
      DriverUnlock: 'Driver',
      DriverResume: ['Driver', 'Device'],
      MrRegister: ['Driver', 'MM'],
      MrDeregister: ['Driver', 'Device'],
      MrRemove: ['Driver', 'MM'],
      MrRemoveWake: ['MM', 'Driver'],
      MmInvalidateDeferred: 'MM',
      MmInvalidateOther: 'MM',
    },
  },
  variants: [
    {
      name: 'valid-flag',
      summary:
        'a boolean "valid" flag (cleared at start, set when the last end runs) replaces the sequence: a start+end between snapshot and check goes unseen (ABA)',
      cites:
        'B1: hmm_range valid flag, replaced by the interval notifier in 04ec32fbc2b2 "mm/hmm: allow hmm_range to be used with a mmu_range_notifier or hmm_mirror"',
      appliesTo: needsIntervalNotifier,
    },
    {
      name: 'end-skipped-after-eagain',
      summary: 'after a non-blocking callback returns false (-EAGAIN), the core never runs the matching end: the active count and odd sequence leak',
      cites: 'B3: c2655835fd8c "mm/mmu_notifiers: ensure range_end() is paired with range_start()"',
      appliesTo: needsIntervalNotifier,
    },
    {
      name: 'missed-unlock-nonblocking',
      summary: 'the non-blocking callback takes the driver lock, finds it would have to sleep, and returns -EAGAIN without unlocking',
      cites: 'B4: 7608bf40cf24 "RDMA/odp: Fix missed unlock in non-blocking invalidate_start"',
      appliesTo: needsTrylock,
    },
    {
      name: 'seq-per-chunk',
      summary: 'a multi-chunk fault calls read_begin again for every chunk and keeps the earlier chunks: read_retry checks only the last sequence',
      cites: 'B5: c08972f55594 "drm/amdgpu: fix amdgpu_hmm_range_get_pages"',
      appliesTo: both(needsPages2, needsIntervalChunks, needsIntervalNotifier),
    },
    {
      name: 'retry-stale-seq',
      summary: 'on -EBUSY the handler retries hmm_range_fault with the old sequence: check_retry stays true, it spins until the timeout and fails',
      cites: 'B6: 342981fff328 "drm/amdgpu: drop retry loop in amdgpu_hmm_range_get_pages"',
      appliesTo: needsIntervalNotifier,
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
      appliesTo: needsIntervalNotifier,
    },
    {
      name: 'no-set-seq',
      summary: 'the invalidate callback zaps but never calls mmu_interval_set_seq: read_retry cannot see the collision',
      cites: 'API misuse: include/linux/mmu_notifier.h requires set_seq unconditionally in the callback',
      appliesTo: needsIntervalNotifier,
    },
    {
      name: 'no-read-retry',
      summary: 'the fault handler programs the device table without calling mmu_interval_read_retry under the lock',
      cites: 'API misuse: include/linux/hmm.h, hmm.rst collision-retry pattern',
      appliesTo: needsIntervalNotifier,
    },
    {
      name: 'zap-without-drain',
      summary: 'the invalidate callback posts the zap but DMA-unmaps and returns without waiting for its completion, while device accesses may be in flight',
      cites:
        'API misuse: mmu_interval_notifier_ops contract (mmu_notifier.h); mlx5_ib_invalidate_range waits for the UMR zap (mlx5r_umr_post_send_wait) before ib_umem_odp_unmap_dma_pages',
    },
    {
      name: 'no-set-page-dirty',
      summary: 'the DMA unmap of a page the device could write does not mark it dirty: a device write before page_mkclean is skipped by writeback and lost',
      cites: 'API misuse: ib_umem_odp_unmap_dma_pages calls set_page_dirty for every page mapped writable (drivers/infiniband/core/umem_odp.c)',
    },
    {
      name: 'sleep-when-nonblockable',
      summary: "a callback of a non-blockable range (the OOM reaper's) sleeps for the lock and for the zap instead of returning false",
      cites:
        'API misuse: mmu_interval_notifier_ops may return false only to avoid sleeping in a non-blockable range (include/linux/mmu_notifier.h); mlx5_ib_invalidate_range returns false when !mmu_notifier_range_blockable',
      appliesTo: needsTrylock,
    },
    {
      name: 'remove-unlocked-seq',
      summary:
        "mmu_interval_notifier_remove's wait reads the sequence without the lock: it returns between the final end's seq++ and its walk of the deferred list, and the umem is freed while the walk still removes it from the tree",
      cites:
        'B2: 319561669a59 "mm/mmu_notifier.c: fix race in mmu_interval_notifier_remove()" (Fixes 99cb252f5e68 "mm/mmu_notifier: add an interval tree notifier")',
      params: { lifecycle: 1 },
      appliesTo: both(needsLifecycle, needsIntervalNotifier),
    },
  ],
  build(b: Builder, cfg: BuildConfig): OdpMirrorHandles {
    const m = declare(b, cfg);
    notifierInit(m);
    invalidatorSteps(m);
    callbackSteps(m);
    cpuSteps(m);
    deviceSteps(m);
    handlerSteps(m);
    exclusiveSteps(m);
    lifecycleSteps(m);
    return m.handles;
  },
});

// ================================================================================================
// Declarations shared by the actors.

type Fair = { readonly fairness: 'weak' | 'strong' };
/** `g`, and `extra` when there is one (a conjunct only some configurations have). */
const andIf = (g: Expr, ...extra: (Expr | null)[]): Expr => {
  const more = extra.filter((x): x is Expr => x !== null);
  return more.length ? and(g, ...more) : g;
};
const fair: Fair = { fairness: 'weak' };
const strong: Fair = { fairness: 'strong' };

/** The stages of the invalidate callback, as the actor running it names them. */
interface CallbackStages {
  readonly lock: string;
  readonly zap: string;
  readonly wait: string;
  readonly unlock: string;
}

/** Everything the actor builders share: sizes, types, variables and helpers. */
interface Decl {
  readonly b: Builder;
  readonly v: (name: OdpVariant) => boolean;
  readonly P: number;
  readonly I: number;
  readonly INVS: number;
  readonly A: number;
  readonly R: number;
  readonly IV: number;
  readonly H: number;
  readonly span: number;
  readonly release: boolean;
  readonly downgrade: boolean;
  readonly nonblockEagain: boolean;
  readonly canonical: boolean;
  readonly lifecycle: boolean;
  readonly legacy: boolean;
  readonly Page: IndexType;
  readonly Frame: IndexType;
  readonly Inv: IndexType;
  readonly Slot: IndexType;
  readonly Interval: IndexType;
  readonly Handler: IndexType;
  readonly Holder: EnumType;
  readonly FrameOpt: ReturnType<typeof option>;
  readonly mmSeq: Ref;
  readonly active: Ref;
  readonly ivSeq: Ref;
  readonly invsLeft: Ref;
  readonly mmLive: Ref | null;
  readonly pte: Ref;
  readonly dirty: Ref;
  readonly inv: Ref;
  readonly ulock: Ref;
  readonly shadow: Ref;
  readonly dev: Ref;
  readonly tlb: Ref;
  readonly umr: Ref;
  readonly acc: Ref;
  readonly fh: Ref;
  readonly snap: Ref;
  readonly mr: Ref | null;
  readonly ivNode: Ref | null;
  readonly rmSeq: Ref | null;
  readonly lcount: Ref | null;
  readonly lseq: Ref | null;
  /** lifecycle=1: the interval is in the tree (an invalidation calls it back); null otherwise (always). */
  readonly inTree: Expr | null;
  /** lifecycle=1: the MR is registered and not yet deregistered (the device may use it); null otherwise (always). */
  readonly usable: Expr | null;
  /** remove-unlocked-seq: no end holds the subscriptions lock across its deferred-list walk; null otherwise (always). */
  readonly subsFree: Expr | null;
  readonly applyDeferred: () => Stmt[];
  readonly odd: (e: Operand) => Expr;
  readonly canonSeq: () => Stmt[];
  readonly startRegion: (hits: boolean | Expr) => Stmt[];
  readonly endRegion: () => Stmt[];
  readonly setSeq: (iv: Operand) => Stmt[];
  readonly holderOf: (i: Expr) => Expr;
  readonly handlerHolder: (h: Expr) => Expr;
  readonly intervalOf: (q: Operand) => Expr;
  readonly inRange: (i: Expr, q: Expr) => Expr;
  readonly calledBack: (i: Expr, q: Expr) => Expr;
  readonly returned: (i: Expr, q: Expr) => Expr;
  readonly mmHeld: Expr;
  readonly live: Expr;
  readonly copy: (dst: Ref, src: Ref) => Stmt[];
  readonly frameFree: (f: Expr) => Expr;
  readonly inflightOn: (q: Expr, writesOnly: boolean) => Expr;
  readonly handles: OdpMirrorHandles;
}

function declare(b: Builder, cfg: BuildConfig): Decl {
  const P = cfg.int('pages');
  const I = cfg.int('invalidators');
  const INVS = cfg.int('invalidations');
  const A = cfg.int('atomics');
  const R = cfg.int('retries');
  const IV = cfg.int('intervals');
  const H = 1 + cfg.int('prefetch');
  const span = cfg.int('span');
  const release = cfg.int('release') > 0;
  const downgrade = cfg.str('protect') === 'downgrade';
  const nonblockEagain = cfg.str('nonblock') === 'eagain';
  const lifecycle = cfg.int('lifecycle') > 0;
  const legacy = cfg.str('notifier') === 'legacy';
  const v = (name: OdpVariant) => cfg.is(name);

  const Page = b.index('Page', P);
  const Frame = b.index('Frame', cfg.int('frames'));
  const Inv = b.index('Inv', I);
  const Slot = b.index('Slot', cfg.int('slots'));
  const Interval = b.index('Interval', IV);
  const Handler = b.index('Handler', H);
  // Canonical sequence values (see canonSeq) are -1..3; 4 is reached for one statement at an end.
  // Raw kernel values start at 2 and grow by at most 2 per overlapping invalidation (and the exit's,
  // and an insert's into a partially excluded tree). The legacy umem seq grows by 1 per end.
  const canonical = cfg.str('seq') === 'canonical';
  const Seq = canonical ? range(-1, 4) : range(0, 2 + 2 * (INVS + (release ? 1 : 0) + (lifecycle ? 1 : 0)));
  const FrameOpt = option(Frame);
  const Entry = record({ frame: FrameOpt, write: bool });
  const invNames = Array.from({ length: I }, (_, i) => `inv${i}`);
  const Holder = enumOf('Holder', ['free', 'fault', ...(H > 1 ? ['prefetch'] : []), ...invNames]);
  // 'deferred' (remove-unlocked-seq only): the final end has bumped the seq and still holds the
  // subscriptions lock for its walk of the deferred list.
  const InvPc = enumOf('InvPc', ['idle', 'lock', 'zap', 'wait', 'unlock', 'eagain', 'pte', 'end', ...(v('remove-unlocked-seq') ? ['deferred'] : [])]);
  const Event = enumOf('Event', ['clear', 'protect', 'elsewhere', ...(release ? ['release'] : [])]);
  const AccState = enumOf('AccState', ['idle', 'pending', 'inflight', 'faulted', 'failed']);
  const Op = enumOf('Op', A > 0 ? ['read', 'write', 'atomic'] : ['read', 'write']);
  const UmrKind = enumOf('UmrKind', ['update', 'zap', ...(downgrade ? ['downgrade'] : [])]);
  const FhPc = enumOf('FhPc', [
    'idle',
    ...(release ? ['mmget'] : []),
    ...(v('lock-across-read-begin') ? ['lockEarly'] : []),
    'begin',
    'sleep',
    ...(A > 0 ? ['exclStart', 'exclCallback', 'exclEnd'] : []),
    ...(v('no-owner-filter') ? ['exclZap', 'exclWait', 'exclUnlock'] : []),
    'check',
    'walk',
    'lock',
    'retry',
    'unlock',
    'map',
    'post',
    'wait',
    'resume',
    'fail',
  ]);

  // --- Notifier core (struct mmu_notifier_subscriptions and each interval's seq) ---
  const mmSeq = b.v('mmSeq', Seq); // subscriptions->invalidate_seq: odd while an overlapping region is open
  const active = b.v('active', range(0, I + 1)); // active_invalidate_ranges (+1: the driver's own event)
  const ivSeq = b.v('ivSeq', arrayOf(Interval, Seq)); // mmu_interval_notifier.invalidate_seq, written by set_seq
  const invsLeft = b.v('invsLeft', range(0, INVS));
  const mmLive = release ? b.v('mmLive', bool) : null; // mm_users > 0 (mmget_not_zero succeeds)
  // --- CPU mm: page table and pages ---
  const pte = b.v('pte', arrayOf(Page, Entry));
  const dirty = b.v('dirty', arrayOf(Frame, bool)); // the page's dirty flag: set by the DMA unmap, consumed by writeback
  // --- Invalidating threads: the region each has open, its pages, the interval its callback is on, and its stage ---
  const inv = b.v('inv', arrayOf(Inv, record({ pc: InvPc, event: Event, lo: Page, hi: Page, iv: Interval, blockable: bool })));
  // --- Driver: the lock U and the DMA-mapped pfn list (the shadow of the device table) ---
  const ulock = b.v('ulock', Holder);
  const shadow = b.v('shadow', arrayOf(Page, Entry));
  // --- Device: translation table (MTT), its TLB (caches permissions), the UMR queue, accesses ---
  const dev = b.v('dev', arrayOf(Page, Entry));
  const tlb = b.v('tlb', arrayOf(Page, Entry));
  // The pages a UMR covers are a set, not a numeric range: a proof for every number of pages cannot
  // name the last page.
  const umr = b.v('umr', record({ busy: bool, kind: UmrKind, pages: arrayOf(Page, bool) }));
  const acc = b.v('acc', arrayOf(Slot, record({ state: AccState, op: Op, page: Page, frame: Frame })));
  // --- Driver work items (fault handler, prefetch) and their snapshots (hmm_pfns) ---
  // The walk position is not a variable: the walk takes the pages of its interval in order and
  // snapshots each, so the next page is the first one of the interval without a snapshot (a counter
  // would tie the state to the number of pages, which the proof for every size cannot have).
  const fh = b.v('fh', arrayOf(Handler, record({ pc: FhPc, slot: Slot, iv: Interval, s: Seq, tries: range(0, R) })));
  const snap = b.v('snap', arrayOf(Handler, arrayOf(Page, Entry)));
  // --- lifecycle=1: the MR that owns the interval, and the interval's place in the notifier core ---
  // (declared last, so that the default state layout is unchanged)
  const mr = lifecycle ? b.v('mr', enumOf('MrState', ['absent', 'usable', 'revoked', 'removing', 'freed'])) : null;
  const ivNode = lifecycle ? b.v('ivNode', enumOf('IvNode', ['none', 'deferIns', 'tree', 'deferRem'])) : null;
  const rmSeq = lifecycle ? b.v('rmSeq', Seq) : null; // the seq mmu_interval_notifier_remove read under the lock
  // --- notifier=legacy: the umem's counters (ib_umem_odp of v4.x), under umem_mutex (U) ---
  const lcount = legacy ? b.v('lcount', range(0, I)) : null; // notifiers_count
  const lseq = legacy ? b.v('lseq', Seq) : null; // notifiers_seq

  // --- helpers ---
  const oddValues = Array.from({ length: Seq.hi - Seq.lo + 1 }, (_, x) => Seq.lo + x).filter((x) => x % 2 !== 0);
  const odd = (e: Operand): Expr => or(...oddValues.map((x) => eq(e, x)));
  // The kernel only ever compares sequence values for equality (read_begin: interval == mm;
  // check_retry / read_retry: interval == snapshot) and tests the mm seq's parity; it changes them
  // only by seq |= 1, seq++, set_seq (interval := mm, mm odd) and read_begin (snapshot :=
  // interval). An interval seq never exceeds the mm seq and a snapshot never exceeds its interval's
  // seq. So these facts determine every future comparison: mm odd; for each interval, interval ==
  // mm; for each handler, snapshot taken and snapshot == its interval's. After each change the
  // values are rewritten to the one canonical tuple with the same facts, which keeps the state space
  // finite (a livelock that bumps the sequence forever is a cycle, not an infinite path) without
  // changing any behaviour: mm: 2 (even) or 3 (odd); interval: 3 if equal to mm, else 1; snapshot:
  // 0 (none), equal to its interval's, or two below it (stale: it can never match again, the
  // interval only grows). The first epoch reads exactly as in the kernel (mm 2 -> 3 at start,
  // interval 1 -> 3 at set_seq); at the last end the kernel's (4, 3) is shown as (2, 1).
  // The remover's snapshot is compared only with the mm seq and never exceeds it: 3 while equal (it is
  // read while odd), else 1 (it can never match again). The legacy umem seq is compared only with the
  // handlers' snapshots: it is 2, a snapshot equal to it 2, a stale one 1 (0: none taken).
  const canonSeq = (): Stmt[] => {
    if (!canonical) return [];
    if (lseq) {
      return [
        forEach(Handler, (h) => {
          const s = fh.at(h).f('s');
          return assign(s, ite(eq(s, 0), 0, ite(eq(s, lseq), 2, 1)));
        }),
        assign(lseq, 2),
      ];
    }
    const cIv = (x: Operand) => ite(eq(x, mmSeq), 3, 1);
    return [
      forEach(Handler, (h) => {
        const s = fh.at(h).f('s');
        const iv = ivSeq.at(fh.at(h).f('iv'));
        return assign(s, ite(eq(s, 0), 0, ite(eq(s, iv), cIv(iv), ite(eq(iv, mmSeq), 1, -1))));
      }),
      forEach(Interval, (j) => assign(ivSeq.at(j), cIv(ivSeq.at(j)))),
      ...(rmSeq ? [assign(rmSeq, ite(eq(rmSeq, mmSeq), 3, 1))] : []),
      assign(mmSeq, ite(odd(mmSeq), 3, 2)),
    ];
  };
  // The deferred list, applied by the final end under the lock (mn_itree_inv_end): a deferred insert
  // enters the tree, a deferred removal leaves it.
  const applyDeferred = (): Stmt[] =>
    ivNode ? [when(eq(ivNode, 'deferIns'), assign(ivNode, 'tree'), when(eq(ivNode, 'deferRem'), assign(ivNode, 'none')))] : [];
  // mn_itree_inv_start_range: active++, and seq |= 1 when an interval intersects the range (with
  // lifecycle=1: when the interval is in the tree). notifier=legacy: the core keeps no seq; active
  // only counts the regions open (the umem's own counters are kept by the callback and the end).
  const startRegion = (hits: boolean | Expr): Stmt[] => {
    const mark = [when(not(odd(mmSeq)), assign(mmSeq, add(mmSeq, 1))), ...canonSeq()];
    return [assign(active, add(active, 1)), ...(hits === false || legacy ? [] : hits === true ? mark : [when(hits, mark)])];
  };
  // mn_itree_inv_end: active--, and the last end makes the seq even again and applies the deferred
  // list (then wakes readers and removers).
  const endRegion = (): Stmt[] =>
    legacy
      ? [assign(active, sub(active, 1))]
      : [
          assign(active, sub(active, 1)),
          when(and(eq(active, 0), odd(mmSeq)), ivNode ? [assign(mmSeq, add(mmSeq, 1)), ...applyDeferred()] : assign(mmSeq, add(mmSeq, 1))),
          ...canonSeq(),
        ];
  // mmu_interval_set_seq(cur_seq). cur_seq is the mm seq read at start (odd); the region stays
  // open until its own end, and an odd mm seq changes only when the active count drops to zero,
  // so the mm seq still equals cur_seq when the callback runs.
  // notifier=legacy: ib_umem_notifier_start_account instead (notifiers_count++, under U).
  const setSeq = (iv: Operand): Stmt[] => (lcount ? [assign(lcount, add(lcount, 1))] : [assign(ivSeq.at(iv), mmSeq), ...canonSeq()]);
  const holderOf = (i: Expr): Expr => {
    let e: Expr = lit(invNames[I - 1] as string, Holder);
    for (let k = I - 2; k >= 0; k--) e = ite(eq(i, k), lit(invNames[k] as string, Holder), e);
    return e;
  };
  const handlerHolder = (h: Expr): Expr => (H > 1 ? ite(eq(h, 0), lit('fault', Holder), lit('prefetch', Holder)) : lit('fault', Holder));
  // The pages split into IV contiguous blocks, one per interval.
  const ivOfPage = Array.from({ length: P }, (_, p) => Math.floor((p * IV) / P));
  const table = <T extends number>(idx: Operand, values: readonly T[], t?: IndexType): Expr => {
    let e: Expr = lit(values[values.length - 1] as number, t);
    for (let k = values.length - 2; k >= 0; k--) e = ite(eq(idx, k), lit(values[k] as number, t), e);
    return e;
  };
  // One interval (the default) needs no page numbers at all (the proof for every size has none).
  const intervalOf = (q: Operand): Expr => (IV === 1 ? lit(0, Interval) : table(q, ivOfPage, Interval));
  const stage = (i: Expr, ...pcs: string[]) => or(...pcs.map((pc) => eq(inv.at(i).f('pc'), pc)));
  const overlapping = (i: Expr) => ne(inv.at(i).f('event'), 'elsewhere');
  const inRange = (i: Expr, q: Expr): Expr => and(overlapping(i), le(ord(inv.at(i).f('lo')), ord(q)), le(ord(q), ord(inv.at(i).f('hi'))));
  // The callback for q's interval has called set_seq (its own interval is later in the loop, or it
  // is past the lock), and the region is still open; the -EAGAIN path closes the region instead.
  const ivCmp = (i: Expr, q: Expr, op: 'lt' | 'le') =>
    op === 'lt' ? lt(ord(intervalOf(q)), ord(inv.at(i).f('iv'))) : le(ord(intervalOf(q)), ord(inv.at(i).f('iv')));
  const calledBack = (i: Expr, q: Expr): Expr =>
    and(inRange(i, q), or(stage(i, 'pte', 'end'), and(stage(i, 'zap', 'wait', 'unlock'), ivCmp(i, q, 'le')), and(stage(i, 'lock'), ivCmp(i, q, 'lt'))));
  const returned = (i: Expr, q: Expr): Expr =>
    and(inRange(i, q), or(stage(i, 'pte', 'end'), and(stage(i, 'lock', 'zap', 'wait', 'unlock'), ivCmp(i, q, 'lt'))));
  // A handler holds an mm reference (mmget_not_zero in ib_umem_odp_map_dma_and_lock) from its first
  // read_begin to its successful read_retry: the mm cannot exit meanwhile.
  const holdsMm = (h: Expr) =>
    or(
      ...[
        'lockEarly',
        'begin',
        'sleep',
        'exclStart',
        'exclCallback',
        'exclEnd',
        'exclZap',
        'exclWait',
        'exclUnlock',
        'check',
        'walk',
        'lock',
        'retry',
        'unlock',
      ]
        .filter((pc) => FhPc.values.includes(pc))
        .map((pc) => eq(fh.at(h).f('pc'), pc)),
    );
  const mmHeld = or(...Array.from({ length: H }, (_, h) => holdsMm(lit(h, Handler))));
  const live: Expr = mmLive ? eq(mmLive, true) : lit(true);
  const inTree: Expr | null = ivNode ? or(eq(ivNode, 'tree'), eq(ivNode, 'deferRem')) : null;
  const usable: Expr | null = mr ? eq(mr, 'usable') : null;
  const subsFree: Expr | null = v('remove-unlocked-seq') ? forall(Inv, (i) => ne(inv.at(i).f('pc'), 'deferred')) : null;
  const copy = (dst: Ref, src: Ref): Stmt[] => [assign(dst.f('frame'), src.f('frame')), assign(dst.f('write'), src.f('write'))];
  const frameFree = (f: Expr) => forall(Page, (q) => ne(pte.at(q).f('frame'), some(f, FrameOpt)));
  const inflightOn = (q: Expr, writesOnly: boolean) =>
    exists(Slot, (d) => and(eq(acc.at(d).f('state'), 'inflight'), eq(acc.at(d).f('page'), q), writesOnly ? ne(acc.at(d).f('op'), 'read') : true));

  const handles: OdpMirrorHandles = {
    Page,
    Frame,
    Inv,
    Slot,
    Interval,
    Handler,
    Holder,
    mmSeq,
    active,
    ivSeq,
    invsLeft,
    mmLive,
    pte,
    dirty,
    inv,
    ulock,
    shadow,
    dev,
    tlb,
    umr,
    acc,
    fh,
    snap,
    mr,
    ivNode,
    lcount,
    odd,
    holderOf,
    handlerHolder,
    intervalOf,
    inRange,
    calledBack,
    returned,
    params: { pages: P, atomics: A, slots: cfg.int('slots'), intervals: IV, handlers: H, release, downgrade, span, lifecycle, legacy },
  };
  return {
    b,
    v,
    P,
    I,
    INVS,
    A,
    R,
    IV,
    H,
    span,
    release,
    downgrade,
    nonblockEagain,
    canonical,
    lifecycle,
    legacy,
    Page,
    Frame,
    Inv,
    Slot,
    Interval,
    Handler,
    Holder,
    FrameOpt,
    mmSeq,
    active,
    ivSeq,
    invsLeft,
    mmLive,
    pte,
    dirty,
    inv,
    ulock,
    shadow,
    dev,
    tlb,
    umr,
    acc,
    fh,
    snap,
    mr,
    ivNode,
    rmSeq,
    lcount,
    lseq,
    inTree,
    usable,
    subsFree,
    applyDeferred,
    odd,
    canonSeq,
    startRegion,
    endRegion,
    setSeq,
    holderOf,
    handlerHolder,
    intervalOf,
    inRange,
    calledBack,
    returned,
    mmHeld,
    live,
    copy,
    frameFree,
    inflightOn,
    handles,
  };
}

// ================================================================================================
// The notifier core's start state (__mmu_notifier_register, mmu_interval_notifier_insert).

function notifierInit(m: Decl): void {
  const { b, mmSeq, ivSeq, invsLeft, mmLive, fh, pte, Interval, Handler, P, INVS, FrameOpt, rmSeq, lseq } = m;
  b.init('mapped', () => [
    assign(mmSeq, 2), // __mmu_notifier_register
    ...(rmSeq ? [assign(rmSeq, 1)] : []), // no remover waits (1 never equals the mm seq)
    ...(lseq ? [assign(lseq, 2)] : []),
    forEach(Interval, (j) => assign(ivSeq.at(j), 1)), // inserted while idle: interval seq = mm seq - 1
    assign(invsLeft, INVS),
    ...(mmLive ? [assign(mmLive, true)] : []),
    forEach(Handler, (h) => assign(fh.at(h).f('s'), 0)), // no snapshot (the range's low value, -1, means a stale one)
    ...Array.from({ length: P }, (_, p) => [assign(pte.at(p).f('frame'), some(p, FrameOpt)), assign(pte.at(p).f('write'), true)]).flat(),
  ]);
}

// ================================================================================================
// Invalidators: start, (the callbacks: callbackSteps), PTE change, end.

function invalidatorSteps(m: Decl): void {
  const { b, Inv, Page, inv, invsLeft, pte, dirty, mmLive, intervalOf, startRegion, endRegion, span, live, mmHeld, P, inTree, subsFree } = m;
  // With lifecycle=1 the range hits the interval only while it is in the tree; otherwise no callback
  // runs, the seq stays as it is, and the PTEs change at once (blockable and iv as the last callback
  // leaves them).
  const startRule = (name: string, event: 'clear' | 'protect', blockable: boolean) =>
    b.rule(name, { i: Inv, p: Page, q: Page }, ({ i, p, q }) => {
      const callback: Stmt[] = [
        assign(inv.at(i).f('iv'), intervalOf(p)),
        assign(inv.at(i).f('event'), event),
        assign(inv.at(i).f('blockable'), blockable),
        assign(inv.at(i).f('pc'), 'lock'),
      ];
      return {
        guard: andIf(
          and(eq(inv.at(i).f('pc'), 'idle'), lt(0, invsLeft), live, span === 1 ? eq(p, q) : and(le(ord(p), ord(q)), lt(sub(ord(q), ord(p)), span))),
          subsFree,
        ),
        body: [
          assign(invsLeft, sub(invsLeft, 1)),
          ...startRegion(inTree ?? true),
          assign(inv.at(i).f('lo'), p),
          assign(inv.at(i).f('hi'), q),
          ...(inTree
            ? [
                when(inTree, callback, [
                  reset(inv.at(i).f('iv')),
                  assign(inv.at(i).f('event'), event),
                  assign(inv.at(i).f('blockable'), false),
                  assign(inv.at(i).f('pc'), 'pte'),
                ]),
              ]
            : callback),
        ],
      };
    });
  // madvise(MADV_DONTNEED) / munmap over pages [p, q]: clear the PTEs and free the pages.
  startRule('MmMadviseStart', 'clear', true);
  // page_mkclean (writeback): write-protect the PTEs; the dirty pages are then written back.
  startRule('MmMkcleanStart', 'protect', true);
  // The OOM reaper: mmu_notifier_invalidate_range_start_nonblock, then clear and free.
  startRule('MmOomReapStart', 'clear', false);
  // An invalidation of a VA outside every mirrored interval: counted in active, seq stays even.
  b.rule('MmInvalidateElsewhere', { i: Inv }, ({ i }) => ({
    guard: andIf(and(eq(inv.at(i).f('pc'), 'idle'), lt(0, invsLeft), live), subsFree),
    body: [assign(invsLeft, sub(invsLeft, 1)), ...startRegion(false), assign(inv.at(i).f('event'), 'elsewhere'), assign(inv.at(i).f('pc'), 'end')],
  }));
  if (m.lifecycle) {
    // lifecycle=1: an invalidation of a VA another interval notifier of this mm covers (another MR):
    // that interval is in the tree, so seq |= 1 (the tree is fully excluded until the final end),
    // and only its own callback runs. Without it the one modelled interval could never be inserted
    // or removed while the tree is fully excluded.
    b.rule('MmInvalidateOther', { i: Inv }, ({ i }) => ({
      guard: andIf(and(eq(inv.at(i).f('pc'), 'idle'), lt(0, invsLeft), live), subsFree),
      body: [assign(invsLeft, sub(invsLeft, 1)), ...startRegion(true), assign(inv.at(i).f('event'), 'elsewhere'), assign(inv.at(i).f('pc'), 'end')],
    }));
  }
  if (mmLive) {
    // exit_mmap once mm_users has dropped to zero (no fault handler holds a reference):
    // mn_itree_release runs every interval's callback with MMU_NOTIFY_RELEASE over the whole address
    // space, then the pages are unmapped (the callbacks of that unmap have nothing left to do).
    b.rule('MmExitRelease', { i: Inv }, ({ i }) => ({
      guard: and(eq(inv.at(i).f('pc'), 'idle'), eq(mmLive, true), not(mmHeld)),
      body: [
        assign(mmLive, false),
        ...startRegion(true),
        assign(inv.at(i).f('lo'), 0),
        assign(inv.at(i).f('hi'), P - 1),
        assign(inv.at(i).f('iv'), 0),
        assign(inv.at(i).f('event'), 'release'),
        assign(inv.at(i).f('blockable'), true),
        assign(inv.at(i).f('pc'), 'lock'),
      ],
    }));
  }

  // The core mm changes the PTEs (under the PTL, with the CPU TLB flush); cleared pages are freed
  // (and their dirty flags with them); write-protected pages that are dirty are written back, which
  // consumes the flag (folio_clear_dirty_for_io after folio_mkclean).
  b.rule(
    'MmUpdatePte',
    { i: Inv },
    ({ i }) => {
      const me = inv.at(i);
      const inR = (q: Expr) => and(le(ord(me.f('lo')), ord(q)), le(ord(q), ord(me.f('hi'))));
      return {
        guard: eq(me.f('pc'), 'pte'),
        body: [
          // The flags first, by frame (each iteration writes its own frame's flag), from the PTEs
          // before the change; then the PTEs.
          forEach(m.Frame, (f) =>
            when(
              exists(Page, (q) => and(inR(q), eq(pte.at(q).f('frame'), some(f, m.FrameOpt)))),
              assign(dirty.at(f), false),
            ),
          ),
          forEach(Page, (q) => when(inR(q), when(eq(me.f('event'), 'protect'), assign(pte.at(q).f('write'), false), reset(pte.at(q))))),
          assign(me.f('pc'), 'end'),
        ],
      };
    },
    fair,
  );
  if (m.lcount && m.lseq) {
    // v4.x: ib_umem_notifier_end_account for the umem the range hit, under umem_mutex (U):
    // notifiers_seq++, notifiers_count-- (complete_all at 0, which wakes the waiting faults).
    const { lcount, lseq, ulock } = m;
    b.rule(
      'MmInvalidateEnd',
      { i: Inv },
      ({ i }) => {
        const hit = ne(inv.at(i).f('event'), 'elsewhere');
        return {
          guard: and(eq(inv.at(i).f('pc'), 'end'), or(not(hit), eq(ulock, 'free'))),
          body: [when(hit, [assign(lseq, add(lseq, 1)), assign(lcount, sub(lcount, 1)), ...m.canonSeq()]), ...endRegion(), reset(inv.at(i))],
        };
      },
      fair,
    );
  } else if (m.v('remove-unlocked-seq')) {
    // B2: the final end bumps the seq in one step and walks the deferred list in the next, holding
    // the subscriptions lock across both (the remover's lockless read sees the seq in between).
    const { active, mmSeq, odd } = m;
    b.rule(
      'MmInvalidateEnd',
      { i: Inv },
      ({ i }) => ({
        guard: andIf(eq(inv.at(i).f('pc'), 'end'), subsFree),
        body: [
          assign(active, sub(active, 1)),
          when(and(eq(active, 0), odd(mmSeq)), [assign(mmSeq, add(mmSeq, 1)), assign(inv.at(i).f('pc'), 'deferred')], reset(inv.at(i))),
          ...m.canonSeq(),
        ],
      }),
      fair,
    );
    b.rule(
      'MmInvalidateDeferred',
      { i: Inv },
      ({ i }) => ({
        guard: eq(inv.at(i).f('pc'), 'deferred'),
        body: [...m.applyDeferred(), reset(inv.at(i))],
      }),
      fair,
    );
  } else {
    b.rule(
      'MmInvalidateEnd',
      { i: Inv },
      ({ i }) => ({
        guard: andIf(eq(inv.at(i).f('pc'), 'end'), subsFree),
        body: [...endRegion(), reset(inv.at(i))],
      }),
      fair,
    );
  }
}

// ================================================================================================
// The driver's invalidate callback (ops->invalidate), once per interval the range hits.

/** What one caller of the callback steps supplies: where its stage is and what the callback covers. */
interface Caller {
  /** The stage field of the actor running the callback. */
  readonly pc: Ref;
  readonly stages: CallbackStages;
  /** Whether page `q` is among the pages this callback covers (its range on its interval). */
  readonly covers: (q: Expr) => Expr;
  /** The interval whose callback this is. */
  readonly iv: Operand;
  readonly holder: Expr;
  /** Whether the callback only drops write permission (a write-protect event with protect=downgrade). */
  readonly downgrade: Expr;
}

/** The lock step's effect once U is held: set_seq, then the zap if anything is mapped, else straight to the unlock. */
function lockedBody(m: Decl, c: Caller, mapped: Expr): Stmt[] {
  return [
    assign(m.ulock, c.holder),
    ...(m.v('no-set-seq') || m.v('valid-flag') ? [] : m.setSeq(c.iv)),
    when(mapped, assign(c.pc, c.stages.zap), assign(c.pc, c.stages.unlock)),
  ];
}

/**
 * Whether anything this callback must revoke is DMA-mapped (the driver's own pfn list). A downgrade
 * is posted for a read-only mapping too: a write may still be in flight through an earlier writable
 * entry (the other work item's read-only update replaced it, without a fence), and only the
 * downgrade's completion waits for it.
 */
function mappedFor(m: Decl, c: Caller): Expr {
  const { shadow, Page } = m;
  return exists(Page, (q) => and(c.covers(q), isSome(shadow.at(q).f('frame'))));
}

/** Post the zap (or downgrade) UMR for the callback's pages. */
function zapBody(m: Decl, c: Caller): Stmt[] {
  const { umr } = m;
  return [
    assign(umr.f('busy'), true),
    assign(umr.f('kind'), m.downgrade ? ite(c.downgrade, lit('downgrade', umr.f('kind').type as EnumType), lit('zap', umr.f('kind').type as EnumType)) : 'zap'),
    forEach(m.Page, (q) => assign(umr.f('pages').at(q), c.covers(q))),
    assign(c.pc, c.stages.wait),
  ];
}

/** Woken by the completion: DMA-unmap (or downgrade) the pages, dirtying those the device could write. */
function unmapBody(m: Decl, c: Caller): Stmt[] {
  const { shadow, dirty, Page } = m;
  // set_page_dirty for every page mapped writable, by frame (each iteration writes its own flag).
  const writableOn = (f: Expr) => exists(Page, (q) => and(c.covers(q), eq(shadow.at(q).f('frame'), some(f, m.FrameOpt)), shadow.at(q).f('write')));
  return [
    ...(m.v('no-set-page-dirty') ? [] : [forEach(m.Frame, (f) => when(writableOn(f), assign(dirty.at(f), true)))]),
    forEach(Page, (q) =>
      when(
        and(c.covers(q), isSome(shadow.at(q).f('frame'))),
        m.downgrade ? when(c.downgrade, assign(shadow.at(q).f('write'), false), reset(shadow.at(q))) : reset(shadow.at(q)),
      ),
    ),
    assign(c.pc, c.stages.unlock),
  ];
}

function callbackSteps(m: Decl): void {
  const { b, Inv, inv, ulock, umr, v, holderOf, intervalOf, endRegion, nonblockEagain, subsFree } = m;
  const callerOf = (i: Expr): Caller => {
    const me = inv.at(i);
    return {
      pc: me.f('pc'),
      stages: { lock: 'lock', zap: 'zap', wait: 'wait', unlock: 'unlock' },
      covers: (q) => and(m.inRange(i, q), eq(intervalOf(q), me.f('iv'))),
      iv: me.f('iv'),
      holder: holderOf(i),
      downgrade: m.downgrade ? eq(me.f('event'), 'protect') : lit(false),
    };
  };
  // -EAGAIN: the callback returns false; mn_itree_invalidate then runs mn_itree_inv_end itself and
  // the caller leaves the PTEs alone (B3: the core forgets that end).
  const eagain = (i: Expr): Stmt[] => [...(v('end-skipped-after-eagain') ? [] : endRegion()), reset(inv.at(i))];
  const free = eq(ulock, 'free');
  // The interval after `j` (the callbacks run in interval order; only reached when there is one).
  const nextInterval = (j: Operand): Expr => {
    let e: Expr = lit(m.IV - 1, m.Interval);
    for (let k = m.IV - 2; k >= 0; k--) e = ite(eq(j, k), lit(k + 1, m.Interval), e);
    return e;
  };

  // Lock: blockable ranges sleep for U (mutex_lock); non-blockable ones trylock it, and return
  // false when it is held or when anything is mapped (the zap's completion would have to be waited
  // for); with nonblock=eagain they return false at once (mlx5). Under U: set_seq.
  b.rule(
    'DriverInvalidateLock',
    { i: Inv },
    ({ i }) => {
      const me = inv.at(i);
      const c = callerOf(i);
      const mapped = mappedFor(m, c);
      const sleeps = v('sleep-when-nonblockable') ? lit(true) : me.f('blockable');
      // remove-unlocked-seq: the -EAGAIN path's end waits for the subscriptions lock.
      const endLock = subsFree ? or(me.f('blockable'), subsFree) : null;
      if (nonblockEagain)
        return {
          guard: andIf(and(eq(me.f('pc'), 'lock'), or(not(me.f('blockable')), free)), endLock),
          body: [when(me.f('blockable'), lockedBody(m, c, mapped), eagain(i))],
        };
      return {
        guard: andIf(and(eq(me.f('pc'), 'lock'), or(not(sleeps), free)), endLock),
        body: [when(sleeps, lockedBody(m, c, mapped), when(free, [...lockedBody(m, c, lit(false)), when(mapped, assign(me.f('pc'), 'eagain'))], eagain(i)))],
      };
    },
    strong,
  );
  b.rule(
    'DriverInvalidateZap',
    { i: Inv },
    ({ i }) => ({ guard: and(eq(inv.at(i).f('pc'), 'zap'), not(umr.f('busy'))), body: zapBody(m, callerOf(i)) }),
    strong,
  );
  b.rule(
    'DriverInvalidateUnmap',
    { i: Inv },
    ({ i }) => ({
      guard: v('zap-without-drain') ? eq(inv.at(i).f('pc'), 'wait') : and(eq(inv.at(i).f('pc'), 'wait'), not(umr.f('busy'))),
      body: unmapBody(m, callerOf(i)),
    }),
    fair,
  );
  // Unlock and return: true (then the next interval's callback, or the PTE change), or false on the
  // -EAGAIN path (B4: without releasing U).
  b.rule(
    'DriverInvalidateUnlock',
    { i: Inv },
    ({ i }) => {
      const me = inv.at(i);
      const last = eq(ord(me.f('iv')), ord(intervalOf(me.f('hi'))));
      return {
        guard: andIf(or(eq(me.f('pc'), 'unlock'), eq(me.f('pc'), 'eagain')), subsFree ? or(ne(me.f('pc'), 'eagain'), subsFree) : null),
        body: [
          when(
            eq(me.f('pc'), 'eagain'),
            [...(v('missed-unlock-nonblocking') ? [] : [assign(ulock, 'free')]), ...eagain(i)],
            [
              assign(ulock, 'free'),
              when(
                last,
                [assign(me.f('blockable'), false), reset(me.f('iv')), assign(me.f('pc'), 'pte')],
                [assign(me.f('iv'), nextInterval(me.f('iv'))), assign(me.f('pc'), 'lock')],
              ),
            ],
          ),
        ],
      };
    },
    fair,
  );
}

// ================================================================================================
// CPU user: a write fault on an empty PTE allocates any free frame (freed frames are reused); a
// write fault on a read-only PTE of a writable VMA upgrades it in place (wp_page_reuse,
// ptep_set_access_flags): no invalidate_range_start/end, as in the kernel.

function cpuSteps(m: Decl): void {
  const { b, Page, Frame, pte, frameFree, FrameOpt, live } = m;
  b.rule('CpuTouchPage', { p: Page, f: Frame }, ({ p, f }) => ({
    guard: and(live, isNone(pte.at(p).f('frame')), frameFree(f)),
    body: [assign(pte.at(p).f('frame'), some(f, FrameOpt)), assign(pte.at(p).f('write'), true)],
  }));
  b.rule('CpuUpgradePte', { p: Page }, ({ p }) => ({
    guard: and(live, isSome(pte.at(p).f('frame')), not(pte.at(p).f('write'))),
    body: [assign(pte.at(p).f('write'), true)],
  }));
}

// ================================================================================================
// Device: issue an access, translate it through the TLB (filled from the table, permissions
// included), complete it later; a missing or read-only translation faults to the driver. The UMR
// queue: the device executes and completes the posted request.

function deviceSteps(m: Decl): void {
  const { b, Slot, Page, acc, tlb, dev, shadow, umr, A, copy, inflightOn, v } = m;
  // With lifecycle=1 the device uses the MR only while it is registered (its mkey valid).
  const issue = (name: string, op: 'read' | 'write' | 'atomic') =>
    b.rule(name, { d: Slot, p: Page }, ({ d, p }) => ({
      guard: andIf(eq(acc.at(d).f('state'), 'idle'), m.usable),
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
  // A fault the driver failed completes with an error (error CQE); the slot is reused.
  b.rule(
    'DevReportError',
    { d: Slot },
    ({ d }) => ({
      guard: eq(acc.at(d).f('state'), 'failed'),
      body: [reset(acc.at(d))],
    }),
    fair,
  );
  // The UMR: an update writes the DMA-mapped entries into the table and invalidates the TLB entries
  // it writes (B15: not when the frame stays); a zap or downgrade completes only once the accesses it
  // revokes (all of them, or the writes) have drained: its completion is the fence.
  const inUmr = (q: Expr) => umr.f('pages').at(q);
  const drained = forall(Page, (q) =>
    implies(
      inUmr(q),
      not(or(and(eq(umr.f('kind'), 'zap'), inflightOn(q, false)), m.downgrade ? and(eq(umr.f('kind'), 'downgrade'), inflightOn(q, true)) : false)),
    ),
  );
  b.rule(
    'DevUmrComplete',
    {},
    () => ({
      guard: and(umr.f('busy'), drained),
      body: [
        forEach(Page, (q) =>
          when(inUmr(q), [
            when(
              eq(umr.f('kind'), 'update'),
              [
                v('no-secondary-tlb-flush')
                  ? when(not(and(isSome(dev.at(q).f('frame')), eq(dev.at(q).f('frame'), shadow.at(q).f('frame')))), reset(tlb.at(q)))
                  : reset(tlb.at(q)),
                ...copy(dev.at(q), shadow.at(q)),
              ],
              [reset(tlb.at(q)), m.downgrade ? when(eq(umr.f('kind'), 'downgrade'), assign(dev.at(q).f('write'), false), reset(dev.at(q))) : reset(dev.at(q))],
            ),
          ]),
        ),
        reset(umr),
      ],
    }),
    strong,
  );
}

function implies(a: Operand, b: Operand): Expr {
  return or(not(a), b);
}

// ================================================================================================
// The driver's work items: the fault handler (handler 0) and the prefetch work (handler 1), each the
// collision-retry loop.

function handlerSteps(m: Decl): void {
  const { b, v, Handler, Slot, Page, Frame, Interval, acc, fh, snap, shadow, pte, ulock, umr, ivSeq, mmSeq, active, mmLive, A, R, H, FrameOpt } = m;
  const { intervalOf, handlerHolder, frameFree, copy, canonSeq } = m;
  const isFault = (h: Expr) => (H > 1 ? eq(h, 0) : lit(true));
  const fa = (h: Expr) => acc.at(fh.at(h).f('slot'));
  const wantWrite = (h: Expr) => and(isFault(h), ne(fa(h).f('op'), 'read'));
  const isAtomic = (h: Expr) => (A > 0 ? and(isFault(h), eq(fa(h).f('op'), 'atomic')) : lit(false));
  const dropSnap = (h: Expr) => forEach(Page, (q) => reset(snap.at(h).at(q)));
  const idleFh = (h: Expr): Stmt[] => [reset(fh.at(h)), assign(fh.at(h).f('s'), 0)];
  const pc = (h: Expr) => fh.at(h).f('pc');
  const inInterval = (h: Expr, q: Expr) => eq(intervalOf(q), fh.at(h).f('iv'));
  const walked = (h: Expr, q: Expr) => isSome(snap.at(h).at(q).f('frame'));
  const noneWalked = (h: Expr) => forall(Page, (q) => not(walked(h, q)));
  const lockEarly = v('lock-across-read-begin');
  // check_retry / read_retry: has a callback on the handler's interval run set_seq since read_begin?
  // (valid-flag: is the range marked invalid, i.e. is any invalidation open?)
  // (legacy: ib_umem_mmu_notifier_retry: an invalidation is open, or one ended since the snapshot.)
  const { lcount, lseq } = m;
  const collided = (h: Expr) =>
    lcount && lseq ? or(ne(lcount, 0), ne(lseq, fh.at(h).f('s'))) : v('valid-flag') ? ne(active, 0) : ne(ivSeq.at(fh.at(h).f('iv')), fh.at(h).f('s'));
  // The fault fails (resume with an error) or the prefetch gives up; the lock-across-read-begin
  // handler still holds U then.
  const giveUp = (h: Expr): Stmt[] => [
    ...(lockEarly ? [when(eq(ulock, handlerHolder(h)), assign(ulock, 'free'))] : []),
    dropSnap(h),
    when(isFault(h), [assign(pc(h), 'fail'), assign(fh.at(h).f('tries'), 0), assign(fh.at(h).f('s'), 0), ...canonSeq()], idleFh(h)),
  ];
  const restart = (h: Expr, keepSeq: boolean): Stmt[] => [
    assign(pc(h), keepSeq ? 'check' : 'begin'),
    ...(keepSeq ? [] : [assign(fh.at(h).f('s'), 0)]),
    dropSnap(h),
  ];
  const retryEdge = (h: Expr, keepSeq: boolean): Stmt[] => [
    when(eq(fh.at(h).f('tries'), R), giveUp(h), [assign(fh.at(h).f('tries'), add(fh.at(h).f('tries'), 1)), ...restart(h, keepSeq)]),
  ];
  const startWork = (h: Expr, iv: Operand): Stmt[] => [assign(fh.at(h).f('iv'), iv), assign(pc(h), mmLive ? 'mmget' : lockEarly ? 'lockEarly' : 'begin')];

  b.rule(
    'DriverTakeFault',
    { d: Slot },
    ({ d }) => ({
      guard: and(eq(pc(lit(0, Handler)), 'idle'), eq(acc.at(d).f('state'), 'faulted')),
      body: [assign(fh.at(0).f('slot'), d), ...startWork(lit(0, Handler), intervalOf(acc.at(d).f('page')))],
    }),
    fair,
  );
  if (H > 1) {
    // ibv_advise_mr(PREFETCH) on interval v: the work item maps it as a read fault would.
    b.rule('AppPrefetch', { v: Interval }, ({ v: iv }) => ({
      guard: andIf(and(eq(pc(lit(1, Handler)), 'idle'), m.live), m.usable),
      body: startWork(lit(1, Handler), iv),
    }));
  }
  if (mmLive) {
    // mmget_not_zero at the start of ib_umem_odp_map_dma_and_lock: the work item holds the mm until
    // its read_retry succeeds (or it gives up); a dead mm fails the fault (resume with an error).
    b.rule(
      'DriverMmget',
      { h: Handler },
      ({ h }) => ({
        guard: eq(pc(h), 'mmget'),
        body: [when(eq(mmLive, true), assign(pc(h), lockEarly ? 'lockEarly' : 'begin'), giveUp(h))],
      }),
      fair,
    );
  }
  if (lockEarly) {
    b.rule(
      'DriverLockEarly',
      { h: Handler },
      ({ h }) => ({
        guard: and(eq(pc(h), 'lockEarly'), eq(ulock, 'free')),
        body: [assign(ulock, handlerHolder(h)), assign(pc(h), 'begin')],
      }),
      strong,
    );
  }
  // F1 mmu_interval_read_begin. It reads its
  // interval's seq and notes whether a region whose callback has already run is open (interval seq
  // == odd mm seq); if so it sleeps until the mm seq changes, then returns the value it read, which
  // may already be stale. valid-flag: hmm_range_wait_until_valid sleeps while any region is open.
  const afterBegin = (h: Expr): Stmt[] =>
    A > 0 ? [when(and(isAtomic(h), noneWalked(h)), assign(pc(h), 'exclStart'), assign(pc(h), 'check'))] : [assign(pc(h), 'check')];
  b.rule(
    'DriverReadBegin',
    { h: Handler },
    ({ h }) => {
      const iv = ivSeq.at(fh.at(h).f('iv'));
      // legacy (v4.x mlx5 fault path): wait for notifier_completion while the umem's count is
      // non-zero, then snapshot notifiers_seq (a snapshot taken while it is non-zero always fails
      // its retry check, so the attempt the kernel makes first is left out).
      const begin: Stmt[] =
        lcount && lseq
          ? [when(ne(lcount, 0), assign(pc(h), 'sleep'), [assign(fh.at(h).f('s'), lseq), ...canonSeq(), ...afterBegin(h)])]
          : v('valid-flag')
            ? [when(eq(active, 0), afterBegin(h), assign(pc(h), 'sleep'))]
            : [when(eq(iv, mmSeq), assign(pc(h), 'sleep'), afterBegin(h)), assign(fh.at(h).f('s'), iv), ...canonSeq()];
      return { guard: andIf(eq(pc(h), 'begin'), m.subsFree), body: begin };
    },
    fair,
  );
  // Woken by the final inv_end (wake_up_all): the mm seq differs from the value read.
  b.rule(
    'DriverReadBeginWake',
    { h: Handler },
    ({ h }) =>
      lcount && lseq
        ? { guard: and(eq(pc(h), 'sleep'), eq(lcount, 0)), body: [assign(fh.at(h).f('s'), lseq), ...canonSeq(), ...afterBegin(h)] }
        : {
            guard: and(eq(pc(h), 'sleep'), v('valid-flag') ? eq(active, 0) : ne(mmSeq, fh.at(h).f('s'))),
            body: afterBegin(h),
          },
    fair,
  );
  // hmm_range_fault's loop head: check_retry, -EBUSY back to F1 (retry-stale-seq: back to the walk
  // with the same seq).
  b.rule(
    'DriverCheckRetry',
    { h: Handler },
    ({ h }) => ({
      guard: eq(pc(h), 'check'),
      body: [when(collided(h), retryEdge(h, v('retry-stale-seq')), assign(pc(h), 'walk'))],
    }),
    fair,
  );
  // The walk reads one PTE at a time (one chunk per page of the handler's interval); PTEs change
  // between reads.
  const atK = (h: Expr, q: Expr) =>
    and(
      eq(pc(h), 'walk'),
      inInterval(h, q),
      not(walked(h, q)),
      forall(Page, (r) => implies(and(inInterval(h, r), lt(ord(r), ord(q))), walked(h, r))),
    );
  // q is the last page of the walk: every other page of the interval is walked.
  const lastOfWalk = (h: Expr, q: Expr) => forall(Page, (r) => implies(and(inInterval(h, r), ne(r, q)), walked(h, r)));
  b.rule(
    'DriverWalkSnapshot',
    { h: Handler, q: Page },
    ({ h, q }) => ({
      guard: and(atK(h, q), isSome(pte.at(q).f('frame')), or(not(wantWrite(h)), pte.at(q).f('write'))),
      body: [
        ...copy(snap.at(h).at(q), pte.at(q)),
        when(lastOfWalk(h, q), assign(pc(h), lockEarly ? 'retry' : 'lock'), v('seq-per-chunk') ? [assign(pc(h), 'begin')] : []),
      ],
    }),
    fair,
  );
  // PTE none: handle_mm_fault allocates a frame (read-only for a read fault, as for a shared file
  // mapping with write notification), then the walk restarts from this page (-EBUSY inside
  // hmm_range_fault, which loops back to check_retry).
  b.rule(
    'DriverWalkFaultIn',
    { h: Handler, q: Page, f: Frame },
    ({ h, q, f }) => ({
      guard: and(atK(h, q), isNone(pte.at(q).f('frame')), frameFree(f)),
      body: [assign(pte.at(q).f('frame'), some(f, FrameOpt)), assign(pte.at(q).f('write'), wantWrite(h)), assign(pc(h), 'check')],
    }),
    fair,
  );
  // Write requested on a read-only PTE: handle_mm_fault(FAULT_FLAG_WRITE) reuses the page and
  // upgrades the PTE in place (no notifier), then the walk restarts from this page.
  b.rule(
    'DriverWalkUpgrade',
    { h: Handler, q: Page },
    ({ h, q }) => ({
      guard: and(atK(h, q), isSome(pte.at(q).f('frame')), not(pte.at(q).f('write')), wantWrite(h)),
      body: [assign(pte.at(q).f('write'), true), assign(pc(h), 'check')],
    }),
    fair,
  );
  // Past read_retry the sequence, the walk position and the retry count are no longer needed.
  const toMap = (h: Expr): Stmt[] => [assign(pc(h), 'map'), assign(fh.at(h).f('s'), 0), assign(fh.at(h).f('tries'), 0), ...canonSeq()];
  // F4: mutex_lock(U) (no-read-retry: then straight to the DMA map).
  b.rule(
    'DriverLock',
    { h: Handler },
    ({ h }) => ({
      guard: and(eq(pc(h), 'lock'), eq(ulock, 'free')),
      body: [assign(ulock, handlerHolder(h)), ...(v('no-read-retry') ? toMap(h) : [assign(pc(h), 'retry')])],
    }),
    strong,
  );
  // F5 under U: read_retry; on a collision unlock (a step of its own) and go back to F1.
  if (!v('no-read-retry'))
    b.rule(
      'DriverReadRetry',
      { h: Handler },
      ({ h }) => ({
        guard: eq(pc(h), 'retry'),
        body: [when(collided(h), lockEarly ? retryEdge(h, false) : [assign(pc(h), 'unlock')], toMap(h))],
      }),
      fair,
    );
  // F6 under U: DMA-map the snapshot (hmm_dma_map_pfn: the pfn list is the shadow of the table). A
  // page mapped writable by the other work item and now mapped from a read-only snapshot (a PTE
  // upgrade in between calls no notifier, so both snapshots are current) loses its write
  // permission: the page is dirtied first, as an unmap would.
  const keepsWrite = (h: Expr, q: Expr) => and(eq(snap.at(h).at(q).f('frame'), shadow.at(q).f('frame')), snap.at(h).at(q).f('write'));
  b.rule(
    'DriverDmaMap',
    { h: Handler },
    ({ h }) => ({
      guard: eq(pc(h), 'map'),
      body: [
        // A writable mapping the new one drops is dirtied first, by frame (each iteration its own flag).
        ...(v('no-set-page-dirty')
          ? []
          : [
              forEach(Frame, (f) =>
                when(
                  exists(Page, (q) => and(inInterval(h, q), eq(shadow.at(q).f('frame'), some(f, FrameOpt)), shadow.at(q).f('write'), not(keepsWrite(h, q)))),
                  assign(m.dirty.at(f), true),
                ),
              ),
            ]),
        forEach(Page, (q) => when(inInterval(h, q), copy(shadow.at(q), snap.at(h).at(q)))),
        dropSnap(h),
        assign(pc(h), 'post'),
      ],
    }),
    fair,
  );
  // F7 under U: post the UMR that writes the interval's table entries (mlx5r_umr_update_xlt).
  b.rule(
    'DriverUmrPost',
    { h: Handler },
    ({ h }) => ({
      guard: and(eq(pc(h), 'post'), not(umr.f('busy'))),
      body: [
        assign(umr.f('busy'), true),
        assign(umr.f('kind'), 'update'),
        forEach(Page, (q) => assign(umr.f('pages').at(q), inInterval(h, q))),
        assign(pc(h), 'wait'),
      ],
    }),
    strong,
  );
  // Unlock U: after a collision (then back to F1), or woken by the UMR's completion (then resume).
  b.rule(
    'DriverUnlock',
    { h: Handler },
    ({ h }) => ({
      guard: or(eq(pc(h), 'unlock'), and(eq(pc(h), 'wait'), not(umr.f('busy')))),
      body: [assign(ulock, 'free'), when(eq(pc(h), 'unlock'), retryEdge(h, false), [when(isFault(h), [assign(pc(h), 'resume')], idleFh(h))])],
    }),
    fair,
  );
  // PAGE_FAULT_RESUME: the access translates again, or fails (resume with an error).
  b.rule(
    'DriverResume',
    {},
    () => {
      const h = lit(0, Handler);
      return {
        guard: or(eq(pc(h), 'resume'), eq(pc(h), 'fail')),
        body: [
          assign(
            fa(h).f('state'),
            ite(eq(pc(h), 'resume'), lit('pending', fa(h).f('state').type as EnumType), lit('failed', fa(h).f('state').type as EnumType)),
          ),
          ...idleFh(h),
        ],
      };
    },
    fair,
  );
}

// ================================================================================================
// make_device_exclusive(owner = this driver) for an atomic fault: an MMU_NOTIFY_EXCLUSIVE region
// raised by the fault handler itself, between read_begin and read_retry (nouveau_atomic_range_fault).
// The PTE change to a device-exclusive entry is abstracted: the page stays mapped to its frame.

function exclusiveSteps(m: Decl): void {
  const { b, A, v, fh, acc, startRegion, endRegion, intervalOf, Handler, ulock } = m;
  if (A === 0) return;
  const h = lit(0, Handler);
  const me = fh.at(h);
  const fpage = acc.at(me.f('slot')).f('page');
  b.rule(
    'DriverExclusiveStart',
    {},
    () => ({
      guard: andIf(eq(me.f('pc'), 'exclStart'), m.subsFree),
      body: [...startRegion(m.inTree ?? true), assign(me.f('pc'), 'exclCallback')],
    }),
    fair,
  );
  if (!v('no-owner-filter')) {
    // range->event == MMU_NOTIFY_EXCLUSIVE && range->owner == self: return true at once.
    b.rule('DriverExclusiveInvalidate', {}, () => ({ guard: eq(me.f('pc'), 'exclCallback'), body: [assign(me.f('pc'), 'exclEnd')] }), fair);
  } else {
    // Unfiltered: the callback runs as for any event, in the handler's thread (lock and set_seq,
    // zap, unmap, unlock).
    const c: Caller = {
      pc: me.f('pc'),
      stages: { lock: 'exclCallback', zap: 'exclZap', wait: 'exclWait', unlock: 'exclUnlock' },
      covers: (q) => eq(q, fpage),
      iv: intervalOf(fpage),
      holder: lit('fault', m.Holder),
      downgrade: lit(false),
    };
    b.rule(
      'DriverExclusiveInvalidate',
      {},
      () => ({ guard: and(eq(me.f('pc'), 'exclCallback'), eq(ulock, 'free')), body: lockedBody(m, c, mappedFor(m, c)) }),
      strong,
    );
    b.rule('DriverExclusiveZap', {}, () => ({ guard: and(eq(me.f('pc'), 'exclZap'), not(m.umr.f('busy'))), body: zapBody(m, c) }), strong);
    b.rule('DriverExclusiveUnmap', {}, () => ({ guard: and(eq(me.f('pc'), 'exclWait'), not(m.umr.f('busy'))), body: unmapBody(m, c) }), fair);
    b.rule('DriverExclusiveUnlock', {}, () => ({ guard: eq(me.f('pc'), 'exclUnlock'), body: [assign(ulock, 'free'), assign(me.f('pc'), 'exclEnd')] }), fair);
  }
  b.rule(
    'DriverExclusiveEnd',
    {},
    () => ({
      guard: andIf(eq(me.f('pc'), 'exclEnd'), m.subsFree),
      body: [...endRegion(), assign(me.f('pc'), 'check')],
    }),
    fair,
  );
}

// ================================================================================================
// lifecycle=1: the MR's registration and deregistration, as the application and the driver run them
// (ib_reg_mr / ib_dereg_mr on an ODP MR), and the notifier core's insert and remove. One interval's
// life: absent, inserted (at once, or deferred while the tree is fully excluded), used, revoked,
// removed (at once, or by the final end's deferred list while remove waits), freed.

function lifecycleSteps(m: Decl): void {
  const { b, mr, ivNode, rmSeq, mmSeq, active, ivSeq, odd, canonSeq, subsFree } = m;
  if (!mr || !ivNode || !rmSeq) return;
  // mmu_interval_notifier_insert (from ib_umem_odp_get), under the subscriptions lock: idle, the
  // interval enters the tree with seq - 1 (no collision to see); partially excluded (a region open
  // whose range is unknown), seq |= 1 and the interval enters the tree with it; fully excluded, the
  // insert is deferred and the interval gets the odd seq, so read_begin sleeps until the final end.
  b.rule('MrRegister', {}, () => ({
    guard: andIf(eq(mr, 'absent'), subsFree),
    body: [
      when(
        eq(active, 0),
        [assign(ivSeq.at(0), sub(mmSeq, 1)), assign(ivNode, 'tree')],
        when(
          not(odd(mmSeq)),
          [assign(mmSeq, add(mmSeq, 1)), assign(ivSeq.at(0), mmSeq), assign(ivNode, 'tree')],
          [assign(ivSeq.at(0), mmSeq), assign(ivNode, 'deferIns')],
        ),
      ),
      assign(mr, 'usable'),
      ...canonSeq(),
    ],
  }));
  // MR deregistration up to the umem's release (mlx5_ib_dereg_mr, section 4.6 of the digest): the
  // mkey is no longer found once no fault, prefetch or UMR uses it and no access is outstanding; it
  // is revoked (device table and TLB cleared) and, under U, every page is DMA-unmapped, dirtying
  // those mapped writable (ib_umem_odp_unmap_dma_pages). One step: U is held and nothing else can
  // use the MR.
  const { fh, acc, ulock, umr, shadow, dev, tlb, dirty, Page, Frame, Handler, Slot, FrameOpt } = m;
  b.rule('MrDeregister', {}, () => ({
    guard: and(
      eq(mr, 'usable'),
      eq(ulock, 'free'),
      not(umr.f('busy')),
      forall(Handler, (h) => eq(fh.at(h).f('pc'), 'idle')),
      forall(Slot, (d) => eq(acc.at(d).f('state'), 'idle')),
    ),
    body: [
      ...(m.v('no-set-page-dirty')
        ? []
        : [
            forEach(Frame, (f) =>
              when(
                exists(Page, (q) => and(eq(shadow.at(q).f('frame'), some(f, FrameOpt)), shadow.at(q).f('write'))),
                assign(dirty.at(f), true),
              ),
            ),
          ]),
      forEach(Page, (q) => [reset(shadow.at(q)), reset(dev.at(q)), reset(tlb.at(q))]),
      assign(mr, 'revoked'),
    ],
  }));
  // mmu_interval_notifier_remove (from ib_umem_odp_release), under the subscriptions lock: fully
  // excluded, a still-deferred insert is cancelled (remove returns at once) or the removal is
  // deferred and remove reads the seq to wait on; otherwise the interval leaves the tree at once.
  // Returning, remove lets the caller free the umem (kfree in ib_umem_odp_release): one step.
  b.rule('MrRemove', {}, () => ({
    guard: andIf(eq(mr, 'revoked'), subsFree),
    body: [
      when(
        odd(mmSeq),
        when(eq(ivNode, 'deferIns'), [assign(ivNode, 'none'), assign(mr, 'freed')], [assign(ivNode, 'deferRem'), assign(rmSeq, mmSeq), assign(mr, 'removing')]),
        [assign(ivNode, 'none'), assign(mr, 'freed')],
      ),
      ...canonSeq(),
    ],
  }));
  // The remover wakes once the seq differs from the one it read: under the lock (319561669a59), so
  // not before the final end has walked the deferred list; B2 (remove-unlocked-seq) reads it
  // without the lock. Then remove returns and the umem is freed.
  b.rule(
    'MrRemoveWake',
    {},
    () => ({
      guard: andIf(and(eq(mr, 'removing'), ne(mmSeq, rmSeq)), m.v('remove-unlocked-seq') ? null : subsFree),
      body: [assign(mr, 'freed'), assign(rmSeq, 1)],
    }),
    fair,
  );
  // A run may stop once the umem is freed and every invalidation and work item is done: the device
  // has nothing left to use (a state with no successor is then not a deadlock).
  b.endState(() =>
    and(
      eq(mr, 'freed'),
      forall(m.Inv, (i) => eq(m.inv.at(i).f('pc'), 'idle')),
      forall(Handler, (h) => eq(fh.at(h).f('pc'), 'idle')),
    ),
  );
}
