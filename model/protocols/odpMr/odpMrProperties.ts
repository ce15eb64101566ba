/**
 * Properties of `odp-mr`, each citing its requirement in spec/odp-mr.md (MR-Rn), which cites the
 * kernel guarantees (digest section 7, S1-S9 and L1-L5) it checks. Why this module exists: the
 * protocol says what the mlx5 driver, the mm and the HCA do; this says what must hold whatever the
 * interleaving, in the same language, so every engine checks exactly these predicates. They are
 * written for the guarantees, not for the variants: safety first, then progress under the fairness
 * the rules declare, then covers that keep the model from being vacuous.
 */
import {
  type Expr,
  type Invariant,
  type Model,
  type Operand,
  type ProofHints,
  type Property,
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
  le,
  leadsTo,
  leadsToEach,
  lt,
  ne,
  not,
  or,
  ord,
  Ref,
  some,
  unwrap,
} from 'mirrorcheck';
import { type OdpMrHandles, odpMr } from './odpMr.js';

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

/**
 * Proof hints for k-induction (`prove odp-mr`): invariants true in every reachable state of the
 * correct protocol that, with the safety properties, are 1-inductive. They state the bookkeeping the
 * protocol relies on: what each worker, invalidator, child free and destruction stage implies about
 * the locks, the MR objects, the tables and the accesses. Each holds for the correct protocol only.
 */
