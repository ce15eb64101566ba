/**
 * The `odp-mr` protocol: the life of an ODP memory region on an mlx5-like HCA. Why this module
 * exists: `odp-mirror` checks the collision-retry pattern of one mirror; this checks what the mlx5
 * driver builds around it, the part its real bugs were in (digest 4.1-4.7, B9, B10): explicit and
 * implicit MRs, implicit children created by faults and linked into the parent's KSM, UMR posts that
 * the device applies, invalidation that zaps, unmaps and frees empty children through deferred
 * work, prefetch work, and MR destruction. spec/odp-mr.md tells the story and numbers the
 * requirements (MR-Rn) that properties/odpMr.ts checks.
 *
 * Actors and what they model (kernel functions in brackets):
 * - the device: accesses translated through the MR's mkey (an MTT MR, or the implicit parent's KSM
 *   and a child's MTT), in flight until they complete; a missing entry raises a page fault, a
 *   revoked mkey an error completion; UMR completions (a zap or revoke completes once the accesses
 *   that used the old translation have drained) [mlx5r_umr_post_send_wait];
 * - the fault handler and the prefetch work: find the mkey and take a usecount [find_odp_mkey,
 *   get_prefetchable_mr], find or create the child [implicit_get_child_mr], read_begin, the page
 *   walk, then under umem_mutex read_retry, DMA map and the MTT UMR [pagefault_real_mr,
 *   ib_umem_odp_map_dma_and_lock], then the parent's KSM UMR under the parent's umem_mutex
 *   [pagefault_implicit_mr];
 * - invalidators (madvise): start, the callback on every interval covering the page
 *   [mlx5_ib_invalidate_range: set_seq, ZAP UMR, ib_umem_odp_unmap_dma_pages,
 *   destroy_unused_implicit_child_mr], the PTE change, end [mm/mmu_notifier.c];
 * - the deferred child free [free_implicit_child_mr_work]: wait for the child's users, point the
 *   KSM entry away under the parent's umem_mutex, destroy the child;
 * - MR destruction [__mlx5_ib_dereg_mr]: stop new users (erase from odp_mkeys), wait for the
 *   usecount, revoke the mkey under umem_mutex and clear private [mlx5r_handle_mkey_cleanup],
 *   release the umem (DMA unmap, remove the notifier) [ib_umem_odp_release], and for an implicit MR
 *   destroy the children [mlx5_ib_free_odp_mr].
 *
 * Each bug variant is one knob on one step; the variant list cites the kernel bug it reproduces.
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
  count,
  defineProtocol,
  enumOf,
  enumParam,
  eq,
  exists,
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
export const MR_VARIANTS = [
  'prefetch-before-fence',
  'umr-on-revoked-mkey',
  'revoked-skips-unmap',
  'ksm-update-unlocked',
  'child-release-before-ksm-update',
] as const;
export type MrVariant = (typeof MR_VARIANTS)[number];

/** The size with over a million reachable states (its own test file). */
export const MR_LARGE_PARAMS: Readonly<Record<string, number>> = { invalidations: 2 };

/** Handles the property set reads. */
export interface OdpMrHandles {
  readonly Page: IndexType;
  readonly Frame: IndexType;
  readonly Mr: IndexType;
  readonly Chunk: IndexType;
  readonly Worker: IndexType;
  readonly Inv: IndexType;
  readonly Slot: IndexType;
  readonly implicit: boolean;
  readonly pte: Ref;
  readonly mr: Ref;
  readonly shadow: Ref;
  readonly mtt: Ref;
  readonly acc: Ref;
  readonly wk: Ref;
  readonly inv: Ref;
  readonly dereg: Ref;
  readonly umrErr: Ref;
  readonly active: Ref;
  readonly mmOdd: Ref;
  /** Implicit MRs only (null for an explicit MR). */
  readonly xa: Ref | null;
  readonly ksm: Ref | null;
  readonly fw: Ref | null;
  readonly pMkey: Ref | null;
  /** The chunk (child range) page `p` belongs to. */
  readonly chunkOf: (p: Operand) => Expr;
  /** Whether MR object `m` covers page `p` (explicit: every page; a child: its chunk). */
  readonly covers: (m: Operand, p: Operand) => Expr;
  /** Number of pages MR object `m` has DMA mapped (umem_odp->npages). */
  readonly npages: (m: Operand) => Expr;
  /** The umem_mutex holder value of invalidator `i`. */
  readonly holderOf: (i: Expr) => Expr;
  /** The top MR can still be found by new users (it is in odp_mkeys). */
  readonly findable: Expr;
  /** The top MR's usecount is zero (erased from odp_mkeys and no holder left). */
  readonly topUnused: Expr;
  /** Usecount holders of MR object `m` other than the children xarray. */
  readonly mrHolders: (m: Operand) => Expr;
  /** Destruction of the top MR has passed the usecount wait (its revoke has begun, or it is done). */
  readonly destroying: Expr;
  /**
   * Implicit: some thread has changed implicit_children for chunk `k` and not yet finished the
   * locked KSM update that must follow (a fault that created a child, a child free that unlinked
   * one): the KSM may differ from implicit_children only then.
   */
  readonly ksmOwed: (k: Operand) => Expr;
  readonly params: { readonly workers: number; readonly invalidators: number; readonly prefetch: number };
}

const needsImplicit = (p: ParamValues) => (p.kind === 'implicit' ? null : 'it concerns the implicit parent KSM: use --param kind=implicit');

