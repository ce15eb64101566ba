/**
 * Properties of `odp-mr`, each citing its requirement in spec/odp-mr.md (MR-Rn), which cites the
 * kernel guarantees (digest section 7, S1-S9 and L1-L5) it checks. Why this module exists: the
 * protocol says what the mlx5 driver, the mm and the HCA do; this says what must hold whatever the
 * interleaving, in the same language, so every engine checks exactly these predicates. They are
 * written for the guarantees, not for the variants: safety first, then progress under the fairness
 * the rules declare, then covers that keep the model from being vacuous.
 */
import { type Expr, type Operand, type Ref, and, eq, exists, forall, implies, isNone, isSome, ne, not, or, some, unwrap } from '../model/lang/expr.js';
import type { Model } from '../model/lang/protocol.js';
import { type OdpMrHandles, odpMr } from '../model/protocols/odpMr/odpMr.js';
import { type ProofHints, type Property, cover, definePropertySet, invariant, leadsTo, leadsToEach } from './property.js';

export const odpMrProperties = definePropertySet<OdpMrHandles>(
  odpMr,
  (model) => {
    const h = model.handles;
    const { Page, Mr, Chunk, Worker, Inv, Slot, pte, mr, shadow, mtt, acc, wk, inv, dereg, umrErr } = h;
    const inflight = (d: Expr) => eq(acc.at(d).f('state'), 'inflight');
    const invIn = (i: Expr, ...pcs: string[]) => or(...pcs.map((pc) => eq(inv.at(i).f('pc'), pc)));
    // A translation the device can use: a valid mkey with a non-empty MTT entry.
    const usable = (m: Operand, p: Operand) => and(mr.at(m).f('mkey'), isSome(mtt.at(m).at(p)));
    const props: Property[] = [
      invariant(
        'invalidation-complete',
        'MR-R1',
        'once every invalidate callback for a page has returned (the mm is about to change, or has changed, the PTE), no MR holds a usable translation or a DMA mapping for the page, and no access to it is in flight',
        forall(Inv, (i) =>
          implies(
            invIn(i, 'pte', 'end'),
            and(
              forall(Mr, (m) => and(isNone(shadow.at(m).at(inv.at(i).f('page'))), not(usable(m, inv.at(i).f('page'))))),
              forall(Slot, (d) => not(and(inflight(d), eq(acc.at(d).f('page'), inv.at(i).f('page'))))),
            ),
          ),
        ),
      ),
      invariant(
        'no-stale-translation',
        'MR-R2',
        'every translation the device can use (a valid mkey, a non-empty MTT entry) names the frame the CPU page table maps for that page',
        forall(Mr, (m) => forall(Page, (p) => implies(usable(m, p), eq(mtt.at(m).at(p), pte.at(p))))),
      ),
      invariant(
        'no-dma-to-freed-page',
        'MR-R3',
        'every access in flight targets a frame its page still maps (not freed, not reused), through a DMA mapping the MR still holds (unmapped only after the fence)',
        forall(Slot, (d) =>
          implies(
            inflight(d),
            and(
              eq(pte.at(acc.at(d).f('page')), some(acc.at(d).f('frame'))),
              eq(shadow.at(acc.at(d).f('via')).at(acc.at(d).f('page')), some(acc.at(d).f('frame'))),
            ),
          ),
        ),
      ),
      invariant(
        'no-dma-mapping-of-freed-page',
        'MR-R4',
        'every page the driver has DMA mapped (the umem pfn list) is still mapped by the CPU to the same frame: the mapping is removed before the page is freed',
        forall(Mr, (m) => forall(Page, (p) => implies(isSome(shadow.at(m).at(p)), eq(shadow.at(m).at(p), pte.at(p))))),
      ),
      invariant(
        'device-matches-shadow',
        'MR-R5',
        "whenever an MR's umem_mutex is free, the device MTT of its valid mkey equals the driver's pfn list",
        forall(Mr, (m) =>
          implies(
            and(mr.at(m).f('mkey'), eq(mr.at(m).f('lock'), 'free')),
            forall(Page, (p) => eq(mtt.at(m).at(p), shadow.at(m).at(p))),
          ),
        ),
      ),
      invariant(
        'no-umr-on-dead-mkey',
        'MR-R6',
        'no UMR is ever posted on a revoked or destroyed mkey (the UMR QP never sees an error completion)',
        not(umrErr),
      ),
      invariant(
        'mr-lifetime',
        'MR-R7',
        'every usecount held by a fault, a prefetch or a child free names an MR whose destruction has not begun (destruction waits for every user)',
        and(
          forall(Worker, (w) => implies(wk.at(w).f('top'), not(h.destroying))),
          ...(h.implicit
            ? [
                forall(Worker, (w) => implies(wk.at(w).f('ref'), eq(mr.at(wk.at(w).f('mr')).f('td'), 'none'))),
                forall(Mr, (m) => implies(ne((h.fw as Ref).at(m), 'none'), not(h.destroying))),
              ]
            : []),
        ),
      ),
      invariant(
        'callback-releases-lock',
        'MR-R8',
        'umem_mutex is held across a step only inside an invalidate callback (from the ZAP post to the unmap) or inside a revoke (from the post to private = NULL), on every path',
        forall(Mr, (m) =>
          and(
            forall(Inv, (i) => implies(eq(mr.at(m).f('lock'), h.holderOf(i)), and(invIn(i, 'zapWait', 'unmap'), eq(inv.at(i).f('cur'), m)))),
            implies(eq(mr.at(m).f('lock'), 'teardown'), or(eq(mr.at(m).f('td'), 'revokeWait'), eq(mr.at(m).f('td'), 'revokeDone'))),
          ),
        ),
      ),
      invariant(
        'no-access-error',
        'MR-R9',
        'no device access fails while the MR is registered: an access the page table allows is served, or faults and is served (bounded form of fault progress)',
        forall(Slot, (d) => implies(eq(acc.at(d).f('state'), 'failed'), ne(dereg, 'idle'))),
      ),
    ];
    if (h.implicit) {
      const XA = h.xa as Ref;
      const KSM = h.ksm as Ref;
      const PM = h.pMkey as Ref;
      props.push(
        invariant(
          'ksm-matches-children',
          'MR-R5',
          "while the parent's mkey is valid, its KSM entry for a chunk names the child implicit_children holds, except while a thread that changed implicit_children has yet to finish the locked KSM update that must follow",
          forall(Chunk, (k) => implies(and(PM, not(h.ksmOwed(k))), eq(KSM.at(k), XA.at(k)))),
        ),
        invariant(
          'ksm-names-live-child',
          'MR-R7',
          "while the parent's mkey is valid, its KSM never points at a child whose destruction has begun",
          forall(Chunk, (k) => implies(and(PM, isSome(KSM.at(k))), and(mr.at(unwrap(KSM.at(k))).f('used'), eq(mr.at(unwrap(KSM.at(k))).f('td'), 'none')))),
        ),
      );
    }
    const covers: Property[] = [
      cover(
        'collision-retried',
        'MR-C1',
        'a fault reaches read_retry after a callback moved the seq (it will retry)',
        exists(Worker, (w) => and(eq(wk.at(w).f('pc'), 'commit'), wk.at(w).f('stale'))),
      ),
      cover(
        'access-during-zap',
        'MR-C2',
        'an access is in flight on a page whose ZAP is posted and waiting for it',
        exists(Inv, (i) =>
          and(
            eq(inv.at(i).f('pc'), 'zapWait'),
            exists(Slot, (d) => and(inflight(d), eq(acc.at(d).f('page'), inv.at(i).f('page')))),
          ),
        ),
      ),
      cover('destroyed', 'MR-C3', 'the MR is destroyed', eq(dereg, 'done')),
      cover(
        'invalidation-during-destroy',
        'MR-C4',
        'an invalidate callback runs on an MR whose mkey is already revoked',
        exists(Inv, (i) => and(eq(inv.at(i).f('pc'), 'cb'), not(mr.at(inv.at(i).f('cur')).f('mkey')), mr.at(inv.at(i).f('cur')).f('notifier'))),
      ),
      cover(
        'fault-served',
        'MR-C5',
        'a faulted access is resumed and goes in flight',
        exists(Slot, (d) =>
          and(
            inflight(d),
            exists(Mr, (m) => isSome(shadow.at(m).at(acc.at(d).f('page')))),
          ),
        ),
      ),
    ];
    if (h.params.prefetch > 0) covers.push(cover('prefetch-maps', 'MR-C6', 'the prefetch work reaches read_retry', eq(wk.at(1).f('pc'), 'commit')));
    if (h.implicit) {
      const FW = h.fw as Ref;
      covers.push(
        cover(
          'child-freed',
          'MR-C7',
          'an emptied child is unlinked and its free is queued',
          exists(Mr, (m) => ne(FW.at(m), 'none')),
        ),
        cover(
          'child-replaced',
          'MR-C8',
          'a new child serves a chunk while the old one is still being freed',
          exists(Mr, (m) =>
            and(
              ne(FW.at(m), 'none'),
              exists(Chunk, (k) => and(isSome((h.xa as Ref).at(k)), eq(mr.at(m).f('chunk'), k))),
            ),
          ),
        ),
      );
    }
    const live: Property[] = [
      leadsToEach('fault-progress', 'MR-R10', 'every fault or prefetch the driver has taken is eventually finished (the work returns to idle)', Worker, (w) => [
        ne(wk.at(w).f('pc'), 'idle'),
        eq(wk.at(w).f('pc'), 'idle'),
      ]),
      leadsToEach(
        'no-perpetual-device-fault',
        'MR-R11',
        'an access waiting for a translation (faulted, or resumed) eventually goes in flight or fails',
        Slot,
        (d) => [or(eq(acc.at(d).f('state'), 'faulted'), eq(acc.at(d).f('state'), 'pending')), or(inflight(d), eq(acc.at(d).f('state'), 'failed'))],
      ),
      leadsToEach(
        'invalidation-progress',
        'MR-R12',
        'every started invalidation eventually ends (its callbacks get umem_mutex, the ZAP drains, end runs)',
        Inv,
        (i) => [ne(inv.at(i).f('pc'), 'idle'), eq(inv.at(i).f('pc'), 'idle')],
      ),
      leadsTo(
        'destroy-progress',
        'MR-R13',
        'a started MR destruction eventually completes (no user holds it forever, nothing deadlocks)',
        ne(dereg, 'idle'),
        eq(dereg, 'done'),
      ),
    ];
    if (h.implicit) {
      const FW = h.fw as Ref;
      live.push(
        leadsToEach('child-free-progress', 'MR-R13', 'every queued child free eventually completes', Mr, (m) => [ne(FW.at(m), 'none'), eq(FW.at(m), 'none')]),
      );
    }
    return [...props, ...covers, ...live];
  },
  odpMrProofHints,
);

function odpMrProofHints(model: Model<OdpMrHandles>): ProofHints {
  void model;
  return { strengthening: [] };
}
