/**
 * The `dax-revoke` protocol: taking device memory back from its users. Why this module exists:
 * fs-dax truncate/hole-punch and P2PDMA provider removal both revoke memory that user space maps
 * directly and that an RDMA HCA may be using; the kernel can wait for a reference to go away only if
 * every reference is revocable (digest 5, S5, L5). This is written once, as guarded rules;
 * spec/dax-revoke.md tells the story and numbers the requirements (DAX-Rn) that
 * properties/daxRevoke.ts checks.
 *
 * Actors and what they model (kernel functions in brackets):
 * - the process: faults the file (or the p2pmem sysfs file) into its VMA [dax_iomap_fault,
 *   vm_insert_page], munmaps it;
 * - an ODP MR over the VMA: mirrors a mapped page, DMAs through the mirror; its notifier callback
 *   zaps the mirror and waits for its DMA before the PTE goes [mlx5_ib_invalidate_range], holding no
 *   page reference;
 * - a long-term pinned MR: ibv_reg_mr without ODP pins the pages [ib_umem_get ->
 *   pin_user_pages_fast(FOLL_LONGTERM)], which GUP refuses for fs-dax and P2P memory
 *   [check_vma_flags, try_grab_folio]; the user controls its lifetime [ibv_dereg_mr];
 * - a short-term GUP user (an O_DIRECT I/O into the mapping): pins a mapped page, DMAs, unpins;
 * - the filesystem's truncate (fs-dax): under MMAPLOCK, unmap the range [dax_layout_busy_page_range
 *   -> unmap_mapping_range], find a busy page, drop the lock and wait for it to go idle, retry
 *   [xfs_break_dax_layouts, ext4_break_layouts], then free the blocks [truncate_inode_pages_range]
 *   that another file may then reuse;
 * - the P2PDMA provider's removal: remove the sysfs file and unmap every user mapping
 *   [pci_p2pdma_unmap_mappings], wait for every page reference [memunmap_pages], the memory is gone.
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
  forEach,
  intParam,
  isNone,
  isSome,
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
export const DAX_VARIANTS = ['longterm-pin-allowed', 'busy-scan-skips-unmapped', 'truncate-no-wait'] as const;
export type DaxVariant = (typeof DAX_VARIANTS)[number];

/** The size with over a million reachable states (its own test file). */
export const DAX_LARGE_PARAMS: Readonly<Record<string, number>> = { pages: 3, blocks: 4, gups: 2, punches: 2 };

/** Handles the property set reads. */
export interface DaxRevokeHandles {
  readonly Page: IndexType;
  readonly Block: IndexType;
  readonly fsdax: boolean;
  /** The file's (or the p2pmem file's) page -> block map: which memory backs page p. */
  readonly fileMap: Ref;
  /** Per block: in use by the file, free, reused by another file (fs-dax); present or removed (P2P). */
  readonly mem: Ref;
  readonly vma: Ref;
  readonly pte: Ref;
  readonly inv: Ref;
  readonly odp: Ref;
  readonly odpDma: Ref;
  readonly gup: Ref;
  /** The long-term pinned MR's translation (its MTT); each entry holds a FOLL_LONGTERM pin on its block. */
  readonly pinMap: Ref;
  readonly pinMr: Ref;
  readonly pinDma: Ref;
  readonly revoke: Ref;
  /** The page the revoker is revoking (fs-dax: the punched page). */
  readonly target: Ref | null;
  /** Block `b` is busy for the revoker: a pin (short-term or long-term) holds a reference to it. */
  readonly busy: (b: Operand) => Expr;
  /** Block `b` has been given back (fs-dax: free or reused by another file; P2P: removed). */
  readonly given: (b: Operand) => Expr;
  /** Block `b` belongs to the file at page `p` (the memory page p maps is still what it was). */
  readonly backs: (b: Operand, p: Operand) => Expr;
  readonly params: { readonly odp: number; readonly pin: number; readonly gups: number };
}

const fsdaxOnly = (p: ParamValues) => (p.memory === 'fsdax' ? null : 'it concerns the filesystem truncate: use --param memory=fsdax');

