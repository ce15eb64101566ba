/**
 * Properties of `odp-mirror`, each citing its requirement in spec/odp-mirror.md (ODP-Rn).
 * Why this module exists: the protocol says what the kernel and the driver do; this says what must
 * hold, in the same language, so that every engine checks exactly these predicates. Safety first
 * (invariants and one step property), then the progress properties under the fairness the rules
 * declare, then covers that keep the model from being vacuous.
 */
import { type Expr, type Operand, type Ref, add, and, count, eq, exists, forall, implies, isNone, isSome, ite, lt, ne, not, or, ord, some } from '../model/lang/expr.js';
import { type OdpMirrorHandles, odpMirror } from '../model/protocols/odpMirror/odpMirror.js';
import { type Property, cover, definePropertySet, invariant, leadsTo, leadsToEach, stepProperty } from './property.js';

export const odpMirrorProperties = definePropertySet<OdpMirrorHandles>(odpMirror, (model) => {
  const h = model.handles;
  const { Page, Frame, Inv, Slot, mmSeq, active, pte, inv, ulock, shadow, dev, tlb, acc, fh, dirty } = h;
  const sameEntry = (a: Ref, b: Ref) => and(eq(a.f('frame'), b.f('frame')), eq(a.f('write'), b.f('write')));
  // An entry the CPU PTE allows: same frame, and write only where the PTE is writable.
  const allowedBy = (e: Ref, p: Operand) =>
    and(eq(e.f('frame'), pte.at(p).f('frame')), or(not(e.f('write')), pte.at(p).f('write')));
  const onPage = (i: Expr, p: Operand) => and(ne(inv.at(i).f('event'), 'elsewhere'), eq(inv.at(i).f('page'), p));
  const stageIs = (i: Expr, ...pcs: string[]) => or(...pcs.map((pc) => eq(inv.at(i).f('pc'), pc)));
  // The callback for invalidator i has returned true and its region is still open.
  const returned = (i: Expr) => and(ne(inv.at(i).f('event'), 'elsewhere'), stageIs(i, 'pte', 'end'));
  const inflightOn = (d: Expr, p: Operand) => and(eq(acc.at(d).f('state'), 'inflight'), eq(acc.at(d).f('page'), p));
  const fhIn = (...pcs: string[]) => or(...pcs.map((pc) => eq(fh.f('pc'), pc)));
  const ownRegionOpen = h.params.atomics > 0 ? fhIn('exclCallback', 'exclEnd') : (false as Operand);
  const openRegions = add(count(Inv, (i) => ne(inv.at(i).f('pc'), 'idle')), ite(ownRegionOpen, 1, 0));

  const props: Property[] = [
    invariant(
      'invalidation-complete', 'ODP-R1',
      'once the invalidate callback has returned, the device holds no translation (table or TLB) and no DMA mapping for the page, and no access to it is in flight',
      forall(Inv, (i) => implies(returned(i), and(
        isNone(dev.at(inv.at(i).f('page')).f('frame')),
        isNone(tlb.at(inv.at(i).f('page')).f('frame')),
        isNone(shadow.at(inv.at(i).f('page')).f('frame')),
        forall(Slot, (d) => not(inflightOn(d, inv.at(i).f('page')))),
      ))),
    ),
    stepProperty(
      model, 'no-stale-translation', 'ODP-R2',
      'a device-table update installs only entries the CPU page table allows at that moment, and none for a page whose invalidation has already called back',
      'DriverReadRetry',
      () => implies(eq(fh.f('pc'), 'idle'), forall(Page, (p) => implies(isSome(dev.at(p).f('frame')), and(
        allowedBy(dev.at(p), p),
        not(exists(Inv, (i) => and(onPage(i, p), stageIs(i, 'drain', 'pte', 'end')))),
      )))),
    ),
    invariant(
      'no-access-through-revoked-translation', 'ODP-R3',
      'every in-flight access uses a translation the device table still holds, or one whose zap has been posted and is waiting for it to drain; the TLB never caches more than the table',
      and(
        forall(Slot, (d) => implies(eq(acc.at(d).f('state'), 'inflight'), or(
          eq(dev.at(acc.at(d).f('page')).f('frame'), some(acc.at(d).f('frame'))),
          exists(Inv, (i) => and(onPage(i, acc.at(d).f('page')), stageIs(i, 'drain'))),
        ))),
        forall(Page, (p) => implies(isSome(tlb.at(p).f('frame')), and(
          eq(tlb.at(p).f('frame'), dev.at(p).f('frame')),
          or(not(tlb.at(p).f('write')), dev.at(p).f('write')),
        ))),
      ),
    ),
    invariant(
      'no-dma-to-freed-page', 'ODP-R4',
      'every in-flight access targets a frame the page still maps (not freed, not reused by another page)',
      forall(Slot, (d) => implies(eq(acc.at(d).f('state'), 'inflight'), eq(pte.at(acc.at(d).f('page')).f('frame'), some(acc.at(d).f('frame'))))),
    ),
    invariant(
      'device-matches-shadow', 'ODP-R5',
      "whenever the driver lock is free, the device table equals the driver's shadow and every TLB entry equals its table entry",
      implies(eq(ulock, 'free'), forall(Page, (p) => and(
        sameEntry(dev.at(p), shadow.at(p)),
        or(isNone(tlb.at(p).f('frame')), sameEntry(tlb.at(p), dev.at(p))),
      ))),
    ),
    invariant(
      'start-end-paired', 'ODP-R6',
      'the active count equals the number of start/end regions open (each start is closed by exactly one end, a failed non-blocking start by the core itself)',
      eq(active, openRegions),
    ),
    invariant(
      'quiescent-seq-even', 'ODP-R7',
      'the mm sequence is odd only while some region is open: with no region open it is even',
      implies(eq(active, 0), not(h.odd(mmSeq))),
    ),
    invariant(
      'callback-releases-lock', 'ODP-R8',
      'an invalidator holds the driver lock only inside its callback (between the lock and the return), on every path',
      forall(Inv, (i) => implies(eq(ulock, h.holderOf(i)), stageIs(i, 'drain'))),
    ),
    invariant(
      'no-fault-timeout', 'ODP-R9',
      'no device fault is failed: the VMA allows every access, so a fault may end only in a committed translation (bounded form of fault progress: the 1 s retry timeout is never reached)',
      forall(Slot, (d) => ne(acc.at(d).f('state'), 'failed')),
    ),
    // --- progress, under the fairness declared on the rules ---
    leadsTo(
      'fault-progress', 'ODP-R9',
      'a fault the handler has taken is eventually finished (the handler returns to idle)',
      ne(fh.f('pc'), 'idle'), eq(fh.f('pc'), 'idle'),
    ),
    leadsToEach(
      'no-perpetual-device-fault', 'ODP-R10',
      'a device access waiting for a translation (issued, or faulted to the driver) eventually goes in flight',
      Slot, (d) => [or(eq(acc.at(d).f('state'), 'pending'), eq(acc.at(d).f('state'), 'faulted')), eq(acc.at(d).f('state'), 'inflight')],
    ),
    leadsToEach(
      'invalidation-progress', 'ODP-R11',
      'every started invalidation eventually ends (its callback gets the lock, the drain completes, end runs)',
      Inv, (i) => [ne(inv.at(i).f('pc'), 'idle'), eq(inv.at(i).f('pc'), 'idle')],
    ),
  ];
  const covers: Property[] = [
    cover('collision-retried', 'ODP-C1', 'the handler retried after a collision (EBUSY or read_retry)', ne(fh.f('tries'), 0)),
    cover('nested-regions', 'ODP-C2', 'two start/end regions are open at once', eq(active, 2)),
    cover('frame-reused', 'ODP-C3', 'a page maps a frame another page held at the start (freed, then reused)',
      exists(Page, (p) => exists(Frame, (f) => and(eq(pte.at(p).f('frame'), some(f)), lt(ord(f), Page.size), ne(ord(f), ord(p)))))),
    cover('device-write-in-flight', 'ODP-C4', 'a device write is in flight',
      exists(Slot, (d) => and(eq(acc.at(d).f('state'), 'inflight'), ne(acc.at(d).f('op'), 'read')))),
    cover('page-dirtied-by-unmap', 'ODP-C5', 'the DMA unmap of a writable entry dirtied a page', exists(Frame, (f) => dirty.at(f))),
    cover('read-only-device-entry', 'ODP-C6', 'the device holds a read-only translation',
      exists(Page, (p) => and(isSome(dev.at(p).f('frame')), not(dev.at(p).f('write'))))),
  ];
  if (h.params.atomics > 0) covers.push(cover('own-event-raised', 'ODP-C7', 'the handler raised its own exclusive region', eq(fh.f('pc'), 'exclEnd')));
  return [...props, ...covers];
});
