/**
 * Properties of `odp-mirror`, each citing its requirement in spec/odp-mirror.md (ODP-Rn), which
 * states one of the kernel's guarantees of spec/properties.md (S1-S9, L1-L5). Why this module
 * exists: the protocol says what the kernel and the driver do; this says what must hold, in the same
 * language, so that every engine checks exactly these predicates. They are written against the
 * model's state, never against one rule or one variant: a device-table install is checked whatever
 * step makes it, and a write-protect event is held to what S1 asks of it (no write permission), not
 * to what one driver happens to do (zap). Safety first (invariants and step properties), then the
 * progress properties under the fairness the rules declare, then covers that keep the model from
 * being vacuous.
 */
import {
  type Expr,
  type Operand,
  type Property,
  type Ref,
  add,
  and,
  count,
  cover,
  definePropertySet,
  eq,
  exists,
  forall,
  implies,
  invariant,
  isNone,
  leadsTo,
  isSome,
  ite,
  leadsToEach,
  lt,
  ne,
  not,
  or,
  ord,
  pre,
  some,
  stepProperty,
  unwrap,
} from 'mirrorcheck';
import { type OdpMirrorHandles, odpMirror } from './odpMirror.js';
import { odpMirrorProofHints } from './odpMirrorProofHints.js';