export const daxRevoke = defineProtocol<DaxRevokeHandles>({
  name: 'dax-revoke',
  actors: {
    participants: {
      User: 'the application: mmap, munmap, faults, pins, memory registrations',
      FS: 'the DAX file system, or the P2PDMA provider, revoking its memory',
      MM: 'the kernel memory manager (page tables, the notifier, GUP)',
      Driver: 'the RDMA driver: its ODP MR (notifier callback, faults) and pinned MRs',
      Device: 'the RDMA device doing DMA',
    },
    rules: {
      CpuFault: ['User', 'MM'],
      CpuMunmap: ['User', 'MM'],
      CpuMmap: ['User', 'MM'],
      DriverOdpInvalidate: ['MM', 'Driver'],
      DevCompleteZap: ['Device', 'Driver'],
      MmClearPte: 'MM',
      DriverOdpFault: ['Driver', 'MM'],
      DevOdpDma: 'Device',
      DevOdpDmaDone: 'Device',
      UserGupPin: ['User', 'MM'],
      DevGupDmaDoneUnpin: ['Device', 'MM'],
      UserRegPinnedMr: ['User', 'Driver'],
      DevPinnedDma: 'Device',
      DevPinnedDmaDone: 'Device',
      UserDeregPinnedMr: ['User', 'Driver'],
      FsPunchStart: ['FS', 'MM'],
      FsUnmapDone: ['MM', 'FS'],
      FsBusyScan: 'FS',
      FsWaitIdle: 'FS',
      FsReuseBlock: 'FS',
      P2pRemoveStart: ['FS', 'MM'],
      P2pUnmapDone: ['MM', 'FS'],
      P2pMemunmap: 'FS',
    },
  },
  summary: 'revoking fs-dax blocks (hole punch) and P2PDMA memory (provider removal) from user mappings, an ODP MR and pins',
  spec: 'spec/dax-revoke.md',
  params: {
    memory: enumParam(
      'fsdax',
      ['fsdax', 'p2p'],
      'fsdax: a file on a DAX filesystem, revoked by hole punch; p2p: PCI P2PDMA memory, revoked by removing its provider',
    ),
    pages: intParam(2, 1, 3, 'pages of the mapping (of the file, or of the p2pmem allocation)'),
    blocks: intParam(
      3,
      1,
      4,
      'fs-dax: filesystem blocks (at least pages; a spare one lets a refault and another file reuse freed blocks); p2p: ignored (one BAR page per page)',
    ),
    odp: intParam(1, 0, 1, '1: an ODP MR mirrors the mapping'),
    pin: intParam(1, 0, 1, '1: the user tries to register a long-term pinned (non-ODP) MR over the mapping'),
    gups: intParam(1, 0, 2, 'short-term GUP pins (O_DIRECT I/O into the mapping) in a run'),
    punches: intParam(1, 1, 2, 'fs-dax: hole punches in a run'),
  },
  validate: (p) => (p.memory === 'fsdax' && (p.blocks as number) < (p.pages as number) ? `blocks (${p.blocks}) must be at least pages (${p.pages})` : null),
  variants: [
    {
      name: 'longterm-pin-allowed',
      summary:
        'GUP accepts FOLL_LONGTERM on fs-dax (or P2P) memory: a pinned MR holds references only its user can drop, so truncate (or provider removal) waits forever',
      cites:
        'mm/gup.c check_vma_flags (FOLL_LONGTERM on an fs-dax VMA is -EOPNOTSUPP) from "mm: introduce get_user_pages_longterm" (Dan Williams, 2017, Message-ID 151197873499.26211.11687422577653326365.stgit@dwillia2-desk3.amr.corp.intel.com); FOLL_LONGTERM|FOLL_PCI_P2PDMA refused, P2P pages without FOLL_PCI_P2PDMA -EREMOTEIO (try_grab_folio)',
    },
    {
      name: 'busy-scan-skips-unmapped',
      summary:
        'dax_layout_busy_page_range returns early when no VMA maps the file (!mapping_mapped): a page pinned for DMA and then munmapped is not waited for, and its block is freed and reused under the DMA',
      cites:
        '"fs/dax: Return unmapped busy pages from dax_layout_busy_page_range()" (Alistair Popple, v6.15, Message-ID 0884b6a6e0f9ee4bb982a043da94fd910ee800f1.1732239628.git-series.apopple@nvidia.com)',
      appliesTo: fsdaxOnly,
    },
    {
      name: 'truncate-no-wait',
      summary:
        'truncate unmaps the range and frees the blocks without waiting for busy pages (the fs-dax behaviour before layouts were broken): DMA continues into a freed, reused block',
      cites: '5fac7408d828 "mm, fs, dax: handle layout changes to pinned dax mappings" and "xfs, dax: introduce xfs_break_dax_layouts()" (Dan Williams, v4.17)',
      appliesTo: fsdaxOnly,
    },
  ],
  build(b: Builder, cfg: BuildConfig): DaxRevokeHandles {
    const fsdax = cfg.str('memory') === 'fsdax';
    const P = cfg.int('pages');
    const ODP = cfg.int('odp');
    const PIN = cfg.int('pin');
    const GUPS = cfg.int('gups');
    const v = (name: DaxVariant) => cfg.is(name);

    const Page = b.index('Page', P);
    const Block = b.index('Block', fsdax ? cfg.int('blocks') : P);
    const BlockOpt = option(Block);
    const MemState = enumOf('MemState', fsdax ? ['free', 'file', 'other'] : ['present', 'removed']);
    const InvPc = enumOf('InvPc', ['idle', 'zap', 'drain', 'pte']);
    const RevokePc = enumOf('RevokePc', fsdax ? ['idle', 'unmap', 'scan', 'wait'] : ['idle', 'unmap', 'wait', 'done']);
    const live = fsdax ? 'file' : 'present';

    // --- the memory: filesystem blocks (fs-dax) or BAR pages (P2P), and the file's page -> block map ---
    const mem = b.v('mem', arrayOf(Block, MemState));
    const fileMap = b.v('fileMap', arrayOf(Page, BlockOpt));
    // --- the process: its VMA over the file, and the PTEs (the block each maps) ---
    const vma = b.v('vma', bool);
    const pte = b.v('pte', arrayOf(Page, BlockOpt));
    // --- an invalidation of a page (unmap_mapping_range or munmap): the notifier callbacks, then the PTE ---
    const inv = b.v('inv', arrayOf(Page, InvPc));
    // --- the ODP MR: its mirror of each page, and a DMA through it ---
    const odp = b.v('odp', arrayOf(Page, BlockOpt));
    const odpDma = b.v('odpDma', record({ busy: bool, page: Page, block: Block }));
    // --- the short-term GUP user: a pinned block with DMA in flight ---
    const gup = b.v('gup', record({ busy: bool, page: Page, block: Block }));
    const gupsLeft = b.v('gupsLeft', range(0, GUPS));
    // --- the long-term pinned MR: its translation (each entry a long-term pin), its state, a DMA through it ---
    const pinMap = b.v('pinMap', arrayOf(Page, BlockOpt));
    const pinMr = b.v('pinMr', enumOf('PinMr', ['none', 'registered', 'refused', 'deregistered']));
    const pinDma = b.v('pinDma', record({ busy: bool, page: Page, block: Block }));
    // --- the revoker: a hole punch of one page (fs-dax) or the provider removal (P2P) ---
    const revoke = b.v('revoke', RevokePc);
    const target = fsdax ? b.v('target', Page) : null;
    const punchesLeft = fsdax ? b.v('punchesLeft', range(0, cfg.int('punches'))) : null;
    const mmapLock = fsdax ? b.v('mmapLock', bool) : null; // XFS_MMAPLOCK_EXCL held by the punch

    b.init('mapped', () => [
      assign(vma, true),
      ...Array.from({ length: P }, (_, p) => [assign(fileMap.at(p), some(p, BlockOpt)), assign(pte.at(p), some(p, BlockOpt)), assign(mem.at(p), live)]).flat(),
      assign(gupsLeft, GUPS),
      ...(punchesLeft ? [assign(punchesLeft, cfg.int('punches'))] : []),
    ]);

    // --- helpers ---
    const busy = (blk: Operand): Expr =>
      or(
        and(gup.f('busy'), eq(gup.f('block'), blk)),
        exists(Page, (q) => eq(pinMap.at(q), some(blk, BlockOpt))),
      );
    const given = (blk: Operand): Expr => ne(mem.at(blk), live);
    const backs = (blk: Operand, p: Operand): Expr => and(eq(fileMap.at(p), some(blk, BlockOpt)), eq(mem.at(blk), live));
    const fair = { fairness: 'weak' as const };
    const strong = { fairness: 'strong' as const };
    const startInv = (p: Operand): Stmt => when(and(isSome(pte.at(p)), eq(inv.at(p), 'idle')), assign(inv.at(p), 'zap'));
    const unmapAll: Stmt = forEach(Page, (p) => startInv(p));
    const unmappedPage = (p: Operand) => and(isNone(pte.at(p)), eq(inv.at(p), 'idle'));

    // ------------------------------------------------------------------------------------------
    // The process.
    // A fault maps the page (dax_iomap_fault under MMAPLOCK_SHARED, so not while a punch holds it
    // exclusive): the file's block, or for a hole a newly allocated block (any free one). P2P: the
    // BAR page, through the sysfs file's mmap, gone once the provider removal has started.
    b.rule('CpuFault', { p: Page, f: Block }, ({ p, f }) => ({
      guard: and(
        vma,
        isNone(pte.at(p)),
        eq(inv.at(p), 'idle'),
        fsdax
          ? and(not(mmapLock as Ref), or(eq(fileMap.at(p), some(f, BlockOpt)), and(isNone(fileMap.at(p)), eq(mem.at(f), 'free'), firstFree(f))))
          : and(eq(revoke, 'idle'), eq(fileMap.at(p), some(f, BlockOpt))),
      ),
      body: [assign(fileMap.at(p), some(f, BlockOpt)), assign(mem.at(f), live), assign(pte.at(p), some(f, BlockOpt))],
    }));
    function firstFree(f: Expr): Expr {
      return forall(Block, (o) => or(not(lt(ord(o), ord(f))), ne(mem.at(o), 'free')));
    }
    // munmap of the whole VMA: the PTEs are invalidated (notifiers fire) and the VMA is gone, so the
    // file is mapped nowhere (mapping_mapped() is false); mmap creates it again.
    b.rule('CpuMunmap', {}, () => ({ guard: vma, body: [assign(vma, false), unmapAll] }));
    b.rule('CpuMmap', {}, () => ({ guard: and(not(vma), fsdax ? lit(true) : eq(revoke, 'idle')), body: [assign(vma, true)] }));

    // ------------------------------------------------------------------------------------------
    // An invalidation of page p, whoever started it: the ODP callback zaps the mirror
    // (mlx5_ib_invalidate_range: set_seq, ZAP UMR), the ZAP completes once the ODP DMA to the page
    // has drained, then the PTE is cleared (zap_pte_range, under the PTL with the TLB flush), which
    // drops the mapping's reference.
    b.rule(
      'DriverOdpInvalidate',
      { p: Page },
      ({ p }) => ({
        guard: eq(inv.at(p), 'zap'),
        body: [reset(odp.at(p)), assign(inv.at(p), 'drain')],
      }),
      fair,
    );
    b.rule(
      'DevCompleteZap',
      { p: Page },
      ({ p }) => ({
        guard: and(eq(inv.at(p), 'drain'), not(and(odpDma.f('busy'), eq(odpDma.f('page'), p)))),
        body: [assign(inv.at(p), 'pte')],
      }),
      fair,
    );
    b.rule(
      'MmClearPte',
      { p: Page },
      ({ p }) => ({
        guard: eq(inv.at(p), 'pte'),
        body: [reset(pte.at(p)), assign(inv.at(p), 'idle')],
      }),
      fair,
    );

    // ------------------------------------------------------------------------------------------
    // The ODP MR: a fault mirrors a mapped page (the collision-retry fault of odp-mirror, as one
    // step: it cannot commit while the page is being invalidated); DMA through the mirror.
    if (ODP > 0) {
      b.rule('DriverOdpFault', { p: Page }, ({ p }) => ({
        guard: and(isSome(pte.at(p)), eq(inv.at(p), 'idle'), isNone(odp.at(p))),
        body: [assign(odp.at(p), pte.at(p))],
      }));
      b.rule('DevOdpDma', { p: Page }, ({ p }) => ({
        guard: and(isSome(odp.at(p)), not(odpDma.f('busy'))),
        body: [assign(odpDma.f('busy'), true), assign(odpDma.f('page'), p), assign(odpDma.f('block'), unwrap(odp.at(p)))],
      }));
      b.rule('DevOdpDmaDone', {}, () => ({ guard: odpDma.f('busy'), body: [reset(odpDma)] }), fair);
    }

    // ------------------------------------------------------------------------------------------
    // The short-term GUP user: pin_user_pages (no FOLL_LONGTERM) on a mapped page (GUP-fast
    // rechecks the PTE after taking the reference and the slow path holds the PTL, so a page whose
    // PTE is being cleared cannot be newly pinned), DMA to the pinned block, unpin_user_page.
    if (GUPS > 0) {
      b.rule('UserGupPin', { p: Page }, ({ p }) => ({
        guard: and(lt(0, gupsLeft), not(gup.f('busy')), isSome(pte.at(p)), eq(inv.at(p), 'idle')),
        body: [assign(gupsLeft, sub(gupsLeft, 1)), assign(gup.f('busy'), true), assign(gup.f('page'), p), assign(gup.f('block'), unwrap(pte.at(p)))],
      }));
      b.rule('DevGupDmaDoneUnpin', {}, () => ({ guard: gup.f('busy'), body: [reset(gup)] }), fair);
    }

    // ------------------------------------------------------------------------------------------
    // The long-term pinned MR: ib_umem_get -> pin_user_pages_fast(FOLL_LONGTERM). GUP refuses it
    // for an fs-dax VMA (check_vma_flags: -EOPNOTSUPP) and for P2P pages (no FOLL_PCI_P2PDMA:
    // -EREMOTEIO); longterm-pin-allowed: the mapped blocks are pinned and the MR registered.
    if (PIN > 0) {
      b.rule('UserRegPinnedMr', {}, () => ({
        guard: and(eq(pinMr, 'none'), vma),
        body: v('longterm-pin-allowed')
          ? [forEach(Page, (p) => when(and(isSome(pte.at(p)), eq(inv.at(p), 'idle')), assign(pinMap.at(p), pte.at(p)))), assign(pinMr, 'registered')]
          : [assign(pinMr, 'refused')],
      }));
      b.rule('DevPinnedDma', { p: Page }, ({ p }) => ({
        guard: and(isSome(pinMap.at(p)), not(pinDma.f('busy'))),
        body: [assign(pinDma.f('busy'), true), assign(pinDma.f('page'), p), assign(pinDma.f('block'), unwrap(pinMap.at(p)))],
      }));
      b.rule('DevPinnedDmaDone', {}, () => ({ guard: pinDma.f('busy'), body: [reset(pinDma)] }), fair);
      // ibv_dereg_mr: only the user decides when (no fairness); the pins go once its DMA is done.
      b.rule('UserDeregPinnedMr', {}, () => ({
        guard: and(eq(pinMr, 'registered'), not(pinDma.f('busy'))),
        body: [forEach(Page, (p) => reset(pinMap.at(p))), assign(pinMr, 'deregistered')],
      }));
    }

    // ------------------------------------------------------------------------------------------
    // The revoker.
    if (fsdax) {
      const ML = mmapLock as Ref;
      const T = target as Ref;
      const PL = punchesLeft as Ref;
      const tBlock = fileMap.at(T);
      // fallocate(PUNCH_HOLE) of page p: MMAPLOCK_EXCL (no new faults), then
      // dax_layout_busy_page_range: unmap_mapping_range over the page.
      b.rule('FsPunchStart', { p: Page }, ({ p }) => ({
        guard: and(eq(revoke, 'idle'), lt(0, PL)),
        body: [assign(PL, sub(PL, 1)), assign(ML, true), assign(T, p), startInv(p), assign(revoke, 'unmap')],
      }));
      b.rule('FsUnmapDone', {}, () => ({ guard: and(eq(revoke, 'unmap'), unmappedPage(T)), body: [assign(revoke, 'scan')] }), fair);
      // The scan for a busy page (a reference beyond the mapping's): none means the block can go
      // (busy-scan-skips-unmapped: with no VMA mapping the file the scan returns at once;
      // truncate-no-wait: no scan). Otherwise xfs_break_dax_layouts / ext4_break_layouts drop
      // MMAPLOCK and sleep until the page is idle (___wait_var_event on its refcount).
      const skip = v('truncate-no-wait') ? lit(true) : v('busy-scan-skips-unmapped') ? not(vma) : lit(false);
      b.rule(
        'FsBusyScan',
        {},
        () => ({
          guard: eq(revoke, 'scan'),
          body: [
            when(
              or(isNone(tBlock), skip, not(busy(unwrap(tBlock)))),
              [
                // The DAX entry goes and the block goes back to the filesystem's free space.
                when(isSome(tBlock), assign(mem.at(unwrap(tBlock)), 'free')),
                reset(tBlock),
                assign(ML, false),
                reset(T),
                assign(revoke, 'idle'),
              ],
              [assign(ML, false), assign(revoke, 'wait')],
            ),
          ],
        }),
        fair,
      );
      // Woken when the page is idle: take MMAPLOCK again and retry from the unmap (a fault may have
      // mapped the page again meanwhile).
      b.rule(
        'FsWaitIdle',
        {},
        () => ({
          guard: and(eq(revoke, 'wait'), or(isNone(tBlock), not(busy(unwrap(tBlock))))),
          body: [assign(ML, true), startInv(T), assign(revoke, 'unmap')],
        }),
        strong,
      );
      // Another file allocates a free block.
      b.rule('FsReuseBlock', { f: Block }, ({ f }) => ({ guard: eq(mem.at(f), 'free'), body: [assign(mem.at(f), 'other')] }));
    } else {
      // pci_p2pdma_unmap_mappings: the sysfs "allocate" file goes (no new mmap), and
      // unmap_mapping_range on its inode tears down every user mapping.
      b.rule('P2pRemoveStart', {}, () => ({ guard: eq(revoke, 'idle'), body: [unmapAll, assign(revoke, 'unmap')] }));
      b.rule(
        'P2pUnmapDone',
        {},
        () => ({
          guard: and(
            eq(revoke, 'unmap'),
            forall(Page, (p) => unmappedPage(p)),
          ),
          body: [assign(revoke, 'wait')],
        }),
        fair,
      );
      // memunmap_pages: kill the pgmap's reference and wait for every page reference to drop;
      // then the memory is gone.
      b.rule(
        'P2pMemunmap',
        {},
        () => ({
          guard: and(eq(revoke, 'wait'), not(exists(Block, (f) => busy(f)))),
          body: [forEach(Block, (f) => assign(mem.at(f), 'removed')), assign(revoke, 'done')],
        }),
        strong,
      );
    }
    // Nothing left to do is a legal end: no DMA, no invalidation, no revoker waiting.
    b.endState(() =>
      and(
        not(odpDma.f('busy')),
        not(gup.f('busy')),
        not(pinDma.f('busy')),
        forall(Page, (p) => eq(inv.at(p), 'idle')),
        fsdax ? eq(revoke, 'idle') : or(eq(revoke, 'idle'), eq(revoke, 'done')),
      ),
    );

    return {
      Page,
      Block,
      fsdax,
      fileMap,
      mem,
      vma,
      pte,
      inv,
      odp,
      odpDma,
      gup,
      pinMap,
      pinMr,
      pinDma,
      revoke,
      target,
      busy,
      given,
      backs,
      params: { odp: ODP, pin: PIN, gups: GUPS },
    };
  },
});