function odpMrProofHints(model: Model<OdpMrHandles>): ProofHints {
  const h = model.handles;
  const { Page, Mr, Chunk, Worker, Inv, Slot, pte, mr, shadow, mtt, acc, wk, inv, dereg, active, mmOdd } = h;
  const varRef = (name: string): Ref | null => {
    const i = model.vars.findIndex((v) => v.name === name);
    const v = model.vars[i];
    return v ? new Ref({ varIdx: i, varName: name, path: [], type: v.type }) : null;
  };
  const enumValues = (r: Ref): readonly string[] => (r.type.kind === 'enum' ? r.type.values : []);
  const isIn = (r: Ref, ...vals: string[]) => or(...vals.filter((x) => enumValues(r).includes(x)).map((x) => eq(r, x)), false);
  const wkIn = (w: Operand, ...pcs: string[]) => isIn(wk.at(w).f('pc'), ...pcs);
  const invIn = (i: Operand, ...pcs: string[]) => isIn(inv.at(i).f('pc'), ...pcs);
  const tdIn = (m: Operand, ...pcs: string[]) => isIn(mr.at(m).f('td'), ...pcs);
  const inflight = (d: Operand) => eq(acc.at(d).f('state'), 'inflight');
  const called = (m: Operand, p: Operand) => and(mr.at(m).f('notifier'), h.covers(m, p));
  const noInflightVia = (m: Operand) => forall(Slot, (d) => not(and(inflight(d), eq(acc.at(d).f('via'), m))));
  const implicit = h.implicit;
  const XA = h.xa as Ref;
  const KSM = h.ksm as Ref;
  const FW = h.fw as Ref;
  const PM = h.pMkey as Ref;
  const pLock = varRef('pLock');
  const derChild = varRef('derChild');
  const W0 = 0;

  const S: Invariant[] = [
    invariant(
      'mr-s1-notifier-core',
      'MR-S1',
      'active counts the invalidators past their start; the mm seq is odd only while one is active, and an interval is "invalidating" only while the seq is odd; an active invalidator whose page some registered interval covers keeps the seq odd',
      and(
        eq(
          active,
          count(Inv, (i) => ne(inv.at(i).f('pc'), 'idle')),
        ),
        implies(mmOdd, lt(0, active)),
        forall(Mr, (m) => implies(mr.at(m).f('ivCur'), and(mmOdd, mr.at(m).f('notifier')))),
        forall(Inv, (i) =>
          implies(
            and(
              ne(inv.at(i).f('pc'), 'idle'),
              exists(Mr, (m) => called(m, inv.at(i).f('page'))),
            ),
            mmOdd,
          ),
        ),
      ),
    ),
    invariant(
      'mr-s2-callbacks-set-seq',
      'MR-S2',
      'every interval whose callback an active invalidator has already run (an index below cur, or all of them once it is past its callbacks) is "invalidating" until the epoch ends; an invalidator waiting for its ZAP or unmapping holds the mutex of a registered interval covering its page, whose entry is zapped and whose page is still DMA mapped',
      forall(Inv, (i) =>
        and(
          implies(
            invIn(i, 'zapWait', 'unmap', 'pte', 'end'),
            forall(Mr, (m) =>
              implies(and(called(m, inv.at(i).f('page')), or(invIn(i, 'pte', 'end'), le(ord(m), ord(inv.at(i).f('cur'))))), mr.at(m).f('ivCur')),
            ),
          ),
          implies(
            invIn(i, 'cb', 'zapWait', 'unmap'),
            forall(Mr, (m) =>
              implies(
                and(called(m, inv.at(i).f('page')), lt(ord(m), ord(inv.at(i).f('cur')))),
                and(mr.at(m).f('ivCur'), isNone(shadow.at(m).at(inv.at(i).f('page'))), not(and(mr.at(m).f('mkey'), isSome(mtt.at(m).at(inv.at(i).f('page')))))),
              ),
            ),
          ),
          implies(
            invIn(i, 'zapWait', 'unmap'),
            and(
              eq(mr.at(inv.at(i).f('cur')).f('lock'), h.holderOf(i)),
              called(inv.at(i).f('cur'), inv.at(i).f('page')),
              isNone(mtt.at(inv.at(i).f('cur')).at(inv.at(i).f('page'))),
              isSome(shadow.at(inv.at(i).f('cur')).at(inv.at(i).f('page'))),
              mr.at(inv.at(i).f('cur')).f('priv'),
            ),
          ),
          implies(
            invIn(i, 'unmap'),
            not(exists(Slot, (d) => and(inflight(d), eq(acc.at(d).f('via'), inv.at(i).f('cur')), eq(acc.at(d).f('page'), inv.at(i).f('page'))))),
          ),
          implies(eq(inv.at(i).f('pc'), 'idle'), and(eq(inv.at(i).f('page'), 0), eq(inv.at(i).f('cur'), 0))),
        ),
      ),
    ),
    invariant(
      'mr-s3-mr-object-stages',
      'MR-S3',
      'an unused MR object is blank; a used one is registered with a valid mkey and private set until its revoke is posted; the revoke holds its mutex until private is cleared; the accesses through it have drained once the revoke completed; the umem is unmapped before the notifier goes',
      forall(Mr, (m) =>
        and(
          implies(
            not(mr.at(m).f('used')),
            and(
              not(mr.at(m).f('mkey')),
              not(mr.at(m).f('priv')),
              not(mr.at(m).f('notifier')),
              not(mr.at(m).f('ivCur')),
              eq(mr.at(m).f('lock'), 'free'),
              eq(mr.at(m).f('td'), 'none'),
              ...(implicit ? [eq(mr.at(m).f('chunk'), 0), eq(FW.at(m), 'none')] : []),
              forall(Page, (p) => and(isNone(shadow.at(m).at(p)), isNone(mtt.at(m).at(p)))),
            ),
          ),
          implies(and(mr.at(m).f('used'), tdIn(m, 'none', 'revoke')), and(mr.at(m).f('mkey'), mr.at(m).f('priv'), mr.at(m).f('notifier'))),
          implies(
            tdIn(m, 'revokeWait', 'revokeDone'),
            and(mr.at(m).f('used'), not(mr.at(m).f('mkey')), mr.at(m).f('priv'), mr.at(m).f('notifier'), eq(mr.at(m).f('lock'), 'teardown')),
          ),
          implies(tdIn(m, 'release', 'remove', 'done'), and(mr.at(m).f('used'), not(mr.at(m).f('mkey')), not(mr.at(m).f('priv')))),
          implies(tdIn(m, 'revokeDone', 'release', 'remove', 'done'), noInflightVia(m)),
          implies(tdIn(m, 'release'), mr.at(m).f('notifier')),
          implies(
            tdIn(m, 'remove', 'done'),
            forall(Page, (p) => isNone(shadow.at(m).at(p))),
          ),
          implies(tdIn(m, 'done'), and(not(mr.at(m).f('notifier')), not(mr.at(m).f('ivCur')))),
          implies(eq(mr.at(m).f('lock'), 'teardown'), tdIn(m, 'revokeWait', 'revokeDone')),
          forall(Page, (p) =>
            and(
              implies(isSome(shadow.at(m).at(p)), and(mr.at(m).f('used'), h.covers(m, p))),
              implies(isSome(mtt.at(m).at(p)), and(mr.at(m).f('used'), h.covers(m, p))),
              implies(
                mr.at(m).f('mkey'),
                or(
                  eq(mtt.at(m).at(p), shadow.at(m).at(p)),
                  exists(Inv, (i) => and(eq(mr.at(m).f('lock'), h.holderOf(i)), eq(inv.at(i).f('page'), p))),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
    invariant(
      'mr-s4-workers',
      'MR-S4',
      'an idle worker holds nothing; a busy one holds a usecount on the top MR; the fault work serves the faulted access; a worker past read_begin with a fresh seq sees an interval that is not invalidating, and at read_retry its snapshot is the frame the PTE maps',
      forall(Worker, (w) =>
        and(
          implies(
            eq(wk.at(w).f('pc'), 'idle'),
            and(
              not(wk.at(w).f('top')),
              not(wk.at(w).f('stale')),
              eq(wk.at(w).f('page'), 0),
              eq(wk.at(w).f('mr'), 0),
              eq(wk.at(w).f('snap'), 0),
              ...(implicit ? [not(wk.at(w).f('ref')), not(wk.at(w).f('newChild'))] : []),
            ),
          ),
          implies(ne(wk.at(w).f('pc'), 'idle'), wk.at(w).f('top')),
          implies(wk.at(w).f('stale'), wkIn(w, 'begin', 'walk', 'commit')),
          implies(
            wkIn(w, 'queued', 'child'),
            and(eq(wk.at(w).f('mr'), 0), eq(wk.at(w).f('snap'), 0), ...(implicit ? [not(wk.at(w).f('ref')), not(wk.at(w).f('newChild'))] : [])),
          ),
          implies(
            wkIn(w, 'begin', 'walk', 'commit'),
            and(
              mr.at(wk.at(w).f('mr')).f('used'),
              eq(mr.at(wk.at(w).f('mr')).f('td'), 'none'),
              h.covers(wk.at(w).f('mr'), wk.at(w).f('page')),
              ...(implicit ? [wk.at(w).f('ref')] : []),
            ),
          ),
          implies(and(wkIn(w, 'walk', 'commit'), not(wk.at(w).f('stale'))), not(mr.at(wk.at(w).f('mr')).f('ivCur'))),
          implies(and(wkIn(w, 'commit'), not(wk.at(w).f('stale'))), eq(pte.at(wk.at(w).f('page')), some(wk.at(w).f('snap')))),
          ...(implicit
            ? [
                implies(wk.at(w).f('ref'), wkIn(w, 'begin', 'walk', 'commit')),
                implies(wkIn(w, 'ksm', 'ksmPost'), wk.at(w).f('newChild')),
                implies(wk.at(w).f('newChild'), wkIn(w, 'begin', 'walk', 'commit', 'ksm', 'ksmPost')),
              ]
            : []),
          implies(
            eq(w, W0),
            and(
              implies(ne(wk.at(w).f('pc'), 'idle'), and(eq(acc.at(0).f('state'), 'faulted'), eq(acc.at(0).f('page'), wk.at(w).f('page')))),
              implies(eq(acc.at(0).f('state'), 'pending'), eq(wk.at(w).f('pc'), 'idle')),
            ),
          ),
        ),
      ),
    ),
    invariant(
      'mr-s5-accesses',
      'MR-S5',
      'an access in flight went through a used MR object whose revoke has not completed, and (unless its ZAP or the revoke is waiting for it) the MTT still holds its frame; an access not in flight carries no frame',
      forall(Slot, (d) =>
        and(
          implies(
            inflight(d),
            and(
              mr.at(acc.at(d).f('via')).f('used'),
              tdIn(acc.at(d).f('via'), 'none', 'revoke', 'revokeWait'),
              or(
                eq(mtt.at(acc.at(d).f('via')).at(acc.at(d).f('page')), some(acc.at(d).f('frame'))),
                tdIn(acc.at(d).f('via'), 'revokeWait'),
                exists(Inv, (i) => and(invIn(i, 'zapWait'), eq(inv.at(i).f('cur'), acc.at(d).f('via')), eq(inv.at(i).f('page'), acc.at(d).f('page')))),
              ),
              ...(implicit ? [or(PM, eq(dereg, 'revokeWait'))] : []),
            ),
          ),
          implies(not(inflight(d)), and(eq(acc.at(d).f('frame'), 0), eq(acc.at(d).f('via'), 0))),
        ),
      ),
    ),
  ];
  const deregVals = enumValues(dereg);
  const before = (x: string) => deregVals.slice(0, deregVals.indexOf(x));
  if (!implicit) {
    S.push(
      invariant(
        'mr-s6-explicit-destruction',
        'MR-S6',
        'the explicit MR is in use until its destruction is done; its teardown starts when the destruction passes the usecount wait',
        and(
          eq(mr.at(0).f('used'), ne(dereg, 'done')),
          implies(isIn(dereg, ...before('teardown')), eq(mr.at(0).f('td'), 'none')),
          implies(eq(dereg, 'teardown'), ne(mr.at(0).f('td'), 'none')),
        ),
      ),
    );
  } else {
    const PL = pLock as Ref;
    const DC = derChild as Ref;
    S.push(
      invariant(
        'mr-s6-implicit-parent',
        'MR-S6',
        "the parent's KSM mkey is valid until its revoke is posted, whose wait holds the parent's mutex; once revoked the KSM is blank and nothing is in flight; the destruction frees one child at a time",
        and(
          eq(PM, isIn(dereg, 'idle', 'wait', 'check', 'erase', 'revoke')),
          eq(PL, eq(dereg, 'revokeWait')),
          implies(
            isIn(dereg, 'children', 'childTd', 'done'),
            and(
              forall(Chunk, (k) => isNone(KSM.at(k))),
              forall(Slot, (d) => not(inflight(d))),
            ),
          ),
          implies(eq(dereg, 'childTd'), and(mr.at(DC).f('used'), ne(mr.at(DC).f('td'), 'none'), eq(FW.at(DC), 'none'))),
          implies(not(eq(dereg, 'childTd')), eq(DC, 0)),
          implies(
            eq(dereg, 'done'),
            forall(Mr, (m) => not(mr.at(m).f('used'))),
          ),
        ),
      ),
      invariant(
        'mr-s7-children',
        'MR-S7',
        'a KSM entry names a child of its own chunk; a child in implicit_children is used, covers that chunk and is not being freed; a used child is in implicit_children, or being freed by its work, or by the destruction; a child free holds a parent usecount, and waits for the child users before the KSM update and the teardown',
        and(
          forall(Chunk, (k) => implies(isSome(KSM.at(k)), eq(mr.at(unwrap(KSM.at(k))).f('chunk'), k))),
          forall(Chunk, (k) =>
            implies(
              isSome(XA.at(k)),
              and(
                mr.at(unwrap(XA.at(k))).f('used'),
                eq(mr.at(unwrap(XA.at(k))).f('chunk'), k),
                eq(mr.at(unwrap(XA.at(k))).f('td'), 'none'),
                eq(FW.at(unwrap(XA.at(k))), 'none'),
              ),
            ),
          ),
          forall(Mr, (m) =>
            and(
              implies(mr.at(m).f('used'), or(eq(XA.at(mr.at(m).f('chunk')), some(m)), ne(FW.at(m), 'none'), and(eq(dereg, 'childTd'), eq(DC, m)))),
              implies(ne(FW.at(m), 'none'), and(mr.at(m).f('used'), not(h.destroying))),
              implies(isIn(FW.at(m), 'wait', 'ksm', 'ksmPost'), eq(mr.at(m).f('td'), 'none')),
              implies(isIn(FW.at(m), 'ksm', 'ksmPost', 'teardown'), not(h.mrHolders(m))),
              implies(eq(FW.at(m), 'teardown'), ne(mr.at(m).f('td'), 'none')),
            ),
          ),
          forall(Worker, (w) => implies(wk.at(w).f('ref'), isIn(FW.at(wk.at(w).f('mr')), 'none', 'wait'))),
        ),
      ),
    );
  }
  return { strengthening: S };
}