export const odpMr = defineProtocol<OdpMrHandles>({
  name: 'odp-mr',
  actors: {
    participants: {
      User: 'the application: ibv_advise_mr, deregistration',
      MM: 'the kernel memory manager (madvise, PTE changes, the notifier)',
      Driver: 'the mlx5-like driver: faults, prefetch work, invalidation, KSM and UMR updates, MR destruction',
      HCA: 'the adapter: its translation tables (MTT, KSM), UMR completions and DMA',
    },
    rules: {
      DevIssueAccess: 'HCA',
      DevRetryAccess: 'HCA',
      DevCompleteAccess: 'HCA',
      DevReportError: ['HCA', 'User'],
      DriverTakeFault: ['HCA', 'Driver'],
      UserAdviseMr: ['User', 'Driver'],
      DriverPrefetchWork: 'Driver',
      DriverGetChild: 'Driver',
      DriverReadBegin: ['Driver', 'MM'],
      DriverWalk: ['Driver', 'MM'],
      DriverWalkFaultIn: ['Driver', 'MM'],
      DriverCommit: ['Driver', 'HCA'],
      DriverKsmUpdate: ['Driver', 'HCA'],
      DriverKsmBuild: 'Driver',
      DriverKsmPost: ['Driver', 'HCA'],
      DriverChildKsmBuild: 'Driver',
      DriverChildKsmPost: ['Driver', 'HCA'],
      MmMadviseStart: ['MM', 'Driver'],
      DriverInvalidateBegin: ['Driver', 'HCA'],
      DevCompleteZap: ['HCA', 'Driver'],
      DriverInvalidateFinish: ['Driver', 'MM'],
      MmUpdatePte: 'MM',
      MmInvalidateEnd: ['MM', 'Driver'],
      DriverRevokeMkey: ['Driver', 'HCA'],
      DevCompleteRevoke: ['HCA', 'Driver'],
      DriverRevokeDone: 'Driver',
      DriverReleaseUmem: 'Driver',
      DriverRemoveNotifier: ['Driver', 'MM'],
      UserDeregMr: ['User', 'Driver'],
      DriverDeregWait: 'Driver',
      DriverRevokeParent: ['Driver', 'HCA'],
      DevCompleteParentRevoke: ['HCA', 'Driver'],
      DriverFreeChild: 'Driver',
      DriverFreeChildDone: 'Driver',
      DriverDeregDone: ['Driver', 'User'],
      DriverChildFreeWait: 'Driver',
      DriverChildKsmUpdate: ['Driver', 'HCA'],
      DriverChildFreeDone: 'Driver',
      DriverDeregErase: 'Driver',
    },
  },
  summary: 'the ODP memory-region lifecycle on an mlx5-like HCA: faults, implicit children and the KSM, UMR posts, invalidation, prefetch, destruction',
  spec: 'spec/odp-mr.md',
  params: {
    kind: enumParam(
      'implicit',
      ['explicit', 'implicit'],
      'explicit: one MTT MR over all pages; implicit: a KSM parent whose children (one per chunk) are created by faults',
    ),
    pages: intParam(2, 1, 3, 'virtual pages the MR covers'),
    chunkPages: intParam(2, 1, 2, 'pages per child of an implicit MR (MLX5_IMR_MTT_SIZE, scaled down); must divide pages; ignored for kind=explicit'),
    children: intParam(2, 1, 3, 'child MR objects of an implicit MR (a child being freed and its replacement can exist at once); ignored for kind=explicit'),
    frames: intParam(2, 1, 4, 'physical frames (a spare frame lets a freed frame be reused elsewhere)'),
    invalidators: intParam(1, 1, 2, 'concurrent invalidating threads'),
    invalidations: intParam(1, 0, 3, 'invalidations (madvise) started in a run'),
    prefetch: intParam(1, 0, 1, 'ibv_advise_mr prefetch requests in a run (1 adds the prefetch work)'),
    dereg: intParam(1, 0, 1, '1: the user may deregister the MR during the run'),
  },
  validate: (p) => {
    if (p.kind === 'implicit' && (p.pages as number) % (p.chunkPages as number) !== 0) return `chunkPages (${p.chunkPages}) must divide pages (${p.pages})`;
    if (p.kind === 'implicit' && (p.children as number) < (p.pages as number) / (p.chunkPages as number)) {
      return `children (${p.children}) must be at least the number of chunks (${(p.pages as number) / (p.chunkPages as number)}): a fault would wait forever for a child object`;
    }
    if ((p.frames as number) < (p.pages as number)) return `frames (${p.frames}) must be at least pages (${p.pages})`;
    return null;
  },
  variants: [
    {
      name: 'prefetch-before-fence',
      summary:
        'destruction waits for the usecount to drop before it removes the mkey from odp_mkeys: a prefetch takes a reference in between and its work runs on a destroyed MR',
      cites:
        'B9: aa116b810ac9 "RDMA/mlx5: Order num_pending_prefetch properly with synchronize_srcu" (the holders were counted before new holders were fenced)',
      appliesTo: (p) => ((p.prefetch as number) >= 1 && (p.dereg as number) >= 1 ? null : 'needs prefetch=1 and dereg=1'),
    },
    {
      name: 'umr-on-revoked-mkey',
      summary:
        'the mkey is revoked without umem_mutex and private is never cleared: a concurrent invalidation posts a ZAP UMR on the revoked mkey and the UMR QP goes to error',
      cites: 'B10: abb604a1a9c8 "RDMA/mlx5: Fix a race for an ODP MR which leads to CQE with error" (Fixes e6fb246ccafb)',
      appliesTo: (p) => ((p.dereg as number) >= 1 && (p.invalidations as number) >= 1 ? null : 'needs dereg=1 and invalidations >= 1'),
    },
    {
      name: 'revoked-skips-unmap',
      summary:
        'as in mainline since the B10 fix: an invalidation that finds private NULL returns without DMA-unmapping; the page is freed while still DMA mapped, and the umem release later unmaps (and dirties) the freed page',
      cites:
        'mlx5_ib_invalidate_range "if (!mr) goto out" added by abb604a1a9c8, with ib_umem_odp_release unmapping after mlx5r_handle_mkey_cleanup (drivers/infiniband/hw/mlx5/mr.c __mlx5_ib_dereg_mr); found by this model and confirmed by reading torvalds/linux (odp.c at eedd5b1276e7, mr.c at 24d693cf6c89, umem_odp.c at 1efe8c0670d6), see spec/odp-mr.md 6.3',
      appliesTo: (p) => ((p.dereg as number) >= 1 && (p.invalidations as number) >= 1 ? null : 'needs dereg=1 and invalidations >= 1'),
    },
    {
      name: 'ksm-update-unlocked',
      summary:
        'the KSM UMR payload is built from implicit_children without the parent umem_mutex and posted later: a stale payload lands after a newer one and the KSM loses a child',
      cites:
        '"RDMA/mlx5: Fix a race with mlx5_ib_update_xlt on an implicit MR" (Jason Gunthorpe, v5.4-rc, Message-ID 20191001153821.23621-3-jgg@ziepe.ca; Fixes 81713d3788d2)',
      appliesTo: needsImplicit,
    },
    {
      name: 'child-release-before-ksm-update',
      summary:
        'the deferred child free destroys the child before pointing the KSM entry away from it: the device translates through a revoked child mkey and the access fails',
      cites:
        'same fix as ksm-update-unlocked: mr_leaf_free_action released the umem before the KSM update; odp.c populate_klm: "any change the xarray must be followed by the locked update_xlt before destroying"',
      appliesTo: needsImplicit,
    },
  ],
  build(b: Builder, cfg: BuildConfig): OdpMrHandles {
    const implicit = cfg.str('kind') === 'implicit';
    const P = cfg.int('pages');
    const CP = implicit ? cfg.int('chunkPages') : P;
    const M = implicit ? cfg.int('children') : 1;
    const I = cfg.int('invalidators');
    const PF = cfg.int('prefetch');
    const W = 1 + PF;
    const v = (name: MrVariant) => cfg.is(name);

    const Page = b.index('Page', P);
    const Frame = b.index('Frame', cfg.int('frames'));
    const Mr = b.index('Mr', M);
    const Chunk = b.index('Chunk', P / CP);
    const Worker = b.index('Worker', W);
    const Inv = b.index('Inv', I);
    const Slot = b.index('Slot', 1);
    const FrameOpt = option(Frame);
    const MrOpt = option(Mr);
    const invNames = Array.from({ length: I }, (_, i) => `inv${i}`);
    const Holder = enumOf('Holder', ['free', 'teardown', ...invNames]);
    const AccState = enumOf('AccState', ['idle', 'inflight', 'faulted', 'pending', 'failed']);
    const WkPc = enumOf('WkPc', [
      'idle',
      ...(PF > 0 ? ['queued'] : []),
      ...(implicit ? ['child'] : []),
      'begin',
      'walk',
      'commit',
      ...(implicit ? ['ksm', ...(v('ksm-update-unlocked') ? ['ksmPost'] : [])] : []),
    ]);
    const InvPc = enumOf('InvPc', ['idle', 'cb', 'zapWait', 'unmap', 'pte', 'end']);
    const TdPc = enumOf('TdPc', ['none', 'revoke', 'revokeWait', 'revokeDone', 'release', 'remove', 'done']);
    const DeregPc = enumOf('DeregPc', [
      'idle',
      ...(v('prefetch-before-fence') ? ['check', 'erase'] : ['wait']),
      ...(implicit ? ['revoke', 'revokeWait', 'children', 'childTd'] : ['teardown']),
      'done',
    ]);
    const FwPc = enumOf('FwPc', ['none', 'wait', 'ksm', ...(v('ksm-update-unlocked') ? ['ksmPost'] : []), 'teardown']);

    // --- CPU mm: page table; frames are free when no PTE maps them ---
    const pte = b.v('pte', arrayOf(Page, FrameOpt));
    const active = b.v('active', range(0, I)); // active_invalidate_ranges
    const mmOdd = b.v('mmOdd', bool); // the mm invalidate_seq is odd: an overlapping region is open
    const invsLeft = b.v('invsLeft', range(0, cfg.int('invalidations')));
    // --- MTT MR objects: the explicit MR, or the implicit MR's children ---
    const mr = b.v(
      'mr',
      arrayOf(
        Mr,
        record({
          used: bool, // allocated (an explicit MR from the start; a child from its creation to its destruction)
          ...(implicit ? { chunk: Chunk } : {}),
          mkey: bool, // the HW mkey is valid (cleared when the revoke UMR is applied)
          priv: bool, // umem_odp->private points at the MR
          notifier: bool, // the interval notifier is in the mm's interval tree
          ivCur: bool, // the interval's invalidate_seq equals the mm's (odd): read_begin sleeps
          lock: Holder, // umem_mutex, when held across a UMR wait
          td: TdPc, // destruction: revoke, release of the umem, notifier removal
        }),
      ),
    );
    const shadow = b.v('shadow', arrayOf(Mr, arrayOf(Page, FrameOpt))); // umem_odp pfn_list, DMA mapped
    const mtt = b.v('mtt', arrayOf(Mr, arrayOf(Page, FrameOpt))); // the device's MTT of the mkey
    // --- Implicit parent: children xarray, the device's KSM, its mkey and umem_mutex ---
    const xa = implicit ? b.v('xa', arrayOf(Chunk, MrOpt)) : null;
    const ksm = implicit ? b.v('ksm', arrayOf(Chunk, MrOpt)) : null;
    const pMkey = implicit ? b.v('pMkey', bool) : null;
    const pLock = implicit ? b.v('pLock', bool) : null;
    const fw = implicit ? b.v('fw', arrayOf(Mr, FwPc)) : null; // free_implicit_child_mr_work per child
    const fwPayload = implicit && v('ksm-update-unlocked') ? b.v('fwPayload', arrayOf(Mr, MrOpt)) : null;
    // --- MR destruction (the user's ibv_dereg_mr) ---
    const dereg = b.v('dereg', DeregPc);
    const derChild = implicit ? b.v('derChild', Mr) : null;
    const deregsLeft = b.v('deregsLeft', range(0, cfg.int('dereg')));
    // --- Device: accesses, and the UMR QP error state ---
    const acc = b.v('acc', arrayOf(Slot, record({ state: AccState, page: Page, frame: Frame, via: Mr })));
    const umrErr = b.v('umrErr', bool);
    // --- Driver workers: 0 = the page-fault work, 1 = the prefetch work ---
    const wk = b.v(
      'wk',
      arrayOf(
        Worker,
        record({
          pc: WkPc,
          page: Page,
          mr: Mr,
          top: bool, // holds a usecount on the top MR (the explicit MR, or the implicit parent)
          ...(implicit ? { ref: bool, newChild: bool, ...(v('ksm-update-unlocked') ? { payload: MrOpt } : {}) } : {}),
          stale: bool, // a callback has called set_seq on the interval since read_begin
          snap: Frame, // hmm_range_fault's result for the page
        }),
      ),
    );
    const prefetchLeft = PF > 0 ? b.v('prefetchLeft', range(0, PF)) : null;
    // --- Invalidating threads ---
    const inv = b.v('inv', arrayOf(Inv, record({ pc: InvPc, page: Page, cur: Mr })));

    b.init('registered', () => [
      ...Array.from({ length: P }, (_, p) => assign(pte.at(p), some(p, FrameOpt))),
      assign(invsLeft, cfg.int('invalidations')),
      assign(deregsLeft, cfg.int('dereg')),
      ...(prefetchLeft ? [assign(prefetchLeft, PF)] : []),
      // mlx5_ib_reg_user_mr / mlx5_ib_alloc_implicit_mr: registered, nothing mapped yet.
      ...(implicit
        ? [assign(pMkey as Ref, true)]
        : [assign(mr.at(0).f('used'), true), assign(mr.at(0).f('mkey'), true), assign(mr.at(0).f('priv'), true), assign(mr.at(0).f('notifier'), true)]),
    ]);

    // --- helpers ---
    const chunkOf = (p: Operand): Expr => {
      const n = P / CP;
      let e: Expr = lit(n - 1, Chunk);
      for (let q = P - 1; q >= 0; q--) if (Math.floor(q / CP) !== n - 1) e = ite(eq(p, lit(q, Page)), lit(Math.floor(q / CP), Chunk), e);
      return e;
    };
    const covers = (m: Operand, p: Operand): Expr => (implicit ? eq(mr.at(m).f('chunk'), chunkOf(p)) : lit(true));
    const npages = (m: Operand): Expr => count(Page, (q) => isSome(shadow.at(m).at(q)));
    const holderOf = (i: Expr): Expr => {
      let e: Expr = lit(invNames[I - 1] as string, Holder);
      for (let k = I - 2; k >= 0; k--) e = ite(eq(i, k), lit(invNames[k] as string, Holder), e);
      return e;
    };
    const frameFree = (f: Operand) => forall(Page, (q) => ne(pte.at(q), some(f, FrameOpt)));
    const findable = v('prefetch-before-fence') ? or(eq(dereg, 'idle'), eq(dereg, 'check'), eq(dereg, 'erase')) : eq(dereg, 'idle');
    const wkIn = (w: Operand, ...pcs: string[]) => or(...pcs.filter((pc) => WkPc.values.includes(pc)).map((pc) => eq(wk.at(w).f('pc'), pc)), false);
    const topHolders = or(
      exists(Worker, (w) => wk.at(w).f('top')),
      ...(fw ? [exists(Mr, (m) => ne(fw.at(m), 'none'))] : []),
    );
    const topUnused = and(not(findable), not(topHolders));
    const mrHolders = (m: Operand): Expr => (implicit ? exists(Worker, (w) => and(wk.at(w).f('ref'), eq(wk.at(w).f('mr'), m))) : lit(false));
    const fair = { fairness: 'weak' as const };
    const strong = { fairness: 'strong' as const };
    const lockFree = (m: Operand) => eq(mr.at(m).f('lock'), 'free');
    // A UMR posted on MR object m's mkey: applied by the device at once, or, if the mkey is revoked,
    // failed with an error CQE that moves the UMR QP to error (recovery).
    const umrOn = (m: Operand, apply: readonly Stmt[]): Stmt => when(mr.at(m).f('mkey'), [...apply], assign(umrErr, true));
    const umrOnParent = (apply: readonly Stmt[]): Stmt => when(pMkey as Ref, [...apply], assign(umrErr, true));
    // The accesses in flight through MR object m (on page p, or on any page).
    const inflightVia = (m: Operand, p?: Operand) =>
      exists(Slot, (d) => and(eq(acc.at(d).f('state'), 'inflight'), eq(acc.at(d).f('via'), m), ...(p === undefined ? [] : [eq(acc.at(d).f('page'), p)])));

    // ------------------------------------------------------------------------------------------
    // Device: translate an access through the mkey (implicit: the parent KSM, then the child MTT).
    const translate = (d: Expr, p: Operand): Stmt[] => {
      const a = acc.at(d);
      const viaMtt = (m: Operand): Stmt =>
        when(
          not(mr.at(m).f('mkey')),
          assign(a.f('state'), 'failed'),
          when(
            isSome(mtt.at(m).at(p)),
            [assign(a.f('state'), 'inflight'), assign(a.f('frame'), unwrap(mtt.at(m).at(p))), assign(a.f('via'), m)],
            assign(a.f('state'), 'faulted'),
          ),
        );
      if (!implicit) return [viaMtt(lit(0, Mr))];
      const k = (ksm as Ref).at(chunkOf(p));
      return [when(not(pMkey as Ref), assign(a.f('state'), 'failed'), when(isNone(k), assign(a.f('state'), 'faulted'), viaMtt(unwrap(k))))];
    };
    b.rule('DevIssueAccess', { d: Slot, p: Page }, ({ d, p }) => ({
      guard: eq(acc.at(d).f('state'), 'idle'),
      body: [assign(acc.at(d).f('page'), p), ...translate(d, p)],
    }));
    // A fault the driver resolved: the queue is resumed and the access translated again.
    b.rule(
      'DevRetryAccess',
      { d: Slot },
      ({ d }) => ({
        guard: eq(acc.at(d).f('state'), 'pending'),
        body: translate(d, acc.at(d).f('page')),
      }),
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
    // An access that failed (error CQE): the application consumes it; the slot is reused.
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
    // Driver workers: the page-fault work (0) and the prefetch work (1).
    const w0 = lit(0, Worker);
    const fa = acc.at(0);
    const isFault = (w: Expr) => eq(w, w0);
    // find_odp_mkey / get_prefetchable_mr, under xa_lock(odp_mkeys): the mkey is found and a
    // usecount taken, or it is gone (being destroyed): the fault is resumed with an error.
    b.rule(
      'DriverTakeFault',
      {},
      () => ({
        guard: and(eq(wk.at(w0).f('pc'), 'idle'), eq(fa.f('state'), 'faulted')),
        body: [
          when(
            findable,
            [
              assign(wk.at(w0).f('top'), true),
              assign(wk.at(w0).f('page'), fa.f('page')),
              assign(wk.at(w0).f('mr'), 0),
              assign(wk.at(w0).f('pc'), implicit ? 'child' : 'begin'),
            ],
            assign(fa.f('state'), 'failed'),
          ),
        ],
      }),
      fair,
    );
    if (prefetchLeft) {
      // ibv_advise_mr(PREFETCH) without FLUSH: init_prefetch_work takes the usecount and queues
      // mlx5_ib_prefetch_mr_work; an MR no longer in odp_mkeys gives -ENOENT.
      b.rule('UserAdviseMr', { p: Page }, ({ p }) => ({
        guard: and(lt(0, prefetchLeft), eq(wk.at(1).f('pc'), 'idle')),
        body: [
          assign(prefetchLeft, sub(prefetchLeft, 1)),
          when(findable, [assign(wk.at(1).f('top'), true), assign(wk.at(1).f('page'), p), assign(wk.at(1).f('mr'), 0), assign(wk.at(1).f('pc'), 'queued')]),
        ],
      }));
      // The work item runs pagefault_mr for its SGE.
      b.rule(
        'DriverPrefetchWork',
        {},
        () => ({
          guard: eq(wk.at(1).f('pc'), 'queued'),
          body: [assign(wk.at(1).f('pc'), implicit ? 'child' : 'begin')],
        }),
        fair,
      );
    }
    // The end of a worker's run: drop the usecount (mlx5r_deref_odp_mkey); the fault work resumes
    // the faulting queue (mlx5_ib_page_fault_resume), the prefetch work just ends.
    const finish = (w: Expr): Stmt[] => [when(isFault(w), assign(fa.f('state'), 'pending')), reset(wk.at(w))];

    if (implicit) {
      const XA = xa as Ref;
      // pagefault_implicit_mr: the child for the chunk, from implicit_children under xa_lock
      // (usecount taken), or created by implicit_get_child_mr: a new umem with its interval
      // notifier (inserted while a region is active it starts "invalidating"), a new mkey enabled
      // by a ZAP UMR, and xa_cmpxchg into implicit_children (one usecount for the xarray, one for
      // the caller). The KSM is updated later, under the parent's umem_mutex. `c` is the child found, or
      // the lowest unused object for a new one.
      b.rule(
        'DriverGetChild',
        { w: Worker, c: Mr },
        ({ w, c }) => {
          const me = wk.at(w);
          const ch = chunkOf(me.f('page'));
          const firstFree = forall(Mr, (o) => implies(lt(ord(o), ord(c)), mr.at(o).f('used')));
          return {
            guard: and(eq(me.f('pc'), 'child'), or(eq(XA.at(ch), some(c, MrOpt)), and(isNone(XA.at(ch)), not(mr.at(c).f('used')), firstFree))),
            body: [
              when(
                isSome(XA.at(ch)),
                [assign(me.f('mr'), c), assign(me.f('ref'), true), assign(me.f('pc'), 'begin')],
                [
                  assign(mr.at(c).f('used'), true),
                  assign(mr.at(c).f('chunk'), ch),
                  assign(mr.at(c).f('mkey'), true),
                  assign(mr.at(c).f('priv'), true),
                  assign(mr.at(c).f('notifier'), true),
                  assign(mr.at(c).f('ivCur'), lt(0, active)),
                  when(lt(0, active), assign(mmOdd, true)),
                  forEach(Page, (q) => reset(mtt.at(c).at(q))),
                  assign(XA.at(ch), some(c, MrOpt)),
                  assign(me.f('mr'), c),
                  assign(me.f('ref'), true),
                  assign(me.f('newChild'), true),
                  assign(me.f('pc'), 'begin'),
                ],
              ),
            ],
          };
        },
        fair,
      );
    }
    // mmu_interval_read_begin: sleeps while the interval is being invalidated (its seq equals the
    // odd mm seq), then reads the seq.
    b.rule(
      'DriverReadBegin',
      { w: Worker },
      ({ w }) => ({
        guard: and(eq(wk.at(w).f('pc'), 'begin'), not(mr.at(wk.at(w).f('mr')).f('ivCur'))),
        body: [assign(wk.at(w).f('stale'), false), assign(wk.at(w).f('pc'), 'walk')],
      }),
      strong,
    );
    // hmm_range_fault for the page: -EBUSY back to read_begin if the seq already moved
    // (mmu_interval_check_retry); otherwise the pfn the PTE maps is snapshotted.
    b.rule(
      'DriverWalk',
      { w: Worker },
      ({ w }) => {
        const me = wk.at(w);
        const p = me.f('page');
        return {
          guard: and(eq(me.f('pc'), 'walk'), or(me.f('stale'), isSome(pte.at(p)))),
          body: [when(me.f('stale'), assign(me.f('pc'), 'begin'), [assign(me.f('snap'), unwrap(pte.at(p))), assign(me.f('pc'), 'commit')])],
        };
      },
      fair,
    );
    // A PTE none is faulted in (handle_mm_fault) with any free frame, and the walk goes on.
    b.rule(
      'DriverWalkFaultIn',
      { w: Worker, f: Frame },
      ({ w, f }) => {
        const me = wk.at(w);
        const p = me.f('page');
        return {
          guard: and(eq(me.f('pc'), 'walk'), not(me.f('stale')), isNone(pte.at(p)), frameFree(f)),
          body: [assign(pte.at(p), some(f, FrameOpt)), assign(me.f('snap'), f), assign(me.f('pc'), 'commit')],
        };
      },
      fair,
    );
    // Under umem_mutex (ib_umem_odp_map_dma_and_lock returns holding it): read_retry; on a
    // collision unlock and go back to read_begin; otherwise DMA map the pfn (npages++), post the
    // MTT UMR built from the pfn list (mlx5r_umr_update_xlt -> populate_mtt) and wait for it,
    // then unlock. The whole section is one step: everything else that reads or writes the pfn
    // list, npages, private or the MTT of this MR takes the same mutex.
    b.rule(
      'DriverCommit',
      { w: Worker },
      ({ w }) => {
        const me = wk.at(w);
        const m = me.f('mr');
        const p = me.f('page');
        const done: Stmt[] = implicit ? [assign(me.f('ref'), false), when(me.f('newChild'), assign(me.f('pc'), 'ksm'), finish(w))] : finish(w);
        return {
          guard: and(eq(me.f('pc'), 'commit'), lockFree(m)),
          body: [
            when(me.f('stale'), assign(me.f('pc'), 'begin'), [
              assign(shadow.at(m).at(p), some(me.f('snap'), FrameOpt)),
              umrOn(m, [assign(mtt.at(m).at(p), shadow.at(m).at(p))]),
              ...done,
            ]),
          ],
        };
      },
      strong,
    );
    if (implicit) {
      const XA = xa as Ref;
      const KSM = ksm as Ref;
      const PL = pLock as Ref;
      // The parent's KSM UMR for the new child's chunk, built from implicit_children (populate_klm)
      // under the parent's umem_mutex, posted and waited for; then the usecount is dropped and the
      // queue resumed.
      if (v('ksm-update-unlocked')) {
        b.rule(
          'DriverKsmBuild',
          { w: Worker },
          ({ w }) => ({
            guard: eq(wk.at(w).f('pc'), 'ksm'),
            body: [assign(wk.at(w).f('payload'), XA.at(chunkOf(wk.at(w).f('page')))), assign(wk.at(w).f('pc'), 'ksmPost')],
          }),
          fair,
        );
        b.rule(
          'DriverKsmPost',
          { w: Worker },
          ({ w }) => ({
            guard: eq(wk.at(w).f('pc'), 'ksmPost'),
            body: [umrOnParent([assign(KSM.at(chunkOf(wk.at(w).f('page'))), wk.at(w).f('payload'))]), ...finish(w)],
          }),
          fair,
        );
      } else {
        b.rule(
          'DriverKsmUpdate',
          { w: Worker },
          ({ w }) => ({
            guard: and(eq(wk.at(w).f('pc'), 'ksm'), not(PL)),
            body: [umrOnParent([assign(KSM.at(chunkOf(wk.at(w).f('page'))), XA.at(chunkOf(wk.at(w).f('page'))))]), ...finish(w)],
          }),
          strong,
        );
      }
    }

    // ------------------------------------------------------------------------------------------
    // Invalidators: madvise(MADV_DONTNEED) of one page.
    b.rule('MmMadviseStart', { i: Inv, p: Page }, ({ i, p }) => ({
      guard: and(eq(inv.at(i).f('pc'), 'idle'), lt(0, invsLeft)),
      body: [
        assign(invsLeft, sub(invsLeft, 1)),
        // mn_itree_inv_start_range: active++, seq |= 1 if an interval overlaps.
        assign(active, add(active, 1)),
        when(
          exists(Mr, (m) => and(mr.at(m).f('notifier'), covers(m, p))),
          assign(mmOdd, true),
        ),
        assign(inv.at(i).f('page'), p),
        assign(inv.at(i).f('cur'), 0),
        assign(inv.at(i).f('pc'), 'cb'),
      ],
    }));
    // The callbacks run for every interval in the tree overlapping the page, in index order.
    const advance = (i: Expr): Stmt => {
      let s: Stmt = assign(inv.at(i).f('pc'), 'pte');
      for (let k = M - 2; k >= 0; k--) s = when(eq(inv.at(i).f('cur'), k), assign(inv.at(i).f('cur'), k + 1), s);
      return s;
    };
    // mlx5_ib_invalidate_range, first part: lock umem_mutex, set_seq (read_retry will fail for
    // every fault that read the seq before); with nothing mapped, or the MR already revoked
    // (private NULL), return; otherwise post the ZAP UMR for the page and wait for it. With
    // private NULL the mkey is gone, so there is nothing to zap, but the pages are still DMA
    // mapped: they are unmapped before returning (mainline returns without it: revoked-skips-unmap).
    b.rule(
      'DriverInvalidateBegin',
      { i: Inv },
      ({ i }) => {
        const me = inv.at(i);
        const m = me.f('cur');
        const p = me.f('page');
        const called = and(mr.at(m).f('notifier'), covers(m, p));
        return {
          guard: and(eq(me.f('pc'), 'cb'), or(not(called), lockFree(m))),
          body: [
            when(not(called), advance(i), [
              assign(mr.at(m).f('ivCur'), true),
              forEach(Worker, (w) => when(and(eq(wk.at(w).f('mr'), m), wkIn(w, 'walk', 'commit')), assign(wk.at(w).f('stale'), true))),
              when(
                or(eq(npages(m), 0), isNone(shadow.at(m).at(p))),
                advance(i),
                when(
                  not(mr.at(m).f('priv')),
                  [...(v('revoked-skips-unmap') ? [] : [reset(shadow.at(m).at(p))]), advance(i)],
                  [assign(mr.at(m).f('lock'), holderOf(i)), umrOn(m, [reset(mtt.at(m).at(p))]), assign(me.f('pc'), 'zapWait')],
                ),
              ),
            ]),
          ],
        };
      },
      strong,
    );
    // The ZAP completes once the accesses that translated through the old entry have drained.
    b.rule(
      'DevCompleteZap',
      { i: Inv },
      ({ i }) => ({
        guard: and(eq(inv.at(i).f('pc'), 'zapWait'), not(inflightVia(inv.at(i).f('cur'), inv.at(i).f('page')))),
        body: [assign(inv.at(i).f('pc'), 'unmap')],
      }),
      fair,
    );
    // Second part, still under umem_mutex: ib_umem_odp_unmap_dma_pages (npages--); an implicit
    // child left with nothing mapped is unlinked by destroy_unused_implicit_child_mr (a parent
    // usecount by refcount_inc_not_zero, xa_cmpxchg out of implicit_children, the free queued);
    // unlock and return.
    b.rule(
      'DriverInvalidateFinish',
      { i: Inv },
      ({ i }) => {
        const me = inv.at(i);
        const m = me.f('cur');
        const unlink: Stmt[] = implicit
          ? [
              when(and(eq(npages(m), 0), not(topUnused), eq((xa as Ref).at(mr.at(m).f('chunk')), some(m, MrOpt))), [
                reset((xa as Ref).at(mr.at(m).f('chunk'))),
                assign((fw as Ref).at(m), 'wait'),
              ]),
            ]
          : [];
        return {
          guard: eq(me.f('pc'), 'unmap'),
          body: [reset(shadow.at(m).at(me.f('page'))), ...unlink, assign(mr.at(m).f('lock'), 'free'), assign(me.f('pc'), 'cb'), advance(i)],
        };
      },
      fair,
    );
    // The mm clears the PTE (under the PTL, with the CPU TLB flush); the frame is free.
    b.rule(
      'MmUpdatePte',
      { i: Inv },
      ({ i }) => ({
        guard: eq(inv.at(i).f('pc'), 'pte'),
        body: [reset(pte.at(inv.at(i).f('page'))), assign(inv.at(i).f('pc'), 'end')],
      }),
      fair,
    );
    // mn_itree_inv_end: active--; the last end makes the seq even, ending every interval's
    // "invalidating" state, and wakes read_begin sleepers and deferred removals.
    b.rule(
      'MmInvalidateEnd',
      { i: Inv },
      ({ i }) => ({
        guard: eq(inv.at(i).f('pc'), 'end'),
        body: [
          assign(active, sub(active, 1)),
          when(eq(active, 0), [assign(mmOdd, false), forEach(Mr, (m) => assign(mr.at(m).f('ivCur'), false))]),
          reset(inv.at(i)),
        ],
      }),
      fair,
    );

    // ------------------------------------------------------------------------------------------
    // Destruction of an MTT MR object (the explicit MR, or a child): mlx5r_handle_mkey_cleanup
    // then ib_umem_odp_release.
    // Revoke: under umem_mutex (umr-on-revoked-mkey: without it) post the revoke UMR (the mkey's
    // free bit: no new translation) and wait for it.
    b.rule(
      'DriverRevokeMkey',
      { m: Mr },
      ({ m }) => ({
        guard: and(eq(mr.at(m).f('td'), 'revoke'), v('umr-on-revoked-mkey') ? lit(true) : lockFree(m)),
        body: [
          ...(v('umr-on-revoked-mkey') ? [] : [assign(mr.at(m).f('lock'), 'teardown')]),
          umrOn(m, [assign(mr.at(m).f('mkey'), false)]),
          assign(mr.at(m).f('td'), 'revokeWait'),
        ],
      }),
      v('umr-on-revoked-mkey') ? fair : strong,
    );
    // The revoke completes once every access in flight through the mkey has drained ("Fence all
    // DMA on the MR").
    b.rule(
      'DevCompleteRevoke',
      { m: Mr },
      ({ m }) => ({
        guard: and(eq(mr.at(m).f('td'), 'revokeWait'), not(inflightVia(m))),
        body: [assign(mr.at(m).f('td'), 'revokeDone')],
      }),
      fair,
    );
    // private = NULL (umr-on-revoked-mkey: left set), unlock.
    b.rule(
      'DriverRevokeDone',
      { m: Mr },
      ({ m }) => ({
        guard: eq(mr.at(m).f('td'), 'revokeDone'),
        body: [
          ...(v('umr-on-revoked-mkey') ? [] : [assign(mr.at(m).f('priv'), false), assign(mr.at(m).f('lock'), 'free')]),
          assign(mr.at(m).f('td'), 'release'),
        ],
      }),
      fair,
    );
    // ib_umem_odp_release: under umem_mutex, DMA unmap every page.
    b.rule(
      'DriverReleaseUmem',
      { m: Mr },
      ({ m }) => ({
        guard: and(eq(mr.at(m).f('td'), 'release'), lockFree(m)),
        body: [forEach(Page, (q) => reset(shadow.at(m).at(q))), assign(mr.at(m).f('td'), 'remove')],
      }),
      strong,
    );
    // mmu_interval_notifier_remove: deferred while the mm is invalidating, then out of the tree.
    b.rule(
      'DriverRemoveNotifier',
      { m: Mr },
      ({ m }) => ({
        guard: and(eq(mr.at(m).f('td'), 'remove'), not(mmOdd)),
        body: [assign(mr.at(m).f('notifier'), false), assign(mr.at(m).f('ivCur'), false), assign(mr.at(m).f('td'), 'done')],
      }),
      strong,
    );
    // The object is freed (kfree or back to the mkey cache); a child object can be reused.
    const freeObject = (m: Operand): Stmt[] => [reset(mr.at(m)), forEach(Page, (q) => reset(mtt.at(m).at(q)))];

    // ------------------------------------------------------------------------------------------
    // MR destruction: ibv_dereg_mr of the explicit MR or of the implicit parent.
    const startDestroy: Stmt[] = implicit ? [assign(dereg, 'revoke')] : [assign(mr.at(0).f('td'), 'revoke'), assign(dereg, 'teardown')];
    if (v('prefetch-before-fence')) {
      // B9: the holders are counted before new holders are fenced off.
      b.rule('UserDeregMr', {}, () => ({
        guard: and(eq(dereg, 'idle'), lt(0, deregsLeft)),
        body: [assign(deregsLeft, 0), assign(dereg, 'check')],
      }));
      b.rule(
        'DriverDeregWait',
        {},
        () => ({
          guard: and(eq(dereg, 'check'), not(topHolders)),
          body: [assign(dereg, 'erase')],
        }),
        strong,
      );
      b.rule('DriverDeregErase', {}, () => ({ guard: eq(dereg, 'erase'), body: startDestroy }), fair);
    } else {
      // __mlx5_ib_dereg_mr: xa_erase from odp_mkeys (no new fault or prefetch finds it), then
      // mlx5r_deref_wait_odp_mkey: drop the initial reference and wait for the usecount to reach 0.
      b.rule('UserDeregMr', {}, () => ({
        guard: and(eq(dereg, 'idle'), lt(0, deregsLeft)),
        body: [assign(deregsLeft, 0), assign(dereg, 'wait')],
      }));
      b.rule(
        'DriverDeregWait',
        {},
        () => ({
          guard: and(eq(dereg, 'wait'), not(topHolders)),
          body: startDestroy,
        }),
        fair,
      );
    }
    if (!implicit) {
      b.rule(
        'DriverDeregDone',
        {},
        () => ({
          guard: and(eq(dereg, 'teardown'), eq(mr.at(0).f('td'), 'done')),
          body: [...freeObject(0), assign(dereg, 'done')],
        }),
        fair,
      );
    } else {
      const XA = xa as Ref;
      const KSM = ksm as Ref;
      const PL = pLock as Ref;
      const FW = fw as Ref;
      const DC = derChild as Ref;
      // The parent's KSM mkey: revoke under the parent's umem_mutex, wait, unlock. The implicit
      // umem has no notifier and no pages of its own.
      b.rule(
        'DriverRevokeParent',
        {},
        () => ({
          guard: and(eq(dereg, 'revoke'), not(PL)),
          body: [assign(PL, true), umrOnParent([assign(pMkey as Ref, false)]), assign(dereg, 'revokeWait')],
        }),
        strong,
      );
      b.rule(
        'DevCompleteParentRevoke',
        {},
        () => ({
          guard: and(eq(dereg, 'revokeWait'), not(exists(Slot, (d) => eq(acc.at(d).f('state'), 'inflight')))),
          body: [assign(PL, false), forEach(Chunk, (k) => reset(KSM.at(k))), assign(dereg, 'children')],
        }),
        fair,
      );
      // mlx5_ib_free_odp_mr: each child still in implicit_children is erased and destroyed
      // (mlx5_ib_dereg_mr of the child: revoke, umem release).
      b.rule(
        'DriverFreeChild',
        { k: Chunk },
        ({ k }) => ({
          guard: and(
            eq(dereg, 'children'),
            isSome(XA.at(k)),
            forall(Chunk, (o) => implies(lt(ord(o), ord(k)), isNone(XA.at(o)))),
          ),
          body: [assign(DC, unwrap(XA.at(k))), assign(mr.at(unwrap(XA.at(k))).f('td'), 'revoke'), reset(XA.at(k)), assign(dereg, 'childTd')],
        }),
        fair,
      );
      b.rule(
        'DriverFreeChildDone',
        {},
        () => ({
          guard: and(eq(dereg, 'childTd'), eq(mr.at(DC).f('td'), 'done')),
          body: [...freeObject(DC), reset(DC), assign(dereg, 'children')],
        }),
        fair,
      );
      b.rule(
        'DriverDeregDone',
        {},
        () => ({
          guard: and(
            eq(dereg, 'children'),
            forall(Chunk, (k) => isNone(XA.at(k))),
          ),
          body: [assign(dereg, 'done')],
        }),
        fair,
      );

      // free_implicit_child_mr_work: wait for the child's usecount (mlx5r_deref_wait_odp_mkey
      // drops the xarray's reference), point the KSM entry at what implicit_children now holds
      // under the parent's umem_mutex, then destroy the child (mlx5_ib_dereg_mr) and drop the
      // parent usecount taken when the work was queued.
      const releaseFirst = v('child-release-before-ksm-update');
      b.rule(
        'DriverChildFreeWait',
        { m: Mr },
        ({ m }) => ({
          guard: and(eq(FW.at(m), 'wait'), not(mrHolders(m))),
          body: releaseFirst ? [assign(mr.at(m).f('td'), 'revoke'), assign(FW.at(m), 'teardown')] : [assign(FW.at(m), 'ksm')],
        }),
        fair,
      );
      const afterKsm = (m: Expr): Stmt[] =>
        releaseFirst ? [...freeObject(m), assign(FW.at(m), 'none')] : [assign(mr.at(m).f('td'), 'revoke'), assign(FW.at(m), 'teardown')];
      if (v('ksm-update-unlocked')) {
        const PAY = fwPayload as Ref;
        b.rule(
          'DriverChildKsmBuild',
          { m: Mr },
          ({ m }) => ({
            guard: eq(FW.at(m), 'ksm'),
            body: [assign(PAY.at(m), XA.at(mr.at(m).f('chunk'))), assign(FW.at(m), 'ksmPost')],
          }),
          fair,
        );
        b.rule(
          'DriverChildKsmPost',
          { m: Mr },
          ({ m }) => ({
            guard: eq(FW.at(m), 'ksmPost'),
            body: [umrOnParent([assign(KSM.at(mr.at(m).f('chunk')), PAY.at(m))]), reset(PAY.at(m)), ...afterKsm(m)],
          }),
          fair,
        );
      } else {
        b.rule(
          'DriverChildKsmUpdate',
          { m: Mr },
          ({ m }) => ({
            guard: and(eq(FW.at(m), 'ksm'), not(PL)),
            body: [umrOnParent([assign(KSM.at(mr.at(m).f('chunk')), XA.at(mr.at(m).f('chunk')))]), ...afterKsm(m)],
          }),
          strong,
        );
      }
      b.rule(
        'DriverChildFreeDone',
        { m: Mr },
        ({ m }) => ({
          guard: and(eq(FW.at(m), 'teardown'), eq(mr.at(m).f('td'), 'done')),
          body: releaseFirst ? [assign(FW.at(m), 'ksm')] : [...freeObject(m), assign(FW.at(m), 'none')],
        }),
        fair,
      );
    }

    const destroying = or(...DeregPc.values.filter((x) => !['idle', 'wait', 'check', 'erase'].includes(x)).map((x) => eq(dereg, x)));
    const owingFw = v('child-release-before-ksm-update') ? ['wait', 'teardown', 'ksm'] : ['wait', 'ksm', 'ksmPost'];
    const ksmOwed = (k: Operand): Expr =>
      !implicit
        ? lit(false)
        : or(
            exists(Worker, (w) => and(wk.at(w).f('newChild'), eq(chunkOf(wk.at(w).f('page')), k))),
            exists(Mr, (m) => and(or(...owingFw.filter((pc) => FwPc.values.includes(pc)).map((pc) => eq((fw as Ref).at(m), pc))), eq(mr.at(m).f('chunk'), k))),
          );
    return {
      Page,
      Frame,
      Mr,
      Chunk,
      Worker,
      Inv,
      Slot,
      implicit,
      pte,
      mr,
      shadow,
      mtt,
      acc,
      wk,
      inv,
      dereg,
      umrErr,
      active,
      mmOdd,
      xa,
      ksm,
      fw,
      pMkey,
      chunkOf,
      covers,
      npages,
      holderOf,
      findable,
      topUnused,
      mrHolders,
      destroying,
      ksmOwed,
      params: { workers: W, invalidators: I, prefetch: PF },
    };
  },
});
