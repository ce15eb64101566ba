/**
 * Properties of `odp-mirror`, each citing its requirement in spec/odp-mirror.md (ODP-Rn).
 * Why this module exists: the protocol says what the kernel and the driver do; this says what must
 * hold, in the same language, so that every engine checks exactly these predicates. Safety first
 * (invariants and one step property), then the progress properties under the fairness the rules
 * declare, then covers that keep the model from being vacuous.
 */
import {
  type Expr,
  type Model,
  type Operand,
  type ProofHints,
  type Property,
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
  isSome,
  ite,
  le,
  leadsTo,
  leadsToEach,
  lt,
  mul,
  ne,
  not,
  or,
  ord,
  Ref,
  some,
  stepProperty,
} from 'mirrorcheck';
import { type OdpMirrorHandles, odpMirror } from './odpMirror.js';

export const odpMirrorProperties = definePropertySet<OdpMirrorHandles>(
  odpMirror,
  (model) => {
    const h = model.handles;
    const { Page, Frame, Inv, Slot, mmSeq, active, pte, inv, ulock, shadow, dev, tlb, acc, fh, dirty } = h;
    const sameEntry = (a: Ref, b: Ref) => and(eq(a.f('frame'), b.f('frame')), eq(a.f('write'), b.f('write')));
    // An entry the CPU PTE allows: same frame, and write only where the PTE is writable.
    const allowedBy = (e: Ref, p: Operand) => and(eq(e.f('frame'), pte.at(p).f('frame')), or(not(e.f('write')), pte.at(p).f('write')));
    const onPage = (i: Expr, p: Operand) => and(ne(inv.at(i).f('event'), 'elsewhere'), eq(inv.at(i).f('page'), p));
    const stageIs = (i: Expr, ...pcs: string[]) => or(...pcs.map((pc) => eq(inv.at(i).f('pc'), pc)));
    // The callback for invalidator i has returned true and its region is still open.
    const returned = (i: Expr) => and(ne(inv.at(i).f('event'), 'elsewhere'), stageIs(i, 'pte', 'end'));
    const inflightOn = (d: Expr, p: Operand) => and(eq(acc.at(d).f('state'), 'inflight'), eq(acc.at(d).f('page'), p));
    const fhIn = (...pcs: string[]) => or(...pcs.map((pc) => eq(fh.f('pc'), pc)));
    const ownRegionOpen = h.params.atomics > 0 ? fhIn('exclCallback', 'exclEnd') : (false as Operand);
    const openRegions = add(
      count(Inv, (i) => ne(inv.at(i).f('pc'), 'idle')),
      ite(ownRegionOpen, 1, 0),
    );

    const props: Property[] = [
      invariant(
        'invalidation-complete',
        'ODP-R1',
        'once the invalidate callback has returned, the device holds no translation (table or TLB) and no DMA mapping for the page, and no access to it is in flight',
        forall(Inv, (i) =>
          implies(
            returned(i),
            and(
              isNone(dev.at(inv.at(i).f('page')).f('frame')),
              isNone(tlb.at(inv.at(i).f('page')).f('frame')),
              isNone(shadow.at(inv.at(i).f('page')).f('frame')),
              forall(Slot, (d) => not(inflightOn(d, inv.at(i).f('page')))),
            ),
          ),
        ),
      ),
      stepProperty(
        model,
        'no-stale-translation',
        'ODP-R2',
        'a device-table update installs only entries the CPU page table allows at that moment, and none for a page whose invalidation has already called back',
        'DriverReadRetry',
        () =>
          implies(
            eq(fh.f('pc'), 'idle'),
            forall(Page, (p) =>
              implies(
                isSome(dev.at(p).f('frame')),
                and(allowedBy(dev.at(p), p), not(exists(Inv, (i) => and(onPage(i, p), stageIs(i, 'drain', 'pte', 'end'))))),
              ),
            ),
          ),
      ),
      invariant(
        'no-access-through-revoked-translation',
        'ODP-R3',
        'every in-flight access uses a translation the device table still holds, or one whose zap has been posted and is waiting for it to drain; the TLB never caches more than the table',
        and(
          forall(Slot, (d) =>
            implies(
              eq(acc.at(d).f('state'), 'inflight'),
              or(
                eq(dev.at(acc.at(d).f('page')).f('frame'), some(acc.at(d).f('frame'))),
                exists(Inv, (i) => and(onPage(i, acc.at(d).f('page')), stageIs(i, 'drain'))),
              ),
            ),
          ),
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
        "whenever the driver lock is free, the device table equals the driver's shadow and every TLB entry equals its table entry",
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
        'an invalidator holds the driver lock only inside its callback (between the lock and the return), on every path',
        forall(Inv, (i) => implies(eq(ulock, h.holderOf(i)), stageIs(i, 'drain'))),
      ),
      invariant(
        'no-fault-timeout',
        'ODP-R9',
        'no device fault is failed: the VMA allows every access, so a fault may end only in a committed translation (bounded form of fault progress: the 1 s retry timeout is never reached)',
        forall(Slot, (d) => ne(acc.at(d).f('state'), 'failed')),
      ),
      // --- progress, under the fairness declared on the rules ---
      leadsTo(
        'fault-progress',
        'ODP-R9',
        'a fault the handler has taken is eventually finished (the handler returns to idle)',
        ne(fh.f('pc'), 'idle'),
        eq(fh.f('pc'), 'idle'),
      ),
      leadsToEach(
        'no-perpetual-device-fault',
        'ODP-R10',
        'a device access waiting for a translation (issued, or faulted to the driver) eventually goes in flight',
        Slot,
        (d) => [or(eq(acc.at(d).f('state'), 'pending'), eq(acc.at(d).f('state'), 'faulted')), eq(acc.at(d).f('state'), 'inflight')],
      ),
      leadsToEach(
        'invalidation-progress',
        'ODP-R11',
        'every started invalidation eventually ends (its callback gets the lock, the drain completes, end runs)',
        Inv,
        (i) => [ne(inv.at(i).f('pc'), 'idle'), eq(inv.at(i).f('pc'), 'idle')],
      ),
    ];
    const covers: Property[] = [
      cover('collision-retried', 'ODP-C1', 'the handler retried after a collision (EBUSY or read_retry)', ne(fh.f('tries'), 0)),
      cover('nested-regions', 'ODP-C2', 'two start/end regions are open at once', eq(active, 2)),
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
    ];
    if (h.params.atomics > 0) covers.push(cover('own-event-raised', 'ODP-C7', 'the handler raised its own exclusive region', eq(fh.f('pc'), 'exclEnd')));
    return [...props, ...covers];
  },
  odpMirrorProofHints,
);

/**
 * Proof hints for k-induction (`prove odp-mirror`): invariants true in every reachable state that,
 * with the safety properties, are 1-inductive. They state the bookkeeping the protocol relies on
 * (sequence values and parities, who holds the lock, what the fault handler's snapshot is worth
 * while its sequence still matches, the retry budget) and the chain zap -> drain -> unmap -> PTE
 * change that the properties only state at its end. Each holds for the correct protocol only.
 */
function odpMirrorProofHints(model: Model<OdpMirrorHandles>): ProofHints {
  const h = model.handles;
  const { Page, Inv, mmSeq, ivSeq, pte, inv, ulock, shadow, dev, tlb, acc, fh, snap, odd, holderOf } = h;
  const canonical = model.params.seq !== 'kernel';
  const INVS = model.params.invalidations as number;
  const varRef = (name: string): Ref => {
    const i = model.vars.findIndex((v) => v.name === name);
    const v = model.vars[i];
    if (!v) throw new Error(`odp-mirror proof hints: no variable ${name}`);
    return new Ref({ varIdx: i, varName: name, path: [], type: v.type });
  };
  const invsLeft = varRef('invsLeft');
  const fhPcType = fh.f('pc').type;
  const fhPcs = fhPcType.kind === 'enum' ? fhPcType.values : [];
  const fhIn = (...pcs: string[]) => or(...pcs.filter((pc) => fhPcs.includes(pc)).map((pc) => eq(fh.f('pc'), pc)), false);
  const stageIs = (i: Expr, ...pcs: string[]) => or(...pcs.map((pc) => eq(inv.at(i).f('pc'), pc)));
  const overlapping = (i: Expr) => ne(inv.at(i).f('event'), 'elsewhere');
  const onPage = (i: Expr, p: Operand) => and(overlapping(i), eq(inv.at(i).f('page'), p));
  // The callback of invalidator i has run (set_seq and zap) and its region is still open.
  const calledBack = (i: Expr) => and(overlapping(i), stageIs(i, 'drain', 'pte', 'end'));
  const ownRegionOpen = fhIn('exclCallback', 'exclEnd');
  const overlappingOpen = or(
    exists(Inv, (i) => and(ne(inv.at(i).f('pc'), 'idle'), overlapping(i))),
    ownRegionOpen,
  );
  // The handler holds a sequence from read_begin: every stage after it (sleep included).
  const hasSeq = not(fhIn('idle', 'begin', 'lockEarly'));
  const awake = and(hasSeq, not(fhIn('sleep')));
  const matches = eq(fh.f('s'), ivSeq);
  const sameEntry = (a: Ref, b: Ref) => and(eq(a.f('frame'), b.f('frame')), eq(a.f('write'), b.f('write')));
  const allowedBy = (e: Ref, p: Operand) => and(isSome(e.f('frame')), eq(e.f('frame'), pte.at(p).f('frame')), or(not(e.f('write')), pte.at(p).f('write')));

  const strengthening = [
    invariant(
      'odp-s0-stage-shapes',
      'ODP-S0',
      'only a region of the interval goes through the callback stages (a region elsewhere goes straight to its end); the handler holds no snapshot before its walk (its exclusive region, raised before the walk, too); an empty device, TLB, shadow or snapshot entry has no write bit (entries are reset or copied whole)',
      and(
        forall(Inv, (i) => implies(stageIs(i, 'callback', 'drain', 'pte'), overlapping(i))),
        implies(
          fhIn('idle', 'begin', 'sleep', 'exclStart', 'exclCallback', 'exclEnd'),
          forall(Page, (q) => isNone(snap.at(q).f('frame'))),
        ),
        forall(Page, (p) => and(...[dev, tlb, shadow, snap].map((t) => implies(isNone(t.at(p).f('frame')), not(t.at(p).f('write')))))),
      ),
    ),
    invariant(
      'odp-s1-seq-values',
      'ODP-S1',
      'the interval sequence is odd and behind the mm sequence, or equal to it while the mm sequence is odd; canonical values: mm 2 or 3, interval 1 or 3 (kernel values: the mm sequence grows by 2 per epoch, each epoch spends an invalidation)',
      and(
        odd(ivSeq),
        or(lt(ivSeq, mmSeq), and(eq(ivSeq, mmSeq), odd(mmSeq))),
        le(2, mmSeq),
        canonical ? le(mmSeq, 3) : le(add(add(mmSeq, mul(2, invsLeft)), ite(odd(mmSeq), 1, 0)), 2 + 2 * INVS),
      ),
    ),
    invariant(
      'odp-s2-open-region-odd',
      'ODP-S2',
      "while a region overlapping the interval is open (an invalidator past its start, or the handler's own exclusive region) the mm sequence is odd: only the last end makes it even",
      implies(overlappingOpen, odd(mmSeq)),
    ),
    invariant(
      'odp-s3-callback-set-seq',
      'ODP-S3',
      'once a callback has run in a still-open region, the interval sequence equals the (odd) mm sequence: set_seq copied it, and the mm sequence changes only at the last end',
      implies(
        exists(Inv, (i) => calledBack(i)),
        eq(ivSeq, mmSeq),
      ),
    ),
    invariant(
      'odp-s4-handler-seq',
      'ODP-S4',
      'the handler holds no sequence when idle or before read_begin (and no retries when idle); after it, its sequence is odd and not newer than the interval; awake with a matching sequence, no callback has run in the open epoch (read_begin sleeps otherwise)',
      and(
        implies(fhIn('idle'), eq(fh.f('tries'), 0)),
        implies(not(hasSeq), eq(fh.f('s'), 0)),
        implies(hasSeq, and(odd(fh.f('s')), le(fh.f('s'), ivSeq))),
        implies(and(awake, matches), ne(ivSeq, mmSeq)),
      ),
    ),
    invariant(
      'odp-s5-snapshot-current',
      'ODP-S5',
      "while the handler's sequence matches, every page it has walked is snapshotted with the frame the PTE still maps and no more write permission than the PTE: PTEs change only after a callback, which would have bumped the interval sequence",
      and(
        implies(
          and(fhIn('walk', 'check'), matches),
          forall(Page, (q) => implies(isSome(snap.at(q).f('frame')), allowedBy(snap.at(q), q))),
        ),
        implies(
          and(fhIn('lock', 'retry'), matches),
          forall(Page, (q) => allowedBy(snap.at(q), q)),
        ),
      ),
    ),
    invariant(
      'odp-s6-lock-owner',
      'ODP-S6',
      'the driver lock is held by the fault handler exactly in its read_retry stage, and by an invalidator exactly in its drain stage',
      and(
        eq(eq(ulock, 'fault'), fhIn('retry')),
        forall(Inv, (i) => eq(eq(ulock, holderOf(i)), stageIs(i, 'drain'))),
      ),
    ),
    invariant(
      'odp-s7-zapped-after-callback',
      'ODP-S7',
      'from the zap until its region ends, a called-back page has no device entry and no TLB entry (nothing can program it: read_retry fails while the interval sequence has moved)',
      forall(Inv, (i) => implies(calledBack(i), and(isNone(dev.at(inv.at(i).f('page')).f('frame')), isNone(tlb.at(inv.at(i).f('page')).f('frame'))))),
    ),
    invariant(
      'odp-s8-device-follows-pte',
      'ODP-S8',
      'every device entry and every shadow entry names the frame the PTE maps, with no more write permission; the device table equals the shadow except on the page whose callback is draining (zapped, not yet unmapped); a TLB entry equals its table entry',
      forall(Page, (p) =>
        and(
          implies(isSome(dev.at(p).f('frame')), allowedBy(dev.at(p), p)),
          implies(isSome(shadow.at(p).f('frame')), allowedBy(shadow.at(p), p)),
          or(
            sameEntry(dev.at(p), shadow.at(p)),
            exists(Inv, (i) => and(onPage(i, p), stageIs(i, 'drain'))),
          ),
          or(isNone(tlb.at(p).f('frame')), sameEntry(tlb.at(p), dev.at(p))),
        ),
      ),
    ),
    invariant(
      'odp-s9-handler-slot-faulted',
      'ODP-S9',
      'while the handler works on a fault, the access it serves is in the faulted state',
      implies(not(fhIn('idle')), eq(acc.at(fh.f('slot')).f('state'), 'faulted')),
    ),
    invariant(
      'odp-s10-retry-budget',
      'ODP-S10',
      'retries taken, plus invalidations not yet started, plus callbacks not yet run, plus one for a collision the handler has yet to notice, never exceed the invalidations of a run: each retry is paid for by a distinct callback, so the budget (retries >= invalidations) is never exhausted',
      le(
        add(
          add(
            add(fh.f('tries'), invsLeft),
            count(Inv, (i) => stageIs(i, 'callback')),
          ),
          ite(and(hasSeq, not(matches)), 1, 0),
        ),
        INVS,
      ),
    ),
  ];
  // The start, without index literals (for the proof for every size): every page mapped, writable,
  // to a frame of its own; nothing mirrored, nothing open, nothing in flight.
  const { active, acc: accs, dirty, Frame, Slot } = h;
  const empty = (t: Ref, p: Expr) => and(isNone(t.at(p).f('frame')), not(t.at(p).f('write')));
  const initCondition = and(
    eq(mmSeq, 2),
    eq(ivSeq, 1),
    eq(active, 0),
    eq(invsLeft, INVS),
    eq(ulock, 'free'),
    eq(fh.f('pc'), 'idle'),
    eq(fh.f('s'), 0),
    eq(fh.f('tries'), 0),
    forall(Page, (p) => and(isSome(pte.at(p).f('frame')), pte.at(p).f('write'), ...[dev, tlb, shadow, snap].map((t) => empty(t, p)))),
    forall(Page, (p) => forall(Page, (q) => implies(ne(p, q), ne(pte.at(p).f('frame'), pte.at(q).f('frame'))))),
    forall(Inv, (i) => eq(inv.at(i).f('pc'), 'idle')),
    forall(Slot, (d) => eq(accs.at(d).f('state'), 'idle')),
    forall(Frame, (f) => not(dirty.at(f))),
  );
  // The invalidators stay at their built number: the lock holder is one enum value per invalidator
  // (holderOf compares with index literals) and start-end-paired counts them.
  return { strengthening, initCondition, fixedIndexes: ['Inv'] };
}