export const odpMirrorProperties = definePropertySet<OdpMirrorHandles>(
  odpMirror,
  (model) => {
    const h = model.handles;
    const { Page, Frame, Inv, Slot, Handler, mmSeq, active, pte, inv, ulock, shadow, dev, tlb, umr, acc, fh, dirty, mmLive } = h;
    const sameEntry = (a: Ref, b: Ref) => and(eq(a.f('frame'), b.f('frame')), eq(a.f('write'), b.f('write')));
    // An entry the CPU PTE allows: same frame, and write only where the PTE is writable.
    const allowedBy = (e: Ref, p: Operand) => and(eq(e.f('frame'), pte.at(p).f('frame')), or(not(e.f('write')), pte.at(p).f('write')));
    const stageIs = (i: Expr, ...pcs: string[]) => or(...pcs.map((pc) => eq(inv.at(i).f('pc'), pc)));
    const inflightOn = (d: Expr, p: Operand) => and(eq(acc.at(d).f('state'), 'inflight'), eq(acc.at(d).f('page'), p));
    const fault = fh.at(0);
    const fhPcs = (fault.f('pc').type as { values?: readonly string[] }).values ?? [];
    const fhIn = (...pcs: string[]) => or(...pcs.filter((pc) => fhPcs.includes(pc)).map((pc) => eq(fault.f('pc'), pc)), false);
    const ownRegionOpen = h.params.atomics > 0 ? fhIn('exclCallback', 'exclZap', 'exclWait', 'exclUnlock', 'exclEnd') : (false as Operand);
    // An end still walking the deferred list (pc 'deferred', remove-unlocked-seq only) has closed its region.
    const invPcs = (inv.at(0).f('pc').type as { values?: readonly string[] }).values ?? [];
    const regionOpen = (i: Expr) =>
      invPcs.includes('deferred') ? and(ne(inv.at(i).f('pc'), 'idle'), ne(inv.at(i).f('pc'), 'deferred')) : ne(inv.at(i).f('pc'), 'idle');
    const openRegions = add(count(Inv, regionOpen), ite(ownRegionOpen, 1, 0));
    const alive: Operand = mmLive ? eq(mmLive, true) : true;
    const protect = (i: Expr) => eq(inv.at(i).f('event'), 'protect');
    const revokingUmr = (q: Operand) => and(umr.f('busy'), ne(umr.f('kind'), 'update'), umr.f('pages').at(q));
    // A step installs a translation for page q: the table entry is new, names another frame, or adds
    // write permission (a zap or a downgrade revokes, it does not install).
    const installs = (q: Expr) =>
      and(
        isSome(dev.at(q).f('frame')),
        or(isNone(pre(dev.at(q).f('frame'))), ne(dev.at(q).f('frame'), pre(dev.at(q).f('frame'))), and(dev.at(q).f('write'), not(pre(dev.at(q).f('write'))))),
      );
    // A step drops a writable DMA mapping of page q: unmapped, remapped elsewhere, or made read-only.
    const dropsWritable = (q: Expr) =>
      and(
        isSome(pre(shadow.at(q).f('frame'))),
        pre(shadow.at(q).f('write')),
        not(and(eq(shadow.at(q).f('frame'), pre(shadow.at(q).f('frame'))), shadow.at(q).f('write'))),
      );

    const props: Property[] = [
      invariant(
        'invalidation-complete',
        'ODP-R1',
        'once the invalidate callback has returned for a page (until its region ends): for an unmap, clear or release, the device holds no translation (table or TLB) and no DMA mapping for it and no access to it is in flight; for a write-protect, none of these allows a write and no write is in flight',
        forall(Inv, (i) =>
          forall(Page, (q) =>
            implies(
              h.returned(i, q),
              ite(
                protect(i),
                and(
                  not(dev.at(q).f('write')),
                  not(tlb.at(q).f('write')),
                  not(shadow.at(q).f('write')),
                  forall(Slot, (d) => not(and(inflightOn(d, q), ne(acc.at(d).f('op'), 'read')))),
                ),
                and(
                  isNone(dev.at(q).f('frame')),
                  isNone(tlb.at(q).f('frame')),
                  isNone(shadow.at(q).f('frame')),
                  forall(Slot, (d) => not(inflightOn(d, q))),
                ),
              ),
            ),
          ),
        ),
      ),
      stepProperty(
        model,
        'no-stale-translation',
        'ODP-R2',
        'every step that installs a device-table entry installs only what the CPU page table allows at that moment, and none for a page whose invalidation has already called back in a region still open',
        null,
        () => forall(Page, (q) => implies(installs(q), and(allowedBy(dev.at(q), q), not(exists(Inv, (i) => h.calledBack(i, q)))))),
      ),
      invariant(
        'no-access-through-revoked-translation',
        'ODP-R3',
        'every in-flight access uses a translation the device table still holds (a zap completes only once the accesses through what it revokes have drained); the TLB never caches more than the table',
        and(
          forall(Slot, (d) => implies(eq(acc.at(d).f('state'), 'inflight'), eq(dev.at(acc.at(d).f('page')).f('frame'), some(acc.at(d).f('frame'))))),
          forall(Page, (p) =>
            implies(isSome(tlb.at(p).f('frame')), and(eq(tlb.at(p).f('frame'), dev.at(p).f('frame')), or(not(tlb.at(p).f('write')), dev.at(p).f('write')))),
          ),
        ),
      ),
      invariant(
        'no-dma-to-freed-page',
        'ODP-R4',
        'every in-flight access targets a frame the page still maps (not freed, not reused by another page)',
        forall(Slot, (d) => implies(eq(acc.at(d).f('state'), 'inflight'), eq(pte.at(acc.at(d).f('page')).f('frame'), some(acc.at(d).f('frame'))))),
      ),
      invariant(
        'device-matches-shadow',
        'ODP-R5',
        "whenever the driver lock is free, the device table equals the driver's DMA-mapped pfn list and every TLB entry equals its table entry",
        implies(
          eq(ulock, 'free'),
          forall(Page, (p) => and(sameEntry(dev.at(p), shadow.at(p)), or(isNone(tlb.at(p).f('frame')), sameEntry(tlb.at(p), dev.at(p))))),
        ),
      ),
      invariant(
        'start-end-paired',
        'ODP-R6',
        'the active count equals the number of start/end regions open (each start is closed by exactly one end, a failed non-blocking start by the core itself)',
        eq(active, openRegions),
      ),
      invariant(
        'quiescent-seq-even',
        'ODP-R7',
        'the mm sequence is odd only while some region is open: with no region open it is even',
        implies(eq(active, 0), not(h.odd(mmSeq))),
      ),
      invariant(
        'callback-releases-lock',
        'ODP-R8',
        'an invalidator holds the driver lock only inside a callback (between its lock and its unlock), on every path, the -EAGAIN path included',
        forall(Inv, (i) => implies(eq(ulock, h.holderOf(i)), stageIs(i, 'zap', 'wait', 'unlock', 'eagain'))),
      ),
      invariant(
        'no-fault-timeout',
        'ODP-R9',
        'no device fault is failed while the mm lives: the VMA allows every access, so a fault may end only in a committed translation (bounded form of fault progress: the 1 s retry timeout is never reached)',
        forall(Slot, (d) => implies(eq(acc.at(d).f('state'), 'failed'), not(alive))),
      ),
      stepProperty(
        model,
        'dirty-before-unmap',
        'ODP-R12',
        'every step that drops a writable DMA mapping (unmap, remap or downgrade) leaves the page marked dirty, so the writes the device may have made reach writeback (set_page_dirty before the translation goes)',
        null,
        () => forall(Page, (q) => implies(dropsWritable(q), dirty.at(unwrap(pre(shadow.at(q).f('frame')))))),
      ),
      invariant(
        'nonblocking-callback-never-sleeps',
        'ODP-R13',
        'a callback of a non-blockable range (the OOM reaper) never sleeps: it never waits for a zap to drain the device; when it could finish only by sleeping it returns false (-EAGAIN)',
        forall(Inv, (i) => not(and(not(inv.at(i).f('blockable')), stageIs(i, 'zap', 'wait')))),
      ),
      // --- progress, under the fairness declared on the rules ---
      leadsToEach(
        'fault-progress',
        'ODP-R9',
        'a fault or prefetch the driver has taken is eventually finished (its work item returns to idle)',
        Handler,
        (x) => [ne(fh.at(x).f('pc'), 'idle'), eq(fh.at(x).f('pc'), 'idle')],
      ),
      leadsToEach(
        'no-perpetual-device-fault',
        'ODP-R10',
        'a device access waiting for a translation (issued, or faulted to the driver) eventually goes in flight (or the mm has exited)',
        Slot,
        (d) => [or(eq(acc.at(d).f('state'), 'pending'), eq(acc.at(d).f('state'), 'faulted')), or(eq(acc.at(d).f('state'), 'inflight'), not(alive))],
      ),
      leadsToEach(
        'invalidation-progress',
        'ODP-R11',
        'every started invalidation eventually ends (its callbacks get the lock, their zaps complete, end runs)',
        Inv,
        (i) => [ne(inv.at(i).f('pc'), 'idle'), eq(inv.at(i).f('pc'), 'idle')],
      ),
    ];
    const { mr, ivNode, lcount } = h;
    if (mr && ivNode) {
      props.push(
        invariant(
          'interval-lifetime',
          'ODP-R14',
          'once remove has returned and the umem is freed, nothing uses the interval: it is neither in the tree nor on the deferred list (the final end would touch it), no invalidate callback for it is in progress, and no fault or prefetch works on its MR',
          implies(
            eq(mr, 'freed'),
            and(
              eq(ivNode, 'none'),
              forall(Inv, (i) => not(stageIs(i, 'lock', 'zap', 'wait', 'unlock', 'eagain'))),
              forall(Handler, (x) => eq(fh.at(x).f('pc'), 'idle')),
            ),
          ),
        ),
        leadsTo('remove-progress', 'ODP-R15', 'a remove that waits for the final end eventually returns', eq(mr, 'removing'), ne(mr, 'removing')),
      );
    }
    if (lcount) {
      props.push(
        invariant(
          'legacy-count-paired',
          'ODP-R16',
          "the umem's notifiers_count equals the number of invalidations hitting it whose callback has counted and whose end has not yet run (every start_account is paired with one end_account)",
          eq(
            lcount,
            count(Inv, (i) => and(ne(inv.at(i).f('event'), 'elsewhere'), stageIs(i, 'zap', 'wait', 'unlock', 'pte', 'end'))),
          ),
        ),
      );
    }
    const covers: Property[] = [
      cover(
        'collision-retried',
        'ODP-C1',
        'a handler retried after a collision (EBUSY or read_retry)',
        exists(Handler, (x) => ne(fh.at(x).f('tries'), 0)),
      ),
      cover(
        'frame-reused',
        'ODP-C3',
        'a page maps a frame another page held at the start (freed, then reused)',
        exists(Page, (p) => exists(Frame, (f) => and(eq(pte.at(p).f('frame'), some(f)), lt(ord(f), Page.size), ne(ord(f), ord(p))))),
      ),
      cover(
        'device-write-in-flight',
        'ODP-C4',
        'a device write is in flight',
        exists(Slot, (d) => and(eq(acc.at(d).f('state'), 'inflight'), ne(acc.at(d).f('op'), 'read'))),
      ),
      cover(
        'page-dirtied-by-unmap',
        'ODP-C5',
        'the DMA unmap of a writable entry dirtied a page',
        exists(Frame, (f) => dirty.at(f)),
      ),
      cover(
        'read-only-device-entry',
        'ODP-C6',
        'the device holds a read-only translation',
        exists(Page, (p) => and(isSome(dev.at(p).f('frame')), not(dev.at(p).f('write')))),
      ),
      cover(
        'zap-waits-for-access',
        'ODP-C8',
        'a posted zap waits for an access in flight on its pages (the fence is not vacuous)',
        and(
          umr.f('busy'),
          eq(umr.f('kind'), 'zap'),
          exists(Slot, (d) => and(eq(acc.at(d).f('state'), 'inflight'), revokingUmr(acc.at(d).f('page')))),
        ),
      ),
    ];
    // Two regions open at once need two invalidating threads, or one and the handler's own.
    if (Inv.size > 1 || h.params.atomics > 0) covers.splice(1, 0, cover('nested-regions', 'ODP-C2', 'two start/end regions are open at once', eq(active, 2)));
    if (h.params.atomics > 0) covers.push(cover('own-event-raised', 'ODP-C7', 'the fault handler raised its own exclusive region', fhIn('exclEnd')));
    if (h.params.handlers > 1)
      covers.push(cover('prefetch-mapped', 'ODP-C9', 'the prefetch work item waits for the update it posted', eq(fh.at(1).f('pc'), 'wait')));
    if (h.params.intervals > 1 && h.params.span > 1)
      covers.push(
        cover(
          'second-interval-callback',
          'ODP-C10',
          "one invalidation runs the callback of a second interval after the first's returned",
          exists(Inv, (i) => and(stageIs(i, 'zap', 'wait', 'unlock'), ne(h.intervalOf(inv.at(i).f('lo')), inv.at(i).f('iv')))),
        ),
      );
    if (h.params.span > 1)
      covers.push(
        cover(
          'range-spans-pages',
          'ODP-C11',
          'an invalidation covers several pages',
          exists(Inv, (i) => ne(inv.at(i).f('lo'), inv.at(i).f('hi'))),
        ),
      );
    if (mmLive)
      covers.push(
        cover(
          'mm-released',
          'ODP-C12',
          'the mm exited: the release callbacks have returned and the pages are unmapped',
          and(
            not(alive),
            exists(Inv, (i) => and(eq(inv.at(i).f('event'), 'release'), stageIs(i, 'end'))),
          ),
        ),
      );
    if (mr && ivNode) {
      covers.push(
        cover(
          'insert-deferred',
          'ODP-C14',
          'the interval was inserted while the tree was fully excluded: its insert waits on the deferred list',
          eq(ivNode, 'deferIns'),
        ),
        cover('remove-waits', 'ODP-C15', 'remove waits for the final end to take the interval off the tree', eq(mr, 'removing')),
        cover('umem-freed', 'ODP-C16', 'the interval was removed and its umem freed', eq(mr, 'freed')),
      );
    }
    if (h.params.downgrade)
      covers.push(
        cover('entry-downgraded', 'ODP-C13', 'a write-protect callback posted a downgrade, not a zap', and(umr.f('busy'), eq(umr.f('kind'), 'downgrade'))),
      );
    return [...props, ...covers];
  },
  odpMirrorProofHints,
);
